//! [Frontegg](https://frontegg.com) authentication and authorization for
//! [axum](https://docs.rs/axum) 0.8: layers, extractors and type-level requirements over the
//! framework-neutral core [`frontegg_auth`] (re-exported under its own name, with its common
//! types at the root, so this is the only crate an axum application depends on). The
//! `frontegg-actix` adapter offers the same free functions (`authenticate`, `authenticate_optional`,
//! `require`, `require_tenant_from_path`) and extractors (`Identity`, `Require<R>`) under the same
//! names; the repository's README maps every type of one to the other.
//!
//! | what | how |
//! |---|---|
//! | verify every request's credential | `.layer(`[`authenticate`]`(auth))` |
//! | let anonymous callers through | `.layer(`[`authenticate_optional`]`(auth))` and `Option<`[`Identity`]`>` |
//! | get the caller in a handler | the [`Identity`] extractor |
//! | require rights on routes | `.route_layer(`[`require`]`(`[`Requirement`]`::..))` |
//! | require rights in a handler's signature | [`Require<R>`](Require), with [`permission!`] / [`role!`] markers |
//! | require the tenant of the path | `.route_layer(`[`require_tenant_from_path`]`("tenant_id"))` |
//! | answer refusals your own way | `Result<Identity, `[`AuthRejection`]`>` |
//! | read the caller in your own middleware | [`Caller::from_extensions`] |
//! | log browsers in (Frontegg's hosted login, cookie sessions) | `.nest("/auth", `[`login_router`]`(&auth))`, and `authenticate(auth).redirect_to_login()` on pages |
//!
//! # Getting started
//!
//! Build one [`Authenticator`] at start-up (it caches the signing keys and the API lookups, and
//! is cheap to clone) and wrap the router in the [`authenticate`] layer. Every request must then
//! carry a valid `Authorization: Bearer <jwt>` (user and API tokens) or `x-api-key: <jwt>`
//! (access tokens); the others are answered 401 (or 503 when Frontegg cannot be reached and nothing
//! cached answers) by the layer, before any handler runs.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use frontegg_axum::{Authenticator, Config, Identity, authenticate};
//!
//! async fn me(identity: Identity) -> String {
//!     format!("{} of tenant {:?}, roles {:?}", identity.sub(), identity.tenant_id(), identity.roles())
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // FRONTEGG_BASE_URL, FRONTEGG_CLIENT_ID, FRONTEGG_API_KEY, ...
//!     let auth = Authenticator::new(Config::from_env()?)?;
//!     let app = Router::new().route("/me", get(me)).layer(authenticate(auth));
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     axum::serve(listener, app).await?;
//!     Ok(())
//! }
//! ```
//!
//! # Public and protected routes
//!
//! `Router::layer` applies to the routes added *before* it. Put the public routes in their own
//! router, or add them after the layer:
//!
//! ```
//! use axum::{Router, routing::get};
//! use frontegg_axum::{Authenticator, Identity, authenticate};
//!
//! # fn demo(auth: Authenticator) -> Router {
//! let protected = Router::new()
//!     .route("/me", get(|identity: Identity| async move { identity.sub().to_owned() }))
//!     .layer(authenticate(auth));
//! Router::new().route("/health", get(|| async { "ok" })).merge(protected)
//! # }
//! ```
//!
//! # Optional authentication
//!
//! With [`authenticate_optional`], a request without any credential reaches the handler as an
//! anonymous caller; a credential that *is* sent must still be valid. Take `Option<Identity>`:
//!
//! ```
//! use axum::{Router, routing::get};
//! use frontegg_axum::{Authenticator, Identity, authenticate_optional};
//!
//! async fn greeting(identity: Option<Identity>) -> String {
//!     match identity {
//!         Some(identity) => format!("hello {}", identity.sub()),
//!         None => "hello stranger".to_owned(),
//!     }
//! }
//!
//! # fn demo(auth: Authenticator) -> Router {
//! Router::new().route("/", get(greeting)).layer(authenticate_optional(auth))
//! # }
//! ```
//!
//! Behind the optional layer, a plain `Identity` (or [`Require`], or any route layer of this
//! crate) answers an anonymous caller 401; `Option<Require<R>>` gives `None` for an anonymous
//! caller and still answers 403 to an identity that lacks the right.
//!
//! # Requirements on routes
//!
//! [`require`] makes a route layer from a [`Requirement`]: all-of or any-of permissions and
//! roles (Frontegg's wildcard permissions such as `reports.*` included), a tenant, and their
//! combinations. An anonymous caller: 401; an identity without the right: 403 with an RFC 6750
//! `insufficient_scope` answer that names what is missing.
//!
//! ```
//! use axum::{Router, routing::{get, post}};
//! use frontegg_axum::{Authenticator, Requirement, authenticate, require};
//!
//! # async fn list() {}
//! # async fn create() {}
//! # async fn admin() {}
//! # fn demo(auth: Authenticator) -> Router {
//! let reports = Router::new()
//!     .route("/reports", get(list).post(create))
//!     .route_layer(require(Requirement::all_permissions(["reports.read", "reports.write"])));
//! let admin = Router::new()
//!     .route("/admin", post(admin))
//!     .route_layer(require(Requirement::any_roles(["admin", "owner"])));
//! Router::new().merge(reports).merge(admin).layer(authenticate(auth))
//! # }
//! ```
//!
//! **Order matters.** Each `layer` / `route_layer` call wraps what was added before it, and the
//! outermost layer runs first. The authentication layer must therefore be added *after* the
//! requirement layers, as above. Added before them, it would run after them: the requirement
//! would find no identity and answer every request 500, naming the misconfiguration.
//!
//! # Requirements in handler signatures
//!
//! Name permissions and roles as types with [`permission!`] and [`role!`], and take
//! [`Require<R>`](Require): the handler runs only for callers that satisfy `R`, and gets their
//! identity. A tuple of markers means all of them (as does [`AllOf`]), [`AnyOf`] any one of them;
//! they nest.
//!
//! ```
//! use axum::{Router, routing::{delete, get}};
//! use frontegg_axum::{AllOf, AnyOf, Authenticator, Require, authenticate, permission, role};
//!
//! permission!(pub ReadReports = "reports.read");
//! permission!(pub DeleteReports = "reports.delete");
//! role!(pub Admin = "admin");
//! role!(pub Owner = "owner");
//!
//! async fn list(caller: Require<ReadReports>) -> String {
//!     format!("reports for {}", caller.sub())
//! }
//!
//! // reports.delete, and admin or owner: nested markers read best under a name.
//! type CanDelete = AllOf<(DeleteReports, AnyOf<(Admin, Owner)>)>;
//!
//! async fn remove(caller: Require<CanDelete>) -> String {
//!     format!("deleted by {}", caller.sub())
//! }
//!
//! # fn demo(auth: Authenticator) -> Router {
//! Router::new()
//!     .route("/reports", get(list))
//!     .route("/reports/{id}", delete(remove))
//!     .layer(authenticate(auth))
//! # }
//! ```
//!
//! The same markers make route layers: `require(ReadReports::requirement())` (with
//! [`RequirementMarker`] in scope).
//!
//! # The tenant of the path
//!
//! Multi-tenant APIs often name the tenant in the path. [`require_tenant_from_path`] refuses
//! (403) a credential of another tenant:
//!
//! ```
//! use axum::{Router, routing::get};
//! use frontegg_axum::{Authenticator, Identity, Requirement, authenticate, require, require_tenant_from_path};
//!
//! async fn reports(identity: Identity) -> String {
//!     format!("reports of {:?}", identity.tenant_id())
//! }
//!
//! # fn demo(auth: Authenticator) -> Router {
//! Router::new()
//!     .route("/tenants/{tenant_id}/reports", get(reports))
//!     .route_layer(require_tenant_from_path("tenant_id"))
//!     .route_layer(require(Requirement::permission("reports.read")))
//!     .layer(authenticate(auth))
//! # }
//! ```
//!
//! # Answering your own way
//!
//! Every extractor of this crate rejects with an [`AuthRejection`], whose
//! [`IntoResponse`](axum::response::IntoResponse) gives the core's answer. To answer
//! differently, take `Result<_, AuthRejection>`:
//!
//! ```
//! use axum::http::StatusCode;
//! use axum::response::{IntoResponse, Response};
//! use frontegg_axum::{AuthError, AuthRejection, Identity};
//!
//! async fn page(identity: Result<Identity, AuthRejection>) -> Response {
//!     match identity {
//!         Ok(identity) => format!("welcome {}", identity.sub()).into_response(),
//!         Err(rejection) => match rejection.error() {
//!             Some(AuthError::MissingCredential) => {
//!                 (StatusCode::SEE_OTHER, [("location", "/login")]).into_response()
//!             }
//!             // Everything else: the standard answer.
//!             _ => rejection.into_response(),
//!         },
//!     }
//! }
//! # let _ = axum::Router::<()>::new().route("/", axum::routing::get(page));
//! ```
//!
//! A handler can also check requirements chosen at run time with
//! [`Identity::satisfies`](frontegg_auth::Identity::satisfies); `?` turns the refusal into the
//! standard 403:
//!
//! ```
//! use frontegg_axum::{AuthError, AuthRejection, Identity, Requirement};
//!
//! async fn report(identity: Identity) -> Result<String, AuthRejection> {
//!     let needed = Requirement::permission("reports.read");
//!     identity.satisfies(&needed).map_err(AuthError::from)?;
//!     Ok("the report".to_owned())
//! }
//! # let _ = axum::Router::<()>::new().route("/", axum::routing::get(report));
//! ```
//!
//! # Step-up and entitlements
//!
//! Requirements for a recent multi-factor login (RFC 9470) and for Frontegg entitlements are
//! markers like permissions: `Require<(WriteReports, SteppedUpWithin<300>)>` answers a user token
//! without a step-up in the last five minutes 401 with the `insufficient_user_authentication`
//! challenge; `Require<BetaDashboard>` after `entitled!(BetaDashboard = "beta-dashboard")` answers a
//! caller whose plan lacks the feature 403, naming the justification. Entitlements need
//! `ConfigBuilder::entitlements(true)`; see the core's [`requirement`](frontegg_auth::requirement)
//! and [`entitlements`](frontegg_auth::entitlements) modules.
//!
//! ```
//! use frontegg_axum::{Require, SteppedUpWithin, entitled, entitled_permission, permission};
//!
//! permission!(pub WriteReports = "reports.write");
//! entitled!(pub BetaDashboard = "beta-dashboard");
//! entitled_permission!(pub ReadExports = "exports.read");
//!
//! async fn approve(_: Require<(WriteReports, SteppedUpWithin<300>)>) -> &'static str {
//!     "approved"
//! }
//!
//! async fn beta(_: Require<BetaDashboard>) -> &'static str {
//!     "the beta"
//! }
//!
//! async fn exports(_: Require<ReadExports>) -> &'static str {
//!     "the exports"
//! }
//! # let _ = (approve, beta, exports);
//! ```
//!
//! # Answers
//!
//! Every refusal is the core's [`Refusal`], answered exactly as in the core's [table of
//! answers](frontegg_auth::refusal#answers): 401 without a valid credential, 403 without the
//! right, 503 when Frontegg cannot be reached and nothing cached answers, 500 for a misconfigured
//! server. The bodies never contain the token.
//!
//! **A missing layer is a 500, on purpose.** The authentication layer puts a [`Caller`] into
//! every request it lets through, identified or anonymous. When an extractor or a route layer
//! finds none, the server is misconfigured; answering 401 would blame the caller, and answering
//! as if anonymous would silently open the route. The misconfiguration is logged at error level
//! the first time.
//!
//! # CORS
//!
//! Browsers send CORS preflights without credentials. Put the CORS layer outside (after) the
//! authentication layer so that it answers them first, or let them through with
//! `authenticate(auth).allow_cors_preflight()`.
//!
//! # Testing
//!
//! The core's feature `testing` holds a Frontegg emulator on 127.0.0.1 that signs real tokens:
//! `frontegg_auth::testing` (add `frontegg-auth = { version = "..", features = ["testing"] }` to
//! your dev-dependencies).
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod extract;
mod login;
mod rejection;
mod tenant;

