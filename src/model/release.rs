//! A role's groups: the group `CLUSTER-ROLE` and its blue/green releases `CLUSTER-ROLE-vN`, and
//! which one of them is active.
//!
//! Every command that acts on "the role's group" acts on the active one, so this is the one
//! place that decides which group that is. Everything is read from the groups' tags (nothing is
//! kept in a local file), so any machine, and a re-run after an interruption, sees the same:
//!
//! - [`ACTIVE_TAG`] (`udo:active`): `true` on the active group, `false` on the others. A role
//!   that never had a release has no such tag anywhere; its `CLUSTER-ROLE` is active, so every
//!   group made before releases existed works as before.
//! - [`STATE_TAG`] (`udo:release-state`): what a group that is not active is doing:
//!   `releasing` (a release being brought up, not yet switched to) or `disabled` (kept for a
//!   rollback: out of traffic, processes suspended, instances running). A group tagged
//!   `udo:active=false` without `disabled` is one a switch has not finished disabling.
//! - [`DISABLED_AT_TAG`] (`udo:disabled-at`): when it was disabled (RFC 3339, UTC), for
//!   `rollout.scale_down_after`. A `releasing` group that has it is a rollback being brought up
//!   (it served before): a rollback that fails disables it again, where a new release that
//!   fails is deleted.
//! - [`SWITCH_TAG`] (`udo:switch`): on the active group, a number one higher at every switch.
//!   A switch writes the new group (`udo:active=true`, `udo:release-state=active`, the next
//!   number) and the old one (`udo:active=false`) in one CreateOrUpdateTags call, the new one
//!   first; should only the first half land, two groups say `true` and the higher number wins,
//!   so the group the switch went to is active whichever way the switch went (a rollback goes
//!   to an older release).
//!
//! The base group counts as release 0; `CLUSTER-ROLE-vN` is release N (N ≥ 1, counting up).

// Some parts serve `status` and the commands acting on the active group, as they land.
#![allow(dead_code)]

use crate::model::live::{Group, GroupLaunch};
use crate::model::step::{Hazard, Kind};

/// `true` on the active group of a role that has releases, `false` on its other groups.
pub const ACTIVE_TAG: &str = "udo:active";
/// `releasing` or `disabled` on a group that is not active (see the module docs).
pub const STATE_TAG: &str = "udo:release-state";
/// When a group was disabled, RFC 3339 in UTC.
pub const DISABLED_AT_TAG: &str = "udo:disabled-at";

/// The switch counter on the active group (see the module docs).
pub const SWITCH_TAG: &str = "udo:switch";

/// [`STATE_TAG`]'s value on a release being brought up.
pub const RELEASING: &str = "releasing";
/// [`STATE_TAG`]'s value on the group a switch made active.
pub const ACTIVE_STATE: &str = "active";
/// [`STATE_TAG`]'s value on a group kept for a rollback.
pub const DISABLED: &str = "disabled";

/// The release number of group `name` of the role whose base group is `base`: 0 for the base
/// itself, N for `BASE-vN`, `None` for any other name (another role's group, say
/// `dev-web-v2x` or `dev-web-admin`).
pub fn release_of(base: &str, name: &str) -> Option<u32> {
    if name == base {
        return Some(0);
    }
    let n = name.strip_prefix(base)?.strip_prefix("-v")?;
    if n.is_empty() || n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok().filter(|n| *n > 0)
}

/// The name of release `n` of the role whose base group is `base` (`n == 0` is the base).
pub fn release_name(base: &str, n: u32) -> String {
    if n == 0 {
        base.to_string()
    } else {
        format!("{base}-v{n}")
    }
}

/// A group's release label as users type it after `--to`: `v0` for the base, `vN` otherwise.
pub fn label(n: u32) -> String {
    format!("v{n}")
}

/// What one group of a role is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupState {
    /// The group every command acts on.
    Active,
    /// A release being brought up (or one an interrupted release left).
    Releasing,
    /// Switched away from, but not yet fully disabled (an interrupted switch).
    Disabling,
    /// Kept for a rollback: out of traffic, processes suspended.
    Disabled,
}

impl GroupState {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupState::Active => "active",
            GroupState::Releasing => "releasing",
            GroupState::Disabling => "disabling",
            GroupState::Disabled => "disabled",
        }
    }
}

/// Whether the group carries any release tag: then the role may have other groups, which a
/// read by name alone would miss.
pub fn has_release_tags(g: &Group) -> bool {
    g.tag(ACTIVE_TAG).is_some() || g.tag(STATE_TAG).is_some()
}

/// One role's groups, oldest release first, and which of them is active.
#[derive(Debug, Clone, Default)]
pub struct RoleGroups {
    /// The base group's name, `CLUSTER-ROLE`.
    pub base: String,
    /// (release number, group), ascending by release number.
    pub groups: Vec<(u32, Group)>,
    /// Index into `groups` of the active one; `None` when the role has no group (or, after
    /// someone deleted groups by hand, none that can be active).
    pub active: Option<usize>,
    /// The highest release number of a group AWS is still deleting (left out of `groups`):
    /// its name is not free yet.
    pub deleting: Option<u32>,
}

impl RoleGroups {
    /// Sorts `found` (any groups, in any order, duplicates allowed) into the role's groups and
    /// picks the active one:
    /// - the groups tagged `udo:active=true` that are not `releasing`; of several (a switch
    ///   whose one call landed only half), the one with the highest [`SWITCH_TAG`], then the
    ///   newest release;
    /// - else the base group, when it exists and is not `releasing`;
    /// - else none.
    ///
    /// Groups whose names are not the role's (see [`release_of`]) are ignored.
    pub fn pick(base: &str, found: impl IntoIterator<Item = Group>) -> RoleGroups {
        let mut groups: Vec<(u32, Group)> = Vec::new();
        let mut deleting: Option<u32> = None;
        for g in found {
            if let Some(n) = release_of(base, &g.name)
                && !groups.iter().any(|(m, _)| *m == n)
            {
                if g.deleting {
                    deleting = deleting.max(Some(n));
                } else {
                    groups.push((n, g));
                }
            }
        }
        groups.sort_by_key(|(n, _)| *n);
        let releasing = |g: &Group| g.tag(STATE_TAG) == Some(RELEASING);
        let switch =
            |g: &Group| -> u64 { g.tag(SWITCH_TAG).and_then(|v| v.parse().ok()).unwrap_or(0) };
        let active = groups
            .iter()
            .enumerate()
            .filter(|(_, (_, g))| g.tag(ACTIVE_TAG) == Some("true") && !releasing(g))
            .max_by_key(|(i, (_, g))| (switch(g), *i))
            .map(|(i, _)| i)
            .or_else(|| {
                groups.iter().position(|(n, g)| {
                    *n == 0 && g.tag(ACTIVE_TAG) != Some("false") && !releasing(g)
                })
            });
        RoleGroups {
            base: base.to_string(),
            groups,
            active,
            deleting,
        }
    }

