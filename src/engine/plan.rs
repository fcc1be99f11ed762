//! Plan: what udo.yml would change for each role in scope, from one survey of them all.
//!
//! The reads are batched (one DescribeAutoScalingGroups for all groups, one read of the
//! templates' `$Latest` versions, one DescribeSubnets for all CIDRs, one DescribeTargetGroups
//! for all names, one DescribeScheduledActions and one DescribePolicies for all groups that
//! need them), then each role is diffed with the same `model` functions `asg updatelc` uses.

use crate::aws::asg::{self, Group};
use crate::aws::ec2::{self, Subnet, filter};
use crate::aws::{Clients, elb, scaling as aws_scaling};
use crate::config::Role;
use crate::context::Ctx;
use crate::error::Result;
use crate::launch::{LaunchKind, LaunchSpec, user_data_diff};
use crate::model::group as change;
use crate::model::launch_step::{LaunchStep, Live};
use crate::model::network::pick_subnets;
use crate::model::scaling::{self, ScalingChanges};
use crate::schedule::{Action, Policy};

use super::{network, survey};

/// What udo.yml would change for one role.
pub struct RolePlan<'a> {
    pub role: &'a Role,
    pub exists: bool,
    /// Network pieces this role needs that are missing (subnet CIDRs).
    pub missing_subnets: Vec<String>,
    /// Launch template / configuration steps, then their field and user-data differences.
    pub launch: Vec<String>,
    pub launch_details: Vec<String>,
    /// Group creation, sizes, subnets, health check, balancers, tags.
    pub group: Vec<String>,
    pub scaling: ScalingChanges,
    pub outdated: usize,
    /// Detaching a balancer or deleting an action or policy.
    pub destructive: bool,
    pub want_launch: LaunchSpec,
}

impl RolePlan<'_> {
    pub fn differs(&self) -> bool {
        !self.missing_subnets.is_empty()
            || !self.launch.is_empty()
            || !self.group.is_empty()
            || !self.scaling.is_empty()
    }
}

/// Reads what the roles' plans need, region by region, in batched calls, and diffs each role.
pub async fn read<'a>(
    ctx: &Ctx,
    roles: Vec<(&'a Role, LaunchSpec)>,
    surveyed: &[Surveyed],
) -> Result<Vec<RolePlan<'a>>> {
    // One batch of reads per profile and region (clusters may live in different accounts).
    let list: Vec<&Role> = roles.iter().map(|(r, _)| *r).collect();
    let mut plans = Vec::new();
    for (c, place) in ctx.by_place(&list).await? {
        let here: Vec<(&Role, LaunchSpec)> = roles
            .iter()
            .filter(|(r, _)| place.iter().any(|p| std::ptr::eq(*p, *r)))
            .cloned()
            .collect();
        plans.extend(read_region(&c, here, surveyed).await?);
    }
    // udo.yml's order, whatever the regions
    plans.sort_by_key(|p| {
        roles
            .iter()
            .position(|(r, _)| std::ptr::eq(*r, p.role))
            .unwrap_or(usize::MAX)
    });
    Ok(plans)
}

