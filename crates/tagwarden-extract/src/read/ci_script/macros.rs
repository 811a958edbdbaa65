//! Scripts whose CI substitutes template expressions before the shell runs them, with the
//! expressions masked in place (CircleCI `<< parameters.x >>`, Azure `$(var)` / `${{ … }}`):
//! each [`Macro`] is replaced by a shell word of the same length, so every offset of the script
//! is still an offset of the value, and an operand built from macros is reported with their
//! values substituted and their definitions as origins.

use super::{Env, Site};
use crate::read::shell::{self, Variables};
use crate::read::value_map::ValueMap;
use crate::read::yaml::{self, NodeRef};
use crate::{Extraction, Form, ImageOccurrence, Origin, Source, Span, Unresolved};

/// A value with its template expressions substituted, and the origins of their values.
pub(crate) type Expansion = Result<(String, Vec<Origin>), Unresolved>;

/// A template expression in a value, substituted before the value is used.
pub(crate) struct Macro {
    /// Where the expression is, in the value.
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// A name for the shell placeholder (a word such as `flags` keeps its meaning).
    pub(crate) name: String,
    /// Its value and the places that value is written, or why it is unknown.
    pub(crate) value: Expansion,
}

/// Substitutes the macros (sorted, offsets in `value`) into `value`.
pub(crate) fn substitute(
    value: &str,
    macros: &[Macro],
) -> Result<(String, Vec<Origin>), Unresolved> {
    let mut image = String::new();
    let mut origins = Vec::new();
    let mut at = 0;
    for m in macros {
        image.push_str(value.get(at..m.start).unwrap_or(""));
        let (v, from) = m.value.clone()?;
        image.push_str(&v);
        origins.extend(from);
        at = m.end;
    }
    image.push_str(value.get(at..).unwrap_or(""));
    if image.contains('$') {
        return Err(Unresolved::new(format!(
            "{value:?} depends on variables with no known value"
        )));
    }
    Ok((image, origins))
}

/// The occurrence for an image-valued scalar. `expand` gives the value with its template
/// expressions substituted, or None when it has none (the value is then literal).
pub(crate) fn occurrence(
    text: &str,
    node: NodeRef<'_, '_>,
    source: Source,
    context: &str,
    aliases: &[Span],
    expand: &dyn Fn(&str) -> Option<Expansion>,
) -> Option<ImageOccurrence> {
    let value = node.as_str()?;
    if value.trim().is_empty() {
        return None;
    }
    let (span, exact, mut alias_sites) = yaml::scalar_site(node)?;
    for a in aliases {
        if !alias_sites.contains(a) {
            alias_sites.push(*a);
        }
    }
    let (image, form) = match expand(value) {
        None => (Ok(value.to_string()), Form::Literal),
        Some(Ok((image, origins))) => {
            if image.trim().is_empty() {
                return None;
            }
            (Ok(image), Form::Expanded { origins })
        }
        Some(Err(e)) => (
            Err(e),
            Form::Expanded {
                origins: Vec::new(),
            },
        ),
    };
    Some(ImageOccurrence {
        span,
        text: span.of(text).to_string(),
        image,
        source,
        form,
        alias_sites,
        context: Some(context.to_string()),
        exact,
    })
}

/// How to report the container commands of one script.
pub(crate) struct Script<'s> {
    pub(crate) text: &'s str,
    pub(crate) source: Source,
    pub(crate) context: Option<&'s str>,
    /// Images the job builds itself: running them pulls nothing.
    pub(crate) built: &'s [String],
    /// Literal values of shell variables: (value, span of the value).
    pub(crate) env: Env<'s>,
    /// PowerShell: lines with a backtick (its escape and continuation character) are not read.
    pub(crate) powershell: bool,
}

/// The container commands of a script held in a YAML scalar (plain, quoted or block).
pub(crate) fn script_node_images(
    s: &Script<'_>,
    node: NodeRef<'_, '_>,
    macros: &dyn Fn(&str) -> Vec<Macro>,
    out: &mut Extraction,
) {
    let Some(target) = node.resolve() else {
        return;
    };
    let Some(value) = target.as_str() else {
        return;
    };
    if !shell::may_name_images(value) && !value.contains("apiVersion") {
        return;
    }
    let map = ValueMap::of(target);
    super::heredoc_images(s.text, value, map.as_ref(), s.context, out);
    let to_file = |span: Span| map.as_ref()?.to_source(span);
    let aliases: Vec<Span> = node.alias_span().into_iter().collect();
    script_images(
        s,
        value,
        &to_file,
        &macros(value),
        &aliases,
        target.start(),
        out,
    );
}

