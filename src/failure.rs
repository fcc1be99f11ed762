//! Why an operation could not be done, as types: what udo was doing, on what, and what the user
//! can do next. Each kind renders the one-line message the README documents (after `error: `,
//! exit status 1), so callers and tests tell failures apart by kind, not by words.
//!
//! `Error::Failed(String)` remains for the failures not yet given a kind of their own.

use std::fmt;

#[derive(Debug)]
pub enum Failure {
    /// The role's autoscaling group is not there.
    NoGroup { group: String, target: String },
    /// The role has groups (blue/green releases), but none of them is active: every release
    /// deleted by hand, or a release being brought up on a role with no other group.
    /// `groups`: each group with its state (`dev-web (disabled)`).
    NoActiveGroup { target: String, groups: Vec<String> },
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
    /// The operation failed, and so did putting things back afterwards.
    Then {
        first: Box<crate::error::Error>,
        then: Box<crate::error::Error>,
    },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::NoGroup { group, target } => write!(
                f,
                "autoscaling group {group} does not exist (create it with `udo asg create {target}`)"
            ),
            Failure::NoActiveGroup { target, groups } => write!(
                f,
                "no group of {target} is active ({}); `udo asg rollback {target}` re-enables the newest disabled one, a re-run of `udo asg rollout {target} --strategy bluegreen` finishes a release",
                groups.join(", ")
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
            Failure::Then { first, then } => write!(f, "{first}\nand then: {then}"),
        }
    }
}

impl std::error::Error for Failure {}

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
}
