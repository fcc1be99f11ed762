//! CodeDeploy: applications, deployment groups and deployments, as udo's own types.
//!
//! Every function is one call (or one page loop) so commands can be held to call budgets.

use super::{Clients, error, error_code};
use crate::error::Result;
use aws_sdk_codedeploy::types::{
    AutoRollbackConfiguration, AutoRollbackEvent, BundleType, ComputePlatform, GitHubLocation,
    RevisionLocation, RevisionLocationType, S3Location, TargetFilterName, TargetStatus,
};

/// What a deployment deploys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revision {
    GitHub {
        repo: String,
        commit: String,
    },
    S3 {
        bucket: String,
        key: String,
        bundle: Bundle,
        etag: Option<String>,
    },
}

/// The archive format of an S3 revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bundle {
    Zip,
    Tar,
    Tgz,
}

impl Revision {
    /// Short text for messages: a commit's first 10 characters, or the S3 key.
    pub fn short(&self) -> String {
        match self {
            Revision::GitHub { commit, .. } => commit.chars().take(10).collect(),
            Revision::S3 { bucket, key, .. } => format!("s3://{bucket}/{key}"),
        }
    }

    /// The revision as a deployment read back names it (`repo@commit`, `s3://bucket/key`).
    pub fn describe(&self) -> String {
        describe_location(Some(&self.location()))
    }

    fn location(&self) -> RevisionLocation {
        match self {
            Revision::GitHub { repo, commit } => RevisionLocation::builder()
                .revision_type(RevisionLocationType::GitHub)
                .git_hub_location(
                    GitHubLocation::builder()
                        .repository(repo)
                        .commit_id(commit)
                        .build(),
                )
                .build(),
            Revision::S3 {
                bucket,
                key,
                bundle,
                etag,
            } => RevisionLocation::builder()
                .revision_type(RevisionLocationType::S3)
                .s3_location(
                    S3Location::builder()
                        .bucket(bucket)
                        .key(key)
                        .bundle_type(match bundle {
                            Bundle::Zip => BundleType::Zip,
                            Bundle::Tar => BundleType::Tar,
                            Bundle::Tgz => BundleType::TarGZip,
                        })
                        .set_e_tag(etag.clone())
                        .build(),
                )
                .build(),
        }
    }
}

fn describe_location(r: Option<&RevisionLocation>) -> String {
    let Some(r) = r else {
        return String::new();
    };
    if let Some(g) = r.git_hub_location() {
        return format!(
            "{}@{}",
            g.repository().unwrap_or_default(),
            g.commit_id().unwrap_or_default()
        );
    }
    if let Some(s) = r.s3_location() {
        return format!(
            "s3://{}/{}",
            s.bucket().unwrap_or_default(),
            s.key().unwrap_or_default()
        );
    }
    String::new()
}

/// A deployment group as udo compares it with udo.yml.
#[derive(Debug, Clone, Default)]
pub struct Group {
    pub autoscaling_groups: Vec<String>,
    pub service_role: Option<String>,
    pub config: Option<String>,
    pub auto_rollback: bool,
    /// The latest deployment's id, as AWS records it on the group.
    pub last_deployment: Option<String>,
}

/// The settings udo gives a deployment group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupSpec {
    pub name: String,
    pub autoscaling_group: String,
    pub service_role: Option<String>,
    pub config: Option<String>,
    pub auto_rollback: Option<bool>,
}

impl GroupSpec {
    /// The autoscaling groups the deployment group should deploy to: the ones it has (groups
    /// attached by hand or by another tool stay: removing one would silently take its
    /// capacity out of every deployment) and the role's.
    pub fn autoscaling_groups(&self, live: Option<&Group>) -> Vec<String> {
        let mut out: Vec<String> = live
            .map(|g| g.autoscaling_groups.clone())
            .unwrap_or_default();
        if !out.contains(&self.autoscaling_group) {
            out.push(self.autoscaling_group.clone());
        }
        out
    }

