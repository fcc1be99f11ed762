//! Why an operation could not be done, as types: what udo was doing, on what, and what the user
//! can do next. Each kind renders the one-line message the README documents (after `error: `,
//! exit status 1), so callers and tests tell failures apart by kind, not by words.

use std::fmt;

#[derive(Debug)]
pub enum Failure {
    /// The role's autoscaling group is not there.
    NoGroup { group: String, target: String },
    /// `deploy.suspend_scaling` needs the group, and it is not there.
    NoGroupToSuspend { group: String, target: String },
    /// A change that needs a yes, with no terminal to ask on and no `--yes`.
    NoTerminal,
    /// The user answered no.
    Declined,
    /// Something on this machine failed: what udo was doing, and the system's reason.
    Local { doing: String, reason: String },
    /// A wait for a group ran out of time; nothing else was changed.
    GroupWaitTimedOut {
        waited: u64,
        what: String,
        group: String,
        state: String,
    },
    /// Ctrl-C (or SIGTERM) during a wait for a group; nothing else was changed.
    GroupWaitInterrupted {
        what: String,
        group: String,
        state: String,
    },
    /// A deployment still running when `--timeout` passed; it goes on in AWS.
    DeploymentTimedOut {
        waited: String,
        id: String,
        group: String,
        status: String,
        state: String,
    },
    /// Ctrl-C (or SIGTERM) during a deploy; `id` names the deployment, once started.
    DeployInterrupted { id: Option<String> },
    /// A deployment that ended Failed (`stopped: false`) or Stopped, and why, line by line.
    DeploymentEnded {
        id: String,
        group: String,
        stopped: bool,
        why: Vec<String>,
    },
    /// A post-deploy hook that failed (`how`: `exit status 3`, `a signal`); `rest` were not run.
    HookFailed {
        n: usize,
        hook: String,
        how: String,
        rest: usize,
    },
    /// A rollout stopped by Ctrl-C: a re-run finishes it and restores the saved sizes.
    RolloutInterrupted {
        group: String,
        target: String,
        sizes: (i32, i32, i32),
    },
    /// A rollout batch that never became ready, rolled back.
    RolloutRolledBack {
        group: String,
        target: String,
        why: String,
        sizes: (i32, i32, i32),
        left: usize,
    },
    /// A blue/green release (`rollback: false`) or rollback whose group never became healthy
    /// in time, or was interrupted while it waited: `undone` says what became of that group
    /// (deleted, or disabled again); the active group was not touched.
    ReleaseFailed(Box<ReleaseFailure>),
    /// A release or rollback stopped (Ctrl-C) after its switch: a re-run finishes it.
    ReleaseInterrupted { group: String, target: String },
    /// Nothing a release or rollback can start from: why, and what to run.
    NoRelease { why: String },
    /// The group was deleted while a rollout ran.
    GroupVanished { group: String },
    /// An instance refresh udo followed is no longer listed.
    RefreshVanished { id: String, group: String },
    /// An instance refresh that made no progress for `secs`.
    RefreshStalled {
        id: String,
        group: String,
        target: String,
        secs: u64,
        status: String,
        percentage: i32,
    },
    /// Ctrl-C while following an instance refresh: udo cancelled it.
    RefreshCancelled {
        id: String,
        group: String,
        target: String,
    },
    /// An instance refresh that ended otherwise than Successful.
    RefreshEnded {
        id: String,
        group: String,
        status: String,
        reason: String,
    },
    /// A cluster whose network would be destroyed still has groups.
    GroupsRemain {
        cluster: String,
        groups: Vec<String>,
    },
    /// A launch template or configuration a group still launches from (`noun`: its kind).
    LaunchInUse {
        group: String,
        noun: &'static str,
        launch: String,
        target: String,
    },
    /// A group with no InService instance to pick.
    NoInService { group: String },
    /// An instance with no address (yet).
    NoAddress { instance: String },
    /// A deployment group to create, with no `deploy.service_role` to create it with.
    NoServiceRole { group: String },
    /// An S3 key to deploy that is not in the bucket.
    NoSuchBundle { bucket: String, key: String },
    /// Target groups of udo.yml of which AWS does not have one (it does not say which).
    TargetGroupsNotFound { names: Vec<String> },
    /// A target group of udo.yml that AWS does not have.
    NoTargetGroup { name: String },
    /// A resource udo will not touch (another application's, a group mid-rollout).
    Refused(Refusal),

