//! A real OpenSSH server on loopback for `udo exec` / `udo ssh` tests.
//!
//! Each test starts its own: generated host and client keys in a temporary directory, a free
//! port, and one `ListenAddress` per instance address the test wants reachable (sshd accepts at
//! most 16), all inside 127.0.0.0/8. It logs in the user running the tests with the client key
//! only. Stopped when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's openssh-server puts the daemon (`.ci/run` installs it).
pub const SSHD: &str = "/usr/sbin/sshd";

pub struct Sshd {
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub addresses: Vec<String>,
    pub user: String,
}

impl Sshd {
    /// Starts sshd listening on each of `addresses` (all must be loopback).
    pub fn start(addresses: &[&str]) -> Sshd {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: install openssh-server (.ci/run does)"
        );
        assert!(!addresses.is_empty() && addresses.len() <= 16);
        for a in addresses {
            let ip: std::net::Ipv4Addr = a.parse().expect("an IPv4 address");
            assert!(ip.is_loopback(), "sshd listens on loopback only, not {a}");
        }
        // sshd's privilege separation directory (absent on a machine that never ran sshd)
        let _ = std::fs::create_dir_all("/run/sshd");
        let dir = tempfile::tempdir().unwrap();
        keygen(&dir.path().join("host_key"));
        keygen(&dir.path().join("client_key"));
        std::fs::copy(
            dir.path().join("client_key.pub"),
            dir.path().join("authorized_keys"),
        )
        .unwrap();
        let user = current_user();
        let mut s = Sshd {
            child: None,
            dir,
            port: 0,
            addresses: addresses.iter().map(|a| a.to_string()).collect(),
            user,
        };
        for _ in 0..5 {
            s.port = free_port_on(addresses);
            if s.launch() {
                return s;
            }
        }
        panic!(
            "sshd did not start; see {}",
            s.dir.path().join("sshd.log").display()
        );
    }

    /// The private key the server accepts.
    pub fn client_key(&self) -> PathBuf {
        self.dir.path().join("client_key")
    }

    /// Also accepts the client key whose private half is `private_key` (a bastion's server letting a test's key in).
    pub fn authorize(&self, private_key: &Path) {
        let key = std::fs::read_to_string(private_key.with_extension("pub")).unwrap();
        let path = self.dir.path().join("authorized_keys");
        let mut keys = std::fs::read_to_string(&path).unwrap();
        keys.push_str(&key);
        std::fs::write(path, keys).unwrap();
    }

    /// The `ssh:` block of a udo.yml that reaches this server.
    pub fn yaml(&self) -> String {
        format!(
            "ssh:\n  user: {}\n  port: {}\n  identity_file: {}\n  options: [IdentitiesOnly=yes]\n",
            self.user,
            self.port,
            self.client_key().display()
        )
    }

    /// Stops the server, replaces its host key with a new one, and starts it again on the same
    /// port: what a reused address or a tampered host looks like to a client.
    pub fn restart_with_new_host_key(&mut self) {
        self.stop();
        let key = self.dir.path().join("host_key");
        let _ = std::fs::remove_file(&key);
        let _ = std::fs::remove_file(key.with_extension("pub"));
        keygen(&key);
        assert!(self.launch(), "sshd did not restart");
    }

    fn launch(&mut self) -> bool {
        let d = self.dir.path();
        let mut conf = format!("Port {}\n", self.port);
        for a in &self.addresses {
            conf.push_str(&format!("ListenAddress {a}\n"));
        }
        conf.push_str(&format!(
            "HostKey {}\nPidFile {}\nAuthorizedKeysFile {}\n",
            d.join("host_key").display(),
            d.join("sshd.pid").display(),
            d.join("authorized_keys").display()
        ));
        conf.push_str(
            "StrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             UsePAM no\nPermitRootLogin prohibit-password\nAllowTcpForwarding yes\n\
             MaxStartups 200\nMaxSessions 200\nLogLevel ERROR\nPrintMotd no\n",
        );
        std::fs::write(d.join("sshd_config"), conf).unwrap();
        let log = std::fs::File::create(d.join("sshd.log")).unwrap();
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start sshd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(Ok(Some(_))) = self.child.as_mut().map(|c| c.try_wait()) {
                self.child = None;
                return false; // port taken: try another
            }
            if self
                .addresses
                .iter()
                .all(|a| TcpStream::connect((a.as_str(), self.port)).is_ok())
            {
                // every address must be ours, not another server's on the same port
                let log = std::fs::read_to_string(d.join("sshd.log")).unwrap_or_default();
                if log.contains("Bind to port") {
                    self.stop();
                    return false;
                }
                return true;
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        self.stop();
        false
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
    }
}

fn keygen(path: &Path) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("run ssh-keygen (openssh-client)")
        .success();
    assert!(ok, "ssh-keygen failed");
}

fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().expect("run id");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A port free on every one of the addresses (another test's sshd may hold the same address
/// with another port).
fn free_port_on(addresses: &[&str]) -> u16 {
    loop {
        let first = TcpListener::bind((addresses[0], 0)).unwrap();
        let port = first.local_addr().unwrap().port();
        let rest: Vec<_> = addresses[1..]
            .iter()
            .map(|a| TcpListener::bind((*a, port)))
            .collect();
        if rest.iter().all(Result::is_ok) {
            return port;
        }
    }
}
