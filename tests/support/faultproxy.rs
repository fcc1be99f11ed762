//! A handle on tests/support/faultproxy.py: a fault-injecting HTTP proxy on 127.0.0.1 between
//! udo and a test's moto_server (throttling, 5xx, dropped connections, lost replies, and
//! SIGKILL of udo after its k-th write). Point udo at it with `Test::via(&proxy)`.

use super::Moto;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Fault rates (0.0–1.0 each, drawn in this order from one seeded generator).
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    pub seed: u64,
    pub throttle: f64,
    pub server_error: f64,
    pub drop: f64,
    pub lost_reply: f64,
    /// Only write calls (not Describe*/List*/Get*) draw faults.
    pub writes_only: bool,
    /// The first try of every write loses its reply (moto made the change); the SDK's retry
    /// of the same request gets its answer. Every change is asked for twice, deterministically.
    pub lose_first_reply: bool,
}

impl Faults {
    /// The given share of write calls lose their reply after moto made the change.
    pub fn lost_writes(rate: f64, seed: u64) -> Faults {
        Faults {
            seed,
            lost_reply: rate,
            writes_only: true,
            ..Faults::default()
        }
    }

    /// Every write's first reply lost, its retry answered.
    pub fn every_write_twice() -> Faults {
        Faults {
            lose_first_reply: true,
            ..Faults::default()
        }
    }

    /// Throttling, 5xx and dropped connections on every call, in equal parts of `rate`.
    pub fn mixed(rate: f64, seed: u64) -> Faults {
        Faults {
            seed,
            throttle: rate / 3.0,
            server_error: rate / 3.0,
            drop: rate / 3.0,
            ..Faults::default()
        }
    }
}

pub struct FaultProxy {
    child: Child,
    pub endpoint: String,
}

impl FaultProxy {
    /// Starts a proxy in front of `moto`, passing everything through until configured.
    pub fn start(moto: &Moto) -> FaultProxy {
        let python = super::moto_python();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/faultproxy.py");
        let mut child = Command::new(&python)
            .arg(script)
            .args(["--target", &moto.endpoint])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(match std::env::var_os("UDO_FAULTPROXY_LOG") {
                Some(p) => Stdio::from(std::fs::File::create(p).unwrap()),
                None => Stdio::null(),
            })
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the fault proxy with {python:?}: {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("port ")
            .unwrap_or_else(|| panic!("fault proxy did not start: {line:?}"));
        FaultProxy {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    fn post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let body = body.to_string();
        let addr = self.endpoint.trim_start_matches("http://");
        let mut s = TcpStream::connect(addr).unwrap();
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let (_, reply) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
        serde_json::from_str(reply).unwrap_or_else(|e| panic!("fault proxy {path}: {e}: {out}"))
    }

    /// Replaces the fault settings and resets the counters.
    pub fn set(&self, f: Faults) {
        self.post(
            "/_fault/config",
            serde_json::json!({
                "seed": f.seed, "throttle": f.throttle, "server_error": f.server_error,
                "drop": f.drop, "lost_reply": f.lost_reply, "writes_only": f.writes_only,
                "lose_first_reply": f.lose_first_reply,
            }),
        );
    }

    /// No faults: every call passes through.
    pub fn clear(&self) {
        self.set(Faults::default());
    }

    /// Arms the kill: once moto answered the k-th write call from now, the process given to
    /// `kill_pid` gets SIGKILL (and the answer is dropped). No other faults.
    pub fn kill_after(&self, k: usize) {
        self.post("/_fault/config", serde_json::json!({"kill_after": k}));
    }

    /// The process `kill_after` kills (the proxy waits for it if the k-th write comes first).
    pub fn kill_pid(&self, pid: u32) {
        self.post("/_fault/pid", serde_json::json!({"kill_pid": pid}));
    }

    /// Runs udo with `args`, SIGKILLed right after its k-th write reached moto; the outcome
    /// has status -1 when it was killed, its own status when it finished with fewer writes.
    pub fn run_killed_after(&self, t: &super::Test, k: usize, args: &[&str]) -> super::Outcome {
        self.kill_after(k);
        let child = t.spawn(args);
        self.kill_pid(child.id());
        let out = super::Outcome::of(args, child);
        self.clear();
        out
    }

    /// Counters since the last setting: requests, writes, throttled, server_errors, dropped,
    /// lost_replies, killed.
    pub fn stats(&self) -> serde_json::Value {
        self.post("/_fault/stats", serde_json::json!({}))
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
