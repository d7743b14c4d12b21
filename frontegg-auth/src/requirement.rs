//! Authorization requirements: permissions and roles, all-of or any-of, and tenants, checked
//! against an identity in a [`Context`].
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
//! The rule itself: [`permission_grants`].
//!
//! An empty list is an edge that reads as written: all of nothing always holds, any of nothing never does.

use crate::context::Context;
use crate::error::Denied;
use crate::identity::Identity;
pub use crate::wildcard::permission_grants;

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

    /// Checks an identity in a context; the error says what was missing.
    ///
    /// ```
    /// # use frontegg_auth::Requirement;
    /// # fn demo(identity: &frontegg_auth::Identity) {
    /// let needed = Requirement::all_permissions(["reports.read", "reports.write"]);
    /// match needed.check(identity, identity.context()) {
    ///     Ok(()) => {}
    ///     Err(denied) => println!("missing: {:?}", denied.missing_permissions()),
    /// }
    /// # }
    /// ```
    // No rule reads the context yet; time-dependent rules (a recent step-up) will.
    #[allow(clippy::only_used_in_recursion)]
    pub fn check(&self, identity: &Identity, context: &Context) -> Result<(), Denied> {
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
            Rule::AllOf(list) => list.iter().try_for_each(|r| r.check(identity, context)),
            Rule::AnyOf(list) => {
                let mut failures = Vec::with_capacity(list.len());
                for requirement in list {
                    match requirement.check(identity, context) {
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

impl Identity {
    /// Checks a requirement in the identity's own [context](Identity::context): the clock of the
    /// authenticator that verified it. See [`Requirement::check`].
    ///
    /// ```
    /// # use frontegg_auth::{Identity, Requirement};
    /// # fn demo(identity: &Identity) -> Result<(), frontegg_auth::Denied> {
    /// identity.satisfies(&Requirement::permission("reports.read"))?;
    /// # Ok(()) }
    /// ```
    pub fn satisfies(&self, requirement: &Requirement) -> Result<(), Denied> {
        requirement.check(self, self.context())
    }
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
}
