//! Jenkins: what a Jenkinsfile's pipeline can read. A Jenkins build is one job (its log names
//! the Jenkins job, not a stage), so the pipeline is one job here, and each credential says in
//! which stage it is bound:
//!
//! - `withCredentials([...])` bindings (`string`, `usernamePassword`, `file`,
//!   `sshUserPrivateKey`, `certificate`, AWS bindings by `$class`, …) by `credentialsId`;
//! - `credentials('id')` in an `environment {}` block;
//! - `docker.withRegistry(url, 'id')`, `sshagent([...])`, `withAWS(credentials: 'id')`,
//!   `git credentialsId:` and any other step given a `credentialsId`.
//!
//! Groovy is read as tokens (strings, comments, slashy strings skipped): only literal ids
//! count; an id built from an interpolation is named as written, with a note.

use super::{Ctx, push_grant};
use crate::job::{CredentialKind, Job, Note};

const SCOPE: &str = "Jenkins credential";

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Punct(u8),
}

fn memchr_from(b: &[u8], from: usize, byte: u8) -> usize {
    b[from..]
        .iter()
        .position(|&c| c == byte)
        .map_or(b.len(), |n| from + n)
}

fn find_from(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|n| from + n)
}

/// Tokens with their byte offsets; comments and white space dropped.
fn lex(text: &str) -> Vec<(Tok, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if b[i..].starts_with(b"//") {
            i = memchr_from(b, i, b'\n');
        } else if b[i..].starts_with(b"/*") {
            i = find_from(b, i + 2, b"*/").map_or(b.len(), |n| n + 2);
        } else if c == b'\'' || c == b'"' {
            // Bytes, not chars: a backslash may be followed by a multi-byte character.
            let close: &[u8] = if b[i..].starts_with(b"'''") {
                b"'''"
            } else if b[i..].starts_with(b"\"\"\"") {
                b"\"\"\""
            } else if c == b'\'' {
                b"'"
            } else {
                b"\""
            };
            let start = i + close.len();
            let mut j = start;
            let mut end = b.len();
            while j < b.len() {
                if b[j] == b'\\' {
                    j += 2;
                    continue;
                }
                if b[j..].starts_with(close) {
                    end = j;
                    break;
                }
                if close.len() == 1 && b[j] == b'\n' {
                    end = j;
                    break;
                }
                j += 1;
            }
            let end = end.min(b.len());
            let value = String::from_utf8_lossy(&b[start.min(end)..end]).into_owned();
            out.push((Tok::Str(value), start));
            i = (end + close.len()).min(b.len()).max(i + 1);
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$') {
                i += 1;
            }
            out.push((Tok::Ident(text[s..i].to_string()), s));
        } else {
            if c.is_ascii() {
                out.push((Tok::Punct(c), i));
            }
            i += 1;
            while i < b.len() && !text.is_char_boundary(i) {
                i += 1;
            }
        }
    }
    out
}

/// What a binding step hands to the build.
fn binding_kind(step: &str) -> &'static str {
    match step {
        "string" => "secret text",
        "usernamePassword" => "username and password",
        "usernameColonPassword" => "username:password",
        "file" => "secret file",
        "sshUserPrivateKey" => "SSH private key",
        "certificate" => "certificate",
        "dockerCert" => "Docker client certificate",
        "AmazonWebServicesCredentialsBinding" | "aws" => "AWS access key",
        "kubeconfigFile" | "kubeconfigContent" | "withKubeConfig" | "withKubeCredentials" => {
            "kubeconfig"
        }
        "gitUsernamePassword" => "git username and password",
        "withRegistry" => "registry login",
        "sshagent" => "SSH key (ssh-agent)",
        "withAWS" => "AWS credentials",
        "git" | "checkout" => "git checkout credentials",
        _ => "credential",
    }
}

/// The rotation a binding's kind calls for, when it says whose the credential is.
fn rotation(kind: &str) -> &'static str {
    match kind {
        "AWS access key" | "AWS credentials" => "aws-access-key",
        "SSH private key" | "SSH key (ssh-agent)" => "ssh-key",
        "registry login" => "registry-credential",
        "kubeconfig" => "kubernetes-token",
        _ => "jenkins-credential",
    }
}

