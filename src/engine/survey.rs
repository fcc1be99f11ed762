//! Survey: what AWS has for a role (or many), read with as few calls as possible. Each read
//! returns udo's own types; the diffs are made in `model`.

use crate::aws::asg::{self, Group, GroupLaunch};
use crate::aws::ec2::{Subnet, filter};
use crate::aws::{Clients, ec2, elb, scaling as aws_scaling};
use crate::config::Role;
use crate::context::Ctx;
use crate::engine::owner;
use crate::error::{Error, Result};
use crate::launch::{LaunchKind, LaunchSpec};
use crate::model::launch_step::Live;
use crate::model::plan::RoleSurvey;
use crate::model::scaling::needs_read;

/// The desired launch spec, or a located configuration error.
pub fn desired(ctx: &Ctx, role: &Role) -> Result<LaunchSpec> {
    let region = ctx.region_of(role)?;
    LaunchSpec::desired(role, &region).map_err(|d| ctx.config.error(vec![d]).into())
}

/// The error for a group that must exist and does not.
pub fn missing(role: &Role) -> Error {
    Error::Op(crate::failure::Failure::NoGroup {
        group: role.group_name(),
        target: role.target(),
    })
}

/// Launch configurations by exact name, none of them another app's (else the refusal).
async fn owned_configs(
    c: &Clients,
    role: &Role,
    names: &[String],
) -> Result<Vec<asg::LaunchConfig>> {
    let found = asg::launch_configs(c, names).await?;
    for l in &found {
        owner::check_config(role, &l.name, &l.spec.user_data)?;
    }
    Ok(found)
}

/// The role's template's latest version, when it is not another app's (else the refusal).
async fn owned_template(c: &Clients, role: &Role) -> Result<Option<ec2::TemplateVersion>> {
    let name = role.group_name();
    let v = ec2::template_version(c, &name, "$Latest").await?;
    if let Some(v) = &v {
        owner::check_template(role, &name, &v.spec.tags)?;
    }
    Ok(v)
}

/// The newest live version: the template's `$Latest`, or the configuration the group uses,
/// else the highest `-vN` that exists. Another application's template or configuration of
/// the role's name is refused here, for every command that reads it to change it.
pub async fn live(c: &Clients, role: &Role, group: Option<&asg::Group>) -> Result<Option<Live>> {
    let name = role.group_name();
    match LaunchKind::of(role) {
        LaunchKind::Template => {
            let Some(v) = owned_template(c, role).await? else {
                return Ok(None);
            };
            Ok(Some(Live {
                name: name.clone(),
                version: v.number,
                untagged: owner::app_of(&v.spec.tags).is_none(),
                spec: v.spec,
                template_id: Some(v.template_id),
                is_default: v.is_default,
                versions: Vec::new(),
            }))
        }
        LaunchKind::Configuration => {
            // One exact-name call covers BASE, BASE-v2 … BASE-v50 (and the group's own, if
            // it is named otherwise).
            let mut wanted = asg::lc_names(&name);
            let in_use = match group.map(|g| &g.launch) {
                Some(GroupLaunch::Configuration(n)) => Some(n.clone()),
                _ => None,
            };
            if let Some(n) = in_use.as_ref().filter(|n| !wanted.contains(n)) {
                wanted.push(n.clone());
            }
            let found = owned_configs(c, role, &wanted).await?;
            let mut versions: Vec<(i64, asg::LaunchConfig)> = found
                .into_iter()
                .filter_map(|l| {
                    let v = asg::lc_version(&name, &l.name).map(i64::from);
                    match v {
                        Some(v) => Some((v, l)),
                        None if in_use.as_deref() == Some(l.name.as_str()) => Some((0, l)),
                        None => None,
                    }
                })
                .collect();
            versions.sort_by_key(|(v, _)| *v);
            let current = match &in_use {
                Some(n) => versions.iter().find(|(_, l)| l.name == *n),
                None => versions.last(),
            }
            .cloned();
            Ok(current.map(|(v, l)| Live {
                name: l.name,
                version: v,
                spec: l.spec,
                template_id: None,
                is_default: true,
                versions,
                untagged: false,
            }))
        }
    }
}

