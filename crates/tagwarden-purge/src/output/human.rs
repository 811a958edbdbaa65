//! The terminal summary: what was planned, done, refused, left.

use std::fmt::Write as _;

use tagwarden_findings::output::escape::terminal;

use crate::execute::Executed;
use crate::targets::{State, Step, Target};

fn line(out: &mut String, step: &Step) {
    let _ = writeln!(
        out,
        "  {:<13} {:<16} {}",
        step.state.as_str(),
        step.action.as_str(),
        terminal(&step.describe())
    );
    let _ = writeln!(out, "                 why: {}", terminal(&step.why));
    if let Some(reason) = step.state.reason() {
        let _ = writeln!(out, "                 because: {}", terminal(reason));
    }
    for i in &step.instead {
        let _ = writeln!(out, "                 - {}", terminal(i));
    }
}

/// The run in words.
pub fn render(run: &Executed) -> String {
    let mut out = String::new();
    if run.dry_run {
        let _ = writeln!(
            out,
            "Purge plan (dry run: nothing was changed; run again with --yes to carry it out):"
        );
    } else {
        let _ = writeln!(out, "Purge:");
    }
    if run.steps.is_empty() {
        let _ = writeln!(out, "  nothing malicious found in the places searched");
    }
    for step in &run.steps {
        line(&mut out, step);
    }
    if !run.earlier.is_empty() {
        let _ = writeln!(out, "\nAlready gone (an earlier run, from the journal):");
        for r in &run.earlier {
            let _ = writeln!(
                out,
                "  {}: {} at {}",
                terminal(&r.before),
                r.result_words(),
                r.time
            );
        }
    }
    if !run.dry_run {
        if run.left.is_empty() {
            let _ = writeln!(
                out,
                "\nPlanned again after the purge: nothing malicious is left in the engines and registries searched."
            );
        } else {
            let _ = writeln!(out, "\nPlanned again after the purge, still there:");
            for step in &run.left {
                let _ = writeln!(out, "  {}", terminal(&step.describe()));
            }
        }
    }
    if !run.problems.is_empty() {
        let _ = writeln!(
            out,
            "\nNot searched or not read (the plan is incomplete there):"
        );
        for p in &run.problems {
            let _ = writeln!(out, "  {}", terminal(p));
        }
    }
    // An offer to point a tag back is advice, not something left.
    let offers = run
        .steps
        .iter()
        .filter(|s| s.state == State::ByHand && matches!(s.target, Target::Tag { .. }))
        .count();
    let by_hand = run
        .steps
        .iter()
        .filter(|s| matches!(s.state, State::ByHand | State::Refused { .. }))
        .count()
        - offers;
    let _ = write!(
        out,
        "\n{} step(s): {} done, {} already gone, {} planned, {} blocked, {} failed, {} left to do by hand",
        run.steps.len(),
        run.count("done"),
        run.count("already gone"),
        run.count("planned"),
        run.count("blocked"),
        run.count("failed"),
        by_hand
    );
    if offers > 0 {
        let _ = write!(out, ", {offers} offered");
    }
    let _ = writeln!(out);
    out
}
