//! A role's plan: the typed steps that turn what a survey found into what udo.yml wants. The
//! one place that decides what changes for a role; `plan`, `apply`, `lc create`, `asg create`
//! and `asg updatelc` all take their steps from here. Pure.

use crate::config::Role;
use crate::error::Result;
use crate::failure::Refusal;
use crate::launch::{LaunchKind, LaunchSpec, user_data_diff};
use crate::model::group::{balancer_changes, group_changes, group_spec, sizes, tag_changes};
use crate::model::launch_step::{LaunchStep, Live, launch_step, same_launch};
use crate::model::live::{DrainHook, Group, GroupLaunch, GroupSpec, Subnet};
use crate::model::network::pick_subnets;
use crate::model::release::{self, GroupState, RoleGroups};
use crate::model::scaling::changes;
use crate::model::step::{Field, Step};
use crate::schedule::{Action, Policy};

/// What a survey found for one role.
#[derive(Default)]
pub struct RoleSurvey {
    /// The role's active group (see `model::release`): the one the plan changes.
    pub group: Option<Group>,
    /// Every group of the role: its base group and blue/green releases, with their states.
    pub groups: RoleGroups,
    /// The newest live launch settings of the role's kind.
    pub live: Option<Live>,
    /// The role's launch configurations: read only for a template role whose group still runs
    /// on a configuration (once switched, none of them is used any more).
    pub configurations: Vec<String>,
    /// Subnets the role's `subnets_cidr` may name (looked up by CIDR, or the cluster's survey).
    pub subnets: Vec<Subnet>,
    /// The role's target group ARNs, in udo.yml's order.
    pub target_groups: Vec<String>,
    pub actions: Vec<Action>,
    pub policies: Vec<Policy>,
    /// The role's launch template belongs to another application: (its app, the refusal).
    pub foreign_template: Option<(String, Refusal)>,
    /// The group's `udo-drain` lifecycle hook (read only where udo.yml drains or once did).
    pub drain_hook: Option<DrainHook>,
    /// When the survey was taken, seconds since the epoch (for `rollout.scale_down_after`;
    /// 0, as in a default survey, makes nothing due).
    pub now: i64,
}

/// What udo.yml would change for one role.
pub struct RolePlan<'a> {
    pub role: &'a Role,
    pub exists: bool,
    pub steps: Vec<Step>,
    /// Instances running an outdated launch version (replaced only by a rollout).
    pub outdated: usize,
    /// Subnet CIDRs of the role that the cluster's network does not have yet.
    pub missing_subnets: Vec<String>,
    pub want_launch: LaunchSpec,
    /// The launch settings that exist and match udo.yml, when no launch step makes new ones.
    pub reuse: Option<GroupLaunch>,
    /// The group udo.yml describes; a CIDR among its subnets stands for a subnet the network
    /// part of the same plan creates.
    pub want_group: GroupSpec,
    /// Why udo changes nothing of this group (another application's, a rollout in progress):
    /// the line `plan` shows, and the error a command that would change it stops with.
    pub blocked: Option<Blocked>,
    /// What the group launches from now (an existing group's).
    pub live_launch: Option<GroupLaunch>,
    /// The group the plan acts on: the role's active group, or the base group it creates.
    pub group: String,
    /// Every group of the role (release number, name, state), oldest first; empty when it
    /// has none.
    pub groups: Vec<(u32, String, GroupState)>,
    /// What `plan` says of the role's other groups (a release in progress, groups kept for a
    /// rollback): notes, never differences.
    pub notes: Vec<String>,
}

/// A group udo will not change now.
pub struct Blocked {
    pub line: String,
    pub error: Refusal,
}

impl RolePlan<'_> {
    pub fn differs(&self) -> bool {
        !self.steps.is_empty() || self.blocked.is_some()
    }

    /// The error for a command that would change a blocked group.
    pub fn refusal(&self) -> Option<crate::error::Error> {
        self.blocked
            .as_ref()
            .map(|b| crate::error::Error::from(b.error.clone()))
    }
}

