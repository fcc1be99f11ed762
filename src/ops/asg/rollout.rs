//! `asg rollout`: replace a group's outdated instances without dropping below the capacity it
//! serves with, driven by udo (surge, wait for health, terminate, restore) or handed to AWS
//! instance refresh with `--native`.
//!
//! The decisions are in [`crate::rollout`] (pure, unit-tested); this module reads AWS, asks
//! [`rollout::next`] and carries the step out, one poll at a time. The group's `udo:rollout` tag
//! holds what a re-run needs to finish an interrupted rollout.

use super::missing;
use crate::aws::asg::{self, Group, GroupUpdate};
use crate::aws::rollout::{self as aws_rollout, Health};
use crate::aws::{Clients, ec2};
use crate::config::Role;
use crate::context::Ctx;
use crate::engine::batch::{Batch, Gate};
use crate::engine::groups;
use crate::engine::suspend::{self, Purpose, Record};
use crate::engine::wait::{self, Plain, Stop, Wait};
use crate::error::{Error, Result};
use crate::failure::Failure;
use crate::launch::LaunchKind;
use crate::model::op_step::OpStep;
use crate::rollout::{self, BatchSize, Inst, Saved, Step, View};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// How a rollout runs (from the command line).
#[derive(Debug, Clone)]
pub struct Options {
    pub batch: Option<String>,
    pub all: bool,
    pub timeout: u64,
    pub native: bool,
    /// `--strategy`: `surge` or `bluegreen`; `None` for each role's `rollout.strategy`.
    pub strategy: Option<String>,
}

impl Options {
    /// Defaults for `asg updatelc --rollout`.
    pub fn defaults() -> Options {
        Options {
            batch: None,
            all: false,
            timeout: 600,
            native: false,
            strategy: None,
        }
    }

    /// Whether `role` is released blue/green: `--strategy`, else its `rollout.strategy`.
    fn bluegreen(&self, role: &Role) -> bool {
        self.strategy
            .as_deref()
            .or_else(|| role.settings.str("rollout.strategy"))
            == Some("bluegreen")
    }
}

