//! Reading evidence files: plain, gzip (concatenated members too: logrotate and bgzip write
//! them) or zstd, chosen by the first bytes rather than the name; lines read with a bounded
//! buffer so one endless line cannot exhaust memory (it is searched in overlapping pieces);
//! zstd frames refused when they declare a window larger than real logs need, before anything
//! is allocated. Walking the paths is [`walk`].

mod walk;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

pub use walk::{Found, Walked, walk};

/// Longest piece of a line handed over at once; a longer line comes in pieces of this size that
/// overlap by [`OVERLAP`] bytes, so anything shorter than that is seen whole in one of them.
pub const MAX_LINE: usize = 1 << 20;

/// How much consecutive pieces of a long line share: more than the longest reference with a
/// digest (255 + 128 + 72 bytes) or URL an indicator names.
pub const OVERLAP: usize = 4096;

/// Largest zstd window accepted: 2^27 bytes (128 MiB), the default of `zstd --long`. A frame
/// declaring more (up to 2 GiB, or 4 GiB with `--long=31`) is refused, not allocated.
pub const ZSTD_WINDOW_LOG_MAX: u32 = 27;

/// Read buffer size.
const BUFFER: usize = 256 * 1024;

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

/// Whether the first bytes are a zip archive's (a GitHub run's logs).
pub fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

/// Opens a file (or stream) without decompressing: for sniffing, then [`decompress`].
pub fn open_raw(path: &Path) -> io::Result<BufReader<File>> {
    Ok(BufReader::with_capacity(BUFFER, File::open(path)?))
}

/// Opens a file for line reading, decompressing as its first bytes say.
pub fn open(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    decompress(open_raw(path)?)
}

/// Decompresses a raw reader as its first bytes say (nothing is consumed to decide).
pub fn decompress<R: BufRead + Send + 'static>(mut raw: R) -> io::Result<Box<dyn BufRead + Send>> {
    let kind = sniff(raw.fill_buf()?);
    Ok(match kind {
        Compression::None => Box::new(raw),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            BUFFER,
            flate2::bufread::MultiGzDecoder::new(raw),
        )),
        Compression::Zstd => {
            let mut d = zstd::stream::read::Decoder::with_buffer(raw)?;
            d.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
            Box::new(BufReader::with_capacity(BUFFER, ZstdWindow(d)))
        }
    })
}

/// Says in words why zstd refused a frame: its own message names no limit.
struct ZstdWindow<R>(R);

impl<R: Read> Read for ZstdWindow<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            if e.to_string().contains("too much memory") {
                io::Error::other(format!(
                    "a zstd frame declares a window over {} MiB (the most tagwarden allocates; \
                     `zstd --long=28` or more writes such frames): not decompressed; \
                     recompress it with `zstd --long=27` or less",
                    (1u64 << ZSTD_WINDOW_LOG_MAX) >> 20
                ))
            } else {
                e
            }
        })
    }
}

/// What reading the lines of a stream gave.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lines {
    /// Bytes read.
    pub bytes: u64,
    /// Lines longer than [`MAX_LINE`] (handed over in overlapping pieces), and the first one.
    pub long: u64,
    pub first_long: u64,
}

/// Reads lines (without their `\n`/`\r\n`), calling `f(line_number, line)`; stops early when
/// `f` returns false. A line longer than [`MAX_LINE`] is handed over in pieces of at most that
/// size, each starting [`OVERLAP`] bytes before the previous one ended, all with the line's
/// number: memory stays bounded and nothing shorter than the overlap is split unseen.
pub fn for_each_line(
    reader: &mut dyn BufRead,
    mut f: impl FnMut(u64, &[u8]) -> bool,
) -> io::Result<Lines> {
    let mut buf = Vec::with_capacity(4096);
    let mut n = 0u64;
    let mut out = Lines::default();
    let mut continued = false;
    loop {
        if !continued {
            buf.clear();
        }
        let (read, complete) = read_line_bounded(reader, &mut buf)?;
        out.bytes += read as u64;
        if read == 0 {
            // The end (a long line's kept overlap was handed over already).
            return Ok(out);
        }
        if !continued {
            n += 1;
        }
        let mut line: &[u8] = &buf;
        if complete {
            if let Some(stripped) = line.strip_suffix(b"\n") {
                line = stripped;
            }
            if let Some(stripped) = line.strip_suffix(b"\r") {
                line = stripped;
            }
        }
        if !f(n, line) {
            return Ok(out);
        }
        if complete {
            continued = false;
            continue;
        }
        // A piece of a long line: keep its end, so the next piece overlaps it.
        if !continued {
            out.long += 1;
            if out.first_long == 0 {
                out.first_long = n;
            }
        }
        continued = true;
        let keep = buf.len().saturating_sub(OVERLAP);
        buf.drain(..keep);
    }
}

