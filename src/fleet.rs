//! The fleet runner: one process per host (ssh, for `udo exec`), run concurrently or in rolling
//! batches, each output line prefixed with its host as it arrives, then a summary.
//!
//! It knows nothing of AWS or of ssh's flags: a job is a label and a command line. Lines are
//! written whole under the stream's lock, so two hosts never interleave mid-line. A host that
//! runs past the timeout is killed and counted as timed out; the rest go on.

use futures_util::StreamExt as _;
use std::io::Write as _;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};

/// One host's command.
#[derive(Debug, Clone)]
pub struct Job {
    /// What each of its lines is prefixed with, e.g. `web i-0abc 127.0.1.4`.
    pub label: String,
    pub program: String,
    pub args: Vec<String>,
}

/// Run `batch` hosts at a time in order, stop once more than `max_failures` have not succeeded,
/// and wait `pause` between batches.
#[derive(Debug, Clone, Copy)]
pub struct Rolling {
    pub batch: usize,
    pub max_failures: usize,
    pub pause: Duration,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Hosts at a time when not rolling.
    pub parallel: usize,
    pub rolling: Option<Rolling>,
    /// Per host; the process is killed when it passes.
    pub timeout: Duration,
    /// Print lines as they arrive (text output); otherwise only collect them (JSON).
    pub stream: bool,
    /// Colour each host's prefix (a terminal).
    pub color: bool,
}

/// How one host's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Succeeded,
    /// The command ran and exited with this status (or was killed by a signal: -1).
    Failed(i32),
    TimedOut,
    /// The connection could not be made (the reason is the connecting tool's last error line).
    Unreachable(String),
    /// The host presented a different key than the one recorded for it: refused.
    HostKeyChanged,
    /// Not run: a rolling run stopped before its batch.
    Skipped,
    /// Not run, for the reason given (`udo exec --via ssm`: AWS stopped at MaxErrors, the run
    /// was cancelled before the host's turn, …). Counted and shown in JSON as skipped.
    NotRun(String),
    /// Ended while it ran because the run was cancelled (Ctrl-C with `--via ssm`, which sends
    /// CancelCommand).
    Cancelled,
}

impl Status {
    pub fn word(&self) -> &'static str {
        match self {
            Status::Succeeded => "succeeded",
            Status::Failed(_) => "failed",
            Status::TimedOut => "timed_out",
            Status::Unreachable(_) => "unreachable",
            Status::HostKeyChanged => "host_key_changed",
            Status::Skipped | Status::NotRun(_) => "skipped",
            Status::Cancelled => "cancelled",
        }
    }
}

/// What ended a process, before it is given a meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Exited(i32),
    Killed,
    Deadline,
    SpawnFailed,
}

/// Turns how a process ended (and what it printed on stderr) into a host status: the caller
/// knows what its program's exit statuses mean (ssh's 255, `timeout`'s 124).
pub type Classify = fn(Ended, &str, Duration, Duration) -> Status;

#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    /// The process's own exit status, when it exited.
    pub exit_status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub duration: Duration,
}

/// Runs every job and returns their outcomes in job order. `done` is told how many hosts have
/// finished each time one does (for a progress line).
pub async fn run(
    jobs: &[Job],
    opts: &Options,
    classify: Classify,
    done: &dyn Fn(usize),
) -> Vec<Outcome> {
    let mut out: Vec<Option<Outcome>> = vec![None; jobs.len()];
    let indexed: Vec<(usize, &Job)> = jobs.iter().enumerate().collect();
    let mut finished = 0;
    match opts.rolling {
        None => {
            let mut results = futures_util::stream::iter(
                indexed
                    .into_iter()
                    .map(|(i, job)| async move { (i, run_one(i, job, opts, classify).await) }),
            )
            .buffer_unordered(opts.parallel.max(1));
            while let Some((i, o)) = results.next().await {
                out[i] = Some(o);
                finished += 1;
                done(finished);
            }
        }
        Some(r) => {
            let mut failures = 0;
            let batches: Vec<&[(usize, &Job)]> = indexed.chunks(r.batch.max(1)).collect();
            for (n, batch) in batches.iter().enumerate() {
                if failures > r.max_failures {
                    break;
                }
                if n > 0 && !r.pause.is_zero() {
                    tokio::time::sleep(r.pause).await;
                }
                let results =
                    futures_util::future::join_all(batch.iter().map(|(i, job)| async move {
                        (*i, run_one(*i, job, opts, classify).await)
                    }))
                    .await;
                for (i, o) in results {
                    if o.status != Status::Succeeded {
                        failures += 1;
                    }
                    out[i] = Some(o);
                    finished += 1;
                    done(finished);
                }
            }
        }
    }
    out.into_iter()
        .map(|o| {
            o.unwrap_or(Outcome {
                status: Status::Skipped,
                exit_status: None,
                stdout: String::new(),
                stderr: String::new(),
                duration: Duration::ZERO,
            })
        })
        .collect()
}

