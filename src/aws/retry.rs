//! How long udo keeps trying one AWS call, and what it says meanwhile.
//!
//! The SDK's standard retry mode (see `aws::loader`) retries throttling, 5xx answers and
//! dropped connections up to `MAX_ATTEMPTS` times with backoff: those pass. Two kinds of
//! failure are not worth that many tries, and this interceptor cuts them short:
//!
//! - an endpoint that refuses connections or whose name does not resolve: nothing is there, and
//!   ten tries would keep a user waiting for ~20 s; udo gives up after `UNREACHABLE_ATTEMPTS`
//!   tries or `UNREACHABLE_BUDGET`, whichever comes first;
//! - an attempt that timed out: each costs seconds (5 to connect, 60 per attempt), so udo tries
//!   at most `TIMEOUT_ATTEMPTS` times, and on a terminal says after the first slow attempt that
//!   it is retrying and how often it will try.
//!
//! The final network error carries the attempts and the time spent (`Tried`), which
//! `aws::error` adds to its message: `could not reach AWS at URL: connection refused (4 attempts
//! in 1.3 s)`.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextMut,
};
use aws_smithy_runtime_api::client::orchestrator::{Metadata, OrchestratorError};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Tries of one call for throttling, 5xx answers and dropped connections (the SDK's retries).
pub const MAX_ATTEMPTS: u32 = 10;
/// Tries of one call when the endpoint refuses connections or does not resolve...
pub const UNREACHABLE_ATTEMPTS: u32 = 4;
/// ...or until this much time has passed since the first, whichever comes first.
pub const UNREACHABLE_BUDGET: Duration = Duration::from_secs(2);
/// Tries of one call whose attempts time out.
pub const TIMEOUT_ATTEMPTS: u32 = 3;
/// A failed attempt that took this long is worth a word on a terminal before udo retries.
const SLOW: Duration = Duration::from_secs(5);

/// The connect timeout and the per-attempt timeout. `UDO_ATTEMPT_TIMEOUT_MS` lowers the
/// per-attempt one (tests of silent endpoints use it; it is never raised above the default).
pub fn timeouts() -> (Duration, Duration) {
    let attempt = Duration::from_secs(60);
    let attempt = std::env::var("UDO_ATTEMPT_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(attempt, |ms| attempt.min(Duration::from_millis(ms.max(1))));
    (Duration::from_secs(5), attempt)
}

/// What a network failure cost: carried in the final error's source chain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tried {
    pub attempts: u32,
    pub elapsed: Duration,
    /// The last attempt timed out (rather than being refused or failing otherwise).
    pub timed_out: bool,
}

impl std::fmt::Display for Tried {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.summary())
    }
}

impl Tried {
    /// `4 attempts in 1.3 s`.
    pub fn summary(&self) -> String {
        format!(
            "{} attempt{} in {:.1} s",
            self.attempts,
            if self.attempts == 1 { "" } else { "s" },
            self.elapsed.as_secs_f64()
        )
    }
}

/// `Tried` wrapped around the error it describes, so the cause stays in the chain.
#[derive(Debug)]
struct TriedError {
    tried: Tried,
    source: BoxError,
}

impl std::fmt::Display for TriedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "gave up after {}", self.tried.summary())
    }
}

impl std::error::Error for TriedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

/// The `Tried` in an error's source chain, if any.
pub fn tried(err: &(dyn std::error::Error + 'static)) -> Option<Tried> {
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(t) = e.downcast_ref::<TriedError>() {
            return Some(t.tried);
        }
        source = e.source();
    }
    None
}

/// One call's bookkeeping: when it began and how many attempts it has begun. Written only by
/// [`Patience`], every client's first interceptor, and read by it and by the `-v` tracer
/// (aws/trace.rs), so the trace's time and attempts are the ones the retry budget counted.
#[derive(Debug, Clone, Copy)]
pub(super) struct Call {
    /// Before the first attempt.
    pub started: Instant,
    /// Attempts begun so far (0 before the first).
    pub attempts: u32,
    /// When the latest attempt began.
    pub attempt_started: Instant,
}
impl Storable for Call {
    type Storer = StoreReplace<Self>;
}

impl Call {
    /// The record of the call `cfg` belongs to, if `Patience` has begun one.
    pub(super) fn of(cfg: &ConfigBag) -> Option<Call> {
        cfg.load::<Call>().copied()
    }
}

/// How an attempt failed, as far as retrying goes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Unreachable,
    TimedOut,
    Other,
}

fn kind(
    err: &OrchestratorError<aws_smithy_runtime_api::client::interceptors::context::Error>,
) -> Kind {
    if err.is_timeout_error() {
        return Kind::TimedOut;
    }
    match err.as_connector_error() {
        Some(ce) if ce.is_timeout() => Kind::TimedOut,
        Some(_) if super::error::is_unreachable(err) => Kind::Unreachable,
        _ => Kind::Other,
    }
}

/// `0.7 s`, `5 s`, `60 s`.
fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(10) {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{:.0} s", d.as_secs_f64())
    }
}

/// The interceptor every client gets (see `aws::build_clients`).
#[derive(Debug, Clone, Default)]
pub struct Patience;

