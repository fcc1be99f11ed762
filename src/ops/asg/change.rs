//! Comparing a live group with udo.yml: sizes, subnets, balancers, tags and launch settings.

use crate::aws::asg::{self, Balancer, Group, GroupLaunch, GroupSpec, GroupUpdate};
use crate::aws::{Clients, ec2, elb};
use crate::config::Role;
use crate::context::Ctx;
use crate::error::Result;
use crate::launch::{self, LaunchKind, LaunchSpec};
use crate::ops::{cluster, lc};

pub(crate) fn sizes(role: &Role) -> (i32, i32, i32) {
    let s = &role.settings;
    let min = s.int("scale_policy.min_size").unwrap_or(1) as i32;
    let max = s
        .int("scale_policy.max_size")
        .unwrap_or(i64::from(min.max(1))) as i32;
    let desired = s.int("scale_policy.desired").unwrap_or(i64::from(min)) as i32;
    (min, max, desired)
}

/// The group udo.yml describes, with subnets and target groups resolved (one call each, only
/// when names or CIDRs need resolving).
pub(crate) async fn desired_group(c: &Clients, role: &Role) -> Result<GroupSpec> {
    let tgs: Vec<String> = role
        .settings
        .list("target_groups")
        .into_iter()
        .map(String::from)
        .collect();
    let subnets = cluster::resolve_subnets(c, role).await?;
    let target_groups = if tgs.is_empty() {
        tgs
    } else {
        elb::target_group_arns(c, &tgs).await?
    };
    Ok(group_spec(role, subnets, target_groups))
}

/// The group udo.yml describes, given its subnet ids and target group ARNs (resolved by the
/// caller, one role at a time or in a batch).
pub(crate) fn group_spec(
    role: &Role,
    subnets: Vec<String>,
    target_groups: Vec<String>,
) -> GroupSpec {
    let s = &role.settings;
    let (min, max, desired) = sizes(role);
    GroupSpec {
        name: role.group_name(),
        min,
        max,
        desired: Some(desired),
        launch: None,
        subnets,
        zones: s
            .list("availability_zones")
            .into_iter()
            .map(String::from)
            .collect(),
        load_balancers: s.list("elbs").into_iter().map(String::from).collect(),
        target_groups,
        health_check_type: s.str("health_check.type").map(String::from),
        grace_period: s.int("health_check.grace_period").map(|g| g as i32),
        tags: {
            let mut tags = launch::role_tags(role);
            tags.extend(super::scaling::marker_tags(role));
            tags
        },
        mix: launch::InstanceMix::desired(role),
        capacity_rebalance: s
            .bool("capacity_rebalance")
            .unwrap_or_else(|| launch::InstanceMix::desired(role).is_some_and(|m| m.uses_spot())),
        termination_policies: {
            let t: Vec<String> = s
                .list("termination_policies")
                .into_iter()
                .map(String::from)
                .collect();
            if t.is_empty() {
                vec!["Default".into()]
            } else {
                t
            }
        },
        max_instance_lifetime: s.int("max_instance_lifetime").unwrap_or(0) as i32,
        maintenance: match (
            s.int("instance_maintenance.min_healthy"),
            s.int("instance_maintenance.max_healthy"),
        ) {
            (Some(lo), Some(hi)) => Some((lo as i32, hi as i32)),
            _ => None,
        },
    }
}

/// What to do about the launch settings: reuse what exists or make what is missing.
pub(crate) enum LaunchStep {
    Reuse(GroupLaunch),
    /// The latest template version matches udo.yml but is not the default (a run stopped
    /// between creating it and making it the default): make it the default, then use it.
    SetDefault(i64),
    CreateTemplate,
    NewTemplateVersion(i64),
    CreateConfig(String),
}

impl LaunchStep {
    pub(crate) fn describe(&self, role: &Role) -> Option<String> {
        let name = role.group_name();
        match self {
            LaunchStep::Reuse(_) => None,
            LaunchStep::SetDefault(v) => Some(format!(
                "make version {v} of launch template {name} the default"
            )),
            LaunchStep::CreateTemplate => Some(format!("create launch template {name}")),
            LaunchStep::NewTemplateVersion(v) => {
                Some(format!("create version {v} of launch template {name}"))
            }
            LaunchStep::CreateConfig(n) => Some(format!("create launch configuration {n}")),
        }
    }
}