/// The field and user-data differences between live and wanted launch settings.
pub fn launch_diff(live: &LaunchSpec, want: &LaunchSpec) -> Vec<String> {
    let mut lines: Vec<String> = live
        .diff(want)
        .iter()
        .map(|d| format!("{}: {} -> {}", d.field, d.live, d.desired))
        .collect();
    let ud = user_data_diff(&live.user_data, &want.user_data);
    if !ud.is_empty() {
        lines.push("user data diff:".into());
        lines.extend(ud.lines().map(|l| format!("  {l}")));
    }
    lines
}

/// The launch step as a typed step (none for reusing what exists).
fn launch_steps(
    role: &Role,
    step: &LaunchStep,
    want: &LaunchSpec,
    live: Option<&Live>,
) -> Vec<Step> {
    let name = role.group_name();
    let diff = || live.map(|l| launch_diff(&l.spec, want)).unwrap_or_default();
    match step {
        LaunchStep::Reuse(_) => Vec::new(),
        LaunchStep::SetDefault(v) => vec![Step::MakeDefault { name, version: *v }],
        LaunchStep::CreateTemplate => vec![Step::CreateTemplate { name }],
        LaunchStep::NewTemplateVersion(v) => vec![Step::NewTemplateVersion {
            name,
            version: *v,
            diff: diff(),
        }],
        LaunchStep::CreateConfig(n) => vec![Step::CreateLaunchConfiguration {
            name: n.clone(),
            diff: diff(),
        }],
    }
}

/// The launch part alone, from the launch settings that exist (what `lc create` applies).
pub fn launch_part(role: &Role, want: &LaunchSpec, live: Option<&Live>) -> Vec<Step> {
    let steps = launch_steps(role, &launch_step(role, want, live), want, live);
    with_take_over(role, live, steps)
}

/// Launch steps on a template without udo's tags start by tagging it as the app's.
fn with_take_over(role: &Role, live: Option<&Live>, steps: Vec<Step>) -> Vec<Step> {
    match live {
        Some(l) if l.untagged && !steps.is_empty() => {
            let mut out = vec![Step::TagTemplate {
                name: l.name.clone(),
                template_id: l.template_id.clone().unwrap_or_default(),
                app: role.app_name().to_string(),
            }];
            out.extend(steps);
            out
        }
        _ => steps,
    }
}

/// Why udo will not change this group now, if so.
fn blocked(role: &Role, g: &Group) -> Option<Blocked> {
    use crate::model::owner;
    if let Err(e) = owner::check_group(role, g) {
        let other = owner::app_of(&g.tags).unwrap_or_default().to_string();
        return Some(Blocked {
            line: format!(
                "refused: autoscaling group {} belongs to application `{other}`; udo will not change it",
                g.name
            ),
            error: e,
        });
    }
    if let Err(e) = owner::not_rolling_out(role, g) {
        return Some(Blocked {
            line: format!(
                "rollout in progress ({}); `udo asg rollout {}` finishes it, and nothing else changes the group until then",
                owner::rollout_tag(g).unwrap_or_default(),
                role.target()
            ),
            error: e,
        });
    }
    None
}

/// Subnet CIDRs of the role with no subnet of its cluster's udo network.
pub fn missing_subnets(role: &Role, found: &[Subnet]) -> Vec<String> {
    if !role.settings.list("subnets").is_empty() {
        return Vec::new();
    }
    role.settings
        .list("subnets_cidr")
        .into_iter()
        .filter(|cidr| {
            !found
                .iter()
                .any(|s| s.cidr == *cidr && s.cluster() == Some(role.cluster.as_str()))
        })
        .map(String::from)
        .collect()
}

/// The group's subnet ids. With `network` (the plan makes the cluster's network too), a CIDR the
/// network lacks stays as the CIDR, to be replaced by the subnet made for it; without, a missing
/// CIDR is an error naming `udo cluster create`.
fn want_subnets(role: &Role, found: &[Subnet], network: bool) -> Result<Vec<String>> {
    if role.settings.list("subnets").is_empty() && role.settings.list("subnets_cidr").is_empty() {
        return Ok(Vec::new());
    }
    let missing = missing_subnets(role, found);
    if !network || missing.is_empty() {
        return pick_subnets(role, found);
    }
    Ok(role
        .settings
        .list("subnets_cidr")
        .into_iter()
        .map(|cidr| {
            found
                .iter()
                .find(|s| s.cidr == cidr && s.cluster() == Some(role.cluster.as_str()))
                .map_or_else(|| cidr.to_string(), |s| s.id.clone())
        })
        .collect())
}

