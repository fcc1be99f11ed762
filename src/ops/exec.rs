//! `udo exec` (a command on every instance of a group, over ssh) and `udo ssh` (a session on
//! one instance).
//!
//! Three pieces, each on its own: host discovery (`engine::hosts`, two AWS calls), the ssh command
//! line (`crate::ssh`, pure) and the runner (`crate::fleet`, processes and output). This module
//! checks the request, joins the three, and reports.

use crate::aws::ssm;
use crate::cli::{ExecArgs, SshArgs, Via};
use crate::config::Role;
use crate::context::Ctx;
use crate::documents;
use crate::engine::hosts::{self, Host, RoleHosts};
use crate::engine::wait::{Plain, Wait};
use crate::error::{Error, Result};
use crate::failure::Failure;
use crate::fleet::{self, Ended, Job, Rolling, Status, Summary};
use crate::ssh::{self, Bastion, Endpoint, Invocation, Jump, Mode};
use crate::target::{self, Many};
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod via_ssm;

/// How one role is reached: its `ssh.*` settings and, with `ssh.bastion`, the jump host, which
/// may be another role's instance.
struct Reach<'a> {
    settings: ssh::Settings,
    bastion: Option<(Bastion, Option<&'a Role>)>,
}

fn reach<'a>(ctx: &'a Ctx, role: &Role) -> Result<Reach<'a>> {
    let s = &role.settings;
    let defaults = ssh::Settings::default();
    let settings = ssh::Settings {
        user: s.str("ssh.user").map_or(defaults.user, String::from),
        port: s
            .int("ssh.port")
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(defaults.port),
        identity_file: s.str("ssh.identity_file").map(String::from),
        options: s
            .list("ssh.options")
            .into_iter()
            .map(String::from)
            .collect(),
    };
    let bastion = match s.str("ssh.bastion") {
        None => None,
        Some(text) => {
            // Validated with the file; parsing again cannot fail, but say so if it does.
            let b = Bastion::parse(text).map_err(|e| Error::usage(e, "fix ssh.bastion"))?;
            let role = match b.host.split_once('.') {
                Some((cluster, _)) if ctx.config.cluster(cluster).is_some() => {
                    Some(target::one(&ctx.config, &b.host)?)
                }
                _ => None,
            };
            Some((b, role))
        }
    };
    Ok(Reach { settings, bastion })
}

/// The ssh client on PATH: udo needs the user's own OpenSSH, not a library.
fn find_ssh() -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("ssh"))
        .find(|p| p.is_file())
        .ok_or_else(|| Failure::NoSsh.into())
}

/// udo's own known-hosts file, its directory created (private) if missing.
fn known_hosts() -> Result<PathBuf> {
    let path = ssh::known_hosts_path().ok_or(Failure::NoKnownHostsPlace)?;
    if let Some(dir) = path.parent()
        && !dir.exists()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::local(format!("cannot create {}", dir.display()), e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
    }
    Ok(path)
}

