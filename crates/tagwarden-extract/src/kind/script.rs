//! Shell scripts and Makefile recipes: the image operands of their container commands
//! (`docker|podman|nerdctl run|create|pull`, and every other program the shell reader knows) and
//! the `docker-image://` build contexts of their builds.
//!
//! A shell script is read by [`shell::script_images`], the reader every CI script goes through
//! too: variables expanded from the script's own literal assignments, engine variables followed,
//! images the script builds skipped. Heredoc bodies and comments are not commands; a heredoc
//! that holds a Kubernetes manifest (`cat <<EOF | kubectl apply -f -`) is read as one.
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

use crate::read::shell::{
    self, Definitions, Dialect, ScriptImage, ShellImage, ShellImageKind, Variables, lexing_text,
};
use crate::read::vars::{self, Value};
use crate::{Extraction, Origin, Source, Span};

/// Finds the image references of a shell script.
pub fn extract_shell(text: &str) -> Extraction {
    let mut out = Extraction::default();
    let vars = Variables::new(text, &|_| None, &|s| Some(s));
    for f in shell::script_images(text, &vars, &[]) {
        out.push_image(f.occurrence(text, Source::ScriptCommand, None));
    }
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
    let lexed = lexing_text(text, Dialect::Make, &|n| literal(&defs, n).map(|v| v.value));
    let mut built = Built::default();
    for r in &parsed.recipes {
        let line = lexed.get(r.span.start..r.span.end).unwrap_or("");
        let raw = shell::built_images(line);
        built.values.extend(
            raw.iter()
                .filter_map(|r| make_expand(r, &defs).ok().map(|e| e.value)),
        );
        built.raw.extend(raw);
    }
    for r in &parsed.recipes {
        let line = lexed.get(r.span.start..r.span.end).unwrap_or("");
        for f in shell::commands(line, r.span.start) {
            report(text, &lexed, f, r.target.as_str(), &defs, &built, &mut out);
        }
    }
    out
}

/// The literal value of a make variable defined once, with its origin.
fn literal(defs: &Definitions, name: &str) -> Option<Value> {
    let (value, span) = defs.get(name)??;
    Some(Value {
        value: value.clone(),
        origin: Some(Origin {
            name: name.to_string(),
            span: *span,
        }),
    })
}

/// Names the recipes build, as written (`$(IMAGE)`) and as resolved.
#[derive(Default)]
struct Built {
    raw: Vec<String>,
    values: Vec<String>,
}

/// Records one operand found in `lexed` (the file's text with `$(X)` written `${X}` and engine
/// variables replaced, byte for byte at the same offsets).
fn report(
    text: &str,
    lexed: &str,
    f: ShellImage,
    target: &str,
    defs: &Definitions,
    built: &Built,
    out: &mut Extraction,
) {
    let raw = f.span.of(text);
    let lexed_raw = f.span.of(lexed);
    if built.raw.iter().any(|b| b == lexed_raw) {
        return;
    }
    let (image, origins) = match f.image {
        Ok(image) => (Ok(image), None),
        Err(reason) => match make_expand(raw, defs) {
            Ok(e) if shell::looks_like_image(&e.value) => (Ok(e.value), Some(e.origins)),
            Ok(e) => (
                Err(format!(
                    "{raw} expands to {:?}, which is not an image reference",
                    e.value
                )),
                Some(Vec::new()),
            ),
            Err(why) => (
                Err(if why.is_empty() { reason } else { why }),
                Some(Vec::new()),
            ),
        },
    };
    if image
        .as_ref()
        .is_ok_and(|i| f.kind == ShellImageKind::Operand && shell::is_built(i, &built.values))
    {
        return;
    }
    let found = ScriptImage {
        span: f.span,
        image,
        origins,
        exact: f.exact,
        kind: f.kind,
    };
    out.push_image(found.occurrence(text, Source::MakefileCommand, Some(target)));
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
        let value = literal(defs, name).ok_or_else(|| {
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
    use crate::Form;

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
