//! Execute: runs a plan's steps in a safe order (network, launch settings, the group, its
//! balancers and tags, schedules and policies, then what nothing uses any more), each write
//! safe to repeat, each step one change event. With `-v`, each step is traced on stderr as the
//! plan showed it (`step: + create launch template dev-web`) before it runs.

use crate::aws::asg::{self, Balancer, GroupLaunch, GroupUpdate};
use crate::aws::{Clients, ec2, scaling};
use crate::config::Role;
use crate::context::Ctx;
use crate::error::Result;
use crate::launch::{self, LaunchSpec};
use crate::model::drain::{self, HookChange};
use crate::model::plan::RolePlan;
use crate::model::release;
use crate::model::scaling::ScalingChanges;
use crate::model::step::{Field, Step};
use crate::schedule::{self, Change};

use super::network::{apply_step, remove_extra};
use super::plan::NetworkPlan;
use super::suspend::{self, Purpose};

/// Says, with `-v`, which step runs now.
fn trace(ctx: &Ctx, prefix: &str, step: &Step) {
    if ctx.global.verbose > 0 {
        eprintln!("{prefix}step: {}", step.signed());
    }
}

/// Runs a cluster network's steps; returns the subnets it has afterwards (CIDR, id).
pub async fn network(ctx: &Ctx, n: NetworkPlan) -> Result<Vec<(String, String)>> {
    let NetworkPlan {
        cluster,
        clients,
        spec,
        mut state,
        steps,
        ..
    } = n;
    for s in &steps {
        trace(ctx, "", s);
        match s.clone() {
            Step::Network { step, .. } => {
                apply_step(ctx, &clients, &cluster, &spec, &mut state, step).await?
            }
            Step::RemoveCopy { extra, .. } => remove_extra(extra, ctx, &clients).await?,
            _ => {}
        }
    }
    Ok(state.subnets)
}

/// Subnet ids, a CIDR (a subnet this run's network steps made) replaced by its id.
fn resolve(subnets: &[String], created: &[(String, String)]) -> Result<Vec<String>> {
    subnets
        .iter()
        .map(|s| {
            if !s.contains('/') {
                return Ok(s.clone());
            }
            created
                .iter()
                .find(|(cidr, _)| cidr == s)
                .map(|(_, id)| id.clone())
                .ok_or_else(|| crate::failure::Failure::SubnetNotCreated { cidr: s.clone() }.into())
        })
        .collect()
}

/// Runs the launch steps among `steps` for `role`; returns the launch settings the last one
/// made (what the group is to use), if any.
pub async fn launch(
    ctx: &Ctx,
    c: &Clients,
    role: &Role,
    want: &LaunchSpec,
    steps: &[Step],
    prefix: &str,
) -> Result<Option<GroupLaunch>> {
    let name = role.group_name();
    let ev = |m: String| ctx.events.emit(prefix, m);
    let mut launch = None;
    for s in steps {
        let made = match s {
            Step::TagTemplate {
                template_id, app, ..
            } => {
                trace(ctx, prefix, s);
                super::owner::tag_template(c, template_id, role).await?;
                ev(format!(
                    "Tagged launch template {name} as udo's (udo:app={app})"
                ));
                continue;
            }
            Step::CreateTemplate { .. } => {
                trace(ctx, prefix, s);
                let id = ec2::create_template(c, &name, want, &launch::role_tags(role)).await?;
                ev(format!("Created launch template {name} ({id}) version 1"));
                GroupLaunch::Template {
                    id,
                    name: name.clone(),
                    version: "1".into(),
                }
            }
            Step::NewTemplateVersion { .. } => {
                trace(ctx, prefix, s);
                let v = ec2::create_template_version(c, &name, want).await?;
                ev(format!("Created launch template {name} version {v}"));
                GroupLaunch::Template {
                    id: String::new(),
                    name: name.clone(),
                    version: v.to_string(),
                }
            }
            Step::MakeDefault { version, .. } => {
                trace(ctx, prefix, s);
                ec2::set_default_version(c, &name, *version).await?;
                ev(format!(
                    "Made version {version} of launch template {name} the default"
                ));
                GroupLaunch::Template {
                    id: String::new(),
                    name: name.clone(),
                    version: version.to_string(),
                }
            }
            Step::CreateLaunchConfiguration { name: n, .. } => {
                trace(ctx, prefix, s);
                asg::create_launch_config(c, n, want).await?;
                ev(format!("Created launch configuration {n}"));
                GroupLaunch::Configuration(n.clone())
            }
            _ => continue,
        };
        launch = Some(made);
    }

    Ok(launch)
}

