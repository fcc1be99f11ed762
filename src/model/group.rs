//! The group udo.yml describes, and how a live group differs from it: sizes, subnets,
//! balancers, tags. Pure: no AWS calls, no command line.

use crate::config::Role;
use crate::launch;
use crate::model::live::{Balancer, Group, GroupSpec};
use crate::model::step::Field;

pub(crate) fn sizes(role: &Role) -> (i32, i32, i32) {
    let s = &role.settings;
    let min = s.int("scale_policy.min_size").unwrap_or(1) as i32;
    let max = s
        .int("scale_policy.max_size")
        .unwrap_or(i64::from(min.max(1))) as i32;
    let desired = s.int("scale_policy.desired").unwrap_or(i64::from(min)) as i32;
    (min, max, desired)
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
            tags.extend(super::drain::marker_tags(role));
            tags
        },
        state_tags: Vec::new(),
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

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// Group-level differences between the live group and udo.yml, one field each.
pub(crate) fn group_changes(g: &Group, want: &GroupSpec) -> Vec<Field> {
    let mut out = Vec::new();
    if g.min != want.min {
        out.push(Field::Min(g.min, want.min));
    }
    if g.max != want.max {
        out.push(Field::Max {
            from: g.max,
            to: want.max,
            why: scaled_above_max(g, want),
        });
    }
    // Desired capacity belongs to `asg scale`; it only moves when the new bounds demand it.
    let clamped = g.desired.clamp(want.min, want.max.max(want.min));
    if clamped != g.desired {
        out.push(Field::Desired(g.desired, clamped));
    }
    if !want.subnets.is_empty() && sorted(&g.subnets) != sorted(&want.subnets) {
        out.push(Field::Subnets(g.subnets.clone(), want.subnets.clone()));
    }
    if let Some(t) = &want.health_check_type
        && *t != g.health_check_type
    {
        out.push(Field::HealthCheckType(
            g.health_check_type.clone(),
            t.clone(),
        ));
    }
    if let Some(p) = want.grace_period
        && p != g.grace_period
    {
        out.push(Field::GracePeriod(g.grace_period, p));
    }
    if g.mix != want.mix {
        out.push(Field::Mix(g.mix.clone(), want.mix.clone()));
    }
    if g.capacity_rebalance != want.capacity_rebalance {
        out.push(Field::CapacityRebalance(
            g.capacity_rebalance,
            want.capacity_rebalance,
        ));
    }
    let live_policies = if g.termination_policies.is_empty() {
        vec!["Default".to_string()]
    } else {
        g.termination_policies.clone()
    };
    if live_policies != want.termination_policies {
        out.push(Field::TerminationPolicies(
            live_policies,
            want.termination_policies.clone(),
        ));
    }
    if g.max_instance_lifetime != want.max_instance_lifetime {
        out.push(Field::MaxInstanceLifetime(
            g.max_instance_lifetime,
            want.max_instance_lifetime,
        ));
    }
    if g.maintenance != want.maintenance {
        out.push(Field::Maintenance(g.maintenance, want.maintenance));
    }
    out
}

/// The group tag in which `asg scale N` records the maximum it raised the group's to (udo's
/// own state, not inherited by instances). Only a raise writes it: a scale to N at or below
/// the maximum leaves the maximum, and the tag, as they were.
pub(crate) const SCALED_MAX_TAG: &str = "udo:scaled-max";

/// Why the live maximum is above udo.yml's, when `asg scale N` raised it there: without this,
/// plan's "lower it" reads as udo's whim. The evidence is the group's own record of the raise
/// ([`SCALED_MAX_TAG`] naming the maximum it has now), never the sizes alone: a desired
/// capacity at the maximum is also what a scale to exactly the maximum, or a scaling policy,
/// leaves, and a maximum above udo.yml's is also what lowering `max_size` in udo.yml leaves.
pub(crate) fn scaled_above_max(g: &Group, want: &GroupSpec) -> Option<String> {
    let raised_to = g
        .tags
        .iter()
        .find(|(k, _)| k == SCALED_MAX_TAG)
        .and_then(|(_, v)| v.parse::<i32>().ok());
    (g.max > want.max && raised_to == Some(g.max)).then(|| {
        format!(
            "raised above udo.yml's max_size, as `udo asg scale {}` does; to keep it, set scale_policy.max_size: {} in udo.yml",
            g.max, g.max
        )
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn live(max: i32, desired: i32, raised_to: Option<&str>) -> Group {
        Group {
            name: "dev-web".into(),
            min: 1,
            max,
            desired,
            tags: raised_to
                .map(|v| vec![(SCALED_MAX_TAG.to_string(), v.to_string())])
                .unwrap_or_default(),
            ..Default::default()
        }
    }

    fn yml(max: i32) -> GroupSpec {
        GroupSpec {
            name: "dev-web".into(),
            min: 1,
            max,
            ..Default::default()
        }
    }

    #[test]
    fn a_maximum_raised_by_asg_scale_is_named_as_such() {
        let why = scaled_above_max(&live(6, 6, Some("6")), &yml(3)).unwrap();
        assert!(why.contains("`udo asg scale 6`"), "{why}");
        assert!(why.contains("scale_policy.max_size: 6"), "{why}");
        // still the cause after a scale back down within the raised maximum
        assert!(scaled_above_max(&live(6, 2, Some("6")), &yml(3)).is_some());
    }

    #[test]
    fn a_full_group_whose_maximum_nothing_raised_is_not_blamed_on_asg_scale() {
        // `asg scale 5` with the group's maximum already 5, then max_size cut to 3 in udo.yml
        assert_eq!(scaled_above_max(&live(5, 5, None), &yml(3)), None);
        // a record of an earlier raise to another maximum says nothing about this one
        assert_eq!(scaled_above_max(&live(5, 5, Some("6")), &yml(3)), None);
        assert_eq!(scaled_above_max(&live(5, 5, Some("bad")), &yml(3)), None);
        // at or below udo.yml's maximum there is nothing to explain
        assert_eq!(scaled_above_max(&live(3, 3, Some("3")), &yml(3)), None);
    }
}