    /// What differs between a live group and this spec, one phrase each (empty: it matches).
    pub fn diff(&self, live: &Group) -> Vec<String> {
        let mut out = Vec::new();
        if !live.autoscaling_groups.contains(&self.autoscaling_group) {
            out.push(format!(
                "autoscaling groups [{}] -> [{}]",
                live.autoscaling_groups.join(", "),
                self.autoscaling_groups(Some(live)).join(", ")
            ));
        }
        if let Some(role) = &self.service_role
            && live.service_role.as_deref() != Some(role.as_str())
        {
            out.push(format!(
                "service role {} -> {role}",
                live.service_role.as_deref().unwrap_or("(none)")
            ));
        }
        if let Some(config) = &self.config
            && live.config.as_deref() != Some(config.as_str())
        {
            out.push(format!(
                "deployment config {} -> {config}",
                live.config.as_deref().unwrap_or("(none)")
            ));
        }
        if let Some(rollback) = self.auto_rollback
            && live.auto_rollback != rollback
        {
            out.push(format!(
                "auto rollback {} -> {rollback}",
                live.auto_rollback
            ));
        }
        out
    }

    fn rollback(&self) -> Option<AutoRollbackConfiguration> {
        self.auto_rollback.map(|on| {
            let b = AutoRollbackConfiguration::builder().enabled(on);
            if on {
                b.events(AutoRollbackEvent::DeploymentFailure)
                    .events(AutoRollbackEvent::DeploymentStopOnRequest)
                    .build()
            } else {
                b.build()
            }
        })
    }
}

/// Instance counts of a deployment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Overview {
    pub pending: i64,
    pub in_progress: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub skipped: i64,
}

/// One deployment.
#[derive(Debug, Clone, Default)]
pub struct Deployment {
    pub id: String,
    pub application: String,
    pub group: String,
    pub status: String,
    pub revision: String,
    /// The ETag an S3 revision was deployed with.
    pub etag: Option<String>,
    pub creator: String,
    pub create_time: Option<i64>,
    pub complete_time: Option<i64>,
    pub overview: Overview,
    /// The deployment's own error: code and message.
    pub error: Option<String>,
    /// The deployment's error code alone (`NO_INSTANCES`, `HEALTH_CONSTRAINTS`, …).
    pub error_code: Option<String>,
    pub description: String,
}

/// A failed instance and the lifecycle event that failed on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceFailure {
    pub instance: String,
    pub event: String,
    pub message: String,
}

/// The deployment group, `None` when it (or its application) does not exist.
pub async fn group(c: &Clients, app: &str, name: &str) -> Result<Option<Group>> {
    let out = c
        .codedeploy
        .get_deployment_group()
        .application_name(app)
        .deployment_group_name(name)
        .send()
        .await;
    let out = match out {
        Ok(o) => o,
        Err(e)
            if matches!(
                error_code(&e),
                Some("ApplicationDoesNotExistException" | "DeploymentGroupDoesNotExistException")
            ) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(error(format!("reading deployment group {name}"), e)),
    };
    let Some(g) = out.deployment_group_info() else {
        return Ok(None);
    };
    Ok(Some(Group {
        autoscaling_groups: g
            .auto_scaling_groups()
            .iter()
            .filter_map(|a| a.name().map(str::to_string))
            .collect(),
        service_role: g.service_role_arn().map(str::to_string),
        config: g.deployment_config_name().map(str::to_string),
        auto_rollback: g.auto_rollback_configuration().is_some_and(|r| r.enabled()),
        last_deployment: g
            .last_attempted_deployment()
            .and_then(|d| d.deployment_id())
            .map(str::to_string),
    }))
}

/// Whether the application exists.
pub async fn application_exists(c: &Clients, app: &str) -> Result<bool> {
    match c
        .codedeploy
        .get_application()
        .application_name(app)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if error_code(&e) == Some("ApplicationDoesNotExistException") => Ok(false),
        Err(e) => Err(error(format!("reading application {app}"), e)),
    }
}

/// Creates an EC2/on-premises application; an application that already exists is fine.
pub async fn create_application(c: &Clients, app: &str) -> Result<bool> {
    match c
        .codedeploy
        .create_application()
        .application_name(app)
        .compute_platform(ComputePlatform::Server)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if error_code(&e) == Some("ApplicationAlreadyExistsException") => Ok(false),
        Err(e) => Err(error(format!("creating application {app}"), e)),
    }
}

