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

use crate::read::shell::{ScriptImage, Variables, heredoc_manifests, may_name_images};
use crate::read::value_map::ValueMap;
use crate::read::vars::Value;
use crate::read::yaml::NodeRef;
use crate::{Extraction, Origin, Source, Span};

/// A shell variable's literal value and where it is written in the file: a CI step's `env:`, a
/// job's `variables:`.
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<(String, Span)>;

/// What a script inherits from `env`, as [`Variables`] reads it.
pub(crate) fn inherited(env: Env<'_>) -> impl Fn(&str) -> Option<Value> + '_ {
    move |name| {
        env(name).map(|(value, span)| Value {
            value,
            origin: Some(Origin {
                name: name.to_string(),
                span,
            }),
        })
    }
}

/// Records the images the shell commands in a YAML scalar name (a `run:` or `script:` entry),
/// read by [`crate::read::shell::script_images`] with the script's own assignments over `env`,
/// except images the job builds itself (`built`, and those the scalar builds). An operand whose
/// file span cannot be determined exactly is skipped with a note.
pub(crate) fn scalar_images(
    text: &str,
    node: NodeRef<'_, '_>,
    source: Source,
    context: Option<&str>,
    built: &[String],
    env: Env<'_>,
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
    heredoc_images(text, value, map.as_ref(), context, out);
    let to_file = |s: Span| map.as_ref()?.to_source(s);
    let inherited = inherited(env);
    let vars = Variables::new(value, &inherited, &to_file);
    let site = Site {
        file: text,
        source,
        context,
        alias_sites: node.alias_span().into_iter().collect(),
        note_at: target.start(),
    };
    for found in crate::read::shell::script_images(value, &vars, built) {
        site.push(value, found, &to_file, out);
    }
}

/// The images of the Kubernetes manifests a script (`value`, mapped to the file by `map`) writes
/// in heredocs.
pub(crate) fn heredoc_images(
    text: &str,
    value: &str,
    map: Option<&ValueMap>,
    context: Option<&str>,
    out: &mut Extraction,
) {
    for occ in heredoc_manifests(value) {
        if let Some(mut occ) = map.and_then(|m| m.occurrence(occ, text)) {
            occ.context = Some(match (context, occ.context) {
                (Some(c), Some(h)) => format!("{c} ({h})"),
                (c, h) => c.or(h.as_deref()).unwrap_or_default().to_string(),
            });
            out.push_image(occ);
        }
    }
}

/// Where a script's images are reported.
pub(crate) struct Site<'s> {
    /// The whole file.
    pub(crate) file: &'s str,
    pub(crate) source: Source,
    pub(crate) context: Option<&'s str>,
    pub(crate) alias_sites: Vec<Span>,
    /// Where a note about the script goes.
    pub(crate) note_at: usize,
}

impl Site<'_> {
    /// Records an image found in `script` (whose spans `to_file` maps to the file), at its bytes
    /// in the file; a note when those bytes are not the script's.
    pub(crate) fn push(
        &self,
        script: &str,
        found: ScriptImage,
        to_file: &dyn Fn(Span) -> Option<Span>,
        out: &mut Extraction,
    ) {
        let written = found.span.of(script);
        let Some(span) = to_file(found.span).filter(|s| s.of(self.file) == written) else {
            out.note(Span::new(self.note_at, self.note_at), not_mapped(written));
            return;
        };
        let mut occ =
            ScriptImage { span, ..found }.occurrence(self.file, self.source, self.context);
        occ.alias_sites.clone_from(&self.alias_sites);
        out.push_image(occ);
    }
}

/// Why an image found in a script is not reported.
pub(crate) fn not_mapped(written: &str) -> String {
    format!(
        "image operand {written:?} of a shell command is not reported: the script's bytes are not \
         written as they are in the file there (an escape, a quoted or plain scalar continued \
         on another line, or a block with an indentation indicator)"
    )
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
