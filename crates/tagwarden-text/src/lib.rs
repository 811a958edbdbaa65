//! Positions in a user's text, as every command reports them, and the inline comments that
//! silence a finding on a line. Each exists once here, below every crate that needs it: the
//! extractors' spans, the findings' locations, the advisory loader's errors, `scan` and `pin`.

mod ignore;
mod lines;

pub use ignore::{ignored_at, ignored_on_line, ignores};
pub use lines::{LineIndex, line_at, line_column};