pub async fn create_group(c: &Clients, app: &str, spec: &GroupSpec) -> Result<()> {
    c.codedeploy
        .create_deployment_group()
        .application_name(app)
        .deployment_group_name(&spec.name)
        .auto_scaling_groups(&spec.autoscaling_group)
        .set_service_role_arn(spec.service_role.clone())
        .set_deployment_config_name(spec.config.clone())
        .set_auto_rollback_configuration(spec.rollback())
        .send()
        .await
        .map(drop)
        // Made by this call's first try (its reply lost): the next deploy compares and updates.
        .or_else(|e| {
            super::idempotent::already_done(
                e,
                &["DeploymentGroupAlreadyExistsException"],
                format!("creating deployment group {}", spec.name),
            )
        })?;
    Ok(())
}

/// Updates the group to the spec; `autoscaling_groups` is the whole list it deploys to (AWS
/// replaces the list).
pub async fn update_group(
    c: &Clients,
    app: &str,
    spec: &GroupSpec,
    autoscaling_groups: &[String],
) -> Result<()> {
    c.codedeploy
        .update_deployment_group()
        .application_name(app)
        .current_deployment_group_name(&spec.name)
        .set_auto_scaling_groups(Some(autoscaling_groups.to_vec()))
        .set_service_role_arn(spec.service_role.clone())
        .set_deployment_config_name(spec.config.clone())
        .set_auto_rollback_configuration(spec.rollback())
        .send()
        .await
        .map_err(|e| error(format!("updating deployment group {}", spec.name), e))?;
    Ok(())
}

/// Starts a deployment; returns its id.
pub async fn create_deployment(
    c: &Clients,
    app: &str,
    group: &str,
    revision: &Revision,
    description: &str,
) -> Result<String> {
    let out = c
        .codedeploy
        .create_deployment()
        .application_name(app)
        .deployment_group_name(group)
        .revision(revision.location())
        .description(description)
        .send()
        .await
        .map_err(|e| error(format!("creating a deployment to {group}"), e))?;
    Ok(out.deployment_id().unwrap_or_default().to_string())
}

/// One deployment's state (one call).
pub async fn deployment(c: &Clients, id: &str) -> Result<Deployment> {
    let out = c
        .codedeploy
        .get_deployment()
        .deployment_id(id)
        .send()
        .await
        .map_err(|e| error(format!("reading deployment {id}"), e))?;
    let d = out
        .deployment_info()
        .ok_or_else(|| crate::failure::Failure::NoDeploymentInfo { id: id.to_string() })?;
    let o = d.deployment_overview();
    Ok(Deployment {
        id: d.deployment_id().unwrap_or(id).to_string(),
        application: d.application_name().unwrap_or_default().to_string(),
        group: d.deployment_group_name().unwrap_or_default().to_string(),
        status: d
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        revision: describe_location(d.revision()),
        etag: d
            .revision()
            .and_then(|r| r.s3_location())
            .and_then(|s| s.e_tag())
            .map(str::to_string),
        creator: d
            .creator()
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
        create_time: d.create_time().map(|t| t.secs()),
        complete_time: d.complete_time().map(|t| t.secs()),
        overview: Overview {
            pending: o.map_or(0, |o| o.pending()),
            in_progress: o.map_or(0, |o| o.in_progress()),
            succeeded: o.map_or(0, |o| o.succeeded()),
            failed: o.map_or(0, |o| o.failed()),
            skipped: o.map_or(0, |o| o.skipped()),
        },
        error_code: d
            .error_information()
            .and_then(|e| e.code())
            .map(|c| c.as_str().to_string()),
        description: d.description().unwrap_or_default().to_string(),
        error: d.error_information().and_then(|e| {
            let code = e.code().map(|c| c.as_str().to_string());
            let msg = e.message().map(str::to_string);
            match (code, msg) {
                (Some(c), Some(m)) => Some(format!("{c}: {m}")),
                (Some(c), None) => Some(c),
                (None, Some(m)) => Some(m),
                (None, None) => None,
            }
        }),
    })
}

/// Deployment ids of a group; `active` keeps only those not yet finished.
pub async fn list_deployments(
    c: &Clients,
    app: &str,
    group: &str,
    active: bool,
) -> Result<Vec<String>> {
    use aws_sdk_codedeploy::types::DeploymentStatus as S;
    let mut req = c
        .codedeploy
        .list_deployments()
        .application_name(app)
        .deployment_group_name(group);
    if active {
        for s in [S::Created, S::Queued, S::InProgress, S::Baking, S::Ready] {
            req = req.include_only_statuses(s);
        }
    }
    let out = req
        .send()
        .await
        .map_err(|e| error(format!("listing deployments of {group}"), e))?;
    Ok(out.deployments().to_vec())
}

