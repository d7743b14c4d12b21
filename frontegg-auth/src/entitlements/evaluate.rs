//! Evaluation of features and permissions against a [`Snapshot`] (frontegg-entitlements.md
//! §2.3), with no I/O: a check reads the snapshot it is given and nothing else.

use std::collections::HashMap;
use std::fmt;
use std::time::SystemTime;

use serde_json::{Map, Value};

use super::snapshot::{Comparison, Condition, Op, Rule, Snapshot, instant};
use crate::wildcard::permission_grants;

/// Why a caller is not entitled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Justification {
    /// No plan of the tenant (or the user) holds the feature, and no flag or plan rule grants it.
    MissingFeature,
    /// The caller does not hold the permission.
    MissingPermission,
    /// The plans that held it have expired.
    BundleExpired,
}

impl Justification {
    /// Frontegg's name for it: `missing-feature`, `missing-permission`, `bundle-expired`.
    pub fn as_str(self) -> &'static str {
        match self {
            Justification::MissingFeature => "missing-feature",
            Justification::MissingPermission => "missing-permission",
            Justification::BundleExpired => "bundle-expired",
        }
    }
}

impl fmt::Display for Justification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The answer of a check: entitled, or why not.
pub type Verdict = Result<(), Justification>;

/// The answer of an entitlement check in a handler ([`Identity::entitlement`](crate::Identity::entitlement)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Entitlement {
    /// Entitled.
    Entitled,
    /// Not entitled, and why.
    Denied(Justification),
    /// No snapshot was ever loaded (or entitlements are off): no verdict.
    Unavailable,
}

/// Who is asking: the tenant, the user, the permissions (for access tokens, the looked-up ones),
/// and the attributes rules read.
pub struct Subject<'a> {
    /// The credential's tenant.
    pub tenant_id: Option<&'a str>,
    /// The user (none for tenant tokens: only tenant-level grants count).
    pub user_id: Option<&'a str>,
    /// The permissions held, as granted (wildcards per `wildcards`).
    pub permissions: &'a [String],
    /// Whether granted permissions may be patterns.
    pub wildcards: bool,
    /// The attributes of rules: see [`Attributes`].
    pub attributes: &'a Attributes,
}

/// The attributes rules read: the application's own, then the token's (`frontegg.email`,
/// `frontegg.emailVerified`, `frontegg.tenantId`, `frontegg.userId`, and every claim flattened
/// under `jwt.`: nested keys joined with `.`, arrays by index as in `jwt.roles.0`, and the arrays
/// themselves). The token's override the application's of the same name.
#[derive(Debug, Clone, Default)]
pub struct Attributes {
    values: HashMap<String, Value>,
}

impl Attributes {
    /// The application's own attributes, and the token's `claims` (with `roles` and `permissions`
    /// replaced by the given ones: for access tokens, the looked-up rights, never placeholders).
    pub fn new(
        custom: &Map<String, Value>,
        claims: &Map<String, Value>,
        tenant_id: Option<&str>,
        user_id: Option<&str>,
        roles: &[String],
        permissions: &[String],
    ) -> Attributes {
        let mut values: HashMap<String, Value> = custom.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let mut claims = claims.clone();
        claims.insert("roles".into(), Value::from(roles.to_vec()));
        claims.insert("permissions".into(), Value::from(permissions.to_vec()));
        flatten("jwt", &Value::Object(claims), &mut values, 0);
        for (name, value) in [
            ("frontegg.email", claims_get(&values, "jwt.email")),
            ("frontegg.emailVerified", claims_get(&values, "jwt.email_verified")),
            ("frontegg.tenantId", tenant_id.map(Value::from)),
            ("frontegg.userId", user_id.map(Value::from)),
        ] {
            if let Some(value) = value {
                values.insert(name.to_owned(), value);
            }
        }
        Attributes { values }
    }

    /// An attribute's value.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }
}

