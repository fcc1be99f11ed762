//! `udo asg …`: the autoscaling group lifecycle.
//!
//! Every per-role operation takes a `prefix` so `CLUSTER.*` batches can run roles concurrently
//! with their lines labelled; a single role runs with no prefix and its errors propagate as is.
//! `change` compares a live group with udo.yml, `lifecycle` creates, updates and destroys,
//! `inspect` reads and scales.

mod change;
mod inspect;
mod lifecycle;

pub use inspect::{instances, policies, randomip, scale, suspend};
pub use lifecycle::{create, destroy, reload, updatelc};

use crate::aws::Clients;
use crate::aws::asg::{self, Group};
use crate::config::Role;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::ops::lc;
use crate::plan;
use crate::target::{self, Many};
use futures_util::StreamExt as _;
use std::future::Future;
use std::time::{Duration, Instant};

/// How many roles of a batch run at once.
const CONCURRENCY: usize = 4;

/// The processes AWS lets you suspend and resume.
pub const PROCESSES: &[&str] = &[
    "Launch",
    "Terminate",
    "AddToLoadBalancer",
    "AlarmNotification",
    "AZRebalance",
    "HealthCheck",
    "InstanceRefresh",
    "ReplaceUnhealthy",
    "ScheduledActions",
];

pub(super) fn missing(role: &Role) -> Error {
    Error::Failed(format!(
        "autoscaling group {} does not exist (create it with `udo asg create {}`)",
        role.group_name(),
        role.target()
    ))
}

/// Runs `op` for each role: directly for one role, else concurrently with a bound, reporting
/// each failure and a summary; any failure makes the whole command fail.
pub(super) async fn for_each<'a, F, Fut>(ctx: &'a Ctx, target_text: &str, op: F) -> Result<()>
where
    F: Fn(&'a Role, String) -> Fut,
    Fut: Future<Output = Result<()>> + 'a,
{
    let roles = target::resolve(&ctx.config, target_text, Many::Allowed)?;
    if !target_text.ends_with(".*") {
        return op(roles[0], String::new()).await;
    }
    let results: Vec<(&Role, Result<()>)> = futures_util::stream::iter(roles.iter().map(|r| {
        let fut = op(r, format!("[{}] ", r.name));
        async move { (*r, fut.await) }
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
        println!("All {} roles of {target_text} succeeded.", results.len());
        Ok(())
    } else {
        Err(Error::Partial(format!(
            "{ok} of {} roles succeeded; failed: {}",
            results.len(),
            failed.join(", ")
        )))
    }
}

/// Checks every role's launch settings (and region) before any AWS call, so a configuration
/// error stops the whole batch with exit 2 instead of failing one role midway.
pub(super) fn precheck(ctx: &Ctx, target_text: &str) -> Result<()> {
    for role in target::resolve(&ctx.config, target_text, Many::Allowed)? {
        lc::desired(ctx, role)?;
    }
    Ok(())
}

/// One confirmation for a whole batch of destructive operations.
pub(super) fn confirm_batch(ctx: &Ctx, target_text: &str, what: &str) -> Result<bool> {
    if !target_text.ends_with(".*") || ctx.global.dry_run {
        return Ok(false);
    }
    let roles = target::resolve(&ctx.config, target_text, Many::Allowed)?;
    let names: Vec<String> = roles.iter().map(|r| r.group_name()).collect();
    println!(
        "{what} {} group{}: {}",
        names.len(),
        if names.len() == 1 { "" } else { "s" },
        names.join(", ")
    );
    plan::confirm(ctx, "Proceed?")?;
    Ok(true)
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
    let mut delay = Duration::from_millis(500);
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
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(15));
    }
}