async fn read_region<'a>(
    c: &Clients,
    roles: Vec<(&'a Role, LaunchSpec)>,
    surveyed: &[Surveyed],
) -> Result<Vec<RolePlan<'a>>> {
    let names: Vec<String> = roles.iter().map(|(r, _)| r.group_name()).collect();
    let groups = asg::groups(c, &names).await?;
    let group_of = |r: &Role| groups.iter().find(|g| g.name == r.group_name());

    let templates: Vec<String> = roles
        .iter()
        .filter(|(r, _)| LaunchKind::of(r) == LaunchKind::Template)
        .map(|(r, _)| r.group_name())
        .collect();
    let latest = ec2::latest_versions(c, &templates).await?;

    // The subnets of networks udo makes came with the cluster's survey; read only the others.
    let survey_of = |r: &Role| surveyed.iter().find(|(c, _)| *c == r.cluster);
    let mut cidrs: Vec<&str> = Vec::new();
    for (r, _) in &roles {
        if r.settings.list("subnets").is_empty() && survey_of(r).is_none() {
            for cidr in r.settings.list("subnets_cidr") {
                if !cidrs.contains(&cidr) {
                    cidrs.push(cidr);
                }
            }
        }
    }
    let mut subnets: Vec<Subnet> = if cidrs.is_empty() {
        Vec::new()
    } else {
        ec2::subnets(c, vec![filter("cidr-block", &cidrs)]).await?
    };
    for (cluster, found) in surveyed {
        if roles.iter().any(|(r, _)| r.cluster == *cluster) {
            subnets.extend(found.iter().cloned());
        }
    }

    let mut tg_names: Vec<String> = Vec::new();
    for (r, _) in &roles {
        for t in r.settings.list("target_groups") {
            if !tg_names.iter().any(|n| n == t) {
                tg_names.push(t.to_string());
            }
        }
    }
    let tg_arns = if tg_names.is_empty() {
        Vec::new()
    } else {
        elb::target_group_arns(c, &tg_names).await?
    };

    let (mut read_actions, mut read_policies) = (Vec::new(), Vec::new());
    for (r, _) in &roles {
        if let Some(g) = group_of(r) {
            let (a, p) = scaling::needs_read(r, Some(g));
            if a {
                read_actions.push(g.name.clone());
            }
            if p {
                read_policies.push(g.name.clone());
            }
        }
    }
    let actions = aws_scaling::actions(c, &read_actions).await?;
    let policies = aws_scaling::policies(c, &read_policies).await?;

    let mut out = Vec::new();
    for (role, want_launch) in roles {
        let g = group_of(role);
        let live = match LaunchKind::of(role) {
            LaunchKind::Template => {
                latest
                    .iter()
                    .find(|(n, _)| *n == role.group_name())
                    .map(|(n, v)| Live {
                        name: n.clone(),
                        version: v.number,
                        spec: v.spec.clone(),
                        template_id: Some(v.template_id.clone()),
                        versions: Vec::new(),
                        is_default: v.is_default,
                        untagged: super::owner::app_of(&v.spec.tags).is_none(),
                    })
            }
            LaunchKind::Configuration => survey::live(c, role, g).await?,
        };
        let tgs: Vec<String> = role
            .settings
            .list("target_groups")
            .iter()
            .filter_map(|t| {
                tg_names
                    .iter()
                    .position(|n| n == t)
                    .and_then(|i| tg_arns.get(i).cloned())
            })
            .collect();
        let live_actions: Vec<Action> = actions
            .iter()
            .filter(|(gn, _)| *gn == role.group_name())
            .map(|(_, a)| a.clone())
            .collect();
        let live_policies: Vec<Policy> = policies
            .iter()
            .filter(|(gn, _)| *gn == role.group_name())
            .map(|(_, p)| p.clone())
            .collect();
        let mut p = diff_role(
            role,
            want_launch,
            g,
            live.as_ref(),
            &subnets,
            tgs,
            &live_actions,
            &live_policies,
        );
        // The drain hook: read (one call per group) only where udo.yml drains or once did.
        let want_drain = crate::model::drain::Drain::desired(role);
        let live_hook = match g {
            Some(g) if crate::model::drain::needs_read(role, Some(g)) => {
                asg::drain_hook(c, &g.name).await?
            }
            _ => None,
        };
        if let Some(h) = crate::model::drain::hook_change(want_drain.as_ref(), live_hook.as_ref()) {
            p.group.push(h.describe(live_hook.as_ref()));
        }
        out.push(p);
    }
    Ok(out)
}

