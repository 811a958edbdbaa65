//! The docker `config.json` / containers `auth.json` format: parsing and decoding entries.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::{Deserialize, Deserializer};

use crate::error::{AuthError, AuthErrorKind};
use crate::{Credential, Secret};

/// The credential-related parts of a docker `config.json` or a containers `auth.json`; every
/// other field (`psFormat`, `proxies`, ...) is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct DockerConfig {
    /// Stored credentials by registry key (`https://index.docker.io/v1/`, `ghcr.io`, `quay.io/ns`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub auths: BTreeMap<String, AuthEntry>,
    /// Per-registry credential helpers: registry key to helper name (`gcloud`, `ecr-login`).
    #[serde(default, rename = "credHelpers", deserialize_with = "null_as_default")]
    pub cred_helpers: BTreeMap<String, String>,
    /// The helper for every registry without a `credHelpers` entry (`desktop`, `osxkeychain`).
    #[serde(default, rename = "credsStore")]
    pub creds_store: Option<String>,
}

/// One `auths` entry. Every secret field is a [`Secret`], so `Debug` shows none of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AuthEntry {
    /// base64 of `user:password`.
    #[serde(default)]
    pub auth: Option<Secret>,
    /// A user name, when written out instead of `auth`.
    #[serde(default)]
    pub username: Option<String>,
    /// A password, when written out instead of `auth`.
    #[serde(default)]
    pub password: Option<Secret>,
    /// An OAuth2 refresh token.
    #[serde(default)]
    pub identitytoken: Option<Secret>,
    /// A bearer token for the registry.
    #[serde(default)]
    pub registrytoken: Option<Secret>,
}

/// Credentials files are small; anything bigger is not one, and reading it whole would be a waste.
pub(crate) const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

impl DockerConfig {
    /// Parses the text of a `config.json` or `auth.json`; `path` is only used in errors. An empty
    /// file is an empty config, as docker treats it.
    pub fn parse(path: &Path, text: &str) -> Result<DockerConfig, AuthError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim().is_empty() {
            return Ok(DockerConfig::default());
        }
        serde_json::from_str(text).map_err(|error| {
            AuthErrorKind::MalformedJson {
                path: path.to_owned(),
                line: error.line(),
                column: error.column(),
                message: safe_json_message(&error),
            }
            .into()
        })
    }
}

impl AuthEntry {
    /// The credential this entry holds, in the order docker's registry client prefers them:
    /// `registrytoken`, `identitytoken`, `auth`, `username`/`password`. `Ok(None)` for an empty
    /// entry (docker writes `{}` for registries whose secret lives in a helper).
    pub fn credential(&self) -> Result<Option<Credential>, &'static str> {
        if let Some(token) = non_empty(&self.registrytoken) {
            return Ok(Some(Credential::RegistryToken(token.clone())));
        }
        if let Some(token) = non_empty(&self.identitytoken) {
            return Ok(Some(Credential::IdentityToken(token.clone())));
        }
        if let Some(auth) = non_empty(&self.auth) {
            let decoded = decode_base64(auth.expose().trim())
                .ok_or("the \"auth\" field is not valid base64")?;
            let decoded = String::from_utf8(decoded)
                .map_err(|_| "the \"auth\" field does not decode to UTF-8 text")?;
            // The user name cannot contain ':', the password can.
            let (username, password) = decoded
                .split_once(':')
                .ok_or("the \"auth\" field does not decode to user:password")?;
            return Ok(Some(Credential::Basic {
                username: username.to_owned(),
                // Docker trims NULs some old clients padded the password with.
                password: Secret::new(password.trim_matches('\0')),
            }));
        }
        let username = self.username.as_deref().unwrap_or_default();
        let password = self.password.as_ref().map(Secret::expose).unwrap_or("");
        if username.is_empty() && password.is_empty() {
            return Ok(None);
        }
        Ok(Some(Credential::Basic {
            username: username.to_owned(),
            password: Secret::new(password),
        }))
    }
}

fn non_empty(secret: &Option<Secret>) -> Option<&Secret> {
    secret.as_ref().filter(|s| !s.is_empty())
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Standard base64 as Go's `StdEncoding` reads it (docker writes "auth" with it): padding
/// optional here, CR and LF ignored, stray bits after the last byte allowed.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    const GO_STD: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let compact: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b'\r' | b'\n'))
        .collect();
    GO_STD.decode(compact).ok()
}

/// serde_json's message without the values it quotes from the input, which may be secrets.
pub(crate) fn safe_json_message(error: &serde_json::Error) -> String {
    let full = error.to_string();
    let location = format!(" at line {} column {}", error.line(), error.column());
    let message = full.strip_suffix(&location).unwrap_or(&full);
    match error.classify() {
        // Syntax messages are fixed texts ("expected `,` or `}`", "EOF while parsing a string").
        serde_json::error::Category::Syntax
        | serde_json::error::Category::Eof
        | serde_json::error::Category::Io => message.to_owned(),
        serde_json::error::Category::Data => redact_data_message(message),
    }
}

