//! The one runner of `CLUSTER.*` batches, for every command that takes one (`asg …`, `deploy`,
//! `apply`): the roles run concurrently with a bound, each role's lines are prefixed
//! `[cluster.role] `, a batch asks at most once for all its roles, a role that fails does not
//! stop the others, and a summary ends the run; the command fails (exit 1) when any role did,
//! after its error was printed under the role's prefix.
//!
//! A command whose roles change something runs them with a [`Gate`] (`run_gated`): each role
//! reads and plans, then hands its steps to its gate instead of asking for itself. The gate
//! holds every role there until all of them have been planned (or have ended: nothing to do,
//! or failed), then the batch shows all their steps, each under its prefix, and asks one
//! question if any step of any role has a hazard (`plan::gate_batch`, the rule of every
//! gate). On "yes" each role goes on with the plan it showed; declined, refused or
//! `--dry-run`, no role writes anything. So a batch where nothing needs doing asks nothing,
//! and no role's writes start before the question is answered.
//!
//! A single role (`CLUSTER.ROLE`, or `CLUSTER` with one role) runs directly: no prefix, no
//! summary, its gate is `plan::gate_steps`, its error returned as it is.

use crate::config::Role;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::failure::Failure;
use crate::model::step::Step;
use crate::plan;
use crate::target::{self, Many};
use futures_util::StreamExt as _;
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

/// How many roles of a batch run at once.
pub const CONCURRENCY: usize = 4;

/// What the last line of a batch says: how it went, given (roles that succeeded, all roles,
/// the targets of those that failed).
pub struct Summary {
    pub done: fn(usize, &str) -> String,
    pub partial: fn(usize, usize, &str) -> String,
}

impl Summary {
    /// `All 3 roles of dev.* succeeded.` / `2 of 3 roles succeeded; failed: dev.idle`.
    pub const fn default() -> Summary {
        Summary {
            done: |n, text| format!("All {n} roles of {text} succeeded."),
            partial: |ok, n, failed| format!("{ok} of {n} roles succeeded; failed: {failed}"),
        }
    }
}

/// The roles one command runs on, and how: one role directly, or a batch.
pub struct Batch<'a> {
    ctx: &'a Ctx,
    /// What the user named (`dev.*`), for the summary.
    text: String,
    roles: Vec<&'a Role>,
    many: bool,
    summary: Summary,
}

impl<'a> Batch<'a> {
    /// `many`: run as a batch (prefixes, summary) even with one role, as `CLUSTER.*` does.
    pub fn new(ctx: &'a Ctx, text: impl Into<String>, roles: Vec<&'a Role>, many: bool) -> Self {
        Batch {
            ctx,
            text: text.into(),
            roles,
            many,
            summary: Summary::default(),
        }
    }

    /// Resolves a command's TARGET (`CLUSTER.ROLE`, `CLUSTER` or `CLUSTER.*`) and checks every
    /// role's region, before any AWS call.
    pub fn resolve(ctx: &'a Ctx, text: &str) -> Result<Self> {
        let roles = target::resolve(&ctx.config, text, Many::Allowed)?;
        for role in &roles {
            ctx.region_of(role)?;
        }
        Ok(Batch::new(ctx, text, roles, text.ends_with(".*")))
    }

    /// Ends the batch with other words than [`Summary::default`].
    pub fn with_summary(mut self, summary: Summary) -> Self {
        self.summary = summary;
        self
    }

    pub fn roles(&self) -> &[&'a Role] {
        &self.roles
    }

    pub fn is_many(&self) -> bool {
        self.many
    }