/// Subnet CIDRs of the role with no subnet of its cluster's udo network.
fn missing_subnets(role: &Role, found: &[Subnet]) -> Vec<String> {
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

/// One role's plan from what was read: the same decisions `asg create`/`updatelc` take.
#[allow(clippy::too_many_arguments)]
pub fn diff_role<'a>(
    role: &'a Role,
    want_launch: LaunchSpec,
    g: Option<&Group>,
    live: Option<&Live>,
    subnets: &[Subnet],
    target_groups: Vec<String>,
    live_actions: &[Action],
    live_policies: &[Policy],
) -> RolePlan<'a> {
    let name = role.group_name();
    let step = crate::model::launch_step::launch_step(role, &want_launch, live);
    let mut p = RolePlan {
        role,
        exists: g.is_some(),
        missing_subnets: missing_subnets(role, subnets),
        launch: Vec::new(),
        launch_details: Vec::new(),
        group: Vec::new(),
        scaling: scaling::changes(role, live_actions, live_policies),
        outdated: 0,
        destructive: false,
        want_launch,
    };
    let details = |p: &mut RolePlan| {
        if let Some(l) = live {
            for d in l.spec.diff(&p.want_launch) {
                p.launch_details
                    .push(format!("{}: {} -> {}", d.field, d.live, d.desired));
            }
            let ud = user_data_diff(&l.spec.user_data, &p.want_launch.user_data);
            p.launch_details
                .extend(ud.lines().map(|l| format!("  {l}")));
        }
    };
    // Another application's launch template of the role's name: not udo's to change.
    let foreign_template = live
        .and_then(|l| super::owner::app_of(&l.spec.tags))
        .filter(|a| *a != role.app_name());
    if let Some(other) = foreign_template {
        p.launch.push(format!(
            "refused: launch template {name} belongs to application `{other}`; udo will not change it"
        ));
        if g.is_none() {
            return p;
        }
    }
    let Some(g) = g else {
        if let Some(s) = step.describe(role) {
            p.launch.push(s);
            details(&mut p);
        }
        let (min, max, desired) = change::sizes(role);
        p.group.push(format!(
            "create autoscaling group {name} (min {min}, max {max}, desired {desired})"
        ));
        return p;
    };
    p.outdated = g.outdated().len();
    // Another application's group: not udo's to change (apply refuses it, naming the owner).
    if let Some(other) = super::owner::app_of(&g.tags).filter(|a| *a != role.app_name()) {
        p.launch.clear();
        p.group.push(format!(
            "refused: autoscaling group {name} belongs to application `{other}`; udo will not change it"
        ));
        return p;
    }
    // A rollout in progress: its sizes are the rollout's surge, not a difference to fix.
    if let Some(saved) = super::owner::rollout_tag(g) {
        p.group.push(format!(
            "rollout in progress ({saved}); `udo asg rollout {}` finishes it, and nothing else changes the group until then",
            role.target()
        ));
        return p;
    }
    if foreign_template.is_some() {
        return p;
    }
    match &step {
        LaunchStep::Reuse(l) if crate::model::launch_step::same_launch(l, &g.launch) => {}
        LaunchStep::Reuse(l) => p.launch.push(format!(
            "switch {name} from {} to {}",
            g.launch.describe(),
            l.describe()
        )),
        s => {
            p.launch.push(s.describe(role).unwrap_or_default());
            p.launch.push(format!(
                "switch {name} to it (from {})",
                g.launch.describe()
            ));
            details(&mut p);
        }
    }
    // Without its subnets the group's subnets cannot be compared yet: the network comes first.
    let resolved = if p.missing_subnets.is_empty() {
        pick_subnets(role, subnets).unwrap_or_default()
    } else {
        Vec::new()
    };
    let want = change::group_spec(role, resolved, target_groups);
    let (_, lines) = change::group_changes(g, &want);
    let why = change::scaled_above_max(g, &want);
    p.group.extend(lines.into_iter().map(|l| match &why {
        Some(w) if l.starts_with("max size ") => format!("change {l} ({w})"),
        _ => format!("change {l}"),
    }));
    for (kind, add, remove) in change::balancer_changes(g, &want) {
        p.group.extend(
            add.iter()
                .map(|x| format!("attach {} {x}", kind.singular())),
        );
        p.destructive |= !remove.is_empty();
        p.group.extend(
            remove
                .iter()
                .map(|x| format!("detach {} {x}", kind.singular())),
        );
    }
    for (k, v) in change::tag_changes(g, &want.tags) {
        p.group.push(format!("tag {k}={v}"));
    }
    p.destructive |= p.scaling.destructive();
    p
}

/// A cluster and what `cluster create` would change of its network (empty: nothing).
pub type Network = (String, Vec<String>);