    /// The active group, the one every command acts on.
    pub fn active(&self) -> Option<&Group> {
        self.active.map(|i| &self.groups[i].1)
    }

    /// The active group's release number.
    pub fn active_release(&self) -> Option<u32> {
        self.active.map(|i| self.groups[i].0)
    }

    /// Whether the role has more than one group, or its group carries release tags.
    pub fn has_releases(&self) -> bool {
        self.groups.len() > 1 || self.groups.iter().any(|(_, g)| has_release_tags(g))
    }

    /// What group `i` (an index into `groups`) is doing.
    pub fn state(&self, i: usize) -> GroupState {
        let g = &self.groups[i].1;
        if Some(i) == self.active {
            GroupState::Active
        } else if g.tag(STATE_TAG) == Some(RELEASING) {
            GroupState::Releasing
        } else if g.tag(STATE_TAG) == Some(DISABLED) {
            GroupState::Disabled
        } else {
            GroupState::Disabling
        }
    }

    /// Each group with its release number and state, oldest first.
    pub fn each(&self) -> impl Iterator<Item = (u32, &Group, GroupState)> {
        self.groups
            .iter()
            .enumerate()
            .map(|(i, (n, g))| (*n, g, self.state(i)))
    }

    /// The number the next release gets: one past the highest the role has (or AWS is still
    /// deleting).
    pub fn next_release(&self) -> u32 {
        self.groups
            .last()
            .map(|(n, _)| *n)
            .max(self.deleting)
            .map_or(1, |n| n + 1)
    }

    /// When group `g` was disabled, as its tag says (RFC 3339), if it says.
    pub fn disabled_at(g: &Group) -> Option<&str> {
        g.tag(DISABLED_AT_TAG)
    }
}

// ---------------------------------------------------------------- a release's steps

/// What a disabled group has suspended, so AWS neither resizes nor replaces it while it waits
/// out of traffic (its instances keep running): launches, terminations, alarm scaling and
/// scheduled actions.
pub const SUSPEND: [&str; 4] = [
    "Launch",
    "Terminate",
    "AlarmNotification",
    "ScheduledActions",
];

/// The group tag recording the processes udo suspended to disable a group (the record
/// `engine::suspend` keeps for its `Release` purpose).
pub const SUSPENDED_TAG: &str = "udo:release-suspended";

/// Tags holding udo's own state on a group: never copied from the active group to a release.
pub fn is_state_tag(key: &str) -> bool {
    matches!(
        key,
        ACTIVE_TAG | STATE_TAG | DISABLED_AT_TAG | SWITCH_TAG | SUSPENDED_TAG | "udo:rollout"
    ) || (key.starts_with("udo:") && key.ends_with("-suspended"))
}

/// What the command is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Goal {
    /// A new release running `launch` (udo.yml's launch settings); `all`: even when the active
    /// group already runs them.
    Release { launch: GroupLaunch, all: bool },
    /// Back to a disabled group: release `to`, else the one disabled last.
    Rollback { to: Option<u32> },
}

/// The role's CodeDeploy deployment group, when it has one: its name and the autoscaling
/// groups it deploys to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub name: String,
    pub groups: Vec<String>,
}

/// Everything the plan is made from.
pub struct Inputs<'a> {
    pub groups: &'a RoleGroups,
    pub goal: Goal,
    /// `rollout.keep_previous` (default 1).
    pub keep_previous: usize,
    /// `rollout.scale_down_after`, minutes.
    pub scale_down_after: Option<i64>,
    /// Now, in seconds since the epoch.
    pub now: i64,
    pub deployment: Option<Deployment>,
    /// How many scheduled actions, scaling policies and drain hooks udo.yml gives the role.
    pub scaling: usize,
}

/// One step of a release or rollback, in the order they run. Each is safe to repeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The role's first release: the base group is tagged `udo:active=true` before anything
    /// else, so every later read of the role looks for its releases too.
    MarkBase {
        group: String,
    },
    /// The new release's group: udo.yml's launch settings, the active group's sizes and
    /// settings, tagged `releasing`. `at_zero`: created with no instances, sized once it is in
    /// the deployment group (so every instance gets the last successful revision).
    Create {
        group: String,
        launch: GroupLaunch,
        sizes: (i32, i32, i32),
        like: String,
        at_zero: bool,
    },
    AddToDeployment {
        group: String,
        deployment: String,
    },
    /// udo.yml's scheduled actions, scaling policies and `udo-drain` hook put on a new
    /// release (the disabled group keeps its own, idle with it, for a rollback).
    Scaling {
        group: String,
        count: usize,
    },
    /// A disabled group brought back (a rollback): tagged `releasing`, what udo suspended on
    /// it resumed.
    Reenable {
        group: String,
        resume: Vec<String>,
    },
    /// (min, max, desired): the active group's.
    Size {
        group: String,
        from: (i32, i32, i32),
        to: (i32, i32, i32),
        like: String,
    },
    Attach {
        group: String,
        target_groups: Vec<String>,
        load_balancers: Vec<String>,
    },
    /// Until `desired` instances are InService and healthy in `balancers` target groups and
    /// load balancers; `launches`: instances that must be launched first.
    WaitHealthy {
        group: String,
        desired: i32,
        balancers: usize,
        launches: i32,
    },
    /// `to` becomes active, `from` not (one tag call); `number`: the new switch count.
    Switch {
        from: String,
        to: String,
        number: u64,
    },
    /// Out of traffic, processes suspended, instances running.
    Disable {
        group: String,
        instances: usize,
    },
    RemoveFromDeployment {
        group: String,
        deployment: String,
    },
    Delete {
        group: String,
        instances: usize,
        why: String,
    },
    ScaleDown {
        group: String,
        instances: usize,
        minutes: i64,
    },
}

impl Action {
    pub fn kind(&self) -> Kind {
        match self {
            Action::Create { .. } | Action::Attach { .. } => Kind::Create,
            Action::Delete { .. } => Kind::Delete,
            _ => Kind::Change,
        }
    }

    /// What the step can take away: taking a group out of traffic (its replacement is healthy
    /// by then, but it is what serves now), scaling a disabled one to 0, deleting one.
    pub fn hazard(&self) -> Option<Hazard> {
        match self {
            Action::Disable { .. } | Action::ScaleDown { .. } => Some(Hazard::ReducesCapacity),
            Action::Delete { .. } => Some(Hazard::DeletesGroup),
            _ => None,
        }
    }

