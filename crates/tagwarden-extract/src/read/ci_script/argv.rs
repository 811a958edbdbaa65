//! Commands written as argument lists in YAML or JSON (`command: ["docker", "run", "img"]`, or
//! a script after `sh -c`), as Skaffold and Helmfile hooks, devcontainer lifecycle commands and
//! Tekton or Argo containers write them: images are reported at the list item that holds them,
//! when its bytes are exact.

use crate::read::shell;
use crate::read::yaml::{Found, NodeRef, Style};
use crate::{Extraction, Form, ImageOccurrence, Source, Span, Unresolved};

/// Container commands in an argv list (`command: ["docker", "run", "img"]`, or a script after
/// `sh -c`): images are reported at the list item that holds them, when its bytes are exact.
pub(crate) fn command_images(
    file: &str,
    argv: &[NodeRef<'_, '_>],
    source: Source,
    ctx: &str,
    built: &[String],
    out: &mut Found,
) {
    let values: Vec<Option<&str>> = argv.iter().map(|n| n.as_str()).collect();
    // `sh -c "script"`: the script is shell text of its own.
    if values
        .first()
        .copied()
        .flatten()
        .is_some_and(shell::is_shell)
    {
        if let Some(script) = shell_script(argv) {
            if escaped_one_line(file, script, source, ctx, built, out) {
                return;
            }
            let mut tmp = Extraction::default();
            super::scalar_images(file, script, source, Some(ctx), built, &|_| None, &mut tmp);
            for d in tmp.diagnostics {
                out.diagnostic(d);
            }
            for o in tmp.images {
                out.push(o);
            }
        }
        return;
    }
    // Otherwise the items are the words of one command: join them and map words back.
    let mut joined = String::new();
    let mut ranges = Vec::new();
    for v in &values {
        let Some(v) = v else { return };
        if v.is_empty() || v.contains(|c: char| c.is_whitespace() || "\"'\\$`;&|<>()#".contains(c))
        {
            // Only plain words map one to one.
            ranges.push(None);
            joined.push_str("_ ");
            continue;
        }
        let start = joined.len();
        joined.push_str(v);
        ranges.push(Some((start, joined.len())));
        joined.push(' ');
    }
    if !shell::may_name_images(&joined) {
        return;
    }
    for f in shell::commands(&joined, 0) {
        let Some(k) = ranges
            .iter()
            .position(|r| *r == Some((f.span.start, f.span.end)))
        else {
            continue;
        };
        let Some(node) = argv.get(k) else { continue };
        let Ok(image) = f.image else { continue };
        if shell::is_built(&image, built) {
            continue;
        }
        let Some(span) = node.exact_span() else {
            out.note(
                Span::new(node.start(), node.start()),
                format!("image operand {image:?} is not reported: it is written with escapes"),
            );
            continue;
        };
        let text = span.of(file).to_string();
        let image = if text == image {
            Ok(image)
        } else {
            Err(Unresolved::new("the written word differs from its value"))
        };
        out.push(ImageOccurrence {
            span,
            text,
            image,
            source,
            form: Form::Literal,
            alias_sites: node.alias_span().into_iter().collect(),
            context: Some(ctx.to_string()),
            exact: true,
        });
    }
}

/// A double-quoted script on one line with escapes (`"docker run -v \"$PWD:/p\" img"`): YAML's
/// `\"` reads like the shell's, so the written bytes are lexed as they stand and an operand
/// is reported when its bytes are its value. False when the scalar is not of that kind.
fn escaped_one_line(
    file: &str,
    script: NodeRef<'_, '_>,
    source: Source,
    ctx: &str,
    built: &[String],
    out: &mut Found,
) -> bool {
    let Some(target) = script.resolve() else {
        return false;
    };
    if target.exact_span().is_some() || target.style() != Some(Style::DoubleQuoted) {
        return false;
    }
    let b = file.as_bytes();
    let open = target.start();
    if b.get(open) != Some(&b'"') {
        return false;
    }
    let mut i = open + 1;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => break,
            b'\n' | b'\r' => return false,
            _ => i += 1,
        }
    }
    let Some(raw) = file.get(open + 1..i.min(file.len())) else {
        return false;
    };
    let mut built = built.to_vec();
    built.extend(shell::built_images(raw));
    for f in shell::commands(raw, open + 1) {
        let written = f.span.of(file);
        let Ok(image) = f.image else { continue };
        if !f.exact || written != image || shell::is_built(&image, &built) {
            continue;
        }
        out.push(ImageOccurrence {
            span: f.span,
            text: written.to_string(),
            image: Ok(image),
            source,
            form: Form::Literal,
            alias_sites: script.alias_span().into_iter().collect(),
            context: Some(ctx.to_string()),
            exact: true,
        });
    }
    true
}

/// The script of a shell started with `-c` (`sh -c SCRIPT`, `bash -ec`, `/bin/sh -o pipefail
/// -c`): the item after that option, when the list runs a shell.
pub(crate) fn shell_script<'y, 'a>(argv: &[NodeRef<'y, 'a>]) -> Option<NodeRef<'y, 'a>> {
    let shell_at = argv
        .iter()
        .position(|a| a.as_str().is_some_and(shell::is_shell))?;
    let mut i = shell_at + 1;
    while let Some(v) = argv.get(i).and_then(|a| a.as_str()) {
        if v == "-o" || v == "+o" {
            i += 2;
        } else if let Some(flags) = v.strip_prefix('-').filter(|f| !f.starts_with('-')) {
            if flags.contains('c') {
                return argv.get(i + 1).copied();
            }
            i += 1;
        } else if v.starts_with("--") {
            i += 1;
        } else {
            // A script file, or `-c` missing: no inline script.
            return None;
        }
    }
    None
}
