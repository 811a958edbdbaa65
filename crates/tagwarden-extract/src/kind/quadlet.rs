//! Podman Quadlet units (`*.container`, `*.image`, `*.volume`, `*.build`): systemd unit files
//! whose `[Container]`, `[Image]` and `[Volume]` sections name the image with `Image=`.
//!
//! What is read: `Image=` in those sections (the last one of a section wins, as Quadlet reads
//! it: earlier ones get a note), `Mount=type=image,source=…` image mounts of `[Container]`, and
//! the container commands of `[Service]` `Exec*=` lines (`ExecStartPre=podman pull x`). A value
//! ending in `.image` or `.build` names another Quadlet unit, not an image, and is not reported;
//! `[Build]` `ImageTag=` names the image the unit builds, not one it pulls.
//!
//! systemd syntax: `#` and `;` comment lines (also inside a continued value), `\` continuations,
//! values in quotes (the span is inside them), blanks around the key and the value. A value with
//! a `%` specifier (`%h`, `%i`) is only known when systemd runs it: reported unresolved. A
//! continued or escaped `Image=` value cannot be spliced: reported, not exact.

use crate::read::shell::{self, Variables};
use crate::{Extraction, Form, ImageOccurrence, Source, Span, Unresolved};

/// Sections whose `Image=` is pulled.
const IMAGE_SECTIONS: &[&str] = &["Container", "Image", "Volume"];
/// `[Service]` keys that run commands.
const EXEC_KEYS: &[&str] = &[
    "ExecStart",
    "ExecStartPre",
    "ExecStartPost",
    "ExecCondition",
    "ExecReload",
    "ExecStop",
    "ExecStopPost",
];
/// Suffixes of values that name another Quadlet unit.
const UNIT_SUFFIXES: &[&str] = &[".image", ".build"];
/// Entries read per file (bounded work on hostile input).
const MAX_ENTRIES: usize = 100_000;

/// Finds the image references of one Quadlet unit.
pub fn extract(text: &str) -> Extraction {
    let mut out = Extraction::default();
    let entries = entries(text, &mut out);
    // Quadlet takes the last `Image=` of a section; earlier ones are never pulled.
    let mut last_image: Vec<(&str, usize)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if e.key == "Image" && IMAGE_SECTIONS.contains(&e.section) {
            match last_image.iter_mut().find(|(s, _)| *s == e.section) {
                Some(slot) => {
                    if let Some(earlier) = entries.get(slot.1) {
                        out.note(
                            earlier.value,
                            format!(
                                "this Image= is overridden by a later one in [{}]: not reported",
                                e.section
                            ),
                        );
                    }
                    slot.1 = i;
                }
                None => last_image.push((e.section, i)),
            }
        }
    }
    for (_, i) in &last_image {
        if let Some(e) = entries.get(*i) {
            image_entry(text, e, &mut out);
        }
    }
    for e in &entries {
        match (e.section, e.key) {
            ("Container", "Mount") => image_mount(text, e, &mut out),
            ("Service", key) if EXEC_KEYS.contains(&key) => exec_entry(text, e, &mut out),
            _ => {}
        }
    }
    out
}

/// One `Key=value` entry of a section.
#[derive(Debug)]
struct Entry<'t> {
    section: &'t str,
    key: &'t str,
    /// The value's bytes, without the blanks around it; across continuation lines when continued.
    value: Span,
    /// True when the value goes on over `\`-continued lines.
    continued: bool,
}

/// The entries of a unit file, in order.
fn entries<'t>(text: &'t str, out: &mut Extraction) -> Vec<Entry<'t>> {
    let mut found = Vec::new();
    let mut section = "";
    let mut at = usize::from(text.starts_with('\u{feff}')) * '\u{feff}'.len_utf8();
    while at < text.len() {
        let (line_start, line_end, next) = line_at(text, at);
        at = next;
        let line = text.get(line_start..line_end).unwrap_or("");
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[') {
            match name.trim_end().strip_suffix(']') {
                Some(name) => section = name,
                None => out.parse_error(
                    Span::new(line_start, line_end),
                    "section header without its closing `]`",
                ),
            }
            continue;
        }
        let Some(eq) = trimmed.find('=') else {
            out.parse_error(
                Span::new(line_start + indent, line_end),
                "not a `Key=value` line: ignored",
            );
            continue;
        };
        let key = trimmed.get(..eq).unwrap_or("").trim_end();
        let value_start = line_start + indent + eq + 1;
        let mut value_end = line_end;
        let mut continued = false;
        // `\` at the end of a line continues the value on the next one; comment lines between
        // are skipped.
        while text
            .get(value_start..value_end)
            .is_some_and(|v| v.trim_end().ends_with('\\'))
            && at < text.len()
        {
            let (s, e, n) = line_at(text, at);
            at = n;
            let l = text.get(s..e).unwrap_or("").trim_start();
            if l.starts_with(['#', ';']) {
                continue;
            }
            continued = true;
            value_end = e;
        }
        let raw = text.get(value_start..value_end).unwrap_or("");
        let lead = raw.len() - raw.trim_start_matches([' ', '\t']).len();
        let trail = raw.len() - raw.trim_end_matches([' ', '\t', '\r']).len();
        let value = Span::new(
            value_start + lead,
            (value_end - trail).max(value_start + lead),
        );
        if found.len() >= MAX_ENTRIES {
            out.note(
                Span::new(line_start, line_start),
                "unit file too long: the rest is not read",
            );
            break;
        }
        found.push(Entry {
            section,
            key,
            value,
            continued,
        });
    }
    found
}

