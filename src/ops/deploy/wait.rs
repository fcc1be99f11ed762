//! Waiting for a deployment: poll with backoff (one call per poll), show progress, explain a
//! failure. The step function (`verdict`) is pure and unit-tested; the loop lives here once.

use crate::aws::Clients;
use crate::aws::codedeploy::{self, Deployment};
use crate::context::Ctx;
use crate::engine::wait::{Plain, Stop, Wait};
use crate::error::Result;
use crate::failure::Failure;
use std::time::Duration;

/// What a poll says to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Wait(String),
    Succeeded,
    Failed,
    Stopped,
}

/// Decides from a deployment's state whether to keep waiting (with the progress text).
pub fn verdict(d: &Deployment) -> Verdict {
    match d.status.as_str() {
        "Succeeded" => Verdict::Succeeded,
        "Failed" => Verdict::Failed,
        "Stopped" => Verdict::Stopped,
        other => {
            let o = d.overview;
            Verdict::Wait(format!(
                "{other}: {} pending, {} in progress, {} succeeded, {} failed",
                o.pending, o.in_progress, o.succeeded, o.failed
            ))
        }
    }
}

pub use crate::engine::wait::elapsed;

/// Polls until the deployment ends or `timeout` passes; returns its final state.
pub async fn until_done(
    ctx: &Ctx,
    c: &Clients,
    id: &str,
    group: &str,
    prefix: &str,
    timeout: u64,
) -> Result<Deployment> {
    let mut w = Wait::new(
        &ctx.out,
        prefix,
        (Duration::from_secs(3), Duration::from_secs(30)),
        Duration::from_secs(timeout),
        Plain::EveryPoll,
    );
    loop {
        let d = codedeploy::deployment(c, id).await?;
        let Verdict::Wait(state) = verdict(&d) else {
            return Ok(d);
        };
        match w.tick(&format!("{group} {id}: {state}")).await {
            Ok(()) => {}
            Err(Stop::TimedOut { waited, .. }) => {
                return Err(Failure::DeploymentTimedOut {
                    waited: elapsed(waited),
                    id: id.to_string(),
                    group: group.to_string(),
                    status: d.status.clone(),
                    state,
                }
                .into());
            }
            Err(Stop::Interrupted) => {
                return Err(Failure::DeployInterrupted {
                    id: Some(id.to_string()),
                }
                .into());
            }
        }
    }
}

/// Why a deployment failed: its own error, then each failed instance's failed lifecycle event.
pub async fn diagnose(c: &Clients, d: &Deployment) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    if let Some(e) = &d.error {
        lines.push(format!("error: {e}"));
    }
    for f in codedeploy::failed_instances(c, &d.id).await? {
        let message = if f.message.is_empty() {
            String::new()
        } else {
            format!(": {}", f.message)
        };
        lines.push(format!(
            "instance {}: lifecycle event {} failed{message}",
            f.instance, f.event
        ));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::codedeploy::Overview;

    #[test]
    fn verdicts() {
        let mut d = Deployment {
            status: "InProgress".into(),
            overview: Overview {
                pending: 1,
                in_progress: 2,
                succeeded: 3,
                failed: 0,
                skipped: 0,
            },
            ..Deployment::default()
        };
        assert_eq!(
            verdict(&d),
            Verdict::Wait("InProgress: 1 pending, 2 in progress, 3 succeeded, 0 failed".into())
        );
        d.status = "Failed".into();
        assert_eq!(verdict(&d), Verdict::Failed);
        d.status = "Stopped".into();
        assert_eq!(verdict(&d), Verdict::Stopped);
        d.status = "Succeeded".into();
        assert_eq!(verdict(&d), Verdict::Succeeded);
    }
}
