//! `asg rollout`: replace a group's outdated instances without dropping below the capacity it
//! serves with, driven by udo (surge, wait for health, terminate, restore) or handed to AWS
//! instance refresh with `--native`.
//!
//! The decisions are in [`crate::rollout`] (pure, unit-tested); this module reads AWS, asks
//! [`rollout::next`] and carries the step out, one poll at a time. The group's `udo:rollout` tag
//! holds what a re-run needs to finish an interrupted rollout.

use super::{Batch, missing};
use crate::aws::asg::{self, Group, GroupUpdate};
use crate::aws::rollout::{self as aws_rollout, Health};
use crate::aws::{Clients, ec2};
use crate::config::Role;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::launch::LaunchKind;
use crate::plan::{self, Plan, Risk};
use crate::poll::Backoff;
use crate::rollout::{self, BatchSize, Inst, Saved, Step, View};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// How a rollout runs (from the command line).
#[derive(Debug, Clone)]
pub struct Options {
    pub batch: Option<String>,
    pub all: bool,
    pub timeout: u64,
    pub native: bool,
}

impl Options {
    /// Defaults for `asg updatelc --rollout`.
    pub fn defaults() -> Options {
        Options {
            batch: None,
            all: false,
            timeout: 600,
            native: false,
        }
    }
}

/// The progress line of one wait on a terminal: ended (with a newline) only when one was drawn,
/// so change lines that follow never come with blank lines between them.
struct Progress<'a> {
    ctx: &'a Ctx,
    shown: std::cell::Cell<bool>,
}

impl<'a> Progress<'a> {
    fn new(ctx: &'a Ctx) -> Progress<'a> {
        Progress {
            ctx,
            shown: std::cell::Cell::new(false),
        }
    }

    /// Redraws the line on a terminal; prints nothing elsewhere (the change lines say enough).
    fn show(&self, line: &str) {
        if self.ctx.out.interactive {
            self.ctx.out.progress(line);
            self.shown.set(true);
        }
    }

    fn done(&self) {
        if self.shown.replace(false) {
            self.ctx.out.progress_done();
        }
    }
}

pub async fn rollout(ctx: &Ctx, target_text: &str, opts: Options) -> Result<()> {
    let batch_size = match &opts.batch {
        None => BatchSize::default(),
        Some(b) => b
            .parse::<BatchSize>()
            .map_err(|e| Error::usage(e, "for example --batch 2 or --batch 25%"))?,
    };
    let batch = Batch::new(ctx, target_text)?;
    if opts.native {
        for role in batch.roles() {
            if LaunchKind::of(role) == LaunchKind::Configuration {
                return Err(Error::usage(
                    format!(
                        "--native uses AWS instance refresh, which needs a launch template; {} uses a launch configuration",
                        role.target()
                    ),
                    "leave out --native (udo then replaces the instances itself), or remove `launch: configuration` and run `udo asg updatelc` first",
                ));
            }
        }
    }
    let confirmed = batch.confirm("Roll out")?;
    batch
        .run(|role, prefix| {
            let opts = opts.clone();
            async move {
                if opts.native {
                    native(ctx, role, &prefix, batch_size, &opts, confirmed).await
                } else {
                    udo_driven(ctx, role, &prefix, batch_size, &opts, confirmed).await
                }
            }
        })
        .await
}

/// What the rollout knows about instances across polls: which are old (decided once per
/// instance, from EC2's launch tags), and where each new one has been seen healthy.
#[derive(Default)]
struct Known {
    old: HashMap<String, bool>,
    healthy: HashSet<(String, String)>,
    /// The last unhealthy state seen per instance, for messages.
    last_state: HashMap<String, String>,
    /// Up-to-date instances the group had before this rollout started: a failed batch never
    /// terminates them, as this rollout did not launch them.
    preexisting: HashSet<String>,
}

impl Known {
    /// Classifies every instance not seen before: one DescribeInstances for all of them on the
    /// first poll; instances that appear later were launched by this rollout, so they are new.
    async fn classify(
        &mut self,
        c: &Clients,
        g: &mut Group,
        saved_all: Option<&str>,
        first: bool,
    ) -> Result<()> {
        if first {
            let ids: Vec<String> = g.instances.iter().map(|i| i.id.clone()).collect();
            let found = ec2::instances(c, &ids).await?;
            g.use_launch_tags(&found);
            for i in &g.instances {
                let marked = saved_all.is_some_and(|id| {
                    found.iter().any(|e| {
                        e.id == i.id
                            && e.tags
                                .iter()
                                .any(|(k, v)| k == rollout::INSTANCE_TAG && v == id)
                    })
                });
                self.old.insert(i.id.clone(), g.is_outdated(i) || marked);
            }
        } else {
            for i in &g.instances {
                self.old.entry(i.id.clone()).or_insert(false);
            }
        }
        Ok(())
    }

