//! What a requirement is checked against besides the identity: the time, through a [`Clock`]
//! that tests can set. Every identity carries the context of the authenticator that verified it.

use std::time::SystemTime;

use crate::clock::Clock;

/// The circumstances of a check. Cheap to clone.
///
/// ```
/// use std::time::UNIX_EPOCH;
/// use frontegg_auth::{Clock, Context};
/// let context = Context::new(Clock::fixed(UNIX_EPOCH));
/// assert_eq!(context.now(), UNIX_EPOCH);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Context {
    clock: Clock,
}

impl Context {
    /// A context reading the time from `clock`.
    pub fn new(clock: Clock) -> Context {
        Context { clock }
    }

    /// The system clock's context.
    pub fn system() -> Context {
        Context::default()
    }

    /// The current time.
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }
}
