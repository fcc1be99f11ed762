//! The one runner of `CLUSTER.*` batches, for every command that takes one (`asg …`, `deploy`,
//! `apply`): the roles run concurrently with a bound, each role's lines are prefixed
//! `[cluster.role] `, a destructive batch asks once for all its roles, a role that fails does
//! not stop the others, and a summary ends the run; the command fails (exit 1) when any role
//! did, after its error was printed under the role's prefix.
//!
//! A single role (`CLUSTER.ROLE`, or `CLUSTER` with one role) runs directly: no prefix, no
//! summary, its error returned as it is.

use crate::config::Role;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::plan;
use crate::target::{self, Many};
use futures_util::StreamExt as _;
use std::future::Future;

/// How many roles of a batch run at once.
pub const CONCURRENCY: usize = 4;

/// What the last line of a batch says: how it went, given (roles that succeeded, all roles,
/// the targets of those that failed).
pub struct Summary {
    pub done: fn(usize, &str) -> String,
    pub partial: fn(usize, usize, &str) -> String,
}

impl Summary {
    /// `All 3 roles of dev.* succeeded.` / `2 of 3 roles succeeded; failed: dev.idle`.
    pub const fn default() -> Summary {
        Summary {
            done: |n, text| format!("All {n} roles of {text} succeeded."),
            partial: |ok, n, failed| format!("{ok} of {n} roles succeeded; failed: {failed}"),
        }
    }
}

/// The roles one command runs on, and how: one role directly, or a batch.
pub struct Batch<'a> {
    ctx: &'a Ctx,
    /// What the user named (`dev.*`), for the summary.
    text: String,
    roles: Vec<&'a Role>,
    many: bool,
    summary: Summary,
}

impl<'a> Batch<'a> {
    /// `many`: run as a batch (prefixes, summary) even with one role, as `CLUSTER.*` does.
    pub fn new(ctx: &'a Ctx, text: impl Into<String>, roles: Vec<&'a Role>, many: bool) -> Self {
        Batch {
            ctx,
            text: text.into(),
            roles,
            many,
            summary: Summary::default(),
        }
    }

    /// Resolves a command's TARGET (`CLUSTER.ROLE`, `CLUSTER` or `CLUSTER.*`) and checks every
    /// role's region, before any AWS call.
    pub fn resolve(ctx: &'a Ctx, text: &str) -> Result<Self> {
        let roles = target::resolve(&ctx.config, text, Many::Allowed)?;
        for role in &roles {
            ctx.region_of(role)?;
        }
        Ok(Batch::new(ctx, text, roles, text.ends_with(".*")))
    }

    /// Ends the batch with other words than [`Summary::default`].
    pub fn with_summary(mut self, summary: Summary) -> Self {
        self.summary = summary;
        self
    }

    pub fn roles(&self) -> &[&'a Role] {
        &self.roles
    }

    pub fn is_many(&self) -> bool {
        self.many
    }

    /// One confirmation for a whole batch of destructive operations, before any role runs;
    /// `true` when given (the roles then do not ask again). A single role asks for itself.
    pub fn confirm(&self, what: &str) -> Result<bool> {
        let names: Vec<String> = self.roles.iter().map(|r| r.group_name()).collect();
        self.confirm_groups(what, names)
    }

    /// [`Batch::confirm`], naming these groups (every group of each role, blue/green releases
    /// too, as `asg destroy` read them).
    pub fn confirm_groups(&self, what: &str, names: Vec<String>) -> Result<bool> {
        if !self.many || self.ctx.global.dry_run {
            return Ok(false);
        }
        println!(
            "{what} {} group{}: {}",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        );
        plan::confirm(self.ctx, "Proceed?")?;
        Ok(true)
    }

    /// Runs `op` for each role with its prefix.
    pub async fn run<F, Fut>(self, op: F) -> Result<()>
    where
        F: Fn(&'a Role, String) -> Fut,
        Fut: Future<Output = Result<()>> + 'a,
    {
        let inputs = vec![(); self.roles.len()];
        self.run_with(inputs, |role, prefix, ()| op(role, prefix))
            .await
    }

    /// Runs `op` for each role with its prefix and its own input (`inputs` in role order);
    /// any failure makes the whole command fail, after the other roles have run.
    pub async fn run_with<T, F, Fut>(self, inputs: Vec<T>, op: F) -> Result<()>
    where
        F: Fn(&'a Role, String, T) -> Fut,
        Fut: Future<Output = Result<()>> + 'a,
    {
        let many = self.many;
        let jobs = self.roles.iter().copied().zip(inputs);
        if !many {
            return match jobs.into_iter().next() {
                Some((role, input)) => op(role, String::new(), input).await,
                None => Ok(()),
            };
        }
        let results: Vec<(&Role, Result<()>)> =
            futures_util::stream::iter(jobs.map(|(r, input)| {
                let fut = op(r, prefix(true, r), input);
                async move { (r, fut.await) }
            }))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut failed = Vec::new();
        for role in &self.roles {
            let Some((_, Err(e))) = results.iter().find(|(r, _)| std::ptr::eq(*r, *role)) else {
                continue;
            };
            let text = e.to_string();
            for line in text.trim_end().lines() {
                eprintln!("{}{line}", prefix(true, role));
            }
            failed.push(role.target());
        }
        let ok = results.len() - failed.len();
        if failed.is_empty() {
            println!("{}", (self.summary.done)(results.len(), &self.text));
            Ok(())
        } else {
            Err(Error::Partial((self.summary.partial)(
                ok,
                results.len(),
                &failed.join(", "),
            )))
        }
    }
}

fn prefix(many: bool, role: &Role) -> String {
    if many {
        format!("[{}] ", role.target())
    } else {
        String::new()
    }
}
