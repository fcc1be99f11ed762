//! Survey: what AWS has for a role (or many), read with as few calls as possible. Each read
//! returns udo's own types; the diffs are made in `model`.

use crate::aws::asg::{self, Group, GroupLaunch, GroupSpec};
use crate::aws::{Clients, ec2, elb, scaling as aws_scaling};
use crate::config::Role;
use crate::context::Ctx;
use crate::engine::owner;
use crate::error::{Error, Result};
use crate::launch::{LaunchKind, LaunchSpec};
use crate::model::group::group_spec;
use crate::model::launch_step::Live;
use crate::model::scaling::{ScalingChanges, changes, needs_read};
use crate::schedule::{Action, Policy};

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

/// The group udo.yml describes, with subnets and target groups resolved (one call each, only
/// when names or CIDRs need resolving).
pub async fn desired_group(c: &Clients, role: &Role) -> Result<GroupSpec> {
    let tgs: Vec<String> = role
        .settings
        .list("target_groups")
        .into_iter()
        .map(String::from)
        .collect();
    let subnets = super::network::resolve_subnets(c, role).await?;
    let target_groups = if tgs.is_empty() {
        tgs
    } else {
        elb::target_group_arns(c, &tgs).await?
    };
    Ok(group_spec(role, subnets, target_groups))
}

/// Reads what is needed of one group (0–2 calls) and diffs it. `None` for a group that does
/// not exist yet: everything udo.yml lists is to be added.
pub async fn scaling_changes(
    c: &Clients,
    role: &Role,
    g: Option<&Group>,
) -> Result<ScalingChanges> {
    let Some(g) = g else {
        return Ok(changes(role, &[], &[]));
    };
    let (read_actions, read_policies) = needs_read(role, Some(g));
    let names = [g.name.clone()];
    let actions: Vec<Action> = if read_actions {
        aws_scaling::actions(c, &names)
            .await?
            .into_iter()
            .map(|(_, a)| a)
            .collect()
    } else {
        Vec::new()
    };
    let policies: Vec<Policy> = if read_policies {
        aws_scaling::policies(c, &names)
            .await?
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    } else {
        Vec::new()
    };
    Ok(changes(role, &actions, &policies))
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
