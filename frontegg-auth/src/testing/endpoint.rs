//! [`Endpoint`]: the emulator's endpoints whose calls are counted.

/// The endpoints whose calls are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `GET /.well-known/jwks.json`.
    Jwks,
    /// `POST /auth/vendor`.
    VendorAuth,
    /// `GET /identity/resources/configurations/v1`.
    Configuration,
    /// `GET /identity/resources/vendor-only/{tenants|users}/access-tokens/v1/{id}` (and
    /// `.../active`).
    AccessTokenLookup,
    /// `GET .../vendor-only/users/v1/{id}`.
    UserLookup,
    /// Permissions, categories and roles.
    Management,
    /// `GET /entitlements/api/v1/vendor-entitlements`: the whole snapshot.
    EntitlementsSnapshot,
    /// `GET /entitlements/api/v1/vendor-entitlements-snapshot-offset`.
    EntitlementsOffset,
    /// `GET /oauth/authorize` (or `/frontegg/oauth/authorize`): the sign-in page, refused
    /// requests included; its form's `POST` is not counted.
    Authorize,
    /// `POST /oauth/token` with `grant_type=authorization_code`, whatever the outcome.
    TokenCode,
    /// `POST /oauth/token` with `grant_type=refresh_token`, whatever the outcome.
    TokenRefresh,
    /// `GET /oauth/logout` (or `/frontegg/oauth/logout`).
    Logout,
    /// The management API: users, tenants, tenant and user access tokens, API tokens,
    /// sessions, invitations and groups (not the user lookup by id, counted as
    /// [`UserLookup`](Self::UserLookup)).
    Directory,
    /// `POST /identity/resources/auth/v1/api-token` and `.../auth/v2/api-token`: client
    /// credentials exchanged for a JWT, whatever the outcome.
    TokenExchange,
}

pub(super) const ENDPOINTS: usize = 14;

pub(super) fn slot(endpoint: Endpoint) -> usize {
    match endpoint {
        Endpoint::Jwks => 0,
        Endpoint::VendorAuth => 1,
        Endpoint::Configuration => 2,
        Endpoint::AccessTokenLookup => 3,
        Endpoint::UserLookup => 4,
        Endpoint::Management => 5,
        Endpoint::EntitlementsSnapshot => 6,
        Endpoint::EntitlementsOffset => 7,
        Endpoint::Authorize => 8,
        Endpoint::TokenCode => 9,
        Endpoint::TokenRefresh => 10,
        Endpoint::Logout => 11,
        Endpoint::Directory => 12,
        Endpoint::TokenExchange => 13,
    }
}
