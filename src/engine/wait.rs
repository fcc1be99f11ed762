//! The one wait loop of udo's long AWS waits: a group reaching its size (`asg scale --wait`),
//! its instances going (`asg destroy`), a deployment ending (`deploy`), a rollout's batch
//! becoming ready and an instance refresh moving (`asg rollout`).
//!
//! The caller polls AWS and says what it is still waiting for; [`Wait::tick`] does everything
//! else the same way for all of them: the timeout, the progress (one line redrawn on a
//! terminal, plain lines elsewhere), the backoff between polls (`crate::poll`), and Ctrl-C /
//! SIGTERM during the sleep, which ends the wait so the caller can leave things resumable. A
//! signal that arrives while a poll is in flight is kept and ends the wait at the next tick.
//!
//! A wait on something udo can cancel but must still watch end (`exec --via ssm`: Run Command
//! goes on in AWS after udo stops) is [`Wait::cancellable`]: its first signal is handed to the
//! caller ([`Tick::Cancel`]), who cancels, and the wait goes on, polling briskly for a grace
//! period; a second signal, or the grace running out, ends it.

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

/// What a round of a [`Wait::cancellable`] wait says to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Poll again.
    Poll,
    /// The first Ctrl-C or SIGTERM: cancel what the wait watches, then keep polling until it
    /// ends (the wait now times out after its grace period).
    Cancel,
}

/// How a cancellable wait goes on after its first signal.
#[derive(Debug, Clone, Copy)]
struct Grace {
    /// How long the wait still lasts.
    lasts: Duration,
    /// The longest delay between polls meanwhile.
    every: Duration,
    /// The first signal came: the next one ends the wait.
    cancelled: bool,
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
    /// Whether progress shows at all (on a terminal too).
    visible: bool,
    /// A progress line is drawn on the terminal and needs ending.
    drawn: bool,
    last: Option<String>,
    /// For a cancellable wait: what its first signal starts.
    grace: Option<Grace>,
    /// The signals counted before this wait listened, or before its cancel; one beyond it
    /// is the wait's to answer. Always 0 for a plain wait: any signal since udo listened
    /// (one in flight between two waits, too) ends it.
    seen: usize,
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
            visible: true,
            drawn: false,
            last: None,
            grace: None,
            seen: 0,
        }
    }

    /// Makes this a wait whose first Ctrl-C or SIGTERM is the caller's to answer
    /// ([`Wait::next`] returns [`Tick::Cancel`]) rather than the end of it: afterwards it polls
    /// at least every `every` and lasts at most `lasts` more, and a second signal ends it
    /// ([`Stop::Interrupted`]). It listens from now, so a signal during the caller's first
    /// writes (before its first round) is kept for that round.
    pub fn cancellable(mut self, lasts: Duration, every: Duration) -> Wait<'a> {
        let _ = Signals::new();
        self.seen = Signals::count();
        self.grace = Some(Grace {
            lasts,
            every,
            cancelled: false,
        });
        self
    }

    /// Shows no progress, on a terminal either: the caller's own lines say how far it is
    /// (`exec`'s host output as it comes).
    pub fn quiet(mut self) -> Wait<'a> {
        self.visible = false;
        self
    }

    /// Where the wait's lines go, for the caller's own lines in between.
    pub fn out(&self) -> &'a Output {
        self.out
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
        match self.next(state).await? {
            Tick::Poll => Ok(()),
            // Only a cancellable wait hands a signal over; for any other it is the end.
            Tick::Cancel => Err(Stop::Interrupted),
        }
    }

    /// One round of a [`Wait::cancellable`] wait (for any other the same as [`Wait::tick`]):
    /// [`Tick::Cancel`] at once for its first signal, whether it came during the caller's
    /// poll or during this round's sleep.
    pub async fn next(&mut self, state: &str) -> Result<Tick, Stop> {
        // Listening starts with the first real wait, not before: a command that never waits
        // keeps the default Ctrl-C (the process ends at once).
        let _ = Signals::new();
        if let Some(r) = self.signalled(Signals::count()) {
            return r;
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
            () = tokio::time::sleep(delay) => Ok(Tick::Poll),
            () = Signals::beyond(self.seen) => match self.signalled(Signals::count()) {
                Some(r) => r,
                None => Ok(Tick::Poll),
            },
        }
    }

    /// What `count` signals in all mean for this wait: nothing new (`None`), the end of it,
    /// or (the first for a cancellable wait) a cancel, after which the grace period runs.
    fn signalled(&mut self, count: usize) -> Option<Result<Tick, Stop>> {
        if count <= self.seen {
            return None;
        }
        self.done();
        match &mut self.grace {
            Some(g) if !g.cancelled => {
                g.cancelled = true;
                self.seen += 1;
                self.since = Instant::now();
                self.timeout = g.lasts;
                self.backoff = Backoff::new(self.initial.min(g.every), g.every);
                Some(Ok(Tick::Cancel))
            }
            _ => Some(Err(Stop::Interrupted)),
        }
    }

    /// Shows `state` with the time waited: redrawn on a terminal, else as `Plain` says.
    pub fn show(&mut self, state: &str) {
        if !self.visible {
            return;
        }
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

    /// How many signals came since udo listened.
    fn count() -> usize {
        SIGNALS.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Until more than `seen` signals have come (at once when they already have).
    async fn beyond(seen: usize) {
        loop {
            let arrived = ARRIVED.notified();
            if Signals::count() > seen {
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
    let _ = Signals::new();
    tokio::select! {
        r = fut => Ok(r),
        () = Signals::beyond(0) => Err(Stop::Interrupted),
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

    /// A plain wait ends at any signal; a cancellable one hands its first over, then runs
    /// for its grace period only, and ends at the second. (Driven by counts: a real signal
    /// would reach every test of this binary.)
    #[test]
    fn the_first_signal_of_a_cancellable_wait_is_a_cancel_and_the_second_the_end() {
        let o = out();
        let s = Duration::from_secs(1);
        let mut plain = Wait::new(&o, "", (s, s), Duration::MAX, Plain::Never);
        assert_eq!(plain.signalled(0), None);
        assert_eq!(plain.signalled(1), Some(Err(Stop::Interrupted)));
        let mut w = Wait::new(&o, "", (s, s * 5), Duration::MAX, Plain::Never);
        w.grace = Some(Grace {
            lasts: s * 60,
            every: Duration::from_millis(500),
            cancelled: false,
        });
        w.seen = 3;
        assert_eq!(
            w.signalled(3),
            None,
            "signals before the wait are not its own"
        );
        assert_eq!(w.signalled(4), Some(Ok(Tick::Cancel)));
        assert_eq!(w.timeout, s * 60, "after the cancel, the grace period");
        assert!(w.backoff.next_delay() <= Duration::from_millis(500));
        assert_eq!(w.signalled(4), None, "the cancel is answered once");
        assert_eq!(w.signalled(5), Some(Err(Stop::Interrupted)));
    }
}
