//! The scripts a newcomer runs first. `scripts/emulator`, the README's recipe for trying udo by
//! hand: it starts the emulator on a free port of 127.0.0.1, prints the exports that point udo
//! at it, and stops it cleanly on Ctrl-C (SIGINT), leaving no process and no listening port
//! behind. `scripts/build-udo`, through which scripts/demo and bench/* run the executable cargo
//! reports having built (wherever `CARGO_TARGET_DIR` puts it), not target/debug/udo.

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

/// Runs scripts/build-udo with a stand-in `cargo` first on PATH that prints `messages` (cargo
/// itself cannot run here: this test's own cargo holds the build directory's lock).
fn build_udo_with(messages: &str) -> (std::process::Output, String) {
    let tmp = tempfile::tempdir().unwrap();
    let args_file = tmp.path().join("args");
    let fake = tmp.path().join("cargo");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\necho \"$@\" > '{}'\ncat <<'EOF'\n{messages}\nEOF\n",
            args_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        tmp.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/build-udo"))
        .arg("--quiet")
        .env("PATH", path)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let args = std::fs::read_to_string(&args_file).unwrap_or_default();
    (out, args)
}

#[test]
fn build_udo_prints_the_executable_cargo_reports() {
    let messages = [
        r#"{"reason":"compiler-artifact","target":{"name":"serde","kind":["lib"]},"executable":null}"#,
        r#"{"reason":"compiler-artifact","target":{"name":"udo","kind":["bin"]},"executable":"/elsewhere/target-dir/debug/udo"}"#,
        r#"{"reason":"build-finished","success":true}"#,
    ]
    .join("\n");
    let (out, args) = build_udo_with(&messages);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "/elsewhere/target-dir/debug/udo\n"
    );
    assert_eq!(
        args.trim(),
        "build --message-format=json-render-diagnostics --quiet"
    );
    // no executable reported: a failure, not a guess
    let (out, _) = build_udo_with(r#"{"reason":"build-finished","success":true}"#);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no udo executable"));
}