    fn balancers(g: &Group) -> Vec<(bool, String)> {
        g.target_groups
            .iter()
            .map(|t| (true, t.clone()))
            .chain(g.load_balancers.iter().map(|l| (false, l.clone())))
            .collect()
    }

    /// Asks at most one balancer per poll about the new InService instances it has not yet
    /// seen healthy, so a poll makes at most two read calls (the group and this one).
    async fn check_health(&mut self, c: &Clients, g: &Group) -> Result<()> {
        let waiting: Vec<&str> = g
            .instances
            .iter()
            .filter(|i| {
                i.lifecycle == "InService" && !self.old.get(&i.id).copied().unwrap_or(false)
            })
            .map(|i| i.id.as_str())
            .collect();
        for (is_tg, b) in Self::balancers(g) {
            let ids: Vec<String> = waiting
                .iter()
                .filter(|id| !self.healthy.contains(&(b.clone(), id.to_string())))
                .map(|id| id.to_string())
                .collect();
            if ids.is_empty() {
                continue;
            }
            let health: Vec<Health> = if is_tg {
                aws_rollout::target_health(c, &b, &ids).await?
            } else {
                aws_rollout::classic_health(c, &b, &ids).await?
            };
            for h in health {
                if h.healthy {
                    self.healthy.insert((b.clone(), h.id));
                } else {
                    self.last_state.insert(h.id, format!("{} in {b}", h.state));
                }
            }
            return Ok(());
        }
        Ok(())
    }

