//! Docker Bake files (`docker-bake.hcl`, `docker-bake*.json`): the images a build pulls that
//! the file names.
//!
//! - `contexts` values written `docker-image://…` (a named build context replaced by an
//!   image): the reference is the text after the prefix, exact when the string is plain;
//! - build `args` whose name ends in `IMAGE` (`BASE_IMAGE = "node:22"`), which Dockerfiles read
//!   as `FROM ${BASE_IMAGE}`: the value is what the build pulls;
//! - `FROM` and friends in `dockerfile-inline` heredocs, read by the Dockerfile extractor at
//!   their place in the file.
//!
//! `${NAME}` resolves to `variable "NAME" { default = … }` when the file defines it once; an
//! environment variable of that name overrides the default when Bake runs, which a file scan
//! cannot know. `tags` name what a target builds, and other contexts (directories, `target:`,
//! Git and HTTP URLs, `oci-layout://`) are not images; `cache-from`/`cache-to` are build caches.

use std::collections::HashMap;

use crate::read::hcl::{self, Expr, ExprKind, Node, TemplatePart};
use crate::read::json;
use crate::read::placeholder::placeholder_reason;
use crate::{Extraction, Form, ImageOccurrence, Origin, Source, Span, Unresolved};

/// The scheme of a context that is an image.
const IMAGE_SCHEME: &str = "docker-image://";

/// Finds the image references of one file.
pub fn extract(text: &str) -> Extraction {
    let mut out = Extraction::default();
    let is_json = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('{');
    if is_json {
        let masked = json::mask(text);
        let yaml = json::parse(&masked, &mut out);
        if let Some(root) = yaml.documents().next() {
            let root = hcl::from_json(root, text, true);
            let top = Node::Expr(&root);
            let mut vars: HashMap<&str, Vec<Option<&Expr>>> = HashMap::new();
            let mut targets = Vec::new();
            for v in top.children("variable") {
                for (name, def) in v.entries() {
                    vars.entry(name).or_default().push(def.attr("default"));
                }
            }
            for t in top.children("target") {
                targets.extend(t.entries());
            }
            Bake { text, vars }.targets(&targets, &mut out);
        }
    } else {
        let file = hcl::parse(text);
        for e in &file.errors {
            out.parse_error(Span::new(e.offset, e.offset), format!("HCL: {}", e.message));
        }
        let mut vars: HashMap<&str, Vec<Option<&Expr>>> = HashMap::new();
        let mut targets = Vec::new();
        for b in file.body.blocks() {
            let Some((label, _)) = b.labels.first() else {
                continue;
            };
            match b.kind.as_str() {
                "variable" => vars
                    .entry(label.as_str())
                    .or_default()
                    .push(b.body.attribute("default")),
                "target" => targets.push((label.as_str(), Node::Body(&b.body))),
                _ => {}
            }
        }
        Bake { text, vars }.targets(&targets, &mut out);
    }
    out
}

struct Bake<'t, 'h> {
    text: &'t str,
    vars: HashMap<&'h str, Vec<Option<&'h Expr>>>,
}