pub async fn rollout(ctx: &Ctx, target_text: &str, opts: Options) -> Result<()> {
    let batch_size = match &opts.batch {
        None => BatchSize::default(),
        Some(b) => b
            .parse::<BatchSize>()
            .map_err(|e| Error::usage(e, "for example --batch 2 or --batch 25%"))?,
    };
    let batch = Batch::resolve(ctx, target_text)?;
    for role in batch.roles() {
        if opts.bluegreen(role) && (opts.native || opts.batch.is_some()) {
            return Err(Error::usage(
                format!(
                    "{} is released blue/green (a new group per release): --{} is for the surge strategy",
                    role.target(),
                    if opts.native { "native" } else { "batch" }
                ),
                "leave it out, or give --strategy surge",
            ));
        }
    }
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
    batch
        .run_gated(|role, prefix, gate| {
            let opts = opts.clone();
            async move {
                if opts.bluegreen(role) {
                    let o = super::release::Options {
                        all: opts.all,
                        timeout: opts.timeout,
                    };
                    super::release::release(ctx, role, &prefix, o, &gate).await
                } else if opts.native {
                    native(ctx, role, &prefix, batch_size, &opts, &gate).await
                } else {
                    udo_driven(ctx, role, &prefix, batch_size, &opts, &gate).await
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
    /// On a resumed rollout (`saved`), the instances carrying its id in their `udo:rollout` tag
    /// were in the group when it began: to replace with `--all`, never undone by a failed batch.
    async fn classify(
        &mut self,
        c: &Clients,
        g: &mut Group,
        saved: Option<&Saved>,
        first: bool,
    ) -> Result<()> {
        if first {
            let ids: Vec<String> = g.instances.iter().map(|i| i.id.clone()).collect();
            let found = ec2::instances(c, &ids).await?;
            g.use_launch_tags(&found);
            for i in &g.instances {
                let marked = saved.and_then(|s| s.id.as_deref()).is_some_and(|id| {
                    found.iter().any(|e| {
                        e.id == i.id
                            && e.tags
                                .iter()
                                .any(|(k, v)| k == rollout::INSTANCE_TAG && v == id)
                    })
                });
                let all = saved.is_some_and(|s| s.all.is_some());
                let old = g.is_outdated(i) || (all && marked);
                if marked && !old {
                    self.preexisting.insert(i.id.clone());
                }
                self.old.insert(i.id.clone(), old);
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

/// The role's active group, the one a rollout replaces instances in (a blue/green release's,
/// once switched to), when it is udo's to change; refused while a blue/green release of the
/// role is in progress (the release copied the group's sizes, which a surge would change).
async fn active_group(c: &Clients, role: &Role) -> Result<Group> {
    let found = groups::role(c, role).await?;
    let g = groups::active_of(role, &found)?.ok_or_else(|| missing(role))?;
    crate::engine::owner::check_group(role, &g)?;
    if let Some(r) = crate::model::plan::release_refusal(role, &found) {
        return Err(r.into());
    }
    Ok(g)
}

async fn udo_driven(
    ctx: &Ctx,
    role: &Role,
    prefix: &str,
    batch_size: BatchSize,
    opts: &Options,
    gate: &Gate,
) -> Result<()> {
    let c = ctx.clients_for(role).await?;
    let mut g = active_group(&c, role).await?;
    let name = g.name.clone();
    let resumed = saved_of(&g);
    let mut known = Known::default();
    known.classify(&c, &mut g, resumed.as_ref(), true).await?;
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
    let id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .to_string();
    let saved = match &resumed {
        // What the rollout suspended: its record, or (a rollout of an older udo) its state tag.
        Some(s) => Saved {
            suspended: suspend::plan(&[], &[], &{
                let mut r = s.suspended.clone();
                r.extend(suspend::recorded(&g, Purpose::Rollout));
                r
            }),
            ..s.clone()
        },
        None => Saved {
            min: g.min,
            max: g.max,
            desired: g.desired,
            batch: batch_size.resolve(g.desired),
            suspended: suspend::plan(
                &rollout::SUSPEND,
                &g.suspended,
                &suspend::recorded(&g, Purpose::Rollout),
            ),
            all: opts.all.then(|| id.clone()),
            id: Some(id.clone()),
            count: Some(old.len()),
        },
    };
    if resumed.is_none() && old.is_empty() {
        println!(
            "{prefix}Group {name}: every instance runs {}; nothing to roll out.",
            g.launch.describe()
        );
        return Ok(());
    }
    let steps = rollout::plan(
        &name,
        &g.launch.describe(),
        &old,
        &saved,
        resumed.is_some(),
        !(g.target_groups.is_empty() && g.load_balancers.is_empty()),
    );
    if !gate
        .pass(ctx, &format!("{prefix}{}:", role.target()), &steps, &[])
        .await?
    {
        return Ok(());
    }
    if resumed.is_none() {
        // What a re-run needs goes on AWS before anything moves, so any interruption from
        // here on is finished by a re-run: first the instances the group has now get the
        // rollout's id (the ones `--all` replaces; up-to-date ones a failed batch must never
        // terminate), then the group gets the saved state, with the processes to suspend
        // recorded in the same call. Killed between the two, there is no rollout to resume
        // and a re-run starts afresh.
        let present: Vec<String> = g
            .instances
            .iter()
            .filter(|i| !i.lifecycle.starts_with("Terminat"))
            .map(|i| i.id.clone())
            .collect();
        aws_rollout::tag_instances(&c, &present, rollout::INSTANCE_TAG, &id).await?;
        let state = [(rollout::TAG.to_string(), saved.to_tag())];
        suspend::record(&c, &g, Purpose::Rollout, &saved.suspended, &state).await?;
        if saved.all.is_some() {
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
    if resumed.is_some() {
        // An old rollout's list, or a record udo put back: write it if missing.
        suspend::record(&c, &g, Purpose::Rollout, &saved.suspended, &[]).await?;
    }
    suspend::suspend_recorded(
        ctx,
        &c,
        role,
        &g,
        Purpose::Rollout,
        &saved.suspended,
        prefix,
    )
    .await?;
    // A resumed rollout counts on from where the interrupted one was: the batches it set out
    // to make, and the one in progress (the group above its saved desired capacity).
    let planned = saved.count.unwrap_or(old.len()).max(old.len());
    let total = rollout::batches(planned, saved.batch).len();
    let batch_now = match &resumed {
        Some(_) => {
            rollout::batch_in_progress(planned - old.len(), saved.batch, g.desired > saved.desired)
        }
        None => 0,
    };
    let run = drive(
        ctx,
        &c,
        &name,
        prefix,
        &saved,
        opts.timeout,
        (batch_now, total),
        g,
        known,
    );
    let result = wait::interruptible(run)
        .await
        .unwrap_or(Err(Outcome::Interrupted));
    match result {
        Ok((replaced, last)) => {
            finish(ctx, &c, role, &name, prefix, &saved, Some(last)).await?;
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
            resume_processes(ctx, &c, role, &name, &saved, Record::Keep, prefix).await?;
            Err(Failure::RolloutInterrupted {
                group: name.clone(),
                target: role.target(),
                sizes: (saved.desired, saved.min, saved.max),
            }
            .into())
        }
        Err(Outcome::Error(e)) => Err(e),
        Err(Outcome::Failed { why, view, undo }) => {
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
            finish(ctx, &c, role, &name, prefix, &saved, None).await?;
            let left = view
                .instances
                .iter()
                .filter(|i| i.old && !i.lifecycle.starts_with("Terminat"))
                .count();
            ctx.events.emit(
                prefix,
                format!("Rolled back rollout of ASgroup {name}: {why}"),
            );
            Err(Failure::RolloutRolledBack {
                group: name.clone(),
                target: role.target(),
                why,
                sizes: (saved.desired, saved.min, saved.max),
                left,
            }
            .into())
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
    c: &Clients,
    name: &str,
    prefix: &str,
    saved: &Saved,
    timeout: u64,
    (mut batch, total): (usize, usize),
    mut g: Group,
    mut known: Known,
) -> std::result::Result<(usize, Group), Outcome> {
    // The timeout is per batch: the clock restarts at every surge and termination.
    let mut w = Wait::new(
        &ctx.out,
        prefix,
        (Duration::from_secs(2), Duration::from_secs(15)),
        Duration::from_secs(timeout),
        Plain::OnChange,
    );
    let mut replaced = 0usize;
    let mut first = true;
    loop {
        if !first {
            g = asg::group(c, name).await?.ok_or_else(|| {
                Error::from(Failure::GroupVanished {
                    group: name.to_string(),
                })
            })?;
            known.classify(c, &mut g, None, false).await?;
        }
        first = false;
        known.check_health(c, &g).await?;
        let view = known.view(&g);
        match rollout::next(&view, saved) {
            Step::Wait(what) => {
                let state = format!("{name}: batch {}/{total}: waiting for {what}", batch.max(1));
                match w.tick(&state).await {
                    Ok(()) => {}
                    Err(Stop::Interrupted) => return Err(Outcome::Interrupted),
                    Err(Stop::TimedOut { .. }) => {
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
                }
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
                w.done();
                ctx.events.emit(
                    prefix,
                    format!(
                        "Rollout of {name}: batch {batch}/{total}: raised desired capacity {} -> {desired}{}",
                        view.desired,
                        max.map(|m| format!(" (max {} -> {m})", view.max))
                            .unwrap_or_default()
                    ),
                );
                w.restart();
            }
            Step::Terminate(ids) => {
                for id in &ids {
                    aws_rollout::terminate_decrement(c, id).await?;
                }
                replaced += ids.len();
                w.done();
                ctx.events.emit(
                    prefix,
                    format!(
                        "Rollout of {name}: batch {}/{total}: new instances ready; terminated {}",
                        batch.max(1),
                        ids.join(", ")
                    ),
                );
                w.restart();
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
    role: &Role,
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
    // The record of suspended processes and the state tag go in one call, last.
    resume_processes(ctx, c, role, name, saved, Record::Remove, prefix).await
}

/// Resumes what the rollout suspended; the record goes with the state tag (`Remove`), or stays
/// for the re-run that finishes an interrupted rollout (`Keep`).
async fn resume_processes(
    ctx: &Ctx,
    c: &Clients,
    role: &Role,
    name: &str,
    saved: &Saved,
    record: Record,
    prefix: &str,
) -> Result<()> {
    suspend::resume(
        ctx,
        c,
        role,
        name,
        Purpose::Rollout,
        &saved.suspended,
        record,
        &[rollout::TAG],
        prefix,
    )
    .await
}

// ---------------------------------------------------------------- --native

async fn native(
    ctx: &Ctx,
    role: &Role,
    prefix: &str,
    batch_size: BatchSize,
    opts: &Options,
    gate: &Gate,
) -> Result<()> {
    let c = ctx.clients_for(role).await?;
    let g = active_group(&c, role).await?;
    let name = g.name.clone();
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
            gate.wait().await?;
            r.id
        }
        None => {
            let min_healthy = batch_size.min_healthy_percentage(g.desired);
            let steps = [crate::model::step::Step::Op(OpStep::InstanceRefresh {
                group: name.clone(),
                min_healthy,
                all: opts.all,
            })];
            if !gate
                .pass(ctx, &format!("{prefix}{}:", role.target()), &steps, &[])
                .await?
            {
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
    let follow = async {
        // The timeout counts time without progress: the clock restarts whenever the refresh
        // moves. Without a terminal, each move is a line on stdout instead of the redrawn one.
        let mut w = Wait::new(
            &ctx.out,
            prefix,
            (Duration::from_secs(5), Duration::from_secs(30)),
            Duration::from_secs(opts.timeout),
            Plain::Never,
        );
        let mut last = (String::new(), -1);
        loop {
            let r = aws_rollout::refreshes(&c, &name, Some(&id))
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    Error::from(Failure::RefreshVanished {
                        id: id.clone(),
                        group: name.clone(),
                    })
                })?;
            if (r.status.clone(), r.percentage) != last {
                last = (r.status.clone(), r.percentage);
                w.restart();
                if !ctx.out.interactive {
                    println!(
                        "{prefix}Instance refresh of {name}: {} {}%",
                        r.status, r.percentage
                    );
                }
            }
            if !r.active() {
                return Ok(Some(r));
            }
            let state = format!(
                "{name}: instance refresh {}: {}% ({})",
                r.status, r.percentage, r.reason
            );
            match w.tick(&state).await {
                Ok(()) => {}
                Err(Stop::Interrupted) => return Ok(None),
                Err(Stop::TimedOut { .. }) => {
                    return Err(Failure::RefreshStalled {
                        id: id.clone(),
                        group: name.clone(),
                        target: role.target(),
                        secs: opts.timeout,
                        status: r.status,
                        percentage: r.percentage,
                    }
                    .into());
                }
            }
        }
    };
    let r = match wait::interruptible(follow).await {
        Ok(Ok(Some(r))) => r,
        Ok(Err(e)) => return Err(e),
        Ok(Ok(None)) | Err(_) => {
            // Ctrl-C means stop: AWS keeps the instances it already replaced, and a re-run
            // starts a new refresh that skips them.
            aws_rollout::cancel_refresh(&c, &name).await?;
            ctx.events.emit(
                prefix,
                format!("Cancelled instance refresh {id} of ASgroup {name}"),
            );
            return Err(Failure::RefreshCancelled {
                id,
                group: name,
                target: role.target(),
            }
            .into());
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
        Err(Failure::RefreshEnded {
            id,
            group: name,
            status: r.status,
            reason: r.reason,
        }
        .into())
    }
}
