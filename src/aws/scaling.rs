//! Auto Scaling scheduled actions and scaling policies, read for many groups at once and
//! written one by one, as udo's own types (`schedule::Action`, `schedule::Policy`).
//!
//! DescribeScheduledActions and DescribePolicies take at most one group name. For one group
//! udo asks by name; for several it makes one paginated call without a group name and keeps
//! the groups asked about, which is how `udo plan` reads 20 roles' schedules in one call
//! instead of 20.

use super::{Clients, error, error_code};
use crate::error::Result;
use crate::schedule::{self, Action, Policy};
use aws_sdk_autoscaling::types::{
    MetricType, PredefinedMetricSpecification, TargetTrackingConfiguration,
};

/// The largest page DescribeScheduledActions and DescribePolicies return.
const PAGE: i32 = 100;

/// Scheduled actions of the given groups, as (group, action).
pub async fn actions(c: &Clients, groups: &[String]) -> Result<Vec<(String, Action)>> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let one = (groups.len() == 1).then(|| groups[0].clone());
    let mut pages = c
        .asg
        .describe_scheduled_actions()
        .set_auto_scaling_group_name(one)
        .max_records(PAGE)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| error("reading scheduled actions", e))?;
        for a in page.scheduled_update_group_actions() {
            let group = a.auto_scaling_group_name().unwrap_or_default();
            if !groups.iter().any(|g| g == group) {
                continue;
            }
            out.push((
                group.to_string(),
                Action {
                    name: a.scheduled_action_name().unwrap_or_default().to_string(),
                    recurrence: a.recurrence().map(String::from),
                    min: a.min_size(),
                    max: a.max_size(),
                    desired: a.desired_capacity(),
                    time_zone: a.time_zone().map(String::from),
                },
            ));
        }
    }
    Ok(out)
}

/// Creates or replaces a recurring scheduled action.
pub async fn put_action(c: &Clients, group: &str, a: &Action) -> Result<()> {
    c.asg
        .put_scheduled_update_group_action()
        .auto_scaling_group_name(group)
        .scheduled_action_name(&a.name)
        .set_recurrence(a.recurrence.clone())
        .set_min_size(a.min)
        .set_max_size(a.max)
        .set_desired_capacity(a.desired)
        .set_time_zone(a.time_zone.clone())
        .send()
        .await
        .map_err(|e| error(format!("setting scheduled action {} of {group}", a.name), e))?;
    Ok(())
}

/// Deletes a scheduled action; `false` when it was already gone.
pub async fn delete_action(c: &Clients, group: &str, name: &str) -> Result<bool> {
    match c
        .asg
        .delete_scheduled_action()
        .auto_scaling_group_name(group)
        .scheduled_action_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if error_code(&e).is_some_and(|c| c.contains("NotFound")) => Ok(false),
        Err(e) => Err(error(
            format!("deleting scheduled action {name} of {group}"),
            e,
        )),
    }
}

/// Scaling policies of the given groups, as (group, policy).
pub async fn policies(c: &Clients, groups: &[String]) -> Result<Vec<(String, Policy)>> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let one = (groups.len() == 1).then(|| groups[0].clone());
    let mut pages = c
        .asg
        .describe_policies()
        .set_auto_scaling_group_name(one)
        .max_records(PAGE)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| error("reading scaling policies", e))?;
        for p in page.scaling_policies() {
            let group = p.auto_scaling_group_name().unwrap_or_default();
            if !groups.iter().any(|g| g == group) {
                continue;
            }
            let tt = p.target_tracking_configuration();
            let metric = tt
                .and_then(|t| t.predefined_metric_specification())
                .and_then(|m| m.predefined_metric_type())
                .map(|m| schedule::config_metric(m.as_str()))
                .or_else(|| {
                    tt.and_then(|t| t.customized_metric_specification())
                        .and_then(|m| m.metric_name())
                        .map(String::from)
                })
                .unwrap_or_else(|| "-".into());
            let summary = match (p.adjustment_type(), p.scaling_adjustment()) {
                (Some(t), Some(n)) => format!("{n} ({t})"),
                (_, Some(n)) => n.to_string(),
                _ => {
                    let alarms: Vec<&str> =
                        p.alarms().iter().filter_map(|a| a.alarm_name()).collect();
                    if alarms.is_empty() {
                        String::new()
                    } else {
                        format!("alarms {}", alarms.join(","))
                    }
                }
            };
            out.push((
                group.to_string(),
                Policy {
                    name: p.policy_name().unwrap_or_default().to_string(),
                    kind: p.policy_type().unwrap_or("SimpleScaling").to_string(),
                    metric,
                    target: tt.and_then(|t| t.target_value()),
                    warmup: p.estimated_instance_warmup(),
                    disable_scale_in: tt.and_then(|t| t.disable_scale_in()).unwrap_or(false),
                    summary,
                },
            ));
        }
    }
    Ok(out)
}

