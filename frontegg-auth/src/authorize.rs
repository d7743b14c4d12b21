//! Authorization requirements: permissions and roles, all-of or any-of, and tenants.
//!
//! Frontegg's own SDKs disagree on whether a list of permissions means "all" or "any", so a
//! [`Requirement`] always says which:
//!
//! ```
//! use frontegg_auth::Requirement;
//! // reports.read and reports.write, both.
//! let write = Requirement::all_permissions(["reports.read", "reports.write"]);
//! // admin or owner, either.
//! let manage = Requirement::any_roles(["admin", "owner"]);
//! // Both groups must pass.
//! let both = write.clone().and(manage);
//! // Either group passes.
//! let either = Requirement::any_of([Requirement::all_roles(["admin"]), write]);
//! # let _ = (both, either);
//! ```
//!
//! # Wildcard permissions
//!
//! A *granted* permission that contains `*` is a pattern, as in Frontegg's entitlements engine:
//! `*` stands for one or more characters (dots included), everything else is literal, and the
//! pattern must match the whole key. `fe.secure.*` grants `fe.secure.read.users`; `fe.*` grants
//! `fe.billing.read`; `fe.secure.*` does not grant `fe.secure` itself. Required keys are always
//! literal. Turn patterns off with [`ConfigBuilder::wildcard_permissions`](crate::ConfigBuilder::wildcard_permissions).
//!
//! An empty list is an edge that reads as written: all of nothing always holds, any of nothing never does.

use std::fmt;

use crate::claims::Identity;

/// Whether a group needs all of its keys or any one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    All,
    Any,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    Permissions(Mode, Vec<String>),
    Roles(Mode, Vec<String>),
    Tenant(String),
    AllOf(Vec<Requirement>),
    AnyOf(Vec<Requirement>),
}

/// What a caller must hold. Built explicitly as all-of or any-of; combined with [`and`](Self::and),
/// [`or`](Self::or), [`all_of`](Self::all_of) and [`any_of`](Self::any_of).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    rule: Rule,
}

fn keys<I, S>(keys: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    keys.into_iter().map(Into::into).collect()
}

impl Requirement {
    /// Every one of these permission keys.
    pub fn all_permissions<I: IntoIterator<Item = S>, S: Into<String>>(permissions: I) -> Self {
        Self { rule: Rule::Permissions(Mode::All, keys(permissions)) }
    }

    /// At least one of these permission keys.
    pub fn any_permissions<I: IntoIterator<Item = S>, S: Into<String>>(permissions: I) -> Self {
        Self { rule: Rule::Permissions(Mode::Any, keys(permissions)) }
    }

    /// One permission key: the same as `all_permissions([key])`.
    pub fn permission(key: impl Into<String>) -> Self {
        Self::all_permissions([key.into()])
    }

    /// Every one of these role keys.
    pub fn all_roles<I: IntoIterator<Item = S>, S: Into<String>>(roles: I) -> Self {
        Self { rule: Rule::Roles(Mode::All, keys(roles)) }
    }

    /// At least one of these role keys.
    pub fn any_roles<I: IntoIterator<Item = S>, S: Into<String>>(roles: I) -> Self {
        Self { rule: Rule::Roles(Mode::Any, keys(roles)) }
    }

    /// One role key: the same as `all_roles([key])`.
    pub fn role(key: impl Into<String>) -> Self {
        Self::all_roles([key.into()])
    }

    /// The credential's tenant (`tenantId`) is this one.
    pub fn tenant(tenant_id: impl Into<String>) -> Self {
        Self { rule: Rule::Tenant(tenant_id.into()) }
    }

    /// Every one of these requirements.
    pub fn all_of(requirements: impl IntoIterator<Item = Requirement>) -> Self {
        Self { rule: Rule::AllOf(requirements.into_iter().collect()) }
    }

    /// At least one of these requirements.
    pub fn any_of(requirements: impl IntoIterator<Item = Requirement>) -> Self {
        Self { rule: Rule::AnyOf(requirements.into_iter().collect()) }
    }

