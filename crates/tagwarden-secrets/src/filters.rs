//! What a secret-shaped value must not be: the false-positive filters users of secret scanners
//! ask for (templated values, placeholders, UUIDs, hashes, paths, lorem ipsum), and entropy.

/// Shannon entropy of `s` in bits per character.
pub(crate) fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut n = 0u32;
    for b in s.bytes() {
        counts[b as usize] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = f64::from(n);
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Words that mark a value as documentation or a stand-in rather than a credential.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "sample",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "dummy",
    "redacted",
    "replace_me",
    "replaceme",
    "replace-with",
    "insert_",
    "insert-",
    "notreal",
    "not_real",
    "not-a-real",
    "lorem",
    "ipsum",
    "xxxx",
    "todo",
    "fixme",
    "tbd",
];

/// Whole values that stand for "fill this in".
const PLACEHOLDER_VALUES: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "key",
    "pass",
    "changeit",
    "admin",
    "root",
    "test",
    "testing",
    "none",
    "null",
    "nil",
    "undefined",
    "true",
    "false",
    "yes",
    "no",
    "on",
    "off",
    "empty",
    "default",
    "mypassword",
    "mysecret",
    "secretkey",
    "password123",
    "qwerty",
    "letmein",
    "private",
    "hidden",
    "masked",
    "required",
    "optional",
    "hunter2",
];

/// Credentials published on purpose, for emulators and documentation: the Azure storage
/// emulator's (Azurite's) account key.
const PUBLIC_VALUES: &[&str] =
    &["Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="];

/// Why a value found by a token format is not reported, if it is not: it is templated or a
/// placeholder. Applies to every rule.
pub(crate) fn not_a_value(v: &str) -> Option<&'static str> {
    let t = v.trim();
    if t.is_empty() {
        return Some("empty");
    }
    if is_templated(t) {
        return Some("templated");
    }
    let lower = t.to_ascii_lowercase();
    if PLACEHOLDER_VALUES.contains(&lower.as_str()) {
        return Some("placeholder");
    }
    if PUBLIC_VALUES.contains(&t) {
        return Some("a published test credential");
    }
    // Ellipses and masks never occur in encoded secrets; words do, by chance, in long ones.
    if ["....", "…", "****", "xxxxxxxx"]
        .iter()
        .any(|w| lower.contains(w))
        || (t.len() <= 100 && PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w)))
    {
        return Some("placeholder");
    }
    if lower.starts_with("your") || lower.starts_with("my-") || lower.starts_with("my_") {
        return Some("placeholder");
    }
    if (t.starts_with('<') && t.ends_with('>')) || (t.starts_with('[') && t.ends_with(']')) {
        return Some("placeholder");
    }
    let distinct = {
        let mut seen = [false; 256];
        t.bytes()
            .filter(|&b| !std::mem::replace(&mut seen[b as usize], true))
            .count()
    };
    if t.len() >= 6 && distinct <= 3 {
        return Some("repeated characters");
    }
    if ["123456789", "abcdefgh", "ABCDEFGH", "987654321", "qwertyui"]
        .iter()
        .any(|s| t.contains(s))
    {
        return Some("a sequence");
    }
    None
}

/// Whether the value is a reference to a secret held elsewhere rather than the secret:
/// `${VAR}`, `$VAR`, `{{ .Values.x }}`, `${{ secrets.X }}`, `%(x)s`, `#{x}`, `<%= x %>`.
pub(crate) fn is_templated(v: &str) -> bool {
    const MARKERS: &[&str] = &[
        "${",
        "{{",
        "}}",
        "$(",
        "%(",
        "#{",
        "<%",
        "%{",
        "@{",
        "$ENV{",
        "((",
        "))",
        "process.env",
        "os.environ",
        "getenv",
        "secrets.",
        "env.",
        "vault:",
        "ref+",
        "!Ref",
        "!Sub",
        "!GetAtt",
        "arn:aws:secretsmanager",
        "arn:aws:ssm",
    ];
    if MARKERS.iter().any(|m| v.contains(m)) {
        return true;
    }
    let b = v.as_bytes();
    // `$VAR` anywhere (`?$SAS_TOKEN`), `%VAR%` (Windows), `@VAR@` (autoconf), `__VAR__`
    // (token replacement tools); `$` before a lower-case letter may be part of a password.
    b.windows(2)
        .any(|w| w[0] == b'$' && (w[1].is_ascii_uppercase() || w[1] == b'_'))
        || (b.first() == Some(&b'$') && b.get(1).is_some_and(|c| c.is_ascii_alphabetic()))
        || (b.len() > 2 && b[0] == b'%' && b[b.len() - 1] == b'%')
        || (b.len() > 2 && b[0] == b'@' && b[b.len() - 1] == b'@')
        || (b.len() > 4 && v.starts_with("__") && v.ends_with("__"))
}