    fn view(&self, g: &Group) -> View {
        let balancers = Self::balancers(g);
        View {
            min: g.min,
            max: g.max,
            desired: g.desired,
            instances: g
                .instances
                .iter()
                .map(|i| Inst {
                    id: i.id.clone(),
                    lifecycle: i.lifecycle.clone(),
                    old: self.old.get(&i.id).copied().unwrap_or(false),
                    healthy: balancers
                        .iter()
                        .all(|(_, b)| self.healthy.contains(&(b.clone(), i.id.clone()))),
                })
                .collect(),
        }
    }
}

fn saved_of(g: &Group) -> Option<Saved> {
    g.tags
        .iter()
        .find(|(k, _)| k == rollout::TAG)
        .and_then(|(_, v)| Saved::parse(v))
}

async fn udo_driven(
    ctx: &Ctx,
    role: &Role,
    prefix: &str,
    batch_size: BatchSize,
    opts: &Options,
    confirmed: bool,
) -> Result<()> {
    let c = ctx.clients_for(role).await?;
    let name = role.group_name();
    let mut g = asg::group(&c, &name).await?.ok_or_else(|| missing(role))?;
    let resumed = saved_of(&g);
    let mut known = Known::default();
    known
        .classify(
            &c,
            &mut g,
            resumed.as_ref().and_then(|s| s.all.as_deref()),
            true,
        )
        .await?;
    if resumed.is_none() && !opts.all {
        known.preexisting = g
            .instances
            .iter()
            .filter(|i| !known.old[&i.id])
            .map(|i| i.id.clone())
            .collect();
    }
    let old: Vec<String> = g
        .instances
        .iter()
        .filter(|i| (resumed.is_none() && opts.all) || known.old[&i.id])
        .filter(|i| !i.lifecycle.starts_with("Terminat"))
        .map(|i| i.id.clone())
        .collect();
    let saved = match &resumed {
        Some(s) => s.clone(),
        None => Saved {
            min: g.min,
            max: g.max,
            desired: g.desired,
            batch: batch_size.resolve(g.desired),
            suspended: rollout::SUSPEND
                .iter()
                .filter(|p| !g.suspended.iter().any(|s| s == *p))
                .map(|p| p.to_string())
                .collect(),
            all: opts.all.then(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
                    .to_string()
            }),
        },
    };
    if resumed.is_none() && old.is_empty() {
        println!(
            "{prefix}Group {name}: every instance runs {}; nothing to roll out.",
            g.launch.describe()
        );
        return Ok(());
    }
    let mut plan = Plan::default();
    plan.steps = rollout::plan(
        &name,
        &g.launch.describe(),
        &old,
        &saved,
        resumed.is_some(),
        !(g.target_groups.is_empty() && g.load_balancers.is_empty()),
    );
    let risk = if confirmed {
        Risk::Additive
    } else {
        Risk::Destructive
    };
    if !plan::gate(ctx, &format!("{prefix}{}:", role.target()), &plan, risk)? {
        return Ok(());
    }
    if resumed.is_none() {
        // The state goes on the group before anything moves, so any interruption from here on
        // is finished by a re-run.
        aws_rollout::set_group_tag(&c, &name, rollout::TAG, &saved.to_tag()).await?;
        if let Some(id) = &saved.all {
            aws_rollout::tag_instances(&c, &old, rollout::INSTANCE_TAG, id).await?;
            for id in &old {
                known.old.insert(id.clone(), true);
            }
        }
        ctx.events.emit(
            prefix,
            format!(
                "Started rollout of ASgroup {name}: {} instance(s) to replace, {} at a time",
                old.len(),
                saved.batch
            ),
        );
    } else {
        ctx.events.emit(
            prefix,
            format!(
                "Resumed rollout of ASgroup {name}: {} instance(s) left to replace",
                old.len()
            ),
        );
    }
    let to_suspend: Vec<String> = saved
        .suspended
        .iter()
        .filter(|p| !g.suspended.contains(p))
        .cloned()
        .collect();
    if !to_suspend.is_empty() {
        asg::suspend(&c, &name, &to_suspend).await?;
        ctx.events.emit(
            prefix,
            format!("Suspended {} of ASgroup {name}", to_suspend.join(", ")),
        );
    }
    let total = rollout::batches(old.len(), saved.batch).len();
    let progress = Progress::new(ctx);
    let run = drive(
        ctx,
        &progress,
        &c,
        &name,
        prefix,
        &saved,
        opts.timeout,
        total,
        g,
        known,
    );
    let result = tokio::select! {
        r = run => r,
        _ = tokio::signal::ctrl_c() => Err(Outcome::Interrupted),
    };
    match result {
        Ok((replaced, last)) => {
            finish(ctx, &c, &name, prefix, &saved, Some(last)).await?;
            ctx.events.emit(
                prefix,
                format!(
                    "Finished rollout of ASgroup {name}: {replaced} instance(s) replaced; desired {}, min {}, max {}",
                    saved.desired, saved.min, saved.max
                ),
            );
            Ok(())
        }
        Err(Outcome::Interrupted) => {
            progress.done();
            resume_processes(ctx, &c, &name, prefix, &saved).await?;
            Err(Error::Failed(format!(
                "rollout of {name} interrupted; the group keeps its surge size for now. Re-run `udo asg rollout {}` to finish it and restore desired {}, min {}, max {}",
                role.target(),
                saved.desired,
                saved.min,
                saved.max
            )))
        }
        Err(Outcome::Error(e)) => Err(e),
        Err(Outcome::Failed { why, view, undo }) => {
            progress.done();
            for id in &undo {
                aws_rollout::terminate_decrement(&c, id).await?;
            }
            if !undo.is_empty() {
                ctx.events.emit(
                    prefix,
                    format!(
                        "Terminated {} from ASgroup {name} (launched by the failed batch)",
                        undo.join(", ")
                    ),
                );
            }
            finish(ctx, &c, &name, prefix, &saved, None).await?;
            let left = view
                .instances
                .iter()
                .filter(|i| i.old && !i.lifecycle.starts_with("Terminat"))
                .count();
            ctx.events.emit(
                prefix,
                format!("Rolled back rollout of ASgroup {name}: {why}"),
            );
            Err(Error::Failed(format!(
                "rollout of {name} stopped: {why}. The instances of the failed batch were terminated, the sizes restored (desired {}, min {}, max {}), and {left} old instance(s) keep running; fix the cause and re-run `udo asg rollout {}`",
                saved.desired,
                saved.min,
                saved.max,
                role.target()
            )))
        }
    }
}

enum Outcome {
    Interrupted,
    Error(Error),
    /// A batch failed: `undo` are the new instances this rollout launched that never became
    /// ready.
    Failed {
        why: String,
        view: View,
        undo: Vec<String>,
    },
}

impl From<Error> for Outcome {
    fn from(e: Error) -> Outcome {
        Outcome::Error(e)
    }
}