/// Stops a deployment, asking CodeDeploy to roll back when `rollback`.
pub async fn stop(c: &Clients, id: &str, rollback: bool) -> Result<String> {
    let out = c
        .codedeploy
        .stop_deployment()
        .deployment_id(id)
        .auto_rollback_enabled(rollback)
        .send()
        .await
        .map_err(|e| error(format!("stopping deployment {id}"), e))?;
    Ok(out
        .status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default())
}

/// The instances that failed in a deployment, each with the lifecycle event that failed.
/// Two calls: the failed targets' ids, then their details in one batch.
pub async fn failed_instances(c: &Clients, id: &str) -> Result<Vec<InstanceFailure>> {
    let ids = c
        .codedeploy
        .list_deployment_targets()
        .deployment_id(id)
        .target_filters(
            TargetFilterName::TargetStatus,
            vec![TargetStatus::Failed.as_str().to_string()],
        )
        .send()
        .await
        .map_err(|e| error(format!("listing failed instances of {id}"), e))?
        .target_ids()
        .to_vec();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    // The API takes at most 25 targets per call.
    for chunk in ids.chunks(25) {
        let res = c
            .codedeploy
            .batch_get_deployment_targets()
            .deployment_id(id)
            .set_target_ids(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| error(format!("reading failed instances of {id}"), e))?;
        for t in res.deployment_targets() {
            let Some(i) = t.instance_target() else {
                continue;
            };
            let failed = i
                .lifecycle_events()
                .iter()
                .find(|e| e.status().is_some_and(|s| s.as_str() == "Failed"));
            out.push(InstanceFailure {
                instance: i.target_id().unwrap_or_default().to_string(),
                event: failed
                    .and_then(|e| e.lifecycle_event_name())
                    .unwrap_or("(unknown event)")
                    .to_string(),
                message: failed
                    .and_then(|e| e.diagnostics())
                    .and_then(|d| d.message())
                    .unwrap_or_default()
                    .to_string(),
            });
        }
    }
    Ok(out)
}

pub async fn list_applications(c: &Clients) -> Result<Vec<String>> {
    c.codedeploy
        .list_applications()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| error("listing CodeDeploy applications", e))
}

/// The deployment groups of an application (empty when it does not exist).
pub async fn list_groups(c: &Clients, app: &str) -> Result<Vec<String>> {
    let listed = c
        .codedeploy
        .list_deployment_groups()
        .application_name(app)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await;
    match listed {
        Ok(groups) => Ok(groups),
        Err(e) if error_code(&e) == Some("ApplicationDoesNotExistException") => Ok(Vec::new()),
        Err(e) => Err(error(format!("listing deployment groups of {app}"), e)),
    }
}

pub async fn list_configs(c: &Clients) -> Result<Vec<String>> {
    c.codedeploy
        .list_deployment_configs()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| error("listing deployment configurations", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> GroupSpec {
        GroupSpec {
            name: "dev-web".into(),
            autoscaling_group: "dev-web".into(),
            service_role: Some("arn:aws:iam::1:role/cd".into()),
            config: None,
            auto_rollback: Some(true),
        }
    }

    #[test]
    fn a_matching_group_has_no_diff() {
        let live = Group {
            autoscaling_groups: vec!["dev-web".into()],
            service_role: Some("arn:aws:iam::1:role/cd".into()),
            config: Some("CodeDeployDefault.OneAtATime".into()),
            auto_rollback: true,
            last_deployment: None,
        };
        assert!(spec().diff(&live).is_empty());
    }

    #[test]
    fn differences_are_named() {
        let live = Group {
            autoscaling_groups: vec!["old".into()],
            ..Group::default()
        };
        let d = spec().diff(&live);
        assert_eq!(d.len(), 3, "{d:?}");
        assert!(d[0].contains("[old] -> [old, dev-web]"), "{d:?}");
    }

    #[test]
    fn revisions_are_short() {
        let r = Revision::GitHub {
            repo: "a/b".into(),
            commit: "1a2b3c4d5e6f".into(),
        };
        assert_eq!(r.short(), "1a2b3c4d5e");
    }
}