impl<'h> Bake<'_, 'h> {
    fn lookup(&self, path: &[String]) -> Option<Result<(&'h Expr, String), Unresolved>> {
        let [name] = path else {
            return None;
        };
        Some(match self.vars.get(name.as_str()).map(Vec::as_slice) {
            None => Err(Unresolved::new(format!(
                "{name} is not a variable of this file: its value comes from the environment"
            ))),
            Some([Some(def)]) => Ok((*def, name.clone())),
            Some([None]) => Err(Unresolved::new(format!(
                "variable {name} has no default: its value comes from the environment"
            ))),
            Some(defs) => Err(Unresolved::new(format!(
                "variable {name} is defined {} times",
                defs.len()
            ))),
        })
    }

    fn targets(&self, targets: &[(&str, Node<'_>)], out: &mut Extraction) {
        // Inline Dockerfiles are parsed over a copy of the file's prefix: bound the total.
        let mut budget = self.text.len().saturating_mul(8).max(1 << 20);
        for (name, body) in targets {
            for contexts in body.children("contexts") {
                for (key, value) in contexts.entries() {
                    if let Some(e) = value.expr() {
                        let ctx = format!("target.{name} contexts.{key}");
                        self.context(e, ctx, out);
                    }
                }
            }
            for args in body.children("args") {
                for (key, value) in args.entries() {
                    if let Some(e) = value.expr()
                        && key.to_ascii_uppercase().ends_with("IMAGE")
                    {
                        self.arg(e, format!("target.{name} args.{key}"), out);
                    }
                }
            }
            for inline in body.children("dockerfile-inline") {
                if let Some(t) = inline.expr().and_then(Expr::as_template) {
                    if t.content.end > budget {
                        continue;
                    }
                    budget -= t.content.end;
                    self.inline_dockerfile(t, name, out);
                }
            }
        }
    }

    /// A `contexts` value: `docker-image://ref`.
    fn context(&self, e: &Expr, context: String, out: &mut Extraction) {
        let Some(t) = e.as_template() else { return };
        let Some(TemplatePart::Literal { value, span, exact }) = t.parts.first() else {
            return;
        };
        if !value.starts_with(IMAGE_SCHEME) {
            return;
        }
        // The reference starts after the scheme; only an escape-free prefix maps to bytes.
        let start = if *exact {
            span.start + IMAGE_SCHEME.len()
        } else {
            t.content.start
        };
        let span = Span::new(start.min(t.content.end), t.content.end);
        let lookup = |p: &[String]| self.lookup(p);
        let (image, form) = match hcl::evaluate(e, self.text, &lookup) {
            Ok((v, origins)) => {
                let image = v.strip_prefix(IMAGE_SCHEME).unwrap_or(&v).to_string();
                let form = if t.exact_span().is_some() {
                    Form::Literal
                } else {
                    Form::Expanded { origins }
                };
                (checked(image), form)
            }
            Err(u) => (
                Err(u),
                Form::Expanded {
                    origins: Vec::new(),
                },
            ),
        };
        let exact = form == Form::Literal && *exact;
        push(
            out,
            self.text,
            span,
            image,
            Source::BakeContext,
            form,
            context,
            exact,
        );
    }

    /// A build argument holding an image.
    fn arg(&self, e: &Expr, context: String, out: &mut Extraction) {
        let lookup = |p: &[String]| self.lookup(p);
        let (span, image, form, exact) = match &e.kind {
            ExprKind::Template(t) => match (t.literal(), t.exact_span()) {
                (Some(v), Some(span)) => (span, checked(v), Form::Literal, true),
                (Some(v), None) => (t.content, checked(v), Form::Literal, false),
                _ => {
                    let (image, form) = expanded(hcl::evaluate(e, self.text, &lookup));
                    (t.content, image.and_then(checked), form, false)
                }
            },
            ExprKind::Traversal(_) => {
                let (image, form) = expanded(hcl::evaluate(e, self.text, &lookup));
                (e.span, image.and_then(checked), form, false)
            }
            _ => return,
        };
        if image.as_ref().is_ok_and(|i| i.trim().is_empty()) {
            return;
        }
        push(
            out,
            self.text,
            span,
            image,
            Source::BakeArg,
            form,
            context,
            exact,
        );
    }

    /// `dockerfile-inline`: the Dockerfile extractor, at the heredoc's place in the file.
    fn inline_dockerfile(&self, t: &hcl::Template, target: &str, out: &mut Extraction) {
        if !(t.heredoc || t.raw_is_value()) {
            out.note(
                t.content,
                format!(
                    "the inline Dockerfile of target {target} is written with escapes and is not read"
                ),
            );
            return;
        }
        let isolated = hcl::isolate(self.text, t.content);
        let found = crate::extract_embedded(crate::FileKind::Dockerfile, &isolated);
        for mut occ in found.images {
            occ.context = Some(match occ.context {
                Some(c) => format!("target.{target} dockerfile-inline {c}"),
                None => format!("target.{target} dockerfile-inline"),
            });
            out.push_image(occ);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn push(
    out: &mut Extraction,
    text: &str,
    span: Span,
    image: Result<String, Unresolved>,
    source: Source,
    form: Form,
    context: String,
    exact: bool,
) {
    out.push_image(ImageOccurrence {
        span,
        text: span.of(text).to_string(),
        image,
        source,
        form,
        alias_sites: Vec::new(),
        context: Some(context),
        exact,
    });
}

fn expanded(r: Result<(String, Vec<Origin>), Unresolved>) -> (Result<String, Unresolved>, Form) {
    match r {
        Ok((value, origins)) => (Ok(value), Form::Expanded { origins }),
        Err(u) => (
            Err(u),
            Form::Expanded {
                origins: Vec::new(),
            },
        ),
    }
}

fn checked(image: String) -> Result<String, Unresolved> {
    if let Some(reason) = placeholder_reason(&image) {
        return Err(Unresolved::new(reason));
    }
    if image.trim().is_empty() || image.chars().any(char::is_whitespace) {
        return Err(Unresolved::new(format!(
            "{image:?} is not an image reference"
        )));
    }
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Found = (String, Result<String, String>, Source, bool, String);

    fn found(t: &str) -> Vec<Found> {
        let out = crate::extract(crate::FileKind::Bake, t);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        out.images
            .iter()
            .map(|o| {
                assert_eq!(o.text, o.span.of(t));
                (
                    o.text.clone(),
                    o.image.clone().map_err(|u| u.reason),
                    o.source,
                    o.exact,
                    o.context.clone().unwrap_or_default(),
                )
            })
            .collect()
    }

    const HCL: &str = r#"// Bake file
variable "TAG" {
  default = "latest"
}
variable "BASE" {
  default = "alpine:3.20"
}
variable "REGISTRY" {}

group "default" {
  targets = ["app", "docs"]
}

target "app" {
  context    = "."
  dockerfile = "Dockerfile"
  contexts = {
    alpine  = "docker-image://alpine:3.20"
    base    = "docker-image://${BASE}"
    node    = "docker-image://node:${TAG}"
    private = "docker-image://${REGISTRY}/base:1"
    src     = "../src"
    stage   = "target:base"
    layout  = "oci-layout://./layout"
  }
  args = {
    BUILDER_IMAGE = "golang:1.23"
    GO_VERSION    = "1.23"
  }
  tags       = ["me/app:${TAG}"]
  cache-from = ["type=registry,ref=me/app:cache"]
}

target "docs" {
  dockerfile-inline = <<EOT
FROM python:3.12-slim AS build
RUN pip install mkdocs
FROM nginx:1.27
COPY --from=build /site /usr/share/nginx/html
EOT
}
"#;

    #[test]
    fn hcl_contexts_args_and_inline_dockerfiles() {
        let got = found(HCL);
        let short: Vec<_> = got
            .iter()
            .map(|(text, image, source, exact, _)| {
                (
                    text.as_str(),
                    image.clone().unwrap_or_else(|e| format!("ERR {e}")),
                    *source,
                    *exact,
                )
            })
            .collect();
        assert_eq!(
            short,
            vec![
                (
                    "alpine:3.20",
                    "alpine:3.20".to_string(),
                    Source::BakeContext,
                    true
                ),
                (
                    "${BASE}",
                    "alpine:3.20".to_string(),
                    Source::BakeContext,
                    false
                ),
                (
                    "node:${TAG}",
                    "node:latest".to_string(),
                    Source::BakeContext,
                    false
                ),
                (
                    "${REGISTRY}/base:1",
                    "ERR variable REGISTRY has no default: its value comes from the environment"
                        .to_string(),
                    Source::BakeContext,
                    false
                ),
                (
                    "golang:1.23",
                    "golang:1.23".to_string(),
                    Source::BakeArg,
                    true
                ),
                (
                    "python:3.12-slim",
                    "python:3.12-slim".to_string(),
                    Source::DockerfileFrom,
                    true
                ),
                (
                    "nginx:1.27",
                    "nginx:1.27".to_string(),
                    Source::DockerfileFrom,
                    true
                ),
            ]
        );
        assert_eq!(got[0].4, "target.app contexts.alpine");
        assert_eq!(got[4].4, "target.app args.BUILDER_IMAGE");
        assert!(got[5].4.starts_with("target.docs dockerfile-inline"));
        let out = extract(HCL);
        let Form::Expanded { origins } = &out.images[1].form else {
            panic!()
        };
        assert_eq!(origins[0].span.of(HCL), "alpine:3.20");
        assert_eq!(origins[0].name, "BASE");
    }

    #[test]
    fn crlf() {
        let t = HCL.replace('\n', "\r\n");
        let got = found(&t);
        assert_eq!(got.len(), 7);
        assert_eq!(got[0].0, "alpine:3.20");
        assert_eq!(got[6].0, "nginx:1.27");
    }

    #[test]
    fn json_form() {
        let t = r#"{
  "variable": { "BASE": { "default": "debian:bookworm" } },
  "target": {
    "app": {
      "contexts": {
        "debian": "docker-image://${BASE}",
        "busybox": "docker-image://busybox:1.36@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "src": "./src"
      },
      "args": { "BASE_IMAGE": "node:22" },
      "tags": ["me/app:latest"]
    }
  }
}"#;
        let got = found(t);
        let short: Vec<_> = got
            .iter()
            .map(|(text, image, _, exact, _)| (text.as_str(), image.clone().unwrap(), *exact))
            .collect();
        assert_eq!(
            short,
            vec![
                ("${BASE}", "debian:bookworm".to_string(), false),
                (
                    "busybox:1.36@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                    "busybox:1.36@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                        .to_string(),
                    true
                ),
                ("node:22", "node:22".to_string(), true),
            ]
        );
    }

    #[test]
    fn errors_and_hostile_input() {
        let t = "target \"a\" {\n  contexts = {\n    x = \"docker-image://alpine:3\n  }\n}\ntarget \"b\" {\n  contexts = { y = \"docker-image://redis:7\" }\n}\n";
        let out = extract(t);
        assert!(!out.diagnostics.is_empty());
        assert_eq!(
            out.diagnostics[0].span.start,
            t.find("\"docker-image://alpine").unwrap()
        );
        assert!(out.images.iter().any(|o| o.span.of(t) == "redis:7"));
        for t in [
            "target \"a\" { contexts = ".to_string() + &"{ a = ".repeat(50_000),
            "{\"target\": ".repeat(50_000),
            "variable \"A\" { default = \"${B}\" }\nvariable \"B\" { default = \"${A}\" }\ntarget \"t\" { contexts = { a = \"docker-image://${A}\" } }\n".to_string(),
        ] {
            let out = extract(&t);
            for o in &out.images {
                assert_eq!(o.text, o.span.of(&t));
            }
        }
    }
}
