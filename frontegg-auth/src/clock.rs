//! The clock that time-dependent requirements read, so that tests can set the time.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

/// Where "now" comes from: the system clock, or a function that tests control.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use frontegg_auth::Clock;
///
/// let seconds = Arc::new(AtomicU64::new(1_700_000_000));
/// let reading = seconds.clone();
/// let clock = Clock::from_fn(move || UNIX_EPOCH + Duration::from_secs(reading.load(Ordering::Relaxed)));
/// seconds.fetch_add(60, Ordering::Relaxed);
/// assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_secs(1_700_000_060));
/// assert!(Clock::system().now() > UNIX_EPOCH);
/// ```
#[derive(Clone, Default)]
pub struct Clock {
    source: Source,
}

#[derive(Clone, Default)]
enum Source {
    #[default]
    System,
    Custom(Arc<dyn Fn() -> SystemTime + Send + Sync>),
}

impl Clock {
    /// The system clock (the default).
    pub fn system() -> Clock {
        Clock { source: Source::System }
    }

    /// A clock that always reads `at`.
    pub fn fixed(at: SystemTime) -> Clock {
        Clock::from_fn(move || at)
    }

    /// A clock that reads `now`.
    pub fn from_fn(now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Clock {
        Clock { source: Source::Custom(Arc::new(now)) }
    }

    /// The current time.
    pub fn now(&self) -> SystemTime {
        match &self.source {
            Source::System => SystemTime::now(),
            Source::Custom(now) => now(),
        }
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.source {
            Source::System => f.write_str("Clock::System"),
            Source::Custom(_) => f.write_str("Clock::Custom"),
        }
    }
}
