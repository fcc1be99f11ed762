//! Auto Scaling: groups and legacy launch configurations, looked up by exact name in batches.

use super::{Clients, error, error_code};
use crate::error::Result;
use crate::launch::{InstanceMix, LaunchSpec, Metadata, Volume, normalize_price};
/// udo's records of what Auto Scaling has, defined with the pure model (`model::live`).
pub use crate::model::live::{
    Balancer, DrainHook, Group, GroupInstance, GroupLaunch, GroupSpec, GroupUpdate, LaunchConfig,
};
use aws_sdk_autoscaling::types::{
    BlockDeviceMapping, Ebs, Filter, InstanceMaintenancePolicy, InstanceMetadataEndpointState,
    InstanceMetadataHttpTokensState, InstanceMetadataOptions, InstancesDistribution,
    LaunchTemplate, LaunchTemplateOverrides, LaunchTemplateSpecification, MixedInstancesPolicy,
    Tag,
};
use base64::Engine as _;

/// The scaling processes AWS lets you suspend and resume.
pub const PROCESSES: &[&str] = &[
    "Launch",
    "Terminate",
    "AddToLoadBalancer",
    "AlarmNotification",
    "AZRebalance",
    "HealthCheck",
    "InstanceRefresh",
    "ReplaceUnhealthy",
    "ScheduledActions",
];

/// The API's maximum for names in one DescribeAutoScalingGroups call (with MaxRecords = 100).
pub const GROUP_BATCH: usize = 100;
/// The API's maximum for names in one DescribeLaunchConfigurations call.
pub const LC_BATCH: usize = 50;

fn launch_of(
    lt: Option<&aws_sdk_autoscaling::types::LaunchTemplateSpecification>,
    lc: Option<&str>,
) -> GroupLaunch {
    if let Some(t) = lt {
        GroupLaunch::Template {
            id: t.launch_template_id().unwrap_or_default().to_string(),
            name: t.launch_template_name().unwrap_or_default().to_string(),
            version: t.version().unwrap_or_default().to_string(),
        }
    } else if let Some(name) = lc {
        GroupLaunch::Configuration(name.to_string())
    } else {
        GroupLaunch::Other
    }
}

