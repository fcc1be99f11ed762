//! Every JSON document udo prints (`-o json`) or posts (a `notify` webhook), one type per
//! document, so each shape is written down once, here, and a command can only fill it in.
//! The README lists these shapes; tests/json.rs checks them against the real binary.
//!
//! Field order is key order (serde_json keeps it), and `Option` fields are `null` when unset
//! unless marked otherwise: a key is always there, so readers never need to test for one.

use serde::Serialize;

// ---------------------------------------------------------------- validate, config show

/// `validate -o json` of a valid udo.yml.
#[derive(Debug, Serialize)]
pub struct Valid {
    pub valid: bool,
    /// Settings AWS accepts but that weaken a role (`metadata.tokens: optional`), located as
    /// errors are.
    pub warnings: Vec<ConfigError>,
    pub path: String,
    pub clusters: Vec<ValidCluster>,
}

#[derive(Debug, Serialize)]
pub struct ValidCluster {
    pub name: String,
    pub roles: Vec<String>,
}

/// `validate -o json` of an invalid (or missing) udo.yml; `path` is null when there is none.
#[derive(Debug, Serialize)]
pub struct Invalid {
    pub valid: bool,
    pub path: Option<String>,
    pub errors: Vec<ConfigError>,
}

/// One problem in udo.yml; `line` and `column` are null for a problem with the whole file.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigError {
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub help: Option<String>,
    pub notes: Vec<ConfigNote>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigNote {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// `config show -o json TARGET`: the merged settings (typed by the schema, secrets redacted)
/// and where each one came from.
#[derive(Debug, Serialize)]
pub struct ConfigShow {
    pub target: String,
    pub cluster: String,
    pub role: String,
    pub group: String,
    pub settings: serde_json::Value,
    pub sources: Ordered<Origin>,
}

/// Where a setting came from.
#[derive(Debug, Serialize)]
pub struct Origin {
    pub level: &'static str,
    #[serde(rename = "where")]
    pub place: String,
    pub line: usize,
    pub column: usize,
}

/// A JSON object whose keys come in the order given.
#[derive(Debug)]
pub struct Ordered<V>(pub Vec<(String, V)>);

impl<V: Serialize> Serialize for Ordered<V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

// ---------------------------------------------------------------- whoami

#[derive(Debug, Serialize)]
pub struct Whoami {
    pub account: String,
    pub arn: String,
    pub region: String,
    pub endpoint: String,
    pub profile: Option<String>,
    pub expected_account: Option<String>,
    pub account_matches: Option<bool>,
    pub scopes: Vec<WhoamiScope>,
}

/// A cluster or role with its own profile or `account_id`.
#[derive(Debug, Serialize)]
pub struct WhoamiScope {
    pub scope: String,
    pub profile: Option<String>,
    pub expected_account: Option<String>,
    pub account: String,
    pub account_matches: Option<bool>,
}

// ---------------------------------------------------------------- lc

/// `lc show -o json TARGET`.
#[derive(Debug, Serialize)]
pub struct LcShow {
    pub target: String,
    /// `template` or `configuration`.
    pub kind: &'static str,
    pub name: String,
    pub exists: bool,
    pub version: Option<i64>,
    /// `missing`, `in sync` or `differs`.
    pub state: &'static str,
    pub in_sync: bool,
    pub differences: Vec<FieldDifference>,
    pub user_data_diff: String,
    pub group_launch: Option<String>,
    pub note: Option<String>,
    /// The group's instance types and spot distribution, live and in udo.yml.
    pub mix: GroupMix,
    /// The command that brings it in line, when anything differs.
    pub apply: Option<String>,
}

/// The group's mix of instance types and spot (its mixed instances policy), as `lc show`
/// shows it beside the template.
#[derive(Debug, Serialize)]
pub struct GroupMix {
    /// `None` when the group does not exist.
    pub live: Option<String>,
    pub desired: String,
    pub differs: bool,
}

#[derive(Debug, Serialize)]
pub struct FieldDifference {
    pub field: &'static str,
    pub live: String,
    pub desired: String,
}

/// `lc list -o json`.
#[derive(Debug, Serialize)]
pub struct LcList {
    pub launch: Vec<LaunchItem>,
}

/// A launch template (`version` absent) or configuration (`id`, `default_version` and
/// `latest_version` null).
#[derive(Debug, Serialize)]
pub struct LaunchItem {
    pub name: String,
    pub kind: &'static str,
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Option<u32>>,
    pub default_version: Option<i64>,
    pub latest_version: Option<i64>,
    pub used_by: Vec<String>,
}

// ---------------------------------------------------------------- cluster, status

/// `cluster list -o json`.
#[derive(Debug, Serialize)]
pub struct ClusterList {
    pub clusters: Vec<ClusterItem>,
}

#[derive(Debug, Serialize)]
pub struct ClusterItem {
    pub cluster: String,
    pub description: Option<String>,
    pub vpc: Option<Vpc>,
    pub subnets: usize,
    pub roles: Vec<String>,
    pub groups_existing: usize,
}

#[derive(Debug, Serialize)]
pub struct Vpc {
    pub id: String,
    pub cidr: String,
    pub state: String,
}

/// `cluster status -o json CLUSTER`.
#[derive(Debug, Serialize)]
pub struct ClusterStatus {
    pub cluster: String,
    pub vpc: Option<Vpc>,
    pub subnets: Vec<Subnet>,
    pub roles: Vec<GroupState>,
}

#[derive(Debug, Serialize)]
pub struct Subnet {
    pub id: String,
    pub cidr: String,
    pub zone: String,
    pub free_addresses: i32,
}

/// `status -o json`.
#[derive(Debug, Serialize)]
pub struct Status {
    pub groups: Vec<GroupState>,
}

/// One role's group, as `status` and `cluster status` show it; the sizes are null when the
/// group does not exist.
#[derive(Debug, Serialize)]
pub struct GroupState {
    pub cluster: String,
    pub role: String,
    pub group: String,
    pub exists: bool,
    pub desired: Option<i32>,
    pub min: Option<i32>,
    pub max: Option<i32>,
    pub in_service: Option<usize>,
    pub instances: Option<usize>,
    pub launch: Option<String>,
    pub outdated: Option<usize>,
    pub suspended: Vec<String>,
    /// The mixed instances policy (types and distribution), `None` for a one-type group.
    pub mix: Option<String>,
    /// How many of its instances are spot.
    pub spot: Option<usize>,
    /// The instance types it runs, with their spot counts.
    pub types: Option<String>,
    /// The group's release number (0: the base group `CLUSTER-ROLE`, N: `CLUSTER-ROLE-vN`)
    /// and state (`active`); null when the role has no active group.
    pub release: Option<u32>,
    pub state: Option<&'static str>,
    /// Every group of the role, the active one among them, oldest release first.
    pub groups: Vec<ReleaseGroup>,
}

/// One of a role's groups (its base group or a blue/green release), as `status` lists them.
#[derive(Debug, Serialize)]
pub struct ReleaseGroup {
    pub group: String,
    /// 0 for the base group `CLUSTER-ROLE`, N for `CLUSTER-ROLE-vN`.
    pub release: u32,
    /// `active`, `releasing`, `disabling` or `disabled` (kept for a rollback).
    pub state: &'static str,
    pub desired: i32,
    pub min: i32,
    pub max: i32,
    pub in_service: usize,
    pub instances: usize,
    pub launch: String,
    pub suspended: Vec<String>,
}

// ---------------------------------------------------------------- asg

/// `asg scale -o json TARGET` (without N).
#[derive(Debug, Serialize)]
pub struct Sizes {
    pub group: String,
    pub desired: i32,
    pub min: i32,
    pub max: i32,
    pub in_service: usize,
}

/// `asg instances -o json TARGET`; `CLUSTER.*` gives [`GroupsInstances`].
#[derive(Debug, Serialize)]
pub struct GroupInstances {
    pub group: String,
    pub launch: String,
    pub instances: Vec<Instance>,
    /// The group's release number (0: `CLUSTER-ROLE`, N: `CLUSTER-ROLE-vN`) and state
    /// (`active`; with `--all-groups` also `releasing`, `disabling`, `disabled`).
    pub release: u32,
    pub state: &'static str,
}

#[derive(Debug, Serialize)]
pub struct GroupsInstances {
    pub groups: Vec<GroupInstances>,
}

#[derive(Debug, Serialize)]
pub struct Instance {
    pub id: String,
    pub zone: String,
    #[serde(rename = "type")]
    pub instance_type: String,
    pub spot: bool,
    pub lifecycle: String,
    pub health: String,
    pub launch: String,
    pub outdated: bool,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    /// Seconds since the epoch.
    pub launched: Option<i64>,
}

/// `asg randomip -o json TARGET`.
#[derive(Debug, Serialize)]
pub struct RandomIp {
    pub group: String,
    pub instance: String,
    pub ip: String,
}

/// `asg policies -o json TARGET`.
#[derive(Debug, Serialize)]
pub struct Policies {
    pub group: String,
    pub policies: Vec<PolicyItem>,
    pub scheduled_actions: Vec<ActionItem>,
    pub suspended: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct PolicyItem {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub metric: String,
    pub target: Option<f64>,
    pub warmup: Option<i32>,
    pub disable_scale_in: bool,
    pub adjustment: String,
    pub from_udo_yml: bool,
    /// `udo.yml`, `udo (no longer in udo.yml)` or `not from udo.yml`.
    pub source: &'static str,
}

#[derive(Debug, Serialize)]
pub struct ActionItem {
    pub name: String,
    pub recurrence: Option<String>,
    pub min_size: Option<i32>,
    pub max_size: Option<i32>,
    pub desired: Option<i32>,
    pub time_zone: Option<String>,
    pub from_udo_yml: bool,
    pub source: &'static str,
}

// ---------------------------------------------------------------- deploy

/// One deployment, as `deploy status` and `deploy last` show it.
#[derive(Debug, Serialize)]
pub struct Deployment {
    pub id: String,
    pub application: String,
    pub group: String,
    pub status: String,
    pub revision: String,
    pub etag: Option<String>,
    pub creator: String,
    /// RFC 3339, or `-` when AWS gave none.
    pub created: String,
    pub completed: Option<String>,
    pub instances: crate::aws::codedeploy::Overview,
    pub error: Option<String>,
}

/// `deploy status -o json ID`: the deployment and why it failed.
#[derive(Debug, Serialize)]
pub struct DeployStatus {
    #[serde(flatten)]
    pub deployment: Deployment,
    pub failures: Vec<String>,
}

/// `deploy last -o json`.
#[derive(Debug, Serialize)]
pub struct DeployLast {
    pub groups: Vec<LastDeployment>,
}

#[derive(Debug, Serialize)]
pub struct LastDeployment {
    pub target: String,
    pub group: String,
    pub deployment: Option<Deployment>,
}

/// `deploy stop -o json`.
#[derive(Debug, Serialize)]
pub struct DeployStop {
    pub stopped: Vec<Stopped>,
}

#[derive(Debug, Serialize)]
pub struct Stopped {
    pub group: String,
    pub id: String,
    pub rollback: bool,
}

/// `deploy list apps -o json`.
#[derive(Debug, Serialize)]
pub struct Applications {
    pub applications: Vec<String>,
}

/// `deploy list configs -o json`.
#[derive(Debug, Serialize)]
pub struct Configs {
    pub configs: Vec<String>,
}

/// `deploy list groups -o json`.
#[derive(Debug, Serialize)]
pub struct DeploymentGroups {
    pub groups: Vec<DeploymentGroup>,
}

#[derive(Debug, Serialize)]
pub struct DeploymentGroup {
    pub application: String,
    pub group: String,
}

/// `deploy list deployments -o json`.
#[derive(Debug, Serialize)]
pub struct Deployments {
    pub deployments: Vec<DeploymentId>,
}

#[derive(Debug, Serialize)]
pub struct DeploymentId {
    pub application: String,
    pub group: String,
    pub id: String,
}

/// `deploy list post -o json`.
#[derive(Debug, Serialize)]
pub struct PostHooks {
    pub roles: Vec<RoleHooks>,
}

#[derive(Debug, Serialize)]
pub struct RoleHooks {
    pub target: String,
    pub hooks: Vec<String>,
}

// ---------------------------------------------------------------- exec

/// `exec -o json TARGET -- COMMAND`.
#[derive(Debug, Serialize)]
pub struct Exec {
    pub target: String,
    pub command: String,
    /// `ssh` or `ssm`.
    pub via: &'static str,
    /// The SSM command ids (`--via ssm`; empty with ssh).
    pub command_ids: Vec<String>,
    pub hosts: Vec<ExecHost>,
    pub summary: ExecSummary,
}

#[derive(Debug, Serialize)]
pub struct ExecHost {
    pub role: String,
    pub instance: String,
    pub address: String,
    /// `succeeded`, `failed`, `timed_out`, `unreachable`, `host_key_changed`, `skipped` or
    /// `cancelled`.
    pub status: &'static str,
    pub exit_status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The output was cut to what the back end keeps (SSM's limit).
    pub truncated: bool,
    pub duration_ms: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct ExecSummary {
    pub hosts: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub timed_out: usize,
    pub unreachable: usize,
    pub skipped: usize,
    pub cancelled: usize,
    pub slowest: Option<Slowest>,
}

#[derive(Debug, Serialize)]
pub struct Slowest {
    pub instance: String,
    pub duration_ms: u64,
}

// ---------------------------------------------------------------- notifications

/// What a `notify` webhook receives for one command and role.
#[derive(Debug, Serialize)]
pub struct Notification {
    pub text: String,
    pub events: Vec<String>,
    pub cluster: Option<String>,
    pub role: Option<String>,
    pub command: String,
    pub account: Option<String>,
}

/// What a Slack incoming webhook receives: the text, and udo.yml's `slack.*` where set.
#[derive(Debug, Serialize)]
pub struct SlackMessage {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon_emoji: Option<String>,
}

// ---------------------------------------------------------------- plan

/// `plan -o json [SCOPE]`.
#[derive(Debug, Serialize)]
pub struct Plan {
    /// Whether anything in scope differs from udo.yml (what `--exit-code` exits 3 for).
    pub differences: bool,
    pub clusters: Vec<PlanCluster>,
}

#[derive(Debug, Serialize)]
pub struct PlanCluster {
    pub cluster: String,
    /// What `cluster create` would change of the network (its lines).
    pub network: Vec<String>,
    /// The same as typed steps.
    pub network_steps: Vec<PlanStep>,
    pub missing_subnets: Vec<String>,
    pub roles: Vec<PlanRole>,
}

/// One step of a plan, as every command shows it.
#[derive(Debug, Serialize)]
pub struct PlanStep {
    /// `create`, `change` or `delete`.
    pub kind: &'static str,
    /// `+`, `~` or `-`.
    pub sign: &'static str,
    /// `network`, `launch`, `group`, `scaling` or `cleanup`.
    pub part: &'static str,
    pub line: String,
    pub details: Vec<String>,
    /// What it can take away (`reduces serving capacity`, `removes a scaling rule`), if anything.
    pub hazard: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct PlanRole {
    pub role: String,
    pub group: String,
    pub exists: bool,
    pub differs: bool,
    pub steps: Vec<PlanStep>,
    /// Why udo changes nothing of the group (another application's, a rollout in progress).
    pub refused: Option<String>,
    pub launch: Vec<String>,
    pub launch_details: Vec<String>,
    pub group_changes: Vec<String>,
    pub schedules: Vec<PlanChange>,
    pub policies: Vec<PlanChange>,
    /// Instances on an outdated launch version (only a rollout replaces them).
    pub outdated: usize,
    pub destructive: bool,
    /// Every group of the role with its state; the plan compares udo.yml with the active one.
    pub groups: Vec<PlanGroup>,
    /// What the plan says of the role's other groups (a release in progress, groups kept for
    /// a rollback): notes, not differences.
    pub notes: Vec<String>,
}

/// One group of a role in a plan.
#[derive(Debug, Serialize)]
pub struct PlanGroup {
    pub group: String,
    pub release: u32,
    pub state: &'static str,
}

/// A scheduled action or scaling policy to add, change or delete.
#[derive(Debug, Serialize)]
pub struct PlanChange {
    /// `add`, `change` or `delete`.
    pub change: &'static str,
    pub name: String,
    /// The fields that differ (`change` only).
    pub fields: Vec<String>,
}
