//! `asg scale`, `instances`, `randomip`, `policies`, `suspend` and `resume`.

use super::{PROCESSES, missing, wait};
use crate::aws::asg::{self, Group, GroupUpdate};
use crate::aws::{Clients, ec2, scaling};
use crate::config::Role;
use crate::context::Ctx;
use crate::documents;
use crate::engine::batch::Batch;
use crate::engine::groups;
use crate::error::{Error, Result};
use crate::model::group::SCALED_MAX_TAG;
use crate::model::op_step::OpStep;
use crate::model::release::GroupState;
use crate::model::step::Step;
use crate::output::table;
use crate::plan;
use crate::schedule;
use crate::target;

// ---------------------------------------------------------------- scale

pub async fn scale(
    ctx: &Ctx,
    target_text: &str,
    n: Option<u32>,
    wait_for: bool,
    timeout: u64,
) -> Result<()> {
    let role = target::one(&ctx.config, target_text)?;
    if let Some(n) = n
        && n > 10_000
    {
        return Err(Error::usage(
            format!("{n} instances is not a possible group size"),
            "use a number from 0 to 10000",
        ));
    }
    let c = ctx.clients_for(role).await?;
    // the role's active group (one call for a role without blue/green releases)
    let found = groups::role(&c, role).await?;
    let g = groups::active_of(role, &found)?.ok_or_else(|| missing(role))?;
    let name = g.name.clone();
    let Some(n) = n.map(|n| n as i32) else {
        if ctx.out.json() {
            ctx.out.print_json(&documents::Sizes {
                group: name.clone(),
                desired: g.desired,
                min: g.min,
                max: g.max,
                in_service: g.in_service(),
            });
        } else {
            println!(
                "{name}: desired {}, min {}, max {}; {} InService",
                g.desired,
                g.min,
                g.max,
                g.in_service()
            );
        }
        return Ok(());
    };
    crate::engine::owner::check_group(role, &g)?;
    crate::engine::owner::not_rolling_out(role, &g)?;
    // a blue/green release copied the active group's sizes and switches from them
    if let Some(r) = crate::model::plan::release_refusal(role, &found) {
        return Err(r.into());
    }
    let mut update = GroupUpdate::default();
    let mut steps = Vec::new();
    if n < g.min {
        steps.push(Step::Op(OpStep::LowerMin {
            group: name.clone(),
            from: g.min,
            to: n,
        }));
        update.min = Some(n);
    }
    if n > g.max {
        let (_, yml_max, _) = crate::model::group::sizes(role);
        steps.push(Step::Op(OpStep::RaiseMax {
            group: name.clone(),
            from: g.max,
            to: n,
            yml_max,
        }));
        update.max = Some(n);
    }
    if n != g.desired {
        // The number on the command line is the user's instruction: a cut does not ask.
        steps.push(Step::Op(OpStep::SetDesired {
            group: name.clone(),
            from: g.desired,
            to: n,
            instructed: true,
        }));
    }
    if steps.is_empty() {
        println!("{name} already has desired capacity {n}; nothing to do.");
    } else {
        if !plan::gate_steps(ctx, &format!("{}:", role.target()), &steps, &[])? {
            return Ok(());
        }
        if update.min.is_some() || update.max.is_some() {
            update.desired = Some(n);
            if let Some(m) = update.max {
                // The record `udo plan` names the raise by (model::group::scaled_above_max),
                // written first: a run stopped before the raise leaves a tag naming a maximum
                // the group does not have, which says nothing; a re-run raises and records.
                asg::set_state_tags(&c, &name, &[(SCALED_MAX_TAG.to_string(), m.to_string())])
                    .await?;
            }
            asg::update_group(&c, &name, &update).await?;
            if let Some(m) = update.min {
                ctx.events.emit(
                    "",
                    format!("Changed ASgroup {name} minimum size from {} to {m}", g.min),
                );
            }
            if let Some(m) = update.max {
                ctx.events.emit(
                    "",
                    format!("Changed ASgroup {name} maximum size from {} to {m}", g.max),
                );
            }
        } else {
            asg::set_desired(&c, &name, n).await?;
        }
        if n != g.desired {
            ctx.events.emit(
                "",
                format!(
                    "Changed ASgroup {name} desired capacity from {} to {n}",
                    g.desired
                ),
            );
        }
    }
    if let Some(note) = outside_udo_yml(role, n, &ctx.config.path) {
        ctx.out.info(&note);
    }
    if wait_for {
        wait(
            ctx,
            &c,
            &name,
            "",
            timeout,
            &format!("{n} InService instances"),
            |g| match g {
                Some(g) if g.in_service() as i32 != n || g.instances.len() as i32 != n => Some(
                    format!("{} of {} InService", g.in_service(), g.instances.len()),
                ),
                Some(_) => None,
                None => Some("group disappeared".into()),
            },
        )
        .await?;
        println!(
            "{name} has {n} InService instance{}.",
            if n == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

/// A desired capacity outside udo.yml's bounds lasts only until the next `apply`: says so, and
/// what to edit to keep it. (`asg scale` raises the group's maximum above `max_size` on
/// purpose: the old tool's users script it.)
fn outside_udo_yml(role: &Role, n: i32, path: &std::path::Path) -> Option<String> {
    let (min, max, _) = crate::model::group::sizes(role);
    let (key, bound, way) = if n > max {
        ("max_size", max, "maximum")
    } else if n < min {
        ("min_size", min, "minimum")
    } else {
        return None;
    };
    Some(format!(
        "note: udo.yml still says {key}: {bound} for {target}, so the next `udo apply` (or `udo asg updatelc`) brings the {way} back to {bound} and the desired capacity from {n} to {bound}; to keep {n}, set `scale_policy: {{{key}: {n}}}` for {target} in {path}",
        target = role.target(),
        path = path.display(),
    ))
}

// ---------------------------------------------------------------- instances / randomip

struct Row {
    instance: asg::GroupInstance,
    ec2: Option<ec2::Instance>,
    outdated: bool,
}

/// The role's active group and its instances with addresses: two calls.
async fn instance_rows(c: &Clients, role: &Role) -> Result<(Group, Vec<Row>)> {
    let (mut found, _) = group_rows(c, role, false).await?;
    let g = found.remove(0);
    Ok((g.group, g.rows))
}

/// One group of a role with its instances.
struct GroupRows {
    release: u32,
    state: GroupState,
    group: Group,
    rows: Vec<Row>,
}

/// The role's active group (`all`: every group of the role, oldest release first) with its
/// instances and their addresses: two calls, one DescribeInstances for all the groups. Also
/// whether the role has blue/green releases (its lines then name each group's state).
async fn group_rows(c: &Clients, role: &Role, all: bool) -> Result<(Vec<GroupRows>, bool)> {
    let found = groups::role(c, role).await?;
    let picked: Vec<(u32, GroupState, Group)> = if all {
        found.each().map(|(n, g, st)| (n, st, g.clone())).collect()
    } else {
        let g = groups::active_of(role, &found)?.ok_or_else(|| missing(role))?;
        let n = found.active_release().unwrap_or_default();
        vec![(n, GroupState::Active, g)]
    };
    if picked.is_empty() {
        return Err(missing(role));
    }
    let ids: Vec<String> = picked
        .iter()
        .flat_map(|(_, _, g)| g.instances.iter().map(|i| i.id.clone()))
        .collect();
    let instances = ec2::instances(c, &ids).await?;
    let out = picked
        .into_iter()
        .map(|(release, state, mut group)| {
            group.use_launch_tags(&instances);
            let rows = group
                .instances
                .iter()
                .map(|i| Row {
                    instance: i.clone(),
                    ec2: instances.iter().find(|f| f.id == i.id).cloned(),
                    outdated: group.is_outdated(i),
                })
                .collect();
            GroupRows {
                release,
                state,
                group,
                rows,
            }
        })
        .collect();
    Ok((out, found.has_releases()))
}

fn instances_json(g: &GroupRows) -> documents::GroupInstances {
    documents::GroupInstances {
        group: g.group.name.clone(),
        launch: g.group.launch.describe(),
        instances: g
            .rows
            .iter()
            .map(|r| documents::Instance {
                id: r.instance.id.clone(),
                zone: r.instance.az.clone(),
                instance_type: r.instance.instance_type.clone(),
                spot: r.instance.spot,
                lifecycle: r.instance.lifecycle.clone(),
                health: r.instance.health.clone(),
                launch: r.instance.launch.describe(),
                outdated: r.outdated,
                private_ip: r.ec2.as_ref().and_then(|e| e.private_ip.clone()),
                public_ip: r.ec2.as_ref().and_then(|e| e.public_ip.clone()),
                launched: r.ec2.as_ref().and_then(|e| e.launched),
            })
            .collect(),
        release: g.release,
        state: g.state.as_str(),
    }
}

/// One group's lines of `asg instances`: its header, the table, the outdated count.
fn instances_text(prefix: &str, g: &GroupRows, labelled: bool) -> String {
    let rows = &g.rows;
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.instance.id.clone(),
                r.instance.az.clone(),
                format!(
                    "{}{}",
                    r.instance.instance_type,
                    if r.instance.spot { " (spot)" } else { "" }
                ),
                if r.instance.lifecycle == "Terminating:Wait" {
                    "Terminating:Wait (draining)".to_string()
                } else {
                    r.instance.lifecycle.clone()
                },
                r.instance.health.clone(),
                format!(
                    "{}{}",
                    r.instance.launch.describe(),
                    if r.outdated { " (outdated)" } else { "" }
                ),
                r.ec2
                    .as_ref()
                    .and_then(|e| e.private_ip.clone())
                    .unwrap_or_else(|| "-".into()),
                r.ec2
                    .as_ref()
                    .and_then(|e| e.public_ip.clone())
                    .unwrap_or_else(|| "-".into()),
                age(r.ec2.as_ref().and_then(|e| e.launched)),
            ]
        })
        .collect();
    let text = table(
        &[
            "INSTANCE",
            "ZONE",
            "TYPE",
            "STATE",
            "HEALTH",
            "LAUNCH",
            "PRIVATE IP",
            "PUBLIC IP",
            "AGE",
        ],
        &table_rows,
    );
    let mut out = format!(
        "{prefix}{}{}: {} instance(s), launching from {}\n",
        g.group.name,
        if labelled {
            format!(" ({})", g.state.as_str())
        } else {
            String::new()
        },
        rows.len(),
        g.group.launch.describe()
    );
    if !rows.is_empty() {
        for line in text.lines() {
            out.push_str(&format!("{prefix}{line}\n"));
        }
    }
    let outdated = rows.iter().filter(|r| r.outdated).count();
    if outdated > 0 {
        out.push_str(&format!(
            "{prefix}{outdated} instance(s) run an outdated launch version\n"
        ));
    }
    out
}

