//! Audit records in JSON, whatever the export's shape: an API page (`{"logs": [...]}`,
//! CloudTrail's `{"Records": [...]}`, …), an array of records, one record, several documents one
//! after the other, or JSON lines (one record or one page per line). Records are read one at a
//! time, so a large export is never held in memory, and each is handed over with the line it
//! ends on; a syntax error is reported at its line and column, and a cut document keeps the
//! records read before the cut.

use std::cell::Cell;
use std::fmt;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::input;

/// Keys under which a page keeps its records.
const EVENT_LISTS: [&str; 8] = [
    "logs", "results", "events", "items", "entries", "records", "data", "Records",
];

/// Where a record or an error is: 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct At {
    pub(crate) line: u64,
    pub(crate) column: u64,
}

/// What reading a stream gave besides the records.
#[derive(Debug, Default)]
pub(crate) struct Reading {
    pub(crate) bytes: u64,
    /// A syntax error that ended (a line of) the reading, with where it is.
    pub(crate) errors: Vec<(At, String)>,
    /// Set when reading stopped early (a cut or corrupt document or stream).
    pub(crate) fatal: Option<(At, String)>,
}

/// Hands every record of the stream to `record`, with the line it ends on.
pub(crate) fn records(reader: &mut dyn BufRead, record: &mut dyn FnMut(Value, u64)) -> Reading {
    let mut out = Reading::default();
    if first_line_is_json_object(reader) {
        let result = input::for_each_line(reader, |n, raw| {
            if raw.iter().all(u8::is_ascii_whitespace) {
                return true;
            }
            match serde_json::from_slice::<Value>(raw) {
                Ok(v) => events_of(v, &mut |e| record(e, n)),
                Err(e) => out.errors.push((
                    At {
                        line: n,
                        column: e.column() as u64,
                    },
                    format!("invalid JSON: {e}"),
                )),
            }
            true
        });
        match result {
            Ok(lines) => out.bytes = lines.bytes,
            Err(e) => {
                out.fatal = Some((
                    At { line: 0, column: 0 },
                    format!("read stopped (corrupt or truncated?): {e}"),
                ))
            }
        }
        return out;
    }
    document(reader, record, &mut out);
    out
}

/// The key under which a page's links (`next`, `previous`) are added to each of its records:
/// the Docker Hub tag API names the repository only there.
pub(crate) const PAGE_KEY: &str = "_page";

/// A page's `next` and `previous` links seen so far, if any.
fn links(fields: &Map<String, Value>) -> Option<Value> {
    let links: Map<String, Value> = ["next", "previous"]
        .iter()
        .filter_map(|k| {
            Some((
                k.to_string(),
                fields.get(*k).filter(|v| v.is_string())?.clone(),
            ))
        })
        .collect();
    (!links.is_empty()).then_some(Value::Object(links))
}

/// Adds the page's links to a record.
fn with_links(mut v: Value, links: Option<&Value>) -> Value {
    if let (Some(l), Value::Object(o)) = (links, &mut v) {
        o.insert(PAGE_KEY.into(), l.clone());
    }
    v
}

/// The events a value holds: itself, an array's items, or a page's list (a JSON-lines file
/// may hold one API page per line).
fn events_of(v: Value, f: &mut dyn FnMut(Value)) {
    match v {
        Value::Array(items) => items.into_iter().for_each(&mut *f),
        Value::Object(mut obj) => {
            let list = EVENT_LISTS
                .iter()
                .find(|k| obj.get(**k).is_some_and(Value::is_array))
                .and_then(|k| obj.remove(*k));
            let page = links(&obj);
            match list {
                Some(Value::Array(items)) => items
                    .into_iter()
                    .for_each(|v| f(with_links(v, page.as_ref()))),
                _ => f(Value::Object(obj)),
            }
        }
        other => f(other),
    }
}

/// Whether the buffered start of the stream is one whole JSON object on its own line (JSON
/// lines), rather than the start of a multi-line document.
fn first_line_is_json_object(reader: &mut dyn BufRead) -> bool {
    let Ok(buf) = reader.fill_buf() else {
        return false;
    };
    let Some(end) = memchr::memchr(b'\n', buf) else {
        return false;
    };
    let line = buf.get(..end).unwrap_or(&[]);
    let line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
    matches!(serde_json::from_slice::<Value>(line), Ok(Value::Object(_)))
}

/// Largest record read from a document (a record is held whole while it is read): past this,
/// the reading stops with a problem rather than hold an attacker's gigabyte.
const RECORD_MAX: u64 = 16 << 20;