/// Decides the launch step from the newest live launch settings.
pub(crate) fn launch_step(role: &Role, want: &LaunchSpec, live: Option<&lc::Live>) -> LaunchStep {
    let name = role.group_name();
    match (LaunchKind::of(role), live) {
        (LaunchKind::Template, None) => LaunchStep::CreateTemplate,
        (LaunchKind::Template, Some(l)) if l.spec.diff(want).is_empty() && !l.is_default => {
            LaunchStep::SetDefault(l.version)
        }
        (LaunchKind::Template, Some(l)) if l.spec.diff(want).is_empty() => {
            LaunchStep::Reuse(GroupLaunch::Template {
                id: l.template_id.clone().unwrap_or_default(),
                name,
                version: l.version.to_string(),
            })
        }
        (LaunchKind::Template, Some(l)) => LaunchStep::NewTemplateVersion(l.version + 1),
        (LaunchKind::Configuration, None) => LaunchStep::CreateConfig(name),
        (LaunchKind::Configuration, Some(l)) if l.spec.diff(want).is_empty() => {
            LaunchStep::Reuse(GroupLaunch::Configuration(l.name.clone()))
        }
        (LaunchKind::Configuration, Some(l)) => {
            match l
                .versions
                .iter()
                .find(|(_, c)| c.spec.diff(want).is_empty())
            {
                // a copy made by an interrupted run: use it rather than make another
                Some((_, c)) => LaunchStep::Reuse(GroupLaunch::Configuration(c.name.clone())),
                None => LaunchStep::CreateConfig(format!("{name}-v{}", l.newest() + 1)),
            }
        }
    }
}

pub(crate) async fn apply_launch(
    ctx: &Ctx,
    c: &Clients,
    role: &Role,
    want: &LaunchSpec,
    step: LaunchStep,
    prefix: &str,
) -> Result<GroupLaunch> {
    let name = role.group_name();
    Ok(match step {
        LaunchStep::Reuse(l) => l,
        LaunchStep::SetDefault(v) => {
            ec2::set_default_version(c, &name, v).await?;
            ctx.events.emit(
                prefix,
                format!("Made version {v} of launch template {name} the default"),
            );
            GroupLaunch::Template {
                id: String::new(),
                name,
                version: v.to_string(),
            }
        }
        LaunchStep::CreateTemplate => {
            let id = ec2::create_template(c, &name, want, &launch::role_tags(role)).await?;
            ctx.events.emit(
                prefix,
                format!("Created launch template {name} ({id}) version 1"),
            );
            GroupLaunch::Template {
                id,
                name,
                version: "1".into(),
            }
        }
        LaunchStep::NewTemplateVersion(_) => {
            let v = ec2::create_template_version(c, &name, want).await?;
            ctx.events.emit(
                prefix,
                format!("Created launch template {name} version {v}"),
            );
            GroupLaunch::Template {
                id: String::new(),
                name,
                version: v.to_string(),
            }
        }
        LaunchStep::CreateConfig(n) => {
            asg::create_launch_config(c, &n, want).await?;
            ctx.events
                .emit(prefix, format!("Created launch configuration {n}"));
            GroupLaunch::Configuration(n)
        }
    })
}

