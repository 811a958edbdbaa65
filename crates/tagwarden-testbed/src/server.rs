//! A small HTTP/1.1 server on a loopback address for fakes, proxies and token services: one
//! thread per connection, one request per connection (`Connection: close`), plain or TLS. It runs
//! on threads of its own, so a test may block (on skopeo, on the binary) while it answers.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::http::{HttpRequest, HttpResponse, read_request, write_response};
use crate::pki::TestPki;

/// What answers each request.
pub type Handler = Arc<dyn Fn(HttpRequest) -> HttpResponse + Send + Sync>;

/// Wraps a closure as a [`Handler`].
pub fn handler(f: impl Fn(HttpRequest) -> HttpResponse + Send + Sync + 'static) -> Handler {
    Arc::new(f)
}

/// A server on `IP:PORT`; stops accepting when dropped.
pub struct Server {
    ip: IpAddr,
    port: u16,
    tls: bool,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
}

impl Server {
    /// A plain-HTTP server on 127.0.0.1.
    pub fn start(handler: Handler) -> Server {
        Self::start_with(LOCALHOST, None, |_| handler)
    }

    /// A plain-HTTP server on another loopback address (`127.0.0.2` works on Linux): another
    /// host, as far as a client can tell.
    pub fn start_on(ip: IpAddr, handler: Handler) -> Server {
        Self::start_with(ip, None, |_| handler)
    }

    /// An HTTPS server on 127.0.0.1 with the certificate `pki` issued for it.
    pub fn start_tls(pki: &TestPki, handler: Handler) -> Server {
        Self::start_with(LOCALHOST, Some(pki), |_| handler)
    }

    /// The general form: the handler is made once the port is known (a registry that names
    /// its own token realm needs it).
    pub fn start_with(
        ip: IpAddr,
        tls: Option<&TestPki>,
        make: impl FnOnce(u16) -> Handler,
    ) -> Server {
        let listener = TcpListener::bind((ip, 0)).expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let handler = make(port);
        let tls = tls.map(|pki| Arc::new(pki.server_config()));
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicUsize::new(0));
        let (stop_flag, counter, is_tls) = (stop.clone(), requests.clone(), tls.is_some());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop_flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (handler, tls, counter) = (handler.clone(), tls.clone(), counter.clone());
                std::thread::spawn(move || {
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
                    let _ = match tls {
                        Some(config) => match rustls::ServerConnection::new(config) {
                            Ok(session) => {
                                serve(rustls::StreamOwned::new(session, conn), &handler, &counter)
                            }
                            Err(_) => Ok(()),
                        },
                        None => serve(conn, &handler, &counter),
                    };
                });
            }
        });
        Server {
            ip,
            port,
            tls: is_tls,
            stop,
            requests,
        }
    }

    /// `IP:PORT`, as written in image references and `--insecure-registry`.
    pub fn host(&self) -> String {
        format!("{}:{}", self.ip, self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://IP:PORT` or `https://IP:PORT`.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.host())
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect((self.ip, self.port));
    }
}

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn serve(
    mut stream: impl Read + Write,
    handler: &Handler,
    counter: &AtomicUsize,
) -> std::io::Result<()> {
    let request = read_request(&mut stream)?;
    counter.fetch_add(1, Ordering::SeqCst);
    let head_only = request.method == "HEAD";
    let response = handler(request);
    write_response(&mut stream, &response, head_only)
}
