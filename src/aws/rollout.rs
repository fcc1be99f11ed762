//! What `udo asg rollout` asks of AWS beyond groups themselves: terminating one instance with
//! the desired capacity decremented, the group's `udo:rollout` state tag, instance tags,
//! health in target groups and classic load balancers, and AWS instance refresh (`--native`).

use super::{Clients, error, error_code};
use crate::error::Result;
use aws_sdk_autoscaling::types::RefreshPreferences;

/// Terminates one instance of a group and lowers its desired capacity by one, so the group
/// does not launch a replacement.
pub async fn terminate_decrement(c: &Clients, instance: &str) -> Result<()> {
    match c
        .asg
        .terminate_instance_in_auto_scaling_group()
        .instance_id(instance)
        .should_decrement_desired_capacity(true)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        // ValidationError is AWS's code for any bad request, an instance no longer in a group
        // among them: it is "already on its way out" (a re-run, or AWS replaced it) only when a
        // read of the instance says so.
        Err(e) if error_code(&e) == Some("ValidationError") && is_gone(c, instance).await? => {
            Ok(())
        }
        Err(e) => Err(error(format!("terminating instance {instance}"), e)),
    }
}

/// Whether an instance has left its group or is leaving it: not known to Auto Scaling any
/// more, or in a `Terminating…`/`Terminated` lifecycle state. One DescribeAutoScalingInstances.
async fn is_gone(c: &Clients, instance: &str) -> Result<bool> {
    let out = c
        .asg
        .describe_auto_scaling_instances()
        .instance_ids(instance)
        .send()
        .await
        .map_err(|e| error(format!("reading instance {instance}"), e))?;
    Ok(out.auto_scaling_instances().iter().all(|i| {
        i.lifecycle_state()
            .is_some_and(|s| s.starts_with("Terminat"))
    }))
}

/// Tags instances (one call for all of them).
pub async fn tag_instances(c: &Clients, ids: &[String], key: &str, value: &str) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    c.ec2
        .create_tags()
        .set_resources(Some(ids.to_vec()))
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key(key)
                .value(value)
                .build(),
        )
        .send()
        .await
        .map_err(|e| error("tagging the instances to replace", e))?;
    Ok(())
}

/// One instance's health in one balancer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub id: String,
    pub healthy: bool,
    /// AWS's state and reason, for messages (`unhealthy: Target.FailedHealthChecks`).
    pub state: String,
}

/// Health of the given instances in a target group (by ARN): one call.
pub async fn target_health(c: &Clients, arn: &str, ids: &[String]) -> Result<Vec<Health>> {
    use aws_sdk_elasticloadbalancingv2::types::TargetDescription;
    let out = c
        .elb
        .describe_target_health()
        .target_group_arn(arn)
        .set_targets(Some(
            ids.iter()
                .map(|id| TargetDescription::builder().id(id).build())
                .collect(),
        ))
        .send()
        .await
        .map_err(|e| error(format!("reading target health in {arn}"), e))?;
    Ok(out
        .target_health_descriptions()
        .iter()
        .filter_map(|d| {
            let id = d.target()?.id()?.to_string();
            let h = d.target_health()?;
            let state = h.state().map(|s| s.as_str()).unwrap_or("unknown");
            Some(Health {
                id,
                healthy: state == "healthy",
                state: match h.reason() {
                    Some(r) => format!("{state}: {}", r.as_str()),
                    None => state.to_string(),
                },
            })
        })
        .collect())
}

/// Health of the given instances in a classic load balancer (by name): one call.
pub async fn classic_health(c: &Clients, name: &str, ids: &[String]) -> Result<Vec<Health>> {
    use aws_sdk_elasticloadbalancing::types::Instance;
    let out = c
        .elb_classic
        .describe_instance_health()
        .load_balancer_name(name)
        .set_instances(Some(
            ids.iter()
                .map(|id| Instance::builder().instance_id(id).build())
                .collect(),
        ))
        .send()
        .await
        .map_err(|e| {
            error(
                format!("reading instance health in load balancer {name}"),
                e,
            )
        })?;
    Ok(out
        .instance_states()
        .iter()
        .filter_map(|s| {
            let state = s.state().unwrap_or("Unknown");
            Some(Health {
                id: s.instance_id()?.to_string(),
                healthy: state == "InService",
                state: match s.reason_code().filter(|r| *r != "N/A") {
                    Some(r) => format!("{state}: {r}"),
                    None => state.to_string(),
                },
            })
        })
        .collect())
}

// ---------------------------------------------------------------- instance refresh

#[derive(Debug, Clone)]
pub struct Refresh {
    pub id: String,
    pub status: String,
    pub reason: String,
    pub percentage: i32,
}

impl Refresh {
    /// Still running: AWS has not reached an end state.
    pub fn active(&self) -> bool {
        matches!(
            self.status.as_str(),
            "Pending" | "InProgress" | "Cancelling" | "RollbackInProgress" | "Baking"
        )
    }
}

/// Starts an instance refresh; returns its id.
pub async fn start_refresh(
    c: &Clients,
    group: &str,
    min_healthy: i32,
    skip_matching: bool,
) -> Result<String> {
    let out = c
        .asg
        .start_instance_refresh()
        .auto_scaling_group_name(group)
        .preferences(
            RefreshPreferences::builder()
                .min_healthy_percentage(min_healthy)
                .skip_matching(skip_matching)
                .build(),
        )
        .send()
        .await
        .map_err(|e| error(format!("starting an instance refresh of {group}"), e))?;
    Ok(out.instance_refresh_id().unwrap_or_default().to_string())
}

/// The group's refreshes, newest first (one call; `id` narrows it to one).
pub async fn refreshes(c: &Clients, group: &str, id: Option<&str>) -> Result<Vec<Refresh>> {
    let out = c
        .asg
        .describe_instance_refreshes()
        .auto_scaling_group_name(group)
        .set_instance_refresh_ids(id.map(|i| vec![i.to_string()]))
        .max_records(if id.is_some() { 1 } else { 5 })
        .send()
        .await
        .map_err(|e| error(format!("reading instance refreshes of {group}"), e))?;
    Ok(out
        .instance_refreshes()
        .iter()
        .map(|r| Refresh {
            id: r.instance_refresh_id().unwrap_or_default().to_string(),
            status: r
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            reason: r.status_reason().unwrap_or_default().to_string(),
            percentage: r.percentage_complete().unwrap_or_default(),
        })
        .collect())
}

pub async fn cancel_refresh(c: &Clients, group: &str) -> Result<()> {
    c.asg
        .cancel_instance_refresh()
        .auto_scaling_group_name(group)
        .send()
        .await
        .map_err(|e| error(format!("cancelling the instance refresh of {group}"), e))?;
    Ok(())
}