pub use extract::{Identity, Require};
pub use login::login_router;
pub use rejection::{AuthRejection, render};
pub use tenant::{TenantCheck, TenantCheckFuture, TenantCheckLayer, require_tenant_from_path};

pub use frontegg_auth;
pub use frontegg_auth::markers::{AllOf, AnyOf, RequirementMarker, SteppedUp, SteppedUpWithin};
pub use frontegg_auth::{
    API_KEY_HEADER, Algorithm, AuthError, AuthenticationLayer, Authenticator, Caller, Config, ConfigBuilder,
    ConfigError, Credential, CredentialKind, Denied, HostedLogin, KeySource, LoginSettings, Refusal, Region,
    Requirement, RequirementLayer, TokenType, entitled, entitled_permission, permission, role,
};

/// The authentication layer, for `Router::layer`: every request must carry a valid credential,
/// else the layer answers 401 (503 when Frontegg cannot be reached and nothing cached answers). The
/// verified [`Identity`] is what handlers then extract.
///
/// The core's [`AuthenticationLayer::new`]; `.allow_cors_preflight()` lets CORS preflights through.
///
/// ```
/// use axum::{Router, routing::get};
/// use frontegg_axum::{Authenticator, Identity, authenticate};
///
/// # fn demo(auth: Authenticator) -> Router {
/// Router::new()
///     .route("/me", get(|identity: Identity| async move { identity.sub().to_owned() }))
///     .layer(authenticate(auth))
/// # }
/// ```
pub fn authenticate(auth: Authenticator) -> AuthenticationLayer {
    AuthenticationLayer::new(auth)
}