/// One role's plan from what was surveyed: the decisions every command takes.
pub fn plan_role<'a>(
    role: &'a Role,
    want_launch: LaunchSpec,
    s: &RoleSurvey,
    network: bool,
) -> Result<RolePlan<'a>> {
    let name = role.group_name();
    // the group the plan acts on: the active one, else the base group it would create
    let group = s
        .group
        .as_ref()
        .map_or_else(|| name.clone(), |g| g.name.clone());
    let groups: Vec<(u32, String, GroupState)> = s
        .groups
        .each()
        .map(|(n, g, st)| (n, g.name.clone(), st))
        .collect();
    let notes = release_notes(role, &s.groups);
    let wanted = want_launch.clone();
    let refused = |line: String, error: Refusal| RolePlan {
        role,
        exists: s.group.is_some(),
        steps: Vec::new(),
        outdated: s.group.as_ref().map_or(0, |g| g.outdated().len()),
        missing_subnets: Vec::new(),
        want_launch: wanted.clone(),
        reuse: None,
        want_group: GroupSpec::default(),
        blocked: Some(Blocked { line, error }),
        live_launch: None,
        group: group.clone(),
        groups: groups.clone(),
        notes: notes.clone(),
    };
    if let Some(b) = s.group.as_ref().and_then(|g| blocked(role, g)) {
        return Ok(refused(b.line, b.error));
    }
    if s.group.is_none() && !s.groups.groups.is_empty() {
        let e = no_active(role, &s.groups);
        return Ok(refused(
            format!(
                "refused: no group of the role is active; udo creates no other beside {}",
                states(&s.groups)
            ),
            e,
        ));
    }
    if let Some((other, error)) = &s.foreign_template {
        return Ok(refused(
            format!(
                "refused: launch template {name} belongs to application `{other}`; udo will not change it"
            ),
            error.clone(),
        ));
    }
    let missing = if network {
        missing_subnets(role, &s.subnets)
    } else {
        Vec::new()
    };
    let want = group_spec(
        role,
        want_subnets(role, &s.subnets, network)?,
        s.target_groups.clone(),
    );
    let want_launch = want_launch.with_root_device_of(s.live.as_ref().map(|l| &l.spec));
    let step = launch_step(role, &want_launch, s.live.as_ref());
    let reuse = match &step {
        LaunchStep::Reuse(l) => Some(l.clone()),
        _ => None,
    };
    let mut steps = Vec::new();
    let scaling = changes(role, &s.actions, &s.policies);
    let hook = crate::model::drain::hook_change(
        crate::model::drain::Drain::desired(role).as_ref(),
        s.drain_hook.as_ref(),
    )
    .map(|change| Step::DrainHook {
        change,
        live: s.drain_hook.clone(),
    });
    let Some(g) = &s.group else {
        steps.extend(launch_steps(role, &step, &want_launch, s.live.as_ref()));
        let (min, max, desired) = sizes(role);
        steps.push(Step::CreateGroup {
            name,
            min,
            max,
            desired,
        });
        steps.extend(hook);
        steps.extend(scaling.actions.into_iter().map(Step::Schedule));
        steps.extend(scaling.policies.into_iter().map(Step::Policy));
        return Ok(RolePlan {
            role,
            exists: false,
            steps,
            outdated: 0,
            missing_subnets: missing,
            want_launch,
            reuse,
            want_group: want,
            blocked: None,
            live_launch: None,
            group,
            groups,
            notes,
        });
    };
    // launch settings, and the group's switch to them
    let launch_changes = match &step {
        LaunchStep::Reuse(l) if same_launch(l, &g.launch) => false,
        LaunchStep::Reuse(l) => {
            steps.push(Step::SwitchLaunch {
                group: group.clone(),
                from: g.launch.clone(),
                to: Some(l.clone()),
            });
            true
        }
        LaunchStep::SetDefault(v) => {
            steps.extend(launch_steps(role, &step, &want_launch, s.live.as_ref()));
            let target = GroupLaunch::Template {
                id: String::new(),
                name: name.clone(),
                version: v.to_string(),
            };
            if !same_launch(&target, &g.launch) {
                steps.push(Step::SwitchLaunch {
                    group: group.clone(),
                    from: g.launch.clone(),
                    to: Some(target),
                });
            }
            true
        }
        _ => {
            steps.extend(launch_steps(role, &step, &want_launch, s.live.as_ref()));
            steps.push(Step::SwitchLaunch {
                group: group.clone(),
                from: g.launch.clone(),
                to: None,
            });
            true
        }
    };
    if launch_changes {
        steps = with_take_over(role, s.live.as_ref(), steps);
    }
    for field in group_changes(g, &want) {
        steps.push(Step::UpdateGroup { field });
    }
    for (kind, add, remove) in balancer_changes(g, &want) {
        steps.extend(add.into_iter().map(|n| Step::Attach { kind, name: n }));
        steps.extend(remove.into_iter().map(|n| Step::Detach { kind, name: n }));
    }
    for (key, value) in tag_changes(g, &want.tags) {
        steps.push(Step::Tag { key, value });
    }
    steps.extend(hook);
    steps.extend(scaling.actions.into_iter().map(Step::Schedule));
    steps.extend(scaling.policies.into_iter().map(Step::Policy));
    for n in unused_configurations(role, &step, g, s, launch_changes) {
        steps.push(Step::DeleteLaunchConfiguration { name: n });
    }
    // `rollout.scale_down_after`: no daemon does it on time, so the next run that changes
    // the role does (none while a release is in progress; that release finishes first).
    steps.extend(
        release::due_scale_downs(
            &s.groups,
            role.settings.int("rollout.scale_down_after"),
            s.now,
        )
        .into_iter()
        .map(Step::Release),
    );
    if let Some(b) = release_block(role, &s.groups, &steps) {
        // the refusal says it; the note would say it twice
        let mut p = refused(b.line, b.error);
        p.notes.retain(|n| !n.starts_with("release in progress"));
        return Ok(p);
    }
    Ok(RolePlan {
        role,
        exists: true,
        steps,
        outdated: g.outdated().len(),
        missing_subnets: missing,
        want_launch,
        reuse,
        want_group: want,
        blocked: None,
        live_launch: Some(g.launch.clone()),
        group,
        groups,
        notes,
    })
}

