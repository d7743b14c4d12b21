//! The test kit (feature `testing`): a Frontegg emulator on 127.0.0.1 with real RSA keys (API,
//! JWKS and hosted login), and a token builder that mints valid and deliberately broken tokens
//! of every type.
//!
//! Everything here is for tests and offline demos: it panics where a test should fail loudly
//! (a port that cannot be bound, a key that cannot be generated).

mod emulator;
mod hosted_login;
mod keys;
mod mint;
#[cfg(feature = "redis")]
pub mod redis;

pub use emulator::{AccessToken, Behaviour, Emulator, Endpoint, Surface};
pub use hosted_login::{ClientAuthentication, LoginUser};
pub use mint::TokenBuilder;
