//! `udo asg …`: the autoscaling group lifecycle.
//!
//! Every per-role operation takes a `prefix` so `CLUSTER.*` batches can run roles concurrently
//! with their lines labelled; a single role runs with no prefix and its errors propagate as is.
//! `lifecycle` creates, updates and destroys (the diffs live in `model`, the reads and writes
//! in `engine`), `inspect` reads and scales, `rollout` replaces outdated instances.

mod inspect;
mod lifecycle;
mod rollout;

pub use inspect::{instances, policies, randomip, scale, suspend};
pub use lifecycle::{create, destroy, reload, updatelc};
pub use rollout::{Options as RolloutOptions, rollout};

use crate::aws::Clients;
use crate::aws::asg::{self, Group};
use crate::config::Role;
use crate::context::Ctx;
use crate::engine::survey;
use crate::error::{Error, Result};
use crate::launch::LaunchSpec;
use crate::plan;
use crate::target::{self, Many};
use futures_util::StreamExt as _;
use std::future::Future;
use std::time::{Duration, Instant};

pub(crate) use crate::engine::CONCURRENCY;
pub(super) use crate::engine::survey::missing;

pub use crate::aws::asg::PROCESSES;

/// The roles a command runs on, resolved and checked once: `CLUSTER.ROLE` (or `CLUSTER`) runs
/// directly; `CLUSTER.*` runs concurrently with a bound, lines prefixed, and a summary.
pub(super) struct Batch<'a> {
    ctx: &'a Ctx,
    text: &'a str,
    roles: Vec<&'a Role>,
    many: bool,
}

impl<'a> Batch<'a> {
    /// Resolves the target and every role's region, before any AWS call.
    pub(super) fn new(ctx: &'a Ctx, text: &'a str) -> Result<Batch<'a>> {
        let roles = target::resolve(&ctx.config, text, Many::Allowed)?;
        for role in &roles {
            ctx.region_of(role)?;
        }
        Ok(Batch {
            ctx,
            text,
            roles,
            many: text.ends_with(".*"),
        })
    }

    pub(super) fn roles(&self) -> &[&'a Role] {
        &self.roles
    }

    pub(super) fn is_many(&self) -> bool {
        self.many
    }

    /// Every role's launch settings from udo.yml, in role order: a configuration error in any
    /// role stops the whole batch with exit 2 before anything is sent to AWS.
    pub(super) fn launch_specs(&self) -> Result<Vec<LaunchSpec>> {
        self.roles
            .iter()
            .map(|r| survey::desired(self.ctx, r))
            .collect()
    }

    /// One confirmation for a whole batch of destructive operations; `true` when given.
    pub(super) fn confirm(&self, what: &str) -> Result<bool> {
        if !self.many || self.ctx.global.dry_run {
            return Ok(false);
        }
        let names: Vec<String> = self.roles.iter().map(|r| r.group_name()).collect();
        println!(
            "{what} {} group{}: {}",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        );
        plan::confirm(self.ctx, "Proceed?")?;
        Ok(true)
    }

    /// Runs `op` for each role.
    pub(super) async fn run<F, Fut>(self, op: F) -> Result<()>
    where
        F: Fn(&'a Role, String) -> Fut,
        Fut: Future<Output = Result<()>> + 'a,
    {
        let inputs = vec![(); self.roles.len()];
        self.run_with(inputs, |role, prefix, ()| op(role, prefix))
            .await
    }

    /// Runs `op` for each role with its own input (`inputs` in role order); any failure makes
    /// the whole command fail, after the other roles have run.
    pub(super) async fn run_with<T, F, Fut>(self, inputs: Vec<T>, op: F) -> Result<()>
    where
        F: Fn(&'a Role, String, T) -> Fut,
        Fut: Future<Output = Result<()>> + 'a,
    {
        let jobs = self.roles.iter().copied().zip(inputs);
        if !self.many {
            return match jobs.into_iter().next() {
                Some((role, input)) => op(role, String::new(), input).await,
                None => Ok(()),
            };
        }
        let results: Vec<(&Role, Result<()>)> =
            futures_util::stream::iter(jobs.map(|(r, input)| {
                let fut = op(r, format!("[{}] ", r.name), input);
                async move { (r, fut.await) }
            }))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut failed = Vec::new();
        for (role, res) in &results {
            if let Err(e) = res {
                let text = e.to_string();
                for line in text.trim_end().lines() {
                    eprintln!("[{}] {line}", role.name);
                }
                failed.push(role.target());
            }
        }
        let ok = results.len() - failed.len();
        if failed.is_empty() {
            println!("All {} roles of {} succeeded.", results.len(), self.text);
            Ok(())
        } else {
            Err(Error::Partial(format!(
                "{ok} of {} roles succeeded; failed: {}",
                results.len(),
                failed.join(", ")
            )))
        }
    }
}

/// Polls the group with backoff until `pending` says nothing is pending, or the timeout passes.
pub(super) async fn wait<F>(
    ctx: &Ctx,
    c: &Clients,
    name: &str,
    prefix: &str,
    timeout: u64,
    what: &str,
    pending: F,
) -> Result<()>
where
    F: Fn(Option<&Group>) -> Option<String>,
{
    let start = Instant::now();
    let mut backoff =
        crate::poll::Backoff::new(Duration::from_millis(500), Duration::from_secs(15));
    let mut shown = false;
    loop {
        let g = asg::group(c, name).await?;
        let Some(state) = pending(g.as_ref()) else {
            if shown {
                ctx.out.progress_done();
            }
            return Ok(());
        };
        let waited = start.elapsed().as_secs();
        if waited >= timeout {
            if shown {
                ctx.out.progress_done();
            }
            return Err(Error::Failed(format!(
                "timed out after {waited}s waiting for {what} in {name} ({state}); nothing else was changed; re-run the command to continue, or raise --timeout"
            )));
        }
        ctx.out.progress(&format!(
            "{prefix}waiting for {what} in {name}: {state} ({waited}s)"
        ));
        shown = true;
        backoff.wait().await;
    }
}
