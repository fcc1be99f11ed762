//! `asg create`, `destroy`, `reload` and `updatelc`. Create and updatelc are the engine's
//! plan for one role (`engine::plan::role`), shown, asked about when a step can take something
//! away, and run (`engine::execute::role`): the same steps `udo plan` shows for the role.
//! Destroy removes every group of the role: its base group and its blue/green releases.

use super::{launch_specs, wait};
use crate::aws::Clients;
use crate::aws::asg::{self, Group, GroupUpdate};
use crate::aws::ec2;
use crate::config::Role;
use crate::context::Ctx;
use crate::engine::batch::{Batch, Gate};
use crate::engine::{execute, groups, plan as engine_plan, survey};
use crate::error::Result;
use crate::launch::{LaunchKind, LaunchSpec};
use crate::model::op_step::OpStep;
use crate::model::release::GroupState;
use crate::model::step::Step;

// ---------------------------------------------------------------- create

pub async fn create(ctx: &Ctx, target_text: &str) -> Result<()> {
    let batch = Batch::resolve(ctx, target_text)?;
    let specs = launch_specs(ctx, batch.roles())?;
    batch
        .run_gated_with(specs, |role, prefix, want, gate| async move {
            create_one(ctx, role, prefix, want, &gate).await
        })
        .await
}

/// Creates one role's group with its launch settings, schedules and policies; a group that
/// exists is left as it is, and what differs in it is said (`asg updatelc` applies it).
async fn create_one(
    ctx: &Ctx,
    role: &Role,
    prefix: String,
    want: LaunchSpec,
    gate: &Gate,
) -> Result<()> {
    let c = ctx.clients_for(role).await?;
    let p = engine_plan::role(ctx, role, want, false).await?;
    // the active group: a role whose release is active gets no second `CLUSTER-ROLE`
    let name = &p.group;
    if p.exists {
        if !p.differs() {
            println!("{prefix}Group {name} already exists and matches udo.yml; no change.");
        } else {
            println!(
                "{prefix}Group {name} already exists; no change made. It differs from udo.yml in:"
            );
            for s in &p.steps {
                println!("{prefix}    {}", s.signed());
            }
            println!(
                "{prefix}`udo asg updatelc {}` applies these.",
                role.target()
            );
        }
        return Ok(());
    }
    if !gate
        .pass(ctx, &format!("{prefix}{}:", role.target()), &p.steps, &[])
        .await?
    {
        return Ok(());
    }
    execute::role(ctx, &c, &p, &p.steps, &prefix, &[]).await
}

// ---------------------------------------------------------------- destroy / reload

pub async fn destroy(ctx: &Ctx, target_text: &str, timeout: u64) -> Result<()> {
    Batch::resolve(ctx, target_text)?
        .run_gated(|role, prefix, gate| async move {
            destroy_one(ctx, role, prefix, timeout, &gate).await
        })
        .await
}

pub async fn reload(ctx: &Ctx, target_text: &str, timeout: u64) -> Result<()> {
    let batch = Batch::resolve(ctx, target_text)?;
    let specs = launch_specs(ctx, batch.roles())?;
    batch
        .run_gated_with(specs, |role, prefix, want, gate| async move {
            destroy_one(ctx, role, prefix.clone(), timeout, &gate).await?;
            if ctx.global.dry_run {
                println!("{prefix}then: create it again from udo.yml");
                return Ok(());
            }
            create_one(ctx, role, prefix, want, &gate).await
        })
        .await
}

