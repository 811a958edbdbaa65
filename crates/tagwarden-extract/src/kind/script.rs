//! Shell scripts and Makefile recipes: the image operands of their container commands
//! (`docker|podman|nerdctl run|create|pull`) and the `docker-image://` build contexts of their
//! builds, found by [`crate::read::shell::commands`].
//!
//! A shell variable in an operand (`docker run "$IMAGE"`, `${IMAGE:-default}`) is expanded when
//! the script assigns it exactly once, at top level, to a literal (`IMAGE=x`, `export IMAGE="x"`,
//! `IMAGE=${IMAGE:-x}`, `: "${IMAGE:=x}"`); the origin is that literal. A variable assigned more
//! than once, inside a function or conditional, or from an expansion makes the operand
//! unresolved; one never assigned leaves only its `${X:-default}`. Heredoc bodies and comments
//! are not commands; a heredoc that holds a Kubernetes manifest (`cat <<EOF | kubectl apply -f
//! -`) is read as one.
//!
//! Makefiles: recipe lines (tab-indented after a rule, or after `;` on the rule's line), with
//! their `@`/`-`/`+` prefixes and `\` continuations; each one is a shell command line. Make
//! expands `$(VAR)` / `${VAR}` first (`$$` is a `$` for the shell): a variable defined exactly once
//! with `=`, `:=`, `::=` or `?=` to a literal value is substituted with its origin at the value;
//! anything else (`+=`, `!=`, target-specific or repeated definitions, functions, automatic
//! variables, shell variables) is unresolved. `define` blocks are skipped. A variable whose value
//! is the engine itself (`DOCKER ?= docker`, then `$(DOCKER) run …`) is followed.
//!
//! Images the file builds itself (`docker build -t name`) are not reported when it runs them.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::read::shell::{self, ShellImage, ShellImageKind};
use crate::read::vars::{self, Syntax, Value};
use crate::{Extraction, Form, ImageOccurrence, Origin, Source, Span, Unresolved};

/// Finds the image references of a shell script.
pub fn extract_shell(text: &str) -> Extraction {
    let mut out = Extraction::default();
    let mut defs = Definitions::default();
    for a in shell::assignments(text, 0) {
        let literal = a.literal.filter(|_| a.top_level);
        defs.add(&a.name, literal);
    }
    let lexed = lexing_text(text, Dialect::Shell, &defs);
    let built = built_values(&lexed, Dialect::Shell, &defs);
    for f in shell::commands(&lexed, 0) {
        report(
            text,
            &lexed,
            f,
            Site {
                source: Source::ScriptCommand,
                context: None,
                dialect: Dialect::Shell,
            },
            &defs,
            &built,
            &mut out,
        );
    }
    // Offsets of `lexed` are those of `text`; only the bytes of variables changed.
    for occ in shell::heredoc_manifests(text) {
        out.push_image(occ);
    }
    out
}

/// Finds the image references of a Makefile.
pub fn extract_makefile(text: &str) -> Extraction {
    let mut out = Extraction::default();
    let parsed = parse_makefile(text, &mut out);
    let mut defs = Definitions::default();
    for (name, literal) in &parsed.definitions {
        defs.add(name, literal.clone());
    }
    let lexed = lexing_text(text, Dialect::Make, &defs);
    let mut built = Built::default();
    for r in &parsed.recipes {
        let line = lexed.get(r.span.start..r.span.end).unwrap_or("");
        let more = built_values(line, Dialect::Make, &defs);
        built.raw.extend(more.raw);
        built.values.extend(more.values);
    }
    for r in &parsed.recipes {
        let line = lexed.get(r.span.start..r.span.end).unwrap_or("");
        for f in shell::commands(line, r.span.start) {
            report(
                text,
                &lexed,
                f,
                Site {
                    source: Source::MakefileCommand,
                    context: Some(r.target.as_str()),
                    dialect: Dialect::Make,
                },
                &defs,
                &built,
                &mut out,
            );
        }
    }
    out
}

/// Whose variable syntax an operand is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dialect {
    Shell,
    Make,
}

