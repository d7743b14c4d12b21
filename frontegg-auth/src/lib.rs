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
//!   tenants, with Frontegg's wildcard permissions;
//! - [`AuthError`]: every refusal with its HTTP answer (401, 403, 503, RFC 6750 challenge);
//! - [`AuthenticateLayer`] and [`RequireLayer`]: tower middleware;
//! - [`api::FronteggClient`]: the permission-model management API;
//! - `testing` (feature `testing`): a Frontegg emulator on 127.0.0.1 and token minting.
//!
//! ```no_run
//! use frontegg_auth::{Authenticator, Config, Credential, CredentialKind, Requirement};
//!
//! # async fn demo(token: String) -> Result<(), Box<dyn std::error::Error>> {
//! let auth = Authenticator::new(Config::from_env()?)?;
//! let identity = auth.authenticate(&Credential::new(CredentialKind::Bearer, token)).await?;
//! identity.satisfies(&Requirement::any_permissions(["reports.read", "reports.*"]))?;
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

pub mod api;
pub mod authenticate;
mod authenticator;
pub mod authorize;
mod claims;
pub mod config;
mod credential;
mod error;
mod jwks;
pub mod markers;
mod refresh;
pub mod require;
mod secret;
mod verify;

#[cfg(feature = "testing")]
pub mod testing;

pub use authenticate::{Admission, Anonymous, Authenticate, AuthenticateLayer};
pub use authenticator::Authenticator;
pub use authorize::{Denied, Requirement};
pub use claims::{Identity, TokenType};
pub use config::{Algorithm, Config, ConfigBuilder, ConfigError, KeySource, Region};
pub use credential::{API_KEY_HEADER, Credential, CredentialKind};
pub use error::{AuthError, error_body, error_response};
pub use require::{Require, RequireLayer};
pub use secret::{ApiKey, JwtSecret, TokenString};
