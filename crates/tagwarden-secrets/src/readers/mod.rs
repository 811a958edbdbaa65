//! Structured readers: what a file binds to which name. Each takes one file's text and returns
//! [`Assignment`]s with the byte span of the value as written (for a decoded value, the span of
//! the encoded text), never touching the disk. The file's path decides the reader
//! ([`Format::of`]); a document's content may then pick a more specific one (a YAML document
//! with `kind: Secret`, a JSON file with `auths`).

mod dotenv;
mod hcl;
mod ini;
mod json;
mod kubernetes;
mod lines;
mod netrc;
mod terraform_state;
mod yaml;

use base64::Engine as _;
use tagwarden_extract::Span;

use crate::rules::Source;

/// A value bound to a name, as the program reading the file would see it.
#[derive(Clone, Debug)]
pub(crate) struct Assignment {
    pub(crate) source: Source,
    /// The name the value is bound to (the last key), which rules judge.
    pub(crate) name: String,
    /// Where the name sits in the document, for the report: `data.DB_PASSWORD`,
    /// `users[ci].user.token`.
    pub(crate) path: String,
    /// The value: unquoted, unescaped, decoded.
    pub(crate) value: String,
    /// The bytes the value is written as in the file.
    pub(crate) span: Span,
    /// How the value was decoded from the bytes at `span`, if it was (`base64`).
    pub(crate) decoded: Option<&'static str>,
    /// The file says the value is secret (a Secret's data, a Terraform sensitive value).
    pub(crate) declared: bool,
    /// Whose credential it is, when the file says and it is not secret: a registry and user
    /// name, an AWS profile, a service account's e-mail.
    pub(crate) account: Option<String>,
}

impl Assignment {
    pub(crate) fn new(source: Source, name: &str, path: String, value: String, span: Span) -> Self {
        Assignment {
            source,
            name: name.to_string(),
            path,
            value,
            span,
            decoded: None,
            declared: false,
            account: None,
        }
    }

    pub(crate) fn account(mut self, account: Option<String>) -> Self {
        self.account = account;
        self
    }

    pub(crate) fn declared(mut self, declared: bool) -> Self {
        self.declared = declared;
        self
    }
}

/// Text found inside a value that is itself a document to scan: a JSON string with escapes, a
/// decoded value. Matches inside point at `span`.
#[derive(Clone, Debug)]
pub(crate) struct Embedded {
    /// A file name the content is read as (a Secret's key such as `.dockerconfigjson`).
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) span: Span,
    /// How the text was obtained from the bytes at `span` (`base64`, `JSON string`).
    pub(crate) via: &'static str,
}

/// What a reader found in one file.
#[derive(Debug, Default)]
pub(crate) struct Reading {
    pub(crate) assignments: Vec<Assignment>,
    pub(crate) embedded: Vec<Embedded>,
    /// Problems met while reading, at a byte offset; the rest of the file was still read.
    pub(crate) problems: Vec<(usize, String)>,
    /// Parts of the file to read line by line as well (YAML block scalars).
    pub(crate) line_regions: Vec<Span>,
    /// The structured reader could not make sense of the file: read its lines instead.
    pub(crate) fall_back_to_lines: bool,
}

/// Which reader a file gets, decided by its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Dotenv,
    Yaml,
    Json,
    Terraform,
    TerraformState,
    Ini(Source),
    Npmrc,
    Netrc,
    /// Lines of other text; `code` when unquoted values are expressions, not literals.
    Text {
        code: bool,
    },
}

