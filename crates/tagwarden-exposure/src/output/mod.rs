//! The checklist for people (a terminal, an incident ticket) and for automation; one module per
//! format. Every piece of text that comes from a tree or a hunt is escaped for where it goes.

pub mod human;
pub mod json;
pub mod markdown;

use crate::checklist::Item;
use crate::job::CredentialKind;

/// `secret`, `set of secrets`, … for people.
pub(crate) fn kind_words(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::Secret => "secret",
        CredentialKind::SecretSet => "every secret of a set",
        CredentialKind::JobToken => "job token",
        CredentialKind::CloudRole => "cloud role (OIDC)",
        CredentialKind::IdToken => "OIDC ID token",
        CredentialKind::ServiceConnection => "service connection",
        CredentialKind::ExternalSecret => "secret from a secret manager",
        CredentialKind::FileSecret => "written in a file",
    }
}

/// `2026-04-22T12:40:00Z – 2026-04-22T12:55:00Z`, one time, or why there is none.
pub(crate) fn when(item: &Item) -> String {
    match (item.first, item.last) {
        (Some(f), Some(l)) if f != l => format!("{f} – {l}"),
        (Some(f), _) => f.to_string(),
        _ => "time unknown (the evidence gives no time: treat it as exposed for the whole window)"
            .to_string(),
    }
}
