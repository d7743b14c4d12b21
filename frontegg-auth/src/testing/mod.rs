//! The test kit (feature `testing`): a Frontegg emulator on 127.0.0.1 with real RSA keys (API,
//! JWKS, hosted login and management API), and a token builder that mints valid and
//! deliberately broken tokens of every type.
//!
//! Everything here is for tests and offline demos: it panics where a test should fail loudly
//! (a port that cannot be bound, a key that cannot be generated).

mod answer; // the JSON answers every handler builds
mod keys; // RSA keys and the signer
mod mint; // the token builder
mod endpoint; // the endpoints whose calls are counted
mod hosted_login; // the hosted login's handlers (OAuth), apart from the emulator
mod directory; // the management API's handlers (users, tenants, tokens...), apart from the emulator
mod emulator; // the server
mod login_knobs; // the hosted login's knobs on the emulator
mod directory_knobs; // the management API's knobs on the emulator
#[cfg(feature = "redis")]
pub mod redis;

pub use directory::{IdsParameter, MetadataReading, OffsetReading};
pub use emulator::{AccessToken, Behaviour, Emulator, Surface};
pub use endpoint::Endpoint;
pub use hosted_login::{ClientAuthentication, LoginUser, RefreshTokens, TokenRequest};
pub use mint::TokenBuilder;