    /// Runs `op` for each role with its prefix.
    pub async fn run<F, Fut>(self, op: F) -> Result<()>
    where
        F: Fn(&'a Role, String) -> Fut,
        Fut: Future<Output = Result<()>> + 'a,
    {
        let inputs = vec![(); self.roles.len()];
        self.run_with(inputs, |role, prefix, ()| op(role, prefix))
            .await
    }

    /// Runs `op` for each role with its prefix and its own input (`inputs` in role order);
    /// any failure makes the whole command fail, after the other roles have run. For roles
    /// that read, or whose plan was asked about already (`apply`): a role that changes
    /// something runs with [`Batch::run_gated_with`].
    pub async fn run_with<T, F, Fut>(self, inputs: Vec<T>, op: F) -> Result<()>
    where
        F: Fn(&'a Role, String, T) -> Fut,
        Fut: Future<Output = Result<()>> + 'a,
    {
        let many = self.many;
        let jobs = self.roles.iter().copied().zip(inputs);
        if !many {
            return match jobs.into_iter().next() {
                Some((role, input)) => op(role, String::new(), input).await,
                None => Ok(()),
            };
        }
        let mut results: Vec<(usize, Result<()>)> =
            futures_util::stream::iter(jobs.enumerate().map(|(i, (r, input))| {
                let fut = op(r, prefix(true, r), input);
                async move { (i, fut.await) }
            }))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        results.sort_by_key(|(i, _)| *i);
        self.report(results, &[])
    }

    /// Runs `op` for each role with its prefix and its [`Gate`], which each role passes
    /// (`Gate::pass`) with the steps it read and planned, instead of asking for itself.
    pub async fn run_gated<F, Fut>(self, op: F) -> Result<()>
    where
        F: Fn(&'a Role, String, Gate) -> Fut,
        Fut: Future<Output = Result<()>> + 'a,
    {
        let inputs = vec![(); self.roles.len()];
        self.run_gated_with(inputs, |role, prefix, (), gate| op(role, prefix, gate))
            .await
    }

    /// [`Batch::run_gated`] with an input for each role (`inputs` in role order).
    ///
    /// In a batch every role runs at once, bounded to [`CONCURRENCY`] by permits: a role
    /// holds one while it reads and plans, gives it back while it waits at its gate, and
    /// takes one again to carry out its plan, so the reads and the writes both go 4 roles at
    /// a time and no role waiting for the question keeps another from being planned.
    pub async fn run_gated_with<T, F, Fut>(self, inputs: Vec<T>, op: F) -> Result<()>
    where
        F: Fn(&'a Role, String, T, Gate) -> Fut,
        Fut: Future<Output = Result<()>> + 'a,
    {
        let jobs = self.roles.iter().copied().zip(inputs);
        if !self.many {
            return match jobs.into_iter().next() {
                Some((role, input)) => op(role, String::new(), input, Gate::single()).await,
                None => Ok(()),
            };
        }
        let shared = Rc::new(Shared::new(self.roles.len()));
        let op = &op;
        let roles = futures_util::future::join_all(jobs.enumerate().map(|(i, (r, input))| {
            let shared = shared.clone();
            async move {
                let permit = shared.permits.clone().acquire_owned().await.ok();
                let gate = Gate::member(shared.clone(), i, prefix(true, r), permit);
                let result = op(r, prefix(true, r), input, gate).await;
                shared.ended(i, &result);
                (i, result)
            }
        }));
        let decide = async {
            let mut arrived = shared.arrived.subscribe();
            let _ = arrived.wait_for(|n| *n >= self.roles.len()).await;
            let (decision, stop) = shared.decide(self.ctx, &self.roles);
            shared.decision.send_replace(Some(decision));
            stop
        };
        let (results, stop) = futures_util::future::join(roles, decide).await;
        // Stopped at the question (declined, or no terminal and no `--yes`): no role went past
        // its gate, and the errors of those that failed before it were shown with the plan.
        if let Some(e) = stop {
            return Err(e);
        }
        let shown: Vec<bool> = shared.slots.borrow().iter().map(Slot::shown).collect();
        self.report(results, &shown)
    }

    /// Prints the errors of the roles that failed (unless `shown` already), each under its
    /// role's prefix and in role order, then the summary; `results` are in role order.
    fn report(&self, results: Vec<(usize, Result<()>)>, shown: &[bool]) -> Result<()> {
        let mut failed = Vec::new();
        for (i, result) in &results {
            let Err(e) = result else { continue };
            let role = self.roles[*i];
            if !shown.get(*i).copied().unwrap_or(false) {
                print_error(role, e);
            }
            failed.push(role.target());
        }
        let ok = results.len() - failed.len();
        if failed.is_empty() {
            println!("{}", (self.summary.done)(results.len(), &self.text));
            Ok(())
        } else {
            Err(Error::Partial((self.summary.partial)(
                ok,
                results.len(),
                &failed.join(", "),
            )))
        }
    }
}

fn print_error(role: &Role, e: &impl std::fmt::Display) {
    let text = e.to_string();
    for line in text.trim_end().lines() {
        eprintln!("{}{line}", prefix(true, role));
    }
}

/// Where a role's steps meet its batch's one question. A single role's gate is
/// `plan::gate_steps`; in a batch, the first time a role passes it (its plan, read from AWS
/// and decided), the gate holds the role until the whole batch has been planned and asked
/// about, then lets it go on, or not. Steps a role only finds after carrying out its plan
/// (`asg reload` re-creating what it destroyed) pass as a single role's do.
pub struct Gate {
    member: Option<Member>,
}

struct Member {
    shared: Rc<Shared>,
    index: usize,
    prefix: String,
    permit: RefCell<Option<OwnedSemaphorePermit>>,
}

impl Gate {
    /// The gate of a command run on one role.
    pub fn single() -> Gate {
        Gate { member: None }
    }

    fn member(
        shared: Rc<Shared>,
        index: usize,
        prefix: String,
        permit: Option<OwnedSemaphorePermit>,
    ) -> Gate {
        Gate {
            member: Some(Member {
                shared,
                index,
                prefix,
                permit: RefCell::new(permit),
            }),
        }
    }

    /// `plan::gate_steps` for a batch: shows `steps` under `title` (with the other roles'
    /// steps, in a batch), stops on `--dry-run`, asks if a step has a hazard. `Ok(true)` to run
    /// them; `Ok(false)` without steps, as `gate_steps`.
    pub async fn pass(
        &self,
        ctx: &Ctx,
        title: &str,
        steps: &[Step],
        notes: &[String],
    ) -> Result<bool> {
        match self.waiting() {
            None => plan::gate_steps(ctx, title, steps, notes),
            Some(m) => m.wait(title, steps, notes).await,
        }
    }

    /// For a role that goes on with nothing to show (following an instance refresh already
    /// running): in a batch, it waits for the others' question like any role, and goes on
    /// only if the batch does.
    pub async fn wait(&self) -> Result<()> {
        if let Some(m) = self.waiting() {
            m.wait("", &[], &[]).await?;
        }
        Ok(())
    }

    /// The role's place in its batch, while the batch has not decided yet.
    fn waiting(&self) -> Option<&Member> {
        self.member
            .as_ref()
            .filter(|m| matches!(m.shared.slots.borrow()[m.index], Slot::Planning))
    }
}

impl Member {
    async fn wait(&self, title: &str, steps: &[Step], notes: &[String]) -> Result<bool> {
        let shared = &self.shared;
        shared.slots.borrow_mut()[self.index] = Slot::Waiting {
            prefix: self.prefix.clone(),
            title: title.to_string(),
            steps: steps.to_vec(),
            notes: notes.to_vec(),
        };
        // Waiting costs no permit: another role is read and planned meanwhile.
        self.permit.borrow_mut().take();
        shared.arrived.send_modify(|n| *n += 1);
        let mut decision = shared.decision.subscribe();
        let decided = match decision.wait_for(Option::is_some).await {
            Ok(d) => d.unwrap_or(Decision::Stop),
            Err(_) => Decision::Stop,
        };
        match decided {
            Decision::Go => {
                let permit = shared.permits.clone().acquire_owned().await.ok();
                *self.permit.borrow_mut() = permit;
                Ok(!steps.is_empty())
            }
            Decision::DryRun => Ok(false),
            // The batch reports why, once; this error only ends the role.
            Decision::Stop => Err(Failure::Declined.into()),
        }
    }
}

/// What the batch decided at its question.
#[derive(Clone, Copy, Debug)]
enum Decision {
    /// Every role carries out its plan.
    Go,
    /// `--dry-run`: shown, nothing run.
    DryRun,
    /// Declined or refused: no role goes past its gate.
    Stop,
}

/// Where each role of a batch is, until the question.
enum Slot {
    /// Reading and planning.
    Planning,
    /// At its gate with these steps (none: nothing to show, more to do if the batch goes on).
    Waiting {
        prefix: String,
        title: String,
        steps: Vec<Step>,
        notes: Vec<String>,
    },
    /// Ended before its gate: nothing to do, or failed with this error (shown with the
    /// plan, before the question).
    Ended { error: Option<String> },
}

impl Slot {
    /// Whether the role's error was printed already (with the plan).
    fn shown(&self) -> bool {
        matches!(self, Slot::Ended { error: Some(_) })
    }
}

/// What the roles of one gated batch share: where each is, the permits bounding how many
/// run at once, how many reached their gate (or ended), and the batch's decision.
struct Shared {
    slots: RefCell<Vec<Slot>>,
    permits: Arc<Semaphore>,
    arrived: watch::Sender<usize>,
    decision: watch::Sender<Option<Decision>>,
}

impl Shared {
    fn new(roles: usize) -> Shared {
        Shared {
            slots: RefCell::new((0..roles).map(|_| Slot::Planning).collect()),
            permits: Arc::new(Semaphore::new(CONCURRENCY)),
            arrived: watch::Sender::new(0),
            decision: watch::Sender::new(None),
        }
    }

    /// A role's operation ended; one that never reached its gate counts as arrived (there
    /// is nothing of it to show or ask about), and its error is shown with the plan.
    fn ended(&self, index: usize, result: &Result<()>) {
        let mut slots = self.slots.borrow_mut();
        if matches!(slots[index], Slot::Planning) {
            slots[index] = Slot::Ended {
                error: result.as_ref().err().map(ToString::to_string),
            };
            drop(slots);
            self.arrived.send_modify(|n| *n += 1);
        }
    }

    /// Every role has been planned or has ended: the errors so far, then every role's steps
    /// and the one question (`plan::gate_batch`). Returns the decision, and why the batch
    /// stops when it does (the answer "no", or no terminal to ask on).
    fn decide(&self, ctx: &Ctx, roles: &[&Role]) -> (Decision, Option<Error>) {
        let slots = self.slots.borrow();
        for (role, slot) in roles.iter().zip(slots.iter()) {
            if let Slot::Ended { error: Some(e) } = slot {
                print_error(role, e);
            }
        }
        let blocks: Vec<plan::Block<'_>> = slots
            .iter()
            .filter_map(|slot| match slot {
                Slot::Waiting {
                    prefix,
                    title,
                    steps,
                    notes,
                } => Some(plan::Block {
                    prefix,
                    title,
                    steps,
                    notes,
                }),
                _ => None,
            })
            .collect();
        match plan::gate_batch(ctx, &blocks) {
            Ok(true) => (Decision::Go, None),
            Ok(false) => (Decision::DryRun, None),
            Err(e) => (Decision::Stop, Some(e)),
        }
    }
}
fn prefix(many: bool, role: &Role) -> String {
    if many {
        format!("[{}] ", role.target())
    } else {
        String::new()
    }
}
