//! `udo exec` and `udo ssh` against moto_server and a real OpenSSH server on loopback.
//!
//! The cluster lives in 127.0.0.0/16 with `public: false`, so every instance moto launches has a
//! loopback address (127.0.1.4, 127.0.1.5, … for web; 127.0.2.4, … for worker) and no public
//! one; `instances()` checks that before any test connects. A real sshd (tests/support/sshd.rs)
//! listens on the addresses a test wants reachable; an instance whose address it does not
//! listen on is an unreachable host. What ran where is proven from the server side: commands
//! append `$SSH_CONNECTION` (client, client port, server address, server port) to a file.

#[path = "support/sshd.rs"]
mod sshd;
mod support;

use sshd::Sshd;
use std::time::{Duration, Instant};
use support::loopback::{Inst, instances};
use support::{Moto, Test};

const LOOPBACK: &str = "\
app_name: shop
region: us-east-1
availability_zones: [us-east-1a, us-east-1b]
ami: ami-12c6146b
instance_type: t3.small
public: false
clusters:
  lo:
    vpc_cidr: 127.0.0.0/16
    roles:
      web:
        subnets_cidr: [127.0.1.0/24]
        scale_policy: {min_size: 3, max_size: 5, desired: 3}
      worker:
        subnets_cidr: [127.0.2.0/24]
        scale_policy: {min_size: 2, max_size: 2, desired: 2}
";

/// A moto server with the loopback cluster and the given roles' groups created.
fn cluster(yaml: &str, roles: &[&str]) -> (Moto, Test) {
    let moto = Moto::start();
    let t = Test::with_moto(&moto).config(yaml);
    t.run(&["cluster", "create", "lo"]).ok();
    for r in roles {
        t.run(&["asg", "create", &format!("lo.{r}")]).ok();
    }
    (moto, t)
}

fn ips(list: &[Inst]) -> Vec<&str> {
    list.iter().map(|i| i.ip.as_str()).collect()
}

/// Points udo.yml at the server.
fn connect(t: &Test, yaml: &str, s: &Sshd) {
    t.write("udo.yml", &format!("{yaml}{}", s.yaml()));
}

/// A command that records, on the server, which address it ran on.
fn record(t: &Test) -> String {
    format!(
        "echo \"$SSH_CONNECTION\" >> {}",
        t.path().join("ran.log").display()
    )
}