    // --- networks
    /// Several VPCs carry the cluster's tags: a mess udo did not make.
    SeveralVpcs {
        cluster: String,
        app: String,
        ids: Vec<String>,
    },
    /// Several of the cluster's tagged VPCs have subnets: udo cannot tell which is in use.
    SeveralVpcsWithSubnets { cluster: String, ids: Vec<String> },
    /// A network step needs a subnet the network does not have.
    SubnetMissing { cidr: String },
    /// A network step needs a part of the cluster's network (`what`: its VPC, gateway, …)
    /// that is not there.
    NetworkPartMissing { what: String },
    /// A group to create in a subnet (by CIDR) that the run did not make.
    SubnetNotCreated { cidr: String },
    /// A role's `subnets_cidr` with no subnet in the cluster's udo network at all.
    NoUdoNetwork {
        cluster: String,
        cidrs: Vec<String>,
        target: String,
        app: String,
    },
    /// One of a role's `subnets_cidr` missing from the cluster's udo VPC.
    NoSubnetInVpc {
        cidr: String,
        target: String,
        vpc: String,
        cluster: String,
    },
    /// A cluster subnet associated with a route table udo did not make.
    ForeignRouteTable {
        subnet: String,
        cidr: String,
        cluster: String,
        table: String,
    },
    /// Network interfaces still in the VPC of a cluster to destroy (each: what it is).
    InterfacesInUse { cluster: String, nics: Vec<String> },

    // --- launch settings and scaling
    /// An AMI that AWS does not have for this account and region.
    NoSuchAmi { ami: String, region: String },
    /// An extra volume on the AMI's root device.
    RootDeviceInVolumes { device: String, ami: String },
    /// A group switch with no launch settings to switch to.
    NoLaunchToSwitch { group: String },
    /// A scaling policy naming a metric udo does not know.
    UnknownMetric { policy: String, metric: String },
    /// An `alb_requests` policy on a group without a target group.
    NoTargetGroupToTrack { policy: String, group: String },
    /// An `alb_requests` policy on a target group no load balancer forwards to.
    NotBehindBalancer { target_group: String },
    /// ARNs udo cannot make an `alb_requests` resource label of.
    NoResourceLabel {
        balancer: String,
        target_group: String,
    },

    // --- deployments
    /// AWS answered GetDeployment without the deployment.
    NoDeploymentInfo { id: String },
    /// A deployment that failed because the group has no instances.
    DeployedToNothing {
        id: String,
        deployment_group: String,
        group: String,
        target: String,
        /// Boxed, to keep every failure small (clippy's `result_large_err`).
        why: Box<[String]>,
    },

    // --- exec, ssh, Run Command
    /// No OpenSSH client on PATH.
    NoSsh,
    /// Nowhere to keep udo's known-hosts file.
    NoKnownHostsPlace,
    /// A bastion group with no instance to go through.
    NoBastion { group: String, host: String },
    /// Chosen instances of which none has an address.
    NoAddresses { target: String },
    /// None of the instances named with `--instances` is InService.
    NoneInService { instances: Vec<String> },
    /// No InService instance in the target (or in its empty groups).
    NoInServiceIn { places: Vec<String> },
    /// SendCommand answered without a command id.
    NoCommandId,
    /// Ctrl-C during `exec --via ssm`: the commands were cancelled.
    ExecInterrupted {
        commands: Vec<String>,
        ran: usize,
        hosts: usize,
    },
    /// An object's body could not be read.
    S3Read {
        bucket: String,
        key: String,
        reason: String,
    },

    /// The operation failed, and so did putting things back afterwards.
    Then {
        first: Box<crate::error::Error>,
        then: Box<crate::error::Error>,
    },
}