/// Destroys every group of the role (its base group and blue/green releases, the active one
/// last, so an interruption leaves the role its active group), then its launch settings.
async fn destroy_one(
    ctx: &Ctx,
    role: &Role,
    prefix: String,
    timeout: u64,
    gate: &Gate,
) -> Result<()> {
    let c = ctx.clients_for(role).await?;
    let found = groups::role(&c, role).await?;
    let mut order: Vec<&Group> = found
        .each()
        .filter(|(_, _, st)| *st != GroupState::Active)
        .map(|(_, g, _)| g)
        .collect();
    order.extend(found.active());
    for g in &order {
        crate::engine::owner::check_group(role, g)?;
    }
    let launch_names = survey::existing_all(&c, role).await?;
    let mut steps = Vec::new();
    for g in &order {
        if suspends_terminate(g) {
            steps.push(Step::Op(OpStep::Processes {
                group: g.name.clone(),
                what: "Terminate".into(),
                resume: true,
            }));
        }
        if g.min != 0 || g.max != 0 || g.desired != 0 || !g.instances.is_empty() {
            steps.push(Step::Op(OpStep::EmptyGroup {
                group: g.name.clone(),
                instances: g.instances.len(),
                desired: g.desired,
            }));
        }
        steps.push(Step::Op(OpStep::DeleteGroup {
            group: g.name.clone(),
        }));
    }
    if order.is_empty() {
        println!(
            "{prefix}Group {} does not exist; nothing to delete there.",
            role.group_name()
        );
    }
    for (kind, n) in &launch_names {
        steps.push(Step::Op(OpStep::DeleteLaunch {
            kind: *kind,
            name: n.clone(),
        }));
    }
    if !gate
        .pass(ctx, &format!("{prefix}{}:", role.target()), &steps, &[])
        .await?
    {
        return Ok(());
    }
    for g in order {
        destroy_group(ctx, &c, g, &prefix, timeout).await?;
    }
    for (kind, n) in &launch_names {
        let deleted = match kind {
            LaunchKind::Template => ec2::delete_template(&c, n).await?,
            LaunchKind::Configuration => asg::delete_launch_config(&c, n).await?,
        };
        if deleted {
            ctx.events
                .emit(&prefix, format!("Deleted {} {n}", kind.noun()));
        }
    }
    Ok(())
}

/// Whether the group's `Terminate` process is suspended (a disabled blue/green release's is):
/// AWS then never terminates its instances, so emptying it must resume that first.
fn suspends_terminate(g: &Group) -> bool {
    g.suspended.iter().any(|p| p == "Terminate")
}

/// Empties one group (sizes to 0, its instances gone), deletes it and waits until it is gone.
async fn destroy_group(
    ctx: &Ctx,
    c: &Clients,
    g: &Group,
    prefix: &str,
    timeout: u64,
) -> Result<()> {
    let name = g.name.as_str();
    if suspends_terminate(g) {
        asg::resume(c, name, &["Terminate".to_string()]).await?;
        ctx.events
            .emit(prefix, format!("Resumed Terminate of ASgroup {name}"));
    }
    if g.min != 0 || g.max != 0 || g.desired != 0 {
        asg::update_group(
            c,
            name,
            &GroupUpdate {
                min: Some(0),
                max: Some(0),
                desired: Some(0),
                ..Default::default()
            },
        )
        .await?;
        ctx.events.emit(
            prefix,
            format!(
                "Changed ASgroup {name} sizes to 0 (was desired {}, min {}, max {})",
                g.desired, g.min, g.max
            ),
        );
    }
    wait(
        ctx,
        c,
        name,
        prefix,
        timeout,
        "instances to terminate",
        |g| match g {
            Some(g) if !g.instances.is_empty() => Some(match g.draining() {
                0 => format!("{} instance(s) still running", g.instances.len()),
                n => format!(
                    "{} instance(s) still running, {n} of them draining (lifecycle hook udo-drain)",
                    g.instances.len()
                ),
            }),
            _ => None,
        },
    )
    .await?;
    if asg::delete_group(c, name).await? {
        ctx.events.emit(prefix, format!("Deleted ASgroup {name}"));
    }
    // AWS deletes groups asynchronously; a launch configuration cannot go while in use.
    wait(
        ctx,
        c,
        name,
        prefix,
        timeout,
        "the group to be deleted",
        |g| g.map(|_| "deleting".to_string()),
    )
    .await
}

// ---------------------------------------------------------------- updatelc

pub async fn updatelc(ctx: &Ctx, target_text: &str) -> Result<()> {
    let batch = Batch::resolve(ctx, target_text)?;
    let specs = launch_specs(ctx, batch.roles())?;
    batch
        .run_gated_with(specs, |role, prefix, want, gate| async move {
            updatelc_one(ctx, role, prefix, want, &gate).await
        })
        .await
}

/// Brings one role's running group in line with udo.yml: its launch settings (and the switch to
/// them), sizes, subnets, balancers, tags, schedules and policies, then the launch
/// configurations nothing uses any more.
async fn updatelc_one(
    ctx: &Ctx,
    role: &Role,
    prefix: String,
    want: LaunchSpec,
    gate: &Gate,
) -> Result<()> {
    let c = ctx.clients_for(role).await?;
    let p = engine_plan::role(ctx, role, want, true).await?;
    let name = &p.group;
    if !p.differs() {
        println!("{prefix}Group {name} matches udo.yml; nothing to do.");
        return Ok(());
    }
    if !gate
        .pass(ctx, &format!("{prefix}{}:", role.target()), &p.steps, &[])
        .await?
    {
        return Ok(());
    }
    execute::role(ctx, &c, &p, &p.steps, &prefix, &[]).await
}
