//! A minimal HTTP/1.1 client for a unix socket: GET, POST and DELETE without a request body,
//! `Content-Length`, chunked or read-to-close response bodies, one deadline for the whole
//! exchange and a cap on the body size.
//!
//! Engines answer on a local socket, so there is no TLS, no redirects and no keep-alive: each
//! request opens a connection and sends `Connection: close`.

use std::fmt;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// Longest status line plus headers accepted.
const HEADERS_MAX: usize = 64 * 1024;
/// Most header lines accepted.
const HEADER_COUNT_MAX: usize = 200;
/// Longest chunk-size or trailer line accepted.
const CHUNK_LINE_MAX: usize = 4096;
/// Most interim (1xx) responses skipped before the real one.
const INTERIM_MAX: usize = 8;

/// A response with its whole body.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    /// Header names lower-cased, values trimmed, in order.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// The first header with this (lower-case) name.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request failed.
#[derive(Debug)]
pub(crate) enum HttpError {
    /// The socket could not be connected to (missing, refused, no permission).
    Connect(io::Error),
    /// Reading or writing failed after connecting.
    Io(io::Error),
    /// The deadline passed before the response was complete.
    Timeout,
    /// The connection closed before the response was complete.
    Truncated,
    /// The body (or the headers) would be larger than allowed.
    TooLarge(usize),
    /// Not a well-formed HTTP/1.x response.
    Malformed(String),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect(e) => match e.kind() {
                io::ErrorKind::NotFound => f.write_str("no such socket"),
                io::ErrorKind::ConnectionRefused => f.write_str("connection refused"),
                io::ErrorKind::PermissionDenied => f.write_str("permission denied"),
                _ => write!(f, "{e}"),
            },
            Self::Io(e) => write!(f, "{e}"),
            Self::Timeout => f.write_str("timed out waiting for the response"),
            Self::Truncated => f.write_str("the connection closed in the middle of the response"),
            Self::TooLarge(limit) => write!(f, "response larger than {limit} bytes"),
            Self::Malformed(why) => write!(f, "malformed HTTP response: {why}"),
        }
    }
}

/// Limits for one request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Deadline for connecting, sending and reading the whole response.
    pub(crate) timeout: Duration,
    /// Largest body accepted.
    pub(crate) max_body: usize,
}

/// Sends `method path` (no body) over the unix socket and reads the whole response.
pub(crate) fn request(
    socket: &Path,
    method: &str,
    path: &str,
    limits: Limits,
) -> Result<Response, HttpError> {
    let deadline = Instant::now() + limits.timeout;
    let mut stream = UnixStream::connect(socket).map_err(HttpError::Connect)?;
    stream
        .set_write_timeout(Some(limits.timeout))
        .map_err(HttpError::Io)?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: tagwarden/{}\r\n\
         Accept: application/json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| map_io(e, deadline))?;
    let mut conn = Conn {
        stream,
        buf: Vec::with_capacity(16 * 1024),
        pos: 0,
        deadline,
        eof: false,
    };
    read_response(&mut conn, limits.max_body)
}

/// A buffered reader over the stream that honours the deadline on every read.
struct Conn {
    stream: UnixStream,
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    pos: usize,
    deadline: Instant,
    eof: bool,
}

fn map_io(e: io::Error, deadline: Instant) -> HttpError {
    if matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    ) || Instant::now() >= deadline
    {
        HttpError::Timeout
    } else {
        HttpError::Io(e)
    }
}

impl Conn {
    /// Reads more bytes into the buffer; false at end of stream.
    fn fill(&mut self) -> Result<bool, HttpError> {
        if self.eof {
            return Ok(false);
        }
        // Drop consumed bytes so the buffer holds at most what is still needed.
        if self.pos > 64 * 1024 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let remaining = self.deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(HttpError::Timeout);
            }
            self.stream
                .set_read_timeout(Some(remaining))
                .map_err(HttpError::Io)?;
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.buf
                        .extend_from_slice(chunk.get(..n).unwrap_or_default());
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(map_io(e, self.deadline)),
            }
        }
    }

    fn pending(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// One line without its CRLF (a bare LF is accepted), at most `max` bytes.
    fn line(&mut self, max: usize) -> Result<Vec<u8>, HttpError> {
        loop {
            if let Some(i) = memchr::memchr(b'\n', self.pending()) {
                let mut line = self.pending().get(..i).unwrap_or_default().to_vec();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.pos += i + 1;
                return Ok(line);
            }
            if self.pending().len() > max {
                return Err(HttpError::TooLarge(max));
            }
            if !self.fill()? {
                return Err(HttpError::Truncated);
            }
        }
    }

    /// Appends exactly `n` bytes to `out`.
    fn take(&mut self, mut n: usize, out: &mut Vec<u8>) -> Result<(), HttpError> {
        while n > 0 {
            if self.pending().is_empty() && !self.fill()? {
                return Err(HttpError::Truncated);
            }
            let have = self.pending().len().min(n);
            out.extend_from_slice(self.pending().get(..have).unwrap_or_default());
            self.pos += have;
            n -= have;
        }
        Ok(())
    }

    /// Everything until the peer closes, at most `max` bytes.
    fn rest(&mut self, max: usize, out: &mut Vec<u8>) -> Result<(), HttpError> {
        loop {
            let have = self.pending().len();
            if out.len() + have > max {
                return Err(HttpError::TooLarge(max));
            }
            out.extend_from_slice(self.pending());
            self.pos += have;
            if !self.fill()? {
                return Ok(());
            }
        }
    }
}