/// A blue/green release or rollback that did not become healthy (see [`Failure::ReleaseFailed`]).
#[derive(Debug)]
pub struct ReleaseFailure {
    pub rollback: bool,
    pub group: String,
    pub active: String,
    pub why: String,
    pub undone: String,
    pub target: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::NoGroup { group, target } => write!(
                f,
                "autoscaling group {group} does not exist (create it with `udo asg create {target}`)"
            ),
            Failure::NoGroupToSuspend { group, target } => write!(
                f,
                "deploy.suspend_scaling is set but autoscaling group {group} does not exist (create it with `udo asg create {target}`)"
            ),
            Failure::NoTerminal => f.write_str(
                "this changes or destroys resources and there is no terminal to confirm on; nothing was changed. Re-run with --yes to proceed",
            ),
            Failure::Declined => f.write_str("cancelled; nothing was changed"),
            Failure::Local { doing, reason } => write!(f, "{doing}: {reason}"),
            Failure::GroupWaitTimedOut {
                waited,
                what,
                group,
                state,
            } => write!(
                f,
                "timed out after {waited}s waiting for {what} in {group} ({state}); nothing else was changed; re-run the command to continue, or raise --timeout"
            ),
            Failure::GroupWaitInterrupted { what, group, state } => write!(
                f,
                "interrupted while waiting for {what} in {group} ({state}); nothing else was changed; re-run the command to continue"
            ),
            Failure::DeploymentTimedOut {
                waited,
                id,
                group,
                status,
                state,
            } => write!(
                f,
                "gave up waiting after {waited}: deployment {id} to {group} is still {status} ({state}); it goes on in AWS: follow it with `udo deploy status {id}`, or stop it with `udo deploy stop`"
            ),
            Failure::DeployInterrupted { id: Some(id) } => write!(
                f,
                "interrupted; deployment {id} goes on in AWS: follow it with `udo deploy status {id}`"
            ),
            Failure::DeployInterrupted { id: None } => {
                f.write_str("interrupted; no deployment was started")
            }
            Failure::DeploymentEnded {
                id,
                group,
                stopped,
                why,
            } => {
                let word = if *stopped { "was stopped" } else { "failed" };
                write!(f, "deployment {id} to {group} {word}")?;
                for l in why {
                    write!(f, "\n  {l}")?;
                }
                Ok(())
            }
            Failure::HookFailed { n, hook, how, rest } => {
                write!(f, "post-deploy hook {n} (`{hook}`) failed with {how}")?;
                if *rest > 0 {
                    write!(f, "; the {rest} hook(s) after it were not run")?;
                }
                Ok(())
            }
            Failure::RolloutInterrupted {
                group,
                target,
                sizes: (desired, min, max),
            } => write!(
                f,
                "rollout of {group} interrupted; the group keeps its surge size for now. Re-run `udo asg rollout {target}` to finish it and restore desired {desired}, min {min}, max {max}"
            ),
            Failure::RolloutRolledBack {
                group,
                target,
                why,
                sizes: (desired, min, max),
                left,
            } => write!(
                f,
                "rollout of {group} stopped: {why}. The instances of the failed batch were terminated, the sizes restored (desired {desired}, min {min}, max {max}), and {left} old instance(s) keep running; fix the cause and re-run `udo asg rollout {target}`"
            ),
            Failure::ReleaseFailed(r) => {
                let ReleaseFailure {
                    rollback,
                    group,
                    active,
                    why,
                    undone,
                    target,
                } = r.as_ref();
                write!(
                f,
                "{} {group} stopped: {why}. {undone}; {active} stays the active group, untouched; fix the cause and re-run `udo asg {} {target}`",
                if *rollback { "rollback to" } else { "release" },
                if *rollback { "rollback" } else { "rollout" },
            )
            }
            Failure::ReleaseInterrupted { group, target } => write!(
                f,
                "interrupted while {group} was being disabled; the new group is active. Re-run the same command (`udo asg rollout {target}` or `udo asg rollback {target}`) to finish"
            ),
            Failure::NoRelease { why } => write!(f, "{why}"),
            Failure::GroupVanished { group } => {
                write!(f, "group {group} disappeared during the rollout")
            }
            Failure::RefreshVanished { id, group } => {
                write!(f, "instance refresh {id} of {group} vanished")
            }
            Failure::RefreshStalled {
                id,
                group,
                target,
                secs,
                status,
                percentage,
            } => write!(
                f,
                "instance refresh {id} of {group} made no progress for {secs}s ({status} {percentage}%); it goes on in AWS: re-run `udo asg rollout {target} --native` to follow it"
            ),
            Failure::RefreshCancelled { id, group, target } => write!(
                f,
                "interrupted: cancelled instance refresh {id} of {group}; instances already replaced stay. Re-run `udo asg rollout {target} --native` to finish"
            ),
            Failure::RefreshEnded {
                id,
                group,
                status,
                reason,
            } => {
                write!(f, "instance refresh {id} of {group} ended {status}")?;
                if !reason.is_empty() {
                    write!(f, ": {reason}")?;
                }
                Ok(())
            }
            Failure::GroupsRemain { cluster, groups } => write!(
                f,
                "cluster {cluster} still has autoscaling groups: {}; destroy them first (`udo asg destroy '{cluster}.*'`); nothing was changed",
                groups.join(", ")
            ),
            Failure::LaunchInUse {
                group,
                noun,
                launch,
                target,
            } => write!(
                f,
                "autoscaling group {group} uses {noun} {launch}; destroy the group first (`udo asg destroy {target}`) or keep it; nothing was changed"
            ),
            Failure::NoInService { group } => write!(f, "group {group} has no InService instance"),
            Failure::NoAddress { instance } => write!(f, "instance {instance} has no address yet"),
            Failure::NoServiceRole { group } => write!(
                f,
                "deployment group {group} does not exist and udo.yml names no service role to create it with; set `deploy.service_role` to the ARN of CodeDeploy's IAM role"
            ),
            Failure::NoSuchBundle { bucket, key } => write!(
                f,
                "s3://{bucket}/{key} does not exist; upload it first, or pass a local directory or bundle for udo to upload"
            ),
            Failure::NoTargetGroup { name } => write!(
                f,
                "no target group named {name}; check target_groups in udo.yml"
            ),
            Failure::TargetGroupsNotFound { names } => write!(
                f,
                "target group not found among {}; check target_groups in udo.yml",
                names.join(", ")
            ),
            Failure::Refused(r) => r.fmt(f),
            Failure::SeveralVpcs { cluster, app, ids } => write!(
                f,
                "several VPCs are tagged as cluster `{cluster}` of `{app}` ({}); remove the extra tags or VPCs by hand",
                ids.join(", ")
            ),
            Failure::SeveralVpcsWithSubnets { cluster, ids } => write!(
                f,
                "several VPCs with subnets are tagged as cluster `{cluster}` ({}); remove the extra tags or VPCs by hand",
                ids.join(", ")
            ),
            Failure::SubnetMissing { cidr } => write!(f, "subnet {cidr} is missing"),
            Failure::NetworkPartMissing { what } => write!(f, "the cluster's {what} is missing"),
            Failure::SubnetNotCreated { cidr } => {
                write!(f, "subnet {cidr} is missing; run `udo cluster create` first")
            }
            Failure::NoUdoNetwork {
                cluster,
                cidrs,
                target,
                app,
            } => write!(
                f,
                "cluster {cluster} has no udo network with the subnets {} ({target}'s subnets_cidr): no subnet of them is tagged as cluster `{cluster}` of `{app}`, and udo never places a group in another network's subnets; run `udo cluster create {cluster}` first (or name subnet ids in `subnets`); nothing was changed",
                cidrs.join(", ")
            ),
            Failure::NoSubnetInVpc {
                cidr,
                target,
                vpc,
                cluster,
            } => write!(
                f,
                "no subnet with CIDR {cidr} (subnets_cidr of {target}) exists in VPC {vpc} of cluster {cluster}; run `udo cluster create {cluster}` or fix udo.yml; nothing was changed"
            ),
            Failure::ForeignRouteTable {
                subnet,
                cidr,
                cluster,
                table,
            } => write!(
                f,
                "subnet {subnet} ({cidr}) of cluster {cluster} is associated with route table {table}, which udo did not make, so it does not go through the cluster's internet gateway; udo does not move it (its routes may be deliberate): disassociate it from {table} (or delete that table) and re-run `udo cluster create {cluster}`"
            ),
            Failure::InterfacesInUse { cluster, nics } => {
                write!(
                    f,
                    "cluster {cluster}'s VPC still has {} network interface{} in use (a database, a load balancer, an instance launched by hand, or one still shutting down would lose its network, and the subnets could not be deleted); remove them, or wait for them to go, and re-run; nothing was changed:",
                    nics.len(),
                    if nics.len() == 1 { "" } else { "s" },
                )?;
                for n in nics {
                    write!(f, "\n  {n}")?;
                }
                Ok(())
            }
            Failure::NoSuchAmi { ami, region } => write!(
                f,
                "looking up the root device of AMI {ami}: AMI {ami} does not exist in {region} (or is not shared with this account); check `ami` in udo.yml"
            ),
            Failure::RootDeviceInVolumes { device, ami } => write!(
                f,
                "volume {device} is the root device of AMI {ami}; set the root volume with `root_volume`, not `volumes`"
            ),
            Failure::NoLaunchToSwitch { group } => {
                write!(f, "no launch settings to switch {group} to")
            }
            Failure::UnknownMetric { policy, metric } => write!(
                f,
                "scaling policy {policy} has an unknown metric {metric}"
            ),
            Failure::NoTargetGroupToTrack { policy, group } => write!(
                f,
                "scaling policy {policy} tracks alb_requests, but {group} has no target group"
            ),
            Failure::NotBehindBalancer { target_group } => write!(
                f,
                "target group {target_group} is not behind a load balancer, so alb_requests has nothing to count; attach it to an ALB or track another metric"
            ),
            Failure::NoResourceLabel {
                balancer,
                target_group,
            } => write!(
                f,
                "cannot build a resource label from {balancer} and {target_group}"
            ),
            Failure::NoDeploymentInfo { id } => {
                write!(f, "AWS returned no information on deployment {id}")
            }
            Failure::DeployedToNothing {
                id,
                deployment_group,
                group,
                target,
                why,
            } => {
                write!(
                    f,
                    "deployment {id} to {deployment_group} failed: autoscaling group {group} has no instances, so CodeDeploy had nowhere to deploy; scale it first (`udo asg scale {target} N`), then deploy again"
                )?;
                for l in why {
                    write!(f, "\n  {l}")?;
                }
                Ok(())
            }
            Failure::NoSsh => f.write_str(
                "no `ssh` command found on PATH: udo exec and udo ssh run the OpenSSH client; install it (e.g. `apt-get install openssh-client` or `yum install openssh-clients`)",
            ),
            Failure::NoKnownHostsPlace => f.write_str(
                "cannot place udo's known-hosts file: neither XDG_CONFIG_HOME nor HOME is set",
            ),
            Failure::NoBastion { group, host } => write!(
                f,
                "the bastion group {group} has no InService instance with an address (ssh.bastion: {host})"
            ),
            Failure::NoAddresses { target } => {
                write!(f, "no instance of {target} has an address to connect to")
            }
            Failure::NoneInService { instances } => {
                write!(f, "none of {} is InService", instances.join(", "))
            }
            Failure::NoInServiceIn { places } => {
                write!(f, "no InService instance in {}", places.join(", "))
            }
            Failure::NoCommandId => f.write_str("SSM SendCommand returned no command id"),
            Failure::ExecInterrupted {
                commands,
                ran,
                hosts,
            } => write!(
                f,
                "interrupted: CancelCommand sent for {}; {ran} of {hosts} hosts had finished before it",
                commands.join(", ")
            ),
            Failure::S3Read {
                bucket,
                key,
                reason,
            } => write!(f, "reading s3://{bucket}/{key}: {reason}"),
            Failure::Then { first, then } => write!(f, "{first}\nand then: {then}"),
        }
    }
}

