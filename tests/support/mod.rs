//! The test harness: a moto_server per test, and a small DSL that runs the real `udo` binary.
//!
//! Isolation: every test that talks to AWS starts its own moto_server on 127.0.0.1 with a free
//! port, so tests share no AWS state and run in parallel without ordering effects. Tests that
//! must not touch AWS point the SDK at a "tripwire" listener that records any connection.
//!
//! Every run gets a clean AWS environment: fake credentials, no profile files, the instance
//! metadata service disabled, and an endpoint on loopback, so no test can reach a real address.

#![allow(dead_code)]

pub mod faultproxy;
pub mod loopback;
pub mod webhook;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const REGION: &str = "us-east-1";

/// A running moto_server, stopped when dropped.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

/// The Python that runs moto: `UDO_MOTO_PYTHON`, else the checkout's `.venv` (scripts/setup-moto).
pub(crate) fn moto_python() -> PathBuf {
    if let Some(p) = std::env::var_os("UDO_MOTO_PYTHON") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python")
}

/// The launcher that serves moto over HTTP with the harness's few additions (README, testing).
fn moto_launcher() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/moto_plus.py")
}

impl Moto {
    pub fn start() -> Moto {
        let bin = moto_python();
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(&bin)
                .arg(moto_launcher())
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot start {} ({e}); run scripts/test, which installs moto[server] into .venv", bin.display())
                });
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // port taken in the meantime: try another
                }
                if serves(port, child.id()) {
                    return Moto {
                        child,
                        endpoint: format!("http://127.0.0.1:{port}"),
                    };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("moto_server did not start");
    }
}

impl Moto {
    /// Sends one AWS query-protocol request straight to moto (for setting up resources udo
    /// does not manage, such as load balancers) and returns the response body.
    pub fn call(&self, service: &str, params: &[(&str, &str)]) -> String {
        let body: String = params
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let addr = self.endpoint.trim_start_matches("http://");
        let mut s = TcpStream::connect(addr).unwrap();
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/{service}/aws4_request, SignedHeaders=host, Signature=0\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(
            out.starts_with("HTTP/1.1 200") || out.starts_with("HTTP/1.0 200"),
            "moto {service} call failed: {out}"
        );
        out
    }
}

impl Moto {
    /// Calls one of the launcher's test-only control routes (`POST /_udo/NAME`, JSON in and out;
    /// see `CONTROL` in tests/support/moto_plus.py), standing in for what AWS would do on its own.
    pub fn control(&self, name: &str, body: serde_json::Value) -> serde_json::Value {
        let body = body.to_string();
        let addr = self.endpoint.trim_start_matches("http://");
        let mut s = TcpStream::connect(addr).unwrap();
        let request = format!(
            "POST /_udo/{name} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let (head, reply) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
        assert!(head.contains(" 200 "), "control route {name} failed: {out}");
        serde_json::from_str(reply).unwrap_or_else(|e| panic!("control {name}: {e}: {reply}"))
    }
}

impl Moto {
    /// One CodeDeploy (JSON protocol) request straight to moto, for checks udo does not make;
    /// returns the reply's JSON.
    pub fn codedeploy(&self, target: &str, body: serde_json::Value) -> serde_json::Value {
        let addr = self.endpoint.trim_start_matches("http://");
        let body = body.to_string();
        let mut s = TcpStream::connect(addr).unwrap();
        let req = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.1\r\n\
             X-Amz-Target: CodeDeploy_20141006.{target}\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/codedeploy/aws4_request, SignedHeaders=host, Signature=0\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let (head, reply) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(" 200 "), "CodeDeploy {target}: {out}");
        serde_json::from_str(reply).unwrap()
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether the launcher answering on `port` is process `pid`: the one this test started, not
/// another test's that was handed the same free port and bound it first (then this test's
/// server exits on its own, and the test would otherwise share the other's emulator).
fn serves(port: u16, pid: u32) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let request = "POST /_udo/ping HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n";
    if s.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let reply = out.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str::<serde_json::Value>(reply)
        .is_ok_and(|v| v["pid"].as_u64() == Some(u64::from(pid)))
}

/// A loopback listener that counts connections: proof that a command made no AWS call.
pub struct Tripwire {
    pub endpoint: String,
    hits: Arc<AtomicUsize>,
}

impl Tripwire {
    pub fn new() -> Tripwire {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                counter.fetch_add(1, Ordering::SeqCst);
                drop(conn);
            }
        });
        Tripwire { endpoint, hits }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// One test's working directory, udo.yml and AWS endpoint.
pub struct Test {
    pub dir: tempfile::TempDir,
    endpoint: String,
    env: Vec<(String, String)>,
    /// Variables of the clean environment this test runs without (`without`).
    unset: Vec<String>,
    _tripwire: Option<Tripwire>,
}

impl Test {
    /// A test with no AWS: any AWS call would hit the tripwire (see `aws_was_touched`).
    pub fn new() -> Test {
        let trip = Tripwire::new();
        Test {
            dir: tempfile::tempdir().unwrap(),
            endpoint: trip.endpoint.clone(),
            env: Vec::new(),
            unset: Vec::new(),
            _tripwire: Some(trip),
        }
    }