const COLORS: &[&str] = &["36", "33", "35", "32", "34", "31"];

fn prefix(index: usize, job: &Job, color: bool) -> String {
    label_prefix(index, &job.label, color)
}

/// The `[label] ` prefix of a host's lines, coloured by its position on a terminal.
pub fn label_prefix(index: usize, label: &str, color: bool) -> String {
    if color {
        format!("\x1b[{}m[{}]\x1b[0m ", COLORS[index % COLORS.len()], label)
    } else {
        format!("[{label}] ")
    }
}

/// Prints a host's whole output at once, line by line with its prefix (for back ends that get
/// a host's output only when it has finished, such as Run Command).
pub fn print_output(prefix: &str, stdout: &str, stderr: &str) {
    for line in stdout.split_inclusive('\n') {
        write_line(true, prefix, line.as_bytes());
    }
    for line in stderr.split_inclusive('\n') {
        write_line(false, prefix, line.as_bytes());
    }
}

async fn run_one(index: usize, job: &Job, opts: &Options, classify: Classify) -> Outcome {
    let start = Instant::now();
    let spawned = tokio::process::Command::new(&job.program)
        .args(&job.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            let stderr = format!("cannot run {}: {e}", job.program);
            if opts.stream {
                write_line(false, &prefix(index, job, opts.color), stderr.as_bytes());
            }
            let duration = start.elapsed();
            return Outcome {
                status: classify(Ended::SpawnFailed, &stderr, duration, opts.timeout),
                exit_status: None,
                stdout: String::new(),
                stderr,
                duration,
            };
        }
    };
    let pre = prefix(index, job, opts.color);
    // The readers fill these as lines arrive, so a host killed at its deadline still reports
    // what it printed until then.
    let out_buf = Arc::new(Mutex::new(Vec::new()));
    let err_buf = Arc::new(Mutex::new(Vec::new()));
    let out_task = pump(
        child.stdout.take(),
        true,
        pre.clone(),
        opts.stream,
        out_buf.clone(),
    );
    let err_task = pump(
        child.stderr.take(),
        false,
        pre,
        opts.stream,
        err_buf.clone(),
    );
    let waited = tokio::time::timeout(opts.timeout, async {
        let (status, (), ()) = tokio::join!(child.wait(), out_task, err_task);
        status
    })
    .await;
    let (ended, exit_status) = match waited {
        Ok(status) => {
            let code = status.ok().and_then(|s| s.code());
            (code.map_or(Ended::Killed, Ended::Exited), code)
        }
        Err(_) => {
            // Past the deadline: end the process (the readers went with the future).
            let _ = child.start_kill();
            let _ = child.wait().await;
            (Ended::Deadline, None)
        }
    };
    let duration = start.elapsed();
    let text = |buf: &Mutex<Vec<u8>>| {
        String::from_utf8_lossy(&buf.lock().expect("output buffer")).into_owned()
    };
    let (stdout, stderr) = (text(&out_buf), text(&err_buf));
    Outcome {
        status: classify(ended, &stderr, duration, opts.timeout),
        exit_status,
        stdout,
        stderr,
        duration,
    }
}

/// Reads a stream line by line into `all`, printing each whole line with its prefix when
/// streaming.
async fn pump<R: AsyncRead + Unpin>(
    stream: Option<R>,
    to_stdout: bool,
    prefix: String,
    print: bool,
    all: Arc<Mutex<Vec<u8>>>,
) {
    let Some(stream) = stream else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                if print {
                    write_line(to_stdout, &prefix, &line);
                }
                all.lock().expect("output buffer").extend_from_slice(&line);
            }
        }
    }
}

