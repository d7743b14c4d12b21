//! What a rights lookup asks and what it answers: shared by the lookups themselves, their
//! in-process cache and the shared cache, which stores answers under their question.

/// Which rights are looked up.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Question {
    /// A tenant or user access token's roles and permissions, by the token's id (its `sub`).
    AccessToken { kind: AccessKind, id: String },
    /// A user's roles and permissions in one tenant (or in their active tenant when `None`).
    User { id: String, tenant: Option<String> },
}

impl Question {
    /// The kind of lookup, for metrics.
    pub(crate) fn metric(&self) -> crate::telemetry::LookupKind {
        match self {
            Question::AccessToken { .. } => crate::telemetry::LookupKind::AccessToken,
            Question::User { .. } => crate::telemetry::LookupKind::User,
        }
    }
}

/// Which kind of access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum AccessKind {
    Tenant,
    User,
}

/// What Frontegg says about an access token or a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Active, with these rights; `tenant_id` is the tenant Frontegg names, if any.
    Rights { tenant_id: Option<String>, roles: Vec<String>, permissions: Vec<String> },
    /// Revoked, unknown, or access tokens are disabled: the caller is not authenticated.
    Refused,
}