impl Format {
    pub(crate) fn of(path: &str) -> Format {
        let path = path.replace('\\', "/");
        let name = path.rsplit('/').next().unwrap_or("").to_ascii_lowercase();
        let parent = path.rsplit('/').nth(1).unwrap_or("").to_ascii_lowercase();
        let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
        match name.as_str() {
            ".npmrc" | "npmrc" => return Format::Npmrc,
            ".pypirc" => return Format::Ini(Source::Pypirc),
            ".netrc" | "_netrc" => return Format::Netrc,
            "credentials" | "config" if parent == ".aws" => {
                return Format::Ini(Source::AwsCredentials);
            }
            "config" if parent == ".kube" => return Format::Yaml,
            "kubeconfig" | ".kubeconfig" => return Format::Yaml,
            ".dockerconfigjson" | ".dockercfg" => return Format::Json,
            _ => {}
        }
        if name == ".env" || name.starts_with(".env.") || ext == "env" {
            return Format::Dotenv;
        }
        if name.ends_with(".tfstate") || name.ends_with(".tfstate.backup") {
            return Format::TerraformState;
        }
        match ext {
            "yaml" | "yml" => Format::Yaml,
            "json" | "jsonc" => Format::Json,
            "tf" | "tfvars" | "hcl" => Format::Terraform,
            "ini" | "cfg" | "gitconfig" => Format::Ini(Source::Ini),
            "py" | "js" | "mjs" | "cjs" | "ts" | "tsx" | "jsx" | "go" | "java" | "kt" | "kts"
            | "rb" | "php" | "cs" | "rs" | "c" | "h" | "cc" | "cpp" | "hpp" | "swift" | "scala"
            | "groovy" | "gradle" | "dart" | "lua" | "pl" | "r" | "m" | "ex" | "exs" | "clj"
            | "vue" | "svelte" => Format::Text { code: true },
            _ if name == "jenkinsfile" || name.starts_with("jenkinsfile.") => {
                Format::Text { code: true }
            }
            _ => Format::Text { code: false },
        }
    }
}

/// Reads `text` with the reader its format names. `wanted` says whether a name could matter to a
/// rule (it holds a keyword); generic readers skip the others, readers of credential files
/// keep every value.
pub(crate) fn read(format: Format, text: &str, wanted: &dyn Fn(&str) -> bool) -> Reading {
    match format {
        Format::Dotenv => dotenv::read(text, wanted),
        Format::Yaml => yaml::read(text, wanted),
        Format::Json => json::read(text, wanted),
        Format::Terraform => hcl::read(text, wanted),
        Format::TerraformState => json::read_state(text, wanted),
        Format::Ini(source) => ini::read(text, source, wanted),
        Format::Npmrc => ini::read_npmrc(text),
        Format::Netrc => netrc::read(text),
        Format::Text { .. } => Reading {
            fall_back_to_lines: true,
            ..Reading::default()
        },
    }
}

pub(crate) use lines::read as read_lines;

/// Standard or URL-safe base64, padding optional, white space (line breaks in PEM-like values)
/// ignored. None when the text is not base64.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let trimmed = compact.trim_end_matches('=');
    let engine = if trimmed.contains(['-', '_']) {
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
    } else {
        &base64::engine::general_purpose::STANDARD_NO_PAD
    };
    engine.decode(trimmed).ok()
}

/// A decoded value as text: only when it is UTF-8 and not binary, since rules match text.
pub(crate) fn decoded_text(bytes: Vec<u8>) -> Option<String> {
    if bytes.contains(&0) {
        return None;
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_path() {
        assert_eq!(Format::of("app/.env"), Format::Dotenv);
        assert_eq!(Format::of("app/.env.production"), Format::Dotenv);
        assert_eq!(Format::of("prod.env"), Format::Dotenv);
        assert_eq!(
            Format::of("infra/terraform.tfstate"),
            Format::TerraformState
        );
        assert_eq!(Format::of("infra/main.tf"), Format::Terraform);
        assert_eq!(Format::of("prod.tfvars"), Format::Terraform);
        assert_eq!(
            Format::of("home/.aws/credentials"),
            Format::Ini(Source::AwsCredentials)
        );
        assert_eq!(Format::of("home/.kube/config"), Format::Yaml);
        assert_eq!(Format::of("home/.docker/config.json"), Format::Json);
        assert_eq!(Format::of(".npmrc"), Format::Npmrc);
        assert_eq!(Format::of(".pypirc"), Format::Ini(Source::Pypirc));
        assert_eq!(Format::of("C:\\Users\\me\\_netrc"), Format::Netrc);
        assert_eq!(Format::of("src/app.py"), Format::Text { code: true });
        assert_eq!(Format::of("Dockerfile"), Format::Text { code: false });
    }

    #[test]
    fn base64_variants() {
        assert_eq!(
            decode_base64("dXNlcjpwYXNz").as_deref(),
            Some(&b"user:pass"[..])
        );
        assert_eq!(decode_base64("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(decode_base64("YQ").as_deref(), Some(&b"a"[..]));
        assert_eq!(
            decode_base64("dXNl\ncjpw\nYXNz").as_deref(),
            Some(&b"user:pass"[..])
        );
        assert_eq!(decode_base64("not base64!"), None);
    }
}