/// Why a value bound to a secret-like name is not a secret, if it is not: the checks of
/// [`not_a_value`] and the shapes of values that are not random (UUIDs, integrity hashes, paths,
/// URLs without credentials, numbers, e-mail addresses, plain words).
pub(crate) fn not_a_secret(v: &str) -> Option<&'static str> {
    let t = v.trim();
    // Before templates: a crypt hash's `$2b$12$K…` is not a variable.
    if is_integrity_hash(t) {
        return Some("a hash");
    }
    if let Some(why) = not_a_value(v) {
        return Some(why);
    }
    if is_uuid(t) {
        return Some("a UUID");
    }
    if is_integrity_hash(t) {
        return Some("a hash");
    }
    if t.starts_with('/')
        || t.starts_with("./")
        || t.starts_with("../")
        || t.starts_with("~/")
        || t.starts_with("file:")
        || (t.len() > 2 && t.as_bytes()[1] == b':' && t.as_bytes()[2] == b'\\')
        || has_file_extension(t)
    {
        return Some("a file path");
    }
    if t.contains("://") && !t.contains('@') {
        return Some("a URL");
    }
    if t.bytes()
        .all(|b| b.is_ascii_digit() || b".-_:, ".contains(&b))
    {
        return Some("a number");
    }
    if t.contains('@')
        && t.contains('.')
        && !t.contains(' ')
        && t.bytes().filter(|&b| b == b'@').count() == 1
        && !t.contains("://")
    {
        let (user, host) = t.split_once('@').unwrap_or(("", ""));
        if !user.is_empty()
            && host.contains('.')
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-".contains(&b))
        {
            return Some("an e-mail address");
        }
    }
    if t.contains(' ') && t.split(' ').filter(|w| !w.is_empty()).count() >= 3 {
        return Some("prose");
    }
    if is_plain_words(t) {
        return Some("a name, not a random value");
    }
    if is_default_password(t) {
        return Some("a default password");
    }
    None
}

/// A word and a run of ascending digits (`Harbor12345`, `root123`, `Admin@123`): the defaults of
/// demo and CI databases, documented as such.
fn is_default_password(t: &str) -> bool {
    let digits = t.trim_end_matches('!');
    let word_end = digits
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(digits.len());
    let (word, run) = digits.split_at(word_end);
    let word = word.trim_end_matches(['@', '#', '_', '.', '-']);
    !word.is_empty()
        && word.bytes().all(|b| b.is_ascii_alphabetic())
        && run.len() >= 3
        && "1234567890".starts_with(run)
}