/// Where an operand was found, for its occurrence.
struct Site<'c> {
    source: Source,
    context: Option<&'c str>,
    dialect: Dialect,
}

/// What the file says of each variable: its one literal definition, or that it has none
/// (several definitions, or one that is not literal).
#[derive(Default)]
struct Definitions {
    by_name: HashMap<String, Option<(String, Span)>>,
}

impl Definitions {
    fn add(&mut self, name: &str, literal: Option<(String, Span)>) {
        match self.by_name.get_mut(name) {
            // A second definition: the value at run time is not known.
            Some(known) => *known = None,
            None => {
                self.by_name.insert(name.to_string(), literal);
            }
        }
    }

    /// The literal value of a variable defined once, with its origin.
    fn literal(&self, name: &str) -> Option<Value> {
        let (value, span) = self.by_name.get(name)?.as_ref()?;
        Some(Value {
            value: value.clone(),
            origin: Some(Origin {
                name: name.to_string(),
                span: *span,
            }),
        })
    }

    /// True when the file defines the variable but its value is not known.
    fn unknown(&self, name: &str) -> bool {
        self.by_name.get(name).is_some_and(Option::is_none)
    }
}

/// Names the file builds, as written (`$IMAGE`) and as resolved.
#[derive(Default)]
struct Built {
    raw: Vec<String>,
    values: Vec<String>,
}

fn built_values(lexed: &str, dialect: Dialect, defs: &Definitions) -> Built {
    let raw = shell::built_images(lexed);
    let values = raw
        .iter()
        .filter_map(|r| resolve(r, 0, dialect, defs).ok().map(|(v, _)| v))
        .collect();
    Built { raw, values }
}

/// Records one operand found in `lexed` (the file's text with `$(X)` written `${X}` and engine
/// variables replaced, byte for byte at the same offsets).
fn report(
    text: &str,
    lexed: &str,
    f: ShellImage,
    site: Site<'_>,
    defs: &Definitions,
    built: &Built,
    out: &mut Extraction,
) {
    let raw = f.span.of(text);
    let lexed_raw = f.span.of(lexed);
    if built.raw.iter().any(|b| b == lexed_raw) {
        return;
    }
    let (image, form) = match f.image {
        Ok(image) => (Ok(image), Form::Literal),
        Err(reason) => match resolve(raw, f.span.start, site.dialect, defs) {
            Ok((value, origins)) => (Ok(value), Form::Expanded { origins }),
            Err(why) => (
                Err(if why.is_empty() { reason } else { why }),
                Form::Expanded {
                    origins: Vec::new(),
                },
            ),
        },
    };
    if image
        .as_ref()
        .is_ok_and(|i| f.kind == ShellImageKind::Operand && shell::is_built(i, &built.values))
    {
        return;
    }
    out.push_image(ImageOccurrence {
        span: f.span,
        text: raw.to_string(),
        image: image.map_err(Unresolved::new),
        source: match f.kind {
            ShellImageKind::Operand => site.source,
            ShellImageKind::BuildContext => Source::BuildContext,
        },
        form,
        alias_sites: Vec::new(),
        context: site.context.map(str::to_string),
        exact: f.exact,
    });
}

/// The value of an operand written with variables, at offset `at` of the file; or why it is
/// not known (empty: the lexer's own reason stands).
fn resolve(
    raw: &str,
    at: usize,
    dialect: Dialect,
    defs: &Definitions,
) -> Result<(String, Vec<Origin>), String> {
    let expanded = match dialect {
        Dialect::Shell => {
            if raw.contains(['\'', '"', '\\', '`']) || raw.contains("$(") {
                return Err(String::new());
            }
            if let Some(name) = referenced_names(raw).find(|n| defs.unknown(n)) {
                return Err(format!(
                    "variable {name} is assigned more than once, conditionally or from an expansion"
                ));
            }
            vars::expand(raw, at, Syntax::default(), &|n| defs.literal(n)).map_err(|u| u.reason)?
        }
        Dialect::Make => make_expand(raw, defs)?,
    };
    if !shell::looks_like_image(&expanded.value) {
        return Err(format!(
            "{raw} expands to {:?}, which is not an image reference",
            expanded.value
        ));
    }
    Ok((expanded.value, expanded.origins))
}