pub(crate) fn same_launch(a: &GroupLaunch, b: &GroupLaunch) -> bool {
    match (a, b) {
        (
            GroupLaunch::Template {
                name: n1,
                version: v1,
                ..
            },
            GroupLaunch::Template {
                name: n2,
                version: v2,
                ..
            },
        ) => n1 == n2 && v1 == v2,
        (GroupLaunch::Configuration(x), GroupLaunch::Configuration(y)) => x == y,
        _ => false,
    }
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// Group-level differences between the live group and udo.yml, as (description, kind).
pub(crate) fn group_changes(g: &Group, want: &GroupSpec) -> (GroupUpdate, Vec<String>) {
    let mut u = GroupUpdate::default();
    let mut lines = Vec::new();
    if g.min != want.min {
        lines.push(format!("min size {} -> {}", g.min, want.min));
        u.min = Some(want.min);
    }
    if g.max != want.max {
        lines.push(format!("max size {} -> {}", g.max, want.max));
        u.max = Some(want.max);
    }
    // Desired capacity belongs to `asg scale`; it only moves when the new bounds demand it.
    let clamped = g.desired.clamp(want.min, want.max.max(want.min));
    if clamped != g.desired {
        lines.push(format!(
            "desired capacity {} -> {clamped} (to fit the new bounds)",
            g.desired
        ));
        u.desired = Some(clamped);
    }
    if !want.subnets.is_empty() && sorted(&g.subnets) != sorted(&want.subnets) {
        lines.push(format!(
            "subnets {} -> {}",
            g.subnets.join(","),
            want.subnets.join(",")
        ));
        u.subnets = Some(want.subnets.clone());
    }
    if let Some(t) = &want.health_check_type
        && *t != g.health_check_type
    {
        lines.push(format!("health check type {} -> {t}", g.health_check_type));
        u.health_check_type = Some(t.clone());
    }
    if let Some(p) = want.grace_period
        && p != g.grace_period
    {
        lines.push(format!(
            "health check grace period {}s -> {p}s",
            g.grace_period
        ));
        u.grace_period = Some(p);
    }
    if g.mix != want.mix {
        lines.push(format!(
            "instances {} -> {}",
            launch::InstanceMix::describe_opt(&g.mix),
            launch::InstanceMix::describe_opt(&want.mix)
        ));
        u.mix = Some(want.mix.clone());
    }
    if g.capacity_rebalance != want.capacity_rebalance {
        lines.push(format!(
            "capacity rebalance {} -> {}",
            g.capacity_rebalance, want.capacity_rebalance
        ));
        u.capacity_rebalance = Some(want.capacity_rebalance);
    }
    let live_policies = if g.termination_policies.is_empty() {
        vec!["Default".to_string()]
    } else {
        g.termination_policies.clone()
    };
    if live_policies != want.termination_policies {
        lines.push(format!(
            "termination policies {} -> {}",
            live_policies.join(", "),
            want.termination_policies.join(", ")
        ));
        u.termination_policies = Some(want.termination_policies.clone());
    }
    if g.max_instance_lifetime != want.max_instance_lifetime {
        let show = |s: i32| {
            if s == 0 {
                "none".to_string()
            } else {
                format!("{s}s")
            }
        };
        lines.push(format!(
            "max instance lifetime {} -> {}",
            show(g.max_instance_lifetime),
            show(want.max_instance_lifetime)
        ));
        u.max_instance_lifetime = Some(want.max_instance_lifetime);
    }
    if g.maintenance != want.maintenance {
        let show = |m: Option<(i32, i32)>| match m {
            Some((lo, hi)) => format!("{lo}%-{hi}% healthy"),
            None => "none".to_string(),
        };
        lines.push(format!(
            "instance maintenance {} -> {}",
            show(g.maintenance),
            show(want.maintenance)
        ));
        u.maintenance = Some(want.maintenance);
    }
    (u, lines)
}

fn set_diff(have: &[String], want: &[String]) -> (Vec<String>, Vec<String>) {
    let add = want.iter().filter(|w| !have.contains(w)).cloned().collect();
    let remove = have.iter().filter(|h| !want.contains(h)).cloned().collect();
    (add, remove)
}

/// Balancers to attach and detach, per kind.
pub(crate) fn balancer_changes(
    g: &Group,
    want: &GroupSpec,
) -> [(Balancer, Vec<String>, Vec<String>); 2] {
    let (lb_add, lb_remove) = set_diff(&g.load_balancers, &want.load_balancers);
    let (tg_add, tg_remove) = set_diff(&g.target_groups, &want.target_groups);
    [
        (Balancer::Classic, lb_add, lb_remove),
        (Balancer::TargetGroup, tg_add, tg_remove),
    ]
}

pub(crate) fn tag_changes(g: &Group, want: &[(String, String)]) -> Vec<(String, String)> {
    want.iter()
        .filter(|(k, v)| !g.tags.iter().any(|(gk, gv)| gk == k && gv == v))
        .cloned()
        .collect()
}