/// The role's launch template, or every version of its launch configuration, that exists.
pub async fn existing_names(c: &Clients, role: &Role) -> Result<Vec<String>> {
    let name = role.group_name();
    Ok(match LaunchKind::of(role) {
        LaunchKind::Template => match owned_template(c, role).await? {
            Some(_) => vec![name],
            None => Vec::new(),
        },
        LaunchKind::Configuration => owned_configs(c, role, &asg::lc_names(&name))
            .await?
            .into_iter()
            .map(|l| l.name)
            .collect(),
    })
}

/// The role's launch configurations that exist (`BASE`, `BASE-vN`), whatever udo.yml's
/// `launch` says: one exact-name call.
pub async fn configurations(c: &Clients, role: &Role) -> Result<Vec<String>> {
    let names = asg::lc_names(&role.group_name());
    Ok(owned_configs(c, role, &names)
        .await?
        .into_iter()
        .map(|l| l.name)
        .collect())
}

/// Every launch template and configuration of the role that exists, of both kinds: a role
/// moved from configurations (the old tool's) to a template, or back, leaves the other kind
/// behind, and `asg destroy` removes it too. Templates come first.
pub async fn existing_all(c: &Clients, role: &Role) -> Result<Vec<(LaunchKind, String)>> {
    let name = role.group_name();
    let mut out = Vec::new();
    if owned_template(c, role).await?.is_some() {
        out.push((LaunchKind::Template, name));
    }
    for n in configurations(c, role).await? {
        out.push((LaunchKind::Configuration, n));
    }
    Ok(out)
}