/// The server addresses the recording command ran on, in the order it ran.
fn ran_on(t: &Test) -> Vec<String> {
    std::fs::read_to_string(t.path().join("ran.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.split_whitespace().nth(2).unwrap().to_string())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn runs_exactly_once_on_every_in_service_instance_in_two_calls() {
    let (_m, t) = cluster(LOOPBACK, &["web"]);
    let web = instances(&t, "web");
    let s = Sshd::start(&ips(&web));
    connect(&t, LOOPBACK, &s);
    let cmd = format!("{} && echo hello from $(echo web)", record(&t));
    let out = t.run(&["-v", "exec", "lo.web", "--", &cmd]);
    out.ok();
    assert!(out.calls().len() <= 2, "{:?}", out.calls());
    assert_eq!(out.writes(), Vec::<String>::new());
    assert_eq!(
        sorted(ran_on(&t)),
        sorted(web.iter().map(|i| i.ip.clone()).collect())
    );
    for i in &web {
        out.stdout_has(&format!("[web {} {}] hello from web\n", i.id, i.ip));
    }
    out.stderr_has("3 hosts: 3 succeeded, 0 failed, 0 timed out, 0 unreachable; slowest web i-");
    // host keys went to udo's own file under each instance id, never to ~/.ssh/known_hosts
    assert!(!t.path().join(".ssh/known_hosts").exists());
    let known = t.path().join(".config/udo/known_hosts");
    for i in &web {
        let found = std::process::Command::new("ssh-keygen")
            .args(["-F", &i.id, "-f"])
            .arg(&known)
            .output()
            .unwrap();
        assert!(found.status.success(), "no key recorded for {}", i.id);
    }
}

#[test]
fn parallel_runs_hosts_at_the_same_time_and_parallel_1_does_not() {
    let (_m, t) = cluster(LOOPBACK, &["web"]);
    let web = instances(&t, "web");
    let s = Sshd::start(&ips(&web));
    connect(&t, LOOPBACK, &s);
    // each host notes on the server when it starts (S) and ends (E) its sleep
    let log = t.path().join("spans.log");
    let cmd = |secs: u32| format!("echo S >> {0}; sleep {secs}; echo E >> {0}", log.display());
    let start = Instant::now();
    t.run(&["exec", "lo.web", "--", &cmd(4)]).ok();
    let together = start.elapsed();
    let spans = std::fs::read_to_string(&log).unwrap().replace('\n', "");
    assert_eq!(spans, "SSSEEE", "the hosts did not run at the same time");
    assert!(
        together < Duration::from_secs(9),
        "3 hosts sleeping 4s took {together:?}"
    );
    std::fs::remove_file(&log).unwrap();
    let start = Instant::now();
    t.run(&["exec", "lo.web", "--parallel", "1", "--", &cmd(1)])
        .ok();
    let in_turn = start.elapsed();
    let spans = std::fs::read_to_string(&log).unwrap().replace('\n', "");
    assert_eq!(spans, "SESESE", "--parallel 1 overlapped hosts");
    assert!(in_turn >= Duration::from_secs(3), "took only {in_turn:?}");
}

#[test]
fn rolling_runs_in_order_and_stops_at_the_first_failure() {
    let (_m, t) = cluster(LOOPBACK, &["web"]);
    let web = instances(&t, "web");
    let s = Sshd::start(&ips(&web));
    connect(&t, LOOPBACK, &s);
    let log = t.path().join("ran.log");
    // the second host to run fails
    let cmd = format!("{}; test $(wc -l < {}) -ne 2", record(&t), log.display());
    let out = t.run(&["exec", "lo.web", "--rolling", "--", &cmd]);
    out.status(1)
        .stderr_has("3 hosts: 1 succeeded, 1 failed, 0 timed out, 0 unreachable, 1 skipped")
        .stderr_has(&format!(
            "[web {} {}] failed with exit status 1",
            web[1].id, web[1].ip
        ))
        .stderr_has(&format!(
            "[web {} {}] skipped: the rolling run stopped before it",
            web[2].id, web[2].ip
        ));
    assert_eq!(ran_on(&t), vec![web[0].ip.clone(), web[1].ip.clone()]);

    // tolerating one failure, every host runs, still in order
    std::fs::remove_file(&log).unwrap();
    t.run(&[
        "exec",
        "lo.web",
        "--rolling",
        "1",
        "--max-failures",
        "1",
        "--",
        &cmd,
    ])
    .status(1)
    .stderr_has("3 hosts: 2 succeeded, 1 failed, 0 timed out, 0 unreachable;");
    assert_eq!(
        ran_on(&t),
        web.iter().map(|i| i.ip.clone()).collect::<Vec<_>>()
    );
}

#[test]
fn one_failing_host_gives_exit_1_and_the_summary_says_which() {
    let (_m, t) = cluster(LOOPBACK, &["web"]);
    let web = instances(&t, "web");
    let s = Sshd::start(&ips(&web));
    connect(&t, LOOPBACK, &s);
    let cmd = format!(
        "case \"$SSH_CONNECTION\" in *' {} '*) echo broken >&2; exit 3;; esac; echo fine",
        web[1].ip
    );
    let out = t.run(&["exec", "lo.web", "--", &cmd]);
    out.status(1)
        .stderr_has("3 hosts: 2 succeeded, 1 failed, 0 timed out, 0 unreachable;")
        .stderr_has(&format!(
            "[web {} {}] failed with exit status 3",
            web[1].id, web[1].ip
        ))
        .stderr_has(&format!("[web {} {}] broken\n", web[1].id, web[1].ip))
        .stderr_has("error: 1 of 3 hosts did not succeed");
    assert_eq!(out.stdout.matches("] fine\n").count(), 2, "{}", out.stdout);
}

#[test]
fn timeout_ends_the_remote_command_and_counts_it() {
    let (_m, t) = cluster(LOOPBACK, &["web"]);
    let web = instances(&t, "web");
    let s = Sshd::start(&ips(&web[..1]));
    connect(&t, LOOPBACK, &s);
    let marker = t.path().join("late");
    let cmd = format!("sleep 3; touch {}", marker.display());
    let start = Instant::now();
    let out = t.run(&[
        "exec",
        "lo.web",
        "--instances",
        &web[0].id,
        "--timeout",
        "1",
        "--",
        &cmd,
    ]);
    let took = start.elapsed();
    out.status(1)
        .stderr_has("1 host: 0 succeeded, 0 failed, 1 timed out, 0 unreachable;")
        .stderr_has(&format!("[web {} {}] timed out", web[0].id, web[0].ip));
    assert!(took < Duration::from_millis(2800), "took {took:?}");
    // the remote command was ended, not left running
    std::thread::sleep(Duration::from_millis(3500));
    assert!(
        !marker.exists(),
        "the remote command ran on after its timeout"
    );
}

#[test]
fn an_unreachable_host_is_reported_and_does_not_hold_up_the_others() {
    let (_m, t) = cluster(LOOPBACK, &["web"]);
    let web = instances(&t, "web");
    // no server answers on the last instance's address
    let s = Sshd::start(&ips(&web[..2]));
    connect(&t, LOOPBACK, &s);
    let start = Instant::now();
    let out = t.run(&["exec", "lo.web", "--", &record(&t)]);
    out.status(1)
        .stderr_has("3 hosts: 2 succeeded, 0 failed, 0 timed out, 1 unreachable;")
        .stderr_has(&format!("[web {} {}] unreachable: ", web[2].id, web[2].ip));
    assert!(start.elapsed() < Duration::from_secs(8));
    assert_eq!(
        sorted(ran_on(&t)),
        sorted(vec![web[0].ip.clone(), web[1].ip.clone()])
    );
}

#[test]
fn json_output_has_every_host() {
    let (_m, t) = cluster(LOOPBACK, &["web"]);
    let web = instances(&t, "web");
    let s = Sshd::start(&ips(&web[..2]));
    connect(&t, LOOPBACK, &s);
    let cmd = "echo out; echo err >&2; exit 4".to_string();
    let out = t.run(&["exec", "lo.web", "-o", "json", "--", &cmd]);
    out.status(1);
    let j = out.json();
    assert_eq!(j["target"], "lo.web");
    assert_eq!(j["command"], cmd);
    let hosts = j["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 3);
    for (h, i) in hosts.iter().zip(&web) {
        assert_eq!(h["instance"], i.id.as_str());
        assert_eq!(h["address"], i.ip.as_str());
        assert_eq!(h["role"], "web");
        assert!(h["duration_ms"].is_u64());
    }
    assert_eq!(hosts[0]["status"], "failed");
    assert_eq!(hosts[0]["exit_status"], 4);
    assert_eq!(hosts[0]["stdout"], "out\n");
    assert_eq!(hosts[0]["stderr"], "err\n");
    assert_eq!(hosts[2]["status"], "unreachable");
    assert_eq!(hosts[2]["exit_status"], 255);
    let sum = &j["summary"];
    assert_eq!(sum["hosts"], 3);
    assert_eq!(sum["failed"], 2);
    assert_eq!(sum["unreachable"], 1);
    assert_eq!(sum["succeeded"], 0);
    // no prefixed lines mixed into the document
    assert!(!out.stdout.contains("[web "));
    // on a terminal, a progress line counts the hosts as they finish
    t.run_tty(&["exec", "lo.web", "-o", "json", "--", "true"], "")
        .status(1)
        .stdout_has("3 of 3 hosts done");
}

#[test]
fn a_changed_host_key_is_refused() {
    let (_m, t) = cluster(LOOPBACK, &["web"]);
    let web = instances(&t, "web");
    let mut s = Sshd::start(&ips(&web[..1]));
    connect(&t, LOOPBACK, &s);
    let one = ["exec", "lo.web", "--instances", &web[0].id, "--"];
    let mut args = one.to_vec();
    let rec = record(&t);
    args.push(&rec);
    t.run(&args).ok();
    // the same instance id now presents another key
    s.restart_with_new_host_key();
    let out = t.run(&args);
    out.status(1)
        .stderr_has("1 host: 0 succeeded, 0 failed, 0 timed out, 1 unreachable;")
        .stderr_has(&format!(
            "[web {} {}] refused: its host key changed",
            web[0].id, web[0].ip
        ));
    assert_eq!(ran_on(&t).len(), 1, "the command ran on the changed host");
    let mut json_args = args.clone();
    json_args.insert(0, "--output=json");
    let j = t.run(&json_args).status(1).json();
    assert_eq!(j["hosts"][0]["status"], "host_key_changed");
}

#[test]
fn ssh_runs_a_command_on_one_instance() {
    let (_m, t) = cluster(LOOPBACK, &["web"]);
    let web = instances(&t, "web");
    let s = Sshd::start(&ips(&web));
    connect(&t, LOOPBACK, &s);
    // by number, as `udo asg instances` lists them
    let out = t.run(&["ssh", "lo.web", "2", "--", "echo", "on", "$SSH_CONNECTION"]);
    out.ok().stdout_has(&format!(" {} {}\n", web[1].ip, s.port));
    assert!(out.stdout.starts_with("on 127.0.0.1 "), "{}", out.stdout);
    // by id
    t.run(&["ssh", "lo.web", &web[2].id, "--", "echo $SSH_CONNECTION"])
        .ok()
        .stdout_has(&format!(" {} {}\n", web[2].ip, s.port));
    // a random one, and ssh's own exit status comes back
    let any = t.run(&["ssh", "lo.web", "--", "echo $SSH_CONNECTION; exit 7"]);
    any.status(7);
    assert!(
        web.iter()
            .any(|i| any.stdout.contains(&format!(" {} ", i.ip)))
    );
}

#[test]
fn ssh_hands_the_terminal_to_an_interactive_session() {
    let (_m, t) = cluster(LOOPBACK, &["web"]);
    let web = instances(&t, "web");
    let s = Sshd::start(&ips(&web[..1]));
    connect(&t, LOOPBACK, &s);
    // typed at the terminal, run by the remote login shell on a terminal of its own
    let out = t.run_tty(
        &["ssh", "lo.web", &web[0].id],
        "test -t 0 && echo \"on-a-tty-$((6*7)) $SSH_CONNECTION\"\nexit\n",
    );
    out.ok()
        .stdout_has("on-a-tty-42 127.0.0.1 ")
        .stdout_has(&format!(" {} {}", web[0].ip, s.port));
}

#[test]
fn unknown_instances_exit_2_with_no_connection() {
    let (_m, t) = cluster(LOOPBACK, &["web"]);
    let web = instances(&t, "web");
    let s = Sshd::start(&ips(&web));
    connect(&t, LOOPBACK, &s);
    t.run(&[
        "exec",
        "lo.web",
        "--instances",
        "i-0000000000000dead",
        "--",
        &record(&t),
    ])
    .status(2)
    .stderr_has("not an instance of lo.web: i-0000000000000dead")
    .stderr_has(&web[0].id);
    t.run(&["ssh", "lo.web", "i-0000000000000dead", "--", &record(&t)])
        .status(2)
        .stderr_has("`i-0000000000000dead` is not an instance of lo-web");
    t.run(&["ssh", "lo.web", "9", "--", &record(&t)])
        .status(2)
        .stderr_has("a number from 1 to 3");
    assert!(ran_on(&t).is_empty());
}

#[test]
fn a_missing_group_or_one_with_no_in_service_instance_is_an_error() {
    let (_m, t) = cluster(LOOPBACK, &["web"]);
    let web = instances(&t, "web");
    let s = Sshd::start(&ips(&web));
    connect(&t, LOOPBACK, &s);
    t.run(&["exec", "lo.worker", "--", &record(&t)])
        .status(1)
        .stderr_has("autoscaling group lo-worker does not exist");
    t.run(&["asg", "scale", "lo.web", "0", "--yes"]).ok();
    t.run(&["exec", "lo.web", "--", &record(&t)])
        .status(1)
        .stderr_has("no InService instance in lo-web");
    t.run(&["ssh", "lo.web", "--", &record(&t)])
        .status(1)
        .stderr_has("group lo-web has no InService instance");
    assert!(ran_on(&t).is_empty());
}

#[test]
fn bad_targets_and_usage_exit_2_before_any_aws_call() {
    let t = Test::new().config(LOOPBACK);
    for args in [
        &["exec", "nope.web", "--", "true"][..],
        &["exec", "lo.wbe", "--", "true"],
        &["exec", "lo", "--", "true"],
        &["exec", "lo.web"],
        &["exec", "lo.web", "--parallel", "0", "--", "true"],
        &["exec", "lo.web", "--rolling", "0", "--", "true"],
        &["exec", "lo.web", "--max-failures", "2", "--", "true"],
        &["exec", "lo.web", "--instances", "web-1", "--", "true"],
        &["exec", "lo.web", "--timeout", "0", "--", "true"],
        &["ssh", "lo.*"],
        &["ssh", "nope"],
        &["ssh", "lo.web", "first"],
    ] {
        t.run(args).status(2);
    }
    t.run(&["exec", "lo.wbe", "--", "true"])
        .stderr_has("did you mean `lo.web`?");
    assert!(!t.aws_was_touched(), "a bad request reached AWS");
}

#[test]
fn cluster_star_runs_every_role_in_three_calls_at_most() {
    let (_m, t) = cluster(LOOPBACK, &["web", "worker"]);
    let web = instances(&t, "web");
    let worker = instances(&t, "worker");
    let all: Vec<Inst> = web.iter().chain(&worker).cloned().collect();
    let s = Sshd::start(&ips(&all));
    connect(&t, LOOPBACK, &s);
    let out = t.run(&["-v", "exec", "lo.*", "--", &record(&t)]);
    out.ok()
        .stderr_has("5 hosts: 5 succeeded, 0 failed, 0 timed out, 0 unreachable;");
    assert!(out.calls().len() <= 3, "{:?}", out.calls());
    assert_eq!(
        sorted(ran_on(&t)),
        sorted(all.iter().map(|i| i.ip.clone()).collect())
    );
    // --one picks a single instance
    std::fs::remove_file(t.path().join("ran.log")).unwrap();
    t.run(&["exec", "lo.*", "--one", "--", &record(&t)])
        .ok()
        .stderr_has("1 host: 1 succeeded");
    assert_eq!(ran_on(&t).len(), 1);
}

#[test]
fn outdated_with_none_outdated_and_dry_run_run_nothing() {
    let (_m, t) = cluster(LOOPBACK, &["web"]);
    let web = instances(&t, "web");
    let s = Sshd::start(&ips(&web));
    connect(&t, LOOPBACK, &s);
    t.run(&["exec", "lo.web", "--outdated", "--", &record(&t)])
        .ok()
        .stderr_has(
            "No InService instance of lo.web runs an outdated launch version; nothing to run.",
        );
    assert!(ran_on(&t).is_empty());
    // --dry-run names the hosts and runs nothing
    let out = t.run(&["exec", "lo.web", "--dry-run", "--", &record(&t)]);
    out.ok()
        .stdout_has("on 3 hosts (20 at a time):")
        .stdout_has("Dry run: nothing was run.");
    for i in &web {
        out.stdout_has(&format!("  web {} {}\n", i.id, i.ip));
    }
    t.run(&["ssh", "lo.web", "1", "--dry-run", "--", &record(&t)])
        .ok()
        .stdout_has(&format!("HostKeyAlias={}", web[0].id))
        .stdout_has("Dry run: nothing was run.");
    assert!(ran_on(&t).is_empty());
}

#[test]
fn outdated_reaches_the_instances_on_an_old_launch_version() {
    let (_m, t) = cluster(LOOPBACK, &["web"]);
    let web = instances(&t, "web");
    let s = Sshd::start(&ips(&web));
    let changed = LOOPBACK.replace("instance_type: t3.small", "instance_type: t3.large");
    connect(&t, &changed, &s);
    t.run(&["asg", "updatelc", "lo.web"]).ok();
    t.run(&["exec", "lo.web", "--outdated", "--", &record(&t)])
        .ok()
        .stderr_has("3 hosts: 3 succeeded");
    assert_eq!(
        sorted(ran_on(&t)),
        sorted(web.iter().map(|i| i.ip.clone()).collect())
    );
}

#[test]
fn a_bastion_role_is_the_jump_host() {
    let base = LOOPBACK.replace(
        "        subnets_cidr: [127.0.1.0/24]\n",
        "        subnets_cidr: [127.0.1.0/24]\n        ssh: {bastion: lo.worker}\n",
    );
    let (_m, t) = cluster(&base, &["web", "worker"]);
    let web = instances(&t, "web");
    let worker = instances(&t, "worker");
    let s = Sshd::start(&ips(&web));
    // the bastion is another server, on the worker addresses only, with its own port
    let bastion = Sshd::start(&ips(&worker));
    bastion.authorize(&s.client_key());
    let yaml = base.replace(
        "        subnets_cidr: [127.0.2.0/24]\n",
        &format!(
            "        subnets_cidr: [127.0.2.0/24]\n        ssh: {{port: {}}}\n",
            bastion.port
        ),
    );
    connect(&t, &yaml, &s);
    let out = t.run(&["-v", "exec", "lo.web", "--", &record(&t)]);
    out.ok();
    assert!(out.calls().len() <= 2, "{:?}", out.calls());
    assert_eq!(
        sorted(ran_on(&t)),
        sorted(web.iter().map(|i| i.ip.clone()).collect())
    );
    // without the bastion nothing gets through: every connection went through it
    drop(bastion);
    t.run(&["exec", "lo.web", "--", &record(&t)])
        .status(1)
        .stderr_has("3 hosts: 0 succeeded, 0 failed, 0 timed out, 3 unreachable;");
    assert_eq!(ran_on(&t).len(), 3);
}

#[test]
fn a_missing_ssh_client_is_a_clear_error() {
    let (_m, t) = cluster(LOOPBACK, &["web"]);
    let t = t.env("PATH", "/nonexistent");
    t.run(&["exec", "lo.web", "--", "true"])
        .status(1)
        .stderr_has("no `ssh` command found on PATH");
}

#[test]
fn ssh_settings_are_validated_with_their_place() {
    let t = Test::new().config(&format!(
        "{LOOPBACK}ssh:\n  port: 70000\n  bastion: 'me@host:port'\n  usr: root\n"
    ));
    let out = t.run(&["validate"]);
    out.status(2)
        .stderr_has("udo.yml:18:")
        .stderr_has("70000 is out of range")
        .stderr_has("is not a jump host")
        .stderr_has("did you mean `user`?");
    assert!(!t.aws_was_touched());
}