    pub fn line(&self) -> String {
        let sizes = |(min, max, desired): (i32, i32, i32)| {
            format!("min {min}, max {max}, desired {desired}")
        };
        match self {
            Action::MarkBase { group } => format!(
                "tag {group} {ACTIVE_TAG}=true (the role's first release: udo reads its releases from now on)"
            ),
            Action::Create {
                group,
                launch,
                sizes: s,
                like,
                at_zero,
            } => format!(
                "create autoscaling group {group} from {} with {like}'s sizes ({}){}",
                launch.describe(),
                sizes(*s),
                if *at_zero {
                    ", at 0 instances until it is in the deployment group"
                } else {
                    ""
                }
            ),
            Action::AddToDeployment { group, deployment } => format!(
                "add {group} to CodeDeploy deployment group {deployment} (its instances get the last successful revision)"
            ),
            Action::Scaling { group, count } => {
                format!("put udo.yml's {count} scheduled action(s) and scaling policies on {group}")
            }
            Action::Reenable { group, resume } if resume.is_empty() => {
                format!("re-enable {group} (mark it {RELEASING})")
            }
            Action::Reenable { group, resume } => format!(
                "re-enable {group} (mark it {RELEASING}): resume {}",
                resume.join(", ")
            ),
            Action::Size {
                group,
                from,
                to,
                like,
            } => format!(
                "size {group} as {like}: {} (was {})",
                sizes(*to),
                sizes(*from)
            ),
            Action::Attach {
                group,
                target_groups,
                load_balancers,
            } => {
                let mut what: Vec<String> = target_groups
                    .iter()
                    .map(|t| format!("target group {t}"))
                    .collect();
                what.extend(load_balancers.iter().map(|l| format!("load balancer {l}")));
                format!("attach {group} to {}", what.join(", "))
            }
            Action::WaitHealthy {
                group,
                desired,
                balancers,
                launches,
            } => format!(
                "wait until {desired} instance(s) of {group} are InService{}{}",
                if *balancers > 0 {
                    format!(" and healthy in its {balancers} target group(s) and load balancer(s)")
                } else {
                    String::new()
                },
                if *launches > 0 {
                    format!(" ({launches} to launch: this waits for new instances)")
                } else {
                    String::new()
                }
            ),
            Action::Switch { from, to, .. } => {
                format!("switch: {to} becomes the active group, {from} not")
            }
            Action::Disable { group, instances } => format!(
                "disable {group}: detach its target groups and load balancers (waiting out their deregistration delay), suspend {}; its {instances} instance(s) keep running, for `udo asg rollback`",
                SUSPEND.join(", ")
            ),
            Action::RemoveFromDeployment { group, deployment } => {
                format!("remove {group} from CodeDeploy deployment group {deployment}")
            }
            Action::Delete {
                group,
                instances,
                why,
            } => {
                format!("delete autoscaling group {group} and its {instances} instance(s) ({why})")
            }
            Action::ScaleDown {
                group,
                instances,
                minutes,
            } => format!(
                "scale disabled group {group} to 0 ({instances} instance(s); disabled more than rollout.scale_down_after = {minutes} minute(s) ago): a rollback to it then waits for new instances"
            ),
        }
    }
}

/// What a failed or interrupted bring-up leaves: a new release is deleted, a group brought
/// back by a rollback (one that served before) is disabled again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undo {
    Delete,
    Disable,
}

/// A release's or rollback's steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub actions: Vec<Action>,
    /// The group brought up and switched to, if any (none when the run only tidies up).
    pub up: Option<String>,
    /// The active group when the run began.
    pub from: String,
    pub undo: Undo,
    /// What the run finishes of an interrupted one, said before the steps.
    pub resumed: Option<String>,
}

/// Why there is nothing to plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The role has no active group (none at all, or every release deleted by hand).
    NoActive,
    /// The active group runs udo.yml's launch settings on every instance.
    UpToDate { group: String, launch: String },
    /// No disabled group to roll back to.
    NothingToRollBack { group: String },
    /// `--to vN` names no disabled group of the role.
    NoSuchRelease { label: String, have: Vec<String> },
    /// `--to vN` names the active group: nothing to do (a re-run of a finished rollback).
    AlreadyActive { label: String, group: String },
}

fn sizes_of(g: &Group) -> (i32, i32, i32) {
    (g.min, g.max, g.desired)
}

/// When group `g` was disabled, in seconds since the epoch.
fn disabled_secs(g: &Group) -> Option<i64> {
    let v = g.tag(DISABLED_AT_TAG)?;
    aws_smithy_types::DateTime::from_str(v, aws_smithy_types::date_time::Format::DateTime)
        .ok()
        .map(|d| d.secs())
}

/// `now` as the [`DISABLED_AT_TAG`] value.
pub fn timestamp(now: i64) -> String {
    aws_smithy_types::DateTime::from_secs(now)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}