fn is_uuid(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `sha256:…`, `sha512-…` (npm integrity), `md5:…`, and password hashes in crypt's format
/// (`$2b$12$…`, `$argon2id$…`, `$6$…`).
fn is_integrity_hash(t: &str) -> bool {
    if [
        "$2a$", "$2b$", "$2y$", "$argon2", "$5$", "$6$", "$pbkdf2", "$scrypt$",
    ]
    .iter()
    .any(|p| t.starts_with(p))
    {
        return true;
    }
    ["sha1", "sha224", "sha256", "sha384", "sha512", "md5"]
        .iter()
        .any(|a| {
            t.strip_prefix(a)
                .and_then(|r| r.strip_prefix(':').or_else(|| r.strip_prefix('-')))
                .is_some_and(|r| r.len() >= 16)
        })
}

fn has_file_extension(t: &str) -> bool {
    const EXT: &[&str] = &[
        ".pem",
        ".key",
        ".crt",
        ".cer",
        ".p12",
        ".pfx",
        ".jks",
        ".json",
        ".yaml",
        ".yml",
        ".txt",
        ".env",
        ".conf",
        ".cfg",
        ".ini",
        ".gpg",
        ".asc",
        ".pub",
        ".der",
        ".keystore",
        ".toml",
    ];
    let lower = t.to_ascii_lowercase();
    EXT.iter()
        .any(|e| lower.ends_with(e) && lower.len() > e.len())
}

/// Words joined by `-`, `_`, `.`, `/` or `:` without digits (`my-app-secret`,
/// `kubernetes.io/hostname`, `DB_PASSWORD`), or letters that read as words (`hunter`,
/// `SuperSecretName`): what a name or a reference looks like, not a generated secret.
fn is_plain_words(t: &str) -> bool {
    if t.bytes().any(|b| b.is_ascii_digit()) {
        return false;
    }
    if t.bytes().all(|b| b.is_ascii_alphabetic()) {
        // camelCase humps of three letters or more are words; `RSwCLPFaSd` is not.
        let mut humps = Vec::new();
        let mut start = 0;
        for (i, c) in t.char_indices().skip(1) {
            if c.is_ascii_uppercase() {
                humps.push(&t[start..i]);
                start = i;
            }
        }
        humps.push(&t[start..]);
        let all_upper = t.bytes().all(|b| b.is_ascii_uppercase());
        return all_upper || humps.iter().all(|h| h.len() >= 3);
    }
    let separated = |upper: bool| {
        t.bytes().all(|b| {
            (if upper {
                b.is_ascii_uppercase()
            } else {
                b.is_ascii_lowercase()
            }) || b"-_./:".contains(&b)
        }) && t
            .split(['-', '_', '.', '/', ':'])
            .all(|w| w.is_empty() || w.len() >= 2)
    };
    separated(false) || separated(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_shapes() {
        assert_eq!(entropy(""), 0.0);
        assert_eq!(entropy("aaaa"), 0.0);
        assert!((entropy("abcd") - 2.0).abs() < 1e-9);
        assert!(entropy("q8Zr2LmV0xTf7KpW3sNd9Bc6") > 4.0);
    }

    #[test]
    fn templated_and_placeholders() {
        for v in [
            "${DB_PASSWORD}",
            "$DB_PASSWORD",
            "{{ .Values.password }}",
            "${{ secrets.TOKEN }}",
            "%(password)s",
            "<your-token>",
            "YOUR_API_KEY",
            "changeme",
            "xxxxxxxxxxxx",
            "********",
            "AKIAIOSFODNN7EXAMPLE",
            "lorem-ipsum-dolor",
            "%APPDATA%",
            "__TOKEN__",
        ] {
            assert!(not_a_value(v).is_some(), "{v}");
        }
        for v in [
            "q8Zr2LmV0xTf7KpW3sNd9Bc6",
            "Tr0ub4dor&3",
            "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        ] {
            assert_eq!(not_a_value(v), None, "{v}");
        }
    }

    #[test]
    fn shapes_that_are_not_secrets() {
        for (v, why) in [
            ("123e4567-e89b-12d3-a456-426614174000", "a UUID"),
            (
                "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "a hash",
            ),
            ("/run/secrets/db_password", "a file path"),
            (
                "$2b$12$KIXQJ7o3p1n6W0rK9fYQeOq2xq1n5m7Yw8cZb4sT6uV0aB3dE5fGh",
                "a hash",
            ),
            ("certs/client.key", "a file path"),
            ("https://vault.internal/v1/secret", "a URL"),
            ("3600", "a number"),
            ("ops@corp.internal", "an e-mail address"),
            ("my-app-secret", "placeholder"),
            ("app-db-credentials", "a name, not a random value"),
            ("SuperSecretName", "a name, not a random value"),
            ("the token used by the deploy job", "prose"),
        ] {
            assert_eq!(not_a_secret(v), Some(why), "{v}");
        }
        assert_eq!(not_a_secret("k3p9-Wq2z-Lm4x-Tt8v"), None);
        assert_eq!(not_a_secret("RSwCLPFaSd"), None);
        for (v, why) in [
            ("kubernetes.io/hostname", "a name, not a random value"),
            ("DB_PASSWORD", "a name, not a random value"),
            ("zulip__postgres_password", "a name, not a random value"),
            ("?$COVERAGE_REPORT_SAS", "templated"),
            ("Harbor12345", "a default password"),
            ("Gaussdb@123", "a default password"),
        ] {
            assert_eq!(not_a_secret(v), Some(why), "{v}");
        }
        assert_eq!(not_a_secret("Tr0ub4dor&3"), None);
        assert_eq!(not_a_secret("postgres://app:Zx81mQ@db/prod"), None);
    }
}
