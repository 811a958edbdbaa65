use crate::{
    DOCKER_HUB, Digest, ErrorKind, NAME_MAX, ParseError, Reference, TAG_MAX, Written,
    normalize_domain,
};

pub(crate) fn parse(input: &str) -> Result<Reference, ParseError> {
    if input.is_empty() {
        return Err(ParseError::new(ErrorKind::Empty, 0));
    }
    if let Some(i) = input.find(char::is_whitespace) {
        return Err(ParseError::new(ErrorKind::Whitespace, i));
    }
    // docker reads a bare 64-hex word as an image ID, never as a repository.
    if input.len() == 64
        && input
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(ParseError::new(ErrorKind::HexIdentifier, 0));
    }

    let (name_and_tag, digest) = match input.find('@') {
        Some(at) => {
            let d = Digest::parse(&input[at + 1..]).map_err(|e| shift(e, at + 1))?;
            (&input[..at], Some((d, at + 1..input.len())))
        }
        None => (input, None),
    };

    let last_slash = name_and_tag.rfind('/');
    let (name, tag) = match name_and_tag.rfind(':') {
        Some(colon) if last_slash.is_none_or(|s| colon > s) && !ends_in_ipv6(name_and_tag) => {
            let tag = &name_and_tag[colon + 1..];
            validate_tag(tag).map_err(|e| shift(e, colon + 1))?;
            (
                &name_and_tag[..colon],
                Some((tag, colon + 1..name_and_tag.len())),
            )
        }
        _ => (name_and_tag, None),
    };
    if name.is_empty() {
        return Err(ParseError::new(ErrorKind::Empty, 0));
    }

    let (domain, path, path_offset) = split_domain(name)?;
    validate_path(path).map_err(|e| shift(e, path_offset))?;
    let written_path_len = path.len();

    let domain = match domain {
        Some(d) => normalize_domain(d).to_string(),
        None => DOCKER_HUB.to_string(),
    };
    let path = if domain == DOCKER_HUB && !path.contains('/') {
        format!("library/{path}")
    } else {
        path.to_string()
    };
    // As in distribution/reference: the limit is on the path, the name without its domain, as
    // docker resolves it (a Docker Hub name's `library/` included, so the normalised form
    // parses back alike).
    if path.len() > NAME_MAX {
        // Where the written path crosses the limit (`library/` is not written).
        let added = path.len() - written_path_len;
        return Err(ParseError::new(
            ErrorKind::NameTooLong(path.len()),
            path_offset + NAME_MAX.saturating_sub(added).min(written_path_len),
        ));
    }

    Ok(Reference {
        domain,
        path,
        tag: tag.as_ref().map(|(t, _)| t.to_string()),
        written: Written {
            name: 0..name.len(),
            tag: tag.map(|(_, r)| r),
            digest: digest.as_ref().map(|(_, r)| r.clone()),
        },
        digest: digest.map(|(d, _)| d),
    })
}

/// `[::1]` with no path: the colons belong to the address, not to a tag.
fn ends_in_ipv6(s: &str) -> bool {
    s.ends_with(']') && !s.contains('/')
}

fn shift(e: ParseError, by: usize) -> ParseError {
    ParseError::new(e.kind().clone(), e.offset() + by)
}

/// Splits `name` into its optional domain and path, with the byte offset of the path.
fn split_domain(name: &str) -> Result<(Option<&str>, &str, usize), ParseError> {
    let Some(slash) = name.find('/') else {
        if name.starts_with('[') {
            return Err(ParseError::new(ErrorKind::InvalidChar('['), 0));
        }
        return Ok((None, name, 0));
    };
    let first = &name[..slash];
    let is_domain = first.contains(['.', ':'])
        || first == "localhost"
        || first.starts_with('[')
        || first.bytes().any(|b| b.is_ascii_uppercase());
    if !is_domain {
        return Ok((None, name, 0));
    }
    validate_domain(first)?;
    Ok((Some(first), &name[slash + 1..], slash + 1))
}

fn validate_domain(d: &str) -> Result<(), ParseError> {
    let invalid = || ParseError::new(ErrorKind::InvalidDomain(d.to_string()), 0);
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        let close = rest.find(']').ok_or_else(invalid)?;
        let addr = &rest[..close];
        if addr.is_empty() || !addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return Err(invalid());
        }
        let after = &rest[close + 1..];
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(invalid)?),
        };
        (None, port)
    } else {
        match d.split_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(d), None),
        }
    };
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ParseError::new(
            ErrorKind::InvalidPort(p.to_string()),
            d.len() - p.len(),
        ));
    }
    if let Some(h) = host {
        let ok = !h.is_empty()
            && h.split('.').all(|c| {
                !c.is_empty()
                    && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !c.starts_with('-')
                    && !c.ends_with('-')
            });
        if !ok {
            return Err(invalid());
        }
    }
    Ok(())
}

fn validate_path(path: &str) -> Result<(), ParseError> {
    let mut offset = 0;
    for component in path.split('/') {
        validate_component(component).map_err(|e| shift(e, offset))?;
        offset += component.len() + 1;
    }
    Ok(())
}

fn validate_component(c: &str) -> Result<(), ParseError> {
    if c.is_empty() {
        return Err(ParseError::new(ErrorKind::EmptyComponent, 0));
    }
    let bytes = c.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    // Separators: "_", ".", "__", or one or more "-"; each must sit between alphanumerics.
    while i < bytes.len() {
        let b = bytes[i];
        if alnum(b) {
            i += 1;
            continue;
        }
        if b.is_ascii_uppercase() {
            return Err(ParseError::new(ErrorKind::Uppercase, i));
        }
        if !matches!(b, b'_' | b'.' | b'-') {
            let ch = c[i..].chars().next().unwrap_or('?');
            return Err(ParseError::new(ErrorKind::InvalidChar(ch), i));
        }
        let start = i;
        let run_ok = match b {
            b'-' => {
                while i < bytes.len() && bytes[i] == b'-' {
                    i += 1;
                }
                true
            }
            b'_' => {
                i += 1;
                if i < bytes.len() && bytes[i] == b'_' {
                    i += 1;
                }
                true
            }
            _ => {
                i += 1;
                true
            }
        };
        let before_ok = start > 0 && alnum(bytes[start - 1]);
        let after_ok = i < bytes.len() && alnum(bytes[i]);
        if !(run_ok && before_ok && after_ok) {
            return Err(ParseError::new(ErrorKind::BadSeparator, start));
        }
    }
    Ok(())
}

fn validate_tag(tag: &str) -> Result<(), ParseError> {
    if tag.is_empty() {
        return Err(ParseError::new(ErrorKind::EmptyTag, 0));
    }
    if tag.len() > TAG_MAX {
        return Err(ParseError::new(ErrorKind::TagTooLong(tag.len()), TAG_MAX));
    }
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    for (i, b) in tag.bytes().enumerate() {
        let ok = if i == 0 {
            word(b)
        } else {
            word(b) || b == b'.' || b == b'-'
        };
        if !ok {
            return Err(ParseError::new(ErrorKind::InvalidTag(tag.to_string()), i));
        }
    }
    Ok(())
}
