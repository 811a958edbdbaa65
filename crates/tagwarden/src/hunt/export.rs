//! `--format stix|misp`: the hunt's outcome, weak matches included, handed to the interchange
//! exporters.

use std::io::{self, Write};

use jiff::Timestamp;
use tagwarden_advisory::{Advisory, AdvisorySet};
use tagwarden_hunt::Outcome;
use tagwarden_interchange::export::{misp_hunt, stix_hunt};

/// Which exchange format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exchange {
    Stix,
    Misp,
}

pub(crate) fn render(
    outcome: &Outcome,
    advisories: &AdvisorySet,
    format: Exchange,
    generated: Timestamp,
    w: &mut dyn Write,
) -> io::Result<()> {
    let all: Vec<&Advisory> = advisories.advisories().iter().collect();
    let text = match format {
        Exchange::Stix => stix_hunt(&all, outcome, generated),
        Exchange::Misp => misp_hunt(&all, outcome, generated),
    };
    writeln!(w, "{text}")
}