fn read_response(conn: &mut Conn, max_body: usize) -> Result<Response, HttpError> {
    let mut interim = 0;
    loop {
        let (status, headers) = read_head(conn)?;
        // 1xx responses precede the real one; skip them.
        if (100..200).contains(&status) && interim < INTERIM_MAX {
            interim += 1;
            continue;
        }
        let body = read_body(conn, status, &headers, max_body)?;
        return Ok(Response {
            status,
            headers,
            body,
        });
    }
}

type Headers = Vec<(String, String)>;

fn read_head(conn: &mut Conn) -> Result<(u16, Headers), HttpError> {
    let mut budget = HEADERS_MAX;
    let status_line = conn.line(budget)?;
    budget = budget.saturating_sub(status_line.len());
    let status_line = String::from_utf8_lossy(&status_line);
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(HttpError::Malformed(format!(
            "status line {:?}",
            crate::excerpt(&status_line)
        )));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|s| (100..1000).contains(s))
        .ok_or_else(|| {
            HttpError::Malformed(format!("status line {:?}", crate::excerpt(&status_line)))
        })?;
    let mut headers = Vec::new();
    loop {
        let line = conn.line(budget)?;
        if line.is_empty() {
            return Ok((status, headers));
        }
        budget = budget
            .checked_sub(line.len() + 2)
            .ok_or(HttpError::TooLarge(HEADERS_MAX))?;
        if headers.len() >= HEADER_COUNT_MAX {
            return Err(HttpError::Malformed("too many headers".into()));
        }
        let line = String::from_utf8_lossy(&line);
        let Some((name, value)) = line.split_once(':') else {
            return Err(HttpError::Malformed(format!(
                "header line {:?}",
                crate::excerpt(&line)
            )));
        };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
}

fn read_body(
    conn: &mut Conn,
    status: u16,
    headers: &Headers,
    max_body: usize,
) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    if status == 204 || status == 304 {
        return Ok(body);
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let chunked = header("transfer-encoding").is_some_and(|v| {
        v.rsplit(',')
            .next()
            .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
    });
    if chunked {
        read_chunked(conn, max_body, &mut body)?;
    } else if let Some(length) = header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| HttpError::Malformed(format!("Content-Length {length:?}")))?;
        if length > max_body {
            return Err(HttpError::TooLarge(max_body));
        }
        body.reserve(length);
        conn.take(length, &mut body)?;
    } else {
        conn.rest(max_body, &mut body)?;
    }
    Ok(body)
}