/// The polling loop: returns how many old instances it terminated, and the group as last read.
#[allow(clippy::too_many_arguments)]
async fn drive(
    ctx: &Ctx,
    progress: &Progress<'_>,
    c: &Clients,
    name: &str,
    prefix: &str,
    saved: &Saved,
    timeout: u64,
    total: usize,
    mut g: Group,
    mut known: Known,
) -> std::result::Result<(usize, Group), Outcome> {
    let new_backoff = || Backoff::new(Duration::from_secs(2), Duration::from_secs(15));
    let mut backoff = new_backoff();
    // Draining instances are said once in plain output too: the wait can last minutes.
    let mut said_draining = String::new();
    let mut since = Instant::now();
    let mut batch = 0usize;
    let mut replaced = 0usize;
    let mut first = true;
    loop {
        if !first {
            g = asg::group(c, name).await?.ok_or_else(|| {
                Error::Failed(format!("group {name} disappeared during the rollout"))
            })?;
            known.classify(c, &mut g, None, false).await?;
        }
        first = false;
        known.check_health(c, &g).await?;
        let view = known.view(&g);
        match rollout::next(&view, saved) {
            Step::Wait(what) => {
                let waited = since.elapsed().as_secs();
                if waited >= timeout {
                    let states: Vec<String> = rollout::unfinished(&view)
                        .iter()
                        .map(|id| match known.last_state.get(id) {
                            Some(s) => format!("{id} ({s})"),
                            None => id.clone(),
                        })
                        .collect();
                    let undo = rollout::unfinished(&view)
                        .into_iter()
                        .filter(|id| !known.preexisting.contains(id))
                        .collect();
                    return Err(Outcome::Failed {
                        undo,
                        why: format!(
                            "batch {} did not become ready within {timeout}s (waiting for {what}{})",
                            batch.max(1),
                            if states.is_empty() {
                                String::new()
                            } else {
                                format!(": {}", states.join(", "))
                            }
                        ),
                        view,
                    });
                }
                if what.contains("draining") && !ctx.out.interactive && said_draining != what {
                    ctx.out.info(&format!("{prefix}{name}: waiting for {what}"));
                    said_draining = what.clone();
                }
                progress.show(&format!(
                    "{prefix}{name}: batch {}/{total}: waiting for {what} ({waited}s)",
                    batch.max(1)
                ));
                backoff.wait().await;
            }
            Step::Surge { desired, max } => {
                batch += 1;
                asg::update_group(
                    c,
                    name,
                    &GroupUpdate {
                        desired: Some(desired),
                        max,
                        ..Default::default()
                    },
                )
                .await?;
                progress.done();
                ctx.events.emit(
                    prefix,
                    format!(
                        "Rollout of {name}: batch {batch}/{total}: raised desired capacity {} -> {desired}{}",
                        view.desired,
                        max.map(|m| format!(" (max {} -> {m})", view.max))
                            .unwrap_or_default()
                    ),
                );
                since = Instant::now();
                backoff = new_backoff();
            }
            Step::Terminate(ids) => {
                for id in &ids {
                    aws_rollout::terminate_decrement(c, id).await?;
                }
                replaced += ids.len();
                progress.done();
                ctx.events.emit(
                    prefix,
                    format!(
                        "Rollout of {name}: batch {}/{total}: new instances ready; terminated {}",
                        batch.max(1),
                        ids.join(", ")
                    ),
                );
                since = Instant::now();
                backoff = new_backoff();
            }
            Step::Restore | Step::Done => return Ok((replaced, g)),
        }
    }
}

/// Puts the sizes back, resumes what udo suspended, and removes the state tag last, so an
/// interruption anywhere in here is finished by a re-run.
/// `last` is the group as just read, when nothing changed it since (else it is read again).
async fn finish(
    ctx: &Ctx,
    c: &Clients,
    name: &str,
    prefix: &str,
    saved: &Saved,
    last: Option<Group>,
) -> Result<()> {
    let g = match last {
        Some(g) => Some(g),
        None => asg::group(c, name).await?,
    };
    if let Some(g) = &g
        && (g.min, g.max, g.desired) != (saved.min, saved.max, saved.desired)
    {
        asg::update_group(
            c,
            name,
            &GroupUpdate {
                min: Some(saved.min),
                max: Some(saved.max),
                desired: Some(saved.desired),
                ..Default::default()
            },
        )
        .await?;
        ctx.events.emit(
            prefix,
            format!(
                "Restored ASgroup {name} to desired {}, min {}, max {} (was {}, {}, {})",
                saved.desired, saved.min, saved.max, g.desired, g.min, g.max
            ),
        );
    }
    resume_processes(ctx, c, name, prefix, saved).await?;
    aws_rollout::delete_group_tag(c, name, rollout::TAG).await?;
    Ok(())
}

