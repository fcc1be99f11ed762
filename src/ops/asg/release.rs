//! Blue/green releases: `udo asg rollout TARGET --strategy bluegreen` (or `rollout: {strategy:
//! bluegreen}` in udo.yml) brings a new group `CLUSTER-ROLE-vN` up beside the active one and
//! switches to it once every new instance is healthy; `udo asg rollback TARGET [--to vN]`
//! brings a disabled one back the same way.
//!
//! The steps come from [`release::plan`] (pure, unit-tested) and are shown, asked about and run
//! as typed steps through the one gate; this module carries each out. Every step is safe to
//! repeat and everything a re-run needs is on the groups' tags, so a re-run after a kill at
//! any point finishes the switch, or undoes the half-made release.

use crate::aws::asg::{self, Balancer, Group, GroupLaunch, GroupUpdate};
use crate::aws::rollout::{self as aws_rollout, Health};
use crate::aws::{Clients, codedeploy};
use crate::config::Role;
use crate::context::Ctx;
use crate::engine::batch::{Batch, Gate};
use crate::engine::suspend::{self, Purpose, Record};
use crate::engine::wait::{Plain, Stop, Wait};
use crate::engine::{execute, groups, owner, survey};
use crate::error::{Error, Result};
use crate::failure::{Failure, ReleaseFailure};
use crate::model::launch_step::{LaunchStep, launch_step};
use crate::model::release::{
    self, ACTIVE_STATE, ACTIVE_TAG, Action, DISABLED, DISABLED_AT_TAG, Deployment, Goal, Inputs,
    RELEASING, Refusal, RoleGroups, STATE_TAG, SWITCH_TAG, Undo,
};
use crate::model::step::Step;
use std::collections::HashSet;
use std::time::Duration;

/// What `--strategy bluegreen` takes from the command line.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// A new release even when the active group runs udo.yml's launch settings everywhere.
    pub all: bool,
    /// Seconds the new group has to become healthy.
    pub timeout: u64,
}

/// `udo asg rollout` for one role whose strategy is `bluegreen`.
pub async fn release(
    ctx: &Ctx,
    role: &Role,
    prefix: &str,
    opts: Options,
    gate: &Gate,
) -> Result<()> {
    let c = ctx.clients_for(role).await?;
    let rg = read(&c, role).await?;
    let active = rg.active().cloned().ok_or_else(|| no_active(role, &rg))?;
    let want = survey::desired(ctx, role)?;
    let live = survey::live(&c, role, Some(&active)).await?;
    let want = want.with_root_device_of(live.as_ref().map(|l| &l.spec));
    let launch = target_launch(role, &launch_step(role, &want, live.as_ref()));
    let launch_steps = crate::model::plan::launch_part(role, &want, live.as_ref());
    let goal = Goal::Release {
        launch,
        all: opts.all,
    };
    let Some(plan) = plan_for(&c, role, &rg, goal, prefix).await? else {
        return Ok(());
    };
    let mut steps = launch_steps;
    run(
        ctx, &c, role, prefix, &rg, plan, &mut steps, &want, opts, gate,
    )
    .await
}

/// `udo asg rollback TARGET [--to vN]`.
pub async fn rollback(ctx: &Ctx, target: &str, to: Option<&str>, timeout: u64) -> Result<()> {
    let to = match to {
        None => None,
        Some(t) => Some(
            t.strip_prefix('v')
                .and_then(|n| n.parse::<u32>().ok())
                .ok_or_else(|| {
                    Error::usage(
                        format!("`{t}` is not a release: give it as `udo asg status` shows it"),
                        "for example --to v2 (v0 is the group CLUSTER-ROLE)",
                    )
                })?,
        ),
    };
    Batch::resolve(ctx, target)?
        .run_gated(|role, prefix, gate| async move {
            let c = ctx.clients_for(role).await?;
            let rg = read(&c, role).await?;
            let Some(plan) = plan_for(&c, role, &rg, Goal::Rollback { to }, &prefix).await? else {
                return Ok(());
            };
            let want = survey::desired(ctx, role)?;
            let opts = Options {
                all: false,
                timeout,
            };
            run(
                ctx,
                &c,
                role,
                &prefix,
                &rg,
                plan,
                &mut Vec::new(),
                &want,
                opts,
                &gate,
            )
            .await
        })
        .await
}

