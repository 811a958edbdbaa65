//! Test harness: a real CNCF Distribution registry on loopback, OCI layouts written from Rust and
//! pushed with skopeo, and a tiny HTTP server for fakes and fault-injecting proxies.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::future::Future;
use std::io::Write as _;
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const REGISTRY_BIN: &str = "/usr/bin/docker-registry";
pub const SKOPEO_BIN: &str = "/usr/bin/skopeo";

/// True when the real registry and skopeo are here; otherwise says so loudly, and fails when
/// `TAGWARDEN_REQUIRE_REGISTRY` is set (CI installs them).
pub fn real_registry_available() -> bool {
    let missing: Vec<&str> = [REGISTRY_BIN, SKOPEO_BIN]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var_os("TAGWARDEN_REQUIRE_REGISTRY").is_some() {
        panic!("TAGWARDEN_REQUIRE_REGISTRY is set but {missing:?} are missing");
    }
    eprintln!(
        "\n!!!!!!!! SKIPPING real-registry test: {missing:?} missing (apt-get install docker-registry skopeo) !!!!!!!!\n"
    );
    false
}

/// True when the real registry, skopeo and the openssl CLI (for certificates and token keys) are
/// here; skips loudly or fails like [`real_registry_available`].
pub fn real_registry_and_openssl_available() -> bool {
    if !real_registry_available() {
        return false;
    }
    let found = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return true;
    }
    if std::env::var_os("TAGWARDEN_REQUIRE_REGISTRY").is_some() {
        panic!("TAGWARDEN_REQUIRE_REGISTRY is set but the openssl CLI is missing");
    }
    eprintln!(
        "\n!!!!!!!! SKIPPING TLS/token test: openssl CLI missing (apt-get install openssl) !!!!!!!!\n"
    );
    false
}

pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

/// A `docker-registry serve` process on 127.0.0.1, killed on drop.
pub struct Registry {
    pub port: u16,
    child: Child,
    pub dir: tempfile::TempDir,
}

impl Registry {
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts a registry; with `htpasswd = Some((user, password))` it demands Basic auth.
    pub async fn start(htpasswd: Option<(&str, &str)>) -> Registry {
        Self::start_with(RegistryOptions {
            htpasswd,
            ..RegistryOptions::default()
        })
        .await
    }