/// A cluster whose network udo makes, and the subnets its survey found.
pub type Surveyed = (String, Vec<Subnet>);

/// The networks of the clusters in scope that udo makes (`subnets_cidr`), read as
/// `cluster create` reads them: VPC, subnets, gateway, route table, and leftover copies.
pub async fn networks(
    ctx: &Ctx,
    roles: &[(&Role, LaunchSpec)],
) -> Result<(Vec<Network>, Vec<Surveyed>)> {
    let mut nets: Vec<Network> = Vec::new();
    let mut surveyed: Vec<Surveyed> = Vec::new();
    for (r, _) in roles {
        let cl = &r.cluster;
        if nets.iter().any(|(c, _)| c == cl) {
            continue;
        }
        if let Some((lines, subnets)) = network::pending(ctx, cl).await? {
            nets.push((cl.clone(), lines));
            surveyed.push((cl.clone(), subnets));
        }
    }
    Ok((nets, surveyed))
}

/// Whether anything in scope differs from udo.yml: a role, or a cluster's network.
pub fn differs(plans: &[RolePlan], nets: &[Network]) -> bool {
    plans.iter().any(RolePlan::differs) || nets.iter().any(|(_, l)| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::asg::GroupLaunch;
    use crate::config;

    fn role() -> config::Config {
        config::parse(
            std::path::Path::new("udo.yml"),
            "app_name: shop\nregion: us-east-1\nami: ami-1\ninstance_type: t3.small\nclusters:\n  dev:\n    subnets: [subnet-1]\n    roles:\n      web:\n        scale_policy: {min_size: 1, max_size: 3}\n        schedule:\n          - {name: night, recurrence: '0 20 * * *', desired: 0}\n"
                .into(),
        )
        .unwrap()
    }

    #[test]
    fn a_missing_group_is_created_with_its_launch_template_and_schedule() {
        let cfg = role();
        let r = &cfg.clusters[0].roles[0];
        let want = LaunchSpec::desired(r, "us-east-1").unwrap();
        let p = diff_role(r, want, None, None, &[], vec![], &[], &[]);
        assert!(p.differs());
        assert_eq!(p.launch, vec!["create launch template dev-web"]);
        assert_eq!(
            p.group,
            vec!["create autoscaling group dev-web (min 1, max 3, desired 1)"]
        );
        assert_eq!(p.scaling.actions.len(), 1);
        assert!(!p.destructive);
    }

    #[test]
    fn a_matching_group_has_no_differences_and_counts_outdated_instances() {
        let cfg = role();
        let r = &cfg.clusters[0].roles[0];
        let want = LaunchSpec::desired(r, "us-east-1").unwrap();
        let live = Live {
            name: "dev-web".into(),
            version: 2,
            spec: want.clone(),
            template_id: Some("lt-1".into()),
            versions: Vec::new(),
            is_default: true,
            untagged: false,
        };
        let launch = |v: &str| GroupLaunch::Template {
            id: "lt-1".into(),
            name: "dev-web".into(),
            version: v.into(),
        };
        let mut tags = crate::launch::role_tags(r);
        tags.push(("udo:schedule".into(), "managed".into()));
        let g = Group {
            name: "dev-web".into(),
            min: 1,
            max: 3,
            desired: 1,
            launch: launch("2"),
            instances: vec![asg::GroupInstance {
                id: "i-1".into(),
                az: "us-east-1a".into(),
                lifecycle: "InService".into(),
                health: "Healthy".into(),
                launch: launch("1"),
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
        };
        let night = crate::schedule::desired_actions(r);
        let p = diff_role(
            r,
            want.clone(),
            Some(&g),
            Some(&live),
            &[],
            vec![],
            &night,
            &[],
        );
        assert!(!p.differs(), "{:?} {:?} {:?}", p.launch, p.group, p.scaling);
        assert_eq!(p.outdated, 1);
        // an extra udo action is pruned, and that is destructive
        let mut extra = night.clone();
        extra.push(Action {
            name: "udo-old".into(),
            ..night[0].clone()
        });
        let p = diff_role(r, want, Some(&g), Some(&live), &[], vec![], &extra, &[]);
        assert!(p.differs() && p.destructive);
    }
}
