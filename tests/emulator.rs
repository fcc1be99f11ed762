//! `scripts/emulator`, the README's recipe for trying udo by hand: it starts the emulator on a
//! free port of 127.0.0.1, prints the exports that point udo at it, and stops it cleanly on
//! Ctrl-C (SIGINT), leaving no process and no listening port behind.

mod support;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::Test;

const CONFIG: &str = "app_name: shop\nregion: us-east-1\nclusters:\n  dev:\n    subnets_cidr: [127.0.1.0/24]\n    roles:\n      web:\n";

fn alive(pid: u32) -> bool {
    // a zombie is gone in all but name: only a running process counts
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

#[test]
fn the_emulator_script_prints_working_exports_and_stops_on_ctrl_c() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/emulator");
    // `env --default-signal=INT`: SIGINT reaches the script even when this test runs with it
    // ignored (as background jobs of a non-interactive shell do).
    let mut child = Command::new("env")
        .args(["--default-signal=INT", script])
        .env("UDO_MOTO_PYTHON", support::moto_python())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run scripts/emulator");
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let (etx, erx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        let _ = etx.send(text);
    });
    let mut exports: Vec<(String, String)> = Vec::new();
    let mut unset: Vec<String> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) else {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("scripts/emulator exited early ({status}): {:?}", erx.recv());
            }
            continue;
        };
        if let Some(vars) = line.strip_prefix("export ") {
            for pair in vars.split_whitespace() {
                let (k, v) = pair.split_once('=').expect(&line);
                exports.push((k.to_string(), v.to_string()));
            }
        } else if let Some(vars) = line.strip_prefix("unset ") {
            unset.extend(vars.split_whitespace().map(str::to_string));
            break;
        }
    }
    let get = |k: &str| {
        exports
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {k} in {exports:?}"))
    };
    let endpoint = get("AWS_ENDPOINT_URL");
    assert_eq!(get("AWS_EC2_METADATA_DISABLED"), "true");
    assert_eq!(get("UDO_NO_NOTIFY"), "1");
    assert!(unset.contains(&"AWS_PROFILE".to_string()), "{unset:?}");
    let port: u16 = endpoint
        .strip_prefix("http://127.0.0.1:")
        .unwrap_or_else(|| panic!("not a loopback endpoint: {endpoint}"))
        .parse()
        .unwrap();

    // udo, given exactly those variables, works against it
    let mut t = Test::new().config(CONFIG);
    for (k, v) in &exports {
        t = t.env(k, v);
    }
    let out = t.run(&["whoami"]);
    out.ok()
        .stdout_has("account   123456789012")
        .stdout_has(&endpoint);
    t.run(&["cluster", "create", "dev"]).ok();
    t.run(&["cluster", "status", "dev"])
        .ok()
        .stdout_has("127.0.1.0/24");

    // Ctrl-C stops it: the script exits 0, moto_server is gone and the port refuses connections
    let pid = child.id();
    let status = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "scripts/emulator did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = erx.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
    assert!(exit.success(), "{exit}: {log}");
    let moto_pid: u32 = log
        .split("moto_server (pid ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no moto_server pid in: {log}"));
    assert!(!alive(moto_pid), "moto_server (pid {moto_pid}) still runs");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still takes connections"
    );
    assert!(log.contains("stopping moto_server"), "{log}");
}
