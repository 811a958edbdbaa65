//! Reading evidence files: plain, gzip (concatenated members too: logrotate and bgzip write
//! them) or zstd, chosen by the first bytes rather than the name; directories walked in a stable
//! order; lines read with a bounded buffer so one endless line cannot exhaust memory.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Longest line kept; the rest of a longer line is skipped (and counted).
pub const MAX_LINE: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Detects the compression of a file from its magic bytes.
pub fn sniff(head: &[u8]) -> Compression {
    match head {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
        _ => Compression::None,
    }
}

/// Opens a file for line reading, decompressing as its first bytes say.
pub fn open(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    let mut file = BufReader::with_capacity(256 * 1024, File::open(path)?);
    let kind = sniff(file.fill_buf()?);
    Ok(match kind {
        Compression::None => Box::new(file),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            256 * 1024,
            flate2::bufread::MultiGzDecoder::new(file),
        )),
        Compression::Zstd => {
            let mut d = zstd::stream::read::Decoder::with_buffer(file)?;
            // Accept archives written with --long.
            d.window_log_max(31)?;
            Box::new(BufReader::with_capacity(256 * 1024, d))
        }
    })
}

/// Reads lines (without their `\n`/`\r\n`), calling `f(line_number, line)`; stops early when
/// `f` returns false. Returns the bytes read. A line longer than [`MAX_LINE`] is cut.
pub fn for_each_line(
    reader: &mut dyn BufRead,
    mut f: impl FnMut(u64, &[u8]) -> bool,
) -> io::Result<u64> {
    let mut buf = Vec::with_capacity(4096);
    let mut n = 0u64;
    let mut bytes = 0u64;
    loop {
        buf.clear();
        let read = read_line_bounded(reader, &mut buf)?;
        if read == 0 {
            return Ok(bytes);
        }
        bytes += read as u64;
        n += 1;
        let mut line: &[u8] = &buf;
        if let Some(stripped) = line.strip_suffix(b"\n") {
            line = stripped;
        }
        if let Some(stripped) = line.strip_suffix(b"\r") {
            line = stripped;
        }
        if !f(n, line) {
            return Ok(bytes);
        }
    }
}

/// `read_until(b'\n')` that keeps at most [`MAX_LINE`] bytes of a line.
fn read_line_bounded(reader: &mut dyn BufRead, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut total = 0;
    loop {
        let (done, used) = {
            let available = match reader.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                return Ok(total);
            }
            match memchr::memchr(b'\n', available) {
                Some(i) => {
                    let room = MAX_LINE.saturating_sub(buf.len());
                    buf.extend_from_slice(&available[..=i.min(room.saturating_sub(1))]);
                    (true, i + 1)
                }
                None => {
                    let room = MAX_LINE.saturating_sub(buf.len());
                    buf.extend_from_slice(&available[..available.len().min(room)]);
                    (false, available.len())
                }
            }
        };
        reader.consume(used);
        total += used;
        if done {
            return Ok(total);
        }
    }
}

/// Every regular file under the paths (files as given, directories recursively, sorted).
/// Unreadable directories are returned as errors with their path.
pub fn files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, io::Error)>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut stack: Vec<PathBuf> = paths.iter().rev().cloned().collect();
    while let Some(p) = stack.pop() {
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => match std::fs::read_dir(&p) {
                Ok(rd) => {
                    let mut children: Vec<PathBuf> =
                        rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
                    children.sort();
                    stack.extend(children.into_iter().rev());
                }
                Err(e) => errors.push((p, e)),
            },
            Ok(m) if m.is_file() => out.push(p),
            Ok(_) => {}
            Err(e) => errors.push((p, e)),
        }
    }
    (out, errors)
}

/// Reads a whole (possibly compressed) file into memory, refusing more than `limit` bytes.
pub fn read_all(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let mut r = open(path)?;
    let mut buf = Vec::new();
    (&mut r).take(limit + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(io::Error::other(format!("larger than {limit} bytes")));
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_members_and_zstd() {
        let dir = std::env::temp_dir().join(format!("tw-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let gz = dir.join("a.log.gz");
        let mut bytes = Vec::new();
        for part in ["one\n", "two\r\nthree"] {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(part.as_bytes()).unwrap();
            bytes.extend(e.finish().unwrap());
        }
        std::fs::write(&gz, &bytes).unwrap();
        let mut lines = Vec::new();
        for_each_line(&mut *open(&gz).unwrap(), |n, l| {
            lines.push((n, String::from_utf8_lossy(l).into_owned()));
            true
        })
        .unwrap();
        assert_eq!(
            lines,
            [(1, "one".into()), (2, "two".into()), (3, "three".into())]
        );

        let zs = dir.join("b.log");
        std::fs::write(&zs, zstd::encode_all(&b"x\ny\n"[..], 3).unwrap()).unwrap();
        let mut count = 0;
        for_each_line(&mut *open(&zs).unwrap(), |_, _| {
            count += 1;
            true
        })
        .unwrap();
        assert_eq!(count, 2);
        let (files, errors) = files(&[dir.clone(), dir.join("missing")]);
        assert_eq!(files.len(), 2);
        assert_eq!(errors.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn corrupt_gzip_is_an_error() {
        let dir = std::env::temp_dir().join(format!("tw-input-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("bad.gz");
        std::fs::write(&p, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff]).unwrap();
        let r = for_each_line(&mut *open(&p).unwrap(), |_, _| true);
        assert!(r.is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn long_lines_are_cut() {
        let data = vec![b'a'; MAX_LINE * 2 + 10];
        let mut r: &[u8] = &data;
        let mut lens = Vec::new();
        for_each_line(&mut r, |_, l| {
            lens.push(l.len());
            true
        })
        .unwrap();
        assert_eq!(lens, [MAX_LINE]);
    }
}
