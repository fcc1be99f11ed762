//! Backoff between polls of a long AWS wait (group sizes, deployments, rollouts).
//!
//! One schedule for every wait so none of them hammers the API: each caller picks a start and a
//! ceiling, the delay grows by half each poll. Tests shrink every wait with the hidden
//! `UDO_POLL_MS` variable (a ceiling in milliseconds for every delay), so they never sleep for
//! seconds on an emulator that answers at once.

use std::time::Duration;

/// The delays between successive polls of one wait.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    /// Starts at `initial` and grows by half each poll up to `max` (both capped by `UDO_POLL_MS`).
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        let cap = std::env::var("UDO_POLL_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_millis);
        Backoff::with_cap(initial, max, cap)
    }

    fn with_cap(initial: Duration, max: Duration, cap: Option<Duration>) -> Backoff {
        let max = cap.map_or(max, |c| max.min(c));
        Backoff {
            next: initial.min(max),
            max,
        }
    }

    /// The delay before the next poll; each call returns a longer one, up to the ceiling.
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next + self.next / 2).min(self.max);
        d
    }
}

#[cfg(test)]
mod tests {
    use super::Backoff;
    use std::time::Duration;

    #[test]
    fn grows_by_half_up_to_the_ceiling() {
        let mut b = Backoff::with_cap(Duration::from_secs(2), Duration::from_secs(5), None);
        let got: Vec<u64> = (0..5).map(|_| b.next_delay().as_millis() as u64).collect();
        assert_eq!(got, vec![2000, 3000, 4500, 5000, 5000]);
    }

    #[test]
    fn the_test_cap_bounds_every_delay() {
        let cap = Some(Duration::from_millis(50));
        let mut b = Backoff::with_cap(Duration::from_secs(3), Duration::from_secs(30), cap);
        assert!((0..4).all(|_| b.next_delay() == Duration::from_millis(50)));
    }
}