/// Creates or replaces a target tracking policy. `resource_label` is needed (and only
/// accepted) for `alb_requests`: see `alb_resource_label`.
pub async fn put_policy(
    c: &Clients,
    group: &str,
    p: &Policy,
    resource_label: Option<String>,
) -> Result<()> {
    let metric =
        schedule::aws_metric(&p.metric).ok_or_else(|| crate::failure::Failure::UnknownMetric {
            policy: p.name.clone(),
            metric: p.metric.clone(),
        })?;
    c.asg
        .put_scaling_policy()
        .auto_scaling_group_name(group)
        .policy_name(&p.name)
        .policy_type(schedule::TARGET_TRACKING)
        .set_estimated_instance_warmup(p.warmup)
        .target_tracking_configuration(
            TargetTrackingConfiguration::builder()
                .predefined_metric_specification(
                    PredefinedMetricSpecification::builder()
                        .predefined_metric_type(MetricType::from(metric))
                        .set_resource_label(resource_label)
                        .build(),
                )
                .set_target_value(p.target)
                .disable_scale_in(p.disable_scale_in)
                .build(),
        )
        .send()
        .await
        .map_err(|e| error(format!("setting scaling policy {} of {group}", p.name), e))?;
    Ok(())
}

/// Deletes a scaling policy; `false` when it was already gone.
pub async fn delete_policy(c: &Clients, group: &str, name: &str) -> Result<bool> {
    match c
        .asg
        .delete_policy()
        .auto_scaling_group_name(group)
        .policy_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if error_code(&e).is_some_and(|c| c.contains("NotFound")) => Ok(false),
        Err(e) => Err(error(
            format!("deleting scaling policy {name} of {group}"),
            e,
        )),
    }
}

/// The `ResourceLabel` AWS wants for `ALBRequestCountPerTarget`:
/// `app/LB-NAME/LB-ID/targetgroup/TG-NAME/TG-ID`, from the target group's ARN and the ARN of
/// the load balancer in front of it (one DescribeTargetGroups call).
pub async fn alb_resource_label(c: &Clients, target_group_arn: &str) -> Result<String> {
    let out = c
        .elb
        .describe_target_groups()
        .target_group_arns(target_group_arn)
        .send()
        .await
        .map_err(|e| error("looking up the target group's load balancer", e))?;
    let lb = out
        .target_groups()
        .first()
        .and_then(|t| t.load_balancer_arns().first())
        .ok_or_else(|| crate::failure::Failure::NotBehindBalancer {
            target_group: target_group_arn.to_string(),
        })?;
    resource_label(lb, target_group_arn).ok_or_else(|| {
        crate::failure::Failure::NoResourceLabel {
            balancer: lb.to_string(),
            target_group: target_group_arn.to_string(),
        }
        .into()
    })
}

/// `app/…/targetgroup/…` from a load balancer ARN and a target group ARN.
fn resource_label(lb_arn: &str, tg_arn: &str) -> Option<String> {
    let lb = lb_arn.split_once(":loadbalancer/")?.1;
    let tg = tg_arn.rsplit_once(':')?.1;
    tg.starts_with("targetgroup/").then(|| format!("{lb}/{tg}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_labels() {
        assert_eq!(
            resource_label(
                "arn:aws:elasticloadbalancing:us-east-1:123:loadbalancer/app/web/50dc6c495c0c9188",
                "arn:aws:elasticloadbalancing:us-east-1:123:targetgroup/web-tg/943f017f100becff"
            )
            .as_deref(),
            Some("app/web/50dc6c495c0c9188/targetgroup/web-tg/943f017f100becff")
        );
        assert_eq!(resource_label("nonsense", "arn:x:targetgroup/a/b"), None);
    }
}