fn read_chunked(conn: &mut Conn, max_body: usize, body: &mut Vec<u8>) -> Result<(), HttpError> {
    loop {
        let line = conn.line(CHUNK_LINE_MAX)?;
        let line = String::from_utf8_lossy(&line);
        // Chunk extensions (`;name=value`) carry nothing we need.
        let size = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size, 16)
            .map_err(|_| HttpError::Malformed(format!("chunk size {:?}", crate::excerpt(&line))))?;
        if size == 0 {
            // Trailer fields up to the empty line; a peer that closes right away is tolerated.
            loop {
                match conn.line(CHUNK_LINE_MAX) {
                    Ok(l) if l.is_empty() => return Ok(()),
                    Ok(_) => {}
                    Err(HttpError::Truncated) => return Ok(()),
                    Err(e) => return Err(e),
                }
            }
        }
        if body.len().saturating_add(size) > max_body {
            return Err(HttpError::TooLarge(max_body));
        }
        conn.take(size, body)?;
        if !conn.line(2)?.is_empty() {
            return Err(HttpError::Malformed("chunk not followed by CRLF".into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;
    use std::thread;

    fn get(socket: &Path, path: &str, limits: Limits) -> Result<Response, HttpError> {
        request(socket, "GET", path, limits)
    }

    /// Serves one connection with `reply` (after reading the request), then closes.
    fn serve(
        reply: Vec<u8>,
        hold_open: Option<Duration>,
    ) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("api.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        thread::spawn(move || {
            if let Ok((mut s, _)) = listener.accept() {
                let mut req = Vec::new();
                let mut b = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut b) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&b[..n]),
                    }
                }
                assert!(req.starts_with(b"GET /v1.41/images/json HTTP/1.1\r\n"));
                let _ = s.write_all(&reply);
                if let Some(d) = hold_open {
                    thread::sleep(d);
                }
            }
        });
        (dir, socket)
    }

    fn limits() -> Limits {
        Limits {
            timeout: Duration::from_secs(5),
            max_body: 1024,
        }
    }

    #[test]
    fn content_length() {
        let (_d, s) = serve(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]extra"
                .to_vec(),
            None,
        );
        let r = get(&s, "/v1.41/images/json", limits()).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.body, b"[]");
    }

    #[test]
    fn chunked_with_extensions_and_trailers() {
        let (_d, s) = serve(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
              4;ext=1\r\n[{\"a\r\nB\r\n\":1},{\"b\":2\r\n1\r\n]\r\n0\r\nX-Trailer: y\r\n\r\n"
                .to_vec(),
            None,
        );
        let r = get(&s, "/v1.41/images/json", limits()).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(String::from_utf8(r.body).unwrap(), r#"[{"a":1},{"b":2]"#);
    }

    #[test]
    fn read_until_close_without_length() {
        let (_d, s) = serve(b"HTTP/1.0 404 Not Found\r\n\r\nNot Found".to_vec(), None);
        let r = get(&s, "/v1.41/images/json", limits()).unwrap();
        assert_eq!(r.status, 404);
        assert_eq!(r.body, b"Not Found");
    }

    #[test]
    fn truncated_bodies() {
        let (_d, s) = serve(
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n[1,2".to_vec(),
            None,
        );
        let e = get(&s, "/v1.41/images/json", limits()).unwrap_err();
        assert!(matches!(e, HttpError::Truncated), "{e:?}");

        let (_d, s) = serve(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n[1,2".to_vec(),
            None,
        );
        let e = get(&s, "/v1.41/images/json", limits()).unwrap_err();
        assert!(matches!(e, HttpError::Truncated), "{e:?}");

        let (_d, s) = serve(b"HTTP/1.1 200 OK\r\nContent-".to_vec(), None);
        let e = get(&s, "/v1.41/images/json", limits()).unwrap_err();
        assert!(matches!(e, HttpError::Truncated), "{e:?}");
    }

    #[test]
    fn oversized_bodies() {
        let (_d, s) = serve(
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n".to_vec(),
            None,
        );
        let e = get(&s, "/v1.41/images/json", limits()).unwrap_err();
        assert!(matches!(e, HttpError::TooLarge(1024)), "{e:?}");

        let mut reply = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..3 {
            reply.extend_from_slice(b"200\r\n");
            reply.extend(std::iter::repeat_n(b'x', 0x200));
            reply.extend_from_slice(b"\r\n");
        }
        let (_d, s) = serve(reply, None);
        let e = get(&s, "/v1.41/images/json", limits()).unwrap_err();
        assert!(matches!(e, HttpError::TooLarge(1024)), "{e:?}");

        let mut reply = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        reply.extend(std::iter::repeat_n(b'x', 2000));
        let (_d, s) = serve(reply, None);
        let e = get(&s, "/v1.41/images/json", limits()).unwrap_err();
        assert!(matches!(e, HttpError::TooLarge(1024)), "{e:?}");

        let mut reply = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        reply.extend(std::iter::repeat_n(b'x', HEADERS_MAX + 10));
        let (_d, s) = serve(reply, None);
        let e = get(&s, "/v1.41/images/json", limits()).unwrap_err();
        assert!(matches!(e, HttpError::TooLarge(_)), "{e:?}");
    }

    #[test]
    fn malformed_responses() {
        let (_d, s) = serve(b"SSH-2.0-OpenSSH\r\n\r\n".to_vec(), None);
        let e = get(&s, "/v1.41/images/json", limits()).unwrap_err();
        assert!(matches!(e, HttpError::Malformed(_)), "{e:?}");

        let (_d, s) = serve(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(),
            None,
        );
        let e = get(&s, "/v1.41/images/json", limits()).unwrap_err();
        assert!(matches!(e, HttpError::Malformed(_)), "{e:?}");
    }

    #[test]
    fn slow_server_times_out() {
        let (_d, s) = serve(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n[".to_vec(),
            // Held far past the deadline, so that only the deadline can end the read.
            Some(Duration::from_secs(600)),
        );
        let e = get(
            &s,
            "/v1.41/images/json",
            Limits {
                timeout: Duration::from_millis(200),
                max_body: 1024,
            },
        )
        .unwrap_err();
        assert!(matches!(e, HttpError::Timeout), "{e:?}");
    }

    #[test]
    fn refused_and_missing_sockets() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.sock");
        let e = get(&missing, "/_ping", limits()).unwrap_err();
        assert!(matches!(e, HttpError::Connect(_)), "{e:?}");
        assert_eq!(e.to_string(), "no such socket");

        // A socket file nobody listens on any more refuses connections.
        let stale = dir.path().join("stale.sock");
        drop(UnixListener::bind(&stale).unwrap());
        let e = get(&stale, "/_ping", limits()).unwrap_err();
        assert_eq!(e.to_string(), "connection refused");
    }
}
