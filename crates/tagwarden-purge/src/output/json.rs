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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::{Action, Role, State, Step, Target};

    #[test]
    fn a_run_reads_back_as_written_and_other_documents_are_refused() {
        let run = Executed {
            dry_run: true,
            steps: vec![Step {
                key: "registry:r/x@sha256:a".into(),
                target: Target::Manifest {
                    repository: "r/x".into(),
                    digest: "sha256:a".into(),
                    role: Role::Image,
                    tags: vec!["latest".into()],
                    subject: None,
                    harbor: None,
                },
                action: Action::DeleteManifest,
                why: "sha256:a is malicious (t)".into(),
                state: State::Planned,
                instead: Vec::new(),
            }],
            ..Executed::default()
        };
        let mut out = Vec::new();
        write(&run, &mut out).unwrap_or_default();
        let text = String::from_utf8_lossy(&out);
        let back = read(&text).unwrap_or_default();
        assert_eq!(back.steps, run.steps);
        assert!(back.dry_run);
        assert!(read(r#"{"format":"other","dry_run":true}"#).is_err());
        let e = read("{\n  \"format\": 3").err().unwrap_or_default();
        assert!(e.starts_with("2:"), "{e}");
    }
}
