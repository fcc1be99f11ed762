//! `udo exec --via ssm` against moto_server with the harness's Run Command stand-in
//! (tests/support/moto_plus.py): a stand-in SSM agent runs each invocation's script with
//! `sh -c` on this machine and sets `AWS_SSM_INSTANCE_ID`, as the real agent does, so what ran
//! where is proven by the scripts themselves: they append that variable to a file.
//!
//! The cluster is the loopback one of tests/exec.rs (127.0.0.0/16, no public addresses), so the
//! `--via ssh` cases reach a real sshd on the instances' addresses and nothing else.

#[path = "support/sshd.rs"]
#[allow(dead_code)]
mod sshd;
mod support;

use serde_json::{Value, json};
use sshd::Sshd;
use std::io::{BufRead, BufReader, Read, Write};
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

/// The same file with Run Command as every role's back end.
fn via_ssm(yaml: &str) -> String {
    format!("{yaml}exec: {{via: ssm}}\n")
}

fn cluster(yaml: &str, roles: &[&str]) -> (Moto, Test) {
    let moto = Moto::start();
    let t = Test::with_moto(&moto)
        .config(yaml)
        .env("UDO_POLL_MS", "100");
    t.run(&["cluster", "create", "lo"]).ok();
    for r in roles {
        t.run(&["asg", "create", &format!("lo.{r}")]).ok();
    }
    (moto, t)
}

/// A script that records, on this machine, which instance's agent ran it.
fn record(t: &Test) -> String {
    format!(
        "echo \"$AWS_SSM_INSTANCE_ID\" >> {}",
        t.path().join("ran.log").display()
    )
}

