//! A value fetched from Frontegg and shared by every caller: one fetch at a time (single flight),
//! the last good value kept when a fetch fails.
//!
//! Written by hand rather than with moka: moka's `try_get_with` shares the fetch but forgets the
//! previous value while the new one loads and offers no cooldown; here a failed refresh must leave
//! the last good value serving, and waiters must learn the outcome of the fetch they waited for
//! instead of starting their own.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

/// What a caller saw before it decided to refresh: the attempt counter tells it, once it holds the
/// gate, whether someone else fetched in the meantime.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Seen(u64);

pub(crate) struct RefreshCell<T, E> {
    inner: Arc<Inner<T, E>>,
}

struct Inner<T, E> {
    state: RwLock<State<T, E>>,
    gate: Arc<tokio::sync::Mutex<()>>,
}

struct State<T, E> {
    value: Option<T>,
    attempts: u64,
    /// The error of the latest attempt, when it failed, and when.
    last_failure: Option<(Instant, E)>,
}

/// When the cell's latest attempt failed, if it did.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct History {
    pub(crate) last_failure: Option<Instant>,
}

impl<T, E> State<T, E> {
    fn history(&self) -> History {
        History { last_failure: self.last_failure.as_ref().map(|(at, _)| *at) }
    }
}

/// What a caller that holds the gate sees, to decide whether to fetch.
pub(crate) struct Snapshot<'a, T> {
    pub(crate) value: Option<&'a T>,
    pub(crate) history: History,
    attempts: u64,
}

impl<T> Snapshot<'_, T> {
    /// Whether an attempt finished since the caller looked.
    pub(crate) fn attempted_since(&self, seen: Seen) -> bool {
        self.attempts != seen.0
    }
}

impl Seen {
    /// The usual decision: fetch unless another caller attempted a fetch since this one looked.
    pub(crate) fn unchanged<T>(self) -> impl FnOnce(&Snapshot<'_, T>) -> bool {
        move |snapshot| !snapshot.attempted_since(self)
    }

    /// A cold load's decision: as [`unchanged`](Self::unchanged), and not within `backoff` of a
    /// failed attempt (callers get that failure meanwhile: one upstream call per `backoff` in an
    /// outage, however many callers).
    pub(crate) fn unchanged_outside_backoff<T>(self, backoff: Duration) -> impl FnOnce(&Snapshot<'_, T>) -> bool {
        move |s| !s.attempted_since(self) && s.history.last_failure.is_none_or(|at| at.elapsed() >= backoff)
    }
}

impl<T, E> Inner<T, E> {
    // A poisoned lock only means a panic elsewhere while holding it; the data is plain.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, State<T, E>> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }
}

impl<T, E> RefreshCell<T, E>
where
    T: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + From<NoValue> + 'static,
{
    pub(crate) fn new(initial: Option<T>) -> Self {
        let state = RwLock::new(State { value: initial, attempts: 0, last_failure: None });
        Self { inner: Arc::new(Inner { state, gate: Arc::new(tokio::sync::Mutex::new(())) }) }
    }

    /// The current value, and the marker to pass to [`refresh`](Self::refresh).
    pub(crate) fn get(&self) -> (Option<T>, Seen) {
        let s = self.inner.read();
        (s.value.clone(), Seen(s.attempts))
    }

    pub(crate) fn history(&self) -> History {
        self.inner.read().history()
    }

    /// Whether a fetch is under way.
    pub(crate) fn is_fetching(&self) -> bool {
        self.inner.gate.try_lock().is_err()
    }

    /// What the latest attempt left: its error if it failed, else the current value.
    fn latest(s: &State<T, E>) -> Result<T, E> {
        match (&s.last_failure, &s.value) {
            (Some((_, e)), _) => Err(e.clone()),
            (None, Some(v)) => Ok(v.clone()),
            (None, None) => Err(NoValue.into()),
        }
    }

    /// Fetches a new value if `decide`, asked once the gate is held (so that a cooldown holds for
    /// callers that queued behind a fetch), says so. Otherwise the outcome of the latest attempt
    /// is returned: a caller that waited for a fetch that failed gets that failure, never a stale
    /// value dressed as an answer.
    ///
    /// The fetch runs in a task of its own that holds the gate until it has stored its outcome:
    /// a caller that gives up (a client gone, a deadline) cancels neither the fetch nor the
    /// sharing of its outcome.
    pub(crate) async fn refresh<Fut>(
        &self,
        decide: impl FnOnce(&Snapshot<'_, T>) -> bool,
        fetch: impl FnOnce() -> Fut,
    ) -> Result<T, E>
    where
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let gate = self.inner.gate.clone().lock_owned().await;
        {
            let s = self.inner.read();
            let snapshot = Snapshot { value: s.value.as_ref(), history: s.history(), attempts: s.attempts };
            if !decide(&snapshot) {
                return Self::latest(&s);
            }
        }
        let inner = self.inner.clone();
        let fetching = fetch();
        let task = tokio::spawn(async move {
            let _gate = gate;
            let outcome = fetching.await;
            let mut s = inner.state.write().unwrap_or_else(|p| p.into_inner());
            s.attempts += 1;
            match &outcome {
                Ok(value) => {
                    s.value = Some(value.clone());
                    s.last_failure = None;
                }
                Err(error) => s.last_failure = Some((Instant::now(), error.clone())),
            }
            outcome
        });
        // The task ends only by finishing, unless its runtime shuts down.
        task.await.unwrap_or_else(|_| Err(NoValue.into()))
    }
}

