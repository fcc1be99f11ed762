//! The `ssh` command line as data: who to log in as, where, through which jump host, and how
//! host keys are checked. Pure (no process, no network), so every flag udo passes is unit-tested.
//!
//! udo runs the system's OpenSSH client rather than an SSH library so that the user's
//! `~/.ssh/config`, agent, hardware keys and ControlMaster keep working. What udo adds:
//!
//! - its own known-hosts file (never the user's `~/.ssh/known_hosts`), with each instance's key
//!   recorded under its instance id (`HostKeyAlias`): instances come and go and addresses are
//!   reused, so an address says nothing about which machine answers, but an instance id does;
//! - `StrictHostKeyChecking=accept-new`: a new instance's key is accepted on first contact, and a
//!   known instance id presenting a different key is refused, as ssh refuses any changed key;
//! - for `udo exec`, `BatchMode=yes` and a connect timeout, so no host can stop the run with a
//!   prompt or hang it on a dead address.

pub use crate::config::syntax::Bastion;
use std::path::{Path, PathBuf};

/// The default login user (Amazon Linux's).
pub const DEFAULT_USER: &str = "ec2-user";
/// The default SSH port.
pub const DEFAULT_PORT: u16 = 22;
/// Seconds `udo exec` lets one connection take to be set up.
pub const CONNECT_TIMEOUT: u64 = 10;

/// A role's `ssh.*` settings, with defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub user: String,
    pub port: u16,
    pub identity_file: Option<String>,
    pub options: Vec<String>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            user: DEFAULT_USER.into(),
            port: DEFAULT_PORT,
            identity_file: None,
            options: Vec::new(),
        }
    }
}

/// One machine to connect to: its address and, for instances, its id (the host-key alias).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub address: String,
    pub alias: Option<String>,
}

/// A jump host, resolved to an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jump {
    pub user: String,
    pub port: u16,
    pub endpoint: Endpoint,
}

/// How ssh may interact with the person running udo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `udo exec`: never prompt, give up connecting after a while.
    Batch,
    /// `udo ssh`: the terminal belongs to ssh (passwords, passphrases, prompts).
    Interactive,
}

/// Everything needed to build one ssh command line.
#[derive(Debug, Clone)]
pub struct Invocation<'a> {
    pub settings: &'a Settings,
    pub known_hosts: &'a Path,
    pub mode: Mode,
    pub jump: Option<&'a Jump>,
}

