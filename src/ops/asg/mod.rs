//! `udo asg …`: the autoscaling group lifecycle.
//!
//! Every per-role operation takes a `prefix` so `CLUSTER.*` batches (run by
//! [`crate::engine::batch`]) can run roles concurrently with their lines labelled; a single role
//! runs with no prefix and its errors propagate as is.
//! `lifecycle` creates, updates and destroys (the diffs live in `model`, the reads and writes
//! in `engine`), `inspect` reads and scales, `rollout` replaces outdated instances, `release` does it blue/green (a
//! new group per release) and rolls back.

mod inspect;
mod lifecycle;
mod release;
mod rollout;

pub use inspect::{instances, policies, randomip, scale, suspend};
pub use lifecycle::{create, destroy, reload, updatelc};
pub use release::rollback;
pub use rollout::{Options as RolloutOptions, rollout};

use crate::aws::Clients;
use crate::aws::asg::{self, Group};
use crate::config::Role;
use crate::context::Ctx;
use crate::engine::survey;
use crate::engine::wait::{Plain, Stop, Wait};
use crate::error::Result;
use crate::failure::Failure;
use crate::launch::LaunchSpec;
use std::time::Duration;

pub(super) use crate::engine::survey::missing;

pub use crate::aws::asg::PROCESSES;

/// Every role's launch settings from udo.yml, in role order: a configuration error in any
/// role stops the whole batch with exit 2 before anything is sent to AWS.
pub(super) fn launch_specs(ctx: &Ctx, roles: &[&Role]) -> Result<Vec<LaunchSpec>> {
    roles.iter().map(|r| survey::desired(ctx, r)).collect()
}

/// Polls the group with backoff until `pending` says nothing is pending, or the timeout passes
/// (or Ctrl-C comes): the shared wait loop of `asg scale --wait` and `asg destroy`.
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
    let mut w = Wait::new(
        &ctx.out,
        prefix,
        (Duration::from_millis(500), Duration::from_secs(15)),
        Duration::from_secs(timeout),
        Plain::EveryPoll,
    );
    loop {
        let g = asg::group(c, name).await?;
        let Some(state) = pending(g.as_ref()) else {
            return Ok(());
        };
        match w
            .tick(&format!("waiting for {what} in {name}: {state}"))
            .await
        {
            Ok(()) => {}
            Err(Stop::TimedOut { waited, .. }) => {
                return Err(Failure::GroupWaitTimedOut {
                    waited,
                    what: what.to_string(),
                    group: name.to_string(),
                    state,
                }
                .into());
            }
            Err(Stop::Interrupted) => {
                return Err(Failure::GroupWaitInterrupted {
                    what: what.to_string(),
                    group: name.to_string(),
                    state,
                }
                .into());
            }
        }
    }
}
