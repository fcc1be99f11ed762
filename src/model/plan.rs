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
use crate::model::scaling::changes;
use crate::model::step::Step;
use crate::schedule::{Action, Policy};

/// What a survey found for one role.
#[derive(Default)]
pub struct RoleSurvey {
    pub group: Option<Group>,
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
    let refused = |line: String, error: Refusal| RolePlan {
        role,
        exists: s.group.is_some(),
        steps: Vec::new(),
        outdated: s.group.as_ref().map_or(0, |g| g.outdated().len()),
        missing_subnets: Vec::new(),
        want_launch: want_launch.clone(),
        reuse: None,
        want_group: GroupSpec::default(),
        blocked: Some(Blocked { line, error }),
        live_launch: None,
    };
    if let Some(b) = s.group.as_ref().and_then(|g| blocked(role, g)) {
        return Ok(refused(b.line, b.error));
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
        });
    };
    // launch settings, and the group's switch to them
    let launch_changes = match &step {
        LaunchStep::Reuse(l) if same_launch(l, &g.launch) => false,
        LaunchStep::Reuse(l) => {
            steps.push(Step::SwitchLaunch {
                group: name.clone(),
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
                    group: name.clone(),
                    from: g.launch.clone(),
                    to: Some(target),
                });
            }
            true
        }
        _ => {
            steps.extend(launch_steps(role, &step, &want_launch, s.live.as_ref()));
            steps.push(Step::SwitchLaunch {
                group: name.clone(),
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
    })
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