/// The line at `at`: its start, its end without the line ending, and where the next one starts.
fn line_at(text: &str, at: usize) -> (usize, usize, usize) {
    let rest = text.get(at..).unwrap_or("");
    let len = rest.find('\n').unwrap_or(rest.len());
    let line = rest.get(..len).unwrap_or("");
    let end = at + line.trim_end_matches('\r').len();
    (at, end, (at + len + 1).min(text.len()))
}

/// Reports the image of an `Image=` entry.
fn image_entry(text: &str, e: &Entry<'_>, out: &mut Extraction) {
    let context = format!("[{}]", e.section);
    report_value(
        text,
        e.value,
        e.continued,
        Source::QuadletImage,
        &context,
        out,
    );
}

/// `Mount=type=image,source=IMAGE,destination=/x`: the image is mounted, so it is pulled.
fn image_mount(text: &str, e: &Entry<'_>, out: &mut Extraction) {
    let raw = e.value.of(text);
    let fields: Vec<(usize, &str)> = split_fields(raw);
    let is_image = fields
        .iter()
        .any(|(_, f)| f.trim_matches('"').eq_ignore_ascii_case("type=image"));
    if !is_image {
        return;
    }
    for (offset, field) in fields {
        let Some((key, value)) = field.split_once('=') else {
            continue;
        };
        if matches!(key, "source" | "src") {
            let start = e.value.start + offset + key.len() + 1;
            let span = Span::new(start, start + value.len());
            report_value(
                text,
                span,
                e.continued,
                Source::QuadletImage,
                "[Container] Mount",
                out,
            );
        }
    }
}

/// Comma-separated fields with their offsets.
fn split_fields(raw: &str) -> Vec<(usize, &str)> {
    let mut fields = Vec::new();
    let mut at = 0;
    for f in raw.split(',') {
        fields.push((at, f));
        at += f.len() + 1;
    }
    fields
}

/// The container commands of a `[Service]` `Exec*=` line.
fn exec_entry(text: &str, e: &Entry<'_>, out: &mut Extraction) {
    let raw = e.value.of(text);
    // `-`, `@`, `:`, `+`, `!` prefixes change how systemd runs the command, not the command.
    let command = raw.trim_start_matches(['-', '@', ':', '+', '!']);
    let base = e.value.start + raw.len() - command.len();
    let context = format!("[{}] {}", e.section, e.key);
    // systemd runs the command without a shell; a shell it starts (`/bin/sh -c '…'`) reads its
    // script, and the shell reader follows it there.
    let to_file = |s: Span| Some(Span::new(s.start + base, s.end + base));
    let vars = Variables::new(command, &|_| None, &to_file);
    for mut f in shell::script_images(command, &vars, &[]) {
        f.span = Span::new(f.span.start + base, f.span.end + base);
        let raw = f.span.of(text);
        if raw.contains('%') {
            f.image = Err(match f.image {
                Ok(i) => format!("{i} holds a systemd specifier, known when the unit runs"),
                Err(why) => why,
            });
            f.origins = Some(Vec::new());
            f.exact = false;
        }
        out.push_image(f.occurrence(text, Source::QuadletImage, Some(&context)));
    }
}