/// Writes one prefixed line in a single locked write, so lines never mix.
fn write_line(to_stdout: bool, prefix: &str, line: &[u8]) {
    let mut buf = Vec::with_capacity(prefix.len() + line.len() + 1);
    buf.extend_from_slice(prefix.as_bytes());
    buf.extend_from_slice(line);
    if !buf.ends_with(b"\n") {
        buf.push(b'\n');
    }
    if to_stdout {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(&buf);
        let _ = o.flush();
    } else {
        let mut e = std::io::stderr().lock();
        let _ = e.write_all(&buf);
    }
}

/// Counts of a run, for the summary and the JSON document.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub hosts: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub timed_out: usize,
    pub unreachable: usize,
    pub skipped: usize,
    /// Ended while running by a cancelled run (`--via ssm`, Ctrl-C).
    pub cancelled: usize,
    /// The index of the slowest host that ran.
    pub slowest: Option<usize>,
}

impl Summary {
    pub fn of(outcomes: &[Outcome]) -> Summary {
        let mut s = Summary {
            hosts: outcomes.len(),
            ..Summary::default()
        };
        for o in outcomes {
            match o.status {
                Status::Succeeded => s.succeeded += 1,
                Status::Failed(_) => s.failed += 1,
                Status::TimedOut => s.timed_out += 1,
                Status::Unreachable(_) | Status::HostKeyChanged => s.unreachable += 1,
                Status::Skipped | Status::NotRun(_) => s.skipped += 1,
                Status::Cancelled => s.cancelled += 1,
            }
        }
        s.slowest = outcomes
            .iter()
            .enumerate()
            .filter(|(_, o)| !matches!(o.status, Status::Skipped | Status::NotRun(_)))
            .max_by_key(|(_, o)| o.duration)
            .map(|(i, _)| i);
        s
    }

    pub fn all_succeeded(&self) -> bool {
        self.succeeded == self.hosts
    }

