//! The one wait loop of udo's long AWS waits: a group reaching its size (`asg scale --wait`),
//! its instances going (`asg destroy`), a deployment ending (`deploy`), a rollout's batch
//! becoming ready and an instance refresh moving (`asg rollout`).
//!
//! The caller polls AWS and says what it is still waiting for; [`Wait::tick`] does everything
//! else the same way for all of them: the timeout, the progress (one line redrawn on a
//! terminal, plain lines elsewhere), the backoff between polls (`crate::poll`), and Ctrl-C /
//! SIGTERM during the sleep, which ends the wait so the caller can leave things resumable. A
//! signal that arrives while a poll is in flight is kept and ends the wait at the next tick.

use crate::output::Output;
use crate::poll::Backoff;
use std::time::{Duration, Instant};

/// Why a wait stopped before what it waited for happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The timeout passed: `waited` seconds since the wait (or its last restart) began, and
    /// the last state reported.
    TimedOut { waited: u64, state: String },
    /// Ctrl-C or SIGTERM.
    Interrupted,
}

/// How progress shows where stderr is not a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plain {
    /// A line at every poll (waits with slow, informative polls: deployments, group sizes).
    EveryPoll,
    /// A line when the state changes (rollouts, whose change lines already say most).
    OnChange,
    /// None: the caller prints its own lines.
    Never,
}

/// One wait: its clock, its backoff, its progress line.
pub struct Wait<'a> {
    out: &'a Output,
    prefix: String,
    initial: Duration,
    max: Duration,
    backoff: Backoff,
    timeout: Duration,
    since: Instant,
    plain: Plain,
    /// A progress line is drawn on the terminal and needs ending.
    drawn: bool,
    last: Option<String>,
}

impl<'a> Wait<'a> {
    /// A wait polling from every `initial` up to every `max` (see [`Backoff`]), giving up after
    /// `timeout`; each progress line starts with `prefix` (a batch's `[cluster.role] `).
    pub fn new(
        out: &'a Output,
        prefix: &str,
        (initial, max): (Duration, Duration),
        timeout: Duration,
        plain: Plain,
    ) -> Wait<'a> {
        Wait {
            out,
            prefix: prefix.to_string(),
            initial,
            max,
            backoff: Backoff::new(initial, max),
            timeout,
            since: Instant::now(),
            plain,
            drawn: false,
            last: None,
        }
    }

    /// Seconds since the wait (or its last restart) began.
    pub fn waited(&self) -> u64 {
        self.since.elapsed().as_secs()
    }

    /// Starts the clock and the backoff again: something moved (a rollout's next batch, an
    /// instance refresh that progressed), so the timeout counts from now.
    pub fn restart(&mut self) {
        self.since = Instant::now();
        self.backoff = Backoff::new(self.initial, self.max);
    }

    /// One round of the loop while `state` is still pending: stops on timeout or a signal,
    /// otherwise shows the progress and sleeps until the next poll.
    pub async fn tick(&mut self, state: &str) -> Result<(), Stop> {
        // Listening starts with the first real wait, not before: a command that never waits
        // keeps the default Ctrl-C (the process ends at once).
        let signals = Signals::new();
        if signals.received() {
            self.done();
            return Err(Stop::Interrupted);
        }
        let waited = self.waited();
        if self.since.elapsed() >= self.timeout {
            self.done();
            return Err(Stop::TimedOut {
                waited,
                state: state.to_string(),
            });
        }
        self.show(state);
        let delay = self.backoff.next_delay();
        tokio::select! {
            () = tokio::time::sleep(delay) => Ok(()),
            () = signals.recv() => {
                self.done();
                Err(Stop::Interrupted)
            }
        }
    }

    /// Shows `state` with the time waited: redrawn on a terminal, else as `Plain` says.
    pub fn show(&mut self, state: &str) {
        let line = format!("{}{state} ({})", self.prefix, elapsed(self.waited()));
        if self.out.interactive {
            self.out.progress(&line);
            self.drawn = true;
        } else {
            let changed = self.last.as_deref() != Some(state);
            match self.plain {
                Plain::EveryPoll => self.out.progress(&line),
                Plain::OnChange if changed => self.out.progress(&line),
                Plain::OnChange | Plain::Never => {}
            }
        }
        self.last = Some(state.to_string());
    }

    /// Ends the progress line (on a terminal, only when one was drawn, so the lines that
    /// follow never come with blank lines between them).
    pub fn done(&mut self) {
        if std::mem::take(&mut self.drawn) {
            self.out.progress_done();
        }
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        self.done();
    }
}

