//! What a requirement is checked against besides the identity: the time, through a [`Clock`]
//! that tests can set, and the step-up policy. Every identity carries the context of the
//! authenticator that verified it.

use std::time::{Duration, SystemTime};

use std::sync::Arc;

use crate::clock::Clock;
use crate::entitlements::{EntitlementsStore, Snapshot};

/// The circumstances of a check. Cheap to clone.
///
/// ```
/// use std::time::UNIX_EPOCH;
/// use frontegg_auth::{Clock, Context};
/// let context = Context::new(Clock::fixed(UNIX_EPOCH));
/// assert_eq!(context.now(), UNIX_EPOCH);
/// ```
#[derive(Clone, Debug)]
pub struct Context {
    clock: Clock,
    leeway: Duration,
    sso_counts_as_mfa: bool,
    entitlements: Option<Arc<EntitlementsStore>>,
    /// For a browser session on a page that sends to the login: the login route's location
    /// (with `return_to`), where a missing step-up sends the browser.
    login: Option<Arc<String>>,
}

impl Default for Context {
    fn default() -> Self {
        Context::new(Clock::system())
    }
}

impl Context {
    /// A context reading the time from `clock`, with the default clock leeway (10 s) and `sso`
    /// counted as a multi-factor method.
    pub fn new(clock: Clock) -> Context {
        Context {
            clock,
            leeway: crate::config::defaults::LEEWAY,
            sso_counts_as_mfa: true,
            entitlements: None,
            login: None,
        }
    }

    /// The clock skew tolerated on an `auth_time` in the future.
    pub fn with_leeway(mut self, leeway: Duration) -> Context {
        self.leeway = leeway;
        self
    }

    /// Whether `amr: ["mfa", "sso"]` (an identity provider did the MFA) counts as a step-up.
    pub fn with_sso_as_mfa(mut self, counts: bool) -> Context {
        self.sso_counts_as_mfa = counts;
        self
    }

    /// Checks entitlements against this store's snapshot.
    pub fn with_entitlements(mut self, store: Arc<EntitlementsStore>) -> Context {
        self.entitlements = Some(store);
        self
    }

    /// A browser session on a page that sends to the login: a missing step-up becomes a redirect
    /// to `location` (the login route, with `return_to`) asking for it.
    pub(crate) fn with_login(mut self, location: Arc<String>) -> Context {
        self.login = Some(location);
        self
    }

    /// The entitlements store, when entitlements are on.
    pub fn entitlements(&self) -> Option<&Arc<EntitlementsStore>> {
        self.entitlements.as_ref()
    }

    pub(crate) fn login(&self) -> Option<&Arc<String>> {
        self.login.as_ref()
    }

    /// The entitlements snapshot held, if any.
    pub fn entitlements_snapshot(&self) -> Option<Arc<Snapshot>> {
        self.entitlements.as_ref().and_then(|store| store.snapshot())
    }

    /// The clock skew tolerated on an `auth_time` in the future.
    pub fn leeway(&self) -> Duration {
        self.leeway
    }

    /// Whether `sso` counts as a multi-factor method.
    pub fn sso_counts_as_mfa(&self) -> bool {
        self.sso_counts_as_mfa
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