fn recorded(g: &Group) -> Vec<String> {
    g.tag(SUSPENDED_TAG)
        .map(|v| {
            v.split(',')
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// The steps that bring group `x` up in place of `active`.
fn bring_up(x: &Group, active: &Group, dep: Option<&Deployment>, out: &mut Vec<Action>) {
    let resume = recorded(x);
    if x.tag(STATE_TAG) != Some(RELEASING) || !resume.is_empty() {
        out.push(Action::Reenable {
            group: x.name.clone(),
            resume,
        });
    }
    if let Some(d) = dep.filter(|d| !d.groups.contains(&x.name)) {
        out.push(Action::AddToDeployment {
            group: x.name.clone(),
            deployment: d.name.clone(),
        });
    }
    let want = sizes_of(active);
    if sizes_of(x) != want {
        out.push(Action::Size {
            group: x.name.clone(),
            from: sizes_of(x),
            to: want,
            like: active.name.clone(),
        });
    }
    let target_groups: Vec<String> = active
        .target_groups
        .iter()
        .filter(|t| !x.target_groups.contains(t))
        .cloned()
        .collect();
    let load_balancers: Vec<String> = active
        .load_balancers
        .iter()
        .filter(|l| !x.load_balancers.contains(l))
        .cloned()
        .collect();
    if !target_groups.is_empty() || !load_balancers.is_empty() {
        out.push(Action::Attach {
            group: x.name.clone(),
            target_groups,
            load_balancers,
        });
    }
    let running = x
        .instances
        .iter()
        .filter(|i| !i.lifecycle.starts_with("Terminat"))
        .count() as i32;
    out.push(Action::WaitHealthy {
        group: x.name.clone(),
        desired: want.2,
        balancers: active.target_groups.len() + active.load_balancers.len(),
        launches: (want.2 - running).max(0),
    });
}

fn live_instances(g: &Group) -> usize {
    g.instances
        .iter()
        .filter(|i| !i.lifecycle.starts_with("Terminat"))
        .count()
}

/// The disabled groups' fate after a switch: those disabled last first (`just`, then the
/// others by when they were disabled); with `delete` (a release), those beyond
/// `rollout.keep_previous` are deleted; any kept one disabled longer than
/// `rollout.scale_down_after` is scaled to 0. `skip`: the active group(s).
fn cleanup(inp: &Inputs, skip: &[&str], just: &[String], delete: bool, out: &mut Vec<Action>) {
    let rg = inp.groups;
    let mut disabled: Vec<(bool, i64, u32, &Group)> = rg
        .each()
        .filter(|(_, g, s)| {
            !skip.contains(&g.name.as_str())
                && (just.contains(&g.name) || *s == GroupState::Disabled)
        })
        .map(|(n, g, _)| {
            let fresh = just.contains(&g.name);
            (fresh, disabled_secs(g).unwrap_or(0), n, g)
        })
        .collect();
    disabled.sort_by_key(|(fresh, at, n, _)| std::cmp::Reverse((*fresh, *at, *n)));
    for (k, (fresh, at, _, g)) in disabled.iter().enumerate() {
        if delete && k >= inp.keep_previous {
            out.push(Action::Delete {
                group: g.name.clone(),
                instances: live_instances(g),
                why: if inp.keep_previous == 0 {
                    "rollout.keep_previous = 0: no disabled group is kept".into()
                } else {
                    format!(
                        "rollout.keep_previous = {}: older disabled groups go",
                        inp.keep_previous
                    )
                },
            });
            continue;
        }
        if let Some(m) = inp.scale_down_after
            && !fresh
            && let Some(a) = scale_down(g, *at, m, inp.now)
        {
            out.push(a);
        }
    }
}

/// The scale-down `rollout.scale_down_after = minutes` asks of group `g`, disabled at
/// `disabled_at` (seconds), when it is due and the group still has instances.
fn scale_down(g: &Group, disabled_at: i64, minutes: i64, now: i64) -> Option<Action> {
    (disabled_at > 0
        && now - disabled_at >= minutes * 60
        && (g.desired > 0 || live_instances(g) > 0))
        .then(|| Action::ScaleDown {
            group: g.name.clone(),
            instances: live_instances(g),
            minutes,
        })
}

/// The scale-downs due on the role's disabled groups: what any run that changes the role
/// (`apply`, `asg updatelc`, as well as the next release or rollback) does about
/// `rollout.scale_down_after`, there being no daemon to do it on time. None while a release
/// is in progress: that release's own run finishes first.
pub fn due_scale_downs(groups: &RoleGroups, minutes: Option<i64>, now: i64) -> Vec<Action> {
    let Some(m) = minutes else {
        return Vec::new();
    };
    let busy = groups
        .each()
        .any(|(_, _, s)| matches!(s, GroupState::Releasing | GroupState::Disabling));
    if busy {
        return Vec::new();
    }
    groups
        .each()
        .filter(|(_, _, s)| *s == GroupState::Disabled)
        .filter_map(|(_, g, _)| scale_down(g, disabled_secs(g)?, m, now))
        .collect()
}

/// The steps of a release or a rollback, from the role's groups as their tags say. A group
/// `releasing` is finished before anything new starts (an interrupted release or rollback),
/// and a group an interrupted switch left half disabled is disabled first, so a re-run of
/// either command carries on from where the interrupted one was.
pub fn plan(inp: &Inputs) -> Result<Plan, Refusal> {
    let rg = inp.groups;
    let Some(ai) = rg.active else {
        return Err(Refusal::NoActive);
    };
    let active = &rg.groups[ai].1;
    let dep = inp.deployment.as_ref();
    let mut out = Vec::new();
    let releasing_goal = matches!(inp.goal, Goal::Release { .. });
    // Disabled groups still in the deployment group: a run killed before its last write.
    let strays: Vec<(&Group, &Deployment)> = dep
        .map(|d| {
            (0..rg.groups.len())
                .filter(|i| rg.state(*i) == GroupState::Disabled)
                .map(|i| &rg.groups[i].1)
                .filter(|g| d.groups.contains(&g.name))
                .map(|g| (g, d))
                .collect()
        })
        .unwrap_or_default();
    let remove_strays = |out: &mut Vec<Action>, keep: &str| {
        for (g, d) in &strays {
            if g.name != keep {
                out.push(Action::RemoveFromDeployment {
                    group: g.name.clone(),
                    deployment: d.name.clone(),
                });
            }
        }
    };
    // A switch an interruption left half done: finishing it is this run's job.
    let disabling: Vec<&Group> = (0..rg.groups.len())
        .filter(|i| rg.state(*i) == GroupState::Disabling)
        .map(|i| &rg.groups[i].1)
        .collect();
    if !disabling.is_empty() {
        let mut names = Vec::new();
        for g in &disabling {
            names.push(g.name.clone());
            out.push(Action::Disable {
                group: g.name.clone(),
                instances: live_instances(g),
            });
            if let Some(d) = dep.filter(|d| d.groups.contains(&g.name)) {
                out.push(Action::RemoveFromDeployment {
                    group: g.name.clone(),
                    deployment: d.name.clone(),
                });
            }
        }
        remove_strays(&mut out, "");
        cleanup(
            inp,
            &[active.name.as_str()],
            &names,
            releasing_goal,
            &mut out,
        );
        return Ok(Plan {
            actions: out,
            up: None,
            from: active.name.clone(),
            undo: Undo::Delete,
            resumed: Some(format!(
                "finish the interrupted switch to {}: disable {}",
                active.name,
                names.join(", ")
            )),
        });
    }
    let releasing = (0..rg.groups.len())
        .rev()
        .find(|i| rg.state(*i) == GroupState::Releasing)
        .map(|i| &rg.groups[i].1);
    let was_active = |g: &Group| g.tag(DISABLED_AT_TAG).is_some();
    let mut resumed = None;
    let up: &Group;
    let mut fresh: Option<Group> = None;
    match (releasing, &inp.goal) {
        (Some(x), Goal::Rollback { .. }) if !was_active(x) => {
            // A rollback is asked to go back: a half-made release goes, the active one stays.
            out.push(Action::Delete {
                group: x.name.clone(),
                instances: live_instances(x),
                why: "the half-made release an interrupted `udo asg rollout` left".into(),
            });
            if let Some(d) = dep.filter(|d| d.groups.contains(&x.name)) {
                out.push(Action::RemoveFromDeployment {
                    group: x.name.clone(),
                    deployment: d.name.clone(),
                });
            }
            return Ok(Plan {
                actions: out,
                up: None,
                from: active.name.clone(),
                undo: Undo::Delete,
                resumed: Some(format!(
                    "undo the interrupted release {}; {} stays active",
                    x.name, active.name
                )),
            });
        }
        (Some(x), _) => {
            resumed = Some(format!(
                "finish the interrupted {} {}",
                if was_active(x) {
                    "rollback to"
                } else {
                    "release"
                },
                x.name
            ));
            if !was_active(x) && inp.scaling > 0 {
                out.push(Action::Scaling {
                    group: x.name.clone(),
                    count: inp.scaling,
                });
            }
            bring_up(x, active, dep, &mut out);
            up = x;
        }
        (None, Goal::Release { launch, all }) => {
            let same = crate::model::launch_step::same_launch(&active.launch, launch);
            if !all && same && active.outdated().is_empty() {
                // Nothing to release; what a release ends with may still be undone (a run
                // killed before its last writes) or due (`scale_down_after`).
                remove_strays(&mut out, "");
                cleanup(inp, &[active.name.as_str()], &[], true, &mut out);
                if !out.is_empty() {
                    return Ok(Plan {
                        actions: out,
                        up: None,
                        from: active.name.clone(),
                        undo: Undo::Delete,
                        resumed: None,
                    });
                }
            }
            if !all && same && active.outdated().is_empty() && out.is_empty() {
                return Err(Refusal::UpToDate {
                    group: active.name.clone(),
                    launch: launch.describe(),
                });
            }
            if ai == 0 && rg.groups[0].0 == 0 && active.tag(ACTIVE_TAG) != Some("true") {
                out.push(Action::MarkBase {
                    group: active.name.clone(),
                });
            }
            let name = release_name(&rg.base, rg.next_release());
            let at_zero = dep.is_some();
            out.push(Action::Create {
                group: name.clone(),
                launch: launch.clone(),
                sizes: sizes_of(active),
                like: active.name.clone(),
                at_zero,
            });
            if let Some(d) = dep {
                out.push(Action::AddToDeployment {
                    group: name.clone(),
                    deployment: d.name.clone(),
                });
                out.push(Action::Size {
                    group: name.clone(),
                    from: (0, active.max, 0),
                    to: sizes_of(active),
                    like: active.name.clone(),
                });
            }
            if inp.scaling > 0 {
                out.push(Action::Scaling {
                    group: name.clone(),
                    count: inp.scaling,
                });
            }
            out.push(Action::WaitHealthy {
                group: name.clone(),
                desired: active.desired,
                balancers: active.target_groups.len() + active.load_balancers.len(),
                launches: active.desired,
            });
            up = fresh.insert(Group {
                name,
                ..Group::default()
            });
        }
        (None, Goal::Rollback { to: Some(n) })
            if rg.active_release() == Some(*n) && !strays.is_empty() =>
        {
            remove_strays(&mut out, "");
            return Ok(Plan {
                actions: out,
                up: None,
                from: active.name.clone(),
                undo: Undo::Disable,
                resumed: Some(format!(
                    "finish the interrupted rollback to {}: take {} out of the deployment group",
                    active.name,
                    strays
                        .iter()
                        .map(|(g, _)| g.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            });
        }
        (None, Goal::Rollback { to: Some(n) }) if rg.active_release() == Some(*n) => {
            return Err(Refusal::AlreadyActive {
                label: label(*n),
                group: active.name.clone(),
            });
        }
        (None, Goal::Rollback { to }) => {
            let candidates: Vec<(u32, &Group)> = rg
                .each()
                .filter(|(_, _, s)| *s == GroupState::Disabled)
                .map(|(n, g, _)| (n, g))
                .collect();
            let target = match to {
                Some(n) => candidates.iter().find(|(m, _)| m == n).map(|(_, g)| *g),
                None => candidates
                    .iter()
                    .max_by_key(|(n, g)| (disabled_secs(g).unwrap_or(0), *n))
                    .map(|(_, g)| *g),
            };
            let Some(x) = target else {
                return Err(match to {
                    None => Refusal::NothingToRollBack {
                        group: active.name.clone(),
                    },
                    Some(n) => Refusal::NoSuchRelease {
                        label: label(*n),
                        have: candidates
                            .iter()
                            .map(|(n, g)| format!("{} ({})", label(*n), g.name))
                            .collect(),
                    },
                });
            };
            bring_up(x, active, dep, &mut out);
            up = x;
        }
    }
    let undo = if was_active(up) {
        Undo::Disable
    } else {
        Undo::Delete
    };
    let number = rg
        .groups
        .iter()
        .filter_map(|(_, g)| g.tag(SWITCH_TAG).and_then(|v| v.parse::<u64>().ok()))
        .max()
        .unwrap_or(0)
        + 1;
    out.push(Action::Switch {
        from: active.name.clone(),
        to: up.name.clone(),
        number,
    });
    out.push(Action::Disable {
        group: active.name.clone(),
        instances: live_instances(active),
    });
    if let Some(d) = dep.filter(|d| d.groups.contains(&active.name)) {
        out.push(Action::RemoveFromDeployment {
            group: active.name.clone(),
            deployment: d.name.clone(),
        });
    }
    remove_strays(&mut out, &up.name);
    cleanup(
        inp,
        &[up.name.as_str()],
        std::slice::from_ref(&active.name),
        releasing_goal,
        &mut out,
    );
    Ok(Plan {
        actions: out,
        up: Some(up.name.clone()),
        from: active.name.clone(),
        undo,
        resumed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(name: &str, tags: &[(&str, &str)]) -> Group {
        Group {
            name: name.into(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Group::default()
        }
    }

    #[test]
    fn release_numbers_from_names() {
        assert_eq!(release_of("dev-web", "dev-web"), Some(0));
        assert_eq!(release_of("dev-web", "dev-web-v1"), Some(1));
        assert_eq!(release_of("dev-web", "dev-web-v12"), Some(12));
        for other in [
            "dev-web-v",
            "dev-web-v0",
            "dev-web-v01",
            "dev-web-v2x",
            "dev-web-admin",
            "dev-webv2",
            "dev-we",
            "qa-web-v1",
        ] {
            assert_eq!(release_of("dev-web", other), None, "{other}");
        }
        assert_eq!(release_name("dev-web", 0), "dev-web");
        assert_eq!(release_name("dev-web", 3), "dev-web-v3");
        assert_eq!(release_of("dev-web", &release_name("dev-web", 7)), Some(7));
        assert_eq!(label(2), "v2");
    }

    #[test]
    fn an_untagged_base_group_is_active_alone() {
        let r = RoleGroups::pick("dev-web", [group("dev-web", &[]), group("dev-webapp", &[])]);
        assert_eq!(r.groups.len(), 1);
        assert_eq!(r.active().unwrap().name, "dev-web");
        assert!(!r.has_releases());
        assert_eq!(r.next_release(), 1);
        assert_eq!(r.state(0), GroupState::Active);
    }

    #[test]
    fn no_group_means_no_active_one() {
        let r = RoleGroups::pick("dev-web", []);
        assert!(r.active().is_none());
        assert_eq!(r.next_release(), 1);
    }

    #[test]
    fn the_active_tag_picks_the_group_and_states_follow_the_tags() {
        let r = RoleGroups::pick(
            "dev-web",
            [
                group("dev-web-v2", &[(ACTIVE_TAG, "true")]),
                group("dev-web", &[(ACTIVE_TAG, "false"), (STATE_TAG, DISABLED)]),
                group("dev-web-v1", &[(ACTIVE_TAG, "false")]),
                group(
                    "dev-web-v3",
                    &[(ACTIVE_TAG, "false"), (STATE_TAG, RELEASING)],
                ),
            ],
        );
        assert_eq!(r.active().unwrap().name, "dev-web-v2");
        assert_eq!(r.active_release(), Some(2));
        let states: Vec<(u32, GroupState)> = r.each().map(|(n, _, s)| (n, s)).collect();
        assert_eq!(
            states,
            vec![
                (0, GroupState::Disabled),
                (1, GroupState::Disabling),
                (2, GroupState::Active),
                (3, GroupState::Releasing),
            ]
        );
        assert!(r.has_releases());
        assert_eq!(r.next_release(), 4);
    }

    #[test]
    fn a_release_being_brought_up_is_never_active() {
        // Killed after creating the release, before the base was tagged: the base stays active.
        let r = RoleGroups::pick(
            "dev-web",
            [
                group("dev-web", &[]),
                group(
                    "dev-web-v1",
                    &[(ACTIVE_TAG, "false"), (STATE_TAG, RELEASING)],
                ),
            ],
        );
        assert_eq!(r.active().unwrap().name, "dev-web");
        assert!(r.has_releases());
        // Even tagged active, a group still `releasing` is not (the switch writes both at once).
        let r = RoleGroups::pick(
            "dev-web",
            [
                group("dev-web", &[(ACTIVE_TAG, "true")]),
                group(
                    "dev-web-v1",
                    &[(ACTIVE_TAG, "true"), (STATE_TAG, RELEASING)],
                ),
            ],
        );
        assert_eq!(r.active().unwrap().name, "dev-web");
    }

    #[test]
    fn two_active_tags_mean_the_newest_release() {
        // A switch interrupted between tagging the new group active and the old one not.
        let r = RoleGroups::pick(
            "dev-web",
            [
                group("dev-web", &[(ACTIVE_TAG, "true")]),
                group("dev-web-v1", &[(ACTIVE_TAG, "true")]),
            ],
        );
        assert_eq!(r.active().unwrap().name, "dev-web-v1");
        assert_eq!(r.state(0), GroupState::Disabling);
    }

    #[test]
    fn a_base_switched_away_from_is_not_active_even_when_alone() {
        // Every release deleted by hand: no group is active, rather than a disabled one.
        let r = RoleGroups::pick(
            "dev-web",
            [group(
                "dev-web",
                &[(ACTIVE_TAG, "false"), (STATE_TAG, DISABLED)],
            )],
        );
        assert!(r.active().is_none());
    }

    fn template(v: &str) -> GroupLaunch {
        GroupLaunch::Template {
            id: "lt-1".into(),
            name: "dev-web".into(),
            version: v.into(),
        }
    }

    /// A serving group: sizes (2, 6, 4), four InService instances on `launch`, one target group.
    fn serving(name: &str, launch: &str, tags: &[(&str, &str)]) -> Group {
        let mut g = group(name, tags);
        g.min = 2;
        g.max = 6;
        g.desired = 4;
        g.launch = template(launch);
        g.target_groups = vec!["arn:tg".into()];
        g.instances = (0..4)
            .map(|i| crate::model::live::GroupInstance {
                id: format!("i-{name}-{i}"),
                lifecycle: "InService".into(),
                launch: template(launch),
                ..Default::default()
            })
            .collect();
        g
    }

    fn inputs(rg: &RoleGroups, goal: Goal) -> Inputs<'_> {
        Inputs {
            groups: rg,
            goal,
            keep_previous: 1,
            scale_down_after: None,
            now: 1_000_000,
            deployment: None,
            scaling: 0,
        }
    }

    fn release(v: &str) -> Goal {
        Goal::Release {
            launch: template(v),
            all: false,
        }
    }

    fn names(p: &Plan) -> Vec<String> {
        p.actions
            .iter()
            .map(|a| {
                let line = a.line();
                line.split(':').next().unwrap_or(&line).to_string()
            })
            .collect()
    }

    #[test]
    fn a_first_release_marks_the_base_then_creates_waits_switches_and_disables() {
        let rg = RoleGroups::pick("dev-web", [serving("dev-web", "1", &[])]);
        let p = plan(&inputs(&rg, release("2"))).unwrap();
        assert_eq!(p.up.as_deref(), Some("dev-web-v1"));
        assert_eq!(p.undo, Undo::Delete);
        assert!(matches!(&p.actions[0], Action::MarkBase { group } if group == "dev-web"));
        assert!(matches!(
            &p.actions[1],
            Action::Create { group, sizes: (2, 6, 4), at_zero: false, .. } if group == "dev-web-v1"
        ));
        assert!(matches!(
            &p.actions[2],
            Action::WaitHealthy {
                desired: 4,
                balancers: 1,
                launches: 4,
                ..
            }
        ));
        assert!(matches!(
            &p.actions[3],
            Action::Switch { from, to, number: 1 } if from == "dev-web" && to == "dev-web-v1"
        ));
        assert!(
            matches!(&p.actions[4], Action::Disable { group, instances: 4 } if group == "dev-web")
        );
        assert_eq!(p.actions.len(), 5);
        // only taking the old group out of traffic is a hazard: the plan asks
        let hazards: Vec<_> = p.actions.iter().filter_map(Action::hazard).collect();
        assert_eq!(hazards, vec![Hazard::ReducesCapacity]);
    }

    #[test]
    fn with_a_deployment_group_the_release_joins_it_at_zero_instances_first() {
        let rg = RoleGroups::pick("dev-web", [serving("dev-web", "1", &[])]);
        let mut inp = inputs(&rg, release("2"));
        inp.deployment = Some(Deployment {
            name: "dev-web".into(),
            groups: vec!["dev-web".into()],
        });
        let p = plan(&inp).unwrap();
        assert!(matches!(
            &p.actions[1],
            Action::Create { at_zero: true, .. }
        ));
        assert!(
            matches!(&p.actions[2], Action::AddToDeployment { group, .. } if group == "dev-web-v1")
        );
        assert!(matches!(&p.actions[3], Action::Size { to: (2, 6, 4), .. }));
        assert!(matches!(
            p.actions.last().unwrap(),
            Action::RemoveFromDeployment { group, .. } if group == "dev-web"
        ));
    }

    #[test]
    fn an_up_to_date_group_has_nothing_to_release_unless_all() {
        let rg = RoleGroups::pick("dev-web", [serving("dev-web", "2", &[])]);
        assert!(matches!(
            plan(&inputs(&rg, release("2"))),
            Err(Refusal::UpToDate { .. })
        ));
        let all = Goal::Release {
            launch: template("2"),
            all: true,
        };
        assert!(plan(&inputs(&rg, all)).is_ok());
    }

    #[test]
    fn a_rerun_finishes_the_release_it_finds_releasing() {
        // killed while the new group came up
        let rg = RoleGroups::pick(
            "dev-web",
            [
                serving("dev-web", "1", &[(ACTIVE_TAG, "true")]),
                serving(
                    "dev-web-v1",
                    "2",
                    &[(ACTIVE_TAG, "false"), (STATE_TAG, RELEASING)],
                ),
            ],
        );
        let p = plan(&inputs(&rg, release("2"))).unwrap();
        assert_eq!(
            names(&p),
            vec![
                "wait until 4 instance(s) of dev-web-v1 are InService and healthy in its 1 target group(s) and load balancer(s)",
                "switch",
                "disable dev-web",
            ]
        );
        assert_eq!(
            p.resumed.as_deref(),
            Some("finish the interrupted release dev-web-v1")
        );
        // a rollback instead undoes it, and nothing else
        let p = plan(&inputs(&rg, Goal::Rollback { to: None })).unwrap();
        assert!(p.up.is_none());
        assert!(matches!(&p.actions[..], [Action::Delete { group, .. }] if group == "dev-web-v1"));
    }

    #[test]
    fn a_rerun_after_the_switch_tags_only_finishes_disabling() {
        let rg = RoleGroups::pick(
            "dev-web",
            [
                serving("dev-web", "1", &[(ACTIVE_TAG, "false")]),
                serving(
                    "dev-web-v1",
                    "2",
                    &[
                        (ACTIVE_TAG, "true"),
                        (STATE_TAG, ACTIVE_STATE),
                        (SWITCH_TAG, "1"),
                    ],
                ),
            ],
        );
        for goal in [release("2"), Goal::Rollback { to: None }] {
            let p = plan(&inputs(&rg, goal)).unwrap();
            assert!(p.up.is_none());
            assert!(
                matches!(&p.actions[..], [Action::Disable { group, .. }] if group == "dev-web")
            );
        }
    }

    #[test]
    fn a_half_landed_switch_is_decided_by_the_switch_count() {
        // a rollback to v0 whose tag call landed only for the group it went to
        let rg = RoleGroups::pick(
            "dev-web",
            [
                group("dev-web", &[(ACTIVE_TAG, "true"), (SWITCH_TAG, "2")]),
                group("dev-web-v1", &[(ACTIVE_TAG, "true"), (SWITCH_TAG, "1")]),
            ],
        );
        assert_eq!(rg.active().unwrap().name, "dev-web");
    }

    /// A disabled group: out of its target group, instances running.
    fn disabled(name: &str, launch: &str, at: &str) -> Group {
        let mut g = serving(
            name,
            launch,
            &[
                (ACTIVE_TAG, "false"),
                (STATE_TAG, DISABLED),
                (DISABLED_AT_TAG, at),
            ],
        );
        g.target_groups.clear();
        g
    }

    #[test]
    fn keep_previous_deletes_the_older_disabled_groups_of_a_release() {
        let rg = RoleGroups::pick(
            "dev-web",
            [
                disabled("dev-web", "1", "2026-01-01T00:00:00Z"),
                serving(
                    "dev-web-v1",
                    "2",
                    &[(ACTIVE_TAG, "true"), (SWITCH_TAG, "1")],
                ),
            ],
        );
        let p = plan(&inputs(&rg, release("3"))).unwrap();
        assert_eq!(p.up.as_deref(), Some("dev-web-v2"));
        assert!(
            !p.actions
                .iter()
                .any(|a| matches!(a, Action::MarkBase { .. }))
        );
        assert!(matches!(
            p.actions.last().unwrap(),
            Action::Delete { group, instances: 4, .. } if group == "dev-web"
        ));
        assert_eq!(
            p.actions.last().unwrap().hazard(),
            Some(Hazard::DeletesGroup)
        );
        let mut two = inputs(&rg, release("3"));
        two.keep_previous = 2;
        assert!(
            !plan(&two)
                .unwrap()
                .actions
                .iter()
                .any(|a| matches!(a, Action::Delete { .. }))
        );
        // 0 keeps none: even the group just switched from goes, once disabled
        let mut none = inputs(&rg, release("3"));
        none.keep_previous = 0;
        let deleted: Vec<String> = plan(&none)
            .unwrap()
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::Delete { group, .. } => Some(group.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(deleted, vec!["dev-web-v1", "dev-web"]);
    }

    #[test]
    fn due_scale_downs_are_the_disabled_groups_past_their_time_and_none_mid_release() {
        let at = |t: i64| timestamp(t);
        let now = 10_000;
        let mut base = group("dev-web", &[(ACTIVE_TAG, "false"), (STATE_TAG, DISABLED)]);
        base.tags.push((DISABLED_AT_TAG.into(), at(now - 31 * 60)));
        base.desired = 2;
        let mut v1 = group(
            "dev-web-v1",
            &[(ACTIVE_TAG, "false"), (STATE_TAG, DISABLED)],
        );
        v1.tags.push((DISABLED_AT_TAG.into(), at(now - 29 * 60)));
        v1.desired = 2;
        let v2 = group("dev-web-v2", &[(ACTIVE_TAG, "true")]);
        let rg = RoleGroups::pick("dev-web", [base.clone(), v1.clone(), v2.clone()]);
        let due = due_scale_downs(&rg, Some(30), now);
        assert!(
            matches!(&due[..], [Action::ScaleDown { group, minutes: 30, .. }] if group == "dev-web"),
            "{due:?}"
        );
        assert!(due_scale_downs(&rg, None, now).is_empty());
        assert_eq!(due_scale_downs(&rg, Some(29), now).len(), 2);
        // already at 0: nothing to do
        let mut zero = base.clone();
        zero.desired = 0;
        let rg0 = RoleGroups::pick("dev-web", [zero, v2.clone()]);
        assert!(due_scale_downs(&rg0, Some(30), now).is_empty());
        // a release in progress: its own run finishes first
        let releasing = group(
            "dev-web-v3",
            &[(ACTIVE_TAG, "false"), (STATE_TAG, RELEASING)],
        );
        let busy = RoleGroups::pick("dev-web", [base, v1, v2, releasing]);
        assert!(due_scale_downs(&busy, Some(30), now).is_empty());
    }

    #[test]
    fn scale_down_after_scales_long_disabled_groups_to_zero() {
        let at = timestamp(1_000_000 - 31 * 60);
        let rg = RoleGroups::pick(
            "dev-web",
            [
                disabled("dev-web", "1", &at),
                serving(
                    "dev-web-v1",
                    "2",
                    &[(ACTIVE_TAG, "true"), (SWITCH_TAG, "1")],
                ),
            ],
        );
        let mut inp = inputs(&rg, release("3"));
        inp.keep_previous = 2;
        inp.scale_down_after = Some(30);
        let p = plan(&inp).unwrap();
        assert!(matches!(
            p.actions.last().unwrap(),
            Action::ScaleDown { group, minutes: 30, .. } if group == "dev-web"
        ));
        // a rollback scales the groups it keeps down too, but never the one it brings back
        let mut back = inputs(&rg, Goal::Rollback { to: Some(0) });
        back.scale_down_after = Some(30);
        assert!(
            !plan(&back)
                .unwrap()
                .actions
                .iter()
                .any(|a| matches!(a, Action::ScaleDown { .. }))
        );
        inp.scale_down_after = Some(60);
        assert!(
            !plan(&inp)
                .unwrap()
                .actions
                .iter()
                .any(|a| matches!(a, Action::ScaleDown { .. }))
        );
    }

    #[test]
    fn with_nothing_to_release_only_what_is_due_is_planned() {
        let at = timestamp(1_000_000 - 31 * 60);
        let rg = RoleGroups::pick(
            "dev-web",
            [
                disabled("dev-web", "1", &at),
                serving(
                    "dev-web-v1",
                    "2",
                    &[(ACTIVE_TAG, "true"), (SWITCH_TAG, "1")],
                ),
            ],
        );
        // nothing due: nothing to do
        assert!(matches!(
            plan(&inputs(&rg, release("2"))),
            Err(Refusal::UpToDate { .. })
        ));
        let mut inp = inputs(&rg, release("2"));
        inp.scale_down_after = Some(30);
        let p = plan(&inp).unwrap();
        assert!(p.up.is_none());
        assert!(matches!(&p.actions[..], [Action::ScaleDown { group, .. }] if group == "dev-web"));
        // a disabled group an interrupted run left in the deployment group leaves it
        let mut inp = inputs(&rg, release("2"));
        inp.deployment = Some(Deployment {
            name: "dev-web".into(),
            groups: vec!["dev-web".into(), "dev-web-v1".into()],
        });
        let p = plan(&inp).unwrap();
        assert!(matches!(
            &p.actions[..],
            [Action::RemoveFromDeployment { group, .. }] if group == "dev-web"
        ));
    }

    #[test]
    fn a_rollback_brings_the_group_disabled_last_back() {
        let rg = RoleGroups::pick(
            "dev-web",
            [
                disabled("dev-web", "1", "2026-01-01T00:00:00Z"),
                disabled("dev-web-v1", "2", "2026-02-01T00:00:00Z"),
                serving(
                    "dev-web-v2",
                    "3",
                    &[(ACTIVE_TAG, "true"), (SWITCH_TAG, "2")],
                ),
            ],
        );
        let p = plan(&inputs(&rg, Goal::Rollback { to: None })).unwrap();
        assert_eq!(p.up.as_deref(), Some("dev-web-v1"));
        assert_eq!(p.undo, Undo::Disable);
        assert!(matches!(&p.actions[0], Action::Reenable { group, .. } if group == "dev-web-v1"));
        assert!(
            matches!(&p.actions[1], Action::Attach { target_groups, .. } if target_groups == &vec!["arn:tg".to_string()])
        );
        assert!(matches!(
            &p.actions[2],
            Action::WaitHealthy { launches: 0, .. }
        ));
        assert!(matches!(&p.actions[3], Action::Switch { number: 3, .. }));
        // a rollback deletes nothing
        assert!(!p.actions.iter().any(|a| matches!(a, Action::Delete { .. })));
        let p = plan(&inputs(&rg, Goal::Rollback { to: Some(0) })).unwrap();
        assert_eq!(p.up.as_deref(), Some("dev-web"));
        assert!(matches!(
            plan(&inputs(&rg, Goal::Rollback { to: Some(2) })),
            Err(Refusal::AlreadyActive { .. })
        ));
        assert!(matches!(
            plan(&inputs(&rg, Goal::Rollback { to: Some(5) })),
            Err(Refusal::NoSuchRelease { .. })
        ));
        let alone = RoleGroups::pick("dev-web", [serving("dev-web", "1", &[])]);
        assert!(matches!(
            plan(&inputs(&alone, Goal::Rollback { to: None })),
            Err(Refusal::NothingToRollBack { .. })
        ));
    }

    #[test]
    fn a_group_being_deleted_is_no_release_but_its_name_is_taken() {
        let mut gone = group("dev-web-v1", &[(STATE_TAG, RELEASING)]);
        gone.deleting = true;
        let rg = RoleGroups::pick("dev-web", [group("dev-web", &[(ACTIVE_TAG, "true")]), gone]);
        assert_eq!(rg.groups.len(), 1);
        assert_eq!(rg.next_release(), 2);
    }

    #[test]
    fn state_tags_are_never_copied() {
        for k in [
            ACTIVE_TAG,
            STATE_TAG,
            DISABLED_AT_TAG,
            SWITCH_TAG,
            SUSPENDED_TAG,
            "udo:deploy-suspended",
            "udo:rollout",
        ] {
            assert!(is_state_tag(k), "{k}");
        }
        for k in ["Name", "udo:app", "udo:role", "team"] {
            assert!(!is_state_tag(k), "{k}");
        }
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
    }
}
