//! Release tags and floating tags, told apart by their spelling: a release tag names one
//! build and should never move (`watch` and `audit` call its move news), a floating tag moves
//! by design.

/// Whether a tag is expected to stay put.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagKind {
    /// Semver (`v2.1.20`, `1.2.3-alpine`), dates (`20260422`, `2026-04-22`): should never move.
    Release,
    /// `latest`, `alpine`, `stable`, `3.20`: moves by design.
    Floating,
}

impl TagKind {
    /// What kind of tag `tag` is, from its spelling alone.
    pub fn of(tag: &str) -> TagKind {
        if is_release_like(tag) {
            TagKind::Release
        } else {
            TagKind::Floating
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TagKind::Release => "release",
            TagKind::Floating => "floating",
        }
    }

    pub fn parse(s: &str) -> TagKind {
        if s == "release" {
            TagKind::Release
        } else {
            TagKind::Floating
        }
    }
}

/// `[v]X.Y.Z[…]` with at least three numeric parts, or a date (`YYYYMMDD`, `YYYY-MM-DD`,
/// `YYYY.MM.DD`) at the start of the tag; a suffix after `-`, `_` or `+` is allowed
/// (`v1.2.3-alpine`, `2026-04-22-1`).
fn is_release_like(tag: &str) -> bool {
    let body = tag.strip_prefix(['v', 'V']).unwrap_or(tag);
    let version = body.split(['-', '_', '+']).next().unwrap_or("");
    let parts: Vec<&str> = version.split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if parts.len() >= 3 && parts.iter().all(numeric) {
        return true;
    }
    is_date(tag)
}

fn is_date(tag: &str) -> bool {
    let digits: String = tag.chars().take(10).filter(char::is_ascii_digit).collect();
    let compact = tag.len() >= 8 && tag.as_bytes()[..8].iter().all(u8::is_ascii_digit);
    let separated = tag.len() >= 10
        && tag.as_bytes()[..10]
            .iter()
            .enumerate()
            .all(|(i, b)| match i {
                4 | 7 => matches!(b, b'-' | b'.'),
                _ => b.is_ascii_digit(),
            });
    let date = if compact {
        &tag[..8]
    } else if separated {
        &digits[..]
    } else {
        return false;
    };
    let (year, rest) = date.split_at(4);
    let (month, day) = rest.split_at(2);
    let ok = |s: &str, lo: u32, hi: u32| s.parse::<u32>().is_ok_and(|n| (lo..=hi).contains(&n));
    ok(year, 1990, 2199) && ok(month, 1, 12) && ok(&day[..2.min(day.len())], 1, 31)
}