/// `dev-web (disabled), dev-web-v1 (releasing)`: the role's groups with their states.
fn states(groups: &RoleGroups) -> String {
    groups
        .each()
        .map(|(_, g, st)| format!("{} ({})", g.name, st.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The groups of the role in these states, named.
fn named(groups: &RoleGroups, wanted: &[GroupState]) -> Vec<String> {
    groups
        .each()
        .filter(|(_, _, st)| wanted.contains(st))
        .map(|(_, g, st)| format!("{} {}", g.name, st.as_str()))
        .collect()
}

/// A release being brought up or switched to (any group `releasing` or `disabling`).
fn mid_release(groups: &RoleGroups) -> Vec<String> {
    named(groups, &[GroupState::Releasing, GroupState::Disabling])
}

/// What `plan` says of a role's other groups: notes, not differences (the plan compares
/// udo.yml with the active group only).
fn release_notes(role: &Role, groups: &RoleGroups) -> Vec<String> {
    let mut notes = Vec::new();
    let mid = mid_release(groups);
    if !mid.is_empty() {
        notes.push(format!(
            "release in progress ({}): udo changes no sizes of {} until it ends; a re-run of `udo asg rollout {} --strategy bluegreen` finishes it",
            mid.join(", "),
            role.target(),
            role.target()
        ));
    }
    let disabled = named(groups, &[GroupState::Disabled]);
    if !disabled.is_empty() {
        notes.push(format!(
            "kept for `udo asg rollback {}`: {} (not compared with udo.yml)",
            role.target(),
            disabled.join(", ")
        ));
    }
    notes
}

/// While a release is in progress the active group's sizes are what the release copied and
/// will switch from: a plan that would change them waits, as during a surge rollout.
fn release_block(role: &Role, groups: &RoleGroups, steps: &[Step]) -> Option<Blocked> {
    let mid = mid_release(groups);
    let sizes: Vec<String> = steps
        .iter()
        .filter(|s| {
            matches!(
                s,
                Step::UpdateGroup {
                    field: Field::Min(..) | Field::Max { .. } | Field::Desired(..),
                    ..
                }
            )
        })
        .map(Step::line)
        .collect();
    if mid.is_empty() || sizes.is_empty() {
        return None;
    }
    Some(Blocked {
        line: format!(
            "release in progress ({}); udo.yml's sizes wait until it ends ({}); a re-run of `udo asg rollout {} --strategy bluegreen` finishes it",
            mid.join(", "),
            sizes.join("; "),
            role.target()
        ),
        error: Refusal::Releasing {
            target: role.target(),
            groups: mid,
        },
    })
}

/// The refusal of a size change while a release of the role is in progress (`asg scale N`,
/// and a plan's size steps): the release copied the active group's sizes.
pub fn release_refusal(role: &Role, groups: &RoleGroups) -> Option<Refusal> {
    let mid = mid_release(groups);
    (!mid.is_empty()).then(|| Refusal::Releasing {
        target: role.target(),
        groups: mid,
    })
}

/// The refusal for a role with groups of which none is active.
pub fn no_active(role: &Role, groups: &RoleGroups) -> Refusal {
    Refusal::NoActiveGroup {
        target: role.target(),
        groups: groups
            .each()
            .map(|(_, g, st)| format!("{} ({})", g.name, st.as_str()))
            .collect(),
    }
}

/// Configurations of this role that nothing will use: the one the group leaves (deleted only
/// after the switch) and any an interrupted earlier run left behind.
fn unused_configurations(
    role: &Role,
    step: &LaunchStep,
    g: &Group,
    s: &RoleSurvey,
    launch_changes: bool,
) -> Vec<String> {
    // A configuration another group of the role launches from (a disabled blue/green release,
    // kept for a rollback) is in use.
    let used = |n: &String| {
        s.groups
            .groups
            .iter()
            .any(|(_, o)| o.name != g.name && o.launch == GroupLaunch::Configuration(n.clone()))
    };
    let mut out = unused_by_the_group(role, step, g, s, launch_changes);
    out.retain(|n| !used(n));
    out
}

/// The role's configurations group `g` will not use.
fn unused_by_the_group(
    role: &Role,
    step: &LaunchStep,
    g: &Group,
    s: &RoleSurvey,
    launch_changes: bool,
) -> Vec<String> {
    // A template role whose group still runs on a configuration (one the old tool made, or
    // from before `launch: configuration` was dropped): once switched, none of the role's
    // configurations is used any more.
    if let (GroupLaunch::Configuration(_), LaunchKind::Template) = (&g.launch, LaunchKind::of(role))
    {
        return if launch_changes {
            s.configurations.clone()
        } else {
            Vec::new()
        };
    }
    let keep = match step {
        LaunchStep::Reuse(GroupLaunch::Configuration(n)) | LaunchStep::CreateConfig(n) => n,
        _ => return Vec::new(),
    };
    s.live
        .as_ref()
        .map(|l| {
            l.versions
                .iter()
                .filter(|(v, c)| *v > 0 && c.name != *keep)
                .map(|(_, c)| c.name.clone())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;
    use crate::model::live::{self, GroupLaunch, LaunchConfig};
    use crate::model::step::{self, Hazard, Kind, Part};

    fn config(role_yaml: &str) -> config::Config {
        config::parse(
            std::path::Path::new("udo.yml"),
            format!("app_name: shop\nregion: us-east-1\nami: ami-1\ninstance_type: t3.small\nclusters:\n  dev:\n    subnets: [subnet-1]\n    roles:\n      web:\n{role_yaml}"),
        )
        .unwrap()
    }

    const WEB: &str = "        scale_policy: {min_size: 1, max_size: 3}\n        schedule:\n          - {name: night, recurrence: '0 20 * * *', desired: 0}\n";

    fn template(v: &str) -> GroupLaunch {
        GroupLaunch::Template {
            id: "lt-1".into(),
            name: "dev-web".into(),
            version: v.into(),
        }
    }

    fn live(spec: &LaunchSpec, version: i64) -> Live {
        Live {
            name: "dev-web".into(),
            version,
            spec: spec.clone(),
            template_id: Some("lt-1".into()),
            versions: Vec::new(),
            is_default: true,
            untagged: false,
        }
    }

    /// The group udo would have made for the role, running `launch`.
    fn group(r: &Role, launch: GroupLaunch) -> Group {
        let mut tags = crate::launch::role_tags(r);
        tags.extend(crate::model::scaling::marker_tags(r));
        let (min, max, desired) = sizes(r);
        Group {
            name: "dev-web".into(),
            min,
            max,
            desired,
            launch: launch.clone(),
            instances: vec![live::GroupInstance {
                id: "i-1".into(),
                az: "us-east-1a".into(),
                lifecycle: "InService".into(),
                health: "Healthy".into(),
                launch: template("1"),
                instance_type: "t3.small".into(),
                spot: false,
            }],
            subnets: vec!["subnet-1".into()],
            load_balancers: vec![],
            target_groups: vec![],
            health_check_type: "EC2".into(),
            grace_period: 0,
            tags,
            suspended: vec![],
            ..Default::default()
        }
    }

    fn lines(p: &RolePlan) -> Vec<String> {
        p.steps.iter().map(Step::signed).collect()
    }

    #[test]
    fn desired_settings_come_from_udo_yml() {
        let cfg = config(WEB);
        let r = &cfg.clusters[0].roles[0];
        assert_eq!(sizes(r), (1, 3, 1));
        let spec = group_spec(r, vec!["subnet-1".into()], vec![]);
        assert_eq!((spec.min, spec.max, spec.desired), (1, 3, Some(1)));
        assert!(spec.tags.iter().any(|(k, _)| k == "udo:schedule"));
        let want = LaunchSpec::desired(r, "us-east-1").unwrap();
        assert_eq!(want.instance_type.as_deref(), Some("t3.small"));
    }

    #[test]
    fn a_missing_group_is_created_with_its_launch_template_and_schedule() {
        let cfg = config(WEB);
        let r = &cfg.clusters[0].roles[0];
        let want = LaunchSpec::desired(r, "us-east-1").unwrap();
        let p = plan_role(r, want, &RoleSurvey::default(), false).unwrap();
        assert_eq!(
            lines(&p),
            vec![
                "+ create launch template dev-web",
                "+ create autoscaling group dev-web (min 1, max 3, desired 1)",
                "+ add scheduled action udo-night at `0 20 * * *` UTC (desired 0)",
            ]
        );
        assert_eq!(step::hazard(&p.steps), None);
    }

    #[test]
    fn a_matching_group_has_no_steps_and_counts_outdated_instances() {
        let cfg = config(WEB);
        let r = &cfg.clusters[0].roles[0];
        let want = LaunchSpec::desired(r, "us-east-1").unwrap();
        let s = RoleSurvey {
            group: Some(group(r, template("2"))),
            live: Some(live(&want, 2)),
            actions: crate::schedule::desired_actions(r),
            ..Default::default()
        };
        let p = plan_role(r, want.clone(), &s, false).unwrap();
        assert!(!p.differs(), "{:?}", lines(&p));
        assert_eq!(p.outdated, 1);
        // an extra udo action is pruned, and that asks
        let mut extra = s.actions.clone();
        extra.push(Action {
            name: "udo-old".into(),
            ..extra[0].clone()
        });
        let s = RoleSurvey {
            actions: extra,
            ..s
        };
        let p = plan_role(r, want, &s, false).unwrap();
        assert_eq!(lines(&p), vec!["- delete scheduled action udo-old"]);
        assert_eq!(step::hazard(&p.steps), Some(Hazard::RemovesScalingRule));
    }

    /// The role's base group disabled (and made to differ from udo.yml) and release 1 active,
    /// with `more` groups beside them.
    fn released(r: &Role, more: Vec<Group>) -> (Group, RoleGroups) {
        let tagged = |name: &str, tags: &[(&str, &str)]| {
            let mut g = group(r, template("2"));
            g.name = name.into();
            g.tags
                .extend(tags.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            g
        };
        let mut base = tagged(
            "dev-web",
            &[("udo:active", "false"), ("udo:release-state", "disabled")],
        );
        base.max = 9;
        let v1 = tagged("dev-web-v1", &[("udo:active", "true")]);
        let mut all = vec![base, v1.clone()];
        all.extend(more.into_iter().map(|mut g| {
            g.tags.extend([
                ("udo:active".to_string(), "false".to_string()),
                ("udo:release-state".to_string(), "releasing".to_string()),
            ]);
            g
        }));
        (v1, RoleGroups::pick("dev-web", all))
    }

    #[test]
    fn the_plan_is_the_active_groups_and_disabled_groups_are_a_note() {
        let cfg = config(WEB);
        let r = &cfg.clusters[0].roles[0];
        let mut want = LaunchSpec::desired(r, "us-east-1").unwrap();
        let (v1, groups) = released(r, vec![]);
        let s = RoleSurvey {
            group: Some(v1),
            groups,
            live: Some(live(&want, 2)),
            actions: crate::schedule::desired_actions(r),
            ..Default::default()
        };
        let p = plan_role(r, want.clone(), &s, false).unwrap();
        assert!(!p.differs(), "{:?}", lines(&p));
        assert_eq!(p.group, "dev-web-v1");
        assert_eq!(
            p.notes,
            vec![
                "kept for `udo asg rollback dev.web`: dev-web disabled (not compared with udo.yml)"
            ]
        );
        // a launch change switches the active group, by its name
        want.instance_type = Some("t3.large".into());
        let p = plan_role(r, want, &s, false).unwrap();
        assert_eq!(
            lines(&p),
            vec![
                "+ create version 3 of launch template dev-web",
                "~ switch dev-web-v1 to it (from dev-web v2)",
            ]
        );
    }

    #[test]
    fn a_release_in_progress_holds_size_changes_back() {
        let cfg = config(WEB);
        let r = &cfg.clusters[0].roles[0];
        let want = LaunchSpec::desired(r, "us-east-1").unwrap();
        let mut v2 = group(r, template("2"));
        v2.name = "dev-web-v2".into();
        let (mut v1, groups) = released(r, vec![v2]);
        let survey = |v1: Group| RoleSurvey {
            group: Some(v1),
            groups: groups.clone(),
            live: Some(live(&want, 2)),
            actions: crate::schedule::desired_actions(r),
            ..Default::default()
        };
        let p = plan_role(r, want.clone(), &survey(v1.clone()), false).unwrap();
        assert!(!p.differs());
        assert!(p.notes[0].starts_with("release in progress (dev-web-v2 releasing)"));
        v1.max = 5;
        let p = plan_role(r, want.clone(), &survey(v1), false).unwrap();
        assert!(p.steps.is_empty());
        let b = p.blocked.as_ref().unwrap();
        assert!(b.line.contains("(change max size 5 -> 3)"), "{}", b.line);
        assert!(
            b.error
                .to_string()
                .contains("a release of dev.web is in progress")
        );
        assert!(!p.notes.iter().any(|n| n.starts_with("release in progress")));
    }

    #[test]
    fn groups_with_none_active_are_refused_rather_than_a_second_base_created() {
        let cfg = config(WEB);
        let r = &cfg.clusters[0].roles[0];
        let want = LaunchSpec::desired(r, "us-east-1").unwrap();
        let mut g = group(r, template("2"));
        g.tags.extend([
            ("udo:active".to_string(), "false".to_string()),
            ("udo:release-state".to_string(), "disabled".to_string()),
        ]);
        let s = RoleSurvey {
            groups: RoleGroups::pick("dev-web", [g]),
            ..Default::default()
        };
        let p = plan_role(r, want, &s, false).unwrap();
        assert!(p.steps.is_empty());
        let e = p.refusal().unwrap().to_string();
        assert!(
            e.contains("no group of dev.web is active (dev-web (disabled))"),
            "{e}"
        );
    }

    #[test]
    fn a_launch_change_makes_a_version_switches_and_shows_the_diff() {
        let cfg = config(WEB);
        let r = &cfg.clusters[0].roles[0];
        let want = LaunchSpec::desired(r, "us-east-1").unwrap();
        let mut old = want.clone();
        old.instance_type = Some("t3.micro".into());
        let s = RoleSurvey {
            group: Some(group(r, template("2"))),
            live: Some(live(&old, 2)),
            actions: crate::schedule::desired_actions(r),
            ..Default::default()
        };
        let p = plan_role(r, want, &s, false).unwrap();
        assert_eq!(
            lines(&p),
            vec![
                "+ create version 3 of launch template dev-web",
                "~ switch dev-web to it (from dev-web v2)",
            ]
        );
        assert_eq!(
            p.steps[0].details(),
            ["instance type: t3.micro -> t3.small"]
        );
        assert_eq!(step::hazard(&p.steps), None);
    }

    #[test]
    fn a_lower_max_size_cuts_desired_and_that_asks() {
        let cfg = config(WEB);
        let r = &cfg.clusters[0].roles[0];
        let want = LaunchSpec::desired(r, "us-east-1").unwrap();
        let mut g = group(r, template("2"));
        g.max = 5;
        g.desired = 4;
        let s = RoleSurvey {
            group: Some(g),
            live: Some(live(&want, 2)),
            actions: crate::schedule::desired_actions(r),
            ..Default::default()
        };
        let p = plan_role(r, want, &s, false).unwrap();
        assert_eq!(
            lines(&p),
            vec![
                "~ change max size 5 -> 3",
                "~ change desired capacity 4 -> 3 (to fit the new bounds)",
            ]
        );
        assert_eq!(step::hazard(&p.steps), Some(Hazard::ReducesCapacity));
    }

    #[test]
    fn an_old_tool_group_moves_to_a_template_and_its_configuration_goes() {
        let cfg = config(WEB);
        let r = &cfg.clusters[0].roles[0];
        let want = LaunchSpec::desired(r, "us-east-1").unwrap();
        let s = RoleSurvey {
            group: Some(group(r, GroupLaunch::Configuration("dev-web".into()))),
            live: None,
            configurations: vec!["dev-web".into()],
            actions: crate::schedule::desired_actions(r),
            ..Default::default()
        };
        let p = plan_role(r, want, &s, false).unwrap();
        assert_eq!(
            lines(&p),
            vec![
                "+ create launch template dev-web",
                "~ switch dev-web to it (from dev-web)",
                "- delete unused launch configuration dev-web",
            ]
        );
        assert_eq!(p.steps.last().unwrap().part(), Part::Cleanup);
        assert_eq!(p.steps.last().unwrap().kind(), Kind::Delete);
    }

    #[test]
    fn a_configuration_left_by_an_interrupted_run_is_planned_for_deletion() {
        let cfg = config(&format!("        launch: configuration\n{WEB}"));
        let r = &cfg.clusters[0].roles[0];
        let want = LaunchSpec::desired(r, "us-east-1").unwrap();
        let lc = |n: &str| LaunchConfig {
            name: n.into(),
            spec: want.clone(),
        };
        let s = RoleSurvey {
            group: Some(group(r, GroupLaunch::Configuration("dev-web-v2".into()))),
            live: Some(Live {
                name: "dev-web-v2".into(),
                version: 2,
                spec: want.clone(),
                template_id: None,
                is_default: true,
                versions: vec![(1, lc("dev-web")), (2, lc("dev-web-v2"))],
                untagged: false,
            }),
            actions: crate::schedule::desired_actions(r),
            ..Default::default()
        };
        let p = plan_role(r, want, &s, false).unwrap();
        assert_eq!(
            lines(&p),
            vec!["- delete unused launch configuration dev-web"]
        );
        assert_eq!(step::hazard(&p.steps), None);
    }
}
