//! Terraform state (format 4): every resource instance's attributes, those the provider marks
//! sensitive (`sensitive_attributes`) declared secret, and outputs marked `sensitive`. The
//! resource address names the credential.

use std::collections::HashSet;

use tagwarden_extract::yaml::{NodeRef, Style};

use super::Reading;
use super::yaml::walk;
use crate::rules::Source;

pub(crate) fn read(doc: NodeRef<'_, '_>, wanted: &dyn Fn(&str) -> bool, out: &mut Reading) {
    for resource in doc.get("resources").map(|r| r.items()).unwrap_or_default() {
        let address = {
            let kind = resource.get_str("type").unwrap_or("?");
            let name = resource.get_str("name").unwrap_or("?");
            match resource.get_str("module") {
                Some(m) => format!("{m}.{kind}.{name}"),
                None => format!("{kind}.{name}"),
            }
        };
        for (i, instance) in resource
            .get("instances")
            .map(|r| r.items())
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let sensitive = sensitive_roots(instance);
            let Some(attributes) = instance.get("attributes") else {
                continue;
            };
            let instance_address = match instance.get("index_key").and_then(|k| k.as_str()) {
                Some(k) => format!("{address}[{k:?}]"),
                None if i > 0 => format!("{address}[{i}]"),
                None => address.clone(),
            };
            for (attr, value) in attributes.entries() {
                let declared = sensitive.contains(attr);
                let mut found = Reading::default();
                let keep = |n: &str| declared || wanted(n);
                // Walk the attribute itself, so its name is the key of a scalar.
                walk_entry(attr, value, &keep, &mut found);
                for mut a in found.assignments {
                    a.path = format!("{instance_address}.{}", a.path);
                    a.account = Some(instance_address.clone());
                    a.declared = declared;
                    out.assignments.push(a);
                }
                out.embedded.extend(found.embedded);
            }
        }
    }
    if let Some(outputs) = doc.get("outputs") {
        for (name, output) in outputs.entries() {
            let declared = output.get("sensitive").and_then(|s| s.as_str()) == Some("true");
            let Some(value) = output.get("value") else {
                continue;
            };
            let mut found = Reading::default();
            let keep = |n: &str| declared || wanted(n);
            walk_entry(name, value, &keep, &mut found);
            for mut a in found.assignments {
                a.path = format!("output.{}", a.path);
                a.declared = declared;
                out.assignments.push(a);
            }
            out.embedded.extend(found.embedded);
        }
    }
}

/// Reads `value` as if it were written `name: value`, so a scalar gets `name` as its key.
fn walk_entry(
    name: &str,
    value: NodeRef<'_, '_>,
    wanted: &dyn Fn(&str) -> bool,
    out: &mut Reading,
) {
    if value.is_scalar() {
        if let Some(v) = value.as_str()
            && wanted(name)
            && value.style() != Some(Style::Plain)
        {
            let span = super::yaml::scalar_span(value);
            out.assignments.push(super::Assignment::new(
                Source::TerraformState,
                name,
                name.to_string(),
                v.to_string(),
                span,
            ));
        }
        return;
    }
    let mut found = Reading::default();
    walk(value, Source::TerraformState, wanted, &mut found);
    for mut a in found.assignments {
        a.path = format!("{name}.{}", a.path);
        out.assignments.push(a);
    }
    out.embedded.extend(found.embedded);
}

/// The top-level attribute names of `sensitive_attributes`: lists of steps
/// (`[{"type": "get_attr", "value": "password"}]`), or (newer state) the steps themselves.
fn sensitive_roots(instance: NodeRef<'_, '_>) -> HashSet<String> {
    let mut out = HashSet::new();
    for path in instance
        .get("sensitive_attributes")
        .map(|s| s.items())
        .unwrap_or_default()
    {
        let first = if path.is_sequence() {
            path.items().into_iter().next()
        } else {
            Some(path)
        };
        if let Some(step) = first
            && step.get_str("type") == Some("get_attr")
            && let Some(v) = step.get_str("value")
        {
            out.insert(v.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::json::read_state;

    #[test]
    fn sensitive_attributes_and_outputs() {
        let t = r#"{"version": 4, "terraform_version": "1.9.0", "resources": [
 {"mode": "managed", "type": "aws_iam_access_key", "name": "ci", "instances": [
  {"attributes": {"id": "AKIAX", "secret": "s3cr3t", "user": "ci", "count": 2},
   "sensitive_attributes": [[{"type": "get_attr", "value": "secret"}]]}]}],
 "outputs": {"db_password": {"value": "pw1", "type": "string", "sensitive": true},
             "endpoint": {"value": "db.internal", "type": "string"}}}"#;
        let r = read_state(t, &|n| n.contains("password"));
        let got: Vec<_> = r
            .assignments
            .iter()
            .map(|a| (a.path.as_str(), a.value.as_str(), a.declared, a.span.of(t)))
            .collect();
        assert_eq!(
            got,
            [
                ("aws_iam_access_key.ci.secret", "s3cr3t", true, "s3cr3t"),
                ("output.db_password", "pw1", true, "pw1"),
            ]
        );
    }
}
