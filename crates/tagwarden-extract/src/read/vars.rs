//! Shell-style variable expansion as Dockerfiles, Compose and GitLab CI do it: `$X`, `${X}`,
//! `${X:-default}`, `${X-default}`, `${X:?err}`, `${X:+alt}`, with `$$` as an escaped `$` where the
//! syntax has it. Unknown variables make the result unresolvable; nothing is guessed.

use crate::{Origin, Span, Unresolved};

/// What a lookup knows of a variable: its value and where that value is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    pub value: String,
    pub origin: Option<Origin>,
}

/// Syntax options.
#[derive(Clone, Copy, Debug, Default)]
pub struct Syntax {
    /// `$$` stands for a literal `$` (Compose, GitLab).
    pub dollar_escape: bool,
}

/// The result of expanding a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expanded {
    pub value: String,
    /// Definitions (or defaults) substituted, in order.
    pub origins: Vec<Origin>,
}

/// True when the text contains a `$` variable reference.
pub fn has_variables(text: &str) -> bool {
    text.contains('$')
}

/// Expands `text`, written at byte offset `base` of the file, looking variables up with `lookup`.
pub fn expand(
    text: &str,
    base: usize,
    syntax: Syntax,
    lookup: &dyn Fn(&str) -> Option<Value>,
) -> Result<Expanded, Unresolved> {
    let place = |s: Span| Some(Span::new(base + s.start, base + s.end));
    expand_placed(text, &place, syntax, lookup)
}

/// [`expand`] for a text that is not written in one piece: `place` maps a span of `text` to the
/// file, or says it is not written there verbatim (a literal default is then no origin).
pub fn expand_placed(
    text: &str,
    place: &dyn Fn(Span) -> Option<Span>,
    syntax: Syntax,
    lookup: &dyn Fn(&str) -> Option<Value>,
) -> Result<Expanded, Unresolved> {
    let mut out = Expanded {
        value: String::with_capacity(text.len()),
        origins: Vec::new(),
    };
    let ctx = Context {
        syntax,
        lookup,
        place,
    };
    expand_into(text, 0, &ctx, &mut out, 0)?;
    Ok(out)
}

/// What every level of an expansion shares.
struct Context<'c> {
    syntax: Syntax,
    lookup: &'c dyn Fn(&str) -> Option<Value>,
    place: &'c dyn Fn(Span) -> Option<Span>,
}

const MAX_NESTING: usize = 8;

/// Expands `text`, which starts at offset `base` of the text given to [`expand_placed`].
fn expand_into(
    text: &str,
    base: usize,
    ctx: &Context<'_>,
    out: &mut Expanded,
    depth: usize,
) -> Result<(), Unresolved> {
    if depth > MAX_NESTING {
        return Err(Unresolved::new("variables nested too deeply"));
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'$' {
            let next = text[i..].find('$').map_or(text.len(), |n| i + n);
            out.value.push_str(&text[i..next]);
            i = next;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'$') if ctx.syntax.dollar_escape => {
                out.value.push('$');
                i += 2;
            }
            Some(b'{') => {
                let close = matching_brace(text, i + 1)
                    .ok_or_else(|| Unresolved::new(format!("unterminated '${{' in {text:?}")))?;
                let inner = &text[i + 2..close];
                expand_braced(inner, base + i + 2, ctx, out, depth)?;
                i = close + 1;
            }
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                let start = i + 1;
                let mut end = start;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_')
                {
                    end += 1;
                }
                substitute(&text[start..end], ctx.lookup, out)?;
                i = end;
            }
            _ => {
                out.value.push('$');
                i += 1;
            }
        }
    }
    Ok(())
}

