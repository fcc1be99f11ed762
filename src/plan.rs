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
/// scaling rule), unless `--yes`. `Ok(true)` to run the steps. (The roles of a `CLUSTER.*`
/// batch pass `engine::batch::Gate`, which asks once for all of them, with [`gate_batch`].)
pub fn gate_steps(ctx: &Ctx, title: &str, steps: &[Step], notes: &[String]) -> Result<bool> {
    if steps.is_empty() {
        return Ok(false);
    }
    say(ctx, &render_steps(title, steps, notes));
    go_on(ctx, steps)
}

/// One role's part of a `CLUSTER.*` batch's plan: its title (`[dev.web] dev.web:`) and its
/// steps and notes, each line under the role's prefix.
pub struct Block<'s> {
    pub prefix: &'s str,
    pub title: &'s str,
    pub steps: &'s [Step],
    pub notes: &'s [String],
}

/// The gate of a whole `CLUSTER.*` batch (`engine::batch`): every role's steps in the format
/// of [`gate_steps`], each line under its role's prefix, the legend once, then what
/// `gate_steps` does for one role: stop on `--dry-run`, and one question when any step of any
/// role has a hazard. `Ok(true)` to run every role's steps; no blocks, nothing to ask.
pub fn gate_batch(ctx: &Ctx, blocks: &[Block<'_>]) -> Result<bool> {
    let blocks: Vec<&Block<'_>> = blocks.iter().filter(|b| !b.steps.is_empty()).collect();
    if blocks.is_empty() {
        return Ok(!ctx.global.dry_run);
    }
    say(ctx, &render_batch(&blocks));
    let all: Vec<Step> = blocks
        .iter()
        .flat_map(|b| b.steps.iter().cloned())
        .collect();
    go_on(ctx, &all)
}

/// After the steps were shown: `--dry-run` stops here; a step with a hazard asks (or refuses
/// without `--yes` when nobody can be asked). The one decision of every gate.
fn go_on(ctx: &Ctx, steps: &[Step]) -> Result<bool> {
    if ctx.global.dry_run {
        say(ctx, "Dry run: nothing was changed.\n");
        return Ok(false);
    }
    ask_if_hazard(ctx, steps, "Apply these changes?")?;
    Ok(true)
}

/// Asks `question` once for a whole plan when any of its steps has a hazard (capacity,
/// connectivity, data, a scaling rule); a plan without one runs unasked. `udo apply` asks this
/// way for its whole plan, `gate_steps` for one role's and `gate_batch` for a batch's.
pub fn ask_if_hazard(ctx: &Ctx, steps: &[Step], question: &str) -> Result<()> {
    if step::hazard(steps).is_some() {
        confirm(ctx, question)?;
    }
    Ok(())
}

/// With `-o json`, stdout holds the one document: the plan goes to stderr.
fn say(ctx: &Ctx, text: &str) {
    if ctx.out.json() {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
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
        return gate_steps(ctx, title, steps, notes);
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
    out.push_str(&render_body(steps, notes, "  "));
    out.push_str(&format!("  {LEGEND}\n"));
    out
}

/// A batch's blocks: each role's title, then its steps and notes as [`render_steps`] shows
/// them, each line under the role's prefix; the legend once, under them all.
fn render_batch(blocks: &[&Block<'_>]) -> String {
    let mut out = String::new();
    for b in blocks {
        out.push_str(&format!("{}\n", b.title));
        out.push_str(&render_body(b.steps, b.notes, &format!("{}  ", b.prefix)));
    }
    out.push_str(&format!("  {LEGEND}\n"));
    out
}

/// The steps with their signs and details, and the notes under them, each line starting with
/// `indent`.
fn render_body(steps: &[Step], notes: &[String], indent: &str) -> String {
    let mut out = step::render(steps, indent);
    for n in notes {
        out.push_str(&format!("{indent}  {n}\n"));
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::op_step::OpStep;

    fn delete(group: &str) -> Step {
        Step::Op(OpStep::DeleteGroup {
            group: group.to_string(),
        })
    }

    #[test]
    fn a_batch_shows_each_role_under_its_prefix_and_the_legend_once() {
        let (web, worker) = ([delete("dev-web")], [delete("dev-worker")]);
        let note = ["kept: dev-worker-v1".to_string()];
        let blocks = [
            Block {
                prefix: "[dev.web] ",
                title: "[dev.web] dev.web:",
                steps: &web,
                notes: &[],
            },
            Block {
                prefix: "[dev.worker] ",
                title: "[dev.worker] dev.worker:",
                steps: &worker,
                notes: &note,
            },
        ];
        assert_eq!(
            render_batch(&blocks.iter().collect::<Vec<_>>()),
            format!(
                "[dev.web] dev.web:\n\
                 [dev.web]   - delete autoscaling group dev-web\n\
                 [dev.worker] dev.worker:\n\
                 [dev.worker]   - delete autoscaling group dev-worker\n\
                 [dev.worker]     kept: dev-worker-v1\n  {LEGEND}\n"
            )
        );
        // one role alone reads as the single-role gate, under its prefix
        assert_eq!(
            render_steps("dev.web:", &web, &[]),
            format!("dev.web:\n  - delete autoscaling group dev-web\n  {LEGEND}\n")
        );
    }
}
