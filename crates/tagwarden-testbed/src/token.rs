//! A token service as the distribution token spec describes it, for a real registry configured
//! with token auth: hands out ES256 JWTs signed with a throwaway key whose self-signed
//! certificate the registry trusts. Basic `user:password` gets the actions it asks for; anyone
//! else gets a token with no access.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::http::{HttpResponse, base64, base64_url, basic_auth_header};
use crate::pki::openssl;
use crate::server::{Server, handler};

/// The registry's `auth.token` settings, pointing at a [`TokenService`].
#[derive(Debug, Clone)]
pub struct TokenAuth {
    /// The realm URL the registry names in its challenges.
    pub realm: String,
    /// The service name tokens are issued for.
    pub service: String,
    /// The issuer the registry expects.
    pub issuer: String,
    /// The certificate of the signing key (PEM), which the registry trusts.
    pub root_cert: PathBuf,
}

/// A token service on 127.0.0.1.
pub struct TokenService {
    server: Server,
    auth: TokenAuth,
    issued: Arc<AtomicUsize>,
    _dir: tempfile::TempDir,
}

impl TokenService {
    /// Starts a token service that grants `user:password` whatever it asks for.
    pub fn start(user: &str, password: &str) -> TokenService {
        let dir = tempfile::tempdir().expect("temp dir");
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
        let pkcs8 = std::fs::read(d.join("sign.p8")).expect("signing key");
        let cert_der = std::fs::read(d.join("sign.der")).expect("signing certificate");
        let key = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &pkcs8,
            &ring::rand::SystemRandom::new(),
        )
        .expect("ES256 key");
        let x5c = base64(&cert_der);
        let expected = basic_auth_header(user, password);
        let issued = Arc::new(AtomicUsize::new(0));
        let counter = issued.clone();
        let service = "tagwarden-test-registry".to_string();
        let issuer = "tagwarden-test-issuer".to_string();
        let (svc, iss) = (service.clone(), issuer.clone());
        let server = Server::start(handler(move |request| {
            counter.fetch_add(1, Ordering::SeqCst);
            let params = request.params();
            let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v);
            if param("service") != Some(&svc) {
                return HttpResponse::new(400);
            }
            let authorised = request.header("Authorization") == Some(expected.as_str());
            let access: Vec<serde_json::Value> = if authorised {
                params
                    .iter()
                    .filter(|(k, _)| k == "scope")
                    .filter_map(|(_, s)| {
                        let mut parts = s.splitn(3, ':');
                        let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
                        Some(json!({"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let header = json!({"typ": "JWT", "alg": "ES256", "x5c": [x5c]});
            let claims = json!({
                "iss": iss, "sub": if authorised { "user" } else { "" }, "aud": svc,
                "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("t{now}"),
                "access": access,
            });
            let signing_input = format!(
                "{}.{}",
                base64_url(header.to_string().as_bytes()),
                base64_url(claims.to_string().as_bytes())
            );
            let signature = key
                .sign(&ring::rand::SystemRandom::new(), signing_input.as_bytes())
                .expect("sign");
            let token = format!("{signing_input}.{}", base64_url(signature.as_ref()));
            HttpResponse::new(200)
                .with_header("Content-Type", "application/json")
                .with_body(json!({"token": token, "expires_in": 300}).to_string())
        }));
        let auth = TokenAuth {
            realm: format!("{}/token", server.url()),
            service,
            issuer,
            root_cert: d.join("sign.crt"),
        };
        TokenService {
            server,
            auth,
            issued,
            _dir: dir,
        }
    }

    /// The settings a registry needs to trust this service.
    pub fn auth(&self) -> TokenAuth {
        self.auth.clone()
    }

    /// Tokens issued so far (every request counts).
    pub fn issued(&self) -> usize {
        self.issued.load(Ordering::SeqCst)
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        self.server.host()
    }
}