    /// This requirement and that one.
    pub fn and(self, other: Requirement) -> Self {
        match self.rule {
            Rule::AllOf(mut list) => {
                list.push(other);
                Self { rule: Rule::AllOf(list) }
            }
            rule => Self::all_of([Self { rule }, other]),
        }
    }

    /// This requirement or that one.
    pub fn or(self, other: Requirement) -> Self {
        match self.rule {
            Rule::AnyOf(mut list) => {
                list.push(other);
                Self { rule: Rule::AnyOf(list) }
            }
            rule => Self::any_of([Self { rule }, other]),
        }
    }

    /// Checks an identity; the error says what was missing.
    ///
    /// ```
    /// # use frontegg_auth::Requirement;
    /// # fn demo(identity: &frontegg_auth::Identity) {
    /// match Requirement::all_permissions(["reports.read", "reports.write"]).check(identity) {
    ///     Ok(()) => {}
    ///     Err(denied) => println!("missing: {:?}", denied.missing_permissions()),
    /// }
    /// # }
    /// ```
    pub fn check(&self, identity: &Identity) -> Result<(), Denied> {
        match &self.rule {
            Rule::Permissions(mode, required) => {
                let missing: Vec<&String> = required.iter().filter(|key| !identity.has_permission(key)).collect();
                group_verdict(*mode, required, &missing, Kind::Permission)
            }
            Rule::Roles(mode, required) => {
                let missing: Vec<&String> = required.iter().filter(|key| !identity.has_role(key)).collect();
                group_verdict(*mode, required, &missing, Kind::Role)
            }
            Rule::Tenant(tenant) => {
                if identity.tenant_id() == Some(tenant.as_str()) {
                    Ok(())
                } else {
                    Err(Denied::wrong_tenant())
                }
            }
            Rule::AllOf(list) => list.iter().try_for_each(|r| r.check(identity)),
            Rule::AnyOf(list) => {
                let mut failures = Vec::with_capacity(list.len());
                for requirement in list {
                    match requirement.check(identity) {
                        Ok(()) => return Ok(()),
                        Err(denied) => failures.push(denied),
                    }
                }
                Err(Denied::none_of(failures))
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Permission,
    Role,
}

fn group_verdict(mode: Mode, required: &[String], missing: &[&String], kind: Kind) -> Result<(), Denied> {
    let failed = match mode {
        Mode::All => !missing.is_empty(),
        Mode::Any => missing.len() == required.len(),
    };
    if !failed {
        return Ok(());
    }
    let noun = match kind {
        Kind::Permission => "permission",
        Kind::Role => "role",
    };
    let listed: Vec<String> = missing.iter().map(|s| (*s).clone()).collect();
    let message = match mode {
        Mode::All => format!("Missing {noun}s: {}", listed.join(", ")),
        Mode::Any if required.is_empty() => format!("No {noun} can satisfy an empty any-of requirement"),
        Mode::Any => format!("Missing one of the {noun}s: {}", listed.join(", ")),
    };
    let (permissions, roles) = match kind {
        Kind::Permission => (listed, Vec::new()),
        Kind::Role => (Vec::new(), listed),
    };
    Err(Denied { message, permissions, roles, tenant: false })
}

/// Why a [`Requirement`] failed. Its `Display` is the description sent to the caller: the required
/// keys, never anything from the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    message: String,
    permissions: Vec<String>,
    roles: Vec<String>,
    tenant: bool,
}

impl Denied {
    fn none_of(failures: Vec<Denied>) -> Denied {
        if failures.len() == 1 {
            if let Some(only) = failures.into_iter().next() {
                return only;
            }
            return Denied::none_of(Vec::new());
        }
        let message = if failures.is_empty() {
            "No requirement can satisfy an empty any-of requirement".to_owned()
        } else {
            let parts: Vec<&str> = failures.iter().map(|d| d.message.as_str()).collect();
            format!("None of the alternatives is met ({})", parts.join("; "))
        };
        let mut out = Denied { message, permissions: Vec::new(), roles: Vec::new(), tenant: false };
        for failure in failures {
            out.permissions.extend(failure.permissions);
            out.roles.extend(failure.roles);
            out.tenant |= failure.tenant;
        }
        out
    }

    /// The refusal of a tenant requirement, for adapters that find the tenant cannot match
    /// before comparing (a path segment that is not even UTF-8, for instance).
    pub fn wrong_tenant() -> Denied {
        Denied {
            message: "The credential does not belong to this tenant".into(),
            permissions: Vec::new(),
            roles: Vec::new(),
            tenant: true,
        }
    }

    /// The required permission keys the caller lacks.
    pub fn missing_permissions(&self) -> &[String] {
        &self.permissions
    }

    /// The required role keys the caller lacks.
    pub fn missing_roles(&self) -> &[String] {
        &self.roles
    }

    /// Whether a tenant requirement failed.
    pub fn tenant_mismatch(&self) -> bool {
        self.tenant
    }

    /// The RFC 6750 `scope` attribute: the missing permissions, space separated.
    pub(crate) fn scope(&self) -> String {
        self.permissions.join(" ")
    }
}

impl std::error::Error for Denied {}

impl From<Denied> for crate::AuthError {
    fn from(denied: Denied) -> Self {
        crate::AuthError::Forbidden(denied)
    }
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Whether a granted permission grants a required key: equal, or, with `wildcards`, a pattern in
/// which each `*` stands for one or more characters, anchored at both ends.
///
/// ```
/// use frontegg_auth::authorize::permission_grants;
/// assert!(permission_grants("fe.secure.*", "fe.secure.read.users", true));
/// assert!(permission_grants("fe.*", "fe.billing.read", true));
/// assert!(!permission_grants("fe.secure.*", "fe.secure.", true));
/// assert!(!permission_grants("fe.billing.reads", "fe.billing.read", true));
/// assert!(!permission_grants("fe.*", "fe.billing.read", false));
/// ```
pub fn permission_grants(granted: &str, required: &str, wildcards: bool) -> bool {
    if !wildcards || !granted.contains('*') {
        return granted == required;
    }
    // Written by hand: glob crates treat `*` as zero or more characters, Frontegg as one or more.
    let mut parts = granted.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = required.strip_prefix(first) else {
        return false;
    };
    let mut parts = parts.peekable();
    while let Some(part) = parts.next() {
        // The star before `part` takes at least one character.
        let mut chars = rest.chars();
        if chars.next().is_none() {
            return false;
        }
        rest = chars.as_str();
        if parts.peek().is_none() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = rest.get(at + part.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::permission_grants as g;

    #[test]
    fn wildcard_rule_of_the_entitlements_engine() {
        assert!(g("fe.secure.*", "fe.secure.read.users", true));
        assert!(g("fe.secure.*", "fe.secure.x", true));
        assert!(!g("fe.secure.*", "fe.secure.", true));
        assert!(!g("fe.secure.*", "fe.secure", true));
        assert!(!g("fe.secure.*", "xfe.secure.read", true));
        assert!(g("*", "anything", true));
        assert!(!g("*", "", true));
        assert!(g("a.*.c", "a.b.c", true));
        assert!(g("a.*.c", "a.b.x.c", true));
        assert!(!g("a.*.c", "a..c", true));
        assert!(g("a**", "abc", true));
        assert!(!g("a**", "ab", true));
        assert!(g("*.read", "reports.read", true));
        assert!(!g("*.read", "reports.read.all", true));
        assert!(g("é.*", "é.ü", true));
        assert!(g("reports.read", "reports.read", true));
        assert!(!g("fe.billing.reads", "fe.billing.read", true));
        assert!(!g("reports.*", "reports.read", false));
        assert!(g("reports.*", "reports.*", false));
    }
}