/// The role's groups, none of them another application's.
async fn read(c: &Clients, role: &Role) -> Result<RoleGroups> {
    let rg = groups::role(c, role).await?;
    for (_, g) in &rg.groups {
        owner::check_group(role, g)?;
        owner::not_rolling_out(role, g)?;
    }
    Ok(rg)
}

fn no_active(role: &Role, rg: &RoleGroups) -> Error {
    if rg.groups.is_empty() {
        survey::missing(role)
    } else {
        Failure::NoRelease {
            why: format!(
                "no group of {} is active (its groups: {}); tag the one that should serve `udo:active=true`",
                role.target(),
                rg.groups
                    .iter()
                    .map(|(_, g)| g.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
        .into()
    }
}

/// The launch settings a new release runs: what the launch step reuses or makes.
fn target_launch(role: &Role, step: &LaunchStep) -> GroupLaunch {
    let name = role.group_name();
    let template = |v: i64| GroupLaunch::Template {
        id: String::new(),
        name: name.clone(),
        version: v.to_string(),
    };
    match step {
        LaunchStep::Reuse(l) => l.clone(),
        LaunchStep::SetDefault(v) | LaunchStep::NewTemplateVersion(v) => template(*v),
        LaunchStep::CreateTemplate => template(1),
        LaunchStep::CreateConfig(n) => GroupLaunch::Configuration(n.clone()),
    }
}

/// (CodeDeploy application, deployment group) of a role that deploys.
type Dep = Option<(String, Deployment)>;

/// The role's CodeDeploy deployment group, when it has an application and the group exists
/// (one read, only for roles with `deploy.application`).
async fn deployment(c: &Clients, role: &Role) -> Result<Dep> {
    let Some(app) = role.settings.str("deploy.application") else {
        return Ok(None);
    };
    let name = role
        .settings
        .str("deployment_group")
        .map_or_else(|| role.group_name(), str::to_string);
    Ok(codedeploy::group(c, app, &name).await?.map(|g| {
        (
            app.to_string(),
            Deployment {
                name,
                groups: g.autoscaling_groups,
            },
        )
    }))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The plan, or `None` when there is nothing to do (said on stdout).
async fn plan_for(
    c: &Clients,
    role: &Role,
    rg: &RoleGroups,
    goal: Goal,
    prefix: &str,
) -> Result<Option<(release::Plan, Dep)>> {
    let dep = deployment(c, role).await?;
    let inputs = Inputs {
        groups: rg,
        goal,
        keep_previous: role.settings.int("rollout.keep_previous").unwrap_or(1) as usize,
        scale_down_after: role.settings.int("rollout.scale_down_after"),
        now: now(),
        deployment: dep.as_ref().map(|(_, d)| d.clone()),
        scaling: {
            let ch = crate::model::scaling::changes(role, &[], &[]);
            let drain = crate::model::drain::Drain::desired(role).is_some();
            ch.actions.len() + ch.policies.len() + usize::from(drain)
        },
    };
    match release::plan(&inputs) {
        Ok(p) => Ok(Some((p, dep))),
        Err(Refusal::UpToDate { group, launch }) => {
            println!("{prefix}Group {group} runs {launch} on every instance; nothing to roll out.");
            Ok(None)
        }
        Err(Refusal::AlreadyActive { label, group }) => {
            println!("{prefix}Release {label} ({group}) is the active group; nothing to roll back.");
            Ok(None)
        }
        Err(Refusal::NoActive) => Err(no_active(role, rg)),
        Err(Refusal::NothingToRollBack { group }) => Err(Failure::NoRelease {
            why: format!(
                "{} has no disabled group to roll back to ({group} is active and the only one kept)",
                role.target()
            ),
        }
        .into()),
        Err(Refusal::NoSuchRelease { label, have }) => Err(Failure::NoRelease {
            why: format!(
                "{} has no disabled release {label}; it has {}",
                role.target(),
                if have.is_empty() {
                    "none".to_string()
                } else {
                    have.join(", ")
                }
            ),
        }
        .into()),
    }
}

/// Shows the steps (launch steps first), asks when they take something away, and runs them.
#[allow(clippy::too_many_arguments)]
async fn run(
    ctx: &Ctx,
    c: &Clients,
    role: &Role,
    prefix: &str,
    rg: &RoleGroups,
    (plan, dep): (release::Plan, Dep),
    steps: &mut Vec<Step>,
    want: &crate::launch::LaunchSpec,
    opts: Options,
    gate: &Gate,
) -> Result<()> {
    // A resumed release reuses the launch settings its group was made with.
    if plan
        .actions
        .iter()
        .all(|a| !matches!(a, Action::Create { .. }))
    {
        steps.clear();
    }
    steps.extend(plan.actions.iter().cloned().map(Step::Release));
    let mut notes: Vec<String> = Vec::new();
    if let Some(r) = &plan.resumed {
        notes.push(format!("{r} (an earlier run was interrupted)"));
    }
    if let Some(m) = role.settings.int("rollout.scale_down_after") {
        notes.push(format!(
            "rollout.scale_down_after = {m}: a group disabled longer than that is scaled to 0 by the next run that changes the role (a release, a rollback, apply), trading a fast rollback for cost"
        ));
    }
    if !gate
        .pass(ctx, &format!("{prefix}{}:", role.target()), steps, &notes)
        .await?
    {
        return Ok(());
    }
    let launch = execute::launch(ctx, c, role, want, steps, prefix).await?;
    let mut r = Runner {
        ctx,
        c,
        role,
        prefix,
        active: rg.active().cloned().ok_or_else(|| no_active(role, rg))?,
        dep,
        launch,
        timeout: opts.timeout,
        marked_base: false,
    };
    for a in &plan.actions {
        if ctx.global.verbose > 0 {
            eprintln!("{prefix}step: {}", Step::Release(a.clone()).signed());
        }
        match r.action(a).await {
            Ok(()) => {}
            Err(Halt::Error(e)) => return Err(e),
            Err(Halt::Unready { why }) => {
                let group = plan.up.clone().unwrap_or_default();
                let undone = r.undo(&group, plan.undo).await?;
                return Err(Failure::ReleaseFailed(Box::new(ReleaseFailure {
                    rollback: plan.undo == Undo::Disable,
                    group,
                    active: plan.from.clone(),
                    why,
                    undone,
                    target: role.target(),
                }))
                .into());
            }
            Err(Halt::Interrupted { group }) => {
                return Err(Failure::ReleaseInterrupted {
                    group,
                    target: role.target(),
                }
                .into());
            }
        }
    }
    if let Some(up) = &plan.up {
        ctx.events.emit_for(
            role,
            prefix,
            format!(
                "Released ASgroup {up} of {}: it serves now; {} is disabled with its instances running (`udo asg rollback {}` switches back)",
                role.target(),
                plan.from,
                role.target()
            ),
        );
    }
    Ok(())
}

/// Why a run stopped before its last step.
enum Halt {
    Error(Error),
    /// The group being brought up did not become healthy (or Ctrl-C came while it was
    /// waited for): it is undone.
    Unready {
        why: String,
    },
    /// Ctrl-C after the switch, while the old group was being disabled: a re-run finishes.
    Interrupted {
        group: String,
    },
}

impl From<Error> for Halt {
    fn from(e: Error) -> Halt {
        Halt::Error(e)
    }
}

struct Runner<'a> {
    ctx: &'a Ctx,
    c: &'a Clients,
    role: &'a Role,
    prefix: &'a str,
    /// The active group when the run began, as read then.
    active: Group,
    /// (application, deployment group), as read before the steps.
    dep: Dep,
    /// The launch settings this run's launch steps made, if any.
    launch: Option<GroupLaunch>,
    timeout: u64,
    marked_base: bool,
}

impl Runner<'_> {
    fn ev(&self, m: String) {
        self.ctx.events.emit_for(self.role, self.prefix, m);
    }

    async fn group(&self, name: &str) -> Result<Group> {
        asg::group(self.c, name).await?.ok_or_else(|| {
            Failure::GroupVanished {
                group: name.to_string(),
            }
            .into()
        })
    }

    async fn action(&mut self, a: &Action) -> std::result::Result<(), Halt> {
        let c = self.c;
        match a {
            Action::MarkBase { group } => {
                asg::set_state_tags(c, group, &[(ACTIVE_TAG.into(), "true".into())]).await?;
                self.marked_base = true;
                self.ev(format!("Tagged ASgroup {group} {ACTIVE_TAG}=true"));
            }
            Action::Create {
                group,
                launch,
                sizes: (min, max, desired),
                at_zero,
                ..
            } => {
                let launch = self.launch.clone().unwrap_or_else(|| launch.clone());
                let a = &self.active;
                let mut spec = crate::model::group::group_spec(
                    self.role,
                    a.subnets.clone(),
                    a.target_groups.clone(),
                );
                spec.name = group.clone();
                spec.min = if *at_zero { 0 } else { *min };
                spec.max = *max;
                spec.desired = Some(if *at_zero { 0 } else { *desired });
                spec.launch = Some(launch.clone());
                spec.load_balancers = a.load_balancers.clone();
                spec.health_check_type = Some(a.health_check_type.clone());
                spec.grace_period = Some(a.grace_period);
                // The active group's tags (someone may have added some by hand), udo.yml's
                // where they say otherwise, none of udo's state.
                let mut tags: Vec<(String, String)> = a
                    .tags
                    .iter()
                    .filter(|(k, _)| !release::is_state_tag(k))
                    .filter(|(k, _)| !spec.tags.iter().any(|(s, _)| s == k))
                    .cloned()
                    .collect();
                tags.append(&mut spec.tags);
                spec.tags = tags;
                spec.state_tags = vec![
                    (ACTIVE_TAG.into(), "false".into()),
                    (STATE_TAG.into(), RELEASING.into()),
                ];
                asg::create_group(c, &spec).await?;
                self.ev(format!(
                    "Created ASgroup {group} (min {}, max {max}, desired {}) from {} for the release",
                    spec.min,
                    spec.desired.unwrap_or_default(),
                    launch.describe()
                ));
            }
            Action::AddToDeployment { group, .. } => self.deployment(group, true).await?,
            Action::Scaling { group, .. } => {
                if let Some(d) = crate::model::drain::Drain::desired(self.role) {
                    asg::put_drain_hook(c, group, d.timeout).await?;
                    self.ev(format!(
                        "Put lifecycle hook {} on ASgroup {group} (on termination: heartbeat {}s, then CONTINUE)",
                        crate::model::drain::HOOK,
                        d.timeout
                    ));
                }
                let ch = crate::model::scaling::changes(self.role, &[], &[]);
                execute::apply_scaling(
                    self.ctx,
                    c,
                    group,
                    &ch,
                    &self.active.target_groups,
                    self.prefix,
                )
                .await?;
            }
            Action::RemoveFromDeployment { group, .. } => self.deployment(group, false).await?,
            Action::Reenable { group, resume } => {
                asg::set_state_tags(c, group, &[(STATE_TAG.into(), RELEASING.into())]).await?;
                suspend::resume(
                    self.ctx,
                    c,
                    self.role,
                    group,
                    Purpose::Release,
                    resume,
                    Record::Remove,
                    &[],
                    self.prefix,
                )
                .await?;
            }
            Action::Size {
                group,
                to: (min, max, desired),
                ..
            } => {
                asg::update_group(
                    c,
                    group,
                    &GroupUpdate {
                        min: Some(*min),
                        max: Some(*max),
                        desired: Some(*desired),
                        ..Default::default()
                    },
                )
                .await?;
                self.ev(format!(
                    "Sized ASgroup {group}: min {min}, max {max}, desired {desired}"
                ));
            }
            Action::Attach {
                group,
                target_groups,
                load_balancers,
            } => {
                for (kind, items) in [
                    (Balancer::TargetGroup, target_groups),
                    (Balancer::Classic, load_balancers),
                ] {
                    if !items.is_empty() {
                        asg::attach(c, group, kind, items, true).await?;
                        self.ev(format!(
                            "Attached {} {} to ASgroup {group}",
                            kind.noun(),
                            items.join(", ")
                        ));
                    }
                }
            }
            Action::WaitHealthy { group, desired, .. } => {
                self.wait_healthy(group, *desired).await?;
            }
            Action::Switch { from, to, number } => {
                // One call, the new group first (see model::release).
                asg::set_state_tags_of(
                    c,
                    &[
                        (to.clone(), ACTIVE_TAG.into(), "true".into()),
                        (to.clone(), STATE_TAG.into(), ACTIVE_STATE.into()),
                        (to.clone(), SWITCH_TAG.into(), number.to_string()),
                        (from.clone(), ACTIVE_TAG.into(), "false".into()),
                    ],
                )
                .await?;
                self.ev(format!(
                    "Switched {}: ASgroup {to} is active, {from} not",
                    self.role.target()
                ));
            }
            Action::Disable { group, .. } => self.disable(group).await?,
            Action::Delete { group, .. } => {
                if asg::force_delete_group(c, group).await? {
                    self.ev(format!("Deleted ASgroup {group} and its instances"));
                }
            }
            Action::ScaleDown { group, .. } => {
                if !execute::scale_down_disabled(c, group).await? {
                    return Err(Error::from(Failure::GroupVanished {
                        group: group.clone(),
                    })
                    .into());
                }
                self.ev(format!(
                    "Scaled disabled ASgroup {group} to 0 (rollout.scale_down_after)"
                ));
            }
        }
        Ok(())
    }

    /// Adds `group` to (or removes it from) the role's deployment group; the list is read
    /// again first, so a repeat changes nothing.
    async fn deployment(&mut self, group: &str, add: bool) -> Result<()> {
        let Some((app, d)) = &self.dep else {
            return Ok(());
        };
        let live = codedeploy::group(self.c, app, &d.name).await?;
        let mut list = live.map(|g| g.autoscaling_groups).unwrap_or_default();
        if list.iter().any(|g| g == group) == add {
            return Ok(());
        }
        if add {
            list.push(group.to_string());
        } else {
            list.retain(|g| g != group);
        }
        let spec = codedeploy::GroupSpec {
            name: d.name.clone(),
            autoscaling_group: group.to_string(),
            ..Default::default()
        };
        codedeploy::update_group(self.c, app, &spec, &list).await?;
        self.ev(format!(
            "{} ASgroup {group} {} CodeDeploy deployment group {}",
            if add { "Added" } else { "Removed" },
            if add { "to" } else { "from" },
            d.name
        ));
        Ok(())
    }

    /// Until `desired` instances of `group` are InService and healthy in every target group
    /// and load balancer of the active group. At most two reads per poll: the group, and one
    /// balancer about the instances it has not yet seen healthy.
    async fn wait_healthy(&self, group: &str, desired: i32) -> std::result::Result<(), Halt> {
        let balancers: Vec<(bool, String)> = self
            .active
            .target_groups
            .iter()
            .map(|t| (true, t.clone()))
            .chain(
                self.active
                    .load_balancers
                    .iter()
                    .map(|l| (false, l.clone())),
            )
            .collect();
        let mut w = Wait::new(
            &self.ctx.out,
            self.prefix,
            (Duration::from_secs(2), Duration::from_secs(15)),
            Duration::from_secs(self.timeout),
            Plain::OnChange,
        );
        let mut healthy: HashSet<(String, String)> = HashSet::new();
        let mut last: std::collections::HashMap<String, String> = Default::default();
        loop {
            let g = self.group(group).await?;
            let live: Vec<&asg::GroupInstance> = g
                .instances
                .iter()
                .filter(|i| !i.lifecycle.starts_with("Terminat"))
                .collect();
            let in_service: Vec<&str> = live
                .iter()
                .filter(|i| i.lifecycle == "InService")
                .map(|i| i.id.as_str())
                .collect();
            for (is_tg, b) in &balancers {
                let ids: Vec<String> = in_service
                    .iter()
                    .filter(|id| !healthy.contains(&(b.clone(), id.to_string())))
                    .map(|id| id.to_string())
                    .collect();
                if ids.is_empty() {
                    continue;
                }
                let health: Vec<Health> = if *is_tg {
                    aws_rollout::target_health(self.c, b, &ids).await?
                } else {
                    aws_rollout::classic_health(self.c, b, &ids).await?
                };
                for h in health {
                    if h.healthy {
                        last.remove(&h.id);
                        healthy.insert((b.clone(), h.id));
                    } else {
                        last.insert(h.id, format!("{} in {b}", h.state));
                    }
                }
                break;
            }
            let ready: Vec<&str> = in_service
                .iter()
                .copied()
                .filter(|id| {
                    balancers
                        .iter()
                        .all(|(_, b)| healthy.contains(&(b.clone(), id.to_string())))
                })
                .collect();
            if ready.len() as i32 >= desired {
                w.done();
                self.ev(format!(
                    "ASgroup {group}: {} instance(s) InService and healthy",
                    ready.len()
                ));
                return Ok(());
            }
            let state = format!(
                "{group}: waiting for {desired} healthy instance(s): {} InService, {} healthy",
                in_service.len(),
                ready.len()
            );
            let stop = match w.tick(&state).await {
                Ok(()) => continue,
                Err(s) => s,
            };
            let unready: Vec<String> = live
                .iter()
                .filter(|i| !ready.contains(&i.id.as_str()))
                .map(|i| match last.get(&i.id) {
                    Some(s) => format!("{} ({s})", i.id),
                    None if i.lifecycle != "InService" => format!("{} ({})", i.id, i.lifecycle),
                    None => format!("{} (no health answer yet)", i.id),
                })
                .collect();
            let detail = if unready.is_empty() {
                format!("{} instance(s) launched", live.len())
            } else {
                unready.join(", ")
            };
            let why = match stop {
                Stop::TimedOut { .. } => format!(
                    "{} of {desired} instance(s) became InService and healthy within {}s: {detail}",
                    ready.len(),
                    self.timeout
                ),
                Stop::Interrupted => format!(
                    "interrupted while waiting for {desired} healthy instance(s) ({} so far): {detail}",
                    ready.len()
                ),
            };
            return Err(Halt::Unready { why });
        }
    }

    /// Takes `group` out of traffic and keeps it: balancers detached (their deregistration
    /// waited out), Launch, Terminate, AlarmNotification and ScheduledActions suspended (and
    /// recorded), then tagged `disabled` with the time. Each part is skipped when done.
    async fn disable(&self, group: &str) -> std::result::Result<(), Halt> {
        let c = self.c;
        let g = self.group(group).await?;
        let ids: Vec<String> = g.instances.iter().map(|i| i.id.clone()).collect();
        for (kind, items) in [
            (Balancer::TargetGroup, &g.target_groups),
            (Balancer::Classic, &g.load_balancers),
        ] {
            if !items.is_empty() {
                asg::attach(c, group, kind, items, false).await?;
                self.ev(format!(
                    "Detached {} {} from ASgroup {group}",
                    kind.noun(),
                    items.join(", ")
                ));
            }
        }
        // Deregistration takes the target group's delay (connections drain): waited out per
        // target group, one health read per poll.
        let mut w = Wait::new(
            &self.ctx.out,
            self.prefix,
            (Duration::from_secs(2), Duration::from_secs(15)),
            Duration::from_secs(self.timeout.max(3600)),
            Plain::OnChange,
        );
        for tg in &g.target_groups {
            loop {
                let health = aws_rollout::target_health(c, tg, &ids).await?;
                let draining = health
                    .iter()
                    .filter(|h| h.healthy || h.state.starts_with("draining"))
                    .count();
                if draining == 0 || ids.is_empty() {
                    w.done();
                    break;
                }
                let state = format!("{group}: {draining} instance(s) deregistering from {tg}");
                match w.tick(&state).await {
                    Ok(()) => {}
                    Err(_) => {
                        return Err(Halt::Interrupted {
                            group: group.to_string(),
                        });
                    }
                }
            }
        }
        let processes = suspend::plan(
            &release::SUSPEND,
            &g.suspended,
            &suspend::recorded(&g, Purpose::Release),
        );
        suspend::suspend(
            self.ctx,
            c,
            self.role,
            &g,
            Purpose::Release,
            &processes,
            self.prefix,
        )
        .await?;
        asg::set_state_tags(
            c,
            group,
            &[
                (ACTIVE_TAG.into(), "false".into()),
                (STATE_TAG.into(), DISABLED.into()),
                (DISABLED_AT_TAG.into(), release::timestamp(now())),
            ],
        )
        .await?;
        self.ev(format!(
            "Disabled ASgroup {group}: out of traffic, its {} instance(s) running",
            g.instances
                .iter()
                .filter(|i| !i.lifecycle.starts_with("Terminat"))
                .count()
        ));
        Ok(())
    }

    /// Undoes a group that did not become healthy: a new release is deleted (and the base's
    /// `udo:active` tag this run added removed, so the active group is as it was), a rollback's
    /// group disabled again. Returns what was done, for the message.
    async fn undo(&mut self, group: &str, undo: Undo) -> Result<String> {
        let group_owned = group.to_string();
        self.deployment(&group_owned, false).await?;
        match undo {
            Undo::Delete => {
                asg::force_delete_group(self.c, group).await?;
                self.ev(format!(
                    "Deleted ASgroup {group} and its instances (the release did not become healthy)"
                ));
                if self.marked_base {
                    asg::delete_tags(self.c, &self.active.name, &[ACTIVE_TAG]).await?;
                }
                Ok(format!("{group} and its instances were deleted"))
            }
            Undo::Disable => {
                match self.disable(group).await {
                    Ok(()) => {}
                    Err(Halt::Error(e)) => return Err(e),
                    Err(_) => {}
                }
                Ok(format!("{group} was disabled again"))
            }
        }
    }
}
