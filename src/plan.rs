//! The gate every mutating command passes: show its typed steps, stop on `--dry-run`, ask when
//! a step can take something away, refuse without `--yes` when nobody can be asked. The
//! question follows from the steps (`model::step::Step::hazard`), the same in every command;
//! no command chooses its own risk.

use crate::context::Ctx;
use crate::error::Result;
use crate::failure::Failure;
use crate::model::step::{self, LEGEND, Step};
use std::io::{BufRead, IsTerminal, Write};

/// The gate: prints the typed steps (and notes under them) with the legend, stops on
/// `--dry-run`, and asks when a step can take something away (capacity, connectivity, data, a
/// scaling rule), unless `confirmed` (asked once already, for a whole plan) or `--yes`.
/// `Ok(true)` to run the steps.
pub fn gate_steps(
    ctx: &Ctx,
    title: &str,
    steps: &[Step],
    notes: &[String],
    confirmed: bool,
) -> Result<bool> {
    if steps.is_empty() {
        return Ok(false);
    }
    // With `-o json`, stdout holds the one document: the plan goes to stderr.
    let say = |text: &str| {
        if ctx.out.json() {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
    };
    say(&render_steps(title, steps, notes));
    if ctx.global.dry_run {
        say("Dry run: nothing was changed.\n");
        return Ok(false);
    }
    if step::hazard(steps).is_some() && !confirmed {
        confirm(ctx, "Apply these changes?")?;
    }
    Ok(true)
}

/// The gate of a step a command takes on the way (the deployment group `deploy` makes or
/// updates before deploying): shown only on `--dry-run` (on stdout, as the command's own
/// output), run without a word otherwise, unless a step has a hazard: then it is shown and
/// asked about as `gate_steps` does.
pub fn gate_quiet(ctx: &Ctx, title: &str, steps: &[Step], notes: &[String]) -> Result<bool> {
    if steps.is_empty() {
        return Ok(false);
    }
    if step::hazard(steps).is_some() {
        return gate_steps(ctx, title, steps, notes, false);
    }
    if ctx.global.dry_run {
        print!("{}", render_steps(title, steps, notes));
        return Ok(false);
    }
    Ok(true)
}

/// A title, the steps with their signs and details, notes, and the legend.
pub fn render_steps(title: &str, steps: &[Step], notes: &[String]) -> String {
    let mut out = format!("{title}\n");
    out.push_str(&step::render(steps, "  "));
    for n in notes {
        out.push_str(&format!("    {n}\n"));
    }
    out.push_str(&format!("  {LEGEND}\n"));
    out
}

/// Asks on a terminal; without one, refuses unless `--yes` was given.
pub fn confirm(ctx: &Ctx, question: &str) -> Result<()> {
    if ctx.global.yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Failure::NoTerminal.into());
    }
    // Roles of a batch run concurrently: one question on the terminal at a time.
    static ASKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = ASKING.lock().unwrap_or_else(|e| e.into_inner());
    let mut err = std::io::stderr();
    let _ = write!(err, "{question} [y/N] ");
    let _ = err.flush();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Failure::local("could not read the answer", e))?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Failure::Declined.into())
    }
}
