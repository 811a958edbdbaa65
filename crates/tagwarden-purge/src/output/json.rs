//! The versioned JSON output (`JSON.md` in this crate documents it):
//! `{"format":"tagwarden-purge/v1", "dry_run", "steps", "earlier", "left", "problems"}`.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use crate::execute::Executed;

/// The format name.
pub const FORMAT: &str = "tagwarden-purge/v1";
/// Largest document read back.
const READ_MAX: usize = 64 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
struct Document {
    format: String,
    #[serde(flatten)]
    run: Executed,
}

/// Writes the run as one JSON document and a newline.
pub fn write(run: &Executed, w: &mut dyn Write) -> io::Result<()> {
    let doc = Document {
        format: FORMAT.to_string(),
        run: run.clone(),
    };
    serde_json::to_writer_pretty(&mut *w, &doc).map_err(io::Error::other)?;
    writeln!(w)
}

/// Reads a document [`write`] wrote (for `hunt --report --purge FILE`).
pub fn read(text: &str) -> Result<Executed, String> {
    if text.len() > READ_MAX {
        return Err(format!("larger than {READ_MAX} bytes"));
    }
    let doc: Document = serde_json::from_str(text)
        .map_err(|e| format!("{}:{}: not a purge result: {e}", e.line(), e.column()))?;
    if doc.format != FORMAT {
        return Err(format!(
            "format {:?}, expected {FORMAT:?}",
            doc.format.chars().take(64).collect::<String>()
        ));
    }
    Ok(doc.run)
}