/// Reports one value that names an image (or another unit, which is skipped).
fn report_value(
    text: &str,
    span: Span,
    continued: bool,
    source: Source,
    context: &str,
    out: &mut Extraction,
) {
    let raw = span.of(text);
    let (inner, span) = match unquote(raw) {
        Some(inner) => (inner, Span::new(span.start + 1, span.end - 1)),
        None => (raw, span),
    };
    if inner.is_empty() || UNIT_SUFFIXES.iter().any(|s| inner.ends_with(s)) {
        return;
    }
    let (image, form, exact) = if continued || inner.contains('\\') {
        // The value's bytes are not the value: systemd joins lines with a space and reads escapes.
        let first_line = inner.split(['\n', '\r']).next().unwrap_or("");
        let joined = inner
            .split('\n')
            .map(|l| l.trim().trim_end_matches('\\').trim())
            .filter(|l| !l.is_empty() && !l.starts_with(['#', ';']))
            .collect::<Vec<_>>()
            .join(" ");
        let span = Span::new(span.start, span.start + first_line.len());
        if joined.contains(char::is_whitespace) {
            out.note(
                span,
                format!("{joined:?} (continued lines are joined with a space) is not an image reference: not reported"),
            );
            return;
        }
        let image = if joined.contains('\\') {
            Err(Unresolved::new(format!(
                "{first_line:?} holds a backslash escape"
            )))
        } else {
            Ok(joined)
        };
        return push(
            out,
            text,
            span,
            image,
            Form::Literal,
            false,
            source,
            context,
        );
    } else if let Some(at) = inner.find('%') {
        let spec = inner.get(at..at + 2).unwrap_or("%");
        (
            Err(Unresolved::new(format!(
                "systemd specifier {spec} in {inner:?}: known when the unit runs"
            ))),
            Form::Expanded { origins: vec![] },
            false,
        )
    } else if inner.contains(char::is_whitespace) || inner.contains(['"', '\'']) {
        out.note(
            span,
            format!("{inner:?} is not an image reference: not reported"),
        );
        return;
    } else {
        (Ok(inner.to_string()), Form::Literal, true)
    };
    push(out, text, span, image, form, exact, source, context);
}

#[allow(clippy::too_many_arguments)]
fn push(
    out: &mut Extraction,
    text: &str,
    span: Span,
    image: Result<String, Unresolved>,
    form: Form,
    exact: bool,
    source: Source,
    context: &str,
) {
    out.push_image(ImageOccurrence {
        span,
        text: span.of(text).to_string(),
        image,
        source,
        form,
        alias_sites: Vec::new(),
        context: Some(context.to_string()),
        exact,
    });
}

