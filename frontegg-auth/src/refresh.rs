//! A value fetched from Frontegg and shared by every caller: one fetch at a time (single flight),
//! the last good value kept when a fetch fails.
//!
//! Written by hand rather than with moka: moka's `try_get_with` shares the fetch but forgets the
//! previous value while the new one loads and offers no cooldown; here a failed refresh must leave
//! the last good value serving, and waiters must learn the outcome of the fetch they waited for
//! instead of starting their own.

use std::sync::RwLock;
use std::time::Instant;

/// What a caller saw before it decided to refresh: the attempt counter tells it, once it holds the
/// gate, whether someone else fetched in the meantime.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Seen(u64);

pub(crate) struct RefreshCell<T, E> {
    state: RwLock<State<T, E>>,
    gate: tokio::sync::Mutex<()>,
}

struct State<T, E> {
    value: Option<T>,
    attempts: u64,
    last_attempt: Option<Instant>,
    last_error: Option<E>,
}

impl<T: Clone, E: Clone> RefreshCell<T, E> {
    pub(crate) fn new(initial: Option<T>) -> Self {
        Self {
            state: RwLock::new(State { value: initial, attempts: 0, last_attempt: None, last_error: None }),
            gate: tokio::sync::Mutex::new(()),
        }
    }

    /// The current value, and the marker to pass to [`refresh`](Self::refresh).
    pub(crate) fn get(&self) -> (Option<T>, Seen) {
        match self.state.read() {
            Ok(s) => (s.value.clone(), Seen(s.attempts)),
            // A poisoned lock only means a panic elsewhere while holding it; the data is plain.
            Err(poisoned) => {
                let s = poisoned.into_inner();
                (s.value.clone(), Seen(s.attempts))
            }
        }
    }

    /// Changes the current value in place, if there is one.
    pub(crate) fn update(&self, change: impl FnOnce(&mut T)) {
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        if let Some(value) = s.value.as_mut() {
            change(value);
        }
    }

    /// When the last fetch was attempted, and whether it failed.
    pub(crate) fn last_attempt(&self) -> Option<(Instant, bool)> {
        let s = self.state.read().unwrap_or_else(|p| p.into_inner());
        s.last_attempt.map(|at| (at, s.last_error.is_some()))
    }

    /// Fetches a new value unless another caller fetched since `seen`, in which case that fetch's
    /// outcome is returned. `allow` is asked again once the gate is held, so that a cooldown holds
    /// for callers that queued behind a fetch.
    pub(crate) async fn refresh<F, Fut>(
        &self,
        seen: Seen,
        allow: impl FnOnce(Option<Instant>) -> bool,
        fetch: F,
    ) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: From<NoValue>,
    {
        let _gate = self.gate.lock().await;
        {
            let s = self.state.read().unwrap_or_else(|p| p.into_inner());
            let someone_fetched = s.attempts != seen.0;
            if someone_fetched || !allow(s.last_attempt) {
                return match (&s.value, &s.last_error) {
                    (Some(v), _) => Ok(v.clone()),
                    (None, Some(e)) => Err(e.clone()),
                    (None, None) => Err(NoValue.into()),
                };
            }
        }
        let outcome = fetch().await;
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        s.attempts += 1;
        s.last_attempt = Some(Instant::now());
        match outcome {
            Ok(value) => {
                s.value = Some(value.clone());
                s.last_error = None;
                Ok(value)
            }
            Err(error) => {
                s.last_error = Some(error.clone());
                Err(error)
            }
        }
    }
}

/// Nothing was ever fetched and the cooldown forbids fetching now.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NoValue;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Clone, Debug, PartialEq)]
    struct Failed;
    impl From<NoValue> for Failed {
        fn from(_: NoValue) -> Self {
            Failed
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_one_fetch() {
        let cell = Arc::new(RefreshCell::<u32, Failed>::new(None));
        let calls = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let (cell, calls) = (cell.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                let (_, seen) = cell.get();
                cell.refresh(
                    seen,
                    |_| true,
                    || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        Ok(7)
                    },
                )
                .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), Ok(7));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_the_last_value_and_waiters_share_the_failure() {
        let cell = RefreshCell::<u32, Failed>::new(Some(1));
        let (_, seen) = cell.get();
        assert_eq!(cell.refresh(seen, |_| true, || async { Err(Failed) }).await, Err(Failed));
        assert_eq!(cell.get().0, Some(1));
        // A caller that saw the state before that attempt gets the kept value, without fetching.
        assert_eq!(cell.refresh(seen, |_| true, || async { unreachable!() }).await, Ok(1));
        assert!(cell.last_attempt().unwrap().1);
    }
}