/// Index of the `}` closing the `{` at `open`, counting nested braces.
fn matching_brace(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn substitute(
    name: &str,
    lookup: &dyn Fn(&str) -> Option<Value>,
    out: &mut Expanded,
) -> Result<(), Unresolved> {
    match lookup(name) {
        Some(v) => {
            out.value.push_str(&v.value);
            out.origins.extend(v.origin);
            Ok(())
        }
        None => Err(Unresolved::new(format!(
            "variable {name} has no known value"
        ))),
    }
}

fn expand_braced(
    inner: &str,
    base: usize,
    ctx: &Context<'_>,
    out: &mut Expanded,
    depth: usize,
) -> Result<(), Unresolved> {
    let lookup = ctx.lookup;
    let name_end = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let name = &inner[..name_end];
    if name.is_empty() {
        return Err(Unresolved::new(format!(
            "unsupported expression ${{{inner}}}"
        )));
    }
    let rest = &inner[name_end..];
    let (op, word) = if let Some(w) = rest.strip_prefix(":-") {
        (":-", w)
    } else if let Some(w) = rest.strip_prefix(":+") {
        (":+", w)
    } else if let Some(w) = rest.strip_prefix(":?") {
        (":?", w)
    } else if rest.is_empty() {
        ("", "")
    } else {
        // One character of operator; a non-ASCII one must not be split (found by fuzzing).
        let n = rest.chars().next().map_or(0, char::len_utf8);
        rest.split_at(n)
    };
    let word_base = base + name_end + op.len();
    let known = lookup(name);
    let expand_word = |out: &mut Expanded| -> Result<(), Unresolved> {
        let before = out.value.len();
        expand_into(word, word_base, ctx, out, depth + 1)?;
        // A literal default is itself a place a rewrite can target.
        if !word.contains('$')
            && out.value.len() > before
            && let Some(span) = (ctx.place)(Span::new(word_base, word_base + word.len()))
        {
            out.origins.push(Origin {
                name: name.to_string(),
                span,
            });
        }
        Ok(())
    };
    match op {
        "" => substitute(name, lookup, out),
        ":-" => match known {
            Some(v) if !v.value.is_empty() => substitute(name, lookup, out),
            _ => expand_word(out),
        },
        "-" => match known {
            Some(_) => substitute(name, lookup, out),
            None => expand_word(out),
        },
        ":+" => match known {
            Some(v) if !v.value.is_empty() => expand_word(out),
            _ => Ok(()),
        },
        "+" => match known {
            Some(_) => expand_word(out),
            None => Ok(()),
        },
        ":?" | "?" => match known {
            Some(_) => substitute(name, lookup, out),
            None => Err(Unresolved::new(format!(
                "variable {name} is required and has no known value"
            ))),
        },
        _ => Err(Unresolved::new(format!(
            "unsupported expression ${{{inner}}}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look(name: &str) -> Option<Value> {
        match name {
            "TAG" => Some(Value {
                value: "1.27".into(),
                origin: Some(Origin {
                    name: "TAG".into(),
                    span: Span::new(100, 104),
                }),
            }),
            "EMPTY" => Some(Value {
                value: String::new(),
                origin: None,
            }),
            _ => None,
        }
    }

    fn ex(t: &str) -> Result<String, String> {
        expand(
            t,
            0,
            Syntax {
                dollar_escape: true,
            },
            &look,
        )
        .map(|e| e.value)
        .map_err(|e| e.reason)
    }

    #[test]
    fn forms() {
        assert_eq!(ex("nginx:$TAG").unwrap(), "nginx:1.27");
        assert_eq!(ex("nginx:${TAG}").unwrap(), "nginx:1.27");
        assert_eq!(ex("${IMG:-redis:7}").unwrap(), "redis:7");
        assert_eq!(ex("${IMG-redis:7}").unwrap(), "redis:7");
        assert_eq!(ex("${EMPTY:-x}").unwrap(), "x");
        assert_eq!(ex("${EMPTY-x}").unwrap(), "");
        assert_eq!(ex("${IMG:-nginx:${TAG}}").unwrap(), "nginx:1.27");
        assert_eq!(ex("a$$b").unwrap(), "a$b");
        assert!(ex("${IMG}").unwrap_err().contains("IMG"));
        assert!(ex("$IMG").is_err());
        assert!(ex("${IMG:?need}").is_err());
        assert!(ex("${unterminated").is_err());
        assert!(ex("${IMAº}").is_err());
    }

    #[test]
    fn default_origin_span() {
        let t = "${IMG:-redis:7}";
        let e = expand(t, 10, Syntax::default(), &look).unwrap();
        assert_eq!(e.origins.len(), 1);
        let s = e.origins[0].span;
        assert_eq!(&t[s.start - 10..s.end - 10], "redis:7");
    }
}
