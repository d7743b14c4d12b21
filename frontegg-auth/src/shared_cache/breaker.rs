//! The breaker: after a few consecutive failures, Redis is left alone for a pause, then one call
//! probes it. Each call holds a [`Permit`] that must say how it went; a permit dropped without a
//! word (its request was cancelled) counts as a failure, so a probe can never be lost.

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
            State::Closed { .. } => Some(Permit { breaker: self, done: false }),
            State::Open { until } if Instant::now() >= until => {
                *state = State::Probing;
                Some(Permit { breaker: self, done: false })
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
        }
        *state = State::Closed { failures: 0 };
    }

    fn failed(&self) {
        let mut state = self.lock();
        let open = State::Open { until: Instant::now() + self.pause };
        *state = match *state {
            State::Closed { failures } if failures + 1 >= self.failures => {
                tracing::warn!(
                    pause_ms = self.pause.as_millis() as u64,
                    "the shared cache is failing: going on without Redis, probing it again after the pause"
                );
                open
            }
            State::Closed { failures } => State::Closed { failures: failures + 1 },
            State::Probing | State::Open { .. } => open,
        };
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
}

impl Permit<'_> {
    pub(crate) fn succeeded(mut self) {
        self.done = true;
        self.breaker.succeeded();
    }

    pub(crate) fn failed(mut self) {
        self.done = true;
        self.breaker.failed();
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.done {
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
}