/// Keeps one background task per owner running on the current runtime: starts `task` unless one
/// runs (the owner's `running` flag says so). The task gets a weak reference, so dropping the
/// owner ends it; the flag is cleared however the task ends (returned, or dropped with its
/// runtime), so the next call starts it again on a runtime that lives.
pub(crate) fn keep_running<T, Fut>(owner: &Arc<T>, running: fn(&T) -> &AtomicBool, task: impl FnOnce(Weak<T>) -> Fut)
where
    T: Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    if running(owner).load(Ordering::Acquire) {
        return;
    }
    if tokio::runtime::Handle::try_current().is_err() || running(owner).swap(true, Ordering::AcqRel) {
        return;
    }
    struct Running<T>(Weak<T>, fn(&T) -> &AtomicBool);
    impl<T> Drop for Running<T> {
        fn drop(&mut self) {
            if let Some(owner) = self.0.upgrade() {
                (self.1)(&owner).store(false, Ordering::Release);
            }
        }
    }
    // Made outside the task: a task dropped before its first poll still drops what it captured.
    let guard = Running(Arc::downgrade(owner), running);
    let work = task(Arc::downgrade(owner));
    tokio::spawn(async move {
        let _guard = guard;
        work.await;
    });
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
                cell.refresh(seen.unchanged(), move || async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    Ok(7)
                })
                .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), Ok(7));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_caller_that_gives_up_cancels_neither_the_fetch_nor_its_sharing() {
        let cell = Arc::new(RefreshCell::<u32, Failed>::new(None));
        let calls = Arc::new(AtomicU32::new(0));
        let (_, seen) = cell.get();
        let first = {
            let (cell, calls) = (cell.clone(), calls.clone());
            tokio::spawn(async move {
                cell.refresh(seen.unchanged(), move || async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    Ok(5)
                })
                .await
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        first.abort();
        // A caller that queued behind the aborted one shares the fetch that went on.
        let counter = calls.clone();
        let second = cell.refresh(seen.unchanged(), move || async move {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(6)
        });
        assert_eq!(second.await, Ok(5));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_the_last_value_and_waiters_get_the_failure() {
        let cell = RefreshCell::<u32, Failed>::new(Some(1));
        let (_, seen) = cell.get();
        assert_eq!(cell.refresh(seen.unchanged(), || async { Err(Failed) }).await, Err(Failed));
        assert_eq!(cell.get().0, Some(1));
        // A caller that waited for that attempt gets its failure, without fetching; the value stays.
        assert_eq!(cell.refresh(seen.unchanged(), || async { unreachable!() }).await, Err(Failed));
        assert!(cell.history().last_failure.is_some());
        assert_eq!(cell.get().0, Some(1));
        // A success clears the failure.
        let (_, seen) = cell.get();
        assert_eq!(cell.refresh(seen.unchanged(), || async { Ok(2) }).await, Ok(2));
        let history = cell.history();
        assert!(history.last_failure.is_none());
    }
}