impl Invocation<'_> {
    /// The arguments after `ssh` to reach `to` and run `remote` there (a login shell when
    /// `None`). The user's own `ssh.options` come first: ssh keeps the first value it sees of
    /// an option, so a user who sets one deliberately wins over udo's default.
    pub fn args(&self, to: &Endpoint, remote: Option<&str>) -> Vec<String> {
        let mut a = Vec::new();
        for o in &self.settings.options {
            a.push("-o".to_string());
            a.push(o.clone());
        }
        a.extend(self.common(self.mode, to));
        if let Some(jump) = self.jump {
            a.push("-o".into());
            a.push(format!("ProxyCommand={}", self.proxy_command(jump)));
        }
        if let Some(id) = &self.settings.identity_file {
            a.push("-i".into());
            a.push(id.clone());
        }
        a.push("-p".into());
        a.push(self.settings.port.to_string());
        a.push("-l".into());
        a.push(self.settings.user.clone());
        a.push("--".into());
        a.push(to.address.clone());
        if let Some(cmd) = remote {
            a.push(cmd.to_string());
        }
        a
    }

    /// Host-key handling and batch settings shared by the target and the jump host.
    fn common(&self, mode: Mode, to: &Endpoint) -> Vec<String> {
        let mut o = Vec::new();
        if mode == Mode::Batch {
            o.push("BatchMode=yes".to_string());
            o.push(format!("ConnectTimeout={CONNECT_TIMEOUT}"));
        }
        o.push(format!(
            "UserKnownHostsFile={}",
            config_quote(&self.known_hosts.to_string_lossy())
        ));
        o.push("StrictHostKeyChecking=accept-new".into());
        if let Some(alias) = &to.alias {
            o.push(format!("HostKeyAlias={alias}"));
        }
        // "Permanently added … to the list of known hosts" on every new instance is noise
        // between the command's own lines; errors (a changed key) are still printed.
        o.push("LogLevel=ERROR".into());
        o.into_iter().flat_map(|v| ["-o".to_string(), v]).collect()
    }

    /// The jump: a second ssh that forwards stdin/stdout to the target (`-W`), with the same
    /// host-key rules as the target (its key under its own instance id), so the user's
    /// known_hosts is not written for it either. ssh runs it through the shell: every word is
    /// quoted.
    fn proxy_command(&self, jump: &Jump) -> String {
        let mut words = vec!["ssh".to_string()];
        words.extend(self.common(Mode::Batch, &jump.endpoint));
        if let Some(id) = &self.settings.identity_file {
            words.push("-i".into());
            words.push(id.clone());
        }
        words.extend([
            "-p".into(),
            jump.port.to_string(),
            "-l".into(),
            jump.user.clone(),
            "-W".into(),
            "%h:%p".into(),
            "--".into(),
            jump.endpoint.address.clone(),
        ]);
        // ssh expands `%h:%p` in a ProxyCommand; any other `%` must be doubled.
        words
            .iter()
            .map(|w| match w.as_str() {
                "%h:%p" => w.clone(),
                _ => shell_quote(w).replace('%', "%%"),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The remote command line for `udo exec`: COMMAND's words joined by spaces, as ssh itself
/// joins them, run under `timeout` so that the remote command really ends when its time is up
/// (killing the local ssh alone leaves a remote command without a terminal running).
pub fn remote_command(words: &[String], timeout_secs: u64) -> String {
    let cmd = words.join(" ");
    format!("timeout -k 5 {timeout_secs} sh -c {}", shell_quote(&cmd))
}

/// Quotes a word for a POSIX shell.
pub fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%,+".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Quotes a value inside an ssh `-o` option (paths with spaces).
fn config_quote(value: &str) -> String {
    if value.contains(char::is_whitespace) {
        format!("\"{value}\"")
    } else {
        value.to_string()
    }
}

/// udo's own known-hosts file: `$XDG_CONFIG_HOME/udo/known_hosts`, else
/// `~/.config/udo/known_hosts`. `None` when there is no home directory to put it in.
pub fn known_hosts_path() -> Option<PathBuf> {
    known_hosts_in(
        std::env::var_os("XDG_CONFIG_HOME"),
        std::env::var_os("HOME"),
    )
}

fn known_hosts_in(
    xdg_config: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> Option<PathBuf> {
    let base = match xdg_config.filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(home.filter(|v| !v.is_empty())?).join(".config"),
    };
    Some(base.join("udo").join("known_hosts"))
}

/// What ssh's own exit status 255 and its last error line mean for one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The instance presented a key other than the one recorded for its id.
    HostKeyChanged,
    /// Anything else ssh could not do (refused, timed out, no route, authentication).
    Unreachable(String),
}

/// Classifies a failed connection from what ssh printed on stderr.
pub fn refusal(stderr: &str) -> Refusal {
    if stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        || stderr.contains("Host key verification failed")
    {
        return Refusal::HostKeyChanged;
    }
    let last = stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("ssh could not connect");
    Refusal::Unreachable(last.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(args: &[String]) -> String {
        args.join(" ")
    }

    #[test]
    fn batch_command_pins_host_keys_to_the_instance_id() {
        let s = Settings {
            user: "deploy".into(),
            port: 2222,
            identity_file: Some("/keys/id ed".into()),
            options: vec!["ServerAliveInterval=5".into()],
        };
        let kh = Path::new("/home/u/.config/udo/known_hosts");
        let inv = Invocation {
            settings: &s,
            known_hosts: kh,
            mode: Mode::Batch,
            jump: None,
        };
        let to = Endpoint {
            address: "127.0.1.4".into(),
            alias: Some("i-0abc".into()),
        };
        let a = inv.args(&to, Some("uptime"));
        assert_eq!(
            joined(&a),
            "-o ServerAliveInterval=5 -o BatchMode=yes -o ConnectTimeout=10 \
             -o UserKnownHostsFile=/home/u/.config/udo/known_hosts \
             -o StrictHostKeyChecking=accept-new -o HostKeyAlias=i-0abc -o LogLevel=ERROR \
             -i /keys/id ed -p 2222 -l deploy -- 127.0.1.4 uptime"
        );
        // the identity file stays one argument even with a space in it
        assert!(a.contains(&"/keys/id ed".to_string()));
    }

    #[test]
    fn interactive_command_has_no_batch_mode_and_no_remote_command() {
        let s = Settings::default();
        let inv = Invocation {
            settings: &s,
            known_hosts: Path::new("/k h/known_hosts"),
            mode: Mode::Interactive,
            jump: None,
        };
        let to = Endpoint {
            address: "127.0.1.5".into(),
            alias: Some("i-1".into()),
        };
        let a = inv.args(&to, None);
        let text = joined(&a);
        assert!(!text.contains("BatchMode"));
        assert!(!text.contains("ConnectTimeout"));
        assert!(text.contains("UserKnownHostsFile=\"/k h/known_hosts\""));
        assert!(text.ends_with("-p 22 -l ec2-user -- 127.0.1.5"), "{text}");
    }

    #[test]
    fn jump_host_goes_through_a_quoted_proxy_command() {
        let s = Settings::default();
        let jump = Jump {
            user: "ops".into(),
            port: 2200,
            endpoint: Endpoint {
                address: "127.0.2.4".into(),
                alias: Some("i-bastion".into()),
            },
        };
        let inv = Invocation {
            settings: &s,
            known_hosts: Path::new("/kh"),
            mode: Mode::Batch,
            jump: Some(&jump),
        };
        let to = Endpoint {
            address: "127.0.1.4".into(),
            alias: Some("i-web".into()),
        };
        let a = inv.args(&to, Some("true"));
        let proxy = a
            .iter()
            .find_map(|x| x.strip_prefix("ProxyCommand="))
            .expect("a ProxyCommand");
        assert_eq!(
            proxy,
            "ssh -o BatchMode=yes -o ConnectTimeout=10 -o UserKnownHostsFile=/kh \
             -o StrictHostKeyChecking=accept-new -o HostKeyAlias=i-bastion -o LogLevel=ERROR \
             -p 2200 -l ops -W %h:%p -- 127.0.2.4"
        );
        // the target keeps its own alias
        assert!(a.contains(&"HostKeyAlias=i-web".to_string()));
    }

    #[test]
    fn remote_commands_are_ended_by_timeout() {
        let words = vec!["echo".to_string(), "it's $HOME".to_string()];
        assert_eq!(
            remote_command(&words, 30),
            r"timeout -k 5 30 sh -c 'echo it'\''s $HOME'"
        );
    }

    #[test]
    fn ssh_failures_are_classified() {
        assert_eq!(
            refusal(
                "@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\n...\nHost key verification failed.\n"
            ),
            Refusal::HostKeyChanged
        );
        assert_eq!(
            refusal("ssh: connect to host 127.0.1.9 port 22: Connection refused\n"),
            Refusal::Unreachable(
                "ssh: connect to host 127.0.1.9 port 22: Connection refused".into()
            )
        );
    }

    #[test]
    fn known_hosts_live_under_the_config_directory() {
        assert_eq!(
            known_hosts_in(Some("/x".into()), Some("/home/u".into())),
            Some(PathBuf::from("/x/udo/known_hosts"))
        );
        assert_eq!(
            known_hosts_in(Some("".into()), Some("/home/u".into())),
            Some(PathBuf::from("/home/u/.config/udo/known_hosts"))
        );
        assert_eq!(known_hosts_in(None, None), None);
    }
}