    /// A test against a moto_server.
    pub fn with_moto(moto: &Moto) -> Test {
        Test {
            dir: tempfile::tempdir().unwrap(),
            endpoint: moto.endpoint.clone(),
            env: Vec::new(),
            unset: Vec::new(),
            _tripwire: None,
        }
    }

    pub fn config(self, yaml: &str) -> Test {
        self.file("udo.yml", yaml)
    }

    pub fn file(self, name: &str, contents: &str) -> Test {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    pub fn write(&self, name: &str, contents: &str) {
        std::fs::write(self.dir.path().join(name), contents).unwrap();
    }

    pub fn env(mut self, key: &str, value: &str) -> Test {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Runs udo without one of the clean environment's variables (e.g. the fake credentials).
    pub fn without(mut self, key: &str) -> Test {
        self.unset.push(key.into());
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// True when a command connected to the tripwire endpoint.
    pub fn aws_was_touched(&self) -> bool {
        self._tripwire.as_ref().is_some_and(|t| t.hits() > 0)
    }

    pub fn run(&self, args: &[&str]) -> Outcome {
        self.run_in(self.dir.path(), args)
    }

    /// Runs udo on a pseudo-terminal (through util-linux `script`), typing `input`, as a
    /// person at a terminal would. stdout and stderr arrive together in `stdout`.
    pub fn run_tty(&self, args: &[&str], input: &str) -> Outcome {
        let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
        let line = std::iter::once(env!("CARGO_BIN_EXE_udo"))
            .chain(args.iter().copied())
            .map(quote)
            .collect::<Vec<_>>()
            .join(" ");
        let mut cmd = Command::new("script");
        cmd.args(["-qec", &line, "/dev/null"]);
        self.prepare(&mut cmd, self.dir.path());
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run script (util-linux)");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        Outcome {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn run_in(&self, cwd: &Path, args: &[&str]) -> Outcome {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_udo"));
        cmd.args(args).stdin(Stdio::null());
        self.prepare(&mut cmd, cwd);
        let out = cmd.output().expect("run udo");
        Outcome {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Sends this test's AWS calls through a fault proxy (tests/support/faultproxy.rs).
    pub fn via(mut self, proxy: &faultproxy::FaultProxy) -> Test {
        self.endpoint = proxy.endpoint.clone();
        self
    }

    /// Starts udo without waiting (stdout and stderr piped), e.g. for a test that kills it;
    /// `Outcome::of` turns its output into an Outcome.
    pub fn spawn(&self, args: &[&str]) -> Child {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_udo"));
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        self.prepare(&mut cmd, self.dir.path());
        cmd.spawn().expect("run udo")
    }

    /// The clean AWS environment every run gets.
    fn prepare(&self, cmd: &mut Command, cwd: &Path) {
        cmd.current_dir(cwd);
        for (k, _) in std::env::vars() {
            if k.starts_with("AWS_") || k.starts_with("UDO_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("HOME", self.dir.path())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing-secret-key")
            .env("AWS_CONFIG_FILE", self.dir.path().join("no-aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.dir.path().join("no-aws-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("NO_COLOR", "1");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        for k in &self.unset {
            cmd.env_remove(k);
        }
    }
}

/// What one run of udo did.
#[derive(Debug)]
pub struct Outcome {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// The outcome of a process started with `Test::spawn` (killed: status -1).
    pub fn of(args: &[&str], child: Child) -> Outcome {
        let out = child.wait_with_output().unwrap();
        Outcome {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn context(&self) -> String {
        format!(
            "udo {}\n--- status {}\n--- stdout\n{}\n--- stderr\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }

    #[track_caller]
    pub fn status(&self, code: i32) -> &Outcome {
        assert_eq!(
            self.code,
            code,
            "unexpected exit status\n{}",
            self.context()
        );
        assert!(
            !self.stderr.contains("panicked"),
            "udo panicked\n{}",
            self.context()
        );
        self
    }

    #[track_caller]
    pub fn ok(&self) -> &Outcome {
        self.status(0)
    }

    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Outcome {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n{}",
            self.context()
        );
        self
    }

    #[track_caller]
    pub fn stdout_lacks(&self, needle: &str) -> &Outcome {
        assert!(
            !self.stdout.contains(needle),
            "stdout has {needle:?}\n{}",
            self.context()
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Outcome {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.context()
        );
        self
    }

    #[track_caller]
    pub fn stderr_lacks(&self, needle: &str) -> &Outcome {
        assert!(
            !self.stderr.contains(needle),
            "stderr has {needle:?}\n{}",
            self.context()
        );
        self
    }

    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", self.context()))
    }

    /// The AWS calls traced with -v, as "service Operation" (e.g. "EC2 DescribeVpcs").
    pub fn calls(&self) -> Vec<String> {
        self.stderr
            .lines()
            .filter_map(|l| l.strip_prefix("aws: "))
            .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
            .collect()
    }

    /// The operations traced with -v, without the service.
    pub fn ops(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .map(|c| c.split_once(' ').map(|(_, o)| o.to_string()).unwrap_or(c))
            .collect()
    }

    /// Calls whose operation name does not start with Describe/Get/List.
    pub fn writes(&self) -> Vec<String> {
        self.ops()
            .into_iter()
            .filter(|o| !["Describe", "Get", "List"].iter().any(|p| o.starts_with(p)))
            .collect()
    }
}
