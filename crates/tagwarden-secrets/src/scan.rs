//! One file's bytes to matches: skip what cannot hold text, find the rules' keywords in one
//! pass, run the regexes of the rules whose keywords are there, read the file's assignments
//! with its structured reader (and decoded values as documents of their own), then keep one
//! match per value and pair the halves of a credential.

use std::borrow::Cow;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use tagwarden_extract::Span;
use tagwarden_findings::{ByteSpan, Location};
use tagwarden_text::LineIndex;

use crate::filters;
use crate::readers::{self, Assignment, Format};
use crate::redact::{Fingerprint, preview};
use crate::rules::{Matcher, RuleError, RuleSet};
use crate::{FileScan, Match, Note, NoteKind, Options};

/// Decoded documents inside decoded documents: a Secret holding a docker config holding a
/// base64 `auth` is two levels; more is never needed and bounds the work.
const MAX_DEPTH: usize = 3;
/// Keyword hits kept per document for the line reader.
const MAX_HITS: usize = 100_000;

/// Compiled rules and their keyword prefilter. Build once, share between threads.
pub struct Scanner {
    rules: RuleSet,
    options: Options,
    /// Every keyword of every rule.
    prefilter: AhoCorasick,
    /// For each keyword of `prefilter`: the pattern rules it lets run.
    triggers: Vec<Vec<usize>>,
    /// For each keyword of `prefilter`: whether it may start a name an assignment rule judges.
    names_keyword: Vec<bool>,
    /// The keywords of assignment rules alone: a name without one is never judged.
    names: AhoCorasick,
    assignment_rules: Vec<usize>,
}

/// A match before overlaps are resolved.
struct Candidate {
    rule: usize,
    /// Where the value is written in the file (the encoded text, for a decoded value).
    span: Span,
    fingerprint: Fingerprint,
    preview: String,
    account: Option<String>,
    key: Option<String>,
    decoded: Option<String>,
    paired_with: Option<Fingerprint>,
}

/// Where a decoded document sits in the file being scanned.
struct Outer {
    span: Span,
    via: String,
}

struct Work<'a> {
    candidates: Vec<Candidate>,
    notes: Vec<Note>,
    path: &'a str,
    truncated: bool,
    /// The file is test code or test data, whose made-up passwords are not credentials.
    in_tests: bool,
}

