//! [`Caller`]: the one thing the authentication step leaves in a request, read the same way by
//! every extractor, guard and requirement of every adapter.

use crate::error::{AuthError, Denied};
use crate::identity::Identity;
use crate::refusal::Refusal;
use crate::requirement::Requirement;

/// Who sent a request, as the authentication step found: a verified identity, or an anonymous
/// caller (optional authentication, or a CORS preflight let through).
///
/// The authentication step stores exactly one `Caller` in the request's extensions. A request
/// without one was never authenticated: a server misconfiguration, which
/// [`Caller::from_request`] answers 500.
///
/// ```
/// use frontegg_auth::{Caller, Requirement};
///
/// # fn demo(extensions: &http::Extensions) -> Result<(), frontegg_auth::Refusal> {
/// let caller = Caller::from_extensions(extensions)?;
/// let identity = caller.check(&Requirement::permission("reports.read"))?;
/// println!("{} may read reports", identity.sub());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub enum Caller {
    /// A verified credential.
    Identified(Identity),
    /// No credential, where none is needed.
    Anonymous,
}

impl Caller {
    /// What the authentication step left, given what the request's extensions hold
    /// (`extensions.get::<Caller>()`): the caller, or, when nothing is there, the 500 of
    /// [`Refusal::no_authentication`]. Adapters whose frameworks have their own extension types
    /// call this; others call [`from_extensions`](Self::from_extensions).
    pub fn from_request(found: Option<&Caller>) -> Result<&Caller, Refusal> {
        found.ok_or_else(Refusal::no_authentication)
    }

    /// [`from_request`](Self::from_request) on `http` extensions.
    pub fn from_extensions(extensions: &http::Extensions) -> Result<&Caller, Refusal> {
        Self::from_request(extensions.get())
    }

    /// The identity, if the caller is identified.
    pub fn identity(&self) -> Option<&Identity> {
        match self {
            Caller::Identified(identity) => Some(identity),
            Caller::Anonymous => None,
        }
    }

    /// The identity, or the 401 of an anonymous caller ([`AuthError::MissingCredential`]).
    pub fn identified(&self) -> Result<&Identity, AuthError> {
        self.identity().ok_or(AuthError::MissingCredential)
    }

    /// The identity if it satisfies `requirement` in its context: 401 for an anonymous caller,
    /// 403 ([`AuthError::Forbidden`]) when the requirement fails, 401 for a missing step-up
    /// ([`AuthError::StepUpRequired`]), 503 for an entitlement with no snapshot held
    /// ([`AuthError::EntitlementsUnavailable`]). It never waits: see [`checked`](Self::checked).
    ///
    /// A refusal is counted in the metrics (`frontegg_authorization_denials_total`, or
    /// `frontegg_verifications_total{outcome="missing"}` for an anonymous caller): this is the
    /// check of requests that are answered by it. Guards, which only choose a route, use
    /// [`permits`](Self::permits).
    pub fn check(&self, requirement: &Requirement) -> Result<&Identity, AuthError> {
        let outcome = self.identified().and_then(|identity| {
            identity.satisfies(requirement).map_err(AuthError::from)?;
            Ok(identity)
        });
        if let Err(e) = &outcome {
            e.count();
        }
        outcome
    }

    /// Whether the caller satisfies `requirement`, counted nowhere: for guards, whose failure
    /// only sends the request on to another route.
    pub fn permits(&self, requirement: &Requirement) -> bool {
        self.identity().is_some_and(|identity| identity.satisfies(requirement).is_ok())
    }

    /// [`check`](Self::check) of the tenant a request's path names, for the adapters' tenant
    /// middleware; `None` when the path's segment is not even UTF-8, so it names no tenant (403).
    pub fn check_path_tenant(&self, tenant: Option<&str>) -> Result<&Identity, AuthError> {
        match tenant {
            Some(tenant) => self.check(&Requirement::tenant(tenant)),
            None => {
                let refused = self.identified().and_then(|_| Err(AuthError::Forbidden(Denied::wrong_tenant())));
                if let Err(e) = &refused {
                    e.count();
                }
                refused
            }
        }
    }

    /// [`check`](Self::check), after waiting, when the requirement reads entitlements and no
    /// snapshot was ever loaded, for the one shared first load (bounded by
    /// [`entitlements_first_load_timeout`](crate::ConfigBuilder::entitlements_first_load_timeout)).
    /// What every extractor and middleware of the adapters calls.
    pub async fn checked(&self, requirement: &Requirement) -> Result<&Identity, AuthError> {
        if let Some(store) = self.needs_first_snapshot(requirement) {
            let _ = store.ready().await;
        }
        self.check(requirement)
    }

    /// The store to wait for, when checking `requirement` would find no snapshot.
    pub fn needs_first_snapshot(
        &self,
        requirement: &Requirement,
    ) -> Option<std::sync::Arc<crate::entitlements::EntitlementsStore>> {
        let store = self.identity()?.context().entitlements()?;
        (requirement.needs_entitlements() && store.snapshot().is_none()).then(|| store.clone())
    }
}