impl std::error::Error for Failure {}

/// Why udo will not change a resource it found by name (`model::owner`): kept in a plan
/// (`Blocked`) to be the error of any command that would change it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Another application's (`kind name`, e.g. `autoscaling group dev-web`, tagged
    /// `udo:app` = `owner`, not `app`).
    Foreign {
        kind: &'static str,
        name: String,
        owner: String,
        app: String,
    },
    /// A group with a rollout in progress (its `udo:rollout` tag, `saved`).
    RollingOut {
        group: String,
        saved: String,
        target: String,
    },
    /// A role whose groups (blue/green releases) exist with none of them active: the active
    /// one deleted by hand. `groups`: each group with its state (`dev-web (disabled)`).
    NoActiveGroup { target: String, groups: Vec<String> },
    /// Size changes to a role while a blue/green release of it is in progress (`groups`: the
    /// groups releasing or disabling, `dev-web-v2 releasing`).
    Releasing { target: String, groups: Vec<String> },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Foreign {
                kind,
                name,
                owner,
                app,
            } => write!(
                f,
                "{kind} {name} belongs to application `{owner}` (its udo:app tag), not `{app}`; udo does not change another application's resources, so nothing was changed\n  = help: give this application other cluster or role names, or set `app_name` to `{owner}` if it really is that application"
            ),
            Refusal::RollingOut {
                group,
                saved,
                target,
            } => write!(
                f,
                "a rollout of {group} is in progress (its udo:rollout tag: {saved}); udo changes nothing else of the group until it ends, so nothing was changed\n  = help: `udo asg rollout {target}` resumes the rollout and finishes it (restoring the sizes it saved)"
            ),
            Refusal::NoActiveGroup { target, groups } => write!(
                f,
                "no group of {target} is active ({}); udo changes none of them and creates no other, so nothing was changed\n  = help: `udo asg rollback {target}` re-enables the newest disabled one; a re-run of `udo asg rollout {target} --strategy bluegreen` finishes a release",
                groups.join(", ")
            ),
            Refusal::Releasing { target, groups } => write!(
                f,
                "a release of {target} is in progress ({}); udo changes no sizes of the role until it ends, so nothing was changed\n  = help: a re-run of `udo asg rollout {target} --strategy bluegreen` finishes the release, `udo asg rollback {target}` undoes it",
                groups.join(", ")
            ),
        }
    }
}

