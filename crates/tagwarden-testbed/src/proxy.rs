//! A tiny fault-injecting HTTP proxy in front of a registry: one thread per connection, one
//! request per connection (it answers `Connection: close`), forwarding over HTTP/1.0.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::http::{find, parse_response};

/// What the proxy does wrong.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Forward everything faithfully.
    None,
    /// Answer the first `times` requests with 429 and `Retry-After: retry_after_secs`, then forward.
    TooManyRequests { times: usize, retry_after_secs: u64 },
    /// Answer every request with 503.
    ServiceUnavailable,
    /// Forward, but change the body of every manifest fetched by digest, so that its bytes no
    /// longer hash to the digest asked for (a lying or corrupting registry or mirror).
    MismatchedManifest,
    /// Hold every request until the gate opens, then forward: the slow registry that gives an
    /// attacker time to change files while a command waits on it.
    Hold(Gate),
}

/// A gate requests wait at ([`Fault::Hold`]); closed until [`Gate::open`], and never longer
/// than a minute, so that a test that forgets to open it fails instead of hanging.
#[derive(Debug, Clone, Default)]
pub struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    /// A closed gate.
    pub fn new() -> Gate {
        Gate::default()
    }

    /// Lets every waiting and later request through.
    pub fn open(&self) {
        let (open, cv) = &*self.0;
        *open.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_all();
    }

    fn wait(&self) {
        let (open, cv) = &*self.0;
        let guard = open.lock().unwrap_or_else(|e| e.into_inner());
        let _ = cv.wait_timeout_while(guard, Duration::from_secs(60), |open| !*open);
    }
}

/// A proxy on `127.0.0.1:PORT` in front of `upstream`; stops accepting when dropped.
pub struct Proxy {
    port: u16,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
    faults: Arc<AtomicUsize>,
}

impl Proxy {
    /// Starts a proxy to `upstream` (`127.0.0.1:PORT`) with the given fault.
    pub fn start(upstream: &str, fault: Fault) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicUsize::new(0));
        let faults = Arc::new(AtomicUsize::new(0));
        let shared = Shared {
            upstream: upstream.to_string(),
            fault,
            requests: requests.clone(),
            faults: faults.clone(),
        };
        let shared = Arc::new(shared);
        let stop_flag = stop.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop_flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let _ = shared.serve(conn);
                });
            }
        });
        Proxy {
            port,
            stop,
            requests,
            faults,
        }
    }

    /// `127.0.0.1:PORT`, to write in image references and `--insecure-registry`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Requests answered with a fault so far.
    pub fn faults(&self) -> usize {
        self.faults.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

struct Shared {
    upstream: String,
    fault: Fault,
    requests: Arc<AtomicUsize>,
    faults: Arc<AtomicUsize>,
}

impl Shared {
    fn serve(&self, mut client: TcpStream) -> std::io::Result<()> {
        client.set_read_timeout(Some(Duration::from_secs(30)))?;
        let (head, body) = read_request(&mut client)?;
        let n = self.requests.fetch_add(1, Ordering::SeqCst);
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or_default().to_string();
        let mut parts = request_line.split(' ');
        let method = parts.next().unwrap_or_default().to_string();
        let path = parts.next().unwrap_or_default().to_string();

        match &self.fault {
            Fault::TooManyRequests {
                times,
                retry_after_secs,
            } if n < *times => {
                self.faults.fetch_add(1, Ordering::SeqCst);
                return reply(
                    &mut client,
                    429,
                    "Too Many Requests",
                    &[("Retry-After".into(), retry_after_secs.to_string())],
                    b"{\"errors\":[{\"code\":\"TOOMANYREQUESTS\"}]}",
                    false,
                );
            }
            Fault::ServiceUnavailable => {
                self.faults.fetch_add(1, Ordering::SeqCst);
                return reply(&mut client, 503, "Service Unavailable", &[], b"down", false);
            }
            Fault::Hold(gate) => {
                self.faults.fetch_add(1, Ordering::SeqCst);
                gate.wait();
            }
            _ => {}
        }

        let mut forwarded = format!("{method} {path} HTTP/1.0\r\nHost: {}\r\n", self.upstream);
        for line in lines {
            let name = line.split(':').next().unwrap_or_default().trim();
            if ["host", "connection", "keep-alive", "proxy-connection"]
                .iter()
                .any(|h| h.eq_ignore_ascii_case(name))
                || line.is_empty()
            {
                continue;
            }
            forwarded.push_str(line);
            forwarded.push_str("\r\n");
        }
        forwarded.push_str("\r\n");
        let mut upstream = TcpStream::connect(&self.upstream)?;
        upstream.set_read_timeout(Some(Duration::from_secs(30)))?;
        upstream.write_all(forwarded.as_bytes())?;
        upstream.write_all(&body)?;
        let mut raw = Vec::new();
        upstream.read_to_end(&mut raw)?;
        let head_only = method == "HEAD";
        let mut response = parse_response(&raw, head_only)?;

        let lie = matches!(self.fault, Fault::MismatchedManifest)
            && method == "GET"
            && path.contains("/manifests/sha256:")
            && response.status == 200;
        if lie {
            self.faults.fetch_add(1, Ordering::SeqCst);
            // Still valid JSON, but other bytes than the digest names.
            response.body.extend_from_slice(b"\n");
        }
        let headers: Vec<(String, String)> = response
            .headers
            .into_iter()
            .filter(|(k, _)| {
                !(k.eq_ignore_ascii_case("connection")
                    || (!head_only && k.eq_ignore_ascii_case("content-length")))
            })
            .collect();
        let reason = if response.status < 300 { "OK" } else { "Error" };
        reply(
            &mut client,
            response.status,
            reason,
            &headers,
            &response.body,
            head_only,
        )
    }
}

/// Reads the request head and its `Content-Length` body.
pub(crate) fn read_request(stream: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            break end;
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let length: usize = head
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = buf[end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok((head, body))
}

fn reply(
    stream: &mut TcpStream,
    status: u16,
    reason: &str,
    headers: &[(String, String)],
    body: &[u8],
    head_only: bool,
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {reason}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !head_only {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if !head_only {
        stream.write_all(body)?;
    }
    stream.flush()
}