/// Counts lines and notes whether anything but whitespace was read, for line numbers and to
/// tell a clean end from a cut document; refuses a record over [`RECORD_MAX`].
struct Counting<'r> {
    inner: &'r mut dyn BufRead,
    newlines: Rc<Cell<u64>>,
    bytes: Rc<Cell<u64>>,
    content: Rc<Cell<bool>>,
    /// Bytes since the last record was handed over.
    since: Rc<Cell<u64>>,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let got = buf.get(..n).unwrap_or(&[]);
        self.newlines
            .set(self.newlines.get() + memchr::memchr_iter(b'\n', got).count() as u64);
        self.bytes.set(self.bytes.get() + n as u64);
        self.since.set(self.since.get() + n as u64);
        if self.since.get() > RECORD_MAX {
            return Err(io::Error::other(format!(
                "a record over {} MiB: not read",
                RECORD_MAX >> 20
            )));
        }
        if got.iter().any(|b| !b.is_ascii_whitespace()) {
            self.content.set(true);
        }
        Ok(n)
    }
}

fn document(reader: &mut dyn BufRead, record: &mut dyn FnMut(Value, u64), out: &mut Reading) {
    let newlines = Rc::new(Cell::new(0u64));
    let bytes = Rc::new(Cell::new(0u64));
    let content = Rc::new(Cell::new(false));
    let since = Rc::new(Cell::new(0u64));
    let counting = Counting {
        inner: reader,
        newlines: newlines.clone(),
        bytes: bytes.clone(),
        content: content.clone(),
        since: since.clone(),
    };
    // Unbuffered on purpose: serde_json reads byte by byte from `inner` (itself buffered), so
    // the line count is exact when a record ends.
    let mut de = serde_json::Deserializer::from_reader(counting);
    let mut values = 0u64;
    loop {
        content.set(false);
        let mut handler = |v: Value| {
            since.set(0);
            record(v, newlines.get() + 1)
        };
        let seed = Top {
            handler: &mut handler,
        };
        match seed.deserialize(&mut de) {
            Ok(()) => values += 1,
            Err(e) if e.is_eof() && !content.get() && values > 0 => break,
            Err(e) => {
                out.fatal = Some((
                    At {
                        line: e.line() as u64,
                        column: e.column() as u64,
                    },
                    format!("invalid JSON (cut, or not an audit log?): {e}"),
                ));
                break;
            }
        }
    }
    out.bytes = bytes.get();
}

/// A top-level value: a page (`{"logs": [...]}`), an array of events, or one event.
struct Top<'h> {
    handler: &'h mut dyn FnMut(Value),
}

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an audit-log page, an array of events, or an event")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            (self.handler)(v);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut fields = Map::new();
        let mut streamed = false;
        while let Some(key) = map.next_key::<String>()? {
            let list = EVENT_LISTS.contains(&key.as_str());
            let seed = Field {
                list,
                links: links(&fields),
                handler: &mut *self.handler,
            };
            match map.next_value_seed(seed)? {
                Some(v) => {
                    fields.insert(key, v);
                }
                None => streamed = true,
            }
        }
        if !streamed {
            (self.handler)(Value::Object(fields));
        }
        Ok(())
    }
}

/// A field of a top-level object: an event list is streamed to the handler (`None`), anything
/// else kept as a value (the object may be an event itself).
struct Field<'h> {
    list: bool,
    /// The page's links read before the list, added to its records.
    links: Option<Value>,
    handler: &'h mut dyn FnMut(Value),
}

impl<'de> DeserializeSeed<'de> for Field<'_> {
    type Value = Option<Value>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<Value>, D::Error> {
        if self.list {
            d.deserialize_any(self)
        } else {
            Value::deserialize(d).map(Some)
        }
    }
}

impl<'de> Visitor<'de> for Field<'_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<Value>, A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            (self.handler)(with_links(v, self.links.as_ref()));
        }
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<Value>, A::Error> {
        Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Option<Value>, E> {
        Ok(Some(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Option<Value>, E> {
        Ok(Some(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Option<Value>, E> {
        Ok(Some(Value::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Option<Value>, E> {
        Ok(Some(Value::from(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Option<Value>, E> {
        Ok(Some(Value::from(v)))
    }
    fn visit_string<E>(self, v: String) -> Result<Option<Value>, E> {
        Ok(Some(Value::from(v)))
    }
    fn visit_unit<E>(self) -> Result<Option<Value>, E> {
        Ok(Some(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Option<Value>, E> {
        Ok(Some(Value::Null))
    }
}