/// Runs `steps` (a role plan's, or the parts of it a command applies) for the role of `p`.
/// `created`: subnets the network steps of the same run made, for CIDRs in the plan.
pub async fn role(
    ctx: &Ctx,
    c: &Clients,
    p: &RolePlan<'_>,
    steps: &[Step],
    prefix: &str,
    created: &[(String, String)],
) -> Result<()> {
    if let Some(e) = p.refusal() {
        return Err(e);
    }
    let role = p.role;
    // the role's active group (or the base group the plan creates), never a release beside it
    let name = p.group.clone();
    let want = &p.want_launch;
    let ev = |m: String| ctx.events.emit(prefix, m);

    // 1. launch settings
    let mut launch = p.reuse.clone();
    if let Some(made) = self::launch(ctx, c, role, want, steps, prefix).await? {
        launch = Some(made);
    }

    // 2. the group: created, or changed in one UpdateAutoScalingGroup call
    let mut update = GroupUpdate::default();
    let mut switched: Option<(GroupLaunch, GroupLaunch)> = None;
    let mut fields: Vec<(&Step, &Field)> = Vec::new();
    for s in steps {
        match s {
            Step::CreateGroup {
                min, max, desired, ..
            } => {
                trace(ctx, prefix, s);
                let mut spec = p.want_group.clone();
                spec.subnets = resolve(&spec.subnets, created)?;
                spec.launch = launch.clone();
                asg::create_group(c, &spec).await?;
                ev(format!(
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
                ));
            }
            Step::SwitchLaunch { from, to, .. } => {
                let to = to.clone().or_else(|| launch.clone()).ok_or_else(|| {
                    crate::failure::Failure::NoLaunchToSwitch {
                        group: name.to_string(),
                    }
                })?;
                update.launch = Some(to.clone());
                switched = Some((from.clone(), to));
            }
            Step::UpdateGroup { field, .. } => {
                match field {
                    Field::Subnets(a, b) => {
                        Field::Subnets(a.clone(), resolve(b, created)?).apply(&mut update)
                    }
                    f => f.apply(&mut update),
                }
                fields.push((s, field));
            }
            _ => {}
        }
    }
    // a mixed group gets a new launch version only through its policy, and a policy is only
    // sent with the template it runs over
    if let Some(live) = &p.live_launch {
        update.settle_mix(live, &p.want_group.mix);
    }
    if !update.is_empty() {
        for s in steps
            .iter()
            .filter(|s| matches!(s, Step::SwitchLaunch { .. } | Step::UpdateGroup { .. }))
        {
            trace(ctx, prefix, s);
        }
        asg::update_group(c, &name, &update).await?;
        if let Some((from, to)) = &switched {
            ev(format!(
                "Changed ASgroup {name} launch from {} to {}",
                from.describe(),
                to.describe()
            ));
        }
        for (_, f) in &fields {
            let text = match f {
                Field::Subnets(a, b) => Field::Subnets(a.clone(), resolve(b, created)?).describe(),
                f => f.describe(),
            };
            ev(format!("Changed ASgroup {name} {text}"));
        }
    }

    // 3. balancers, one call per kind and direction
    for kind in [Balancer::Classic, Balancer::TargetGroup] {
        for attach in [true, false] {
            let picked: Vec<&Step> = steps
                .iter()
                .filter(|s| match s {
                    Step::Attach { kind: k, .. } => attach && *k == kind,
                    Step::Detach { kind: k, .. } => !attach && *k == kind,
                    _ => false,
                })
                .collect();
            if picked.is_empty() {
                continue;
            }
            let items: Vec<String> = picked
                .iter()
                .filter_map(|s| match s {
                    Step::Attach { name, .. } | Step::Detach { name, .. } => Some(name.clone()),
                    _ => None,
                })
                .collect();
            for s in &picked {
                trace(ctx, prefix, s);
            }
            asg::attach(c, &name, kind, &items, attach).await?;
            let (verb, dir) = if attach {
                ("Attached", "to")
            } else {
                ("Detached", "from")
            };
            ev(format!(
                "{verb} {} {} {dir} ASgroup {name}",
                kind.noun(),
                items.join(", ")
            ));
        }
    }

    // 4. tags, in one call
    let tags: Vec<(String, String)> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Tag { key, value, .. } => {
                trace(ctx, prefix, s);
                Some((key.clone(), value.clone()))
            }
            _ => None,
        })
        .collect();
    if !tags.is_empty() {
        asg::set_tags(c, &name, &tags).await?;
        ev(format!(
            "Tagged ASgroup {name} with {}",
            tags.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }

    // 5. a termination hook holds instances when they go, whenever they were launched
    for s in steps {
        if let Step::DrainHook { change, .. } = s {
            trace(ctx, prefix, s);
            match change {
                HookChange::Put { heartbeat } => {
                    asg::put_drain_hook(c, &name, *heartbeat).await?;
                    ev(format!(
                        "Put lifecycle hook {} on ASgroup {name} (on termination: heartbeat {heartbeat}s, then CONTINUE)",
                        drain::HOOK
                    ));
                }
                HookChange::Delete => {
                    if asg::delete_drain_hook(c, &name).await? {
                        ev(format!(
                            "Deleted lifecycle hook {} of ASgroup {name}",
                            drain::HOOK
                        ));
                    }
                }
            }
        }
    }

    // 6. after the group itself: its schedules and policies (the sizes they set must fit)
    let mut ch = ScalingChanges::default();
    for s in steps {
        match s {
            Step::Schedule(c) => ch.actions.push(c.clone()),
            Step::Policy(c) => ch.policies.push(c.clone()),
            _ => continue,
        }
        trace(ctx, prefix, s);
    }
    if !ch.is_empty() {
        apply_scaling(ctx, c, &name, &ch, &p.want_group.target_groups, prefix).await?;
    }

    // 7. only after the group switched: the configurations it no longer uses
    for s in steps {
        if let Step::DeleteLaunchConfiguration { name: n } = s {
            trace(ctx, prefix, s);
            if asg::delete_launch_config(c, n).await? {
                ev(format!("Deleted launch configuration {n}"));
            }
        }
    }
    // 8. disabled blue/green groups whose `rollout.scale_down_after` is due (not the active one)
    for s in steps {
        if let Step::Release(release::Action::ScaleDown { group, .. }) = s {
            trace(ctx, prefix, s);
            if scale_down_disabled(c, group).await? {
                ev(format!(
                    "Scaled disabled ASgroup {group} to 0 (rollout.scale_down_after)"
                ));
            }
        }
    }
    if switched.is_some() {
        ctx.out.info(&format!(
            "{prefix}note: running instances keep their old launch settings until replaced (`udo asg instances {}` marks them)",
            role.target()
        ));
    }
    Ok(())
}

/// Scales the disabled blue/green group `group` to 0 (`rollout.scale_down_after`), for the
/// release commands and for `apply` alike. Disabling suspended its terminations: they are
/// resumed so AWS can scale it in, and its record of what udo suspended (`udo:release-suspended`)
/// loses `Terminate`, so a rollback resumes only the rest. Safe to repeat; `false` when the
/// group is gone.
pub async fn scale_down_disabled(c: &Clients, group: &str) -> Result<bool> {
    let Some(g) = asg::group(c, group).await? else {
        return Ok(false);
    };
    let kept: Vec<String> = suspend::recorded(&g, Purpose::Release)
        .into_iter()
        .filter(|p| p != "Terminate")
        .collect();
    if g.suspended.iter().any(|p| p == "Terminate") {
        asg::resume(c, group, &["Terminate".to_string()]).await?;
    }
    asg::update_group(
        c,
        group,
        &GroupUpdate {
            min: Some(0),
            desired: Some(0),
            ..Default::default()
        },
    )
    .await?;
    asg::set_state_tags(c, group, &[(release::SUSPENDED_TAG.into(), kept.join(","))]).await?;
    Ok(true)
}

/// Applies the changes to group `name`: additions and changes first, deletions last, one
/// event each. `target_groups` are the role's target group ARNs (for `alb_requests`).
pub async fn apply_scaling(
    ctx: &Ctx,
    c: &Clients,
    name: &str,
    ch: &ScalingChanges,
    target_groups: &[String],
    prefix: &str,
) -> Result<()> {
    for change in &ch.actions {
        match change {
            Change::Add(a) | Change::Update { want: a, .. } => {
                scaling::put_action(c, name, a).await?;
                let verb = change.done();
                ctx.events.emit(
                    prefix,
                    format!(
                        "{verb} scheduled action {} of ASgroup {name}",
                        schedule::Item::describe(a)
                    ),
                );
            }
            Change::Delete(_) => {}
        }
    }
    let mut label: Option<String> = None;
    for change in &ch.policies {
        match change {
            Change::Add(p) | Change::Update { want: p, .. } => {
                let resource_label = if p.metric == "alb_requests" {
                    if label.is_none() {
                        let tg = target_groups.first().ok_or_else(|| {
                            crate::failure::Failure::NoTargetGroupToTrack {
                                policy: p.name.clone(),
                                group: name.to_string(),
                            }
                        })?;
                        label = Some(scaling::alb_resource_label(c, tg).await?);
                    }
                    label.clone()
                } else {
                    None
                };
                scaling::put_policy(c, name, p, resource_label).await?;
                let verb = change.done();
                ctx.events.emit(
                    prefix,
                    format!(
                        "{verb} scaling policy {} of ASgroup {name}",
                        schedule::Item::describe(p)
                    ),
                );
            }
            Change::Delete(_) => {}
        }
    }
    for change in &ch.actions {
        if let Change::Delete(a) = change
            && scaling::delete_action(c, name, &a.name).await?
        {
            ctx.events.emit(
                prefix,
                format!("Deleted scheduled action {} of ASgroup {name}", a.name),
            );
        }
    }
    for change in &ch.policies {
        if let Change::Delete(p) = change
            && scaling::delete_policy(c, name, &p.name).await?
        {
            ctx.events.emit(
                prefix,
                format!("Deleted scaling policy {} of ASgroup {name}", p.name),
            );
        }
    }
    Ok(())
}