fn age(launched: Option<i64>) -> String {
    let Some(t) = launched else { return "-".into() };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let s = (now - t).max(0);
    match s {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// `asg instances TARGET [--all-groups]`: the active group's instances, or every group's.
pub async fn instances(ctx: &Ctx, target_text: &str, all_groups: bool) -> Result<()> {
    let batch = Batch::resolve(ctx, target_text)?;
    if ctx.out.json() {
        let mut groups = Vec::new();
        for role in batch.roles() {
            let c = ctx.clients_for(role).await?;
            let (found, _) = group_rows(&c, role, all_groups).await?;
            groups.extend(found.iter().map(instances_json));
        }
        if batch.is_many() || all_groups {
            ctx.out.print_json(&documents::GroupsInstances { groups });
        } else {
            ctx.out.print_json(&groups.remove(0));
        }
        return Ok(());
    }
    batch
        .run(|role, prefix| async move {
            let c = ctx.clients_for(role).await?;
            let (found, labelled) = group_rows(&c, role, all_groups).await?;
            let out: String = found
                .iter()
                .map(|g| instances_text(&prefix, g, labelled))
                .collect();
            print!("{out}");
            Ok(())
        })
        .await
}

pub async fn randomip(ctx: &Ctx, target_text: &str, private: bool) -> Result<()> {
    let role = target::one(&ctx.config, target_text)?;
    let c = ctx.clients_for(role).await?;
    let (g, rows) = instance_rows(&c, role).await?;
    let live: Vec<&Row> = rows
        .iter()
        .filter(|r| r.instance.lifecycle == "InService")
        .collect();
    if live.is_empty() {
        return Err(crate::failure::Failure::NoInService {
            group: g.name.clone(),
        }
        .into());
    }
    let pick = live[fastrand::usize(..live.len())];
    let e = pick.ec2.as_ref();
    let ip = if private {
        e.and_then(|e| e.private_ip.clone())
    } else {
        match e.and_then(|e| e.public_ip.clone()) {
            Some(ip) => Some(ip),
            None => {
                ctx.out.info(&format!(
                    "note: {} has no public address; printing its private one",
                    pick.instance.id
                ));
                e.and_then(|e| e.private_ip.clone())
            }
        }
    };
    let ip = ip.ok_or_else(|| {
        Error::from(crate::failure::Failure::NoAddress {
            instance: pick.instance.id.clone(),
        })
    })?;
    if ctx.out.json() {
        ctx.out.print_json(&documents::RandomIp {
            group: g.name.clone(),
            instance: pick.instance.id.clone(),
            ip: ip.to_string(),
        });
    } else {
        println!("{ip}");
    }
    Ok(())
}

// ---------------------------------------------------------------- policies / suspend / resume

pub async fn policies(ctx: &Ctx, target_text: &str) -> Result<()> {
    let role = target::one(&ctx.config, target_text)?;
    let c = ctx.clients_for(role).await?;
    let g = groups::require(&c, role).await?;
    let names = [g.name.clone()];
    let actions: Vec<schedule::Action> = scaling::actions(&c, &names)
        .await?
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    let ps: Vec<schedule::Policy> = scaling::policies(&c, &names)
        .await?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    // "from udo.yml" means udo's name and listed in udo.yml now; other udo-… ones are left
    // over and the next `asg updatelc` deletes them.
    let want_actions = schedule::desired_actions(role);
    let want_policies = schedule::desired_policies(role);
    let origin = |name: &str, listed: bool| -> &'static str {
        match (schedule::is_udo(name), listed) {
            (true, true) => "udo.yml",
            (true, false) => "udo (no longer in udo.yml)",
            (false, _) => "not from udo.yml",
        }
    };
    let action_origin =
        |a: &schedule::Action| origin(&a.name, want_actions.iter().any(|w| w.name == a.name));
    let policy_origin =
        |p: &schedule::Policy| origin(&p.name, want_policies.iter().any(|w| w.name == p.name));
    if ctx.out.json() {
        ctx.out.print_json(&documents::Policies {
            group: g.name.clone(),
            policies: ps
                .iter()
                .map(|p| documents::PolicyItem {
                    name: p.name.clone(),
                    kind: p.kind.clone(),
                    metric: p.metric.clone(),
                    target: p.target,
                    warmup: p.warmup,
                    disable_scale_in: p.disable_scale_in,
                    adjustment: p.summary.clone(),
                    from_udo_yml: policy_origin(p) == "udo.yml",
                    source: policy_origin(p),
                })
                .collect(),
            scheduled_actions: actions
                .iter()
                .map(|a| documents::ActionItem {
                    name: a.name.clone(),
                    recurrence: a.recurrence.clone(),
                    min_size: a.min,
                    max_size: a.max,
                    desired: a.desired,
                    time_zone: a.time_zone.clone(),
                    from_udo_yml: action_origin(a) == "udo.yml",
                    source: action_origin(a),
                })
                .collect(),
            suspended: g.suspended.clone(),
        });
        return Ok(());
    }
    let dash = |o: Option<String>| o.unwrap_or_else(|| "-".into());
    if ps.is_empty() {
        println!("{} has no scaling policies.", g.name);
    } else {
        let rows: Vec<Vec<String>> = ps
            .iter()
            .map(|p| {
                vec![
                    p.name.clone(),
                    p.kind.clone(),
                    if p.kind == schedule::TARGET_TRACKING {
                        format!(
                            "{} at {}{}",
                            p.metric,
                            dash(p.target.map(|t| t.to_string())),
                            p.warmup
                                .map(|w| format!(", warmup {w}s"))
                                .unwrap_or_default()
                        )
                    } else {
                        p.summary.clone()
                    },
                    policy_origin(p).to_string(),
                ]
            })
            .collect();
        print!("{}", table(&["POLICY", "TYPE", "SETTING", "SOURCE"], &rows));
    }
    if actions.is_empty() {
        println!("{} has no scheduled actions.", g.name);
    } else {
        let rows: Vec<Vec<String>> = actions
            .iter()
            .map(|a| {
                vec![
                    a.name.clone(),
                    dash(a.recurrence.clone()),
                    dash(a.time_zone.clone()),
                    dash(a.min.map(|n| n.to_string())),
                    dash(a.max.map(|n| n.to_string())),
                    dash(a.desired.map(|n| n.to_string())),
                    action_origin(a).to_string(),
                ]
            })
            .collect();
        print!(
            "{}",
            table(
                &[
                    "SCHEDULED ACTION",
                    "RECURRENCE",
                    "TIME ZONE",
                    "MIN",
                    "MAX",
                    "DESIRED",
                    "SOURCE"
                ],
                &rows
            )
        );
    }
    if !g.suspended.is_empty() {
        println!("Suspended processes: {}", g.suspended.join(", "));
    }
    Ok(())
}

fn check_processes(processes: &[String]) -> Result<()> {
    for p in processes {
        if !PROCESSES.contains(&p.as_str()) {
            let hint = crate::config::diag::suggest(p, PROCESSES.iter().copied())
                .map(|s| format!("did you mean {s}? "))
                .unwrap_or_default();
            return Err(Error::usage(
                format!("unknown scaling process `{p}`"),
                format!("{hint}processes: {}", PROCESSES.join(", ")),
            ));
        }
    }
    Ok(())
}

pub async fn suspend(
    ctx: &Ctx,
    target_text: &str,
    processes: &[String],
    resume: bool,
) -> Result<()> {
    check_processes(processes)?;
    let role = target::one(&ctx.config, target_text)?;
    let c = ctx.clients_for(role).await?;
    let g = crate::engine::owner::group(&c, role)
        .await?
        .ok_or_else(|| missing(role))?;
    let name = g.name.clone();
    let what = if processes.is_empty() {
        "all processes".to_string()
    } else {
        processes.join(", ")
    };
    let steps = [Step::Op(OpStep::Processes {
        group: name.clone(),
        what: what.clone(),
        resume,
    })];
    if !plan::gate_steps(ctx, &format!("{}:", role.target()), &steps, &[])? {
        return Ok(());
    }
    if resume {
        asg::resume(&c, &g.name, processes).await?;
        ctx.events
            .emit("", format!("Resumed {what} of ASgroup {name}"));
    } else {
        asg::suspend(&c, &g.name, processes).await?;
        ctx.events
            .emit("", format!("Suspended {what} of ASgroup {name}"));
    }
    Ok(())
}
