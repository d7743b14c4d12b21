//! The Frontegg API: the management of the permission model, users, tenants, machine tokens,
//! sessions, invitations and groups ([`FronteggClient`]), the exchange of API tokens for JWTs
//! ([`TokenExchange`]), and the transport, vendor token and gateway client the rest of the crate
//! calls Frontegg through.
//!
//! # Conventions of every client
//!
//! - **Ids** go into a path as one percent-encoded segment (`a/b` stays one id). An id that is
//!   empty, only whitespace, `.` or `..`, or holds a control character is refused with
//!   [`ApiError::InvalidId`] before any call; an id sent in a header (`frontegg-tenant-id`,
//!   `frontegg-user-id`) must also be visible ASCII. Query values are encoded (`a+b@x.io`
//!   arrives as written).
//! - **Gets** answer `Ok(None)` for a 404. Other failures are an [`ApiError`]: Frontegg's
//!   `errors` messages and its `frontegg-trace-id` ([`ApiError::trace_id`]) are kept.
//! - **Paged lists** (users, tenants, groups) come as a page call (`list_page`) and as an async
//!   [`Stream`](futures_util::Stream) of items (`stream`). Frontegg's `_offset` is a page index.
//! - **Answers** are read leniently (the fact sheet's quirks): `metadata` as a JSON-encoded
//!   string or an object, `null` for a field Frontegg calls required, unknown fields ignored. An
//!   answer of another shape is an [`ApiError::Decode`], never a panic.
//! - **Secrets** Frontegg hands out (token values and secrets, links, invitation tokens,
//!   exchanged JWTs) are newtypes whose `Debug` shows `<redacted>`.
//! - **Multi-app environments**: [`FronteggClient::with_application_id`] sends
//!   `frontegg-application-id` on every call.
//!
//! Every call carries the vendor token (`x-access-token`), obtained with the client id and API
//! key, shared by all callers (one request in flight), and renewed at 80 % of its lifetime.
//! Timeouts, connection errors and 5xx are retried with exponential backoff and jitter; a 429
//! waits until `X-Rate-Limit-Reset` when that is near. Neither the API key nor the vendor token
//! ever reaches a log.

// Bottom to top.
mod error;
pub(crate) mod transport;
pub(crate) mod vendor;
mod paging; // paged lists: pages by index, or one stream of items
pub(crate) mod gateway;
mod models;
mod categories;
mod permissions;
mod roles;
mod users;
mod tenants;
mod machine_tokens; // access tokens and API tokens
pub(crate) mod token_exchange;
mod user_sessions;
mod invitations;
mod groups;
mod client;

pub use categories::Categories;
pub use client::FronteggClient;
pub use error::{ApiError, DecodeError, RoleChanges, TransportError, TransportKind};
pub use groups::{Group, GroupMember, GroupSort, Groups, GroupsQuery, NewGroup};
pub use invitations::{Invitation, Invitations, NewInvitation};
pub use machine_tokens::{
    AccessToken, AccessTokens, ApiToken, ApiTokens, CreatedAccessToken, CreatedApiToken, NewAccessToken, NewApiToken,
    TokenOwner,
};
pub use models::*;
pub use paging::Page;
pub use permissions::Permissions;
pub use roles::Roles;
pub use tenants::{NewTenant, Tenant, TenantSort, TenantUpdate, Tenants, TenantsQuery};
pub use token_exchange::{ExchangeVersion, TokenExchange};
pub use user_sessions::{Sessions, UserSession};
pub use users::{InvitedUser, Membership, NewUser, User, UserLink, UserSort, UserUpdate, Users, UsersQuery};

pub use crate::secret::{AccessTokenSecret, ClientSecret, OneTimeToken, SecretLink};
