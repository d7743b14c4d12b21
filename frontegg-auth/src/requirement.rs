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
//!
//! # Step-up
//!
//! [`Requirement::step_up`] and [`Requirement::step_up_within`] require a login that passed
//! multi-factor authentication (Frontegg's `acr`, `amr` and `auth_time` claims), recently enough:
//!
//! - `acr` is exactly [`MFA_ACR`];
//! - `amr` holds `mfa` and one of `otp`, `sms`, `hwk`, or `sso` (an identity provider did the
//!   MFA; Frontegg's Node SDK accepts it, the mobile SDKs do not: turn it off with
//!   [`ConfigBuilder::step_up_accepts_sso`](crate::ConfigBuilder::step_up_accepts_sso));
//! - with a maximum age, `now − auth_time ≤ max_age`, with no leeway: exactly the maximum
//!   passes, one second more fails; a token without `auth_time` fails;
//! - an `auth_time` in the future beyond the clock leeway fails;
//! - claims of the wrong type never pass.
//!
//! The answers come in this order: a caller that lacks the requirement's other rights gets the
//! usual 403 (a step-up would not help); an API token or an access token gets a 403 (it can never
//! step up); a user token that has not stepped up (recently enough) gets a 401 with the RFC 9470
//! challenge ([`AuthError::StepUpRequired`](crate::AuthError::StepUpRequired)).
//!
//! ```
//! use std::time::Duration;
//! use frontegg_auth::Requirement;
//! // reports.write, and a multi-factor login within the last five minutes.
//! let approve = Requirement::permission("reports.write").and(Requirement::step_up_within(Duration::from_secs(300)));
//! # let _ = approve;
//! ```

use std::sync::atomic::AtomicBool;
use std::time::{Duration, UNIX_EPOCH};

use crate::context::Context;
use crate::entitlements::{Attributes, Entitlement, Snapshot, Subject, Verdict};
use crate::error::{Denied, StepUp, log_misconfiguration};
use crate::identity::{Identity, MFA_ACR, TokenType};
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
    StepUp(Option<Duration>),
    Entitled(String),
    EntitledPermission(String),
    AllOf(Vec<Requirement>),
    AnyOf(Vec<Requirement>),
}