/// The inside of a value wholly in double or single quotes.
fn unquote(raw: &str) -> Option<&str> {
    ['"', '\''].into_iter().find_map(|q| {
        raw.strip_prefix(q)
            .and_then(|r| r.strip_suffix(q))
            .filter(|inner| !inner.contains(q))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_corpus;

    type Row<'t> = (&'t str, Result<String, String>, bool, Option<String>);

    fn rows(t: &str) -> Vec<Row<'_>> {
        extract(t)
            .images
            .iter()
            .map(|o| {
                assert_eq!(o.text, o.span.of(t));
                (
                    o.span.of(t),
                    o.image.clone().map_err(|e| e.reason),
                    o.exact,
                    o.context.clone(),
                )
            })
            .collect()
    }

    fn images(t: &str) -> Vec<&str> {
        rows(t).into_iter().map(|r| r.0).collect()
    }

    #[test]
    fn container_image_and_volume_sections() {
        let t = "[Unit]\nDescription=kics\n\n[Container]\n# Image=commented/out:1\n; Image=also/commented:1\nImage = checkmarx/kics:latest \nExec=scan -p /path\nVolume=data.volume:/data\n\n[Service]\nRestart=always\n";
        assert_eq!(
            rows(t),
            [(
                "checkmarx/kics:latest",
                Ok("checkmarx/kics:latest".to_string()),
                true,
                Some("[Container]".to_string())
            )]
        );
        assert_eq!(
            images("[Image]\nImage=\"quay.io/a/b:1\"\n[Volume]\nDriver=image\nImage='c:2'\n"),
            ["quay.io/a/b:1", "c:2"]
        );
    }

    #[test]
    fn unit_references_and_built_tags_are_not_images() {
        let t = "[Container]\nImage=app.build\n";
        assert!(images(t).is_empty());
        assert!(images("[Container]\nImage=base.image\n").is_empty());
        assert!(images("[Build]\nImageTag=localhost/app:1\nFile=Containerfile\n").is_empty());
        // `Image=` outside the image sections means nothing to Quadlet.
        assert!(images("[Unit]\nImage=x:1\n").is_empty());
    }

    #[test]
    fn last_image_wins_with_a_note() {
        let t = "[Container]\nImage=a:1\nImage=b:2\n";
        let out = extract(t);
        assert_eq!(out.images.len(), 1);
        assert_eq!(out.images[0].span.of(t), "b:2");
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].span.of(t), "a:1");
    }

    #[test]
    fn specifiers_continuations_and_crlf() {
        let got = rows("[Container]\nImage=quay.io/%u/app:1\n");
        assert!(got[0].1.as_ref().unwrap_err().contains("%u"));
        assert!(!got[0].2);
        let t = "[Container]\r\nImage=docker.io/library/nginx:1 \\\r\n# comment\r\n\r\nPublishPort=80:80\r\n";
        let got = rows(t);
        assert_eq!(got[0].1, Ok("docker.io/library/nginx:1".to_string()));
        assert!(!got[0].2);
        let t = "[Container]\nImage=docker.io/library/\\\n  nginx:1\n";
        let out = extract(t);
        assert!(out.images.is_empty());
        assert!(out.diagnostics[0].message.contains("joined"));
        let t = "\u{feff}[Container]\r\nImage=alpine:3\r\n";
        assert_eq!(rows(t)[0].0, "alpine:3");
        assert!(rows(t)[0].2);
    }

    #[test]
    fn image_mounts_and_exec_commands() {
        let t = "[Container]\nImage=app:1\nMount=type=image,source=quay.io/data/set:2,destination=/data\nMount=type=bind,source=/a,destination=/b\nMount=type=image,src=tools.image,dst=/t\n\n[Service]\nExecStartPre=-/usr/bin/podman pull docker.io/aquasec/trivy:0.69.4\nExecStartPost=/usr/bin/podman run --rm -v \"/srv:/path\" checkmarx/kics:latest scan -p /path\n";
        assert_eq!(
            images(t),
            [
                "app:1",
                "quay.io/data/set:2",
                "docker.io/aquasec/trivy:0.69.4",
                "checkmarx/kics:latest"
            ]
        );
        let got = rows(t);
        assert_eq!(got[3].3.as_deref(), Some("[Service] ExecStartPost"));
        assert!(got.iter().all(|r| r.2));
        // A shell systemd starts reads its script: the images in it, at their bytes.
        let t = "[Service]\nExecStartPre=/bin/sh -c 'podman pull quay.io/acme/tool:1 && IMG=redis:7; podman run --rm \"$IMG\"'\nExecStart=/usr/bin/bash -ec \"podman pull ghcr.io/acme/web:2\"\n";
        let got = rows(t);
        let texts: Vec<_> = got.iter().map(|r| (r.0, r.1.clone(), r.2)).collect();
        assert_eq!(
            texts,
            [
                (
                    "quay.io/acme/tool:1",
                    Ok("quay.io/acme/tool:1".into()),
                    true
                ),
                ("$IMG", Ok("redis:7".into()), false),
                ("ghcr.io/acme/web:2", Ok("ghcr.io/acme/web:2".into()), true),
            ]
        );
    }

    #[test]
    fn garbage_is_reported_and_bounded() {
        let out = extract("[Container\nnot a key\nImage=a b\n");
        assert!(out.images.is_empty());
        assert_eq!(out.diagnostics.len(), 2);
        for t in [
            "",
            "=",
            "[",
            "\\",
            "Image=\\",
            "[Container]\nImage=\\",
            "[Container]\nImage=\"",
            "[Container]\nImage=é%",
        ] {
            for o in extract(t).images {
                assert_eq!(o.text, o.span.of(t));
            }
        }
        let long = "[Container]\n".to_string() + &"Image=x:1\n".repeat(50_000);
        let out = extract(&long);
        assert_eq!(out.images.len(), 1);
        let cont = "[Container]\nImage=a\\\n".to_string() + &"\\\n".repeat(50_000);
        assert!(extract(&cont).images.len() <= 1);
    }

    #[test]
    fn corpus() {
        let n = test_corpus::check_all("quadlet", extract);
        let files = test_corpus::files("quadlet");
        if files.is_empty() {
            return;
        }
        // 19 `.container` and 3 `.image` units name one image each; `.build` units name none.
        assert_eq!(n, 22);
        let base = "quadlet/containers__podman/test/e2e/quadlet/";
        let expect = |name: &str, want: &[&str]| {
            let t = test_corpus::file(&format!("{base}{name}")).unwrap();
            assert_eq!(images(&t), want, "{name}");
        };
        expect(
            "comment-with-continuation.container",
            &["localhost/imagename:latest"],
        );
        expect("quotes.container", &["localhost/imagename"]);
        expect("all-tags.image", &["localhost/imagename"]);
        expect("containersconfmodule.image", &["image:latest"]);
        expect("shortname.container", &["shortname"]);
        expect("build.multiple-tags.container", &[]);
        expect("multiple-tags.build", &[]);
        expect("buildarg.build", &[]);
        for (path, text) in &files {
            let out = extract(text);
            assert!(
                out.images.iter().all(|o| o.exact && o.image.is_ok()),
                "{path:?}"
            );
            assert!(
                out.diagnostics.is_empty(),
                "{path:?}: {:?}",
                out.diagnostics
            );
        }
    }
}