/// `3m12s`, `45s`, `1h02m`.
pub fn elapsed(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// Ctrl-C and SIGTERM for the whole process, once the first wait (or interruptible step)
/// asks: a listener counts them, so one that comes while a poll is in flight, or between two
/// waits, still ends the next wait. (Listening replaces the default "kill the process", so
/// once udo listens it must stop at its next safe point by itself.)
struct Signals;

static SIGNALS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static ARRIVED: tokio::sync::Notify = tokio::sync::Notify::const_new();
static LISTENING: std::sync::Once = std::sync::Once::new();

impl Signals {
    fn new() -> Signals {
        LISTENING.call_once(|| {
            // Registered here, before anything else runs, not when the task first runs.
            let mut listener = Listener::register();
            tokio::spawn(async move {
                loop {
                    listener.next().await;
                    SIGNALS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    ARRIVED.notify_waiters();
                }
            });
        });
        Signals
    }

    /// Whether a signal came, without waiting.
    fn received(&self) -> bool {
        SIGNALS.load(std::sync::atomic::Ordering::SeqCst) > 0
    }

    /// Until a signal comes (at once when one already did).
    async fn recv(&self) {
        loop {
            let arrived = ARRIVED.notified();
            if self.received() {
                return;
            }
            arrived.await;
        }
    }
}

/// Ctrl-C and SIGTERM one at a time, for a loop that answers the first and the second
/// differently (`exec --via ssm`: the first cancels the commands, the second stops waiting for
/// them): each [`Interrupts::next`] returns once per signal, counting from its creation, and a
/// signal that comes while the loop is busy is kept for its next wait.
pub struct Interrupts {
    seen: usize,
}

impl Interrupts {
    /// Starts listening (for the whole process, as every wait does).
    pub fn new() -> Interrupts {
        let _ = Signals::new();
        Interrupts {
            seen: SIGNALS.load(std::sync::atomic::Ordering::SeqCst),
        }
    }

    /// Until the next signal not yet returned.
    pub async fn next(&mut self) {
        loop {
            let arrived = ARRIVED.notified();
            if SIGNALS.load(std::sync::atomic::Ordering::SeqCst) > self.seen {
                self.seen += 1;
                return;
            }
            arrived.await;
        }
    }
}

/// The process's Ctrl-C and SIGTERM handlers.
struct Listener {
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Listener {
    fn register() -> Listener {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Listener {
                int: signal(SignalKind::interrupt()).ok(),
                term: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        Listener {}
    }

    /// The next signal.
    async fn next(&mut self) {
        #[cfg(unix)]
        {
            async fn one(s: &mut Option<tokio::signal::unix::Signal>) {
                match s.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                () = one(&mut self.int) => {}
                () = one(&mut self.term) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Runs `fut` unless Ctrl-C or SIGTERM comes first (`Err(Stop::Interrupted)`): for the steps
/// of a long operation around its waits (a rollout's writes, a deployment's creation), so the
/// caller can put things back before exiting.
pub async fn interruptible<T>(fut: impl std::future::Future<Output = T>) -> Result<T, Stop> {
    let signals = Signals::new();
    tokio::select! {
        r = fut => Ok(r),
        () = signals.recv() => Err(Stop::Interrupted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::OutputFormat;

    fn out() -> Output {
        Output {
            format: OutputFormat::Text,
            interactive: false,
        }
    }

    #[test]
    fn elapsed_times() {
        assert_eq!(elapsed(5), "5s");
        assert_eq!(elapsed(192), "3m12s");
        assert_eq!(elapsed(3720), "1h02m");
    }

    #[tokio::test]
    async fn a_wait_times_out_with_the_last_state() {
        let o = out();
        let ms = Duration::from_millis(1);
        let mut w = Wait::new(&o, "", (ms, ms), Duration::ZERO, Plain::Never);
        assert_eq!(
            w.tick("2 instance(s) still running").await,
            Err(Stop::TimedOut {
                waited: 0,
                state: "2 instance(s) still running".into()
            })
        );
    }

    #[tokio::test]
    async fn a_wait_sleeps_until_its_timeout() {
        let o = out();
        let ms = Duration::from_millis(5);
        let mut w = Wait::new(&o, "", (ms, ms), Duration::from_millis(40), Plain::Never);
        let mut ticks = 0;
        while w.tick("pending").await.is_ok() {
            ticks += 1;
        }
        assert!(ticks >= 2, "{ticks}");
        w.restart();
        assert!(w.tick("pending").await.is_ok(), "restart resets the clock");
    }
}