/// `read_until(b'\n')` that stops when `buf` holds [`MAX_LINE`] bytes: returns the bytes read
/// and whether the line ended (a newline, or the end of the stream).
fn read_line_bounded(reader: &mut dyn BufRead, buf: &mut Vec<u8>) -> io::Result<(usize, bool)> {
    let mut total = 0;
    loop {
        let room = MAX_LINE.saturating_sub(buf.len());
        if room == 0 {
            return Ok((total, false));
        }
        let (done, used) = {
            let available = match reader.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                return Ok((total, true));
            }
            let window = available.get(..room).unwrap_or(available);
            match memchr::memchr(b'\n', window) {
                Some(i) => {
                    buf.extend_from_slice(window.get(..=i).unwrap_or(window));
                    (true, i + 1)
                }
                None => {
                    buf.extend_from_slice(window);
                    (false, window.len())
                }
            }
        };
        reader.consume(used);
        total += used;
        if done {
            return Ok((total, true));
        }
    }
}

/// Reads a whole (possibly compressed) file or stream into memory, refusing more than `limit`
/// bytes (after decompression).
pub fn read_all(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    read_all_from(&mut *open(path)?, limit)
}

/// [`read_all`] from a reader already open.
pub fn read_all_from(r: &mut dyn Read, limit: u64) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(limit + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(io::Error::other(format!(
            "over the {} MiB size cap: not read",
            limit >> 20
        )));
    }
    Ok(buf)
}

#[cfg(test)]
pub(crate) mod tests_support {
    /// Makes a FIFO; false where `mkfifo` is missing (the test then has nothing to check).
    pub(crate) fn mkfifo(path: &std::path::Path) -> bool {
        std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .is_ok_and(|s| s.success())
    }
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
        let walked = walk(&[dir.clone(), dir.join("missing")]);
        assert_eq!(walked.files.len(), 2);
        assert_eq!(walked.problems.len(), 1);
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
    fn long_lines_come_in_overlapping_pieces() {
        let mut data = vec![b'a'; MAX_LINE * 2 + 10];
        // A digest across the first piece's end is whole in the second piece.
        let digest = format!("sha256:{}", "d".repeat(64));
        let at = MAX_LINE - 30;
        data.splice(at..at + digest.len(), digest.bytes());
        data.extend_from_slice(b"\nshort\n");
        let mut r: &[u8] = &data;
        let mut pieces = Vec::new();
        let lines = for_each_line(&mut r, |n, l| {
            pieces.push((
                n,
                l.len(),
                memchr::memmem::find(l, digest.as_bytes()).is_some(),
            ));
            true
        })
        .unwrap();
        assert_eq!(
            pieces,
            [
                (1, MAX_LINE, false),
                (1, MAX_LINE, true),
                (1, 2 * OVERLAP + 10, false),
                (2, 5, false)
            ]
        );
        assert_eq!((lines.long, lines.first_long), (1, 1));
        assert_eq!(lines.bytes, data.len() as u64);
    }

    #[test]
    fn zstd_window_bombs_are_refused_before_allocating() {
        // A frame header declaring a 2 GiB window (exponent 21: 2^31 bytes), then one raw
        // block of one byte: what a hostile log would carry.
        let frame = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa8, 0x09, 0x00, 0x00, b'x'];
        let mut r = decompress(std::io::Cursor::new(frame.to_vec())).unwrap();
        let e = for_each_line(&mut *r, |_, _| true).unwrap_err().to_string();
        assert!(e.contains("window over 128 MiB"), "{e}");
        // The same byte in a frame with a 1 MiB window reads.
        let small = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x50, 0x09, 0x00, 0x00, b'x'];
        let mut out = String::new();
        decompress(std::io::Cursor::new(small.to_vec()))
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "x");
    }
}