fn redact_data_message(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            // serde appends ", expected ..." from our own types after the quoted input value.
            let expected_at = rest.rfind(", expected ").unwrap_or(rest.len());
            let quote_at = rest.find(['"', '`', '\'']).unwrap_or(rest.len());
            let kind = rest.get(..expected_at.min(quote_at)).unwrap_or("value");
            let expected = rest.get(expected_at..).unwrap_or_default();
            return format!("{prefix}{}{expected}", kind.trim());
        }
    }
    // These name our own fields, not input values.
    if message.starts_with("missing field") || message.starts_with("duplicate field") {
        return message.to_owned();
    }
    "unexpected value".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<DockerConfig, AuthError> {
        DockerConfig::parse(Path::new("/cfg/config.json"), text)
    }

    fn basic(user: &str, password: &str) -> Credential {
        Credential::Basic {
            username: user.into(),
            password: Secret::new(password),
        }
    }

    #[test]
    fn base64_round_trips() {
        assert_eq!(
            decode_base64("dXNlcjpwYXNz").as_deref(),
            Some(&b"user:pass"[..])
        );
        assert_eq!(decode_base64("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(decode_base64("YQ").as_deref(), Some(&b"a"[..]));
        assert_eq!(decode_base64("YWI=").as_deref(), Some(&b"ab"[..]));
        assert_eq!(decode_base64("YWJj\r\nZA==").as_deref(), Some(&b"abcd"[..]));
        assert_eq!(decode_base64("").as_deref(), Some(&b""[..]));
        assert_eq!(decode_base64("Y"), None);
        assert_eq!(decode_base64("YQ==YQ"), None);
        assert_eq!(decode_base64("a b"), None);
        assert_eq!(decode_base64("YQ==="), None);
    }

    #[test]
    fn auth_field_splits_at_the_first_colon() {
        // base64("alice:pa:ss:word")
        let entry = AuthEntry {
            auth: Some(Secret::new("YWxpY2U6cGE6c3M6d29yZA==")),
            ..AuthEntry::default()
        };
        assert_eq!(entry.credential(), Ok(Some(basic("alice", "pa:ss:word"))));
    }

    #[test]
    fn auth_field_errors_do_not_quote_it() {
        for bad in ["not base64!", "bm9jb2xvbg==" /* "nocolon" */] {
            let entry = AuthEntry {
                auth: Some(Secret::new(bad)),
                ..AuthEntry::default()
            };
            let reason = entry.credential().err().unwrap_or_default();
            assert!(reason.contains("\"auth\""), "{reason}");
            assert!(!reason.contains(bad));
        }
    }

    #[test]
    fn entry_precedence() {
        let all = AuthEntry {
            auth: Some(Secret::new("dTpw")),
            username: Some("x".into()),
            password: Some(Secret::new("y")),
            identitytoken: Some(Secret::new("refresh")),
            registrytoken: Some(Secret::new("bearer")),
        };
        assert_eq!(
            all.credential(),
            Ok(Some(Credential::RegistryToken(Secret::new("bearer"))))
        );
        let no_registry_token = AuthEntry {
            registrytoken: Some(Secret::new("")),
            ..all.clone()
        };
        assert_eq!(
            no_registry_token.credential(),
            Ok(Some(Credential::IdentityToken(Secret::new("refresh"))))
        );
        let plain = AuthEntry {
            identitytoken: None,
            registrytoken: None,
            ..all.clone()
        };
        assert_eq!(plain.credential(), Ok(Some(basic("u", "p"))));
        let fields = AuthEntry {
            auth: None,
            ..plain
        };
        assert_eq!(fields.credential(), Ok(Some(basic("x", "y"))));
        assert_eq!(AuthEntry::default().credential(), Ok(None));
    }

    #[test]
    fn parses_real_shapes() {
        let config = parse(
            r#"{
                "auths": {"https://index.docker.io/v1/": {}, "ghcr.io": {"auth": "dTpw", "email": "a@b"}},
                "credHelpers": {"gcr.io": "gcloud"},
                "credsStore": "desktop",
                "psFormat": "table",
                "proxies": {"default": {"httpProxy": "x"}}
            }"#,
        );
        let Ok(config) = config else {
            panic!("{config:?}")
        };
        assert_eq!(config.auths.len(), 2);
        assert_eq!(
            config.cred_helpers.get("gcr.io").map(String::as_str),
            Some("gcloud")
        );
        assert_eq!(config.creds_store.as_deref(), Some("desktop"));
        assert_eq!(parse("").ok(), Some(DockerConfig::default()));
        assert!(parse("  \n").is_ok());
        assert!(parse(r#"{"auths": null, "credHelpers": null}"#).is_ok());
        assert!(parse("\u{feff}{}").is_ok());
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let err = parse("{\n  \"auths\": {\n    \"ghcr.io\": {\"auth\": \"dTpw\",}\n  }\n}")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("/cfg/config.json:3:"), "{err}");
        assert!(err.contains("trailing comma"), "{err}");
    }

    #[test]
    fn type_errors_do_not_quote_values() {
        for text in [
            r#"{"auths": {"ghcr.io": "s3cr3t-value, expected nothing"}}"#,
            r#"{"auths": {"ghcr.io": {"auth": 12345678}}}"#,
            r#"{"auths": ["s3cr3t-value"]}"#,
            r#"{"credsStore": {"x": "s3cr3t-value"}}"#,
        ] {
            let err = parse(text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.starts_with("/cfg/config.json:1:"), "{err}");
            assert!(
                !err.contains("s3cr3t") && !err.contains("12345678"),
                "{err}"
            );
            assert!(
                err.contains("invalid type") || err.contains("unexpected"),
                "{err}"
            );
        }
    }
}
