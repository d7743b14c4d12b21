//! The Frontegg API: the management of the permission model ([`FronteggClient`]), and the
//! transport, vendor token and gateway client the rest of the crate calls Frontegg through.
//!
//! Every call carries the vendor token (`x-access-token`), obtained with the client id and API
//! key, shared by all callers (one request in flight), and renewed at 80 % of its lifetime.
//! Timeouts, connection errors and 5xx are retried with exponential backoff and jitter; a 429
//! waits until `X-Rate-Limit-Reset` when that is near. Neither the API key nor the vendor token
//! ever reaches a log.

// Bottom to top.
mod error;
pub(crate) mod transport;
mod vendor;
pub(crate) mod gateway;
mod paging; // paged lists: pages by index, or one stream of items
mod models;
mod categories;
mod permissions;
mod roles;
mod client;

pub use categories::Categories;
pub use client::FronteggClient;
pub use error::{ApiError, DecodeError, TransportError, TransportKind};
pub use models::*;
pub use permissions::Permissions;
pub use roles::Roles;
