//! `deploy.suspend_scaling`: the group's scaling processes are suspended for a deployment (so no
//! instance launches with the old revision or disappears mid-deploy) and resumed afterwards,
//! with the shared record of [`crate::engine::suspend`] (`udo:deploy-suspended`): a run killed
//! outright leaves the record, and the next deploy resumes those processes too. Processes
//! someone had suspended before are left as they were.

use crate::aws::Clients;
use crate::aws::asg::PROCESSES;
use crate::config::Role;
use crate::context::Ctx;
use crate::engine::suspend::{self, Purpose, Record};
use crate::error::{Error, Result};
use crate::failure::Failure;

/// Suspends the processes of the role's active group; returns its name and the processes to
/// resume afterwards.
pub async fn suspend(
    ctx: &Ctx,
    c: &Clients,
    role: &Role,
    name: &str,
    prefix: &str,
) -> Result<(String, Vec<String>)> {
    let g = crate::engine::owner::group(c, role).await?.ok_or_else(|| {
        Error::Op(Failure::NoGroupToSuspend {
            group: name.to_string(),
            target: role.target(),
        })
    })?;
    let processes = suspend::plan(
        PROCESSES,
        &g.suspended,
        &suspend::recorded(&g, Purpose::Deploy),
    );
    suspend::suspend(ctx, c, role, &g, Purpose::Deploy, &processes, prefix).await?;
    Ok((g.name.clone(), processes))
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
    suspend::resume(
        ctx,
        c,
        role,
        name,
        Purpose::Deploy,
        processes,
        Record::Remove,
        &[],
        prefix,
    )
    .await
}