impl From<Refusal> for crate::error::Error {
    fn from(r: Refusal) -> crate::error::Error {
        Failure::Refused(r).into()
    }
}

impl Failure {
    /// Something on this machine failed while udo was `doing` it.
    pub fn local(doing: impl Into<String>, reason: impl fmt::Display) -> Failure {
        Failure::Local {
            doing: doing.into(),
            reason: reason.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Failure;

    #[test]
    fn each_kind_says_what_udo_was_doing() {
        let e = Failure::DeploymentEnded {
            id: "d-1".into(),
            group: "dev-web".into(),
            stopped: false,
            why: vec!["error: boom".into()],
        };
        assert_eq!(
            e.to_string(),
            "deployment d-1 to dev-web failed\n  error: boom"
        );
        let e = Failure::HookFailed {
            n: 1,
            hook: "false".into(),
            how: "exit status 1".into(),
            rest: 2,
        };
        assert_eq!(
            e.to_string(),
            "post-deploy hook 1 (`false`) failed with exit status 1; the 2 hook(s) after it were not run"
        );
        let e = crate::error::Error::from(Failure::NoGroup {
            group: "dev-web".into(),
            target: "dev.web".into(),
        });
        assert_eq!(e.exit_code(), 1);
        assert_eq!(
            e.to_string(),
            "error: autoscaling group dev-web does not exist (create it with `udo asg create dev.web`)"
        );
    }

    /// Failures with lines of detail put each on its own indented line, after the message.
    #[test]
    fn details_come_one_a_line() {
        let e = Failure::InterfacesInUse {
            cluster: "dev".into(),
            nics: vec!["eni-1 in subnet-1 (no description)".into()],
        };
        assert!(
            e.to_string().ends_with(
                "1 network interface in use (a database, a load balancer, an instance launched by hand, or one still shutting down would lose its network, and the subnets could not be deleted); remove them, or wait for them to go, and re-run; nothing was changed:\n  eni-1 in subnet-1 (no description)"
            ),
            "{e}"
        );
        let e = Failure::DeployedToNothing {
            id: "d-1".into(),
            deployment_group: "dev-web".into(),
            group: "dev-web".into(),
            target: "dev.web".into(),
            why: vec!["a".into(), "b".into()].into(),
        };
        assert!(
            e.to_string().ends_with("then deploy again\n  a\n  b"),
            "{e}"
        );
        let r = super::Refusal::RollingOut {
            group: "dev-web".into(),
            saved: "1/3".into(),
            target: "dev.web".into(),
        };
        assert_eq!(
            crate::error::Error::from(r).to_string(),
            "error: a rollout of dev-web is in progress (its udo:rollout tag: 1/3); udo changes nothing else of the group until it ends, so nothing was changed\n  = help: `udo asg rollout dev.web` resumes the rollout and finishes it (restoring the sizes it saved)"
        );
    }
}
