//! Container commands in scripts held in YAML values (a CI step's `run:`, a manifest's `script:`),
//! read by [`shell`] and reported at the bytes of the file. A script the shell runs as written
//! is read by [`scalar_images`]; a script a CI system rewrites before the shell runs it is read
//! one of two ways, by how the CI's expressions relate to the shell's words:
//! - [`macros`]: expressions are masked in place by words of the same length (CircleCI, Azure
//!   Pipelines), so offsets never move;
//! - [`rewrite`]: the script is rewritten with the values (Tekton `$(params.x)`, Drone and
//!   Woodpecker `${NAME}`), and each operand is mapped back to the bytes of the file.
//!
//! Commands written as argument lists (`["docker", "run", "img"]`) are read by [`argv`].

pub(crate) mod argv;
pub(crate) mod macros;
pub(crate) mod rewrite;

use crate::read::shell::{
    ShellImageKind, built_images, commands, heredoc_manifests, is_built, looks_like_image,
    may_name_images, variable_name,
};
use crate::read::value_map::ValueMap;
use crate::read::yaml::NodeRef;
use crate::{Extraction, Form, ImageOccurrence, Source, Span, Unresolved};

/// Records the image operands of the shell commands in a YAML scalar (a `run:` or `script:`
/// entry), except images the job builds itself (`built`, and those the scalar builds). An
/// operand whose file span cannot be determined exactly is skipped with a note.
pub(crate) fn scalar_images(
    text: &str,
    node: NodeRef<'_, '_>,
    source: Source,
    context: Option<&str>,
    built: &[String],
    env: &dyn Fn(&str) -> Option<(String, Span)>,
    out: &mut Extraction,
) {
    let Some(target) = node.resolve() else {
        return;
    };
    let Some(value) = target.as_str() else {
        return;
    };
    if !may_name_images(value) && !value.contains("apiVersion") {
        return;
    }
    let map = ValueMap::of(target);
    for occ in heredoc_manifests(value) {
        let occ = map.as_ref().and_then(|m| m.occurrence(occ, text));
        if let Some(mut occ) = occ {
            occ.context = Some(match (context, occ.context) {
                (Some(c), Some(h)) => format!("{c} ({h})"),
                (c, h) => c.or(h.as_deref()).unwrap_or_default().to_string(),
            });
            out.push_image(occ);
        }
    }
    let mut built = built.to_vec();
    built.extend(built_images(value));
    let mut found = commands(value, 0);
    found.retain(|f| {
        let raw = f.span.of(value);
        !f.image.as_ref().is_ok_and(|i| is_built(i, &built)) && !built.iter().any(|b| b == raw)
    });
    if found.is_empty() {
        return;
    }
    let alias_sites: Vec<Span> = node.alias_span().into_iter().collect();
    for f in found {
        let mapped = map.as_ref().and_then(|m| m.to_source(f.span));
        let Some(span) =
            mapped.filter(|s| text.get(s.start..s.end) == value.get(f.span.start..f.span.end))
        else {
            out.note(
                Span::new(target.start(), target.start()),
                format!(
                    "image operand {:?} of a shell command is not reported: its place in the \
                     file cannot be determined exactly (escapes or folding)",
                    f.span.of(value)
                ),
            );
            continue;
        };
        let raw = span.of(text);
        let (image, form) = match f.image {
            Ok(image) => (Ok(image), Form::Literal),
            Err(reason) => match variable_name(raw).and_then(|n| Some((n, env(n)?))) {
                // A variable the file defines as a whole literal reference.
                Some((name, (value, at))) if looks_like_image(&value) => (
                    Ok(value),
                    Form::Expanded {
                        origins: vec![crate::Origin {
                            name: name.to_string(),
                            span: at,
                        }],
                    },
                ),
                _ => (
                    Err(reason),
                    Form::Expanded {
                        origins: Vec::new(),
                    },
                ),
            },
        };
        let source = match f.kind {
            ShellImageKind::Operand => source,
            ShellImageKind::BuildContext => Source::BuildContext,
        };
        out.push_image(ImageOccurrence {
            span,
            text: raw.to_string(),
            image: image.map_err(Unresolved::new),
            source,
            form,
            alias_sites: alias_sites.clone(),
            context: context.map(str::to_string),
            exact: f.exact,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_build_contexts_are_reported_as_build_context() {
        let t = "run: |\n  docker buildx build --build-context b=docker-image://alpine:3 .\n  docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\n";
        let mut out = Extraction::default();
        let y = crate::read::yaml::parse(t, &mut out);
        let doc = y.documents().next().unwrap();
        let run = doc.get("run").unwrap();
        scalar_images(
            t,
            run,
            Source::GithubRunCommand,
            Some("job"),
            &[],
            &|_| None,
            &mut out,
        );
        let got: Vec<_> = out
            .images
            .iter()
            .map(|o| (o.span.of(t), o.source, o.exact))
            .collect();
        assert_eq!(
            got,
            [
                ("alpine:3", Source::BuildContext, true),
                ("checkmarx/kics:latest", Source::GithubRunCommand, true)
            ]
        );
    }
}
