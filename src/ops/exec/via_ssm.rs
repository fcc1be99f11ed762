//! `udo exec --via ssm`: the command on the chosen instances through AWS Systems Manager Run
//! Command (AWS-RunShellScript), with the ssh back end's output, JSON and exit statuses.
//!
//! Calls, for N chosen hosts of one group with short outputs: one DescribeInstanceInformation
//! page per 50 hosts (agents not registered are unreachable and get nothing), one SendCommand
//! (a tag target for a whole group, else up to 50 instance ids a call), then per poll one
//! ListCommandInvocations page per 50 hosts. Only a host whose plugin output AWS cut at 2,500
//! characters costs a GetCommandInvocation (and, with `ssm.output_bucket`, S3 reads).
//!
//! Memory stays flat in N: no task or thread per host; a poll handles a page at a time, and
//! with text output a host's output is printed and dropped as soon as it has finished.

use super::{color, report};
use crate::aws::ssm::{self as aws_ssm, Invocation, Targets};
use crate::aws::{Clients, s3};
use crate::cli::{ExecArgs, Via};
use crate::config::Role;
use crate::context::Ctx;
use crate::engine::hosts::{Host, RoleHosts};
use crate::engine::wait::{Plain, Stop, Tick, Wait};
use crate::error::Result;
use crate::failure::Failure;
use crate::fleet::{self, Outcome, Status};
use crate::ssm;
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

/// One SendCommand to make: a role's hosts (indices into the run's host list).
struct Unit {
    role: usize,
    targets: Targets,
    hosts: Vec<usize>,
}

/// A command AWS is running, and which of its hosts have not finished.
struct Active {
    unit: usize,
    command: String,
    waiting: HashSet<usize>,
}

/// Everything the run knows, host by host (index order = the run's host list).
struct Run<'a> {
    hosts: Vec<(&'a Host, String)>,
    roles: Vec<usize>,
    outcomes: Vec<Option<Outcome>>,
    truncated: Vec<bool>,
    keep_output: bool,
    color: bool,
    done: usize,
}

/// The run's wait for AWS (`engine::wait`): polls from every half second to every 5, no
/// timeout of its own (each host's `--timeout` and the delivery timeout bound it in AWS).
/// Its first Ctrl-C cancels the commands; it then polls every half second for at most a
/// minute while AWS ends them, and a second Ctrl-C stops waiting.
fn run_wait(out: &crate::output::Output) -> Wait<'_> {
    let w = Wait::new(
        out,
        "",
        (Duration::from_millis(500), Duration::from_secs(5)),
        Duration::MAX,
        Plain::Never,
    )
    .cancellable(Duration::from_secs(60), Duration::from_millis(500));
    // With text output each host's lines, as it finishes, are the progress; with JSON a
    // terminal sees the count of hosts done.
    if out.json() { w } else { w.quiet() }
}

impl Run<'_> {
    fn label(&self, i: usize) -> String {
        let (h, address) = &self.hosts[i];
        format!("{} {} {address}", h.role, h.id)
    }

    /// Records (and, with text output, prints) how host `i` ended.
    fn finish(&mut self, i: usize, mut o: Outcome, truncated: bool, w: &mut Wait) {
        if self.outcomes[i].is_some() {
            return;
        }
        if !self.keep_output {
            let prefix = fleet::label_prefix(i, &self.label(i), self.color);
            fleet::print_output(&prefix, &o.stdout, &o.stderr);
            if truncated {
                w.out().info(&format!(
                    "{prefix}note: Run Command kept only the first 24,000 characters of stdout and 8,000 of stderr; set `ssm.output_bucket` in udo.yml to have the whole output written to S3 and shown here"
                ));
            }
            o.stdout = String::new();
            o.stderr = String::new();
        }
        self.outcomes[i] = Some(o);
        self.truncated[i] = truncated;
        self.done += 1;
        w.show(&self.progress());
    }

    /// The progress line: how many hosts have finished.
    fn progress(&self) -> String {
        format!("{} of {} hosts done", self.done, self.hosts.len())
    }
}

fn outcome(status: Status, exit_status: Option<i32>, duration: Duration) -> Outcome {
    Outcome {
        status,
        exit_status,
        stdout: String::new(),
        stderr: String::new(),
        duration,
    }
}

