//! Converge one role: create its group (with launch settings, schedules and policies) or bring a
//! running group in line with udo.yml, as `asg create`, `asg updatelc` and `apply` do.

use crate::aws::asg::{self, GroupLaunch};
use crate::config::Role;
use crate::context::Ctx;
use crate::error::Result;
use crate::launch::{LaunchKind, LaunchSpec, user_data_diff};
use crate::model::drain::{self, Drain, HookChange};
use crate::model::group::{balancer_changes, group_changes, sizes, tag_changes};
use crate::model::launch_step::{LaunchStep, launch_step, same_launch};
use crate::plan::{self, Plan, Risk};

use super::execute::{apply_launch, apply_scaling};
use super::owner;
use super::survey::{self, desired_group, missing, scaling_changes};

pub async fn create_one(
    ctx: &Ctx,
    role: &Role,
    prefix: String,
    want_launch: LaunchSpec,
) -> Result<()> {
    let c = ctx.clients_for(role).await?;
    let name = role.group_name();
    if let Some(g) = owner::group(&c, role).await? {
        owner::not_rolling_out(role, &g)?;
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
            scaling_changes(&c, role, Some(&g))
                .await?
                .lines()
                .into_iter()
                .map(|l| format!("{l} (to do)")),
        );
        if drain::needs_read(role, Some(&g)) {
            let live = asg::drain_hook(&c, &name).await?;
            if let Some(h) = drain::hook_change(Drain::desired(role).as_ref(), live.as_ref()) {
                lines.push(format!("{} (to do)", h.describe(live.as_ref())));
            }
        }
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
    let live = survey::live(&c, role, None).await?;
    let want_launch = want_launch.with_root_device_of(live.as_ref().map(|l| &l.spec));
    let step = launch_step(role, &want_launch, live.as_ref());
    let (min, max, desired) = sizes(role);
    let mut plan = Plan::default();
    if let Some(s) = step.describe(role) {
        plan.step(s);
    }
    plan.step(format!(
        "create autoscaling group {name} (min {min}, max {max}, desired {desired})"
    ));
    let scaling_changes = scaling_changes(&c, role, None).await?;
    let hook = drain::hook_change(Drain::desired(role).as_ref(), None);
    if let Some(h) = &hook {
        plan.step(h.describe(None));
    }
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
    // a termination hook holds instances when they go, whenever they were launched
    if let Some(h) = &hook {
        apply_hook(ctx, &c, &name, h, &prefix).await?;
    }
    apply_scaling(
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

/// Puts or deletes the group's `udo-drain` hook, one change event.
async fn apply_hook(
    ctx: &Ctx,
    c: &crate::aws::Clients,
    group: &str,
    change: &HookChange,
    prefix: &str,
) -> Result<()> {
    match change {
        HookChange::Put { heartbeat } => {
            asg::put_drain_hook(c, group, *heartbeat).await?;
            ctx.events.emit(
                prefix,
                format!(
                    "Put lifecycle hook {} on ASgroup {group} (on termination: heartbeat {heartbeat}s, then CONTINUE)",
                    drain::HOOK
                ),
            );
        }
        HookChange::Delete => {
            if asg::delete_drain_hook(c, group).await? {
                ctx.events.emit(
                    prefix,
                    format!("Deleted lifecycle hook {} of ASgroup {group}", drain::HOOK),
                );
            }
        }
    }
    Ok(())
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

pub async fn updatelc_one(
    ctx: &Ctx,
    role: &Role,
    prefix: String,
    want_launch: LaunchSpec,
    confirmed: bool,
) -> Result<()> {
    let c = ctx.clients_for(role).await?;
    let name = role.group_name();
    let g = owner::group(&c, role).await?.ok_or_else(|| missing(role))?;
    owner::not_rolling_out(role, &g)?;
    let live = survey::live(&c, role, Some(&g)).await?;
    let want_launch = want_launch.with_root_device_of(live.as_ref().map(|l| &l.spec));
    let step = launch_step(role, &want_launch, live.as_ref());
    let want = desired_group(&c, role).await?;
    let (mut update, group_lines) = group_changes(&g, &want);
    let balancers = balancer_changes(&g, &want);
    let tags = tag_changes(&g, &want.tags);
    let scaling_changes = scaling_changes(&c, role, Some(&g)).await?;
    let live_hook = if drain::needs_read(role, Some(&g)) {
        asg::drain_hook(&c, &name).await?
    } else {
        None
    };
    let hook = drain::hook_change(Drain::desired(role).as_ref(), live_hook.as_ref());

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
    if launch_changes && live.as_ref().is_some_and(|l| l.untagged) {
        plan.step(format!(
            "tag launch template {name} udo:app={} (it has no udo tags: the old tool's)",
            role.app_name()
        ));
    }
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
            survey::configurations(&c, role).await?
        }
        _ => unused,
    };
    for n in &unused {
        plan.step(format!("delete unused launch configuration {n}"));
    }
    if let Some(h) = &hook {
        plan.step(h.describe(live_hook.as_ref()));
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
        if let Some(l) = live.as_ref().filter(|l| l.untagged)
            && let Some(id) = &l.template_id
        {
            owner::tag_template(&c, id, role).await?;
            ctx.events.emit(
                &prefix,
                format!(
                    "Tagged launch template {name} as udo's (udo:app={})",
                    role.app_name()
                ),
            );
        }
        let l = apply_launch(ctx, &c, role, &want_launch, step, &prefix).await?;
        if !same_launch(&l, &g.launch) {
            update.launch = Some(l);
        }
    }
    let switched = update.launch.is_some();
    update.settle_mix(&g.launch, &want.mix);
    if !update.is_empty() {
        asg::update_group(&c, &name, &update).await?;
        if let Some(l) = update.launch.as_ref().filter(|_| switched) {
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
    if let Some(h) = &hook {
        apply_hook(ctx, &c, &name, h, &prefix).await?;
    }
    apply_scaling(
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
