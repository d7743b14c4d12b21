//! Route guards on the caller's identity: permissions, roles, tenants, any [`Requirement`].
//!
//! A guard selects a route: when it fails, actix-web tries the next matching route or resource,
//! and when none is left, answers **404 Not Found** (or **405 Method Not Allowed** for the routes
//! of one resource), not 401 or 403. Guards are for routing (the same path served differently to
//! administrators, or to authenticated and anonymous callers); to *protect* a scope or a
//! resource, use [`require`](crate::require), which answers 401 and 403.
//!
//! Guards read the [`Caller`] that the [authentication](crate::authenticate) put into the request
//! extensions, so it must run before routing: wrap the **App** with it, or a scope that encloses
//! the guarded scopes, resources and routes. (A guard on a scope or a resource is evaluated by
//! its parent while routing, before the scope's or resource's own middleware; a guard on a
//! route, by its resource, after the resource's middleware.) Without an identity, every guard
//! fails but [`anonymous`]; without any caller (no authentication ran), every guard fails and
//! the misconfiguration is logged.
//!
//! ```
//! use actix_web::{App, HttpResponse, web};
//! use frontegg_actix::{Authenticator, guard};
//!
//! # fn demo(auth: Authenticator) {
//! let app = App::new()
//!     .service(
//!         web::resource("/dashboard")
//!             // Administrators get their dashboard...
//!             .route(web::get().guard(guard::role("admin")).to(|| async { "the admin dashboard" }))
//!             // ...authenticated callers theirs...
//!             .route(web::get().guard(guard::authenticated()).to(|| async { "your dashboard" }))
//!             // ...and everybody else a sign-in page.
//!             .route(web::get().to(|| async { HttpResponse::Ok().body("please sign in") })),
//!     )
//!     .wrap(frontegg_actix::authenticate_optional(auth));
//! # let _ = app;
//! # }
//! ```

use actix_web::guard::{Guard, GuardContext};

use frontegg_auth::markers::RequirementMarker;
use frontegg_auth::{Caller, Requirement};

/// What an [`IdentityGuard`] checks.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Check {
    Authenticated,
    Anonymous,
    Requirement(Requirement),
}

/// A guard on the caller's identity; made by the functions of this [module](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityGuard {
    check: Check,
}

impl IdentityGuard {
    /// Whether a request with this caller passes.
    fn passes(&self, caller: &Caller) -> bool {
        match (&self.check, caller) {
            (Check::Anonymous, caller) => matches!(caller, Caller::Anonymous),
            (Check::Authenticated, caller) => caller.identity().is_some(),
            (Check::Requirement(requirement), caller) => caller.permits(requirement),
        }
    }
}

impl Guard for IdentityGuard {
    fn check(&self, ctx: &GuardContext<'_>) -> bool {
        // No caller: a request the authentication has not seen (wrapped on the same resource, it
        // runs after the guards) is no anonymous caller; every guard fails.
        Caller::from_request(ctx.req_data().get()).is_ok_and(|caller| self.passes(caller))
    }
}

/// Passes requests with a verified identity.
pub fn authenticated() -> IdentityGuard {
    IdentityGuard { check: Check::Authenticated }
}

/// Passes requests *without* a verified identity: anonymous callers of an
/// [optional](crate::authenticate_optional) middleware. A request no authentication middleware
/// saw does not pass.
pub fn anonymous() -> IdentityGuard {
    IdentityGuard { check: Check::Anonymous }
}

/// Passes identities that satisfy `requirement`.
pub fn requirement(requirement: Requirement) -> IdentityGuard {
    IdentityGuard { check: Check::Requirement(requirement) }
}

/// Passes identities that satisfy the marker `R` (see [`Require`](crate::Require)):
/// `guard::marker::<(ReadReports, WriteReports)>()`.
pub fn marker<R: RequirementMarker>() -> IdentityGuard {
    requirement(R::requirement())
}

/// Passes identities that hold this permission (wildcard grants count, see
/// [`Requirement`]'s documentation).
pub fn permission(key: impl Into<String>) -> IdentityGuard {
    requirement(Requirement::permission(key))
}

/// Passes identities that hold every one of these permissions.
pub fn all_permissions<I: IntoIterator<Item = S>, S: Into<String>>(keys: I) -> IdentityGuard {
    requirement(Requirement::all_permissions(keys))
}

/// Passes identities that hold at least one of these permissions.
pub fn any_permissions<I: IntoIterator<Item = S>, S: Into<String>>(keys: I) -> IdentityGuard {
    requirement(Requirement::any_permissions(keys))
}

/// Passes identities that hold this role.
pub fn role(key: impl Into<String>) -> IdentityGuard {
    requirement(Requirement::role(key))
}

/// Passes identities that hold every one of these roles.
pub fn all_roles<I: IntoIterator<Item = S>, S: Into<String>>(keys: I) -> IdentityGuard {
    requirement(Requirement::all_roles(keys))
}

/// Passes identities that hold at least one of these roles.
pub fn any_roles<I: IntoIterator<Item = S>, S: Into<String>>(keys: I) -> IdentityGuard {
    requirement(Requirement::any_roles(keys))
}

/// Passes user tokens of a login that passed multi-factor authentication
/// ([`Requirement::step_up`]).
pub fn step_up() -> IdentityGuard {
    requirement(Requirement::step_up())
}

/// Passes user tokens of a login that passed multi-factor authentication at most `max_age` ago
/// ([`Requirement::step_up_within`]).
pub fn step_up_within(max_age: std::time::Duration) -> IdentityGuard {
    requirement(Requirement::step_up_within(max_age))
}

/// Passes identities whose tenant (or user) is entitled to the feature `key`
/// ([`Requirement::entitled`]).
pub fn entitled(key: impl Into<String>) -> IdentityGuard {
    requirement(Requirement::entitled(key))
}

/// Passes identities that hold the permission `key` and are entitled to it
/// ([`Requirement::entitled_permission`]).
pub fn entitled_permission(key: impl Into<String>) -> IdentityGuard {
    requirement(Requirement::entitled_permission(key))
}

/// Passes identities of this tenant (`tenantId`).
pub fn tenant(tenant_id: impl Into<String>) -> IdentityGuard {
    requirement(Requirement::tenant(tenant_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_means_seen_by_the_middleware_and_found_anonymous() {
        assert!(anonymous().passes(&Caller::Anonymous));
        assert!(!authenticated().passes(&Caller::Anonymous));
        assert!(!role("admin").passes(&Caller::Anonymous));
    }
}