/// Runs the command on `chosen` (role index, host) through Run Command.
pub async fn run(
    ctx: &Ctx,
    a: &ExecArgs,
    roles: &[&Role],
    found: &[RoleHosts<'_>],
    chosen: &[(usize, &Host)],
) -> Result<()> {
    let mut run = Run {
        hosts: chosen
            .iter()
            .map(|(_, h)| (*h, h.address(a.private).unwrap_or("-").to_string()))
            .collect(),
        roles: chosen.iter().map(|(n, _)| *n).collect(),
        outcomes: vec![None; chosen.len()],
        truncated: vec![false; chosen.len()],
        keep_output: ctx.out.json(),
        color: color(ctx),
        done: 0,
    };
    // Clients per role (the account_id check included), and the agents' registrations: one
    // DescribeInstanceInformation page per 50 hosts of each place (profile and region).
    let mut clients: Vec<Clients> = Vec::new();
    for role in roles {
        clients.push(ctx.clients_for(role).await?);
    }
    let places = ctx.group_by_place((0..run.hosts.len()).collect(), |i| roles[run.roles[*i]])?;
    let mut ping: HashMap<String, String> = HashMap::new();
    for hosts in &places {
        let ids: Vec<String> = hosts.iter().map(|i| run.hosts[*i].0.id.clone()).collect();
        let c = &clients[run.roles[hosts[0]]];
        ping.extend(aws_ssm::agents(c, &ids).await?);
    }
    let online: Vec<bool> = (0..run.hosts.len())
        .map(|i| ping.get(&run.hosts[i].0.id).map(String::as_str) == Some("Online"))
        .collect();
    let reachable = |i: usize| online[i];

    // What to send: a whole group by its tag when every one of its instances (in any
    // lifecycle state) is InService, chosen and Online, so AWS reaches exactly udo's
    // hosts; otherwise instance ids, 50 a call.
    let mut units: Vec<Unit> = Vec::new();
    for (n, rh) in found.iter().enumerate().take(roles.len()) {
        let mine: Vec<usize> = (0..run.hosts.len())
            .filter(|i| run.roles[*i] == n && reachable(*i))
            .collect();
        if mine.is_empty() {
            continue;
        }
        if mine.len() == rh.hosts.len() {
            units.push(Unit {
                role: n,
                // the role's active group (`aws:autoscaling:groupName`), not its base name
                targets: Targets::Group(rh.group_name()),
                hosts: mine,
            });
        } else {
            for chunk in mine.chunks(aws_ssm::BATCH) {
                units.push(Unit {
                    role: n,
                    targets: Targets::Instances(
                        chunk.iter().map(|i| run.hosts[*i].0.id.clone()).collect(),
                    ),
                    hosts: chunk.to_vec(),
                });
            }
        }
    }

    if ctx.global.dry_run {
        let how = match a.rolling {
            Some(n) => format!("{n} at a time, --rolling"),
            None => format!("{} at a time", a.parallel),
        };
        println!(
            "Would run `{}` on {} host{} with SSM Run Command ({}, {how}):",
            a.command.join(" "),
            run.hosts.len(),
            if run.hosts.len() == 1 { "" } else { "s" },
            aws_ssm::DOCUMENT
        );
        for i in 0..run.hosts.len() {
            let note = if reachable(i) {
                String::new()
            } else {
                " (unreachable: no Online SSM agent)".to_string()
            };
            println!("  {}{note}", run.label(i));
        }
        for u in &units {
            match &u.targets {
                Targets::Group(g) => println!(
                    "  SendCommand to tag:aws:autoscaling:groupName={g} ({} hosts)",
                    u.hosts.len()
                ),
                Targets::Instances(ids) => {
                    println!("  SendCommand to {} instance ids", ids.len())
                }
            }
        }
        println!("Dry run: nothing was run.");
        return Ok(());
    }

    // Listened to from before the first send: a Ctrl-C during a send or a poll is kept for
    // the next round of the wait.
    let mut wait = run_wait(&ctx.out);
    // Hosts without an Online agent are unreachable before anything is sent.
    let mut unreachable = 0;
    for i in 0..run.hosts.len() {
        if !reachable(i) {
            let why = ssm::unregistered_reason(ping.get(&run.hosts[i].0.id).map(String::as_str));
            run.finish(
                i,
                outcome(Status::Unreachable(why), None, Duration::ZERO),
                false,
                &mut wait,
            );
            unreachable += 1;
        }
    }

    // How the units go out: with --rolling, or more commands than --parallel allows at once,
    // one after the other; otherwise all at once, sharing --parallel between them.
    let shares = match a.rolling {
        Some(_) => None,
        None => ssm::split_concurrency(
            a.parallel,
            &units.iter().map(|u| u.hosts.len()).collect::<Vec<_>>(),
        ),
    };
    let mut queue: VecDeque<usize> = (0..units.len()).collect();
    let mut active: Vec<Active> = Vec::new();
    let mut command_ids: Vec<String> = Vec::new();
    let mut failures = unreachable;
    let mut interrupted = false;
    let mut strangers: HashSet<String> = HashSet::new();
    let script = a.command.join(" ");
    let output_of = |n: usize| {
        roles[n].settings.str("ssm.output_bucket").map(|b| {
            (
                b.to_string(),
                roles[n].settings.str("ssm.output_prefix").map(String::from),
            )
        })
    };

    loop {
        // Send what may go now.
        while !interrupted && !queue.is_empty() && (shares.is_some() || active.is_empty()) {
            let u = queue.pop_front().expect("queue is not empty");
            let unit = &units[u];
            let (concurrency, max_errors) = match (a.rolling, &shares) {
                (Some(batch), _) => {
                    if failures > a.max_failures {
                        for i in &unit.hosts {
                            run.finish(
                                *i,
                                outcome(
                                    Status::NotRun(
                                        "the rolling run stopped after too many failures".into(),
                                    ),
                                    None,
                                    Duration::ZERO,
                                ),
                                false,
                                &mut wait,
                            );
                        }
                        continue;
                    }
                    (batch, (a.max_failures - failures).to_string())
                }
                (None, Some(split)) => (split[u], "100%".to_string()),
                (None, None) => (a.parallel, "100%".to_string()),
            };
            let send = aws_ssm::Send {
                script: script.clone(),
                execution_timeout: a.timeout,
                delivery_timeout: ssm::delivery_timeout(unit.hosts.len(), concurrency, a.timeout),
                max_concurrency: concurrency.to_string(),
                max_errors,
                output: output_of(unit.role),
                comment: comment(&a.target),
            };
            let c = &clients[unit.role];
            let id = aws_ssm::send(c, &send, &unit.targets).await?;
            let role = roles[unit.role];
            let message = format!(
                "Sent `{script}` to {} instance{} of ASgroup {} with SSM Run Command ({}): command id {id}",
                unit.hosts.len(),
                if unit.hosts.len() == 1 { "" } else { "s" },
                found[unit.role].group_name(),
                aws_ssm::DOCUMENT,
            );
            if ctx.out.json() {
                ctx.events.emit_for_on_stderr(role, "", message);
            } else {
                ctx.events.emit_for(role, "", message);
            }
            command_ids.push(id.clone());
            active.push(Active {
                unit: u,
                command: id,
                waiting: unit.hosts.iter().copied().collect(),
            });
        }
        if active.is_empty() {
            break;
        }

        // Wait; at the first Ctrl-C cancel what runs and report what ran. After a second one
        // (or a minute after the first), one last poll and udo stops waiting.
        let last = match wait.next(&run.progress()).await {
            Ok(Tick::Poll) => false,
            Ok(Tick::Cancel) => {
                interrupted = true;
                ctx.out.info(
                    "interrupted: cancelling the SSM command (CancelCommand) and reporting what ran",
                );
                for act in &active {
                    let role = roles[units[act.unit].role];
                    let c = &clients[units[act.unit].role];
                    if let Err(e) = aws_ssm::cancel(c, &act.command).await {
                        ctx.out.info(&format!("warning: {e}"));
                    }
                    let message = format!("Cancelled SSM command {} (Ctrl-C)", act.command);
                    if ctx.out.json() {
                        ctx.events.emit_for_on_stderr(role, "", message);
                    } else {
                        ctx.events.emit_for(role, "", message);
                    }
                }
                for u in queue.drain(..) {
                    for i in &units[u].hosts {
                        run.finish(
                            *i,
                            outcome(
                                Status::NotRun("cancelled (Ctrl-C) before it was sent".into()),
                                None,
                                Duration::ZERO,
                            ),
                            false,
                            &mut wait,
                        );
                    }
                }
                false
            }
            Err(Stop::Interrupted | Stop::TimedOut { .. }) => true,
        };

        // One poll: every page of every active command.
        let mut still: Vec<Active> = Vec::new();
        for mut act in std::mem::take(&mut active) {
            let unit = &units[act.unit];
            let c = &clients[unit.role];
            let mut token = None;
            let mut unfinished = 0;
            loop {
                let (page, next) = aws_ssm::invocations(c, &act.command, token).await?;
                for inv in &page {
                    let Some(i) = unit
                        .hosts
                        .iter()
                        .copied()
                        .find(|i| run.hosts[*i].0.id == inv.instance)
                    else {
                        if strangers.insert(inv.instance.clone()) {
                            ctx.out.info(&format!(
                                "note: AWS also runs the command on {}, which udo did not choose (not InService in ASgroup {}); it is not counted",
                                inv.instance,
                                found[unit.role].group_name()
                            ));
                        }
                        continue;
                    };
                    if !act.waiting.contains(&i) {
                        continue;
                    }
                    let Some(status) = ssm::classify(
                        &inv.status,
                        &inv.details,
                        inv.response_code,
                        inv.started.is_some(),
                    ) else {
                        unfinished += 1;
                        continue;
                    };
                    let (o, cut) =
                        finished(c, &act.command, inv, status, output_of(unit.role)).await?;
                    if !matches!(o.status, Status::Succeeded | Status::NotRun(_)) {
                        failures += 1;
                    }
                    run.finish(i, o, cut, &mut wait);
                    act.waiting.remove(&i);
                }
                match next {
                    Some(t) => token = Some(t),
                    None => break,
                }
            }
            if !act.waiting.is_empty() && unfinished == 0 {
                // Every invocation AWS lists has ended, yet some hosts have none: once the
                // command itself has ended, AWS will not run on them.
                let status = aws_ssm::command_status(c, &act.command).await?;
                if !matches!(
                    status.as_str(),
                    "Pending" | "InProgress" | "Cancelling" | ""
                ) {
                    for i in act.waiting.drain() {
                        run.finish(
                            i,
                            outcome(
                                Status::NotRun(format!(
                                    "AWS did not run the command on it (command {} ended {status})",
                                    act.command
                                )),
                                None,
                                Duration::ZERO,
                            ),
                            false,
                            &mut wait,
                        );
                    }
                }
            }
            if !act.waiting.is_empty() {
                still.push(act);
            }
        }
        active = still;
        if last {
            for act in active.drain(..) {
                for i in act.waiting {
                    run.finish(
                        i,
                        outcome(
                            Status::NotRun(format!(
                                "still running in AWS when udo stopped waiting (see command {})",
                                act.command
                            )),
                            None,
                            Duration::ZERO,
                        ),
                        false,
                        &mut wait,
                    );
                }
            }
            break;
        }
    }
    wait.done();
    let outcomes: Vec<Outcome> = run
        .outcomes
        .into_iter()
        .map(|o| {
            o.unwrap_or_else(|| outcome(Status::NotRun("never sent".into()), None, Duration::ZERO))
        })
        .collect();
    let result = report(
        ctx,
        a,
        Via::Ssm,
        &command_ids,
        &run.hosts,
        &outcomes,
        &run.truncated,
    );
    if interrupted {
        let ran = outcomes
            .iter()
            .filter(|o| !matches!(o.status, Status::NotRun(_) | Status::Cancelled))
            .count();
        return Err(Failure::ExecInterrupted {
            commands: command_ids,
            ran,
            hosts: outcomes.len(),
        }
        .into());
    }
    result
}

/// The comment AWS shows with the command (at most 100 characters), with a token unique to
/// this send first, so a send whose reply was lost can be found again (`aws::ssm::send`).
fn comment(target: &str) -> String {
    let token: String = (0..12)
        .map(|_| char::from_digit(fastrand::u32(..16), 16).unwrap_or('0'))
        .collect();
    let mut c = format!("udo-{token} exec {target}");
    c.truncate(100);
    c
}

/// A finished host's outcome with its whole output: the plugin output when AWS did not cut it;
/// else GetCommandInvocation's 24,000 + 8,000 characters; beyond those, the output bucket's
/// copy, or the cut text marked truncated.
async fn finished(
    c: &Clients,
    command: &str,
    inv: &Invocation,
    status: Status,
    bucket: Option<(String, Option<String>)>,
) -> Result<(Outcome, bool)> {
    let exit_status = (inv.response_code >= 0).then_some(inv.response_code);
    let mut o = outcome(status, exit_status, inv.duration());
    let split = ssm::split_output(&inv.output);
    if !split.cut {
        o.stdout = split.stdout;
        o.stderr = split.stderr;
        return Ok((o, false));
    }
    let (stdout, stderr) = aws_ssm::full_output(c, command, &inv.instance).await?;
    if !ssm::may_be_cut(&stdout, &stderr) {
        o.stdout = stdout;
        o.stderr = stderr;
        return Ok((o, false));
    }
    let Some((bucket, prefix)) = bucket else {
        o.stdout = stdout;
        o.stderr = stderr;
        return Ok((o, true));
    };
    let read = |stream: &'static str| {
        let key = ssm::s3_key(prefix.as_deref(), command, &inv.instance, stream);
        let bucket = bucket.clone();
        async move {
            s3::get(c, &bucket, &key)
                .await
                .map(|b| b.map(|b| String::from_utf8_lossy(&b).into_owned()))
        }
    };
    match read("stdout").await? {
        Some(full) => {
            o.stdout = full;
            o.stderr = read("stderr").await?.unwrap_or_default();
            Ok((o, false))
        }
        // The agent could not write to the bucket: what GetCommandInvocation has, marked cut.
        None => {
            o.stdout = stdout;
            o.stderr = stderr;
            Ok((o, true))
        }
    }
}