/// The names of `$NAME` and `${NAME…}` references in shell text.
fn referenced_names(raw: &str) -> impl Iterator<Item = &str> {
    raw.match_indices('$').filter_map(move |(i, _)| {
        let rest = raw.get(i + 1..)?;
        let rest = rest.strip_prefix('{').unwrap_or(rest);
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        rest.get(..end).filter(|n| !n.is_empty())
    })
}

/// Make's expansion of recipe text: `$(NAME)` / `${NAME}` from literal definitions, `$$` as `$`
/// (which leaves a shell variable: unresolved).
fn make_expand(raw: &str, defs: &Definitions) -> Result<vars::Expanded, String> {
    let mut out = vars::Expanded {
        value: String::new(),
        origins: Vec::new(),
    };
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            let next = raw
                .get(i..)
                .and_then(|r| r.find('$'))
                .map_or(b.len(), |n| i + n);
            out.value.push_str(raw.get(i..next).unwrap_or(""));
            i = next;
            continue;
        }
        let close = match b.get(i + 1) {
            Some(b'(') => b')',
            Some(b'{') => b'}',
            Some(b'$') => {
                return Err(format!(
                    "{raw} uses a shell variable (`$$`), set when the recipe runs"
                ));
            }
            _ => {
                return Err(format!(
                    "{raw} uses an automatic or one-letter make variable"
                ));
            }
        };
        let end = raw
            .get(i + 2..)
            .and_then(|r| r.find(close as char))
            .map(|n| i + 2 + n)
            .ok_or_else(|| format!("unterminated make variable in {raw}"))?;
        let name = raw.get(i + 2..end).unwrap_or("");
        let plain_name = !name.is_empty()
            && name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'));
        if !plain_name {
            return Err(format!(
                "$({name}) is a make function or substitution, evaluated when make runs"
            ));
        }
        let value = defs.literal(name).ok_or_else(|| {
            if defs.unknown(name) {
                format!("make variable {name} is defined more than once or not literally")
            } else {
                format!("make variable {name} has no definition in this file")
            }
        })?;
        out.value.push_str(&value.value);
        out.origins.extend(value.origin);
        i = end + 1;
    }
    Ok(out)
}

/// The text the shell lexer reads, byte for byte at the file's offsets. In a Makefile every
/// `$(…)` is written `${…}`, so that the lexer keeps it in one word as make does. A reference to
/// a variable whose literal value is a container engine is replaced by that value padded with
/// spaces, so that `$(DOCKER) run x` is read as `docker run x`.
fn lexing_text<'t>(text: &'t str, dialect: Dialect, defs: &Definitions) -> Cow<'t, str> {
    let b = text.as_bytes();
    let mut lexed: Option<Vec<u8>> = None;
    let mut i = 0;
    while let Some(n) = b.get(i..).and_then(|r| memchr::memchr(b'$', r)) {
        i += n;
        let next = b.get(i + 1).copied();
        if dialect == Dialect::Make && next == Some(b'$') {
            i += 2;
            continue;
        }
        if dialect == Dialect::Make
            && next == Some(b'(')
            && let Some(close) = matching_paren(b, i + 1)
        {
            let bytes = lexed.get_or_insert_with(|| b.to_vec());
            bytes[i + 1] = b'{';
            bytes[close] = b'}';
        }
        if let Some((len, name)) = plain_reference(text, i, dialect)
            && let Some(v) = defs.literal(name).map(|v| v.value)
            && shell::is_engine(&v)
            && v.len() <= len
            && v.is_ascii()
        {
            let bytes = lexed.get_or_insert_with(|| b.to_vec());
            let padded = v.bytes().chain(std::iter::repeat(b' '));
            for (slot, c) in bytes.iter_mut().skip(i).take(len).zip(padded) {
                *slot = c;
            }
        }
        i += 1;
    }
    match lexed {
        // Only ASCII bytes were replaced by ASCII bytes: still UTF-8.
        Some(bytes) => Cow::Owned(String::from_utf8(bytes).unwrap_or_else(|_| text.to_string())),
        None => Cow::Borrowed(text),
    }
}

