//! JSON files, read through the span-keeping YAML tree (JSON is YAML's flow syntax). The
//! document's shape picks the reader: docker and podman auth files (`auths`), Google Cloud
//! credentials (`"type": "service_account"`), Terraform state, Kubernetes objects; anything
//! else is walked like YAML.

use tagwarden_extract::read::json::mask;
use tagwarden_extract::yaml::{NodeRef, Yaml};

use super::yaml::{scalar_span, walk};
use super::{Assignment, Reading, decode_base64, decoded_text, kubernetes, terraform_state};
use crate::rules::Source;

pub(crate) fn read(text: &str, wanted: &dyn Fn(&str) -> bool) -> Reading {
    parse(text, |doc, out| {
        if doc.get("auths").is_some_and(|a| a.is_mapping()) {
            docker_config(doc, out);
        } else if matches!(
            doc.get_str("type"),
            Some("service_account" | "authorized_user")
        ) {
            gcp_credentials(doc, out);
        } else if doc.get("terraform_version").is_some() && doc.get("resources").is_some() {
            terraform_state::read(doc, wanted, out);
        } else if !kubernetes::read_document(doc, wanted, out) {
            walk(doc, Source::Json, wanted, out);
        }
    })
}

/// A `*.tfstate` file, whatever its content looks like.
pub(crate) fn read_state(text: &str, wanted: &dyn Fn(&str) -> bool) -> Reading {
    parse(text, |doc, out| terraform_state::read(doc, wanted, out))
}

fn parse(text: &str, mut each: impl FnMut(NodeRef<'_, '_>, &mut Reading)) -> Reading {
    let masked = mask(text);
    let yaml = Yaml::parse(&masked);
    let mut out = Reading::default();
    if let Some(e) = &yaml.error {
        out.problems
            .push((e.offset, format!("JSON: {}", e.message)));
        out.fall_back_to_lines = true;
    }
    for doc in yaml.documents() {
        each(doc, &mut out);
    }
    out
}

/// `auths.<registry>.auth` (base64 `user:password`), `identitytoken`, `registrytoken`,
/// `password`; the registry and user name are the account.
fn docker_config(doc: NodeRef<'_, '_>, out: &mut Reading) {
    let Some(auths) = doc.get("auths") else {
        return;
    };
    for (registry, entry) in auths.entries() {
        let user = entry.get_str("username").filter(|u| !u.is_empty());
        for (key, v) in entry.entries() {
            let Some(raw) = v.as_str() else { continue };
            if key == "username" || key == "email" || raw.is_empty() {
                continue;
            }
            let span = scalar_span(v);
            let path = format!("auths.{registry}.{key}");
            let mut a = Assignment::new(Source::DockerConfig, key, path, raw.to_string(), span);
            let mut account_user = user.map(str::to_string);
            if key == "auth" {
                let Some(decoded) = decode_base64(raw).and_then(decoded_text) else {
                    out.problems.push((
                        span.start,
                        format!("auths.{registry}.auth is not base64 of user:password"),
                    ));
                    continue;
                };
                let (u, pass) = decoded.split_once(':').unwrap_or(("", decoded.as_str()));
                if !u.is_empty() {
                    account_user = Some(u.to_string());
                }
                a.value = pass.to_string();
                a.decoded = Some("base64");
            }
            a.account = Some(match account_user {
                Some(u) => format!("{u} at {registry}"),
                None => registry.to_string(),
            });
            out.assignments.push(a);
        }
    }
}

/// A service-account key (`private_key`, named by `client_email` and `private_key_id`) or an
/// authorized user's refresh token and client secret.
fn gcp_credentials(doc: NodeRef<'_, '_>, out: &mut Reading) {
    let account = doc
        .get_str("client_email")
        .or_else(|| doc.get_str("client_id"))
        .map(str::to_string);
    let mut found = Reading::default();
    walk(doc, Source::GcpCredentials, &|_| true, &mut found);
    for a in found.assignments {
        out.assignments.push(a.account(account.clone()));
    }
    out.embedded.extend(found.embedded);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_auths() {
        // base64("ci-bot:Zq81mX-pw")
        let t = r#"{"auths": {"ghcr.io": {"auth": "Y2ktYm90OlpxODFtWC1wdw=="}, "quay.io": {"identitytoken": "tok"}}, "credsStore": "desktop"}"#;
        let r = read(t, &|_| false);
        let got: Vec<_> = r
            .assignments
            .iter()
            .map(|a| {
                (
                    a.name.as_str(),
                    a.value.as_str(),
                    a.span.of(t),
                    a.account.as_deref().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "auth",
                    "Zq81mX-pw",
                    "Y2ktYm90OlpxODFtWC1wdw==",
                    "ci-bot at ghcr.io"
                ),
                ("identitytoken", "tok", "tok", "quay.io"),
            ]
        );
    }

    #[test]
    fn service_account_key() {
        let t = "{\n  \"type\": \"service_account\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIB\\n-----END PRIVATE KEY-----\\n\",\n  \"client_email\": \"ci@proj.iam.gserviceaccount.com\"\n}\n";
        let r = read(t, &|_| false);
        let key = r
            .assignments
            .iter()
            .find(|a| a.name == "private_key")
            .unwrap();
        assert_eq!(
            key.account.as_deref(),
            Some("ci@proj.iam.gserviceaccount.com")
        );
        assert!(key.value.starts_with("-----BEGIN PRIVATE KEY-----\nMIIB"));
        assert!(
            key.span
                .of(t)
                .starts_with("-----BEGIN PRIVATE KEY-----\\nMIIB")
        );
        assert_eq!(r.embedded.len(), 1);
    }
}