/// Reports the image operands of the container commands in `value`, a script whose offsets
/// `to_file` maps to the file. Macros are replaced by a shell word of the same length before
/// the script is read, so an operand built from them is one word; its image is the operand
/// with the macros' values substituted. Other operands are read as every script is, with the
/// script's assignments over the job's variables ([`Script::env`]).
pub(crate) fn script_images(
    s: &Script<'_>,
    value: &str,
    to_file: &dyn Fn(Span) -> Option<Span>,
    macros: &[Macro],
    aliases: &[Span],
    note_at: usize,
    out: &mut Extraction,
) {
    let Some(masked) = mask(value, macros, s.powershell) else {
        return;
    };
    let mut built = s.built.to_vec();
    built.extend(shell::built_images(&masked));
    let inherited = super::inherited(s.env);
    let vars = Variables::new(&masked, &inherited, to_file);
    let site = Site {
        file: s.text,
        source: s.source,
        context: s.context,
        alias_sites: aliases.to_vec(),
        note_at,
    };
    for mut f in shell::script_images(&masked, &vars, s.built) {
        let Some(raw) = value.get(f.span.start..f.span.end) else {
            continue;
        };
        let inside: Vec<&Macro> = macros
            .iter()
            .filter(|m| m.start < f.span.end && m.end > f.span.start)
            .collect();
        // An expression cut by a word boundary cannot be read.
        if inside
            .iter()
            .any(|m| m.start < f.span.start || m.end > f.span.end)
        {
            continue;
        }
        if !inside.is_empty() {
            let quoted = raw.contains(['"', '\'', '\\']);
            let relative: Vec<Macro> = inside
                .iter()
                .map(|m| Macro {
                    start: m.start - f.span.start,
                    end: m.end - f.span.start,
                    name: m.name.clone(),
                    value: m.value.clone(),
                })
                .collect();
            let unresolved = |reason: String| (Err(reason), Some(Vec::new()), false);
            (f.image, f.origins, f.exact) = match substitute(raw, &relative) {
                Ok((image, origins)) => {
                    let image = if quoted {
                        image.replace(['"', '\''], "")
                    } else {
                        image
                    };
                    if image.contains(['$', '`', '\\']) {
                        unresolved(format!("shell word {raw} depends on shell variables"))
                    } else if !shell::looks_like_image(&image) {
                        continue;
                    } else {
                        (Ok(image), Some(origins), !quoted)
                    }
                }
                Err(e) => unresolved(e.reason),
            };
            if f.image.as_ref().is_ok_and(|i| shell::is_built(i, &built))
                || built.iter().any(|b| b == raw)
            {
                continue;
            }
        }
        site.push(value, f, to_file, out);
    }
}

/// `value` with each macro replaced by `${name___}` of the same length, and for PowerShell the
/// lines holding a backtick blanked out. None when it cannot be built (overlapping macros).
fn mask(value: &str, macros: &[Macro], powershell: bool) -> Option<String> {
    let mut bytes = value.as_bytes().to_vec();
    let mut last_end = 0;
    for m in macros {
        let len = m.end.checked_sub(m.start)?;
        if m.start < last_end || len < 3 || m.end > bytes.len() {
            return None;
        }
        last_end = m.end;
        let mut word = String::from("${");
        let mut name: String = m
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        // The shell reads a name starting with a letter; an image word starts with one too.
        if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            name.insert(0, 'm');
        }
        name.truncate(len - 3);
        word.push_str(&name);
        while word.len() < len - 1 {
            word.push('_');
        }
        word.push('}');
        bytes
            .get_mut(m.start..m.end)?
            .copy_from_slice(word.as_bytes());
    }
    if powershell {
        let mut line_start = 0;
        while line_start < bytes.len() {
            let line_end =
                memchr::memchr(b'\n', &bytes[line_start..]).map_or(bytes.len(), |n| line_start + n);
            if bytes[line_start..line_end].contains(&b'`') {
                for b in &mut bytes[line_start..line_end] {
                    if *b != b'\r' {
                        *b = b' ';
                    }
                }
            }
            line_start = line_end + 1;
        }
    }
    String::from_utf8(bytes).ok()
}