/// The `)` matching the `(` at `open`, counting nesting, within one line.
fn matching_paren(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, &c) in b.iter().enumerate().skip(open) {
        match c {
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(k);
                }
            }
            b'\n' => return None,
            _ => {}
        }
    }
    None
}

/// A reference to one variable by name at `i` (`$NAME`, `${NAME}`, and in make `$(NAME)`): its
/// length and the name.
fn plain_reference(text: &str, i: usize, dialect: Dialect) -> Option<(usize, &str)> {
    let rest = text.get(i + 1..)?;
    let close = match rest.as_bytes().first()? {
        b'{' => Some('}'),
        b'(' if dialect == Dialect::Make => Some(')'),
        _ if dialect == Dialect::Shell => None,
        _ => return None,
    };
    let body = if close.is_some() {
        rest.get(1..)?
    } else {
        rest
    };
    let len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .unwrap_or(body.len());
    let name = body.get(..len).filter(|n| !n.is_empty())?;
    match close {
        Some(c) => body.get(len..)?.starts_with(c).then_some((len + 3, name)),
        None => {
            let shell_len = name
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(name.len());
            name.get(..shell_len)
                .filter(|n| !n.is_empty())
                .map(|n| (n.len() + 1, n))
        }
    }
}

/// One recipe line of a Makefile (its continuation lines included), after the tab and the
/// `@`/`-`/`+` prefixes.
#[derive(Debug)]
struct Recipe {
    span: Span,
    target: String,
}

/// What a Makefile defines and runs.
#[derive(Debug, Default)]
struct Makefile {
    /// Every definition of a variable, in order: the literal value and its span, when it has one.
    definitions: Vec<(String, Option<(String, Span)>)>,
    recipes: Vec<Recipe>,
}

/// Lines a Makefile may have before the rest is ignored (bounded work on hostile input).
const MAX_MAKEFILE_LINES: usize = 200_000;