fn mix_of(p: &MixedInstancesPolicy) -> InstanceMix {
    let d = p.instances_distribution();
    InstanceMix {
        types: p
            .launch_template()
            .map(|t| {
                t.overrides()
                    .iter()
                    .filter_map(|o| o.instance_type().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
        on_demand_base: i64::from(d.and_then(|d| d.on_demand_base_capacity()).unwrap_or(0)),
        on_demand_percent: i64::from(
            d.and_then(|d| d.on_demand_percentage_above_base_capacity())
                .unwrap_or(100),
        ),
        allocation: d
            .and_then(|d| d.spot_allocation_strategy())
            .unwrap_or("lowest-price")
            .to_string(),
        max_price: d
            .and_then(|d| d.spot_max_price())
            .filter(|p| !p.is_empty())
            .map(normalize_price),
    }
}

fn group_of(g: &aws_sdk_autoscaling::types::AutoScalingGroup) -> Group {
    let mixed = g.mixed_instances_policy();
    let template = g.launch_template().or_else(|| {
        mixed
            .and_then(|m| m.launch_template())
            .and_then(|t| t.launch_template_specification())
    });
    Group {
        name: g.auto_scaling_group_name().unwrap_or_default().to_string(),
        deleting: g.status().is_some_and(|s| s.starts_with("Delete")),
        min: g.min_size().unwrap_or_default(),
        max: g.max_size().unwrap_or_default(),
        desired: g.desired_capacity().unwrap_or_default(),
        launch: launch_of(template, g.launch_configuration_name()),
        mix: mixed.map(mix_of),
        capacity_rebalance: g.capacity_rebalance().unwrap_or(false),
        termination_policies: g.termination_policies().to_vec(),
        max_instance_lifetime: g.max_instance_lifetime().unwrap_or(0),
        maintenance: g.instance_maintenance_policy().and_then(|p| {
            match (p.min_healthy_percentage(), p.max_healthy_percentage()) {
                (Some(lo), Some(hi)) if lo >= 0 && hi >= 0 => Some((lo, hi)),
                _ => None,
            }
        }),
        instances: g
            .instances()
            .iter()
            .map(|i| GroupInstance {
                id: i.instance_id().unwrap_or_default().to_string(),
                az: i.availability_zone().unwrap_or_default().to_string(),
                lifecycle: i
                    .lifecycle_state()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                health: i.health_status().unwrap_or_default().to_string(),
                launch: launch_of(i.launch_template(), i.launch_configuration_name()),
                instance_type: i.instance_type().unwrap_or_default().to_string(),
                spot: false,
            })
            .collect(),
        subnets: g
            .vpc_zone_identifier()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        load_balancers: g.load_balancer_names().to_vec(),
        target_groups: g.target_group_arns().to_vec(),
        health_check_type: g.health_check_type().unwrap_or("EC2").to_string(),
        grace_period: g.health_check_grace_period().unwrap_or_default(),
        tags: g
            .tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        suspended: g
            .suspended_processes()
            .iter()
            .filter_map(|p| p.process_name().map(String::from))
            .collect(),
    }
}

/// Groups by exact name, batched by the API maximum; missing names are simply absent.
pub async fn groups(c: &Clients, names: &[String]) -> Result<Vec<Group>> {
    let mut out = Vec::new();
    for batch in names.chunks(GROUP_BATCH) {
        let mut token = None;
        loop {
            let page = c
                .asg
                .describe_auto_scaling_groups()
                .set_auto_scaling_group_names(Some(batch.to_vec()))
                .max_records(GROUP_BATCH as i32)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| error("looking up autoscaling groups", e))?;
            out.extend(page.auto_scaling_groups().iter().map(group_of));
            token = page.next_token().map(String::from);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(out)
}

pub async fn group(c: &Clients, name: &str) -> Result<Option<Group>> {
    Ok(groups(c, &[name.to_string()]).await?.into_iter().next())
}

/// Groups carrying all of the given tags (e.g. every group of a cluster, even roles since removed).
pub async fn groups_tagged(c: &Clients, tags: &[(&str, &str)]) -> Result<Vec<Group>> {
    let filters: Vec<Filter> = tags
        .iter()
        .map(|(k, v)| {
            Filter::builder()
                .name(format!("tag:{k}"))
                .values(*v)
                .build()
        })
        .collect();
    let mut out = Vec::new();
    let mut pages = c
        .asg
        .describe_auto_scaling_groups()
        .set_filters(Some(filters))
        .max_records(GROUP_BATCH as i32)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| error("looking up the cluster's autoscaling groups", e))?;
        out.extend(page.auto_scaling_groups().iter().map(group_of));
    }
    Ok(out)
}

// ---------------------------------------------------------------- launch configurations

/// Launch configurations by exact name, batched; never lists the account's.
pub async fn launch_configs(c: &Clients, names: &[String]) -> Result<Vec<LaunchConfig>> {
    let mut out = Vec::new();
    for batch in names.chunks(LC_BATCH) {
        let page = c
            .asg
            .describe_launch_configurations()
            .set_launch_configuration_names(Some(batch.to_vec()))
            .max_records(LC_BATCH as i32)
            .send()
            .await
            .map_err(|e| error("looking up launch configurations", e))?;
        out.extend(page.launch_configurations().iter().map(|l| {
            LaunchConfig {
                name: l
                    .launch_configuration_name()
                    .unwrap_or_default()
                    .to_string(),
                spec: LaunchSpec {
                    image_id: l.image_id().map(String::from),
                    instance_type: l.instance_type().map(String::from),
                    key_name: l.key_name().map(String::from).filter(|k| !k.is_empty()),
                    iam_profile: l.iam_instance_profile().map(String::from),
                    security_groups: l.security_groups().to_vec(),
                    user_data: l
                        .user_data()
                        .and_then(|u| base64::engine::general_purpose::STANDARD.decode(u).ok())
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default(),
                    tenancy: l.placement_tenancy().map(String::from),
                    spot_price: l.spot_price().map(normalize_price),
                    public: l.associate_public_ip_address().unwrap_or(false),
                    tags: Vec::new(),
                    metadata: l.metadata_options().map(|m| Metadata {
                        tokens_required: m.http_tokens()
                            == Some(&InstanceMetadataHttpTokensState::Required),
                        hop_limit: i64::from(m.http_put_response_hop_limit().unwrap_or(1)),
                        instance_tags: false,
                    }),
                    root_volume: None,
                    volumes: l
                        .block_device_mappings()
                        .iter()
                        .filter_map(|b| {
                            let e = b.ebs()?;
                            Some(Volume {
                                device: b.device_name().map(String::from),
                                size: e.volume_size().map(i64::from),
                                kind: e.volume_type().map(String::from),
                                iops: e.iops().map(i64::from),
                                throughput: e.throughput().map(i64::from),
                                encrypted: e.encrypted().unwrap_or(false),
                                kms_key: None,
                                delete_on_termination: e.delete_on_termination(),
                            })
                        })
                        .collect(),
                },
            }
        }));
    }
    Ok(out)
}

/// The names a role's configuration may have: `BASE`, then `BASE-v2` … `BASE-v50` (the old
/// tool's scheme), so one exact-name call finds every version.
pub fn lc_names(base: &str) -> Vec<String> {
    std::iter::once(base.to_string())
        .chain((2..=LC_BATCH).map(|v| format!("{base}-v{v}")))
        .collect()
}

/// The version number in a configuration name (`BASE` is 1).
pub fn lc_version(base: &str, name: &str) -> Option<u32> {
    if name == base {
        return Some(1);
    }
    name.strip_prefix(base)?.strip_prefix("-v")?.parse().ok()
}

pub async fn create_launch_config(c: &Clients, name: &str, spec: &LaunchSpec) -> Result<()> {
    let mappings: Vec<BlockDeviceMapping> = super::ec2::mappings(c, spec)
        .await?
        .into_iter()
        .map(|(device, v)| {
            BlockDeviceMapping::builder()
                .device_name(device)
                .ebs(
                    Ebs::builder()
                        .encrypted(v.encrypted)
                        .set_volume_size(v.size.map(|s| s as i32))
                        .set_volume_type(v.kind.clone())
                        .set_iops(v.iops.map(|i| i as i32))
                        .set_throughput(v.throughput.map(|t| t as i32))
                        .set_delete_on_termination(v.delete_on_termination)
                        .build(),
                )
                .build()
        })
        .collect();
    c.asg
        .create_launch_configuration()
        .set_block_device_mappings(Some(mappings).filter(|m| !m.is_empty()))
        .set_metadata_options(spec.metadata.as_ref().map(|m| {
            InstanceMetadataOptions::builder()
                .http_endpoint(InstanceMetadataEndpointState::Enabled)
                .http_tokens(if m.tokens_required {
                    InstanceMetadataHttpTokensState::Required
                } else {
                    InstanceMetadataHttpTokensState::Optional
                })
                .http_put_response_hop_limit(m.hop_limit as i32)
                .build()
        }))
        .launch_configuration_name(name)
        .set_image_id(spec.image_id.clone())
        .set_instance_type(spec.instance_type.clone())
        .set_key_name(spec.key_name.clone())
        .set_iam_instance_profile(spec.iam_profile.clone())
        .set_security_groups(Some(spec.security_groups.clone()).filter(|g| !g.is_empty()))
        .user_data(base64::engine::general_purpose::STANDARD.encode(&spec.user_data))
        .set_placement_tenancy(spec.tenancy.clone())
        .set_spot_price(spec.spot_price.clone())
        .associate_public_ip_address(spec.public)
        .send()
        .await
        // Configurations cannot change and udo's names are per role and version: one that
        // exists is this call's first try (its reply lost) or an interrupted run's.
        .map(drop)
        .or_else(|e| {
            super::idempotent::already_done(
                e,
                &["AlreadyExists"],
                format!("creating launch configuration {name}"),
            )
        })?;
    Ok(())
}

/// Deletes a configuration; `false` when it was already gone.
pub async fn delete_launch_config(c: &Clients, name: &str) -> Result<bool> {
    match c
        .asg
        .delete_launch_configuration()
        .launch_configuration_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if error_code(&e).is_some_and(|c| c.contains("NotFound")) => Ok(false),
        // ValidationError means a bad request of any kind, a name not found among them: it is
        // "already gone" only when a read confirms the configuration is not there.
        Err(e)
            if error_code(&e) == Some("ValidationError")
                && launch_configs(c, &[name.to_string()]).await?.is_empty() =>
        {
            Ok(false)
        }
        Err(e) => Err(error(format!("deleting launch configuration {name}"), e)),
    }
}

// ---------------------------------------------------------------- group changes

/// The mixed instances policy of a mix over a launch template.
fn mixed_policy(m: &InstanceMix, launch: &GroupLaunch) -> Option<MixedInstancesPolicy> {
    let spec = template_ref(launch)?;
    Some(
        MixedInstancesPolicy::builder()
            .launch_template(
                LaunchTemplate::builder()
                    .launch_template_specification(spec)
                    .set_overrides(Some(
                        m.types
                            .iter()
                            .map(|t| LaunchTemplateOverrides::builder().instance_type(t).build())
                            .collect(),
                    ))
                    .build(),
            )
            .instances_distribution(
                InstancesDistribution::builder()
                    .on_demand_allocation_strategy("prioritized")
                    .on_demand_base_capacity(m.on_demand_base as i32)
                    .on_demand_percentage_above_base_capacity(m.on_demand_percent as i32)
                    .spot_allocation_strategy(&m.allocation)
                    // "" clears a maximum set before (AWS then caps at the on-demand price)
                    .spot_max_price(m.max_price.clone().unwrap_or_default())
                    .build(),
            )
            .build(),
    )
}

fn maintenance_policy(m: Option<(i32, i32)>) -> InstanceMaintenancePolicy {
    // -1 for both clears the policy, as the API reference says
    let (lo, hi) = m.unwrap_or((-1, -1));
    InstanceMaintenancePolicy::builder()
        .min_healthy_percentage(lo)
        .max_healthy_percentage(hi)
        .build()
}

fn template_ref(launch: &GroupLaunch) -> Option<LaunchTemplateSpecification> {
    match launch {
        GroupLaunch::Template { name, version, .. } => Some(
            LaunchTemplateSpecification::builder()
                .launch_template_name(name)
                .version(version)
                .build(),
        ),
        _ => None,
    }
}

fn lc_ref(launch: &GroupLaunch) -> Option<String> {
    match launch {
        GroupLaunch::Configuration(n) => Some(n.clone()),
        _ => None,
    }
}

fn group_tag(group: &str, k: &str, v: &str) -> Tag {
    Tag::builder()
        .resource_id(group)
        .resource_type("auto-scaling-group")
        .key(k)
        .value(v)
        .propagate_at_launch(true)
        .build()
}

/// Creates the group with its tags in the same call.
pub async fn create_group(c: &Clients, spec: &GroupSpec) -> Result<()> {
    let launch = spec.launch.clone().unwrap_or(GroupLaunch::Other);
    let res = c
        .asg
        .create_auto_scaling_group()
        .auto_scaling_group_name(&spec.name)
        .min_size(spec.min)
        .max_size(spec.max)
        .set_desired_capacity(spec.desired)
        .set_launch_template(match spec.mix {
            Some(_) => None,
            None => template_ref(&launch),
        })
        .set_mixed_instances_policy(spec.mix.as_ref().and_then(|m| mixed_policy(m, &launch)))
        .set_launch_configuration_name(lc_ref(&launch))
        .set_capacity_rebalance(Some(spec.capacity_rebalance).filter(|c| *c))
        .set_termination_policies(
            Some(spec.termination_policies.clone()).filter(|t| !t.is_empty() && *t != ["Default"]),
        )
        .set_max_instance_lifetime(Some(spec.max_instance_lifetime).filter(|l| *l > 0))
        .set_instance_maintenance_policy(spec.maintenance.map(|m| maintenance_policy(Some(m))))
        .set_vpc_zone_identifier(Some(spec.subnets.join(",")).filter(|s| !s.is_empty()))
        .set_availability_zones(
            Some(spec.zones.clone()).filter(|z| !z.is_empty() && spec.subnets.is_empty()),
        )
        .set_load_balancer_names(Some(spec.load_balancers.clone()).filter(|v| !v.is_empty()))
        .set_target_group_arns(Some(spec.target_groups.clone()).filter(|v| !v.is_empty()))
        .set_health_check_type(spec.health_check_type.clone())
        .set_health_check_grace_period(spec.grace_period)
        .set_tags(Some(
            spec.tags
                .iter()
                .map(|(k, v)| group_tag(&spec.name, k, v))
                .chain(
                    spec.state_tags
                        .iter()
                        .map(|(k, v)| state_tag(&spec.name, k, v)),
                )
                .collect(),
        ))
        .send()
        .await;
    match res {
        Ok(_) => Ok(()),
        // The first try made it and its reply was lost: carry on when the group is udo's
        // (it carries the app tag the create sent), else the name is taken.
        Err(e) if error_code(&e) == Some("AlreadyExists") => {
            let app = spec.tags.iter().find(|(k, _)| k == "udo:app");
            match group(c, &spec.name).await? {
                Some(g) if app.is_some_and(|a| g.tags.contains(a)) => Ok(()),
                _ => Err(error(
                    format!("creating autoscaling group {}", spec.name),
                    e,
                )),
            }
        }
        Err(e) => Err(error(
            format!("creating autoscaling group {}", spec.name),
            e,
        )),
    }
}

pub async fn update_group(c: &Clients, name: &str, u: &GroupUpdate) -> Result<()> {
    c.asg
        .update_auto_scaling_group()
        .auto_scaling_group_name(name)
        .set_min_size(u.min)
        .set_max_size(u.max)
        .set_desired_capacity(u.desired)
        .set_launch_template(match &u.mix {
            Some(Some(_)) => None,
            _ => u.launch.as_ref().and_then(template_ref),
        })
        .set_mixed_instances_policy(match (&u.mix, &u.launch) {
            (Some(Some(m)), Some(l)) => mixed_policy(m, l),
            _ => None,
        })
        .set_launch_configuration_name(u.launch.as_ref().and_then(lc_ref))
        .set_capacity_rebalance(u.capacity_rebalance)
        .set_termination_policies(u.termination_policies.clone())
        .set_max_instance_lifetime(u.max_instance_lifetime)
        .set_instance_maintenance_policy(u.maintenance.map(maintenance_policy))
        .set_vpc_zone_identifier(u.subnets.as_ref().map(|s| s.join(",")))
        .set_health_check_type(u.health_check_type.clone())
        .set_health_check_grace_period(u.grace_period)
        .send()
        .await
        .map_err(|e| error(format!("updating autoscaling group {name}"), e))?;
    Ok(())
}

pub async fn set_tags(c: &Clients, name: &str, tags: &[(String, String)]) -> Result<()> {
    c.asg
        .create_or_update_tags()
        .set_tags(Some(
            tags.iter().map(|(k, v)| group_tag(name, k, v)).collect(),
        ))
        .send()
        .await
        .map_err(|e| error(format!("tagging autoscaling group {name}"), e))?;
    Ok(())
}

fn state_tag(group: &str, k: &str, v: &str) -> Tag {
    Tag::builder()
        .resource_id(group)
        .resource_type("auto-scaling-group")
        .key(k)
        .value(v)
        .propagate_at_launch(false)
        .build()
}

/// Sets tags that hold udo's own state on a group (an unfinished rollout, suspended
/// processes): new instances do not inherit them. One call for all of them.
pub async fn set_state_tags(c: &Clients, name: &str, tags: &[(String, String)]) -> Result<()> {
    c.asg
        .create_or_update_tags()
        .set_tags(Some(
            tags.iter().map(|(k, v)| state_tag(name, k, v)).collect(),
        ))
        .send()
        .await
        .map_err(|e| error(format!("tagging autoscaling group {name}"), e))?;
    Ok(())
}

/// [`set_state_tags`] on several groups in one call, in the order given: (group, key, value).
pub async fn set_state_tags_of(c: &Clients, tags: &[(String, String, String)]) -> Result<()> {
    c.asg
        .create_or_update_tags()
        .set_tags(Some(
            tags.iter().map(|(g, k, v)| state_tag(g, k, v)).collect(),
        ))
        .send()
        .await
        .map_err(|e| error("tagging autoscaling groups", e))?;
    Ok(())
}

/// Removes tags from a group (one call; a tag that is not there is no error).
pub async fn delete_tags(c: &Clients, name: &str, keys: &[&str]) -> Result<()> {
    c.asg
        .delete_tags()
        .set_tags(Some(
            keys.iter()
                .map(|k| {
                    Tag::builder()
                        .resource_id(name)
                        .resource_type("auto-scaling-group")
                        .key(*k)
                        .build()
                })
                .collect(),
        ))
        .send()
        .await
        .map_err(|e| error(format!("removing tags {} from {name}", keys.join(", ")), e))?;
    Ok(())
}

/// Attaches (or with `attach: false`, detaches) balancers of one kind to a group. A refusal
/// when the group already is as asked (a retry whose first reply was lost, or a re-run) is
/// done: the group is read to tell.
pub async fn attach(
    c: &Clients,
    name: &str,
    kind: Balancer,
    items: &[String],
    attach: bool,
) -> Result<()> {
    match attach_once(c, name, kind, items, attach).await {
        Ok(()) => Ok(()),
        Err(e) => {
            let Some(g) = group(c, name).await? else {
                return Err(e);
            };
            let have = match kind {
                Balancer::Classic => &g.load_balancers,
                Balancer::TargetGroup => &g.target_groups,
            };
            if items.iter().all(|i| have.contains(i) == attach) {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
}

async fn attach_once(
    c: &Clients,
    name: &str,
    kind: Balancer,
    items: &[String],
    attach: bool,
) -> Result<()> {
    let context = format!(
        "{} {} of {name}",
        if attach { "attaching" } else { "detaching" },
        kind.noun()
    );
    let items = Some(items.to_vec());
    match (kind, attach) {
        (Balancer::Classic, true) => {
            c.asg
                .attach_load_balancers()
                .auto_scaling_group_name(name)
                .set_load_balancer_names(items)
                .send()
                .await
                .map_err(|e| error(context, e))?;
        }
        (Balancer::Classic, false) => {
            c.asg
                .detach_load_balancers()
                .auto_scaling_group_name(name)
                .set_load_balancer_names(items)
                .send()
                .await
                .map_err(|e| error(context, e))?;
        }
        (Balancer::TargetGroup, true) => {
            c.asg
                .attach_load_balancer_target_groups()
                .auto_scaling_group_name(name)
                .set_target_group_arns(items)
                .send()
                .await
                .map_err(|e| error(context, e))?;
        }
        (Balancer::TargetGroup, false) => {
            c.asg
                .detach_load_balancer_target_groups()
                .auto_scaling_group_name(name)
                .set_target_group_arns(items)
                .send()
                .await
                .map_err(|e| error(context, e))?;
        }
    }
    Ok(())
}

pub async fn set_desired(c: &Clients, name: &str, desired: i32) -> Result<()> {
    c.asg
        .set_desired_capacity()
        .auto_scaling_group_name(name)
        .desired_capacity(desired)
        .honor_cooldown(false)
        .send()
        .await
        .map_err(|e| error(format!("setting the desired capacity of {name}"), e))?;
    Ok(())
}

/// Deletes a group; `false` when it was already gone.
pub async fn delete_group(c: &Clients, name: &str) -> Result<bool> {
    match c
        .asg
        .delete_auto_scaling_group()
        .auto_scaling_group_name(name)
        .force_delete(false)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if error_code(&e).is_some_and(|c| c.contains("NotFound")) => Ok(false),
        // AWS answers a name not found with ValidationError, its code for any bad request: a
        // read tells whether the group is really gone.
        Err(e) if error_code(&e) == Some("ValidationError") && group(c, name).await?.is_none() => {
            Ok(false)
        }
        Err(e) => Err(error(format!("deleting autoscaling group {name}"), e)),
    }
}

/// Deletes a group with its instances (ForceDelete: AWS terminates them, whatever processes
/// are suspended); `false` when it was already gone.
pub async fn force_delete_group(c: &Clients, name: &str) -> Result<bool> {
    match c
        .asg
        .delete_auto_scaling_group()
        .auto_scaling_group_name(name)
        .force_delete(true)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if error_code(&e).is_some_and(|c| c.contains("NotFound")) => Ok(false),
        Err(e) if error_code(&e) == Some("ValidationError") && group(c, name).await?.is_none() => {
            Ok(false)
        }
        Err(e) => Err(error(format!("deleting autoscaling group {name}"), e)),
    }
}

// ---------------------------------------------------------------- drain hook

/// The group's `udo-drain` hook, read by name (one call); `None` when it has none.
pub async fn drain_hook(c: &Clients, group: &str) -> Result<Option<DrainHook>> {
    let out = c
        .asg
        .describe_lifecycle_hooks()
        .auto_scaling_group_name(group)
        .lifecycle_hook_names(crate::model::drain::HOOK)
        .send()
        .await
        .map_err(|e| error(format!("reading the lifecycle hooks of {group}"), e))?;
    Ok(out
        .lifecycle_hooks()
        .iter()
        .find(|h| h.lifecycle_hook_name() == Some(crate::model::drain::HOOK))
        .map(|h| DrainHook {
            heartbeat: h.heartbeat_timeout().unwrap_or(3600),
            default_result: h.default_result().unwrap_or("ABANDON").to_string(),
            transition: h.lifecycle_transition().unwrap_or_default().to_string(),
        }))
}

/// Creates or updates the `udo-drain` termination hook (PutLifecycleHook does both; safe to
/// repeat): an instance AWS terminates waits up to `heartbeat` seconds for its drain unit.
pub async fn put_drain_hook(c: &Clients, group: &str, heartbeat: i64) -> Result<()> {
    c.asg
        .put_lifecycle_hook()
        .auto_scaling_group_name(group)
        .lifecycle_hook_name(crate::model::drain::HOOK)
        .lifecycle_transition("autoscaling:EC2_INSTANCE_TERMINATING")
        .heartbeat_timeout(heartbeat as i32)
        .default_result("CONTINUE")
        .send()
        .await
        .map_err(|e| error(format!("putting lifecycle hook udo-drain on {group}"), e))?;
    Ok(())
}

/// Deletes the `udo-drain` hook; `false` when it was already gone.
pub async fn delete_drain_hook(c: &Clients, group: &str) -> Result<bool> {
    match c
        .asg
        .delete_lifecycle_hook()
        .auto_scaling_group_name(group)
        .lifecycle_hook_name(crate::model::drain::HOOK)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        // AWS answers a hook that is not there (a retried delete whose reply was lost) with
        // ValidationError, as it does for other faults: a read tells them apart.
        Err(e) if error_code(&e) == Some("ValidationError") => match drain_hook(c, group).await? {
            None => Ok(false),
            Some(_) => Err(error(
                format!("deleting lifecycle hook udo-drain of {group}"),
                e,
            )),
        },
        Err(e) => Err(error(
            format!("deleting lifecycle hook udo-drain of {group}"),
            e,
        )),
    }
}

pub async fn suspend(c: &Clients, name: &str, processes: &[String]) -> Result<()> {
    c.asg
        .suspend_processes()
        .auto_scaling_group_name(name)
        .set_scaling_processes(Some(processes.to_vec()).filter(|p| !p.is_empty()))
        .send()
        .await
        .map_err(|e| error(format!("suspending processes of {name}"), e))?;
    Ok(())
}

pub async fn resume(c: &Clients, name: &str, processes: &[String]) -> Result<()> {
    c.asg
        .resume_processes()
        .auto_scaling_group_name(name)
        .set_scaling_processes(Some(processes.to_vec()).filter(|p| !p.is_empty()))
        .send()
        .await
        .map_err(|e| error(format!("resuming processes of {name}"), e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_versions() {
        let names = lc_names("dev-web");
        assert_eq!(names.len(), LC_BATCH);
        assert_eq!(names[0], "dev-web");
        assert_eq!(names[1], "dev-web-v2");
        assert_eq!(lc_version("dev-web", "dev-web"), Some(1));
        assert_eq!(lc_version("dev-web", "dev-web-v7"), Some(7));
        assert_eq!(lc_version("dev-web", "dev-webapp"), None);
        assert_eq!(lc_version("dev-web", "dev-web-vx"), None);
    }
}
