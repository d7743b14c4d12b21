//! The breaker: after a few consecutive failures, Redis is left alone for a pause, then one call
//! probes it. Each call holds a [`Permit`] that says how it went. A probe dropped without a word
//! (its request was cancelled) counts as a failure, so a probe can never be lost; any other
//! permit dropped so counts as nothing, so clients that hang up cannot open the breaker.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

pub(crate) struct Breaker {
    state: Mutex<State>,
    failures: u32,
    pause: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    Probing,
}

impl Breaker {
    pub(crate) fn new(failures: u32, pause: Duration) -> Breaker {
        Breaker { state: Mutex::new(State::Closed { failures: 0 }), failures: failures.max(1), pause }
    }

    /// A permit to call Redis now, or `None` while Redis is out of use (or being probed).
    pub(crate) fn admit(&self) -> Option<Permit<'_>> {
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Some(Permit { breaker: self, done: false, probe: false }),
            State::Open { until } if Instant::now() >= until => {
                *state = State::Probing;
                Some(Permit { breaker: self, done: false, probe: true })
            }
            State::Open { .. } | State::Probing => None,
        }
    }

    /// Whether Redis is in use (closed), for logs and tests.
    pub(crate) fn is_closed(&self) -> bool {
        matches!(*self.lock(), State::Closed { .. })
    }

    fn succeeded(&self) {
        let mut state = self.lock();
        if !matches!(*state, State::Closed { .. }) {
            tracing::info!("the shared cache answers again: using Redis");
            crate::telemetry::breaker_open(false);
        }
        *state = State::Closed { failures: 0 };
    }

    /// Records a failure; `true` when it put Redis out of use (or kept it so).
    fn failed(&self) -> bool {
        let mut state = self.lock();
        let now = Instant::now();
        // A pause too long to add means "for as long as this process lives".
        let open =
            State::Open { until: now.checked_add(self.pause).unwrap_or(now + Duration::from_secs(86_400 * 365)) };
        let (next, opened) = match *state {
            State::Closed { failures } if failures + 1 >= self.failures => {
                tracing::warn!(
                    pause_ms = u64::try_from(self.pause.as_millis()).unwrap_or(u64::MAX),
                    "the shared cache is failing: going on without Redis, probing it again after the pause"
                );
                crate::telemetry::breaker_open(true);
                (open, true)
            }
            State::Closed { failures } => (State::Closed { failures: failures + 1 }, false),
            State::Probing | State::Open { .. } => (open, true),
        };
        *state = next;
        opened
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a plain value, valid whatever a panicking holder left in it.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One call's permission; report how it went with [`succeeded`](Self::succeeded) or
/// [`failed`](Self::failed).
pub(crate) struct Permit<'a> {
    breaker: &'a Breaker,
    done: bool,
    probe: bool,
}

impl Permit<'_> {
    pub(crate) fn succeeded(mut self) {
        self.done = true;
        self.breaker.succeeded();
    }

    /// Reports a failure; `true` when Redis is now out of use.
    pub(crate) fn failed(mut self) -> bool {
        self.done = true;
        self.breaker.failed()
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.done && self.probe {
            self.breaker.failed();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn opens_after_consecutive_failures_and_probes_once_after_the_pause() {
        let breaker = Breaker::new(3, Duration::from_secs(1));
        breaker.admit().unwrap().failed();
        breaker.admit().unwrap().succeeded();
        breaker.admit().unwrap().failed();
        breaker.admit().unwrap().failed();
        assert!(breaker.is_closed(), "failures must be consecutive");
        breaker.admit().unwrap().failed();
        assert!(breaker.admit().is_none(), "open");
        tokio::time::advance(Duration::from_millis(1001)).await;
        let probe = breaker.admit().expect("one probe after the pause");
        assert!(breaker.admit().is_none(), "only one probe at a time");
        probe.failed();
        assert!(breaker.admit().is_none(), "a failed probe opens again");
        tokio::time::advance(Duration::from_millis(1001)).await;
        breaker.admit().unwrap().succeeded();
        assert!(breaker.is_closed());
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_probe_counts_as_failed() {
        let breaker = Breaker::new(1, Duration::from_secs(1));
        breaker.admit().unwrap().failed();
        tokio::time::advance(Duration::from_secs(2)).await;
        drop(breaker.admit().unwrap());
        assert!(breaker.admit().is_none());
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(breaker.admit().is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn cancelled_calls_do_not_open_it_and_an_endless_pause_does_not_panic() {
        let breaker = Breaker::new(1, Duration::MAX);
        for _ in 0..10 {
            drop(breaker.admit().unwrap());
        }
        assert!(breaker.is_closed());
        assert!(breaker.admit().unwrap().failed());
        assert!(breaker.admit().is_none());
    }
}