fn parse_makefile(text: &str, out: &mut Extraction) -> Makefile {
    let mut mk = Makefile::default();
    let mut target: Option<String> = None;
    let mut in_define = false;
    for (n, (start, end)) in logical_lines(text).enumerate() {
        if n >= MAX_MAKEFILE_LINES {
            out.note(
                Span::new(start, start),
                "Makefile too long: the rest is not read",
            );
            break;
        }
        let line = text.get(start..end).unwrap_or("");
        let trimmed = line.trim_start();
        let first = trimmed.split_whitespace().next().unwrap_or("");
        if in_define {
            in_define = first != "endef";
            continue;
        }
        if let (Some(t), Some(body)) = (&target, line.strip_prefix('\t')) {
            mk.recipes.extend(recipe(body, start + 1, t));
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = trimmed.split_whitespace().take(3).collect();
        if let Some(at) = words.iter().position(|w| *w == "define")
            && words.get(..at).is_some_and(|m| {
                m.iter()
                    .all(|w| matches!(*w, "override" | "export" | "private"))
            })
        {
            // A multi-line value: its name is defined, not literally.
            if let Some(name) = words.get(at + 1) {
                mk.definitions
                    .push((name.trim_end_matches('=').to_string(), None));
            }
            in_define = true;
            continue;
        }
        if matches!(
            first,
            "ifeq" | "ifneq" | "ifdef" | "ifndef" | "else" | "endif"
        ) {
            continue;
        }
        let code_start = start + (line.len() - trimmed.len());
        if let Some(def) = assignment(trimmed, code_start) {
            mk.definitions.push(def);
            target = None;
            continue;
        }
        match rule(trimmed) {
            Some((targets, rest)) => {
                // `target: VAR = value` sets VAR for that target only: another definition.
                let rest_start = code_start + (trimmed.len() - rest.len());
                if let Some((name, _)) = assignment(rest.trim_start(), rest_start) {
                    mk.definitions.push((name, None));
                    target = None;
                    continue;
                }
                let name = targets.trim().to_string();
                if let Some(semi) = rest.find(';') {
                    let body = rest.get(semi + 1..).unwrap_or("");
                    mk.recipes
                        .extend(recipe(body, rest_start + semi + 1, &name));
                }
                target = Some(name);
            }
            None => target = None,
        }
    }
    mk
}

/// The recipe line `body` written at `at`, without its prefixes.
fn recipe(body: &str, at: usize, target: &str) -> Option<Recipe> {
    let code = body.trim_start_matches(['@', '-', '+', ' ', '\t']);
    let start = at + body.len() - code.len();
    (!code.trim().is_empty()).then(|| Recipe {
        span: Span::new(start, at + body.len()),
        target: target.to_string(),
    })
}

/// `NAME op value` with op one of `=`, `:=`, `::=`, `:::=`, `?=`, `+=`, `!=`: the name and, for a
/// literal value set once by `=`/`:=`/`::=`/`:::=`/`?=`, the value and its span.
fn assignment(line: &str, at: usize) -> Option<(String, Option<(String, Span)>)> {
    let mut rest = line;
    loop {
        let word = rest.split_whitespace().next()?;
        if matches!(word, "override" | "export" | "private" | "unexport") {
            rest = rest.trim_start().get(word.len()..)?.trim_start();
        } else {
            break;
        }
    }
    let name_len = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '=' | ':' | '?' | '+' | '!'))
        .unwrap_or(rest.len());
    let name = rest.get(..name_len)?;
    if name.is_empty() || name.contains(['$', '(', ')', '%']) {
        return None;
    }
    let after = rest.get(name_len..)?.trim_start();
    let op = [":::=", "::=", ":=", "?=", "+=", "!=", "="]
        .into_iter()
        .find(|op| after.starts_with(op))?;
    let value_raw = after.get(op.len()..)?;
    // A comment ends the value; surrounding blanks are not part of it.
    let value = value_raw.split('#').next().unwrap_or("").trim();
    let offset = line.len() - value_raw.len() + (value_raw.len() - value_raw.trim_start().len());
    let literal = (matches!(op, "=" | ":=" | "::=" | ":::=" | "?=")
        && !value.is_empty()
        && !value.contains(['$', '\\']))
    .then(|| {
        (
            value.to_string(),
            Span::new(at + offset, at + offset + value.len()),
        )
    });
    Some((name.to_string(), literal))
}

/// `targets: prerequisites` (also `::` and `&:`): the targets and what follows the colon.
fn rule(line: &str) -> Option<(&str, &str)> {
    let colon = line.find(':')?;
    let targets = line.get(..colon)?.trim_end_matches('&');
    let rest = line.get(colon + 1..)?;
    let rest = rest.strip_prefix(':').unwrap_or(rest);
    (!targets.trim().is_empty() && !rest.starts_with('=')).then_some((targets, rest))
}

