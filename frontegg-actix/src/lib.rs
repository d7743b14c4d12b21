//! [actix-web](https://actix.rs) 4 middleware, extractors and guards for
//! [Frontegg](https://frontegg.com) authentication and authorization, on top of the
//! framework-neutral core [`frontegg_auth`] (re-exported under its own name). The
//! `frontegg-axum` adapter offers the same free functions (`authenticate`, `authenticate_optional`,
//! `require`, `require_tenant_from_path`) and extractors (`Identity`, `Require<R>`) under the same
//! names; the repository's README maps every type of one to the other.
//!
//! - [`authenticate`]: middleware that verifies `Authorization: Bearer` / `x-api-key` and puts
//!   the caller's identity into the request, required or [optional](authenticate_optional);
//! - [`Identity`], `Option<Identity>`, [`MaybeIdentity`]: the caller, in a handler;
//! - [`require`], [`require_tenant_from_path`]: middleware that protects a scope or a resource
//!   (401 / 403);
//! - [`Require<R>`](Require): a requirement at the type level, checked at extraction;
//! - [`guard`]: route guards on permissions, roles and tenants;
//! - [`AuthRejection`]: every refusal, answered with the core's RFC 6750 response.
//!
//! Every refusal of a caller (401, 403, 503) is answered exactly as the core and the other adapter
//! (`frontegg-axum`) answer it: same status, same headers, same JSON body; so are the 500s of a
//! misconfigured server.
//!
//! # Quick start
//!
//! Build one [`Authenticator`] at start-up and wrap the `App` with [`authenticate`]:
//!
//! ```no_run
//! use std::time::Duration;
//! use actix_web::{App, HttpServer, web};
//! use frontegg_actix::{Authenticator, Config, Identity, authenticate};
//!
//! async fn me(identity: Identity) -> String {
//!     format!("{} of tenant {:?}", identity.sub(), identity.tenant_id())
//! }
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // FRONTEGG_BASE_URL, FRONTEGG_CLIENT_ID, FRONTEGG_API_KEY.
//!     let auth = Authenticator::new(Config::from_env()?)?;
//!     // Optional: load the signing keys before serving (and keep them fresh from this runtime).
//!     let _ = auth.ready(Duration::from_secs(10)).await;
//!     HttpServer::new(move || {
//!         App::new()
//!             .route("/me", web::get().to(me))
//!             .wrap(authenticate(auth.clone()))
//!     })
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await?;
//!     Ok(())
//! }
//! ```
//!
//! `HttpServer::new` builds one `App` per worker thread: clone the authenticator into each (its
//! clones share the key cache and the lookup caches).
//!
//! # Middleware order
//!
//! actix-web runs the **last** `wrap` **first** (it is the outermost), and routing happens inside
//! the middleware of the App and of each scope. So:
//!
//! - [`authenticate`] wraps the App (or a scope enclosing every route that needs an identity);
//! - [`require`] / [`require_tenant_from_path`] wrap a scope or a resource *inside* it, or the
//!   same scope with the authentication wrapped after: `.wrap(require(..)).wrap(authenticate(auth))`;
//! - [guards](guard) need the authentication on the App or an enclosing scope, as they run while
//!   routing.
//!
//! When no authentication put a [`Caller`] into the request before an extractor, [`require`] or
//! [`require_tenant_from_path`], the request is answered **500**
//! ([`Refusal::no_authentication`]) and the misconfiguration logged, rather than treating the
//! caller as anonymous or blaming them with a 401, exactly as the other adapter does. Every check
//! fails closed, with one exception: actix-web's generic `Option<T>` extractor turns any error of
//! `T` into `None`, so `Option<Identity>` and `Option<Require<R>>` give `None` for a 401, a 403
//! and a 500 alike (the 500 is still logged). Take [`MaybeIdentity`], or
//! `Result<Require<R>, AuthRejection>`, where that matters.
//!
//! # The caller in a handler
//!
//! ```
//! use frontegg_actix::{Identity, MaybeIdentity};
//!
//! // 401 when nobody is signed in.
//! async fn me(identity: Identity) -> String {
//!     format!("{} holds {:?}", identity.sub(), identity.permissions())
//! }
//!
//! // `None` for an anonymous caller (optional authentication).
//! async fn greeting(identity: Option<Identity>) -> String {
//!     match identity {
//!         Some(identity) => format!("hello {}", identity.sub()),
//!         None => "hello stranger".to_owned(),
//!     }
//! }
//!
//! // The same, but a missing middleware answers 500 instead of passing for an anonymous caller.
//! async fn strict_greeting(MaybeIdentity(identity): MaybeIdentity) -> String {
//!     format!("hello {}", identity.as_ref().map_or("stranger", |i| i.sub()))
//! }
//! # let _ = actix_web::App::new()
//! #     .route("/me", actix_web::web::get().to(me))
//! #     .route("/a", actix_web::web::get().to(greeting))
//! #     .route("/b", actix_web::web::get().to(strict_greeting));
//! ```
//!
//! | in the request | `Identity` | `Option<Identity>` | `MaybeIdentity` |
//! |---|---|---|---|
//! | a verified identity | the identity | `Some` | `MaybeIdentity(Some)` |
//! | an anonymous caller ([`authenticate_optional`], no credential) | 401 | `None` | `MaybeIdentity(None)` |
//! | nothing: no the authentication ran | 500 | **`None`** (logged) | 500 |
//!
//! `Option<Identity>` is actix-web's generic `Option<T>` extractor, which turns every error of `T`
//! into `None`; it cannot answer 500 for a missing middleware, hence [`MaybeIdentity`]. A request
//! with a bad credential never reaches a handler: [`authenticate`] refuses it, in optional mode
//! too.
//!
//! # Optional authentication
//!
//! [`authenticate_optional`] lets requests without any credential through, anonymous. A public
//! App with a protected scope stacks both modes:
//!
//! ```
//! use actix_web::{App, web};
//! use frontegg_actix::{Authenticator, Identity, authenticate, authenticate_optional};
//!
//! # fn demo(auth: Authenticator) {
//! let app = App::new()
//!     .route("/", web::get().to(|who: Option<Identity>| async move {
//!         format!("signed in: {}", who.is_some())
//!     }))
//!     .service(
//!         web::scope("/account")
//!             .wrap(authenticate(auth.clone())) // 401 without a credential
//!             .route("", web::get().to(|who: Identity| async move { who.sub().to_owned() })),
//!     )
//!     .wrap(authenticate_optional(auth));
//! # let _ = app;
//! # }
//! ```
//!
//! # Authorization
//!
//! ## Protecting a scope or a resource: `require` (the safe default)
//!
//! [`require`] wraps a scope or a resource with a [`Requirement`]: 401 for an anonymous caller,
//! 403 (`insufficient_scope`, with what is missing) when the requirement fails. Nothing inside
//! can forget the check.
//!
//! ```
//! use actix_web::{App, web};
//! use frontegg_actix::{Authenticator, Requirement, authenticate, require};
//!
//! # fn demo(auth: Authenticator) {
//! let app = App::new()
//!     .service(
//!         web::scope("/reports")
//!             // reports.read, or any permission of reports.* granted by a wildcard.
//!             .wrap(require(Requirement::permission("reports.read")))
//!             .route("", web::get().to(|| async { "the reports" }))
//!             .service(
//!                 web::resource("/{id}")
//!                     // Both permissions, and the admin or owner role.
//!                     .wrap(require(
//!                         Requirement::all_permissions(["reports.read", "reports.write"])
//!                             .and(Requirement::any_roles(["admin", "owner"])),
//!                     ))
//!                     .route(web::put().to(|| async { "updated" })),
//!             ),
//!     )
//!     .wrap(authenticate(auth));
//! # let _ = app;
//! # }
//! ```
//!
//! ## Requirements as types: `Require<R>`
//!
//! [`permission!`] and [`role!`] name keys as types; [`Require<R>`](Require) checks them when the
//! handler's arguments are extracted. A tuple means all of them, [`AnyOf`] any one of them.
//!
//! ```
//! use frontegg_actix::{AnyOf, Require, permission, role};
//!
//! permission!(pub ReadReports = "reports.read");
//! permission!(pub WriteReports = "reports.write");
//! role!(pub Admin = "admin");
//! role!(pub Owner = "owner");
//!
//! async fn update(caller: Require<(ReadReports, WriteReports)>) -> String {
//!     format!("{} may update reports", caller.sub())
//! }
//!
//! async fn delete(caller: Require<(WriteReports, AnyOf<(Admin, Owner)>)>) -> String {
//!     format!("{} may delete reports", caller.sub())
//! }
//! # let _ = actix_web::App::new()
//! #     .route("/u", actix_web::web::put().to(update))
//! #     .route("/d", actix_web::web::delete().to(delete));
//! ```
//!
//! ## The tenant in the path: `require_tenant_from_path`
//!
//! ```
//! use actix_web::{App, web};
//! use frontegg_actix::{Authenticator, authenticate, require_tenant_from_path};
//!
//! # fn demo(auth: Authenticator) {
//! let app = App::new()
//!     .service(
//!         // 403 when the credential's tenant is not `{tenant_id}`.
//!         web::scope("/tenants/{tenant_id}")
//!             .wrap(require_tenant_from_path("tenant_id"))
//!             .route("/users", web::get().to(|path: web::Path<String>| async move {
//!                 format!("the users of {}", path.into_inner())
//!             })),
//!     )
//!     .wrap(authenticate(auth));
//! # let _ = app;
//! # }
//! ```
//!
//! The parameter must be declared by the path of the wrapped resource or of the wrapped scope
//! itself: match info is not known yet around the App, or around a scope for the parameters of
//! its inner resources (a 500 that names the parameter).
//!
//! ## Checking in the handler
//!
//! For decisions that depend on the request's data, check the identity and return the core's
//! refusal; `?` turns it into an [`AuthRejection`], answered with the same 403:
//!
//! ```
//! use frontegg_actix::{AuthError, AuthRejection, Identity, Requirement};
//!
//! async fn export(identity: Identity) -> Result<String, AuthRejection> {
//!     identity.satisfies(&Requirement::permission("reports.export")).map_err(AuthError::Forbidden)?;
//!     Ok("the export".to_owned())
//! }
//! # let _ = actix_web::App::new().route("/e", actix_web::web::get().to(export));
//! ```
//!
//! ## Route guards
//!
//! The [`guard`] module selects routes by identity: `guard::role("admin")`,
//! `guard::any_permissions([..])`, `guard::tenant(..)`, `guard::authenticated()`... A failed
//! guard means "this route does not match": with no other route left, actix-web answers **404 or
//! 405**, never 401 or 403. Use guards to route, and [`require`] to protect.
//!
//! ```
//! use actix_web::{App, web};
//! use frontegg_actix::{Authenticator, authenticate, guard};
//!
//! # fn demo(auth: Authenticator) {
//! let app = App::new()
//!     .service(
//!         web::resource("/settings")
//!             .route(web::get().guard(guard::role("admin")).to(|| async { "every setting" }))
//!             .route(web::get().to(|| async { "your settings" })),
//!     )
//!     .wrap(authenticate(auth)); // on the App: guards run while routing
//! # let _ = app;
//! # }
//! ```
//!
//! # CORS preflights
//!
//! Browsers send preflights (`OPTIONS` with `Access-Control-Request-Method`) without credentials.
//! Best: put the CORS middleware outside [`authenticate`] (wrap it after), so it answers them
//! first. Otherwise [`Authentication::allow_cors_preflight`] lets them through as anonymous callers (an `Identity` extractor then answers 401).
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
//! use frontegg_actix::{Require, SteppedUpWithin, entitled, entitled_permission, permission};
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
//! Every refusal is the core's [`Refusal`], rendered by [`render`] and answered exactly as in the
//! core's [table of answers](frontegg_auth::refusal#answers), byte for byte as the other
//! adapter: 401 without a valid credential, 403 without the right, 503 when Frontegg cannot be
//! reached and nothing cached answers, 500 for a misconfigured server. The bodies never contain
//! the token.
//!
//! # Answering your own way
//!
//! actix-web's `Result<T, E>` extractor hands the refusal to the handler instead of answering it:
//!
//! ```
//! use actix_web::HttpResponse;
//! use frontegg_actix::{AuthRejection, Identity};
//!
//! async fn page(identity: Result<Identity, AuthRejection>) -> HttpResponse {
//!     match identity {
//!         Ok(identity) => HttpResponse::Ok().body(format!("hello {}", identity.sub())),
//!         Err(rejection) if rejection.is_misconfiguration() => HttpResponse::InternalServerError().finish(),
//!         Err(_) => HttpResponse::Found().insert_header(("location", "/login")).finish(),
//!     }
//! }
//! # let _ = actix_web::App::new().route("/", actix_web::web::get().to(page));
//! ```
//!
//! # Testing
//!
//! The core's feature `testing` holds a Frontegg emulator on 127.0.0.1 that signs real tokens:
//! `frontegg_auth::testing` (add `frontegg-auth = { version = "..", features = ["testing"] }` to
//! your dev-dependencies). `actix_web::test` calls the App without a server:
//!
//! ```
//! use actix_web::{App, test, web};
//! use frontegg_actix::{Identity, authenticate};
//! use frontegg_auth::testing::Emulator;
//!
//! # actix_web::rt::System::new().block_on(async {
//! let emulator = Emulator::start().await;
//! let app = test::init_service(
//!     App::new()
//!         .route("/me", web::get().to(|identity: Identity| async move { identity.sub().to_owned() }))
//!         .wrap(authenticate(emulator.authenticator())),
//! )
//! .await;
//!
//! let token = emulator.user_token().permissions(["reports.read"]).tenant("t1").sign();
//! let req = test::TestRequest::get().uri("/me").insert_header(("authorization", format!("Bearer {token}")));
//! assert_eq!(test::call_and_read_body(&app, req.to_request()).await, "user-1");
//!
//! let expired = emulator.user_token().expired().sign();
//! let req = test::TestRequest::get().uri("/me").insert_header(("authorization", format!("Bearer {expired}")));
//! let response = test::call_service(&app, req.to_request()).await;
//! assert_eq!(response.status(), 401);
//! let challenge = response.headers().get("www-authenticate").and_then(|v| v.to_str().ok());
//! assert!(challenge.unwrap_or_default().starts_with(r#"Bearer error="invalid_token""#));
//! # });
//! ```
//!
//! # Crate features
//!
//! None: this crate uses actix-web without default features, and enables none of them.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod authentication;
mod authorization;
mod extract;
pub mod guard;
mod login;
mod rejection;

pub use authentication::{Authentication, AuthenticationMiddleware, authenticate, authenticate_optional};
pub use authorization::{Authorization, AuthorizationMiddleware, require, require_tenant_from_path};
pub use extract::{Identity, MaybeIdentity, Require};
pub use login::login_scope;
pub use rejection::{AuthRejection, render};

pub use frontegg_auth;
pub use frontegg_auth::markers::{AllOf, AnyOf, RequirementMarker, SteppedUp, SteppedUpWithin};
pub use frontegg_auth::{
    API_KEY_HEADER, Algorithm, AuthError, Authenticator, Caller, Config, ConfigBuilder, ConfigError, Credential,
    CredentialKind, Denied, HostedLogin, KeySource, LoginSettings, Refusal, Region, Requirement, TokenType, entitled,
    entitled_permission, permission, role,
};