/// The authentication layer for routes open to anonymous callers: a request without any
/// credential passes as [`Caller::Anonymous`] (`Option<Identity>` is `None`); a credential that is
/// sent must be valid (401 otherwise).
///
/// The core's [`AuthenticationLayer::optional`].
///
/// ```
/// use axum::{Router, routing::get};
/// use frontegg_axum::{Authenticator, Identity, authenticate_optional};
///
/// # fn demo(auth: Authenticator) -> Router {
/// Router::new()
///     .route("/", get(|identity: Option<Identity>| async move { identity.is_some().to_string() }))
///     .layer(authenticate_optional(auth))
/// # }
/// ```
pub fn authenticate_optional(auth: Authenticator) -> AuthenticationLayer {
    AuthenticationLayer::optional(auth)
}

/// A route layer enforcing `requirement` on the caller that the authentication layer found:
/// 401 for an anonymous caller, 403 with the core's `insufficient_scope` answer when the
/// requirement fails, 500 when no authentication layer ran before it.
///
/// The core's [`RequirementLayer::new`]. Add it with `route_layer`, *before* adding the
/// authentication layer (see [the guide](crate#requirements-on-routes)).
///
/// ```
/// use axum::{Router, routing::get};
/// use frontegg_axum::{Authenticator, Requirement, authenticate, require};
///
/// # fn demo(auth: Authenticator) -> Router {
/// Router::new()
///     .route("/reports", get(|| async { "reports" }))
///     .route_layer(require(Requirement::any_permissions(["reports.read", "reports.admin"])))
///     .layer(authenticate(auth))
/// # }
/// ```
pub fn require(requirement: Requirement) -> RequirementLayer {
    RequirementLayer::new(requirement)
}