impl Scanner {
    pub fn new(rules: RuleSet, options: Options) -> Result<Scanner, Vec<RuleError>> {
        let mut keywords: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<usize>> = Vec::new();
        for (i, r) in rules.rules.iter().enumerate() {
            for k in &r.keywords {
                match keywords.iter().position(|x| x == k) {
                    Some(p) => owners[p].push(i),
                    None => {
                        keywords.push(k.clone());
                        owners.push(vec![i]);
                    }
                }
            }
        }
        // A keyword inside another (`pass` in `password`) would hide it in a non-overlapping
        // search: the shorter one stands for both.
        let mut kept: Vec<(String, Vec<usize>)> = Vec::new();
        for (k, own) in keywords.iter().zip(&owners) {
            if keywords.iter().any(|s| s != k && k.contains(s.as_str())) {
                continue;
            }
            let mut all: Vec<usize> = keywords
                .iter()
                .zip(&owners)
                .filter(|(other, _)| other.contains(k.as_str()))
                .flat_map(|(_, o)| o.iter().copied())
                .collect();
            all.extend(own);
            all.sort_unstable();
            all.dedup();
            kept.push((k.clone(), all));
        }
        let is_pattern = |i: &usize| matches!(rules.rules[*i].matcher, Matcher::Pattern(_));
        let triggers = kept
            .iter()
            .map(|(_, own)| own.iter().copied().filter(is_pattern).collect())
            .collect();
        let names_keyword: Vec<bool> = kept
            .iter()
            .map(|(_, own)| own.iter().any(|i| !is_pattern(i)))
            .collect();
        let name_words: Vec<&str> = kept
            .iter()
            .zip(&names_keyword)
            .filter(|(_, n)| **n)
            .map(|((k, _), _)| k.as_str())
            .collect();
        let build = |words: Vec<&str>| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostFirst)
                .kind(Some(AhoCorasickKind::DFA))
                .build(words)
                .map_err(|e| {
                    vec![RuleError {
                        path: "keywords".into(),
                        line: 1,
                        column: 1,
                        message: e.to_string(),
                    }]
                })
        };
        let prefilter = build(kept.iter().map(|(k, _)| k.as_str()).collect())?;
        let names = build(name_words)?;
        let assignment_rules = (0..rules.rules.len()).filter(|i| !is_pattern(i)).collect();
        Ok(Scanner {
            rules,
            options,
            prefilter,
            triggers,
            names_keyword,
            names,
            assignment_rules,
        })
    }

    /// The rules this scanner applies.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Scans one file's bytes; `path` (relative, `/`-separated) names the file in every match
    /// and decides its reader.
    pub fn scan(&self, path: &str, bytes: &[u8]) -> FileScan {
        let (candidates, notes, text) = match self.prepare(path, bytes) {
            Err(notes) => {
                return FileScan {
                    matches: Vec::new(),
                    notes,
                };
            }
            Ok(x) => x,
        };
        let index = LineIndex::new(&text);
        let mut candidates = self.pair(candidates, &index);
        self.resolve_overlaps(&mut candidates);
        let (mut starts, mut ends) = (Columns::new(&text, &index), Columns::new(&text, &index));
        let matches = candidates
            .into_iter()
            .map(|c| {
                let (line, column) = starts.line_col(c.span.start);
                let (end_line, end_column) = ends.line_col(c.span.end);
                Match {
                    rule: Arc::clone(&self.rules.rules[c.rule]),
                    location: Location {
                        path: path.to_string(),
                        line,
                        column,
                        end_line,
                        end_column: if c.span.is_empty() {
                            column + 1
                        } else {
                            end_column
                        },
                        span: Some(ByteSpan::new(c.span.start, c.span.end)),
                    },
                    preview: c.preview,
                    fingerprint: c.fingerprint,
                    key: c.key,
                    account: c.account,
                    decoded: c.decoded,
                    paired_with: c.paired_with,
                }
            })
            .collect();
        FileScan { matches, notes }
    }

    /// Rule ids of the matches in a file before overlapping matches are resolved (pairs that a
    /// rule requires are still enforced): what the self-test checks.
    pub(crate) fn candidates(&self, path: &str, bytes: &[u8]) -> Vec<String> {
        let Ok((candidates, _, text)) = self.prepare(path, bytes) else {
            return Vec::new();
        };
        let index = LineIndex::new(&text);
        self.pair(candidates, &index)
            .into_iter()
            .map(|c| self.rules.rules[c.rule].id.clone())
            .collect()
    }

    #[allow(clippy::type_complexity)]
    fn prepare<'b>(
        &self,
        path: &str,
        bytes: &'b [u8],
    ) -> Result<(Vec<Candidate>, Vec<Note>, Cow<'b, str>), Vec<Note>> {
        if bytes.len() > self.options.max_file_size {
            return Err(vec![Note::file(
                path,
                NoteKind::TooLarge,
                format!(
                    "not scanned: {} bytes, more than the limit of {}",
                    bytes.len(),
                    self.options.max_file_size
                ),
            )]);
        }
        if memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some() {
            return Err(vec![Note::file(
                path,
                NoteKind::Binary,
                "not scanned: binary file".to_string(),
            )]);
        }
        let text = to_text(bytes);
        let mut work = Work {
            candidates: Vec::new(),
            notes: Vec::new(),
            path,
            truncated: false,
            in_tests: is_test_path(path),
        };
        self.collect(path, &text, &text, 0, None, &mut work);
        if work.truncated {
            work.notes.push(Note::file(
                path,
                NoteKind::Truncated,
                format!(
                    "more than {} matches: the rest of the file was not reported",
                    self.options.max_matches
                ),
            ));
        }
        Ok((work.candidates, work.notes, text))
    }

    /// Finds candidates in `text`, a file or a document decoded from one (`outer`).
    fn collect(
        &self,
        name: &str,
        text: &str,
        top: &str,
        depth: usize,
        outer: Option<&Outer>,
        work: &mut Work<'_>,
    ) {
        let mut triggered = vec![false; self.rules.rules.len()];
        let mut hits = Vec::new();
        for m in self.prefilter.find_iter(text) {
            let k = m.pattern().as_usize();
            for &r in &self.triggers[k] {
                triggered[r] = true;
            }
            if self.names_keyword[k] && hits.len() < MAX_HITS {
                hits.push(m.start());
            }
        }
        for (i, _) in triggered.iter().enumerate().filter(|(_, t)| **t) {
            self.match_pattern(i, text, outer, work);
        }

        let format = Format::of(name);
        let credential_file = matches!(
            format,
            Format::Dotenv | Format::TerraformState | Format::Npmrc | Format::Netrc
        ) || matches!(format, Format::Ini(s) if s != crate::rules::Source::Ini);
        if hits.is_empty() && !credential_file {
            return;
        }
        let wanted = |n: &str| self.names.is_match(n);
        let reading = readers::read(format, text, &wanted);
        for (offset, message) in &reading.problems {
            let at = outer.map_or(*offset, |o| o.span.start);
            work.notes.push(Note::at(
                work.path,
                top,
                at,
                NoteKind::Unparsed,
                message.clone(),
            ));
        }
        for a in &reading.assignments {
            self.judge(a, outer, work);
        }
        let code = matches!(format, Format::Text { code: true });
        if reading.fall_back_to_lines {
            for a in readers::read_lines(text, &hits, code, &wanted) {
                self.judge(&a, outer, work);
            }
        }
        for region in &reading.line_regions {
            let inside: Vec<usize> = hits
                .iter()
                .copied()
                .filter(|h| *h >= region.start && *h < region.end)
                .collect();
            for a in readers::read_lines(text, &inside, false, &wanted) {
                self.judge(&a, outer, work);
            }
        }
        if depth >= MAX_DEPTH {
            return;
        }
        let decoded = reading.assignments.iter().filter_map(|a| {
            let via = a.decoded?;
            Some((
                a.name.as_str(),
                a.value.as_str(),
                a.span,
                format!("{via} value of {}", a.path),
            ))
        });
        let embedded = reading.embedded.iter().map(|e| {
            (
                e.name.as_str(),
                e.text.as_str(),
                e.span,
                format!("{} of a value", e.via),
            )
        });
        for (name, inner, span, via) in decoded.chain(embedded) {
            let outer_here = match outer {
                Some(o) => Outer {
                    span: o.span,
                    via: format!("{via}, inside the {}", o.via),
                },
                None => Outer { span, via },
            };
            self.collect(name, inner, top, depth + 1, Some(&outer_here), work);
        }
    }

    fn push(&self, work: &mut Work<'_>, c: Candidate) {
        if work.candidates.len() >= self.options.max_matches.saturating_mul(4) {
            work.truncated = true;
            return;
        }
        work.candidates.push(c);
    }

    fn match_pattern(&self, i: usize, text: &str, outer: Option<&Outer>, work: &mut Work<'_>) {
        let rule = &self.rules.rules[i];
        let Matcher::Pattern(re) = &rule.matcher else {
            return;
        };
        for caps in re.captures_iter(text) {
            let Some(m) = caps.name("secret") else {
                continue;
            };
            let secret = m.as_str();
            // `postgres:postgres@`: a local default, the user name again.
            if filters::not_a_value(secret).is_some()
                || caps.name("user").is_some_and(|u| u.as_str() == secret)
            {
                continue;
            }
            if rule.entropy.is_some_and(|e| filters::entropy(secret) < e) {
                continue;
            }
            let account = match (caps.name("user"), caps.name("host"), caps.name("account")) {
                (Some(u), Some(h), _) => Some(format!("{} at {}", u.as_str(), h.as_str())),
                (_, _, Some(a)) => Some(a.as_str().to_string()),
                _ => None,
            };
            let prefix = rule
                .keywords
                .iter()
                .filter(|k| secret.len() > k.len() && secret[..k.len()].eq_ignore_ascii_case(k))
                .map(|k| k.len())
                .max()
                .unwrap_or(0);
            let span = outer.map_or(Span::new(m.start(), m.end()), |o| o.span);
            let c = self.candidate(i, span, secret, prefix, account, None, outer);
            self.push(work, c);
            if work.truncated {
                return;
            }
        }
    }

    /// Whether assignment rules take `a`, and as what.
    fn judge(&self, a: &Assignment, outer: Option<&Outer>, work: &mut Work<'_>) {
        for &i in &self.assignment_rules {
            let rule = &self.rules.rules[i];
            let Matcher::Assignment(spec) = &rule.matcher else {
                continue;
            };
            if (!spec.sources.is_empty() && !spec.sources.contains(&a.source))
                || (spec.declared && !a.declared)
                || !spec.name.is_match(&a.name)
                || spec.not_name.as_ref().is_some_and(|n| n.is_match(&a.name))
            {
                continue;
            }
            let value = a.value.trim();
            let secret = match &spec.value {
                None => value,
                Some(re) => match re.captures(value) {
                    Some(c) => c.name("secret").map_or(value, |m| m.as_str()),
                    None => continue,
                },
            };
            if secret.chars().count() < spec.min_length {
                continue;
            }
            // A password in a test or an example is the test's; a provider's format or a
            // provider's named value still counts there.
            if (rule.is_generic() || spec.declared) && work.in_tests {
                continue;
            }
            let rejected = if rule.is_generic() {
                filters::not_a_secret(secret)
            } else {
                filters::not_a_value(secret)
            };
            if rejected.is_some() || rule.entropy.is_some_and(|e| filters::entropy(secret) < e) {
                continue;
            }
            let span = outer.map_or(a.span, |o| o.span);
            let decoded = a.decoded.map(|via| format!("{via} value of {}", a.path));
            let c = self.candidate(
                i,
                span,
                secret,
                0,
                a.account.clone(),
                Some(a.path.clone()),
                outer,
            );
            let c = Candidate {
                decoded: decoded.or(c.decoded),
                ..c
            };
            self.push(work, c);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn candidate(
        &self,
        rule: usize,
        span: Span,
        secret: &str,
        prefix: usize,
        account: Option<String>,
        key: Option<String>,
        outer: Option<&Outer>,
    ) -> Candidate {
        Candidate {
            rule,
            span,
            fingerprint: Fingerprint::of(secret, self.options.fingerprint_key.as_deref()),
            preview: preview(secret, prefix),
            account,
            key,
            decoded: outer.map(|o| o.via.clone()),
            paired_with: None,
        }
    }

    /// Links each match of a paired rule to the nearest match of its partner within the
    /// rule's lines, and drops those that need a partner and have none.
    fn pair(&self, mut candidates: Vec<Candidate>, index: &LineIndex) -> Vec<Candidate> {
        let line = |c: &Candidate| index.line_of(c.span.start);
        let mut keep = vec![true; candidates.len()];
        let mut links = vec![None; candidates.len()];
        for (i, c) in candidates.iter().enumerate() {
            let Some(pair) = &self.rules.rules[c.rule].pair else {
                continue;
            };
            let Some(partner) = self.rules.index(&pair.rule) else {
                continue;
            };
            let at = line(c);
            let nearest = candidates
                .iter()
                .filter(|p| p.rule == partner)
                .map(|p| (line(p).abs_diff(at), p.fingerprint))
                .filter(|(d, _)| *d <= pair.within_lines)
                .min_by_key(|(d, _)| *d);
            match nearest {
                Some((_, fp)) => links[i] = Some(fp),
                None if pair.required => keep[i] = false,
                None => {}
            }
        }
        let mut i = 0;
        candidates.retain_mut(|c| {
            c.paired_with = links[i];
            i += 1;
            keep[i - 1]
        });
        candidates
    }

    /// One match per value: where two matches overlap and are the same secret (or both are
    /// read from the file's own bytes), the rule with the higher precedence stays, and keeps
    /// the other's account and key when it has none.
    fn resolve_overlaps(&self, candidates: &mut Vec<Candidate>) {
        candidates.sort_by_key(|c| (c.span.start, c.span.end));
        let rank = |c: &Candidate| {
            let r = &self.rules.rules[c.rule];
            (
                r.precedence(),
                c.decoded.is_none(),
                std::cmp::Reverse(c.span.len()),
            )
        };
        let mut dropped = vec![false; candidates.len()];
        for i in 0..candidates.len() {
            if dropped[i] {
                continue;
            }
            for j in i + 1..candidates.len() {
                if candidates[j].span.start
                    >= candidates[i].span.end.max(candidates[i].span.start + 1)
                {
                    break;
                }
                if dropped[j] {
                    continue;
                }
                let (a, b) = (&candidates[i], &candidates[j]);
                let same =
                    a.fingerprint == b.fingerprint || (a.decoded.is_none() && b.decoded.is_none());
                if !same {
                    continue;
                }
                let (win, lose) = if rank(a) >= rank(b) { (i, j) } else { (j, i) };
                dropped[lose] = true;
                let (account, key) = (candidates[lose].account.take(), candidates[lose].key.take());
                let w = &mut candidates[win];
                w.account = w.account.take().or(account);
                w.key = w.key.take().or(key);
                if lose == i {
                    break;
                }
            }
        }
        let mut k = 0;
        candidates.retain(|_| {
            k += 1;
            !dropped[k - 1]
        });
        candidates.truncate(self.options.max_matches);
    }
}

/// Lines and columns of ascending offsets in one text in linear time: a column is counted from
/// the previous offset on the same line, so a minified file with many matches stays linear.
struct Columns<'t> {
    text: &'t str,
    index: &'t LineIndex,
    ascii: bool,
    /// (line, offset, column) of the previous call.
    last: Option<(usize, usize, usize)>,
}