/// Logical lines (`\` continuations joined) as byte ranges without the line ending.
fn logical_lines(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= text.len() {
            return None;
        }
        let start = at;
        loop {
            let rest = text.get(at..).unwrap_or("");
            let len = rest.find('\n').unwrap_or(rest.len());
            let line = rest.get(..len).unwrap_or("").trim_end_matches('\r');
            let end = at + line.len();
            at += (len + 1).min(rest.len().max(1));
            // An odd number of trailing backslashes continues the line.
            let slashes = line.len() - line.trim_end_matches('\\').len();
            if slashes % 2 == 0 || at >= text.len() {
                return Some((start, end));
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    type Row<'t> = (&'t str, Result<String, String>, Source, bool);

    fn rows<'t>(t: &'t str, out: &Extraction) -> Vec<Row<'t>> {
        out.images
            .iter()
            .map(|o| {
                assert_eq!(o.text, o.span.of(t));
                (
                    o.span.of(t),
                    o.image.clone().map_err(|e| e.reason),
                    o.source,
                    o.exact,
                )
            })
            .collect()
    }

    fn ok(s: &str) -> Result<String, String> {
        Ok(s.to_string())
    }

    #[test]
    fn scan_script_with_kics_and_trivy() {
        let t = "#!/usr/bin/env bash\n\
set -euo pipefail\n\
# docker run --rm commented/out:1\n\
TRIVY=aquasec/trivy:0.69.4\n\
docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\n\
docker run --rm \"$TRIVY\" fs .\n\
cat > notes.md <<'EOF'\n\
docker run not/a:command\n\
EOF\n\
podman pull ${SCANNER:-ghcr.io/acme/scanner:2}\n";
        let out = extract_shell(t);
        assert_eq!(
            rows(t, &out),
            [
                (
                    "checkmarx/kics:latest",
                    ok("checkmarx/kics:latest"),
                    Source::ScriptCommand,
                    true
                ),
                (
                    "$TRIVY",
                    ok("aquasec/trivy:0.69.4"),
                    Source::ScriptCommand,
                    false
                ),
                (
                    "${SCANNER:-ghcr.io/acme/scanner:2}",
                    ok("ghcr.io/acme/scanner:2"),
                    Source::ScriptCommand,
                    false
                ),
            ]
        );
        let origin = |i: usize| match &out.images[i].form {
            Form::Expanded { origins } => origins.iter().map(|o| o.span.of(t)).collect::<Vec<_>>(),
            f => panic!("{f:?}"),
        };
        assert_eq!(origin(1), ["aquasec/trivy:0.69.4"]);
        assert_eq!(origin(2), ["ghcr.io/acme/scanner:2"]);
        assert_eq!(out.images[0].form, Form::Literal);
        assert!(out.diagnostics.is_empty());
    }

    #[test]
    fn shell_variables_that_are_not_known() {
        let t = "IMAGE=a:1\nif x; then IMAGE=b:2; fi\ndocker run $IMAGE\n\
f() {\n  LOCAL=c:3\n}\ndocker pull \"$LOCAL\"\n\
D=$(cat tag)\ndocker pull \"$D\"\ndocker pull \"$FROM_ENV\"\n\
read -r R\ndocker pull \"${R:-r:1}\"\n\
K=${K:-k:1}\ndocker pull $K\n: \"${E:=e:2}\"\ndocker pull \"$E\"\n";
        let out = extract_shell(t);
        let got = rows(t, &out);
        assert_eq!(got.len(), 7);
        for (raw, image, _, exact) in &got[..5] {
            assert!(image.is_err(), "{raw} {image:?}");
            assert!(!exact);
        }
        assert_eq!(got[5].1, ok("k:1"));
        assert_eq!(got[6].1, ok("e:2"));
        assert!(got[0].1.as_ref().unwrap_err().contains("IMAGE"));
    }

    #[test]
    fn engine_variables_build_contexts_and_built_images() {
        let t = "DOCKER=docker\nIMG=my/app:dev\n$DOCKER build -t \"$IMG\" --build-context base=docker-image://alpine:3.20 .\n\
$DOCKER run --rm \"$IMG\"\ndocker tag x local/y\ndocker run local/y\n${DOCKER} pull redis:7\n";
        let out = extract_shell(t);
        assert_eq!(
            rows(t, &out),
            [
                ("alpine:3.20", ok("alpine:3.20"), Source::BuildContext, true),
                ("redis:7", ok("redis:7"), Source::ScriptCommand, true),
            ]
        );
    }

    #[test]
    fn crlf_script() {
        let t = "IMAGE=\"checkmarx/kics:latest\"\r\ndocker run --rm \\\r\n  -v \"$PWD:/path\" \\\r\n  \"$IMAGE\" scan -p /path\r\n";
        let out = extract_shell(t);
        let got = rows(t, &out);
        assert_eq!(got[0].0, "$IMAGE");
        assert_eq!(got[0].1, ok("checkmarx/kics:latest"));
    }

    #[test]
    fn makefile_recipes_and_variables() {
        let t = "IMAGE ?= checkmarx/kics:latest\n\
TRIVY := aquasec/trivy:0.69.4 # pinned later\n\
DOCKER ?= docker\n\
TAG = 1\n\
TAG += 2\n\
define SCRIPT\n\
\tdocker run not/read:1\n\
endef\n\
.PHONY: scan\n\
scan: deps\n\
\t@docker run --rm -v \"$$PWD:/path\" $(IMAGE) scan -p /path\n\
\t-$(DOCKER) run --rm ${TRIVY} fs .\n\
\n\
\t# a shell comment: docker pull nope:1\n\
\tdocker pull \\\n\
\t  redis:7\n\
\tdocker pull app:$(TAG)\n\
\tdocker pull $(shell cat img)\n\
\tdocker pull $$HOME/x\n\
quick: ; docker pull busybox:1\n\
build:\n\
\tdocker build -t $(IMAGE_LOCAL) --build-context b=docker-image://alpine:3 .\n\
\tdocker run $(IMAGE_LOCAL)\n\
IMAGE_LOCAL = me/app\n\
\tdocker pull after/assignment:1\n";
        let out = extract_makefile(t);
        let got = rows(t, &out);
        let brief: Vec<_> = got.iter().map(|r| (r.0, r.1.clone().ok())).collect();
        assert_eq!(
            brief,
            [
                ("$(IMAGE)", Some("checkmarx/kics:latest".to_string())),
                ("${TRIVY}", Some("aquasec/trivy:0.69.4".to_string())),
                ("redis:7", Some("redis:7".to_string())),
                ("app:$(TAG)", None),
                ("$(shell cat img)", None),
                ("$$HOME/x", None),
                ("busybox:1", Some("busybox:1".to_string())),
                ("alpine:3", Some("alpine:3".to_string())),
            ]
        );
        assert!(got.iter().all(|r| r.2 != Source::ScriptCommand));
        assert_eq!(got[7].2, Source::BuildContext);
        assert_eq!(out.images[0].context.as_deref(), Some("scan"));
        assert_eq!(out.images[6].context.as_deref(), Some("quick"));
        let Form::Expanded { origins } = &out.images[0].form else {
            panic!()
        };
        assert_eq!(origins[0].span.of(t), "checkmarx/kics:latest");
        let Form::Expanded { origins } = &out.images[1].form else {
            panic!()
        };
        assert_eq!(origins[0].span.of(t), "aquasec/trivy:0.69.4");
        assert!(got[3].1.as_ref().unwrap_err().contains("TAG"));
    }

    #[test]
    fn makefile_crlf_and_target_specific_variables() {
        let t =
            "IMG = a:1\r\nrun: IMG = b:2\r\nrun:\r\n\tdocker run $(IMG)\r\n\tdocker pull c:3\r\n";
        let out = extract_makefile(t);
        let got = rows(t, &out);
        assert_eq!(got.len(), 2);
        assert!(got[0].1.is_err());
        assert_eq!(got[1].0, "c:3");
        assert!(got[1].3);
    }

    #[test]
    fn hostile_input_is_bounded() {
        for t in [
            "",
            "\\",
            "\t",
            "$",
            "$(",
            "a:\n\t$(",
            "a:\n\tdocker run $(",
            "a:\n\tdocker run ${X",
            "define\n",
            "é: é\n\tdocker pull é",
            "X = \\\n",
        ] {
            for o in extract_makefile(t)
                .images
                .iter()
                .chain(&extract_shell(t).images)
            {
                assert_eq!(o.text, o.span.of(t));
            }
        }
        let long = "a:\n".to_string() + &"\tdocker pull x:1 \\\n".repeat(20_000);
        assert_eq!(extract_makefile(&long).images.len(), 1);
        let many = "docker pull x:1\n".repeat(20_000);
        assert_eq!(extract_shell(&many).images.len(), 20_000);
        let deep = "if x; then\n".repeat(10_000) + "I=a:1\ndocker pull $I\n";
        assert!(extract_shell(&deep).images[0].image.is_err());
    }
}
