//! `deploy.suspend_scaling`: the group's scaling processes are suspended for a deployment (so no
//! instance launches with the old revision or disappears mid-deploy) and resumed afterwards.
//!
//! Which processes udo suspended is kept on the group itself, in the `udo:deploy-suspended`
//! tag, before suspending: a run killed outright leaves the tag, and the next deploy resumes
//! those processes too. Processes someone had suspended before are left as they were.

use crate::aws::Clients;
use crate::aws::asg::{self, PROCESSES};
use crate::config::Role;
use crate::context::Ctx;
use crate::error::{Error, Result};

const TAG: &str = "udo:deploy-suspended";

/// What to suspend: every process not already suspended, plus what an interrupted deploy left
/// recorded in the tag (suspended by udo, so udo resumes it).
pub fn plan(already: &[String], recorded: &str) -> Vec<String> {
    let left: Vec<&str> = recorded.split(',').filter(|p| !p.is_empty()).collect();
    PROCESSES
        .iter()
        .filter(|p| left.contains(p) || !already.iter().any(|a| a == *p))
        .map(|p| p.to_string())
        .collect()
}

/// Suspends the processes; returns those to resume afterwards.
pub async fn suspend(
    ctx: &Ctx,
    c: &Clients,
    role: &Role,
    name: &str,
    prefix: &str,
) -> Result<Vec<String>> {
    let g = crate::engine::owner::group(c, role).await?.ok_or_else(|| {
        Error::Failed(format!(
            "deploy.suspend_scaling is set but autoscaling group {name} does not exist (create it with `udo asg create {}`)",
            role.target()
        ))
    })?;
    let recorded = g
        .tags
        .iter()
        .find(|(k, _)| k == TAG)
        .map_or("", |(_, v)| v.as_str());
    let processes = plan(&g.suspended, recorded);
    if processes.is_empty() {
        return Ok(processes);
    }
    asg::set_tags(c, name, &[(TAG.to_string(), processes.join(","))]).await?;
    asg::suspend(c, name, &processes).await?;
    ctx.events.emit_for(
        role,
        prefix,
        format!(
            "Suspended scaling processes of ASgroup {name} for the deployment: {}",
            processes.join(", ")
        ),
    );
    Ok(processes)
}

/// Resumes what `suspend` suspended and clears the record.
pub async fn resume(
    ctx: &Ctx,
    c: &Clients,
    role: &Role,
    name: &str,
    processes: &[String],
    prefix: &str,
) -> Result<()> {
    if processes.is_empty() {
        return Ok(());
    }
    asg::resume(c, name, processes).await?;
    asg::set_tags(c, name, &[(TAG.to_string(), String::new())]).await?;
    ctx.events.emit_for(
        role,
        prefix,
        format!("Resumed scaling processes of ASgroup {name}"),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{PROCESSES, plan};

    #[test]
    fn keeps_processes_someone_else_suspended() {
        let p = plan(&["AZRebalance".into()], "");
        assert_eq!(p.len(), 8);
        assert!(!p.contains(&"AZRebalance".to_string()));
    }

    #[test]
    fn resumes_what_an_interrupted_deploy_left() {
        let all: Vec<String> = PROCESSES.iter().map(|p| p.to_string()).collect();
        assert_eq!(plan(&all, "Launch,Terminate"), vec!["Launch", "Terminate"]);
    }
}
