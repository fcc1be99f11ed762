//! Acting on the right account: `account_id` in udo.yml names the AWS account a role or cluster
//! lives in. Before a command changes anything it asks STS who it is signed in as (once per
//! profile per process) and refuses, naming both accounts, when they differ; read commands only
//! warn. This is what stops `udo asg destroy prod.*` run with dev's credentials, or dev's with
//! prod's.

use crate::aws::{Clients, sts};
use crate::cli::{AsgCmd, ClusterCmd, Command, ConfigCmd, DeployCmd, LcCmd};
use crate::config::merge::Settings;
use crate::error::{Error, Result};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// Whether a command may change AWS (and so must refuse on the wrong account). Commands not
/// listed as reads count as writes: a new command is refused on the wrong account until it is
/// known to be harmless. `--dry-run` changes nothing and only warns.
pub fn writes(command: &Command, dry_run: bool) -> bool {
    if dry_run {
        return false;
    }
    !matches!(
        command,
        Command::Validate
            | Command::Version
            | Command::Completions { .. }
            | Command::Whoami
            | Command::Status { .. }
            | Command::Config(ConfigCmd::Show { .. })
            | Command::Lc(LcCmd::Cloudinit { .. } | LcCmd::Show { .. } | LcCmd::List)
            | Command::Cluster(ClusterCmd::List | ClusterCmd::Status { .. })
            | Command::Asg(
                AsgCmd::Scale { n: None, .. }
                    | AsgCmd::Instances { .. }
                    | AsgCmd::Randomip { .. }
                    | AsgCmd::Policies { .. }
            )
            | Command::Plan { .. }
            | Command::Deploy(crate::cli::DeployArgs {
                command: Some(
                    DeployCmd::List { .. } | DeployCmd::Last { .. } | DeployCmd::Status { .. }
                ),
                ..
            })
    )
}

/// The accounts seen so far, per profile (`None`: the default credentials).
#[derive(Default)]
pub struct Accounts {
    seen: tokio::sync::Mutex<HashMap<Option<String>, String>>,
    warned: Mutex<HashSet<(Option<String>, String)>>,
}

/// What the check concluded, before it is reported.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Match,
    Mismatch { expected: String, actual: String },
}

/// Compares the expected account with the actual one (pure).
pub fn compare(expected: &str, actual: &str) -> Verdict {
    if expected == actual {
        Verdict::Match
    } else {
        Verdict::Mismatch {
            expected: expected.to_string(),
            actual: actual.to_string(),
        }
    }
}

impl Accounts {
    /// The account a profile's credentials belong to: one STS call per profile per process.
    pub async fn actual(&self, profile: Option<&str>, c: &Clients) -> Result<String> {
        let key = profile.map(str::to_string);
        let mut seen = self.seen.lock().await;
        if let Some(a) = seen.get(&key) {
            return Ok(a.clone());
        }
        let account = sts::identity(c).await?.account;
        seen.insert(key, account.clone());
        Ok(account)
    }

    /// Every account known so far, per profile (for notifications: no new STS call).
    pub async fn known(&self) -> HashMap<Option<String>, String> {
        self.seen.lock().await.clone()
    }

    /// Records an account learnt elsewhere (`whoami` asks STS itself for the identity too).
    pub async fn remember(&self, profile: Option<&str>, account: &str) {
        self.seen
            .lock()
            .await
            .insert(profile.map(str::to_string), account.to_string());
    }

    /// Checks `settings`' `account_id` (if any) against the account `c` signs in to. `what` names
    /// the role or cluster. Refuses when `writes`; otherwise warns once per profile and account.
    pub async fn check(
        &self,
        c: &Clients,
        settings: &Settings,
        profile: Option<&str>,
        what: &str,
        writes: bool,
    ) -> Result<()> {
        let Some(leaf) = settings.leaf("account_id") else {
            return Ok(());
        };
        let actual = self.actual(profile, c).await?;
        let Verdict::Mismatch { expected, actual } = compare(&leaf.text, &actual) else {
            return Ok(());
        };
        let creds = match profile {
            Some(p) => format!("the credentials of profile `{p}`"),
            None => "the current credentials".to_string(),
        };
        let message = format!(
            "{what} belongs to AWS account {expected} (account_id, {} line {}), but {creds} are for account {actual}",
            leaf.origin.level.describe(),
            leaf.origin.span.line
        );
        if writes {
            return Err(Error::Access {
                message: format!("{message}; nothing was changed"),
                help: format!(
                    "sign in to account {expected} (--profile NAME, or `profile:` in udo.yml), or correct account_id if it is wrong"
                ),
            });
        }
        let first = self
            .warned
            .lock()
            .expect("warned set")
            .insert((profile.map(str::to_string), expected.clone()));
        if first {
            eprintln!("warning: {message}; what follows is account {actual}'s");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn cmd(args: &[&str]) -> Command {
        crate::cli::Cli::parse_from(std::iter::once("udo").chain(args.iter().copied())).command
    }

    #[test]
    fn reads_and_writes() {
        assert!(!writes(&cmd(&["status"]), false));
        assert!(!writes(&cmd(&["asg", "scale", "dev.web"]), false));
        assert!(writes(&cmd(&["asg", "scale", "dev.web", "3"]), false));
        assert!(writes(&cmd(&["cluster", "destroy", "dev"]), false));
        assert!(!writes(&cmd(&["cluster", "destroy", "dev"]), true));
        assert!(writes(&cmd(&["asg", "suspend", "dev.web"]), false));
        assert!(!writes(&cmd(&["lc", "show", "dev.web"]), false));
    }

    #[test]
    fn accounts_compare_exactly() {
        assert_eq!(compare("123456789012", "123456789012"), Verdict::Match);
        assert_eq!(
            compare("111111111111", "123456789012"),
            Verdict::Mismatch {
                expected: "111111111111".into(),
                actual: "123456789012".into()
            }
        );
    }
}