/// Whether step-up rules are checked, or taken as met (to find the other rights' verdict first).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    RightsOnly,
    Everything,
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

    /// A login that passed multi-factor authentication; see [step-up](self#step-up).
    pub fn step_up() -> Self {
        Self { rule: Rule::StepUp(None) }
    }

    /// A login that passed multi-factor authentication at most `max_age` ago; see
    /// [step-up](self#step-up).
    pub fn step_up_within(max_age: Duration) -> Self {
        Self { rule: Rule::StepUp(Some(max_age)) }
    }

    /// The caller's tenant (or the user) is entitled to the feature `key`, per the entitlements
    /// snapshot ([`crate::entitlements`]). A refusal is a 403 whose description names the
    /// justification; with no snapshot ever loaded, a 503.
    pub fn entitled(key: impl Into<String>) -> Self {
        Self { rule: Rule::Entitled(key.into()) }
    }

    /// The caller holds the permission `key` and is entitled to it: to one of the features linked
    /// to it in the entitlements snapshot, if any is.
    pub fn entitled_permission(key: impl Into<String>) -> Self {
        Self { rule: Rule::EntitledPermission(key.into()) }
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

    fn has_step_up(&self) -> bool {
        match &self.rule {
            Rule::StepUp(_) => true,
            Rule::AllOf(list) | Rule::AnyOf(list) => list.iter().any(Requirement::has_step_up),
            _ => false,
        }
    }

    /// Whether checking it reads the entitlements snapshot.
    pub fn needs_entitlements(&self) -> bool {
        match &self.rule {
            Rule::Entitled(_) | Rule::EntitledPermission(_) => true,
            Rule::AllOf(list) | Rule::AnyOf(list) => list.iter().any(Requirement::needs_entitlements),
            _ => false,
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
    pub fn check(&self, identity: &Identity, context: &Context) -> Result<(), Denied> {
        // The other rights first: a caller who lacks them gets their 403, never a step-up 401.
        // Without a step-up rule, one pass is the same answer.
        if self.has_step_up() {
            self.eval(identity, context, Pass::RightsOnly)?;
        }
        self.eval(identity, context, Pass::Everything)
    }

    fn eval(&self, identity: &Identity, context: &Context, pass: Pass) -> Result<(), Denied> {
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
            Rule::Entitled(key) => {
                entitlement(identity, context, |snapshot, subject, now| snapshot.feature(key, subject, now))
            }
            Rule::EntitledPermission(key) => {
                entitlement(identity, context, |snapshot, subject, now| snapshot.permission(key, subject, now))
            }
            Rule::StepUp(_) if pass == Pass::RightsOnly => Ok(()),
            Rule::StepUp(max_age) => step_up(identity, context, *max_age),
            Rule::AllOf(list) => list.iter().try_for_each(|r| r.eval(identity, context, pass)),
            Rule::AnyOf(list) => {
                let mut failures = Vec::with_capacity(list.len());
                for requirement in list {
                    match requirement.eval(identity, context, pass) {
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
    Err(Denied { permissions, roles, ..Denied::because(message) })
}

/// An entitlement rule, read from the snapshot held (no I/O).
fn entitlement(
    identity: &Identity,
    context: &Context,
    check: impl FnOnce(&Snapshot, &Subject<'_>, std::time::SystemTime) -> Verdict,
) -> Result<(), Denied> {
    match judge(identity, context, &serde_json::Map::new(), check) {
        Entitlement::Entitled => Ok(()),
        Entitlement::Denied(justification) => Err(Denied {
            justification: Some(justification),
            ..Denied::because(format!("Not entitled: {justification}"))
        }),
        Entitlement::Unavailable => {
            if context.entitlements().is_none() {
                static LOGGED: AtomicBool = AtomicBool::new(false);
                log_misconfiguration(
                    &LOGGED,
                    "an entitlement requirement, but entitlements are off (enable ConfigBuilder::entitlements); answering 503",
                );
            }
            Err(Denied { unavailable: true, ..Denied::because("The entitlements cannot be checked yet") })
        }
    }
}

/// An entitlement check on the snapshot held, with the application's own attributes: what the
/// requirements and [`Identity::entitlement`] share.
fn judge(
    identity: &Identity,
    context: &Context,
    custom: &serde_json::Map<String, serde_json::Value>,
    check: impl FnOnce(&Snapshot, &Subject<'_>, std::time::SystemTime) -> Verdict,
) -> Entitlement {
    let Some(snapshot) = context.entitlements_snapshot() else { return Entitlement::Unavailable };
    let (tenant, user) = (identity.tenant_id(), identity.user_id());
    // Only rules read attributes; a snapshot without rules needs none, so none are built.
    let attributes = if snapshot.has_rules() {
        Attributes::new(custom, identity.claims(), tenant, user, identity.roles(), identity.permissions())
    } else {
        Attributes::default()
    };
    let subject = Subject {
        tenant_id: tenant,
        user_id: user,
        permissions: identity.permissions(),
        wildcards: identity.wildcards(),
        attributes: &attributes,
    };
    match check(&snapshot, &subject, context.now()) {
        Ok(()) => Entitlement::Entitled,
        Err(justification) => Entitlement::Denied(justification),
    }
}

/// The step-up rule; see [step-up](self#step-up).
fn step_up(identity: &Identity, context: &Context, max_age: Option<Duration>) -> Result<(), Denied> {
    if *identity.token_type() != TokenType::User {
        return Err(Denied::because(
            "API tokens and access tokens cannot step up: this needs a user's multi-factor login",
        ));
    }
    let needed = StepUp { max_age, login: context.login().cloned() };
    let refused = || Denied { step_up: Some(needed.clone()), ..Denied::because(needed.to_string()) };
    let claims = identity.claims();
    let acr = claims.get("acr").and_then(|v| v.as_str()) == Some(MFA_ACR);
    let amr: Vec<&str> = match claims.get("amr").and_then(|v| v.as_array()) {
        Some(methods) if methods.iter().all(|m| m.is_string()) => methods.iter().filter_map(|m| m.as_str()).collect(),
        _ => Vec::new(),
    };
    let second_factor = amr.iter().any(|m| matches!(*m, "otp" | "sms" | "hwk"))
        || (context.sso_counts_as_mfa() && amr.contains(&"sso"));
    if !acr || !amr.contains(&"mfa") || !second_factor {
        return Err(refused());
    }
    // `auth_time`: a non-negative number of seconds, when present; it must be there for an age.
    let auth_time = match claims.get("auth_time") {
        None => None,
        Some(value) => match value.as_f64().filter(|t| t.is_finite() && *t >= 0.0 && *t < 1e12) {
            Some(seconds) => Some(UNIX_EPOCH + Duration::from_secs_f64(seconds)),
            None => return Err(refused()),
        },
    };
    let now = context.now();
    if let Some(at) = auth_time
        && at.duration_since(now).is_ok_and(|ahead| ahead > context.leeway())
    {
        return Err(refused());
    }
    if let Some(max_age) = max_age {
        let Some(at) = auth_time else { return Err(refused()) };
        // In the future within the leeway: an age of zero. No leeway on the age itself.
        let age = now.duration_since(at).unwrap_or(Duration::ZERO);
        if age > max_age {
            return Err(refused());
        }
    }
    Ok(())
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

impl Identity {
    /// Whether the caller is entitled to the feature `key`, with the application's own
    /// attributes for rules (`custom`; the token's override them), on the snapshot held. It never
    /// waits: on a cold start (no snapshot loaded yet) it answers `Unavailable`; a requirement
    /// checked by the adapters waits for the first load.
    ///
    /// ```
    /// # use frontegg_auth::Identity;
    /// use frontegg_auth::entitlements::Entitlement;
    /// # fn demo(identity: &Identity) {
    /// let custom = serde_json::json!({"country": "NL"});
    /// match identity.entitlement("beta-dashboard", custom.as_object().unwrap_or(&Default::default())) {
    ///     Entitlement::Entitled => {}
    ///     Entitlement::Denied(why) => println!("not entitled: {why}"),
    ///     Entitlement::Unavailable => println!("try again later"),
    ///     _ => {} // the enum may gain answers
    /// }
    /// # }
    /// ```
    pub fn entitlement(&self, key: &str, custom: &serde_json::Map<String, serde_json::Value>) -> Entitlement {
        self.entitlement_with(custom, |snapshot, subject, now| snapshot.feature(key, subject, now))
    }

    /// Whether the caller holds the permission `key` and is entitled to it; see
    /// [`entitlement`](Self::entitlement).
    pub fn permission_entitlement(
        &self,
        key: &str,
        custom: &serde_json::Map<String, serde_json::Value>,
    ) -> Entitlement {
        self.entitlement_with(custom, |snapshot, subject, now| snapshot.permission(key, subject, now))
    }

    fn entitlement_with(
        &self,
        custom: &serde_json::Map<String, serde_json::Value>,
        check: impl FnOnce(&Snapshot, &Subject<'_>, std::time::SystemTime) -> Verdict,
    ) -> Entitlement {
        judge(self, self.context(), custom, check)
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
        // An alternative that could not be checked might have passed: no verdict, a 503.
        if let Some(unavailable) = failures.iter().find(|f| f.unavailable) {
            return unavailable.clone();
        }
        // An alternative that only a step-up keeps from passing: the step-up lifts the refusal.
        if let Some(step_up) = failures.iter().find_map(|f| f.step_up.clone()) {
            let because = Denied::because(step_up.to_string());
            return Denied { step_up: Some(step_up), ..because };
        }
        let mut out = Denied::because(message);
        for failure in failures {
            out.permissions.extend(failure.permissions);
            out.roles.extend(failure.roles);
            out.tenant |= failure.tenant;
        }
        out
    }
}
