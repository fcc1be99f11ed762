//! `asg create`, `destroy`, `reload` and `updatelc`.

use super::change::{
    LaunchStep, apply_launch, balancer_changes, desired_group, group_changes, launch_step,
    same_launch, sizes, tag_changes,
};
use super::{Batch, missing, scaling, wait};
use crate::aws::asg::{self, GroupLaunch, GroupUpdate};
use crate::aws::ec2;
use crate::config::Role;
use crate::context::Ctx;
use crate::error::Result;
use crate::launch::{LaunchKind, LaunchSpec, user_data_diff};
use crate::ops::lc;
use crate::plan::{self, Plan, Risk};

// ---------------------------------------------------------------- create

pub async fn create(ctx: &Ctx, target_text: &str) -> Result<()> {
    let batch = Batch::new(ctx, target_text)?;
    let specs = batch.launch_specs()?;
    batch
        .run_with(specs, |role, prefix, want| {
            create_one(ctx, role, prefix, want)
        })
        .await
}

async fn create_one(ctx: &Ctx, role: &Role, prefix: String, want_launch: LaunchSpec) -> Result<()> {
    let c = ctx.clients_for(role).await?;
    let name = role.group_name();
    if let Some(g) = asg::group(&c, &name).await? {
        let want = desired_group(&c, role).await?;
        let (_, mut lines) = group_changes(&g, &want);
        for (kind, add, remove) in balancer_changes(&g, &want) {
            lines.extend(
                add.iter()
                    .map(|x| format!("{} {x} to attach", kind.singular())),
            );
            lines.extend(
                remove
                    .iter()
                    .map(|x| format!("{} {x} to detach", kind.singular())),
            );
        }
        lines.extend(
            tag_changes(&g, &want.tags)
                .iter()
                .map(|(k, v)| format!("tag {k}={v} to set")),
        );
        lines.extend(
            scaling::read(&c, role, Some(&g))
                .await?
                .lines()
                .into_iter()
                .map(|l| format!("{l} (to do)")),
        );
        if lines.is_empty() {
            println!("{prefix}Group {name} already exists and matches udo.yml; no change.");
        } else {
            println!(
                "{prefix}Group {name} already exists; no change made. It differs from udo.yml in:"
            );
            for l in lines {
                println!("{prefix}    {l}");
            }
            println!(
                "{prefix}`udo asg updatelc {}` applies these.",
                role.target()
            );
        }
        return Ok(());
    }
    let live = lc::live(&c, role, None).await?;
    let step = launch_step(role, &want_launch, live.as_ref());
    let (min, max, desired) = sizes(role);
    let mut plan = Plan::default();
    if let Some(s) = step.describe(role) {
        plan.step(s);
    }
    plan.step(format!(
        "create autoscaling group {name} (min {min}, max {max}, desired {desired})"
    ));
    let scaling_changes = scaling::read(&c, role, None).await?;
    plan.steps.extend(scaling_changes.lines());
    if !plan::gate(
        ctx,
        &format!("{prefix}{}:", role.target()),
        &plan,
        Risk::Additive,
    )? {
        return Ok(());
    }
    let mut spec = desired_group(&c, role).await?;
    spec.launch = Some(apply_launch(ctx, &c, role, &want_launch, step, &prefix).await?);
    asg::create_group(&c, &spec).await?;
    ctx.events.emit(
        &prefix,
        format!(
            "Created ASgroup {name} (min {min}, max {max}, desired {desired}) from {}{}",
            spec.launch
                .as_ref()
                .map(GroupLaunch::describe)
                .unwrap_or_default(),
            if spec.subnets.is_empty() {
                String::new()
            } else {
                format!(" in subnets {}", spec.subnets.join(","))
            }
        ),
    );
    scaling::apply(
        ctx,
        &c,
        &name,
        &scaling_changes,
        &spec.target_groups,
        &prefix,
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- destroy / reload

pub async fn destroy(ctx: &Ctx, target_text: &str, timeout: u64) -> Result<()> {
    let batch = Batch::new(ctx, target_text)?;
    let confirmed = batch.confirm("Destroy")?;
    batch
        .run(|role, prefix| destroy_one(ctx, role, prefix, timeout, confirmed))
        .await
}

pub async fn reload(ctx: &Ctx, target_text: &str, timeout: u64) -> Result<()> {
    let batch = Batch::new(ctx, target_text)?;
    let specs = batch.launch_specs()?;
    let confirmed = batch.confirm("Destroy and re-create")?;
    batch
        .run_with(specs, |role, prefix, want| async move {
            destroy_one(ctx, role, prefix.clone(), timeout, confirmed).await?;
            if ctx.global.dry_run {
                println!("{prefix}then: create it again from udo.yml");
                return Ok(());
            }
            create_one(ctx, role, prefix, want).await
        })
        .await
}

async fn destroy_one(
    ctx: &Ctx,
    role: &Role,
    prefix: String,
    timeout: u64,
    confirmed: bool,
) -> Result<()> {
    let c = ctx.clients_for(role).await?;
    let name = role.group_name();
    let group = asg::group(&c, &name).await?;
    let launch_names = lc::existing_all(&c, role).await?;
    let mut plan = Plan::default();
    if let Some(g) = &group {
        if g.min != 0 || g.max != 0 || g.desired != 0 || !g.instances.is_empty() {
            plan.step(format!(
                "set {name} sizes to 0 and wait for its {} instance(s) to terminate",
                g.instances.len()
            ));
        }
        plan.step(format!("delete autoscaling group {name}"));
    } else {
        println!("{prefix}Group {name} does not exist; nothing to delete there.");
    }
    for (kind, n) in &launch_names {
        plan.step(format!("delete {} {n}", kind.noun()));
    }
    if plan.is_empty() {
        return Ok(());
    }
    let risk = if confirmed {
        Risk::Additive
    } else {
        Risk::Destructive
    };
    if !plan::gate(ctx, &format!("{prefix}{}:", role.target()), &plan, risk)? {
        return Ok(());
    }
    if let Some(g) = group {
        if g.min != 0 || g.max != 0 || g.desired != 0 {
            asg::update_group(
                &c,
                &name,
                &GroupUpdate {
                    min: Some(0),
                    max: Some(0),
                    desired: Some(0),
                    ..Default::default()
                },
            )
            .await?;
            ctx.events.emit(
                &prefix,
                format!(
                    "Changed ASgroup {name} sizes to 0 (was desired {}, min {}, max {})",
                    g.desired, g.min, g.max
                ),
            );
        }
        wait(
            ctx,
            &c,
            &name,
            &prefix,
            timeout,
            "instances to terminate",
            |g| match g {
                Some(g) if !g.instances.is_empty() => {
                    Some(format!("{} instance(s) still running", g.instances.len()))
                }
                _ => None,
            },
        )
        .await?;
        if asg::delete_group(&c, &name).await? {
            ctx.events.emit(&prefix, format!("Deleted ASgroup {name}"));
        }
        // AWS deletes groups asynchronously; a launch configuration cannot go while in use.
        wait(
            ctx,
            &c,
            &name,
            &prefix,
            timeout,
            "the group to be deleted",
            |g| g.map(|_| "deleting".to_string()),
        )
        .await?;
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

// ---------------------------------------------------------------- updatelc

pub async fn updatelc(ctx: &Ctx, target_text: &str) -> Result<()> {
    let batch = Batch::new(ctx, target_text)?;
    let specs = batch.launch_specs()?;
    batch
        .run_with(specs, |role, prefix, want| {
            updatelc_one(ctx, role, prefix, want, false)
        })
        .await
}

/// Brings one role's group in line with udo.yml: creates it (with its launch settings,
/// schedules and policies) when missing, else applies what `asg updatelc` applies. For
/// `udo apply`, which has asked once already when `confirmed`.
pub async fn converge(
    ctx: &Ctx,
    role: &Role,
    prefix: String,
    want_launch: LaunchSpec,
    exists: bool,
    confirmed: bool,
) -> Result<()> {
    if exists {
        updatelc_one(ctx, role, prefix, want_launch, confirmed).await
    } else {
        create_one(ctx, role, prefix, want_launch).await
    }
}

async fn updatelc_one(
    ctx: &Ctx,
    role: &Role,
    prefix: String,
    want_launch: LaunchSpec,
    confirmed: bool,
) -> Result<()> {
    let c = ctx.clients_for(role).await?;
    let name = role.group_name();
    let g = asg::group(&c, &name).await?.ok_or_else(|| missing(role))?;
    let live = lc::live(&c, role, Some(&g)).await?;
    let want_launch = want_launch.with_root_device_of(live.as_ref().map(|l| &l.spec));
    let step = launch_step(role, &want_launch, live.as_ref());
    let want = desired_group(&c, role).await?;
    let (mut update, group_lines) = group_changes(&g, &want);
    let balancers = balancer_changes(&g, &want);
    let tags = tag_changes(&g, &want.tags);
    let scaling_changes = scaling::read(&c, role, Some(&g)).await?;

    let mut plan = Plan::default();
    let launch_changes = match (&step, &live) {
        (LaunchStep::Reuse(l), _) if same_launch(l, &g.launch) => false,
        (LaunchStep::SetDefault(v), _) => {
            plan.step(step.describe(role).unwrap_or_default());
            let target = GroupLaunch::Template {
                id: String::new(),
                name: name.clone(),
                version: v.to_string(),
            };
            if !same_launch(&target, &g.launch) {
                plan.step(format!(
                    "switch {name} from {} to {}",
                    g.launch.describe(),
                    target.describe()
                ));
            }
            true
        }
        (LaunchStep::Reuse(l), _) => {
            plan.step(format!(
                "switch {name} from {} to {}",
                g.launch.describe(),
                l.describe()
            ));
            true
        }
        (s, l) => {
            plan.step(s.describe(role).unwrap_or_default());
            plan.step(format!(
                "switch {name} to it (from {})",
                g.launch.describe()
            ));
            if let Some(l) = l {
                for d in l.spec.diff(&want_launch) {
                    plan.detail(format!("{}: {} -> {}", d.field, d.live, d.desired));
                }
                let ud = user_data_diff(&l.spec.user_data, &want_launch.user_data);
                plan.details.extend(ud.lines().map(|l| format!("  {l}")));
            }
            true
        }
    };
    for l in &group_lines {
        plan.step(format!("change {l}"));
    }
    for (kind, add, remove) in &balancers {
        plan.steps.extend(
            add.iter()
                .map(|x| format!("attach {} {x}", kind.singular())),
        );
        plan.steps.extend(
            remove
                .iter()
                .map(|x| format!("detach {} {x}", kind.singular())),
        );
    }
    for (k, v) in &tags {
        plan.step(format!("tag {k}={v}"));
    }
    // Configurations of this role that nothing will use: the one the group leaves (deleted
    // only after the switch) and any an interrupted earlier run left behind.
    let keep = match &step {
        LaunchStep::Reuse(GroupLaunch::Configuration(n)) | LaunchStep::CreateConfig(n) => {
            Some(n.clone())
        }
        _ => None,
    };
    let unused: Vec<String> = live
        .as_ref()
        .map(|l| {
            l.versions
                .iter()
                .filter(|(v, c)| *v > 0 && Some(&c.name) != keep.as_ref())
                .map(|(_, c)| c.name.clone())
                .collect()
        })
        .unwrap_or_default();
    let unused: Vec<String> = if keep.is_some() { unused } else { Vec::new() };
    // A template role whose group still runs on a configuration (one the old tool made, or
    // from before `launch: configuration` was dropped): once switched, none of the role's
    // configurations is used any more.
    let unused = match (&g.launch, LaunchKind::of(role)) {
        (GroupLaunch::Configuration(_), LaunchKind::Template) if launch_changes => {
            lc::configurations(&c, role).await?
        }
        _ => unused,
    };
    for n in &unused {
        plan.step(format!("delete unused launch configuration {n}"));
    }
    plan.steps.extend(scaling_changes.lines());
    if plan.is_empty() {
        println!("{prefix}Group {name} matches udo.yml; nothing to do.");
        return Ok(());
    }
    let risk = if scaling_changes.destructive() && !confirmed {
        Risk::Destructive
    } else {
        Risk::Additive
    };
    if !plan::gate(ctx, &format!("{prefix}{}:", role.target()), &plan, risk)? {
        return Ok(());
    }
    let old_launch = g.launch.clone();
    if launch_changes {
        let l = apply_launch(ctx, &c, role, &want_launch, step, &prefix).await?;
        if !same_launch(&l, &g.launch) {
            update.launch = Some(l);
        }
    }
    update.settle_mix(&g.launch, &want.mix);
    if !update.is_empty() {
        asg::update_group(&c, &name, &update).await?;
        if let Some(l) = &update.launch {
            ctx.events.emit(
                &prefix,
                format!(
                    "Changed ASgroup {name} launch from {} to {}",
                    old_launch.describe(),
                    l.describe()
                ),
            );
        }
        for l in &group_lines {
            ctx.events
                .emit(&prefix, format!("Changed ASgroup {name} {l}"));
        }
    }
    for (kind, add, remove) in &balancers {
        for (items, attach) in [(add, true), (remove, false)] {
            if items.is_empty() {
                continue;
            }
            asg::attach(&c, &name, *kind, items, attach).await?;
            let (verb, dir) = if attach {
                ("Attached", "to")
            } else {
                ("Detached", "from")
            };
            ctx.events.emit(
                &prefix,
                format!(
                    "{verb} {} {} {dir} ASgroup {name}",
                    kind.noun(),
                    items.join(", ")
                ),
            );
        }
    }
    if !tags.is_empty() {
        asg::set_tags(&c, &name, &tags).await?;
        ctx.events.emit(
            &prefix,
            format!(
                "Tagged ASgroup {name} with {}",
                tags.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    // After the group itself: its schedules and policies (the sizes they set must fit).
    scaling::apply(
        ctx,
        &c,
        &name,
        &scaling_changes,
        &want.target_groups,
        &prefix,
    )
    .await?;
    // Only after the group switched: the configurations it no longer uses.
    for n in &unused {
        if asg::delete_launch_config(&c, n).await? {
            ctx.events
                .emit(&prefix, format!("Deleted launch configuration {n}"));
        }
    }
    if launch_changes {
        ctx.out.info(&format!(
            "{prefix}note: running instances keep their old launch settings until replaced (`udo asg instances {}` marks them)",
            role.target()
        ));
    }
    Ok(())
}
