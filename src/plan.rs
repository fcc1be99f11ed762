//! Plans and the gate every mutating command passes: show what will change, stop on
//! `--dry-run`, ask before destroying, refuse without `--yes` when nobody can be asked.

use crate::context::Ctx;
use crate::error::Result;
use crate::failure::Failure;
use crate::model::step::{self, Kind, LEGEND, Step};
use std::io::{BufRead, IsTerminal, Write};

/// What a command outside the engine (destroy, scale, rollout, deploy) is about to do, one
/// line per step, each with its kind's sign. The engine's commands show typed steps instead
/// (`gate_steps`); both render the same way.
#[derive(Debug, Default, Clone)]
pub struct Plan {
    pub steps: Vec<(Kind, String)>,
    /// Lines shown under the steps (field diffs, notes).
    pub details: Vec<String>,
}

impl Plan {
    /// A step that changes something that exists (`~`).
    pub fn step(&mut self, s: impl Into<String>) {
        self.steps.push((Kind::Change, s.into()));
    }

    /// A step that creates something (`+`).
    pub fn create(&mut self, s: impl Into<String>) {
        self.steps.push((Kind::Create, s.into()));
    }

    /// A step that deletes something (`-`).
    pub fn delete(&mut self, s: impl Into<String>) {
        self.steps.push((Kind::Delete, s.into()));
    }

    pub fn detail(&mut self, s: impl Into<String>) {
        self.details.push(s.into());
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn render(&self, title: &str) -> String {
        let mut out = format!("{title}\n");
        for (kind, s) in &self.steps {
            out.push_str(&format!("  {} {s}\n", kind.sign()));
        }
        for d in &self.details {
            out.push_str(&format!("    {d}\n"));
        }
        out.push_str(&format!("  {LEGEND}\n"));
        out
    }
}

/// Whether a plan changes or destroys things, which decides whether to ask.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Risk {
    Additive,
    Destructive,
}

/// Prints the plan, then decides: `Ok(true)` to apply, `Ok(false)` when nothing should be done
/// (empty plan or dry run), an error when the user declines or cannot be asked.
pub fn gate(ctx: &Ctx, title: &str, plan: &Plan, risk: Risk) -> Result<bool> {
    if plan.is_empty() {
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
    say(&plan.render(title));
    if ctx.global.dry_run {
        say("Dry run: nothing was changed.\n");
        return Ok(false);
    }
    if risk == Risk::Additive || ctx.global.yes {
        return Ok(true);
    }
    confirm(ctx, "Apply these changes?")?;
    Ok(true)
}

/// The engine's gate: prints the typed steps (and notes under them) with the legend, stops on
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