impl<'t> Columns<'t> {
    fn new(text: &'t str, index: &'t LineIndex) -> Self {
        Columns {
            text,
            index,
            ascii: text.is_ascii(),
            last: None,
        }
    }

    fn line_col(&mut self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.index.line_of(offset);
        let start = self.index.line_start(line).unwrap_or(0);
        if self.ascii {
            return (line, offset - start + 1);
        }
        let (from, column) = match self.last {
            Some((l, o, c)) if l == line && o <= offset => (o, c),
            _ => (start, 1),
        };
        let column = column
            + self
                .text
                .get(from..offset)
                .map_or(offset - from, |s| s.chars().count());
        self.last = Some((line, offset, column));
        (line, column)
    }
}

/// Test code and test data: `tests/`, `__tests__/`, `spec/`, `testdata/`, `fixtures/`,
/// `*_test.go`, `test_*.py`, `*.test.js`, `*.spec.ts`.
fn is_test_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase().replace('\\', "/");
    let mut parts = lower.split('/').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            let stem = part.split('.').next().unwrap_or(part);
            return stem.starts_with("test_")
                || stem.ends_with("_test")
                || stem.ends_with("_spec")
                || part.contains(".test.")
                || part.contains(".spec.");
        }
        if matches!(
            part,
            "test"
                | "tests"
                | "__tests__"
                | "spec"
                | "specs"
                | "testdata"
                | "fixtures"
                | "__fixtures__"
                | "testing"
                | "example"
                | "examples"
                | "samples"
        ) {
            return true;
        }
    }
    false
}

