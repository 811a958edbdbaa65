//! A webhook receiver on loopback: a [`Server`] that records every request and answers 200, for
//! tests of alert deliveries.

use std::sync::{Arc, Mutex};

use crate::{HttpRequest, HttpResponse, Server, handler};

/// One request as received.
pub type Received = HttpRequest;

/// A receiver on `127.0.0.1:PORT`; stops accepting when dropped.
pub struct Receiver {
    server: Server,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        let server = Server::start(handler(move |request| {
            if let Ok(mut log) = log.lock() {
                log.push(request);
            }
            HttpResponse::new(200).with_body("ok")
        }));
        Receiver { server, received }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        self.server.host()
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }
}