/// Reads what the roles' plans need in one (profile, region), with batched calls: one
/// DescribeAutoScalingGroups for all groups (and one per app filtered by udo's tags, only for
/// roles whose base group is missing or has releases: `engine::groups`), one read of the templates' `$Latest` versions, one
/// DescribeSubnets for the CIDRs `subnets` does not already hold (the subnets of the cluster
/// networks surveyed with the plan), one DescribeTargetGroups for all names, one
/// DescribeScheduledActions and one DescribePolicies for the groups that need them. Surveys
/// come back in the roles' order.
pub async fn roles(
    c: &Clients,
    roles: &[(&Role, LaunchSpec)],
    surveyed: &[(String, Vec<Subnet>)],
) -> Result<Vec<RoleSurvey>> {
    // Each role's groups (its base and blue/green releases); the plan is made against the
    // active one. A role that never had a release costs the one call by name it always did.
    let list: Vec<&Role> = roles.iter().map(|(r, _)| *r).collect();
    let role_groups = super::groups::roles(c, &list).await?;
    let groups_of = |r: &Role| {
        list.iter()
            .position(|l| std::ptr::eq(*l, r))
            .map(|i| &role_groups[i])
    };
    let group_of = |r: &Role| groups_of(r).and_then(|g| g.active());

    let templates: Vec<String> = roles
        .iter()
        .filter(|(r, _)| LaunchKind::of(r) == LaunchKind::Template)
        .map(|(r, _)| r.group_name())
        .collect();
    let latest = ec2::latest_versions(c, &templates).await?;

    // The subnets of networks udo makes came with the cluster's survey; read only the others.
    let survey_of = |r: &Role| surveyed.iter().find(|(c, _)| *c == r.cluster);
    // By CIDR and udo's tags for the role's app and cluster: only the cluster's own network,
    // never another VPC that happens to have the same CIDR (one call per app and cluster).
    let mut wanted: Vec<((&str, &str), Vec<&str>)> = Vec::new();
    for (r, _) in roles {
        if r.settings.list("subnets").is_empty() && survey_of(r).is_none() {
            let key = (r.app_name(), r.cluster.as_str());
            let at = match wanted.iter().position(|(k, _)| *k == key) {
                Some(i) => i,
                None => {
                    wanted.push((key, Vec::new()));
                    wanted.len() - 1
                }
            };
            for cidr in r.settings.list("subnets_cidr") {
                if !wanted[at].1.contains(&cidr) {
                    wanted[at].1.push(cidr);
                }
            }
        }
    }
    let mut subnets: Vec<Subnet> = Vec::new();
    for ((app, cluster), cidrs) in wanted.iter().filter(|(_, c)| !c.is_empty()) {
        let mut filters = ec2::udo_filters(app, Some(cluster));
        filters.push(filter("cidr-block", cidrs));
        subnets.extend(ec2::subnets(c, filters).await?);
    }
    for (cluster, found) in surveyed {
        if roles.iter().any(|(r, _)| r.cluster == *cluster) {
            subnets.extend(found.iter().cloned());
        }
    }

    let mut tg_names: Vec<String> = Vec::new();
    for (r, _) in roles {
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
    for (r, _) in roles {
        if let Some(g) = group_of(r) {
            let (a, p) = needs_read(r, Some(g));
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
    for (role, _) in roles {
        let g = group_of(role);
        let mut foreign_template = None;
        let live = match LaunchKind::of(role) {
            LaunchKind::Template => match latest.iter().find(|(n, _)| *n == role.group_name()) {
                // another application's template of the role's name: refused (the plan says so)
                Some((n, v)) if owner::check_template(role, n, &v.spec.tags).is_err() => {
                    if let Err(e) = owner::check_template(role, n, &v.spec.tags) {
                        let other = owner::app_of(&v.spec.tags).unwrap_or_default().to_string();
                        foreign_template = Some((other, e));
                    }
                    None
                }
                Some((n, v)) => Some(Live {
                    name: n.clone(),
                    version: v.number,
                    spec: v.spec.clone(),
                    template_id: Some(v.template_id.clone()),
                    versions: Vec::new(),
                    is_default: v.is_default,
                    untagged: owner::app_of(&v.spec.tags).is_none(),
                }),
                None => None,
            },
            LaunchKind::Configuration => live(c, role, g).await?,
        };
        // A template role whose group runs on a configuration: the configurations go once it
        // has switched, so the plan names them.
        let configurations = match (LaunchKind::of(role), g.map(|g| &g.launch)) {
            (LaunchKind::Template, Some(GroupLaunch::Configuration(_))) => {
                configurations(c, role).await?
            }
            _ => Vec::new(),
        };
        let target_groups: Vec<String> = role
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
        out.push(RoleSurvey {
            group: g.cloned(),
            live,
            configurations,
            subnets: subnets.clone(),
            target_groups,
            actions: actions
                .iter()
                .filter(|(gn, _)| g.is_some_and(|g| *gn == g.name))
                .map(|(_, a)| a.clone())
                .collect(),
            policies: policies
                .iter()
                .filter(|(gn, _)| g.is_some_and(|g| *gn == g.name))
                .map(|(_, p)| p.clone())
                .collect(),
            groups: groups_of(role).cloned().unwrap_or_default(),
            now: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
            foreign_template,
            drain_hook: match g {
                Some(g) if crate::model::drain::needs_read(role, Some(g)) => {
                    asg::drain_hook(c, &g.name).await?
                }
                _ => None,
            },
        });
    }
    Ok(out)
}

/// Reads what each instance of these groups was launched from (one call for all of them, none
/// when they have no instances), so the outdated counts are right.
pub async fn use_launch_tags(c: &Clients, groups: &mut [Group]) -> Result<()> {
    let ids: Vec<String> = groups
        .iter()
        .flat_map(|g| g.instances.iter().map(|i| i.id.clone()))
        .collect();
    let launched = ec2::instances(c, &ids).await?;
    for g in groups {
        g.use_launch_tags(&launched);
    }
    Ok(())
}
