//! Terraform and other HCL (`*.tf`, `*.tfvars`, `*.hcl`) through the reader of
//! `tagwarden-extract`: literal strings bound to attributes and object keys, and variable and
//! output defaults under the variable's own name, declared secret when marked `sensitive`.

use tagwarden_extract::read::hcl::{self, Body, Expr, ExprKind, ObjectKey};

use super::{Assignment, Reading};
use crate::rules::Source;

pub(crate) fn read(text: &str, wanted: &dyn Fn(&str) -> bool) -> Reading {
    let file = hcl::parse(text);
    let mut out = Reading::default();
    for e in &file.errors {
        out.problems.push((e.offset, format!("HCL: {}", e.message)));
    }
    let mut path = Vec::new();
    body(&file.body, &mut path, wanted, &mut out);
    out
}

fn body(b: &Body, path: &mut Vec<String>, wanted: &dyn Fn(&str) -> bool, out: &mut Reading) {
    for block in b.blocks() {
        let label = block.labels.first().map(|(l, _)| l.as_str());
        // `variable "db_password" { default = "…" }`: the value's name is the variable's.
        if let (Some(name), "variable" | "output") = (label, block.kind.as_str()) {
            let sensitive = matches!(
                block.body.attribute("sensitive").map(|e| &e.kind),
                Some(ExprKind::Bool(true))
            );
            let key = if block.kind == "variable" {
                "default"
            } else {
                "value"
            };
            if let Some(e) = block.body.attribute(key) {
                let p = format!("{} {name:?} {key}", block.kind);
                expr(name, e, p, sensitive, wanted, out);
            }
            continue;
        }
        path.push(
            std::iter::once(block.kind.clone())
                .chain(block.labels.iter().map(|(l, _)| l.clone()))
                .collect::<Vec<_>>()
                .join("."),
        );
        body(&block.body, path, wanted, out);
        path.pop();
    }
    for attr in b.attributes() {
        let p = path
            .iter()
            .chain(std::iter::once(&attr.name))
            .cloned()
            .collect::<Vec<_>>()
            .join(".");
        expr(&attr.name, &attr.value, p, false, wanted, out);
    }
}

fn expr(
    name: &str,
    e: &Expr,
    path: String,
    declared: bool,
    wanted: &dyn Fn(&str) -> bool,
    out: &mut Reading,
) {
    match &e.kind {
        ExprKind::Template(t) => {
            if !(declared || wanted(name)) {
                return;
            }
            let Some(value) = t.literal() else { return };
            let span = t.exact_span().unwrap_or(t.content);
            out.assignments.push(
                Assignment::new(Source::Terraform, name, path, value, span).declared(declared),
            );
        }
        ExprKind::Object(items) => {
            for item in items {
                if let ObjectKey::Name(key, _) = &item.key {
                    expr(
                        key,
                        &item.value,
                        format!("{path}.{key}"),
                        declared,
                        wanted,
                        out,
                    );
                }
            }
        }
        ExprKind::Tuple(items) => {
            for (i, item) in items.iter().enumerate() {
                expr(name, item, format!("{path}[{i}]"), declared, wanted, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_variables_and_objects() {
        let t = r#"
provider "aws" {
  secret_key = "s3"
  region     = "eu-west-1"
}
variable "db_pass" {
  default   = "pw1"
  sensitive = true
}
variable "tags" { default = { api_token = "t1" } }
locals { token = "${var.x}" }
"#;
        let r = read(t, &|n| n.contains("secret") || n.contains("token"));
        let got: Vec<_> = r
            .assignments
            .iter()
            .map(|a| (a.path.as_str(), a.value.as_str(), a.span.of(t), a.declared))
            .collect();
        assert_eq!(
            got,
            [
                ("provider.aws.secret_key", "s3", "s3", false),
                ("variable \"db_pass\" default", "pw1", "pw1", true),
                ("variable \"tags\" default.api_token", "t1", "t1", false),
            ]
        );
    }
}