impl Intercept for Patience {
    fn name(&self) -> &'static str {
        "udo-patience"
    }

    fn read_before_execution(
        &self,
        _ctx: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let now = Instant::now();
        cfg.interceptor_state().store_put(Call {
            started: now,
            attempts: 0,
            attempt_started: now,
        });
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let now = Instant::now();
        let call = Call::of(cfg).unwrap_or(Call {
            started: now,
            attempts: 0,
            attempt_started: now,
        });
        cfg.interceptor_state().store_put(Call {
            attempts: call.attempts + 1,
            attempt_started: now,
            ..call
        });
        Ok(())
    }

    /// Ends the retries of an unreachable endpoint or of timing-out attempts once their budget
    /// is spent (by making the error one the SDK does not retry), and says on a terminal when
    /// udo retries after a slow attempt.
    fn modify_before_attempt_completion(
        &self,
        ctx: &mut FinalizerInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(slot) = ctx.output_or_error_mut() else {
            return Ok(());
        };
        let Err(err) = slot else {
            return Ok(());
        };
        let kind = kind(err);
        let call = Call::of(cfg);
        let (number, attempt_took) = call.map_or((1, Duration::ZERO), |c| {
            (c.attempts.max(1), c.attempt_started.elapsed())
        });
        let elapsed = call.map_or(Duration::ZERO, |c| c.started.elapsed());
        let spent = match kind {
            Kind::Unreachable => number >= UNREACHABLE_ATTEMPTS || elapsed >= UNREACHABLE_BUDGET,
            Kind::TimedOut => number >= TIMEOUT_ATTEMPTS,
            Kind::Other => false,
        };
        if spent {
            let tried = Tried {
                attempts: number,
                elapsed,
                timed_out: kind == Kind::TimedOut,
            };
            let original = std::mem::replace(err, OrchestratorError::other("replaced"));
            // `other` connector errors are not retried by the SDK's classifiers.
            *err = OrchestratorError::connector(ConnectorError::other(
                Box::new(TriedError {
                    tried,
                    source: Box::new(original),
                }),
                None,
            ));
            return Ok(());
        }
        let limit = match kind {
            Kind::TimedOut => TIMEOUT_ATTEMPTS,
            Kind::Unreachable => UNREACHABLE_ATTEMPTS,
            Kind::Other => MAX_ATTEMPTS,
        };
        let slow = kind == Kind::TimedOut || attempt_took >= SLOW;
        if slow && number < limit && std::io::stderr().is_terminal() {
            let what = cfg.load::<Metadata>().map_or_else(
                || "an AWS call".to_string(),
                |m| format!("{} {}", m.service().replace(' ', ""), m.name()),
            );
            let how = if kind == Kind::TimedOut {
                format!(
                    "no answer from {} within {}",
                    super::error::target(),
                    seconds(attempt_took)
                )
            } else {
                format!("failed after {}", seconds(attempt_took))
            };
            eprintln!(
                "note: {what}: {how}; retrying (attempt {} of at most {limit})",
                number + 1
            );
        }
        Ok(())
    }

    /// Records what the whole call cost on a final network error (the SDK has stopped retrying).
    fn modify_before_completion(
        &self,
        ctx: &mut FinalizerInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(Err(err)) = ctx.output_or_error_mut() else {
            return Ok(());
        };
        let timed_out = err.is_timeout_error();
        let connector = err
            .as_connector_error()
            .map(|ce| (ce.is_io(), ce.is_timeout()));
        if (!timed_out && connector.is_none()) || tried(&*err).is_some() {
            return Ok(());
        }
        let call = Call::of(cfg);
        let tried = Tried {
            attempts: call.map_or(1, |c| c.attempts.max(1)),
            elapsed: call.map_or(Duration::ZERO, |c| c.started.elapsed()),
            timed_out: timed_out || connector.is_some_and(|(_, t)| t),
        };
        let original = std::mem::replace(err, OrchestratorError::other("replaced"));
        let wrapped: BoxError = Box::new(TriedError {
            tried,
            source: Box::new(original),
        });
        // The same kind as before, so the error reads as it did (a timeout stays a timeout).
        *err = match connector {
            None => OrchestratorError::timeout(wrapped),
            Some((_, true)) => OrchestratorError::connector(ConnectorError::timeout(wrapped)),
            Some((true, _)) => OrchestratorError::connector(ConnectorError::io(wrapped)),
            Some(_) => OrchestratorError::connector(ConnectorError::other(wrapped, None)),
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_count_attempts_and_seconds() {
        let t = Tried {
            attempts: 4,
            elapsed: Duration::from_millis(1340),
            timed_out: false,
        };
        assert_eq!(t.summary(), "4 attempts in 1.3 s");
        let one = Tried {
            attempts: 1,
            elapsed: Duration::from_millis(20),
            timed_out: true,
        };
        assert_eq!(one.summary(), "1 attempt in 0.0 s");
    }

    #[test]
    fn tried_is_found_in_a_source_chain() {
        let inner = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let t = Tried {
            attempts: 2,
            elapsed: Duration::from_secs(1),
            timed_out: false,
        };
        let e = TriedError {
            tried: t,
            source: Box::new(inner),
        };
        assert_eq!(tried(&e), Some(t));
        let plain = std::io::Error::other("x");
        assert_eq!(tried(&plain), None);
    }
}