async fn resume_processes(
    ctx: &Ctx,
    c: &Clients,
    name: &str,
    prefix: &str,
    saved: &Saved,
) -> Result<()> {
    if saved.suspended.is_empty() {
        return Ok(());
    }
    asg::resume(c, name, &saved.suspended).await?;
    ctx.events.emit(
        prefix,
        format!("Resumed {} of ASgroup {name}", saved.suspended.join(", ")),
    );
    Ok(())
}

// ---------------------------------------------------------------- --native

async fn native(
    ctx: &Ctx,
    role: &Role,
    prefix: &str,
    batch_size: BatchSize,
    opts: &Options,
    confirmed: bool,
) -> Result<()> {
    let c = ctx.clients_for(role).await?;
    let name = role.group_name();
    let g = asg::group(&c, &name).await?.ok_or_else(|| missing(role))?;
    let running = aws_rollout::refreshes(&c, &name, None)
        .await?
        .into_iter()
        .find(|r| r.active());
    let id = match running {
        Some(r) => {
            println!(
                "{prefix}An instance refresh of {name} is already running ({}, {}% done); following it.",
                r.id, r.percentage
            );
            r.id
        }
        None => {
            let min_healthy = batch_size.min_healthy_percentage(g.desired);
            let mut plan = Plan::default();
            plan.step(format!(
                "start an AWS instance refresh of {name}: minimum healthy {min_healthy}%, {}",
                if opts.all {
                    "replacing every instance"
                } else {
                    "skipping instances that already match"
                }
            ));
            let risk = if confirmed {
                Risk::Additive
            } else {
                Risk::Destructive
            };
            if !plan::gate(ctx, &format!("{prefix}{}:", role.target()), &plan, risk)? {
                return Ok(());
            }
            let id = aws_rollout::start_refresh(&c, &name, min_healthy, !opts.all).await?;
            ctx.events.emit(
                prefix,
                format!(
                    "Started instance refresh {id} of ASgroup {name} (minimum healthy {min_healthy}%)"
                ),
            );
            id
        }
    };
    let progress = Progress::new(ctx);
    let follow = async {
        let mut backoff = Backoff::new(Duration::from_secs(5), Duration::from_secs(30));
        let mut last = (String::new(), -1);
        let mut since = Instant::now();
        loop {
            let r = aws_rollout::refreshes(&c, &name, Some(&id))
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    Error::Failed(format!("instance refresh {id} of {name} vanished"))
                })?;
            if (r.status.clone(), r.percentage) != last {
                last = (r.status.clone(), r.percentage);
                since = Instant::now();
                if ctx.out.interactive {
                    progress.show(&format!(
                        "{prefix}{name}: instance refresh {}: {}% ({})",
                        r.status, r.percentage, r.reason
                    ));
                } else {
                    println!(
                        "{prefix}Instance refresh of {name}: {} {}%",
                        r.status, r.percentage
                    );
                }
            }
            if !r.active() {
                progress.done();
                return Ok(r);
            }
            if since.elapsed().as_secs() >= opts.timeout {
                progress.done();
                return Err(Error::Failed(format!(
                    "instance refresh {id} of {name} made no progress for {}s ({} {}%); it goes on in AWS: re-run `udo asg rollout {} --native` to follow it",
                    opts.timeout,
                    r.status,
                    r.percentage,
                    role.target()
                )));
            }
            backoff.wait().await;
        }
    };
    let r = tokio::select! {
        r = follow => r?,
        _ = tokio::signal::ctrl_c() => {
            // Ctrl-C means stop: AWS keeps the instances it already replaced, and a re-run
            // starts a new refresh that skips them.
            progress.done();
            aws_rollout::cancel_refresh(&c, &name).await?;
            ctx.events.emit(prefix, format!("Cancelled instance refresh {id} of ASgroup {name}"));
            return Err(Error::Failed(format!(
                "interrupted: cancelled instance refresh {id} of {name}; instances already replaced stay. Re-run `udo asg rollout {} --native` to finish",
                role.target()
            )));
        }
    };
    if r.status == "Successful" {
        ctx.events.emit(
            prefix,
            format!("Finished instance refresh {id} of ASgroup {name}"),
        );
        Ok(())
    } else {
        ctx.events.emit(
            prefix,
            format!("Instance refresh {id} of ASgroup {name} ended {}", r.status),
        );
        Err(Error::Failed(format!(
            "instance refresh {id} of {name} ended {}{}",
            r.status,
            if r.reason.is_empty() {
                String::new()
            } else {
                format!(": {}", r.reason)
            }
        )))
    }
}
