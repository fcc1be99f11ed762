//! Suspending a group's scaling processes for the length of an operation, and recording on
//! the group itself which ones udo suspended, so whatever ends the operation (its own end,
//! Ctrl-C, a kill) a re-run knows what udo must resume, and never resumes what someone else
//! had suspended. Used by `deploy` (`deploy.suspend_scaling`) and `asg rollout`.
//!
//! The record is one group tag per operation, `udo:deploy-suspended` / `udo:rollout-suspended`,
//! holding the processes as a comma-separated list: written before the processes are
//! suspended, removed after they are resumed. A deploy and a rollout of the same group keep
//! separate records, so neither resumes the other's. Rollouts of udo versions before this
//! record kept the list in their `udo:rollout` state tag (`suspended=…`); a re-run still reads
//! it there ([`crate::rollout::Saved::parse`]).

use crate::aws::Clients;
use crate::aws::asg::{self, Group};
use crate::config::Role;
use crate::context::Ctx;
use crate::error::Result;

/// The operation processes are suspended for; each has its own record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Deploy,
    Rollout,
    /// A blue/green release's disabled group (`model::release::SUSPEND`).
    Release,
}

impl Purpose {
    /// The group tag recording what udo suspended for this operation.
    pub fn tag(self) -> &'static str {
        match self {
            Purpose::Deploy => "udo:deploy-suspended",
            Purpose::Rollout => "udo:rollout-suspended",
            Purpose::Release => crate::model::release::SUSPENDED_TAG,
        }
    }

    fn suspended_line(self, name: &str, processes: &[String]) -> String {
        match self {
            Purpose::Deploy => format!(
                "Suspended scaling processes of ASgroup {name} for the deployment: {}",
                processes.join(", ")
            ),
            Purpose::Rollout | Purpose::Release => {
                format!("Suspended {} of ASgroup {name}", processes.join(", "))
            }
        }
    }

    fn resumed_line(self, name: &str, processes: &[String]) -> String {
        match self {
            Purpose::Deploy => format!("Resumed scaling processes of ASgroup {name}"),
            Purpose::Rollout | Purpose::Release => {
                format!("Resumed {} of ASgroup {name}", processes.join(", "))
            }
        }
    }
}

/// The processes the group's record says udo suspended for `purpose` (and has not resumed).
pub fn recorded(g: &Group, purpose: Purpose) -> Vec<String> {
    g.tags
        .iter()
        .find(|(k, _)| k == purpose.tag())
        .map(|(_, v)| {
            v.split(',')
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// What to suspend: each of `wanted` not already suspended, plus what an interrupted run left
/// recorded (suspended by udo, so udo resumes it), in `wanted`'s order, then the record's.
pub fn plan(wanted: &[&str], already: &[String], recorded: &[String]) -> Vec<String> {
    let mut out: Vec<String> = wanted
        .iter()
        .filter(|p| recorded.iter().any(|r| r == *p) || !already.iter().any(|a| a == *p))
        .map(|p| p.to_string())
        .collect();
    for r in recorded {
        if !out.contains(r) {
            out.push(r.clone());
        }
    }
    out
}

/// Records `processes` on the group, then suspends those of them not suspended yet. `g` is
/// the group as just read.
#[allow(clippy::too_many_arguments)]
pub async fn suspend(
    ctx: &Ctx,
    c: &Clients,
    role: &Role,
    g: &Group,
    purpose: Purpose,
    processes: &[String],
    prefix: &str,
) -> Result<()> {
    record(c, g, purpose, processes, &[]).await?;
    suspend_recorded(ctx, c, role, g, purpose, processes, prefix).await
}

/// The first half of [`suspend`]: writes the record (unless the group has it already), with
/// `also`, further tags of the operation's own state, in the same call.
pub async fn record(
    c: &Clients,
    g: &Group,
    purpose: Purpose,
    processes: &[String],
    also: &[(String, String)],
) -> Result<()> {
    let mut tags = also.to_vec();
    if !processes.is_empty() && recorded(g, purpose) != processes {
        tags.push((purpose.tag().to_string(), processes.join(",")));
    }
    if !tags.is_empty() {
        asg::set_state_tags(c, &g.name, &tags).await?;
    }
    Ok(())
}

/// The second half of [`suspend`], once [`record`] is written: suspends those of `processes`
/// the group (as read before) does not have suspended yet.
pub async fn suspend_recorded(
    ctx: &Ctx,
    c: &Clients,
    role: &Role,
    g: &Group,
    purpose: Purpose,
    processes: &[String],
    prefix: &str,
) -> Result<()> {
    let now: Vec<String> = processes
        .iter()
        .filter(|p| !g.suspended.contains(p))
        .cloned()
        .collect();
    if now.is_empty() {
        return Ok(());
    }
    asg::suspend(c, &g.name, &now).await?;
    ctx.events
        .emit_for(role, prefix, purpose.suspended_line(&g.name, &now));
    Ok(())
}

/// What happens to the record once the processes are resumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// The operation is over: remove the record (with `also`, the operation's other tags, in
    /// the same call).
    Remove,
    /// The operation was interrupted and a re-run will finish it: keep the record, so the
    /// re-run suspends the same processes again and resumes them at its end.
    Keep,
}

/// Resumes what [`suspend`] suspended, then removes (or keeps) the record.
#[allow(clippy::too_many_arguments)]
pub async fn resume(
    ctx: &Ctx,
    c: &Clients,
    role: &Role,
    name: &str,
    purpose: Purpose,
    processes: &[String],
    record: Record,
    also: &[&str],
    prefix: &str,
) -> Result<()> {
    if !processes.is_empty() {
        asg::resume(c, name, processes).await?;
        ctx.events
            .emit_for(role, prefix, purpose.resumed_line(name, processes));
    }
    if record == Record::Remove && (!processes.is_empty() || !also.is_empty()) {
        let mut keys: Vec<&str> = also.to_vec();
        keys.push(purpose.tag());
        asg::delete_tags(c, name, &keys).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::plan;
    use crate::aws::asg::PROCESSES;

    #[test]
    fn keeps_processes_someone_else_suspended() {
        let p = plan(PROCESSES, &["AZRebalance".into()], &[]);
        assert_eq!(p.len(), 8);
        assert!(!p.contains(&"AZRebalance".to_string()));
    }

    #[test]
    fn resumes_what_an_interrupted_run_left() {
        let all: Vec<String> = PROCESSES.iter().map(|p| p.to_string()).collect();
        let left = vec!["Launch".to_string(), "Terminate".to_string()];
        assert_eq!(plan(PROCESSES, &all, &left), left);
        // a rollout's record of a process it does not want any more is still resumed
        let p = plan(&["AZRebalance"], &[], &["HealthCheck".into()]);
        assert_eq!(p, vec!["AZRebalance", "HealthCheck"]);
    }
}