/// The bytes as text with the same offsets: each byte of an invalid UTF-8 sequence becomes `?`.
fn to_text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len());
            for chunk in bytes.utf8_chunks() {
                out.push_str(chunk.valid());
                out.extend(std::iter::repeat_n('?', chunk.invalid().len()));
            }
            Cow::Owned(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_paths() {
        for p in [
            "tests/a.py",
            "src/__tests__/x.js",
            "pkg/auth_test.go",
            "test_login.py",
            "web/app.spec.ts",
            "a/testdata/b.env",
        ] {
            assert!(is_test_path(p), "{p}");
        }
        for p in ["src/app.py", "latest/x.yaml", "contest.py", ".env"] {
            assert!(!is_test_path(p), "{p}");
        }
    }

    #[test]
    fn columns_count_characters() {
        let t = "ab\nçd x ü y\n";
        let index = LineIndex::new(t);
        let mut c = Columns::new(t, &index);
        assert_eq!(c.line_col(0), (1, 1));
        assert_eq!(c.line_col(3), (2, 1));
        assert_eq!(c.line_col(5), (2, 2));
        assert_eq!(c.line_col(12), (2, 8));
        assert_eq!(c.line_col(9), (2, 6));
    }

    #[test]
    fn invalid_utf8_keeps_offsets() {
        let t = to_text(b"a\xff\xfeb\xe2\x82");
        assert_eq!(t, "a??b??");
    }
}
