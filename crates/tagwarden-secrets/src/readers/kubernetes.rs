//! Kubernetes documents that hold credentials by definition: a `Secret` (`data` base64-decoded,
//! `stringData` as written) and a kubeconfig (each user's token, password, client key, auth
//! provider and exec credentials, named after the cluster the user is used with).

use tagwarden_extract::yaml::NodeRef;

use super::yaml::{scalar_span, walk};
use super::{Assignment, Reading, decode_base64, decoded_text};
use crate::rules::Source;

/// Reads `doc` when it is a Secret, a kubeconfig or a `List` of documents; false when it is
/// none of these and should be read as plain YAML.
pub(crate) fn read_document(
    doc: NodeRef<'_, '_>,
    wanted: &dyn Fn(&str) -> bool,
    out: &mut Reading,
) -> bool {
    let kind = doc.get_str("kind");
    match kind {
        Some("Secret") => {
            secret(doc, out);
            true
        }
        Some("List") | Some("SecretList") => {
            for item in doc.get("items").map(|i| i.items()).unwrap_or_default() {
                if !read_document(item, wanted, out) {
                    walk(item, Source::Yaml, wanted, out);
                }
            }
            true
        }
        Some("Config") | None
            if doc.get("users").is_some_and(|u| u.is_sequence())
                && (kind.is_some() || doc.get("clusters").is_some()) =>
        {
            kubeconfig(doc, out);
            true
        }
        _ => false,
    }
}

fn secret(doc: NodeRef<'_, '_>, out: &mut Reading) {
    let meta = doc.get("metadata");
    let name = meta.and_then(|m| m.get_str("name")).unwrap_or("?");
    let namespace = meta
        .and_then(|m| m.get_str("namespace"))
        .unwrap_or("default");
    for section in ["data", "stringData"] {
        let Some(map) = doc.get(section) else {
            continue;
        };
        for (key, v) in map.entries() {
            let Some(raw) = v.as_str() else { continue };
            let span = scalar_span(v);
            let path = format!("Secret {namespace}/{name} {section}.{key}");
            let mut a = Assignment::new(Source::KubernetesSecret, key, path, raw.to_string(), span)
                .declared(true);
            if section == "data" {
                match decode_base64(raw) {
                    Some(bytes) => match decoded_text(bytes) {
                        Some(text) => {
                            a.value = text;
                            a.decoded = Some("base64");
                        }
                        // Binary data (a keystore): nothing a text rule can read.
                        None => continue,
                    },
                    None => {
                        out.problems
                            .push((span.start, format!("Secret data {key:?} is not base64")));
                        continue;
                    }
                }
            }
            out.assignments.push(a);
        }
    }
}

fn kubeconfig(doc: NodeRef<'_, '_>, out: &mut Reading) {
    let named = |list: &str, inner: &str| -> Vec<(String, NodeRef<'_, '_>)> {
        doc.get(list)
            .map(|l| l.items())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| Some((i.get_str("name")?.to_string(), i.get(inner)?)))
            .collect()
    };
    let clusters = named("clusters", "cluster");
    let contexts = named("contexts", "context");
    for (user, body) in named("users", "user") {
        // The servers this user is used with, through the contexts that name it.
        let servers: Vec<&str> = contexts
            .iter()
            .filter(|(_, c)| c.get_str("user") == Some(user.as_str()))
            .filter_map(|(_, c)| c.get_str("cluster"))
            .filter_map(|name| clusters.iter().find(|(n, _)| n == name))
            .filter_map(|(_, c)| c.get_str("server"))
            .collect();
        let account = if servers.is_empty() {
            format!("user {user}")
        } else {
            format!("user {user} on {}", servers.join(", "))
        };
        let mut found = Reading::default();
        walk(body, Source::Kubeconfig, &|_| true, &mut found);
        // exec env pairs are read below, by the variable's name.
        for mut a in found
            .assignments
            .into_iter()
            .filter(|a| !a.path.starts_with("exec.env"))
        {
            a.path = format!("users[{user}].user.{}", a.path);
            a.account = Some(account.clone());
            if a.name.ends_with("-data") {
                match decode_base64(&a.value).and_then(decoded_text) {
                    Some(text) => {
                        a.value = text;
                        a.decoded = Some("base64");
                    }
                    None => continue,
                }
            }
            out.assignments.push(a);
        }
        out.embedded.extend(found.embedded);
        // exec plugins' `env: [{name, value}]`: the variable's name is what matters.
        if let Some(env) = body.get("exec").and_then(|e| e.get("env")) {
            for item in env.items() {
                if let (Some(name), Some(value)) = (item.get_str("name"), item.get("value")) {
                    let Some(v) = value.as_str() else { continue };
                    out.assignments.push(
                        Assignment::new(
                            Source::Kubeconfig,
                            name,
                            format!("users[{user}].user.exec.env.{name}"),
                            v.to_string(),
                            scalar_span(value),
                        )
                        .account(Some(account.clone())),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tagwarden_extract::yaml::Yaml;

    use super::*;

    #[test]
    fn secret_data_is_decoded_at_the_encoded_span() {
        // base64("Zq81mX-pw")
        let t = "apiVersion: v1\nkind: Secret\nmetadata: {name: app, namespace: prod}\ndata:\n  DB_PASSWORD: WnE4MW1YLXB3\n  bad: '%%'\nstringData:\n  token: abc\n";
        let y = Yaml::parse(t);
        let mut out = Reading::default();
        assert!(read_document(
            y.documents().next().unwrap(),
            &|_| true,
            &mut out
        ));
        let got: Vec<_> = out
            .assignments
            .iter()
            .map(|a| (a.path.as_str(), a.value.as_str(), a.span.of(t), a.declared))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "Secret prod/app data.DB_PASSWORD",
                    "Zq81mX-pw",
                    "WnE4MW1YLXB3",
                    true
                ),
                ("Secret prod/app stringData.token", "abc", "abc", true),
            ]
        );
        assert_eq!(out.problems.len(), 1);
    }

    #[test]
    fn kubeconfig_users_are_named_by_cluster() {
        let t = "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster: {server: 'https://k8s.example.org:6443'}\ncontexts:\n- name: c\n  context: {cluster: prod, user: ci}\nusers:\n- name: ci\n  user:\n    token: tkn\n    client-key-data: WnE4MW1YLXB3\n    exec:\n      env:\n      - {name: AWS_SECRET_ACCESS_KEY, value: s3}\n";
        let y = Yaml::parse(t);
        let mut out = Reading::default();
        assert!(read_document(
            y.documents().next().unwrap(),
            &|_| true,
            &mut out
        ));
        let got: Vec<_> = out
            .assignments
            .iter()
            .map(|a| (a.name.as_str(), a.value.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("token", "tkn"),
                ("client-key-data", "Zq81mX-pw"),
                ("AWS_SECRET_ACCESS_KEY", "s3")
            ]
        );
        assert_eq!(
            out.assignments[0].account.as_deref(),
            Some("user ci on https://k8s.example.org:6443")
        );
    }
}
