//! A fault-injecting proxy in front of a registry: it forwards over HTTP/1.0 and misbehaves as
//! told, for what a real registry will not do on demand (a 429, an outage, a lie, a stall).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::http::{HttpRequest, HttpResponse, request};
use crate::server::{Server, handler};

/// What the proxy does wrong.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Forward everything faithfully.
    None,
    /// Answer the first `times` requests with 429 and `Retry-After: retry_after_secs`, then forward.
    TooManyRequests {
        /// How many requests get a 429.
        times: usize,
        /// The `Retry-After` value, in seconds.
        retry_after_secs: u64,
    },
    /// Answer every request with 503.
    ServiceUnavailable,
    /// Forward, but change the body of every manifest fetched by digest, so that its bytes no
    /// longer hash to the digest asked for (a lying or corrupting registry or mirror).
    MismatchedManifest,
    /// Answer every `HEAD` of a manifest (by tag or by digest) with 200, this digest in
    /// `Docker-Content-Digest` and an OCI manifest type, whatever the registry says; `GET`s are
    /// forwarded faithfully (a registry that says yes to `HEAD` and serves other bytes).
    LyingDigest(String),
    /// Hold every request until the gate opens, then forward: the slow registry that gives an
    /// attacker time to change files while a command waits on it.
    Hold(Gate),
    /// Let the first `skip` requests of `method` through, then hold the others at the gate and
    /// answer 503 when it opens, never forwarding them (a registry that hangs on a delete while
    /// the client is killed); once the gate is open, later requests are forwarded.
    Stall {
        method: &'static str,
        skip: usize,
        gate: Gate,
    },
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

    /// True once [`Gate::open`] was called.
    pub fn is_open(&self) -> bool {
        *self.0.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait(&self) {
        let (open, cv) = &*self.0;
        let guard = open.lock().unwrap_or_else(|e| e.into_inner());
        let _ = cv.wait_timeout_while(guard, Duration::from_secs(60), |open| !*open);
    }
}

/// A proxy on `127.0.0.1:PORT` in front of `upstream`; stops accepting when dropped.
pub struct Proxy {
    server: Server,
    faults: Arc<AtomicUsize>,
}

impl Proxy {
    /// Starts a proxy to `upstream` (`127.0.0.1:PORT`, plain HTTP) with the given fault.
    pub fn start(upstream: &str, fault: Fault) -> Proxy {
        let upstream = upstream.to_string();
        let faults = Arc::new(AtomicUsize::new(0));
        let faulted = faults.clone();
        let seen = AtomicUsize::new(0);
        let stalled = AtomicUsize::new(0);
        let server = Server::start(handler(move |req| {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            let count = || {
                faulted.fetch_add(1, Ordering::SeqCst);
            };
            match &fault {
                Fault::TooManyRequests {
                    times,
                    retry_after_secs,
                } if n < *times => {
                    count();
                    return HttpResponse::new(429)
                        .with_header("Retry-After", &retry_after_secs.to_string())
                        .with_body(&b"{\"errors\":[{\"code\":\"TOOMANYREQUESTS\"}]}"[..]);
                }
                Fault::ServiceUnavailable => {
                    count();
                    return HttpResponse::new(503).with_body(&b"down"[..]);
                }
                Fault::Hold(gate) => {
                    count();
                    gate.wait();
                }
                Fault::Stall { method, skip, gate }
                    if req.method == *method
                        && !gate.is_open()
                        && stalled.fetch_add(1, Ordering::SeqCst) >= *skip =>
                {
                    count();
                    gate.wait();
                    return HttpResponse::new(503).with_body(&b"stalled"[..]);
                }
                _ => {}
            }
            let manifest = req.path().contains("/manifests/");
            if let Fault::LyingDigest(digest) = &fault
                && manifest
                && req.method == "HEAD"
            {
                count();
                return HttpResponse::new(200)
                    .with_header("Content-Type", crate::OCI_MANIFEST)
                    .with_header("Docker-Content-Digest", digest)
                    .with_header("Content-Length", "512");
            }
            let mut response = forward(&upstream, &req);
            let manifest = manifest && response.status == 200;
            let by_digest = req.path().contains("/manifests/sha256:");
            match &fault {
                Fault::MismatchedManifest if manifest && by_digest && req.method == "GET" => {
                    count();
                    // Still valid JSON, but other bytes than the digest names.
                    response.body.extend_from_slice(b"\n");
                }
                _ => {}
            }
            response
        }));
        Proxy { server, faults }
    }

    /// `127.0.0.1:PORT`, to write in image references and `--insecure-registry`.
    pub fn host(&self) -> String {
        self.server.host()
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.server.requests()
    }

    /// Requests answered with a fault so far.
    pub fn faults(&self) -> usize {
        self.faults.load(Ordering::SeqCst)
    }
}

/// Forwards a request to `upstream` and returns its answer; hop-by-hop headers are dropped.
pub fn forward(upstream: &str, req: &HttpRequest) -> HttpResponse {
    let headers: Vec<(&str, &str)> = req
        .headers
        .iter()
        .filter(|(k, _)| {
            ![
                "host",
                "connection",
                "keep-alive",
                "proxy-connection",
                "content-length",
            ]
            .iter()
            .any(|h| k.eq_ignore_ascii_case(h))
        })
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    match request(upstream, &req.method, &req.target, &headers, &req.body) {
        Ok(response) => response,
        Err(e) => HttpResponse::new(502).with_body(format!("proxy: {e}")),
    }
}