fn ran_on(t: &Test) -> Vec<String> {
    std::fs::read_to_string(t.path().join("ran.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn ids(list: &[Inst]) -> Vec<String> {
    list.iter().map(|i| i.id.clone()).collect()
}

/// Every SendCommand the stand-in received, as udo sent it.
fn sent(m: &Moto) -> Vec<Value> {
    m.control("ssm_sent", json!({}))["commands"]
        .as_array()
        .unwrap()
        .clone()
}

fn count(calls: &[String], op: &str) -> usize {
    calls.iter().filter(|c| c.as_str() == op).count()
}

#[test]
fn all_hosts_of_a_group_in_one_send_command_with_prefixed_output() {
    let hook = support::webhook::Webhook::start();
    let (m, t) = cluster(
        &format!("{}notify: ['{}']\n", via_ssm(LOOPBACK), hook.url("/chat")),
        &["web"],
    );
    let web = instances(&t, "web");
    let cmd = format!("{} && echo hello from $(echo web)", record(&t));
    let out = t.run(&["-v", "exec", "lo.web", "--", &cmd]);
    out.ok()
        .stderr_has("3 hosts: 3 succeeded, 0 failed, 0 timed out, 0 unreachable; slowest web i-")
        .stdout_has("with SSM Run Command (AWS-RunShellScript): command id ");
    for i in &web {
        out.stdout_has(&format!("[web {} {}] hello from web\n", i.id, i.ip));
    }
    assert_eq!(
        sorted(ran_on(&t)),
        sorted(ids(&web)),
        "each host exactly once"
    );
    let ops = out.ops();
    assert_eq!(count(&ops, "SendCommand"), 1, "{ops:?}");
    assert_eq!(count(&ops, "DescribeInstanceInformation"), 1, "{ops:?}");
    assert_eq!(count(&ops, "GetCommandInvocation"), 0, "{ops:?}");
    assert_eq!(out.writes(), vec!["SendCommand".to_string()]);
    // the whole group by its tag, with --parallel's default and the default --timeout
    let cmds = sent(&m);
    assert_eq!(cmds.len(), 1);
    let c = &cmds[0];
    assert_eq!(c["DocumentName"], "AWS-RunShellScript");
    assert_eq!(
        c["Targets"],
        json!([{"Key": "tag:aws:autoscaling:groupName", "Values": ["lo-web"]}])
    );
    assert!(
        c.get("InstanceIds")
            .is_none_or(|v| v.as_array().unwrap().is_empty())
    );
    assert_eq!(c["Parameters"]["commands"], json!([cmd]));
    assert_eq!(c["Parameters"]["executionTimeout"], json!(["600"]));
    assert_eq!(c["MaxConcurrency"], "3");
    assert_eq!(c["MaxErrors"], "100%");
    // the run is a chat event naming the command id
    let id = c["CommandId"].as_str().unwrap();
    out.stdout_has(&format!("command id {id}"));
    let posts: Vec<_> = hook
        .posts_to("/chat")
        .into_iter()
        .filter(|p| p.body["command"] == "exec")
        .collect();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(
        posts[0]
            .body
            .to_string()
            .contains(&format!("command id {id}")),
        "{:?}",
        posts[0].body
    );
}

#[test]
fn parallel_is_max_concurrency() {
    let (m, t) = cluster(&via_ssm(LOOPBACK), &["web"]);
    // each host notes when it starts (S) and ends (E) its sleep
    let log = t.path().join("spans.log");
    let cmd = |secs: u32| format!("echo S >> {0}; sleep {secs}; echo E >> {0}", log.display());
    // At the same time: each host, once started, waits (up to a minute) until all three have,
    // then ends. Run together, that is SSSEEE however late a loaded machine starts one of
    // them (a fixed sleep was not: a host started more than its 2 seconds after the first
    // gave SSESEE); run one at a time, the first ends alone after its minute.
    let together = format!(
        "echo S >> {0}; n=0; while [ \"$(grep -c S {0})\" -lt 3 ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n+1)); done; echo E >> {0}",
        log.display()
    );
    t.run(&["exec", "lo.web", "--", &together]).ok();
    let spans = std::fs::read_to_string(&log).unwrap().replace('\n', "");
    assert_eq!(spans, "SSSEEE", "the hosts did not run at the same time");
    std::fs::remove_file(&log).unwrap();
    t.run(&["exec", "lo.web", "--parallel", "1", "--", &cmd(1)])
        .ok();
    let spans = std::fs::read_to_string(&log).unwrap().replace('\n', "");
    assert_eq!(spans, "SESESE", "--parallel 1 overlapped hosts");
    let cmds = sent(&m);
    assert_eq!(cmds[1]["MaxConcurrency"], "1");
    // --rolling N with --max-failures K: MaxConcurrency N, MaxErrors K
    t.run(&[
        "exec",
        "lo.web",
        "--rolling",
        "2",
        "--max-failures",
        "1",
        "--",
        "true",
    ])
    .ok();
    let cmds = sent(&m);
    assert_eq!(
        (&cmds[2]["MaxConcurrency"], &cmds[2]["MaxErrors"]),
        (&json!("2"), &json!("1"))
    );
}

#[test]
fn instances_not_in_service_are_neither_targeted_nor_counted() {
    let (m, t) = cluster(&via_ssm(LOOPBACK), &["web"]);
    let web = instances(&t, "web");
    m.call(
        "autoscaling",
        &[
            ("Action", "EnterStandby"),
            ("Version", "2011-01-01"),
            ("AutoScalingGroupName", "lo-web"),
            ("InstanceIds.member.1", &web[0].id),
            ("ShouldDecrementDesiredCapacity", "true"),
        ],
    );
    t.run(&["exec", "lo.web", "--", &record(&t)])
        .ok()
        .stderr_has("2 hosts: 2 succeeded");
    assert_eq!(sorted(ran_on(&t)), sorted(ids(&web[1..])));
    // the tag would have reached the Standby instance too: udo named the two instead
    let c = &sent(&m)[0];
    assert_eq!(
        sorted(
            c["InstanceIds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        ),
        sorted(ids(&web[1..]))
    );
}

#[test]
fn an_agent_that_never_picks_the_command_up_is_unreachable_at_the_delivery_timeout() {
    let (m, t) = cluster(&via_ssm(LOOPBACK), &["web"]);
    let web = instances(&t, "web");
    m.control(
        "ssm_agent",
        json!({"instances": [web[2].id], "stalled": true}),
    );
    let start = Instant::now();
    let out = t.run(&["exec", "lo.web", "--timeout", "5", "--", &record(&t)]);
    out.status(1)
        .stderr_has("3 hosts: 2 succeeded, 0 failed, 0 timed out, 1 unreachable;")
        .stderr_has(&format!(
            "[web {} {}] unreachable: its SSM agent never picked the command up (Delivery Timed Out)",
            web[2].id, web[2].ip
        ));
    // AWS's shortest delivery timeout is 30 s
    assert!(
        start.elapsed() >= Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(sent(&m)[0]["TimeoutSeconds"], 30);
    assert_eq!(sorted(ran_on(&t)), sorted(ids(&web[..2])));
}

#[test]
fn a_subset_by_instances_is_sent_by_instance_id_and_runs_nowhere_else() {
    let (m, t) = cluster(&via_ssm(LOOPBACK), &["web"]);
    let web = instances(&t, "web");
    let pick = format!("{},{}", web[0].id, web[2].id);
    let out = t.run(&[
        "-v",
        "exec",
        "lo.web",
        "--instances",
        &pick,
        "--",
        &record(&t),
    ]);
    out.ok().stderr_has("2 hosts: 2 succeeded");
    assert_eq!(
        sorted(ran_on(&t)),
        sorted(vec![web[0].id.clone(), web[2].id.clone()])
    );
    assert_eq!(count(&out.ops(), "SendCommand"), 1);
    assert_eq!(
        sent(&m)[0]["InstanceIds"],
        json!([web[0].id, web[2].id]),
        "by instance id, only the chosen ones"
    );
    // --one: a single random instance
    std::fs::remove_file(t.path().join("ran.log")).unwrap();
    t.run(&["exec", "lo.web", "--one", "--", &record(&t)])
        .ok()
        .stderr_has("1 host: 1 succeeded");
    assert_eq!(ran_on(&t).len(), 1);
}

#[test]
fn cluster_star_runs_every_role_with_one_send_command_per_group() {
    let (m, t) = cluster(&via_ssm(LOOPBACK), &["web", "worker"]);
    let all: Vec<Inst> = instances(&t, "web")
        .into_iter()
        .chain(instances(&t, "worker"))
        .collect();
    let out = t.run(&["-v", "exec", "lo.*", "--", &record(&t)]);
    out.ok()
        .stderr_has("5 hosts: 5 succeeded, 0 failed, 0 timed out, 0 unreachable;");
    assert_eq!(sorted(ran_on(&t)), sorted(ids(&all)));
    let ops = out.ops();
    assert_eq!(count(&ops, "SendCommand"), 2, "{ops:?}");
    assert_eq!(count(&ops, "DescribeInstanceInformation"), 1, "{ops:?}");
    assert_eq!(out.stdout.matches("command id ").count(), 2);
    // sent at once, the two commands share --parallel
    std::fs::remove_file(t.path().join("ran.log")).unwrap();
    t.run(&["exec", "lo.*", "--parallel", "2", "--", &record(&t)])
        .ok();
    let cmds = sent(&m);
    assert_eq!(cmds.len(), 4);
    assert_eq!(
        (&cmds[2]["MaxConcurrency"], &cmds[3]["MaxConcurrency"]),
        (&json!("1"), &json!("1"))
    );
    // rolling, one group's command after the other's
    std::fs::remove_file(t.path().join("ran.log")).unwrap();
    t.run(&["exec", "lo.*", "--rolling", "2", "--", &record(&t)])
        .ok();
    let order = ran_on(&t);
    assert_eq!(sorted(order[..3].to_vec()), sorted(ids(&all[..3])));
    assert_eq!(sorted(order[3..].to_vec()), sorted(ids(&all[3..])));
}

#[test]
fn one_failing_host_gives_exit_1_and_the_summary_names_it() {
    let (_m, t) = cluster(&via_ssm(LOOPBACK), &["web"]);
    let web = instances(&t, "web");
    let cmd = format!(
        "case \"$AWS_SSM_INSTANCE_ID\" in {}) echo broken >&2; exit 3;; esac; echo fine",
        web[1].id
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
fn max_errors_stops_a_rolling_run_and_the_rest_is_not_run() {
    let (m, t) = cluster(&via_ssm(LOOPBACK), &["web"]);
    let log = t.path().join("ran.log");
    // the second host to run fails
    let cmd = format!("{}; test $(wc -l < {}) -ne 2", record(&t), log.display());
    let out = t.run(&["exec", "lo.web", "--rolling", "--", &cmd]);
    out.status(1)
        .stderr_has("3 hosts: 1 succeeded, 1 failed, 0 timed out, 0 unreachable, 1 skipped")
        .stderr_has("not run: AWS stopped sending the command after too many failures (MaxErrors)");
    assert_eq!(ran_on(&t).len(), 2, "AWS dispatched past MaxErrors");
    let c = &sent(&m)[0];
    assert_eq!(
        (&c["MaxConcurrency"], &c["MaxErrors"]),
        (&json!("1"), &json!("0"))
    );
    // tolerating one failure (MaxErrors 1), every host runs
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
    assert_eq!(ran_on(&t).len(), 3);
}

#[test]
fn a_host_past_its_timeout_is_timed_out_and_its_script_ended() {
    let (m, t) = cluster(&via_ssm(LOOPBACK), &["web"]);
    let web = instances(&t, "web");
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
    out.status(1)
        .stderr_has("1 host: 0 succeeded, 0 failed, 1 timed out, 0 unreachable;")
        .stderr_has(&format!("[web {} {}] timed out", web[0].id, web[0].ip));
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(sent(&m)[0]["Parameters"]["executionTimeout"], json!(["1"]));
    std::thread::sleep(Duration::from_millis(3500));
    assert!(!marker.exists(), "the script ran on after executionTimeout");
}

#[test]
fn an_instance_with_no_registered_agent_is_unreachable_and_gets_no_command() {
    let (m, t) = cluster(&via_ssm(LOOPBACK), &["web"]);
    let web = instances(&t, "web");
    m.control(
        "ssm_agent",
        json!({"instances": [web[2].id], "registered": false}),
    );
    let start = Instant::now();
    let out = t.run(&["-v", "exec", "lo.web", "--", &record(&t)]);
    out.status(1)
        .stderr_has("3 hosts: 2 succeeded, 0 failed, 0 timed out, 1 unreachable;")
        .stderr_has(&format!(
            "[web {} {}] unreachable: no SSM agent is registered for it",
            web[2].id, web[2].ip
        ))
        .stderr_has("instance profile with SSM permissions");
    assert_eq!(sorted(ran_on(&t)), sorted(ids(&web[..2])));
    // sent by id to the two others only: a command naming it would have waited for its
    // delivery timeout (30 s at least) before udo could finish
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(count(&out.ops(), "SendCommand"), 1);
    assert_eq!(sent(&m)[0]["InstanceIds"], json!([web[0].id, web[1].id]));
    // with every agent gone nothing is sent at all
    m.control(
        "ssm_agent",
        json!({"instances": [web[0].id, web[1].id], "registered": false}),
    );
    let out = t.run(&["-v", "exec", "lo.web", "--", &record(&t)]);
    out.status(1)
        .stderr_has("3 hosts: 0 succeeded, 0 failed, 0 timed out, 3 unreachable;");
    assert_eq!(count(&out.ops(), "SendCommand"), 0);
}

/// An agent that is registered but not Online (DescribeInstanceInformation's PingStatus
/// `ConnectionLost`: its pings stopped; `Inactive`) is unreachable, with the state it is in,
/// and gets no command: the group is then sent by instance id, never by its tag, which AWS
/// would resolve to those instances too. Online again, it runs, and the whole group goes by tag.
#[test]
fn agents_connection_lost_or_inactive_are_unreachable_and_get_no_command() {
    let (m, t) = cluster(&via_ssm(LOOPBACK), &["web"]);
    let web = instances(&t, "web");
    m.control(
        "ssm_agent",
        json!({"instances": [web[1].id], "ping": "ConnectionLost"}),
    );
    m.control(
        "ssm_agent",
        json!({"instances": [web[2].id], "ping": "Inactive"}),
    );
    let dry = t.run(&["exec", "lo.web", "--dry-run", "--", &record(&t)]);
    dry.ok()
        .stdout_has(&format!(
            "  web {} {} (unreachable: no Online SSM agent)",
            web[1].id, web[1].ip
        ))
        .stdout_has(&format!(
            "  web {} {} (unreachable: no Online SSM agent)",
            web[2].id, web[2].ip
        ))
        .stdout_has("SendCommand to 1 instance ids");
    let start = Instant::now();
    let out = t.run(&["-v", "exec", "lo.web", "--", &record(&t)]);
    out.status(1)
        .stderr_has("3 hosts: 1 succeeded, 0 failed, 0 timed out, 2 unreachable;")
        .stderr_has(&format!(
            "[web {} {}] unreachable: its SSM agent is ConnectionLost, not Online: it needs an instance profile with SSM permissions",
            web[1].id, web[1].ip
        ))
        .stderr_has(&format!(
            "[web {} {}] unreachable: its SSM agent is Inactive, not Online:",
            web[2].id, web[2].ip
        ));
    assert_eq!(ran_on(&t), ids(&web[..1]));
    // a command naming them would have waited for its delivery timeout (30 s at least)
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(count(&out.ops(), "SendCommand"), 1);
    assert_eq!(sent(&m)[0]["InstanceIds"], json!([web[0].id]));
    assert_eq!(sent(&m)[0].get("Targets"), None);
    let json = t
        .run(&["exec", "lo.web", "-o", "json", "--", "true"])
        .status(1)
        .json();
    let status = |id: &str| {
        json["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["instance"] == id)
            .map(|h| h["status"].clone())
    };
    assert_eq!(status(&web[1].id), Some(json!("unreachable")));
    assert_eq!(status(&web[2].id), Some(json!("unreachable")));
    assert_eq!(status(&web[0].id), Some(json!("succeeded")));
    // Online again: every instance runs, and the group goes as one tag target
    m.control(
        "ssm_agent",
        json!({"instances": [web[1].id, web[2].id], "ping": "Online"}),
    );
    std::fs::remove_file(t.path().join("ran.log")).unwrap();
    t.run(&["exec", "lo.web", "--", &record(&t)])
        .ok()
        .stderr_has("3 hosts: 3 succeeded");
    assert_eq!(sorted(ran_on(&t)), sorted(ids(&web)));
    let last = sent(&m).last().cloned().unwrap();
    assert_eq!(
        last["Targets"],
        json!([{"Key": "tag:aws:autoscaling:groupName", "Values": ["lo-web"]}])
    );
}

/// Creates an S3 bucket in moto (a REST call the query-protocol helper cannot make).
fn create_bucket(m: &Moto, name: &str) {
    let addr = m.endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let request = format!(
        "PUT /{name} HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    s.write_all(request.as_bytes()).unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}

#[test]
fn long_output_is_read_whole_from_the_output_bucket_or_marked_truncated() {
    let (m, t) = cluster(&via_ssm(LOOPBACK), &["web"]);
    let web = instances(&t, "web");
    // 30,000 characters of stdout (lines of 99 x and a newline), 9,000 of stderr
    let cmd = "i=0; while [ $i -lt 300 ]; do printf '%099d\\n' 0 | tr 0 x; i=$((i+1)); done; \
               i=0; while [ $i -lt 90 ]; do printf '%099d\\n' 0 | tr 0 e >&2; i=$((i+1)); done";
    let one = [
        "-o",
        "json",
        "exec",
        "lo.web",
        "--instances",
        &web[0].id,
        "--",
        cmd,
    ];
    let out = t.run(&[&["-v"][..], &one[..]].concat());
    out.ok();
    let j = out.json();
    let h = &j["hosts"][0];
    assert_eq!(h["truncated"], true);
    assert_eq!(h["stdout"].as_str().unwrap().len(), 24_000);
    assert_eq!(h["stderr"].as_str().unwrap().len(), 8_000);
    assert_eq!(count(&out.ops(), "GetCommandInvocation"), 1);
    // text output says how to get all of it
    t.run(&["exec", "lo.web", "--instances", &web[0].id, "--", cmd])
        .ok()
        .stderr_has("note: Run Command kept only the first 24,000 characters of stdout")
        .stderr_has("set `ssm.output_bucket` in udo.yml");
    // short output never costs a GetCommandInvocation
    let short = t.run(&["-v", "exec", "lo.web", "--", "echo short"]);
    short.ok();
    assert_eq!(count(&short.ops(), "GetCommandInvocation"), 0);

    // with an output bucket, the whole text comes from S3
    create_bucket(&m, "shop-ssm-output");
    t.write(
        "udo.yml",
        &format!(
            "{}ssm:\n  output_bucket: shop-ssm-output\n  output_prefix: exec/\n",
            via_ssm(LOOPBACK)
        ),
    );
    let out = t.run(&[&["-v"][..], &one[..]].concat());
    out.ok();
    let j = out.json();
    let h = &j["hosts"][0];
    assert_eq!(h["truncated"], false);
    let stdout = h["stdout"].as_str().unwrap();
    assert_eq!(stdout.len(), 30_000);
    assert!(
        stdout
            .lines()
            .all(|l| l.len() == 99 && l.bytes().all(|b| b == b'x'))
    );
    assert_eq!(h["stderr"].as_str().unwrap().len(), 9_000);
    let calls = out.calls();
    assert_eq!(count(&calls, "S3 GetObject"), 2, "{calls:?}");
}

#[test]
fn ctrl_c_cancels_the_command_and_reports_what_ran() {
    let (_m, t) = cluster(&via_ssm(LOOPBACK), &["web"]);
    let marker = t.path().join("finished");
    // one host at a time; each sleeps long enough to be interrupted
    let cmd = format!("{}; sleep 20; touch {}", record(&t), marker.display());
    let args = ["exec", "lo.web", "--parallel", "1", "--", &cmd];
    let mut child = t.spawn(&args);
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let sent = lines.next().expect("udo printed nothing").unwrap();
    assert!(sent.contains("command id "), "{sent}");
    // wait until the first host's script runs
    let deadline = Instant::now() + Duration::from_secs(20);
    while ran_on(&t).is_empty() {
        assert!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let start = Instant::now();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let out = support::Outcome::of(&args, child);
    out.status(1)
        .stderr_has("interrupted: cancelling the SSM command (CancelCommand)")
        .stderr_has(
            "3 hosts: 0 succeeded, 0 failed, 0 timed out, 0 unreachable, 2 skipped, 1 cancelled",
        )
        .stderr_has("cancelled while it ran")
        .stderr_has("not run: the run was cancelled before its turn")
        .stderr_has("error: interrupted: CancelCommand sent for ");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert!(
        rest.iter().any(|l| l.starts_with("Cancelled SSM command ")),
        "{rest:?}"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(ran_on(&t).len(), 1, "a host started after the cancel");
    assert!(!marker.exists());
}

/// The keys of a JSON document, recursively (array elements by their first element).
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.first().map(shape).into_iter().collect()),
        Value::Null => Value::Null,
        Value::Bool(_) => json!("bool"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
    }
}

#[test]
fn json_is_the_ssh_back_ends_document_and_via_ssh_still_uses_sshd() {
    let (_m, t) = cluster(&via_ssm(LOOPBACK), &["web"]);
    let web = instances(&t, "web");
    let s = Sshd::start(&web.iter().map(|i| i.ip.as_str()).collect::<Vec<_>>());
    t.write("udo.yml", &format!("{}{}", via_ssm(LOOPBACK), s.yaml()));
    let cmd = "echo out; echo err >&2; exit 4";
    let by_ssm = t.run(&["exec", "lo.web", "-o", "json", "--", cmd]);
    // the change event goes to stderr, beside the JSON document
    by_ssm.status(1).stderr_has("command id ");
    let by_ssh = t.run(&["exec", "lo.web", "--via", "ssh", "-o", "json", "--", cmd]);
    by_ssh.status(1);
    let (a, b) = (by_ssm.json(), by_ssh.json());
    // the same keys with the same kinds of values; `command_ids` is empty for ssh
    let without_ids = |v: &Value| {
        let mut v = shape(v);
        v.as_object_mut().unwrap().remove("command_ids");
        v
    };
    assert_eq!(without_ids(&a), without_ids(&b), "{a:#}\n{b:#}");
    assert!(b["command_ids"].as_array().unwrap().is_empty());
    assert_eq!(a["via"], "ssm");
    assert_eq!(b["via"], "ssh");
    assert_eq!(a["command_ids"].as_array().unwrap().len(), 1);
    for j in [&a, &b] {
        let hosts = j["hosts"].as_array().unwrap();
        assert_eq!(hosts.len(), 3);
        for (h, i) in hosts.iter().zip(&web) {
            assert_eq!(h["instance"], i.id.as_str());
            assert_eq!(h["address"], i.ip.as_str());
            assert_eq!(h["status"], "failed");
            assert_eq!(h["exit_status"], 4);
            assert_eq!(h["stdout"], "out\n");
            // ssh itself may add a line of its own on a loaded machine
            let stderr = h["stderr"].as_str().unwrap();
            assert!(
                stderr == "err\n" || (j["via"] == "ssh" && stderr.ends_with("err\n")),
                "{}: {stderr:?}",
                j["via"]
            );
        }
        assert_eq!(j["summary"]["failed"], 3);
    }
    // --via ssh went through the real sshd: the server saw each address
    let rec = format!(
        "echo \"$SSH_CONNECTION\" >> {}",
        t.path().join("ssh.log").display()
    );
    t.run(&["exec", "lo.web", "--via", "ssh", "--", &rec])
        .ok()
        .stderr_has("3 hosts: 3 succeeded");
    let seen: Vec<String> = std::fs::read_to_string(t.path().join("ssh.log"))
        .unwrap()
        .lines()
        .map(|l| l.split_whitespace().nth(2).unwrap().to_string())
        .collect();
    assert_eq!(
        sorted(seen),
        sorted(web.iter().map(|i| i.ip.clone()).collect())
    );
    assert!(
        ran_on(&t).is_empty(),
        "Run Command ran the --via ssh command"
    );
}

/// The README: with `-o json`, a terminal sees a progress line counting the hosts as they
/// finish; with text output the hosts' own lines are all it sees while the run goes on.
#[test]
fn a_terminal_sees_the_hosts_done_with_json_and_the_hosts_lines_with_text() {
    let (_m, t) = cluster(&via_ssm(LOOPBACK), &["web"]);
    t.run_tty(&["exec", "lo.web", "-o", "json", "--", "true"], "")
        .ok()
        .stdout_has("3 of 3 hosts done");
    t.run_tty(&["exec", "lo.web", "--", "echo hi"], "")
        .ok()
        .stdout_has("] hi")
        .stdout_lacks("hosts done");
}

#[test]
fn a_200_instance_group_stays_within_the_call_budget() {
    let yaml = LOOPBACK.replace(
        "scale_policy: {min_size: 3, max_size: 5, desired: 3}",
        "scale_policy: {min_size: 200, max_size: 200, desired: 200}",
    );
    let (m, t) = cluster(&via_ssm(&yaml), &["web"]);
    let out = t.run(&["-v", "exec", "lo.web", "--parallel", "50", "--", "true"]);
    out.ok()
        .stderr_has("200 hosts: 200 succeeded, 0 failed, 0 timed out, 0 unreachable;");
    let ops = out.ops();
    assert_eq!(count(&ops, "DescribeAutoScalingGroups"), 1, "{ops:?}");
    assert_eq!(count(&ops, "DescribeInstances"), 1, "{ops:?}");
    assert_eq!(count(&ops, "DescribeInstanceInformation"), 4, "{ops:?}");
    assert_eq!(count(&ops, "SendCommand"), 1, "{ops:?}");
    let pages = count(&ops, "ListCommandInvocations");
    assert!(
        pages >= 4 && pages.is_multiple_of(4),
        "{pages} pages: not 4 per poll"
    );
    assert_eq!(
        ops.len(),
        2 + 4 + 1 + pages,
        "nothing per instance: {ops:?}"
    );

    // a subset of 199 (one agent gone) goes by instance id, 50 a call, the four commands
    // sharing --parallel 50
    let web = instances(&t, "web");
    m.control(
        "ssm_agent",
        json!({"instances": [web[0].id], "registered": false}),
    );
    std::fs::remove_file(t.path().join("ran.log")).ok();
    t.run(&["exec", "lo.web", "--parallel", "50", "--", &record(&t)])
        .status(1)
        .stderr_has("200 hosts: 199 succeeded, 0 failed, 0 timed out, 1 unreachable;");
    let cmds = sent(&m);
    assert_eq!(cmds.len(), 5, "one tag command, then four by id");
    let sizes: Vec<usize> = cmds[1..]
        .iter()
        .map(|c| c["InstanceIds"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, vec![50, 50, 50, 49]);
    let shares: Vec<u64> = cmds[1..]
        .iter()
        .map(|c| c["MaxConcurrency"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(shares.iter().sum::<u64>(), 50, "{shares:?}");
    assert_eq!(sorted(ran_on(&t)), sorted(ids(&web[1..])));
}

#[test]
fn the_account_check_applies_before_anything_is_sent() {
    let (_m, t) = cluster(&via_ssm(LOOPBACK), &["web"]);
    t.write(
        "udo.yml",
        &format!("account_id: '000000000000'\n{}", via_ssm(LOOPBACK)),
    );
    let out = t.run(&["-v", "exec", "lo.web", "--", &record(&t)]);
    out.status(1).stderr_has("000000000000");
    let calls = out.calls();
    assert!(
        !calls.iter().any(|c| c.starts_with("SSM ")),
        "Systems Manager was called on the wrong account: {calls:?}"
    );
    assert!(ran_on(&t).is_empty());
}

#[test]
fn dry_run_names_hosts_and_sends_nothing() {
    let (m, t) = cluster(&via_ssm(LOOPBACK), &["web"]);
    let web = instances(&t, "web");
    m.control(
        "ssm_agent",
        json!({"instances": [web[1].id], "registered": false}),
    );
    let out = t.run(&["-v", "exec", "lo.web", "--dry-run", "--", &record(&t)]);
    out.ok()
        .stdout_has("on 3 hosts with SSM Run Command (AWS-RunShellScript, 20 at a time):")
        .stdout_has(&format!("  web {} {} (unreachable", web[1].id, web[1].ip))
        .stdout_has("SendCommand to 2 instance ids")
        .stdout_has("Dry run: nothing was run.");
    assert_eq!(out.writes(), Vec::<String>::new());
    assert!(ran_on(&t).is_empty());
}

#[test]
fn bad_via_usage_exits_2_before_any_aws_call() {
    let t = Test::new().config(LOOPBACK);
    for args in [
        &["exec", "lo.web", "--via", "telnet", "--", "true"][..],
        &[
            "exec",
            "lo.web",
            "--via",
            "ssm",
            "--rolling",
            "--pause",
            "5",
            "--",
            "true",
        ],
        &[
            "exec",
            "lo.web",
            "--via",
            "ssm",
            "--timeout",
            "172801",
            "--",
            "true",
        ],
    ] {
        t.run(args).status(2);
    }
    t.run(&[
        "exec",
        "lo.web",
        "--via",
        "ssm",
        "--rolling",
        "--pause",
        "5",
        "--",
        "true",
    ])
    .stderr_has("--pause is not available with --via ssm");
    // roles that disagree on their back end need --via
    let mixed = LOOPBACK.replace(
        "        subnets_cidr: [127.0.1.0/24]\n",
        "        subnets_cidr: [127.0.1.0/24]\n        exec: {via: ssm}\n",
    );
    let t2 = Test::new().config(&mixed);
    t2.run(&["exec", "lo.*", "--", "true"])
        .status(2)
        .stderr_has("use different exec back ends (lo.web: ssm, lo.worker: ssh)");
    // a misspelt back end in udo.yml is a located error
    let t3 = Test::new().config(&format!("{LOOPBACK}exec: {{via: smm}}\n"));
    t3.run(&["validate"]).status(2).stderr_has("udo.yml:17:");
    assert!(!t.aws_was_touched() && !t2.aws_was_touched() && !t3.aws_was_touched());
}

#[test]
fn a_lost_send_command_reply_still_runs_the_command_once() {
    let (m, t) = cluster(&via_ssm(LOOPBACK), &["web"]);
    let web = instances(&t, "web");
    let proxy = support::faultproxy::FaultProxy::start(&m);
    // the first reply of every write is lost after the emulator acted on it
    proxy.set(support::faultproxy::Faults::every_write_twice());
    let t = t.via(&proxy);
    let out = t.run(&["-v", "exec", "lo.web", "--", &record(&t)]);
    out.ok().stderr_has("3 hosts: 3 succeeded");
    let stats = proxy.stats();
    assert!(stats["lost_replies"].as_u64().unwrap() >= 1, "{stats}");
    assert_eq!(sorted(ran_on(&t)), sorted(ids(&web)), "a host ran it twice");
    assert_eq!(sent(&m).len(), 1, "SendCommand was repeated");
    // udo found the command it had sent by its comment
    assert!(
        out.ops().iter().any(|o| o == "ListCommands"),
        "{:?}",
        out.ops()
    );

    // throttling, 5xx, dropped connections and lost replies on SendCommand: still once each
    proxy.set(support::faultproxy::Faults {
        seed: 7,
        throttle: 0.15,
        server_error: 0.1,
        drop: 0.1,
        lost_reply: 0.1,
        writes_only: true,
        lose_first_reply: false,
    });
    for run in 1..=4 {
        std::fs::remove_file(t.path().join("ran.log")).unwrap();
        t.run(&["-v", "exec", "lo.web", "--", &record(&t)])
            .ok()
            .stderr_has("3 hosts: 3 succeeded");
        assert_eq!(sorted(ran_on(&t)), sorted(ids(&web)), "run {run}");
        assert_eq!(
            sent(&m).len(),
            1 + run,
            "run {run} sent more than one command"
        );
    }
    let stats = proxy.stats();
    assert!(
        stats["throttled"].as_u64().unwrap() + stats["server_errors"].as_u64().unwrap() >= 1,
        "no fault was drawn: {stats}"
    );
}