    /// The summary for people: counts, the slowest host, then one line per host that did not
    /// succeed.
    pub fn render(&self, labels: &[String], outcomes: &[Outcome]) -> String {
        let mut text = format!(
            "{} host{}: {} succeeded, {} failed, {} timed out, {} unreachable",
            self.hosts,
            if self.hosts == 1 { "" } else { "s" },
            self.succeeded,
            self.failed,
            self.timed_out,
            self.unreachable
        );
        if self.skipped > 0 {
            text.push_str(&format!(", {} skipped", self.skipped));
        }
        if self.cancelled > 0 {
            text.push_str(&format!(", {} cancelled", self.cancelled));
        }
        if let Some(i) = self.slowest {
            text.push_str(&format!(
                "; slowest {} {:.2}s",
                labels[i],
                outcomes[i].duration.as_secs_f64()
            ));
        }
        text.push('\n');
        for (label, o) in labels.iter().zip(outcomes) {
            let why = match &o.status {
                Status::Succeeded => continue,
                Status::Failed(code) if *code >= 0 => format!("failed with exit status {code}"),
                Status::Failed(_) => "failed: killed by a signal".to_string(),
                Status::TimedOut => "timed out".to_string(),
                Status::Unreachable(reason) => format!("unreachable: {reason}"),
                Status::HostKeyChanged => "refused: its host key changed since udo first connected (see the README on host keys)".to_string(),
                Status::Skipped => "skipped: the rolling run stopped before it".to_string(),
                Status::NotRun(reason) => format!("not run: {reason}"),
                Status::Cancelled => "cancelled while it ran".to_string(),
            };
            text.push_str(&format!("  [{label}] {why}\n"));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(ended: Ended, _err: &str, _d: Duration, _t: Duration) -> Status {
        match ended {
            Ended::Exited(0) => Status::Succeeded,
            Ended::Exited(c) => Status::Failed(c),
            Ended::Killed => Status::Failed(-1),
            Ended::Deadline => Status::TimedOut,
            Ended::SpawnFailed => Status::Unreachable("spawn".into()),
        }
    }

    fn sh(label: &str, script: &str) -> Job {
        Job {
            label: label.into(),
            program: "sh".into(),
            args: vec!["-c".into(), script.into()],
        }
    }

    fn opts() -> Options {
        Options {
            parallel: 20,
            rolling: None,
            timeout: Duration::from_secs(10),
            stream: false,
            color: false,
        }
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn collects_output_and_statuses_in_job_order() {
        let jobs = vec![
            sh("a", "echo one; echo two >&2"),
            sh("b", "printf partial; exit 3"),
        ];
        let seen = std::cell::RefCell::new(Vec::new());
        let out = rt().block_on(run(&jobs, &opts(), classify, &|n| {
            seen.borrow_mut().push(n)
        }));
        assert_eq!(*seen.borrow(), [1, 2], "progress is told of each host");
        assert_eq!(out[0].status, Status::Succeeded);
        assert_eq!(out[0].stdout, "one\n");
        assert_eq!(out[0].stderr, "two\n");
        assert_eq!(out[1].status, Status::Failed(3));
        assert_eq!(out[1].exit_status, Some(3));
        assert_eq!(out[1].stdout, "partial");
        let s = Summary::of(&out);
        assert_eq!((s.succeeded, s.failed), (1, 1));
        assert!(!s.all_succeeded());
        let labels: Vec<String> = jobs.iter().map(|j| j.label.clone()).collect();
        let text = s.render(&labels, &out);
        assert!(
            text.starts_with(
                "2 hosts: 1 succeeded, 1 failed, 0 timed out, 0 unreachable; slowest "
            ),
            "{text}"
        );
        assert!(text.contains("  [b] failed with exit status 3\n"), "{text}");
    }

    #[test]
    fn deadline_kills_and_counts_as_timed_out() {
        let jobs = vec![sh("slow", "echo started; sleep 5"), sh("fast", "true")];
        let o = Options {
            timeout: Duration::from_millis(300),
            ..opts()
        };
        let start = Instant::now();
        let out = rt().block_on(run(&jobs, &o, classify, &|_| {}));
        assert!(start.elapsed() < Duration::from_secs(3));
        assert_eq!(out[0].status, Status::TimedOut);
        assert_eq!(
            out[0].stdout, "started\n",
            "output before the deadline is kept"
        );
        assert_eq!(out[1].status, Status::Succeeded);
    }

    #[test]
    fn parallel_runs_at_once_and_one_runs_in_turn() {
        let jobs: Vec<Job> = (0..4).map(|i| sh(&i.to_string(), "sleep 0.5")).collect();
        let start = Instant::now();
        rt().block_on(run(&jobs, &opts(), classify, &|_| {}));
        assert!(start.elapsed() < Duration::from_millis(1500));
        let start = Instant::now();
        let one = Options {
            parallel: 1,
            ..opts()
        };
        rt().block_on(run(&jobs, &one, classify, &|_| {}));
        assert!(start.elapsed() >= Duration::from_millis(2000));
    }

    #[test]
    fn rolling_stops_after_too_many_failures() {
        let jobs = vec![
            sh("a", "true"),
            sh("b", "exit 1"),
            sh("c", "true"),
            sh("d", "true"),
        ];
        let o = Options {
            rolling: Some(Rolling {
                batch: 1,
                max_failures: 0,
                pause: Duration::ZERO,
            }),
            ..opts()
        };
        let out = rt().block_on(run(&jobs, &o, classify, &|_| {}));
        let words: Vec<&str> = out.iter().map(|o| o.status.word()).collect();
        assert_eq!(words, ["succeeded", "failed", "skipped", "skipped"]);
        let tolerant = Options {
            rolling: Some(Rolling {
                batch: 2,
                max_failures: 1,
                pause: Duration::ZERO,
            }),
            ..opts()
        };
        let out = rt().block_on(run(&jobs, &tolerant, classify, &|_| {}));
        assert!(out.iter().all(|o| o.status != Status::Skipped));
    }

    #[test]
    fn a_missing_program_is_reported_not_fatal() {
        let jobs = vec![Job {
            label: "x".into(),
            program: "/nonexistent/ssh".into(),
            args: vec![],
        }];
        let out = rt().block_on(run(&jobs, &opts(), classify, &|_| {}));
        assert_eq!(out[0].status, Status::Unreachable("spawn".into()));
        assert!(out[0].stderr.contains("cannot run /nonexistent/ssh"));
    }
}