fn claims_get(values: &HashMap<String, Value>, name: &str) -> Option<Value> {
    values.get(name).cloned()
}

/// Claims nested deeper than this are not flattened further (a token is small; this only bounds
/// the work on a hostile one).
const MAX_FLATTEN_DEPTH: usize = 8;

fn flatten(prefix: &str, value: &Value, out: &mut HashMap<String, Value>, depth: usize) {
    if depth > MAX_FLATTEN_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                flatten(&format!("{prefix}.{key}"), value, out, depth + 1);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                flatten(&format!("{prefix}.{index}"), item, out, depth + 1);
            }
            out.insert(prefix.to_owned(), value.clone());
        }
        scalar => {
            out.insert(prefix.to_owned(), scalar.clone());
        }
    }
}

impl Snapshot {
    /// Whether `subject` is entitled to the feature `key` at `now`.
    pub fn feature(&self, key: &str, subject: &Subject<'_>, now: SystemTime) -> Verdict {
        let Some(features) = self.feature_by_key.get(key) else {
            // No plan can hold a feature the snapshot does not list; flags still may grant it.
            return self.flags_grant(key, subject).then_some(()).ok_or(Justification::MissingFeature);
        };
        // A key listed by several features: the most generous answer.
        self.any_of(features, subject, now)
    }

    /// Entitled if one of `features` is; else `bundle-expired` if one said so, else `missing-feature`.
    fn any_of(&self, features: &[u32], subject: &Subject<'_>, now: SystemTime) -> Verdict {
        let mut expired = false;
        for &feature in features {
            match self.feature_at(feature, subject, now) {
                Ok(()) => return Ok(()),
                Err(Justification::BundleExpired) => expired = true,
                Err(_) => {}
            }
        }
        Err(if expired { Justification::BundleExpired } else { Justification::MissingFeature })
    }

    fn feature_at(&self, feature: u32, subject: &Subject<'_>, now: SystemTime) -> Verdict {
        let Some(entry) = self.features.get(feature as usize) else {
            return Err(Justification::MissingFeature);
        };
        // 1. Direct grants, across every plan that holds it: no expiry wins, else the latest.
        let direct = self.direct_grant(&entry.bundles, subject, now);
        if direct.is_ok() {
            return direct;
        }
        // 2. The feature's flags. 3. The plans' own rules (a plan whose default treatment is
        // "true" entitles everyone to its features, as Frontegg's SDKs do).
        if self.flags_grant(&entry.key, subject)
            || entry.bundles.iter().any(|&b| {
                self.bundles.get(b as usize).is_some_and(|plan| treatment(&plan.rules, plan.default_treatment, subject))
            })
        {
            return Ok(());
        }
        // 4. The direct answer: `bundle-expired` survives.
        direct
    }

    fn direct_grant(&self, bundles: &[u32], subject: &Subject<'_>, now: SystemTime) -> Verdict {
        let Some(&tenant) = subject.tenant_id.and_then(|tenant| self.tenants.get(tenant)) else {
            return Err(Justification::MissingFeature);
        };
        let mut found = false;
        let mut latest: Option<SystemTime> = None;
        for &bundle in bundles {
            let Some(grants) = self.grants.get(&(bundle, tenant)) else { continue };
            for grant in grants {
                let applies = match &grant.user_id {
                    None => true,
                    Some(user) => subject.user_id == Some(user.as_str()),
                };
                if !applies {
                    continue;
                }
                found = true;
                match grant.expires {
                    None => return Ok(()),
                    Some(at) => latest = Some(latest.map_or(at, |l| l.max(at))),
                }
            }
        }
        match latest {
            _ if !found => Err(Justification::MissingFeature),
            Some(at) if at > now => Ok(()),
            _ => Err(Justification::BundleExpired),
        }
    }

    fn flags_grant(&self, key: &str, subject: &Subject<'_>) -> bool {
        self.flags.get(key).is_some_and(|flags| {
            flags.iter().any(|flag| {
                if flag.on { treatment(&flag.rules, flag.default_treatment, subject) } else { flag.off_treatment }
            })
        })
    }

