//! Verify [Frontegg](https://frontegg.com) tokens, authorize callers and call the Frontegg
//! Identity API: the framework-neutral core of `frontegg-rs`.
//!
//! Web applications use it through an adapter, [`frontegg-axum`] or [`frontegg-actix`]; this
//! crate holds what they share:
//!
//! - [`Config`]: where keys come from and what a token must satisfy, checked when it is built;
//! - [`Authenticator`]: verification against cached, rotating signing keys, and access tokens'
//!   rights resolved through the API, cached;
//! - [`Identity`]: the verified caller; [`Requirement`]: all-of / any-of permissions and roles,
//!   tenants, with Frontegg's wildcard permissions, checked in a [`Context`];
//! - [`Admission`]: from a request head to the [`Caller`] (identified or anonymous), the one
//!   decision every adapter calls;
//! - [`AuthError`]: why a caller is refused; [`Refusal`]: every answer with its HTTP form (the
//!   [table of answers](refusal#answers));
//! - [`AuthenticationLayer`] and [`RequirementLayer`]: tower middleware;
//! - [`HostedLogin`]: Frontegg's hosted login for server-rendered apps, with server-side
//!   sessions behind a cookie ([`LoginSettings`]);
//! - [`api::FronteggClient`]: the permission-model management API;
//! - `shared_cache` (feature `redis`): lookups shared by a fleet through Redis;
//! - `testing` (feature `testing`): a Frontegg emulator on 127.0.0.1 and token minting.
//!
//! ```no_run
//! use frontegg_auth::{Authenticator, Config, Credential, CredentialKind, Requirement};
//!
//! # async fn demo(token: String) -> Result<(), Box<dyn std::error::Error>> {
//! let auth = Authenticator::new(Config::from_env()?)?;
//! let identity = auth.authenticate(&Credential::new(CredentialKind::Bearer, token)).await?;
//! identity.satisfies(&Requirement::any_permissions(["reports.read", "reports.billing"]))?;
//! println!("{} of tenant {:?}", identity.sub(), identity.tenant_id());
//! # Ok(()) }
//! ```
//!
//! # Security
//!
//! - The token never chooses the algorithm: only the configured ones are accepted (RS256 by
//!   default), each key verifies only its own algorithm family, `alg: none` is always refused,
//!   and HS256 needs an explicitly configured secret.
//! - No input panics: malformed headers, tokens, key sets and API answers become errors.
//! - Tokens, API keys, vendor tokens and `jwtSecret` never reach a log or a `Debug` string.
//! - Network failures are never cached as a verdict about a token.
//!
//! [`frontegg-axum`]: https://docs.rs/frontegg-axum
//! [`frontegg-actix`]: https://docs.rs/frontegg-actix
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The layers, bottom to top: each module imports only modules declared before it.
mod environment; // reading FRONTEGG_* variables
mod secret; // secrets with a redacted Debug
mod wildcard; // the wildcard permission rule
mod clock; // where "now" comes from
mod head; // what is read of a request, whatever the framework
pub mod telemetry; // the metrics and their one table
mod keys; // JWKS and PEM into a key set, with every rule a key must pass
mod sealing; // session ids, session keys, PKCE: what the hosted login keeps secret
mod lookup; // what a rights lookup asks and answers
#[cfg(feature = "redis")]
pub mod shared_cache; // lookups shared by a fleet through Redis
pub mod login; // the hosted login's settings
mod sessions; // where sessions are kept: in process or in Redis, sealed
pub mod config; // the configuration, checked once (static keys with `keys`)
mod refresh; // a shared, single-flight value (key set, vendor token)
pub mod api; // transport, vendor token, gateway client, management API
mod oauth; // Frontegg's authorize URL and token endpoint
mod key_cache; // fetching keys and the whole rotation policy
pub mod entitlements; // the entitlements snapshot: parsed, evaluated, loaded and polled
mod context; // what a requirement is checked in besides the identity
mod identity; // the verified caller
mod error; // why a caller is refused
mod credential; // the credential of a request's headers
mod verify; // signature and claims into an identity
mod rights; // access-token and user lookups, cached in process and shared
pub mod hosted_login; // the login routes and the session behind the cookie
pub mod requirement; // requirements and their verdicts
pub mod markers; // requirements as types
pub mod refusal; // every answer with its HTTP form
mod authenticator; // the facade: verification, then rights
mod caller; // what the authentication step leaves in a request
mod admission; // from a request head to the caller
mod flow; // the future of a middleware that decides, then calls the inner service
pub mod authentication; // the tower authentication layer
pub mod authorization; // the tower requirement layer

#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing; // the fuzz targets' entry points: internals reached without a bigger public API

pub use admission::{Admission, Admitted};
pub use authentication::{AuthenticationFuture, AuthenticationLayer, AuthenticationService};
pub use authenticator::Authenticator;
pub use authorization::{RequirementFuture, RequirementLayer, RequirementService};
pub use caller::Caller;
pub use clock::Clock;
pub use config::{Algorithm, Config, ConfigBuilder, ConfigError, KeySource, Region};
pub use context::Context;
pub use credential::{API_KEY_HEADER, Credential, CredentialKind};
pub use error::{AuthError, Denied, InvalidClaims, Malformed, StepUp, WrongTokenType};
pub use head::RequestHead;
pub use hosted_login::{HostedLogin, LoginAnswer};
pub use identity::{Identity, MFA_ACR, TokenType};
pub use key_cache::KeyError;
pub use keys::{KeySetError, SkippedKey};
pub use login::LoginSettings;
pub use refusal::Refusal;
pub use requirement::Requirement;
pub use secret::{ApiKey, JwtSecret, TokenString};
#[cfg(feature = "redis")]
pub use shared_cache::{RedisCache, RedisCacheError, RedisHmacKey};