pub(crate) fn read(ctx: &Ctx<'_>, jobs: &mut Vec<Job>, _notes: &mut Vec<Note>) {
    let text = ctx.text();
    let toks = lex(text);
    let tree_name = ctx.tree.folder.clone().or_else(|| {
        ctx.tree
            .name
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty() && *n != "." && *n != "..")
            .map(str::to_string)
    });
    let skip_checkout = toks
        .iter()
        .any(|(t, _)| *t == Tok::Ident("skipDefaultCheckout".into()));
    let mut job = ctx.job(
        "pipeline",
        tree_name.as_deref(),
        0,
        text.len(),
        !skip_checkout,
    );
    let shown = format!("the pipeline of {}", ctx.file.display);
    let stages = stage_ranges(&toks);
    let stage_of = |at: usize| -> String {
        stages
            .iter()
            .filter(|(_, s, e)| *s <= at && at < *e)
            .max_by_key(|(_, s, _)| *s)
            .map_or_else(String::new, |(n, _, _)| format!(" in stage `{n}`"))
    };
    let ident = |i: usize| match toks.get(i) {
        Some((Tok::Ident(s), _)) => Some(s.as_str()),
        _ => None,
    };
    let string = |i: usize| match toks.get(i) {
        Some((Tok::Str(s), at)) => Some((s.as_str(), *at)),
        _ => None,
    };
    let punct = |i: usize, c: u8| matches!(toks.get(i), Some((Tok::Punct(p), _)) if *p == c);
    let mut add = |id: &str, at: usize, kind: &str, why: String| {
        let g = ctx.grant(CredentialKind::Secret, id, SCOPE, why, at, rotation(kind));
        push_grant(&mut job, g);
    };
    for i in 0..toks.len() {
        let Some(name) = ident(i) else { continue };
        match name {
            // `credentialsId: 'x'` anywhere: a binding, a checkout, a plugin step.
            "credentialsId" if punct(i + 1, b':') => {
                let Some((id, at)) = string(i + 2) else {
                    continue;
                };
                let (step, vars) = enclosing_call(&toks, i);
                let kind = binding_kind(&step);
                let vars = if vars.is_empty() {
                    String::new()
                } else {
                    format!(" into {}", vars.join(", "))
                };
                add(
                    id,
                    at,
                    kind,
                    format!(
                        "{shown} binds it ({kind}){vars} with `{step}`{}",
                        stage_of(at)
                    ),
                );
            }
            // `environment { X = credentials('id') }`
            "credentials" if punct(i + 1, b'(') => {
                let Some((id, at)) = string(i + 2) else {
                    continue;
                };
                let var = (i >= 2 && punct(i - 1, b'='))
                    .then(|| ident(i - 2))
                    .flatten()
                    .map(|v| format!(" as `{v}`"))
                    .unwrap_or_default();
                add(
                    id,
                    at,
                    "credential",
                    format!(
                        "{shown} puts it in its environment{var} with `credentials()`{}: every step there can read it",
                        stage_of(at)
                    ),
                );
            }
            // `docker.withRegistry('https://registry', 'id')`
            "withRegistry" if punct(i + 1, b'(') => {
                let registry = string(i + 2).map(|(r, _)| r).unwrap_or("");
                if punct(i + 3, b',')
                    && let Some((id, at)) = string(i + 4)
                {
                    add(
                        id,
                        at,
                        binding_kind("withRegistry"),
                        format!(
                            "{shown} logs in to `{registry}` with it (`docker.withRegistry`){}: the login is saved in the agent's docker config",
                            stage_of(at)
                        ),
                    );
                }
            }
            // `sshagent(['a', 'b'])`, `sshagent(credentials: ['a'])`, `withAWS(credentials: 'id')`
            "sshagent" | "withAWS" if punct(i + 1, b'(') => {
                let mut j = i + 2;
                let mut depth = 1;
                while j < toks.len() && depth > 0 {
                    match &toks[j].0 {
                        Tok::Punct(b'(') => depth += 1,
                        Tok::Punct(b')') => depth -= 1,
                        Tok::Str(id) => {
                            let key = (j >= 2 && punct(j - 1, b':'))
                                .then(|| ident(j - 2))
                                .flatten();
                            if name == "sshagent" || key == Some("credentials") {
                                add(
                                    id,
                                    toks[j].1,
                                    binding_kind(name),
                                    format!(
                                        "{shown} loads it with `{name}` ({}){}",
                                        binding_kind(name),
                                        stage_of(toks[j].1)
                                    ),
                                );
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
            }
            _ => {}
        }
    }
    for (i, (t, _)) in toks.iter().enumerate() {
        let library = match t {
            Tok::Ident(s) if s == "library" => punct(i + 1, b'('),
            Tok::Punct(b'@') => ident(i + 1) == Some("Library"),
            _ => false,
        };
        if library {
            job.notes.push(
                "loads a shared library: credentials its steps bind are not listed here; read the library"
                    .to_string(),
            );
            break;
        }
    }
    for g in &job.grants {
        if g.name.contains("${") || g.name.contains('$') {
            job.notes.push(format!(
                "credential id `{}` is built from a variable: find which ids it takes",
                g.name
            ));
        }
    }
    jobs.push(job);
}

/// `stage('name') { … }`: each stage's name and byte range.
fn stage_ranges(toks: &[(Tok, usize)]) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    for i in 0..toks.len() {
        if toks[i].0 != Tok::Ident("stage".into()) {
            continue;
        }
        let (Some((Tok::Punct(b'('), _)), Some((Tok::Str(name), _))) =
            (toks.get(i + 1), toks.get(i + 2))
        else {
            continue;
        };
        // The block after the closing parenthesis.
        let mut j = i + 3;
        while j < toks.len() && toks[j].0 != Tok::Punct(b'{') {
            j += 1;
        }
        let start = toks.get(j).map_or(0, |t| t.1);
        let mut depth = 0usize;
        let mut end = toks.last().map_or(0, |t| t.1);
        for (t, at) in &toks[j.min(toks.len())..] {
            match t {
                Tok::Punct(b'{') => depth += 1,
                Tok::Punct(b'}') => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = *at;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push((name.clone(), start, end));
    }
    out
}

/// The call or map a `credentialsId:` sits in (`usernamePassword`, a `$class`), and the
/// variables it binds (`variable:`, `usernameVariable:`, …).
fn enclosing_call(toks: &[(Tok, usize)], at: usize) -> (String, Vec<String>) {
    // Back to the unclosed bracket, then the name before it.
    let mut depth = 0i32;
    let mut open = None;
    let mut j = at;
    while j > 0 {
        j -= 1;
        match toks[j].0 {
            Tok::Punct(b')' | b']') => depth += 1,
            Tok::Punct(b'(' | b'[') => {
                if depth == 0 {
                    open = Some(j);
                    break;
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    let Some(open) = open else {
        return ("a step".to_string(), Vec::new());
    };
    let mut step = match open.checked_sub(1).and_then(|k| toks.get(k)) {
        Some((Tok::Ident(s), _)) => s.clone(),
        _ => "a step".to_string(),
    };
    // Forward through the same bracket: `$class`, and the variables bound.
    let mut vars = Vec::new();
    let mut depth = 0i32;
    let mut k = open + 1;
    while k < toks.len() {
        match &toks[k].0 {
            Tok::Punct(b'(' | b'[') => depth += 1,
            Tok::Punct(b')' | b']') => {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
            Tok::Ident(key)
                if depth == 0 && matches!(toks.get(k + 1), Some((Tok::Punct(b':'), _))) =>
            {
                if let Some((Tok::Str(v), _)) = toks.get(k + 2) {
                    if key == "$class" {
                        step = v.clone();
                    } else if key.ends_with("Variable") {
                        vars.push(format!("`{v}`"));
                    }
                }
            }
            _ => {}
        }
        k += 1;
    }
    (step, vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_comments() {
        let toks = lex("a('x') // credentials('no')\n/* 'no' */ b \"y\\\"z\" '''m\nl'''");
        let strs: Vec<String> = toks
            .into_iter()
            .filter_map(|(t, _)| match t {
                Tok::Str(s) => Some(s),
                _ => None,
            })
            .collect();
        assert_eq!(strs, ["x", "y\\\"z", "m\nl"]);
    }

    #[test]
    fn multi_byte_characters_anywhere() {
        for text in [
            "'aé'", "\"\\é\"", "'''é", "'é", "é'", "/*é", "//é\né", "'\\",
        ] {
            let _ = lex(text);
        }
        assert_eq!(lex("credentials('clé')")[2].0, Tok::Str("clé".into()));
    }
}