    /// Whether `subject` holds the permission `key` and is entitled to it at `now`: it must hold
    /// it (wildcards as our permission checks), and be entitled to one of the features linked to
    /// it, if any is.
    pub fn permission(&self, key: &str, subject: &Subject<'_>, now: SystemTime) -> Verdict {
        if !subject.permissions.iter().any(|granted| permission_grants(granted, key, subject.wildcards)) {
            return Err(Justification::MissingPermission);
        }
        let Some(linked) = self.features_of_permission.get(key) else {
            // Governed by roles only.
            return Ok(());
        };
        self.any_of(linked, subject, now)
    }
}

/// The first rule whose conditions hold gives its treatment (even `false`, which ends the
/// search); else the default.
fn treatment(rules: &[Rule], default: bool, subject: &Subject<'_>) -> bool {
    for rule in rules {
        if holds(rule.all, &rule.conditions, subject) {
            return rule.treatment;
        }
    }
    default
}

/// `and`: every condition; `or`: some (as JavaScript's `every` and `some`: no conditions hold for
/// `and`, not for `or`).
fn holds(all: bool, conditions: &[Condition], subject: &Subject<'_>) -> bool {
    let check = |condition: &Condition| match condition {
        Condition::Group { all, conditions } => holds(*all, conditions, subject),
        Condition::Leaf { attribute, negate, op } => leaf(subject.attributes.get(attribute), *negate, op),
    };
    if all { conditions.iter().all(check) } else { conditions.iter().any(check) }
}

/// A missing attribute, one of the wrong type, an unknown operator or a value of the wrong shape:
/// false, whatever `negate` says (a type error never grants). Otherwise the operator's result,
/// inverted by `negate`.
fn leaf(attribute: Option<&Value>, negate: bool, op: &Op) -> bool {
    match attribute.and_then(|a| apply(op, a)) {
        Some(result) => result != negate,
        None => false,
    }
}

/// The operator's result, or `None` when the attribute has the wrong type for it.
fn apply(op: &Op, attribute: &Value) -> Option<bool> {
    let text = || attribute.as_str();
    let number = || attribute.as_f64();
    let date = || instant(attribute);
    let any_text = |list: &[String], test: &dyn Fn(&str, &str) -> bool| text().map(|a| list.iter().any(|i| test(a, i)));
    Some(match op {
        Op::InList(list) => match attribute {
            Value::String(a) => list.iter().any(|i| i == a),
            // Any element of another type than a string: the attribute has the wrong type.
            Value::Array(items) => {
                let texts: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                texts?.iter().any(|a| list.iter().any(|i| i == a))
            }
            _ => return None,
        },
        Op::StartsWith(list) => any_text(list, &|a, i| a.starts_with(i))?,
        Op::EndsWith(list) => any_text(list, &|a, i| a.ends_with(i))?,
        Op::Contains(list) => any_text(list, &|a, i| a.contains(i))?,
        Op::Matches(pattern) => pattern.is_match(text()?),
        Op::Compare(comparison, n) => {
            let a = number()?;
            match comparison {
                Comparison::Equal => a == *n,
                Comparison::Greater => a > *n,
                Comparison::GreaterEqual => a >= *n,
                Comparison::Lower => a < *n,
                Comparison::LowerEqual => a <= *n,
            }
        }
        Op::BetweenNumeric(start, end) => {
            let a = number()?;
            *start <= a && a <= *end
        }
        Op::Is(b) => attribute.as_bool()? == *b,
        Op::On(at) => date()? == *at,
        Op::OnOrAfter(at) => date()? >= *at,
        Op::OnOrBefore(at) => date()? <= *at,
        Op::BetweenDate(start, end) => {
            let a = date()?;
            *start <= a && a <= *end
        }
        Op::Never => return None,
    })
}
