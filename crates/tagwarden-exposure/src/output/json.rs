//! The checklist as versioned JSON, documented in `JSON.md` beside this crate.

use std::io::{self, Write};

use serde::Serialize;

use crate::checklist::{Checklist, Item, JobEntry};
use crate::job::Note;

/// The version this crate writes.
pub const VERSION: u64 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u64,
    summary: Summary,
    exposed: &'a [Item],
    not_exposed: &'a [Item],
    jobs: &'a [JobEntry],
    notes: &'a [Note],
}

#[derive(Serialize)]
struct Summary {
    exposed: usize,
    not_exposed: usize,
    jobs_exposed: usize,
    jobs_not_exposed: usize,
    notes: usize,
}

/// Writes the checklist as one line of JSON followed by a newline.
pub fn write(checklist: &Checklist, w: &mut dyn Write) -> io::Result<()> {
    let jobs_exposed = checklist.jobs.iter().filter(|j| j.status.exposed).count();
    let doc = Document {
        version: VERSION,
        summary: Summary {
            exposed: checklist.exposed.len(),
            not_exposed: checklist.not_exposed.len(),
            jobs_exposed,
            jobs_not_exposed: checklist.jobs.len() - jobs_exposed,
            notes: checklist.notes.len(),
        },
        exposed: &checklist.exposed,
        not_exposed: &checklist.not_exposed,
        jobs: &checklist.jobs,
        notes: &checklist.notes,
    };
    serde_json::to_writer(&mut *w, &doc)?;
    writeln!(w)
}