    pub async fn start_with(options: RegistryOptions<'_>) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        // Port 0, read back from the log: no race with other tests for a free port.
        let mut config = format!(
            "version: 0.1\nlog: {{level: info}}\nstorage:\n  filesystem: {{rootdirectory: {}}}\n  delete: {{enabled: true}}\nhttp:\n  addr: 127.0.0.1:0\n",
            dir.path().join("data").display()
        );
        if let Some(tls) = options.tls {
            config.push_str(&format!(
                "  tls: {{certificate: {}, key: {}}}\n",
                tls.server_cert.display(),
                tls.server_key.display()
            ));
        }
        if let Some((user, password)) = options.htpasswd {
            let hash = bcrypt::hash_with_result(password, 4)
                .unwrap()
                .format_for_version(bcrypt::Version::TwoA);
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, format!("{user}:{hash}\n")).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd: {{realm: test-realm, path: {}}}\n",
                file.display()
            ));
        }
        if let Some(token) = options.token {
            config.push_str(&format!(
                "auth:\n  token: {{realm: {:?}, service: {:?}, issuer: {:?}, rootcertbundle: {}}}\n",
                token.realm,
                token.service,
                token.issuer,
                token.root_cert.display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let log_path = dir.path().join("registry.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let mut child = Command::new(REGISTRY_BIN)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        let port = loop {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            let port = text
                .split("listening on 127.0.0.1:")
                .nth(1)
                .and_then(|rest| {
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    digits.parse::<u16>().ok()
                });
            if let Some(port) = port {
                break port;
            }
            let exited = child.try_wait().unwrap();
            if exited.is_some() || Instant::now() > deadline {
                let _ = child.kill();
                panic!("registry did not start ({exited:?}): {text}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let registry = Registry { port, child, dir };
        let scheme = if options.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .tls_danger_accept_invalid_certs(true)
            .build()
            .unwrap();
        loop {
            let answer = http
                .get(format!("{scheme}://127.0.0.1:{port}/v2/"))
                .send()
                .await;
            if let Ok(r) = answer
                && (r.status().is_success() || r.status().as_u16() == 401)
            {
                return registry;
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(registry.dir.path().join("registry.log"));
                panic!("registry on port {port} did not come up: {log:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// How to start a [`Registry`].
#[derive(Default)]
pub struct RegistryOptions<'a> {
    pub htpasswd: Option<(&'a str, &'a str)>,
    pub tls: Option<&'a TestPki>,
    pub token: Option<&'a TokenAuthConfig>,
}

/// The registry's `auth.token` settings.
pub struct TokenAuthConfig {
    pub realm: String,
    pub service: String,
    pub issuer: String,
    pub root_cert: PathBuf,
}

/// A throwaway CA and a server certificate for 127.0.0.1, made with the openssl CLI.
pub struct TestPki {
    pub dir: tempfile::TempDir,
    pub ca_cert: PathBuf,
    pub ca_key: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl TestPki {
    pub fn new() -> TestPki {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "2",
                "-subj",
                "/CN=tagwarden test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
            ],
        );
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        );
        std::fs::write(
            d.join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
            ],
        );
        TestPki {
            ca_cert: d.join("ca.crt"),
            ca_key: d.join("ca.key"),
            server_cert: d.join("server.crt"),
            server_key: d.join("server.key"),
            dir,
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A descriptor as OCI writes it.
#[derive(Clone, Debug)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: usize,
    pub bytes: Vec<u8>,
}

impl Descriptor {
    fn json(&self) -> serde_json::Value {
        json!({"mediaType": self.media_type, "digest": self.digest, "size": self.size})
    }
}

/// An OCI image layout written blob by blob.
pub struct Layout {
    pub dir: tempfile::TempDir,
    refs: Vec<serde_json::Value>,
}

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

impl Layout {
    pub fn new() -> Layout {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("blobs/sha256")).unwrap();
        std::fs::write(
            dir.path().join("oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .unwrap();
        Layout {
            dir,
            refs: Vec::new(),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    pub fn blob(&self, media_type: &str, bytes: Vec<u8>) -> Descriptor {
        let hex = sha256_hex(&bytes);
        std::fs::write(self.dir.path().join("blobs/sha256").join(&hex), &bytes).unwrap();
        Descriptor {
            media_type: media_type.to_string(),
            digest: format!("sha256:{hex}"),
            size: bytes.len(),
            bytes,
        }
    }

    /// A one-layer image for `arch`; `label` goes into the config so each image differs.
    pub fn image(&self, arch: &str, label: &str) -> Descriptor {
        // An empty tar archive: two zero blocks.
        let layer = self.blob("application/vnd.oci.image.layer.v1.tar", vec![0u8; 1024]);
        let config = json!({
            "architecture": arch,
            "os": "linux",
            "config": {"Labels": {"tagwarden.test": label}},
            "rootfs": {"type": "layers", "diff_ids": [layer.digest]},
        });
        let config = self.blob(
            "application/vnd.oci.image.config.v1+json",
            serde_json::to_vec(&config).unwrap(),
        );
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config.json(),
            "layers": [layer.json()],
        });
        self.blob(OCI_MANIFEST, serde_json::to_vec_pretty(&manifest).unwrap())
    }

    /// An image index over `(descriptor, arch)` pairs, all linux.
    pub fn index(&self, children: &[(&Descriptor, &str)]) -> Descriptor {
        let manifests: Vec<serde_json::Value> = children
            .iter()
            .map(|(d, arch)| {
                let mut v = d.json();
                v["platform"] = json!({"os": "linux", "architecture": arch});
                v
            })
            .collect();
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests});
        self.blob(OCI_INDEX, serde_json::to_vec_pretty(&index).unwrap())
    }

    /// Names `descriptor` as `tag` in index.json.
    pub fn tag(&mut self, tag: &str, descriptor: &Descriptor) {
        let mut v = descriptor.json();
        v["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
        self.refs.push(v);
        let index = json!({"schemaVersion": 2, "manifests": self.refs});
        std::fs::write(
            self.dir.path().join("index.json"),
            serde_json::to_vec(&index).unwrap(),
        )
        .unwrap();
    }

    /// `skopeo copy --all --preserve-digests` of `tag` to `docker://host/repo:dest_tag`.
    /// Async, so in-process servers (a token service) keep answering on the same runtime.
    pub async fn push(&self, tag: &str, destination: &str, creds: Option<&str>) {
        let mut cmd = tokio::process::Command::new(SKOPEO_BIN);
        cmd.kill_on_drop(true).args([
            "--command-timeout=60s",
            "copy",
            "--quiet",
            "--all",
            "--preserve-digests",
            "--dest-tls-verify=false",
        ]);
        if let Some(creds) = creds {
            cmd.arg(format!("--dest-creds={creds}"));
        }
        cmd.arg(format!("oci:{}:{tag}", self.dir.path().display()))
            .arg(format!("docker://{destination}"));
        let out = cmd.output().await.unwrap();
        assert!(
            out.status.success(),
            "skopeo copy to {destination} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A parsed HTTP/1.1 request.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A response; `Content-Length` and `Connection: close` are added when written.
#[derive(Clone, Debug, Default)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn new(status: u16) -> Self {
        Self {
            status,
            ..Self::default()
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
}

pub type Handler =
    Arc<dyn Fn(HttpRequest) -> Pin<Box<dyn Future<Output = HttpResponse> + Send>> + Send + Sync>;

/// Wraps an async closure as a [`Handler`].
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(HttpRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HttpResponse> + Send + 'static,
{
    Arc::new(move |r| Box::pin(f(r)))
}

/// A one-request-per-connection HTTP/1.1 server on 127.0.0.1, stopped on drop.
pub struct FakeServer {
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl FakeServer {
    pub async fn start(handler: Handler) -> FakeServer {
        Self::start_with(|_| handler).await
    }

    /// Like [`FakeServer::start`], for a handler that needs to know its own port.
    pub async fn start_with(make: impl FnOnce(u16) -> Handler) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let handler = make(port);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handler = handler.clone();
                tokio::spawn(async move {
                    let _ = serve_one(stream, handler).await;
                });
            }
        });
        FakeServer { port, task }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_one(mut stream: TcpStream, handler: Handler) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 {
            return Ok(());
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or("").split(' ');
    let method = request_line.next().unwrap_or("").to_string();
    let target = request_line.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let is_head = method == "HEAD";
    let response = handler(HttpRequest {
        method,
        target,
        headers,
        body,
    })
    .await;
    let mut out = Vec::new();
    write!(out, "HTTP/1.1 {} X\r\n", response.status)?;
    for (k, v) in &response.headers {
        write!(out, "{k}: {v}\r\n")?;
    }
    write!(
        out,
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        response.body.len()
    )?;
    if !is_head {
        out.extend_from_slice(&response.body);
    }
    stream.write_all(&out).await?;
    stream.shutdown().await
}

/// A reqwest client for the harness itself (no redirects), with a crypto provider installed.
pub fn plain_http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Forwards a request to `upstream` (host:port, plain HTTP) and returns its answer.
pub async fn forward(upstream: &str, request: HttpRequest) -> HttpResponse {
    let http = plain_http();
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
    let mut builder = http.request(method, format!("http://{upstream}{}", request.target));
    for (k, v) in &request.headers {
        let lower = k.to_ascii_lowercase();
        if !["host", "connection", "content-length"].contains(&lower.as_str()) {
            builder = builder.header(k, v);
        }
    }
    let answer = builder.body(request.body).send().await.unwrap();
    let mut response = HttpResponse::new(answer.status().as_u16());
    for (k, v) in answer.headers() {
        let lower = k.as_str();
        if !["content-length", "connection", "transfer-encoding"].contains(&lower) {
            response
                .headers
                .push((k.to_string(), v.to_str().unwrap_or("").to_string()));
        }
    }
    response.body = answer.bytes().await.unwrap().to_vec();
    response
}

/// Base64 of `bytes`: standard with padding, or URL-safe without (as JWS wants).
pub fn base64(bytes: &[u8], url_safe: bool) -> String {
    let alphabet: &[u8; 64] = if url_safe {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
        if !url_safe {
            for _ in chunk.len()..3 {
                out.push('=');
            }
        }
    }
    out
}

/// A token service as the distribution token spec describes it: hands out ES256 JWTs signed with
/// a throwaway key whose self-signed certificate the registry trusts. Basic `user:password` gets
/// the actions it asks for; anyone else gets a token with no access.
pub struct TokenService {
    pub server: FakeServer,
    pub config: TokenAuthConfig,
    pub issued: Arc<std::sync::atomic::AtomicUsize>,
    _dir: tempfile::TempDir,
}

impl TokenService {
    pub async fn start(user: &str, password: &str) -> TokenService {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        openssl(
            d,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "sign.pem",
            ],
        );
        openssl(
            d,
            &[
                "pkcs8", "-topk8", "-nocrypt", "-in", "sign.pem", "-outform", "DER", "-out",
                "sign.p8",
            ],
        );
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "sign.pem",
                "-subj",
                "/CN=tagwarden test token signer",
                "-days",
                "2",
                "-out",
                "sign.crt",
            ],
        );
        openssl(
            d,
            &[
                "x509", "-in", "sign.crt", "-outform", "DER", "-out", "sign.der",
            ],
        );
        let pkcs8 = std::fs::read(d.join("sign.p8")).unwrap();
        let cert_der = std::fs::read(d.join("sign.der")).unwrap();
        let rng = ring::rand::SystemRandom::new();
        let key = Arc::new(
            ring::signature::EcdsaKeyPair::from_pkcs8(
                &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &pkcs8,
                &rng,
            )
            .unwrap(),
        );
        let x5c = base64(&cert_der, false);
        let expected_auth = format!(
            "Basic {}",
            base64(format!("{user}:{password}").as_bytes(), false)
        );
        let issued = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = issued.clone();
        let service = "tagwarden-test-registry".to_string();
        let issuer = "tagwarden-test-issuer".to_string();
        let (svc, iss) = (service.clone(), issuer.clone());
        let server = FakeServer::start(handler(move |request| {
            let (key, x5c, expected_auth) = (key.clone(), x5c.clone(), expected_auth.clone());
            let (service, issuer) = (svc.clone(), iss.clone());
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                let query = request.target.split_once('?').map(|(_, q)| q).unwrap_or("");
                let mut scopes = Vec::new();
                let mut asked_service = String::new();
                for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
                    match k.as_ref() {
                        "scope" => scopes.push(v.to_string()),
                        "service" => asked_service = v.to_string(),
                        _ => {}
                    }
                }
                if asked_service != service {
                    return HttpResponse::new(400);
                }
                let authorised = request.header("Authorization") == Some(expected_auth.as_str());
                let access: Vec<serde_json::Value> = if authorised {
                    scopes
                        .iter()
                        .filter_map(|s| {
                            let mut parts = s.splitn(3, ':');
                            let (t, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
                            Some(json!({"type": t, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                let header = json!({"typ": "JWT", "alg": "ES256", "x5c": [x5c]});
                let claims = json!({
                    "iss": issuer, "sub": if authorised { "user" } else { "" }, "aud": service,
                    "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("t{now}"),
                    "access": access,
                });
                let signing_input = format!(
                    "{}.{}",
                    base64(&serde_json::to_vec(&header).unwrap(), true),
                    base64(&serde_json::to_vec(&claims).unwrap(), true)
                );
                let signature = key
                    .sign(&ring::rand::SystemRandom::new(), signing_input.as_bytes())
                    .unwrap();
                let token = format!("{signing_input}.{}", base64(signature.as_ref(), true));
                HttpResponse::new(200)
                    .header("Content-Type", "application/json")
                    .body(serde_json::to_vec(&json!({"token": token, "expires_in": 300})).unwrap())
            }
        }))
        .await;
        let config = TokenAuthConfig {
            realm: format!("http://{}/token", server.host()),
            service,
            issuer,
            root_cert: d.join("sign.crt"),
        };
        TokenService {
            server,
            config,
            issued,
            _dir: dir,
        }
    }
}

#[test]
fn base64_matches_known_answers() {
    assert_eq!(base64(b"", false), "");
    assert_eq!(base64(b"f", false), "Zg==");
    assert_eq!(base64(b"fo", false), "Zm8=");
    assert_eq!(base64(b"foo", false), "Zm9v");
    assert_eq!(base64(b"bob:pa55", false), "Ym9iOnBhNTU=");
    assert_eq!(base64(&[0xfb, 0xff], true), "-_8");
}

/// Pushes a blob over the distribution API (monolithic upload); returns its digest.
pub async fn upload_blob(host: &str, repository: &str, bytes: &[u8]) -> String {
    let http = plain_http();
    let digest = digest_of(bytes);
    let started = http
        .post(format!("http://{host}/v2/{repository}/blobs/uploads/"))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status().as_u16(), 202, "blob upload start");
    let location = started.headers()["location"].to_str().unwrap().to_string();
    let mut url = reqwest::Url::parse(&format!("http://{host}/"))
        .unwrap()
        .join(&location)
        .unwrap();
    url.query_pairs_mut().append_pair("digest", &digest);
    let done = http
        .put(url)
        .header("Content-Type", "application/octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(done.status().as_u16(), 201, "blob upload finish");
    digest
}

/// Pushes a manifest of `media_type` under `reference` (a tag or digest); returns its digest.
pub async fn put_manifest(
    host: &str,
    repository: &str,
    reference: &str,
    media_type: &str,
    bytes: &[u8],
) -> String {
    let answer = plain_http()
        .put(format!(
            "http://{host}/v2/{repository}/manifests/{reference}"
        ))
        .header("Content-Type", media_type)
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    assert_eq!(status, 201, "manifest put: {:?}", answer.text().await);
    digest_of(bytes)
}

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// Pushes a Docker schema 2 image for `arch`/`variant` (by digest) and returns the manifest's
/// digest and size.
pub async fn push_docker_image(
    host: &str,
    repository: &str,
    arch: &str,
    variant: Option<&str>,
) -> (String, usize) {
    let layer = vec![0u8; 1024];
    let layer_digest = upload_blob(host, repository, &layer).await;
    let config = serde_json::to_vec(&json!({
        "architecture": arch, "variant": variant, "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    }))
    .unwrap();
    let config_digest = upload_blob(host, repository, &config).await;
    let manifest = serde_json::to_vec_pretty(&json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": config.len(), "digest": config_digest},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar",
                    "size": layer.len(), "digest": layer_digest}],
    }))
    .unwrap();
    let digest = digest_of(&manifest);
    put_manifest(host, repository, &digest, DOCKER_MANIFEST, &manifest).await;
    (digest, manifest.len())
}