/// The target's roles plus any bastion roles, each once, in that order.
fn roles_to_look_up<'a>(roles: &[&'a Role], reaches: &[Reach<'a>]) -> Vec<&'a Role> {
    let mut all: Vec<&'a Role> = roles.to_vec();
    for r in reaches {
        if let Some((_, Some(b))) = &r.bastion
            && !all.iter().any(|x| std::ptr::eq(*x, *b))
        {
            all.push(b);
        }
    }
    all
}

/// The jump host of a role, resolved: a bastion role becomes one of its InService instances.
fn jump_for(reach: &Reach, found: &[RoleHosts]) -> Result<Option<Jump>> {
    let Some((b, role)) = &reach.bastion else {
        return Ok(None);
    };
    let Some(role) = role else {
        return Ok(Some(Jump {
            user: b
                .user
                .clone()
                .unwrap_or_else(|| reach.settings.user.clone()),
            port: b.port.unwrap_or(ssh::DEFAULT_PORT),
            endpoint: Endpoint {
                address: b.host.clone(),
                alias: None,
            },
        }));
    };
    let rh = found
        .iter()
        .find(|f| std::ptr::eq(f.role, *role))
        .expect("bastion roles are looked up");
    let live: Vec<&Host> = rh
        .hosts
        .iter()
        .filter(|h| h.in_service() && h.address(false).is_some())
        .collect();
    if live.is_empty() {
        return Err(Failure::NoBastion {
            group: rh.group_name(),
            host: b.host.clone(),
        }
        .into());
    }
    let pick = live[fastrand::usize(..live.len())];
    let port = b
        .port
        .or_else(|| {
            role.settings
                .int("ssh.port")
                .and_then(|p| u16::try_from(p).ok())
        })
        .unwrap_or(ssh::DEFAULT_PORT);
    Ok(Some(Jump {
        user: b
            .user
            .clone()
            .unwrap_or_else(|| reach.settings.user.clone()),
        port,
        endpoint: Endpoint {
            address: pick.address(false).unwrap_or_default().to_string(),
            alias: Some(pick.id.clone()),
        },
    }))
}

fn check_args(a: &ExecArgs) -> Result<()> {
    if a.parallel == 0 {
        return Err(Error::usage(
            "--parallel 0 would run nothing",
            "give at least 1",
        ));
    }
    if a.rolling == Some(0) {
        return Err(Error::usage(
            "--rolling 0 would run nothing",
            "give at least 1 (the default)",
        ));
    }
    if !a.pause.is_finite() || a.pause < 0.0 {
        return Err(Error::usage(
            format!("--pause {} is not a number of seconds", a.pause),
            "give 0 or more seconds, e.g. --pause 30",
        ));
    }
    if a.timeout == 0 {
        return Err(Error::usage(
            "--timeout 0 would end every command at once",
            "give at least 1 second",
        ));
    }
    if a.outdated && !a.instances.is_empty() {
        return Err(Error::usage(
            "--outdated and --instances both choose the instances",
            "use one of them",
        ));
    }
    if a.command.iter().all(|w| w.trim().is_empty()) {
        return Err(Error::usage(
            "no command to run",
            "put the command after `--`: udo exec dev.web -- uptime",
        ));
    }
    for id in &a.instances {
        if !id.starts_with("i-") {
            return Err(Error::usage(
                format!("`{id}` is not an instance id"),
                "give ids such as i-0abc1234 (see `udo asg instances TARGET`)",
            ));
        }
    }
    Ok(())
}

/// What ssh's way of ending means for one host.
fn classify(ended: Ended, stderr: &str, took: Duration, timeout: Duration) -> Status {
    match ended {
        Ended::Exited(0) => Status::Succeeded,
        // 255 is ssh's own failure; a remote command exiting 255 leaves ssh's stderr quiet
        // (udo runs it with LogLevel=ERROR).
        Ended::Exited(255) if !stderr.trim().is_empty() => match ssh::refusal(stderr) {
            ssh::Refusal::HostKeyChanged => Status::HostKeyChanged,
            ssh::Refusal::Unreachable(why) => Status::Unreachable(why),
        },
        // The remote `timeout` ended the command.
        Ended::Exited(124) if took >= timeout => Status::TimedOut,
        Ended::Exited(code) => Status::Failed(code),
        Ended::Killed => Status::Failed(-1),
        Ended::Deadline => Status::TimedOut,
        Ended::SpawnFailed => Status::Unreachable(stderr.trim().to_string()),
    }
}

/// The back end of a run: `--via`, else the roles' `exec.via` (which must agree), else ssh.
fn via_of(a: &ExecArgs, roles: &[&Role]) -> Result<Via> {
    if let Some(v) = a.via {
        return Ok(v);
    }
    let of = |r: &Role| match r.settings.str("exec.via") {
        Some("ssm") => Via::Ssm,
        _ => Via::Ssh,
    };
    let first = roles.first().map_or(Via::Ssh, |r| of(r));
    if roles.iter().any(|r| of(r) != first) {
        let each: Vec<String> = roles
            .iter()
            .map(|r| format!("{}: {}", r.target(), of(r).word()))
            .collect();
        return Err(Error::usage(
            format!(
                "the roles of {} use different exec back ends ({})",
                a.target,
                each.join(", ")
            ),
            "pass --via ssh or --via ssm, or give them the same `exec.via` in udo.yml",
        ));
    }
    Ok(first)
}

/// What Run Command cannot do that the ssh back end can.
fn check_ssm_args(a: &ExecArgs) -> Result<()> {
    if a.pause > 0.0 {
        return Err(Error::usage(
            "--pause is not available with --via ssm: Run Command starts the next host as soon as one finishes",
            "leave out --pause, or run with --via ssh",
        ));
    }
    if a.timeout > ssm::MAX_EXECUTION_TIMEOUT {
        return Err(Error::usage(
            format!(
                "--timeout {} is longer than Run Command allows ({} seconds, 48 hours)",
                a.timeout,
                ssm::MAX_EXECUTION_TIMEOUT
            ),
            "give at most 172800 seconds",
        ));
    }
    Ok(())
}

pub async fn exec(ctx: &Ctx, a: &ExecArgs) -> Result<()> {
    check_args(a)?;
    let roles = target::resolve(&ctx.config, &a.target, Many::Allowed)?;
    let many = roles.len() > 1 || a.target.ends_with(".*");
    let via = via_of(a, &roles)?;
    if via == Via::Ssm {
        check_ssm_args(a)?;
        for r in &roles {
            ctx.region_of(r)?;
        }
        let found = hosts::discover(ctx, &roles).await?;
        let Some(chosen) = choose(ctx, a, &roles, &found, many, via)? else {
            return Ok(());
        };
        return via_ssm::run(ctx, a, &roles, &found, &chosen).await;
    }
    let reaches: Vec<Reach> = roles.iter().map(|r| reach(ctx, r)).collect::<Result<_>>()?;
    for r in &roles {
        ctx.region_of(r)?;
    }
    let ssh_bin = find_ssh()?;
    let known = known_hosts()?;

    let lookup = roles_to_look_up(&roles, &reaches);
    let found = hosts::discover(ctx, &lookup).await?;
    let Some(chosen) = choose(ctx, a, &roles, &found, many, via)? else {
        return Ok(());
    };

    // One ssh command line per host.
    let jumps: Vec<Option<Jump>> = reaches
        .iter()
        .map(|r| jump_for(r, &found))
        .collect::<Result<_>>()?;
    let remote = ssh::remote_command(&a.command, a.timeout);
    let mut jobs = Vec::new();
    let mut targets = Vec::new();
    for (n, h) in &chosen {
        let Some(address) = h.address(a.private) else {
            ctx.out.info(&format!(
                "note: {} has no {}address yet; skipped",
                h.id,
                if a.private { "private " } else { "" }
            ));
            continue;
        };
        let inv = Invocation {
            settings: &reaches[*n].settings,
            known_hosts: &known,
            mode: Mode::Batch,
            jump: jumps[*n].as_ref(),
        };
        let to = Endpoint {
            address: address.to_string(),
            alias: Some(h.id.clone()),
        };
        jobs.push(Job {
            label: format!("{} {} {address}", h.role, h.id),
            program: ssh_bin.to_string_lossy().into_owned(),
            args: inv.args(&to, Some(&remote)),
        });
        targets.push((*h, address.to_string()));
    }
    if jobs.is_empty() {
        return Err(Failure::NoAddresses {
            target: a.target.clone(),
        }
        .into());
    }

    if ctx.global.dry_run {
        let how = match a.rolling {
            Some(n) => format!("{n} at a time in this order, --rolling"),
            None => format!("{} at a time", a.parallel),
        };
        println!(
            "Would run `{}` on {} host{} ({how}):",
            a.command.join(" "),
            jobs.len(),
            if jobs.len() == 1 { "" } else { "s" }
        );
        for j in &jobs {
            println!("  {}", j.label);
        }
        println!("Dry run: nothing was run.");
        return Ok(());
    }
    let opts = fleet::Options {
        parallel: a.parallel,
        rolling: a.rolling.map(|batch| Rolling {
            batch,
            max_failures: a.max_failures,
            pause: Duration::from_secs_f64(a.pause),
        }),
        timeout: Duration::from_secs(a.timeout),
        stream: !ctx.out.json(),
        color: color(ctx),
    };
    // With -o json nothing streams: a terminal still sees how far the run is, as the line of
    // any other wait (only there: without a terminal the document says it all).
    let total = jobs.len();
    let waiting = std::sync::Mutex::new(Wait::new(
        &ctx.out,
        "",
        (Duration::ZERO, Duration::ZERO),
        Duration::MAX,
        Plain::Never,
    ));
    let progress = |n: usize| {
        if ctx.out.json() {
            let mut w = waiting.lock().unwrap_or_else(|e| e.into_inner());
            w.show(&format!("{n} of {total} hosts done"));
        }
    };
    let outcomes = fleet::run(&jobs, &opts, classify, &progress).await;
    drop(waiting);
    let truncated = vec![false; outcomes.len()];
    report(ctx, a, via, &[], &targets, &outcomes, &truncated)
}

/// Colour host prefixes: text output on a terminal, unless NO_COLOR.
fn color(ctx: &Ctx) -> bool {
    !ctx.out.json() && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Which instances a run reaches: the InService ones of the target's groups, narrowed by
/// `--instances`, `--outdated` and `--one`, each with the index of its role. `None` when
/// `--outdated` leaves nothing to run (said, and printed as JSON when asked).
fn choose<'h>(
    ctx: &Ctx,
    a: &ExecArgs,
    roles: &[&Role],
    found: &'h [RoleHosts],
    many: bool,
    via: Via,
) -> Result<Option<Vec<(usize, &'h Host)>>> {
    let mut chosen: Vec<(usize, &Host)> = Vec::new();
    let mut empty_groups = Vec::new();
    for (n, role) in roles.iter().enumerate() {
        let rh = &found[n];
        debug_assert!(std::ptr::eq(rh.role, *role));
        let Some(g) = &rh.group else {
            if many {
                ctx.out.info(&format!(
                    "note: {} has no autoscaling group; skipped",
                    role.target()
                ));
                continue;
            }
            return Err(Failure::NoGroup {
                group: role.group_name(),
                target: role.target(),
            }
            .into());
        };
        let live: Vec<&Host> = rh.hosts.iter().filter(|h| h.in_service()).collect();
        if live.is_empty() {
            empty_groups.push(g.name.clone());
        }
        chosen.extend(live.into_iter().map(|h| (n, h)));
    }
    if !a.instances.is_empty() {
        let all: Vec<&Host> = found[..roles.len()]
            .iter()
            .flat_map(|f| f.hosts.iter())
            .collect();
        let unknown: Vec<&str> = a
            .instances
            .iter()
            .filter(|id| !all.iter().any(|h| &h.id == *id))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(Error::usage(
                format!("not an instance of {}: {}", a.target, unknown.join(", ")),
                format!(
                    "its instances are: {} (see `udo asg instances {}`)",
                    if all.is_empty() {
                        "none".to_string()
                    } else {
                        all.iter()
                            .map(|h| h.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                    a.target
                ),
            ));
        }
        chosen.retain(|(_, h)| a.instances.contains(&h.id));
        if chosen.is_empty() {
            return Err(Failure::NoneInService {
                instances: a.instances.clone(),
            }
            .into());
        }
    }
    if chosen.is_empty() {
        return Err(Failure::NoInServiceIn {
            places: if empty_groups.is_empty() {
                vec![a.target.clone()]
            } else {
                empty_groups
            },
        }
        .into());
    }
    if a.outdated {
        chosen.retain(|(_, h)| h.outdated);
        if chosen.is_empty() {
            ctx.out.info(&format!(
                "No InService instance of {} runs an outdated launch version; nothing to run.",
                a.target
            ));
            if ctx.out.json() {
                report(ctx, a, via, &[], &[], &[], &[]).ok();
            }
            return Ok(None);
        }
    }
    if a.one {
        let pick = fastrand::usize(..chosen.len());
        chosen = vec![chosen[pick]];
    }
    Ok(Some(chosen))
}

/// The end of every run, whatever its back end: the JSON document, or the summary on stderr;
/// then the exit status (1 when any host did not succeed).
fn report(
    ctx: &Ctx,
    a: &ExecArgs,
    via: Via,
    command_ids: &[String],
    targets: &[(&Host, String)],
    outcomes: &[fleet::Outcome],
    truncated: &[bool],
) -> Result<()> {
    let summary = Summary::of(outcomes);
    if ctx.out.json() {
        let hosts: Vec<documents::ExecHost> = targets
            .iter()
            .zip(outcomes)
            .zip(truncated)
            .map(|(((h, address), o), cut)| documents::ExecHost {
                role: h.role.clone(),
                instance: h.id.clone(),
                address: address.clone(),
                status: o.status.word(),
                exit_status: o.exit_status,
                stdout: o.stdout.clone(),
                stderr: o.stderr.clone(),
                truncated: *cut,
                duration_ms: o.duration.as_millis() as u64,
            })
            .collect();
        ctx.out.print_json(&documents::Exec {
            target: a.target.clone(),
            command: a.command.join(" "),
            via: via.word(),
            command_ids: command_ids.to_vec(),
            hosts,
            summary: summary_json(&summary, targets, outcomes),
        });
    } else if !targets.is_empty() {
        let labels: Vec<String> = targets
            .iter()
            .map(|(h, address)| format!("{} {} {address}", h.role, h.id))
            .collect();
        eprint!("{}", summary.render(&labels, outcomes));
    }
    if summary.all_succeeded() {
        Ok(())
    } else {
        Err(Error::Partial(format!(
            "{} of {} hosts did not succeed",
            summary.hosts - summary.succeeded,
            summary.hosts
        )))
    }
}

fn summary_json(
    s: &Summary,
    targets: &[(&Host, String)],
    outcomes: &[fleet::Outcome],
) -> documents::ExecSummary {
    documents::ExecSummary {
        hosts: s.hosts,
        succeeded: s.succeeded,
        failed: s.failed,
        timed_out: s.timed_out,
        unreachable: s.unreachable,
        skipped: s.skipped,
        cancelled: s.cancelled,
        slowest: s.slowest.map(|i| documents::Slowest {
            instance: targets[i].0.id.clone(),
            duration_ms: outcomes[i].duration.as_millis() as u64,
        }),
    }
}

/// Finds the instance `udo ssh` names: an id, or a 1-based number from `udo asg instances`.
fn pick<'h>(group: &str, hosts: &'h [Host], wanted: Option<&str>) -> Result<&'h Host> {
    let Some(w) = wanted else {
        let live: Vec<&Host> = hosts.iter().filter(|h| h.in_service()).collect();
        if live.is_empty() {
            return Err(Failure::NoInService {
                group: group.to_string(),
            }
            .into());
        }
        return Ok(live[fastrand::usize(..live.len())]);
    };
    let found = match w.parse::<usize>() {
        Ok(n) => hosts.iter().find(|h| h.index == n),
        Err(_) => hosts.iter().find(|h| h.id == w),
    };
    found.ok_or_else(|| {
        Error::usage(
            format!("`{w}` is not an instance of {group}"),
            if hosts.is_empty() {
                "the group has no instances".to_string()
            } else {
                format!(
                    "give an id or a number from 1 to {}: {}",
                    hosts.len(),
                    hosts
                        .iter()
                        .map(|h| format!("{} {}", h.index, h.id))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        )
    })
}

pub async fn ssh(ctx: &Ctx, a: &SshArgs) -> Result<()> {
    let role = target::one(&ctx.config, &a.target)?;
    ctx.region_of(role)?;
    if let Some(w) = &a.instance
        && w.parse::<usize>().is_err()
        && !w.starts_with("i-")
    {
        return Err(Error::usage(
            format!("`{w}` is neither an instance id nor a number"),
            format!(
                "give an id such as i-0abc1234 or a number from `udo asg instances {}`",
                a.target
            ),
        ));
    }
    let reaches = vec![reach(ctx, role)?];
    let ssh_bin = find_ssh()?;
    let known = known_hosts()?;
    let found = hosts::discover(ctx, &roles_to_look_up(&[role], &reaches)).await?;
    if found[0].group.is_none() {
        return Err(Failure::NoGroup {
            group: role.group_name(),
            target: role.target(),
        }
        .into());
    }
    let host = pick(
        &found[0].group_name(),
        &found[0].hosts,
        a.instance.as_deref(),
    )?;
    let address = host.address(a.private).ok_or_else(|| Failure::NoAddress {
        instance: host.id.clone(),
    })?;
    let jump = jump_for(&reaches[0], &found)?;
    let inv = Invocation {
        settings: &reaches[0].settings,
        known_hosts: &known,
        mode: Mode::Interactive,
        jump: jump.as_ref(),
    };
    let to = Endpoint {
        address: address.to_string(),
        alias: Some(host.id.clone()),
    };
    let remote = (!a.command.is_empty()).then(|| a.command.join(" "));
    let args = inv.args(&to, remote.as_deref());
    if ctx.global.dry_run {
        let words: Vec<String> = args.iter().map(|w| ssh::shell_quote(w)).collect();
        println!("Would run: ssh {}", words.join(" "));
        println!("Dry run: nothing was run.");
        return Ok(());
    }
    ctx.out.info(&format!(
        "Connecting to {} {} ({address})",
        host.role, host.id
    ));
    Err(replace_with(&ssh_bin, &args))
}

/// Replaces udo with ssh, so the terminal and signals behave exactly as with plain ssh.
/// Returns only when that fails.
fn replace_with(program: &Path, args: &[String]) -> Error {
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        let e = std::process::Command::new(program).args(args).exec();
        Failure::local(format!("cannot run {}", program.display()), e).into()
    }
    #[cfg(not(unix))]
    {
        match std::process::Command::new(program).args(args).status() {
            Ok(s) => std::process::exit(s.code().unwrap_or(1)),
            Err(e) => Failure::local(format!("cannot run {}", program.display()), e).into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_exit_statuses_mean_what_they_say() {
        let t = Duration::from_secs(5);
        let quick = Duration::from_secs(1);
        assert_eq!(classify(Ended::Exited(0), "", quick, t), Status::Succeeded);
        assert_eq!(classify(Ended::Exited(3), "", quick, t), Status::Failed(3));
        assert_eq!(
            classify(
                Ended::Exited(255),
                "ssh: connect to host 127.0.1.9 port 22: Connection refused\n",
                quick,
                t
            ),
            Status::Unreachable(
                "ssh: connect to host 127.0.1.9 port 22: Connection refused".into()
            )
        );
        assert_eq!(
            classify(
                Ended::Exited(255),
                "Host key verification failed.\n",
                quick,
                t
            ),
            Status::HostKeyChanged
        );
        // the remote command itself exited 255: ssh printed nothing
        assert_eq!(
            classify(Ended::Exited(255), "", quick, t),
            Status::Failed(255)
        );
        // `timeout` ended it at the deadline; a command exiting 124 early is just a failure
        assert_eq!(classify(Ended::Exited(124), "", t, t), Status::TimedOut);
        assert_eq!(
            classify(Ended::Exited(124), "", quick, t),
            Status::Failed(124)
        );
        assert_eq!(classify(Ended::Deadline, "", t, t), Status::TimedOut);
    }
}
