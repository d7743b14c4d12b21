//! The vendor entitlements snapshot (frontegg-entitlements.md §2.2), parsed once into an
//! immutable, indexed form: every check reads it without allocating or parsing.
//!
//! The collections are arrays of positional tuples. A snapshot whose tuples do not have the
//! documented shape is refused whole (the last good one stays in use); extra slots are ignored,
//! and optional slots may be missing. Rules are read leniently: a condition of an unknown shape
//! is kept as one that is never true.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use regex::Regex;
use serde_json::Value;

/// Groups nested deeper than this make a snapshot hostile: refused whole.
const MAX_GROUP_DEPTH: usize = 16;
/// The compiled size a `matches` pattern may take; a larger one is never true.
const MAX_REGEX_BYTES: usize = 64 * 1024;
/// Distinct `matches` patterns compiled for one snapshot; the ones beyond are never true. With the
/// size limit above, this bounds the memory patterns hold (identical ones are compiled once).
const MAX_REGEXES: usize = 1_000;

/// The patterns compiled for one snapshot, by their text.
#[derive(Default)]
struct Regexes(HashMap<String, Regex>);

impl Regexes {
    fn compile(&mut self, pattern: &str) -> Option<Regex> {
        if let Some(regex) = self.0.get(pattern) {
            return Some(regex.clone());
        }
        if self.0.len() >= MAX_REGEXES {
            return None;
        }
        let regex = regex::RegexBuilder::new(pattern)
            .size_limit(MAX_REGEX_BYTES)
            .dfa_size_limit(MAX_REGEX_BYTES)
            .build()
            .ok()?;
        self.0.insert(pattern.to_owned(), regex.clone());
        Some(regex)
    }
}

/// Why a snapshot was refused whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// Not JSON, or not `{"data": {...}}` with the four collections as arrays.
    #[error("the snapshot is not the documented JSON document")]
    NotASnapshot,
    /// A tuple of `collection` at `index` does not have the documented shape.
    #[error("the snapshot's {collection}[{index}] does not have the documented shape")]
    BadTuple {
        /// `features`, `featureBundles`, `entitlements` or `featureFlags`.
        collection: &'static str,
        /// Its index.
        index: usize,
    },
    /// Rule groups nested deeper than 16 levels.
    #[error("the snapshot's rules are nested too deeply")]
    TooDeep,
    /// A rule whose `conditions` is not a list.
    #[error("a rule of the snapshot has conditions that are not a list")]
    BadRule,
}

/// An index into [`Snapshot::features`].
pub(crate) type FeatureIx = u32;
/// An index into [`Snapshot::bundles`].
pub(crate) type BundleIx = u32;

pub(crate) struct Feature {
    pub(crate) key: String,
    /// The plans that contain it.
    pub(crate) bundles: Vec<BundleIx>,
}

pub(crate) struct Bundle {
    pub(crate) default_treatment: bool,
    pub(crate) rules: Vec<Rule>,
}

/// A grant of a plan to a tenant, or to one user of it.
#[derive(Clone)]
pub(crate) struct Grant {
    pub(crate) user_id: Option<String>,
    /// `None`: never expires.
    pub(crate) expires: Option<SystemTime>,
}

pub(crate) struct Flag {
    pub(crate) on: bool,
    pub(crate) default_treatment: bool,
    pub(crate) off_treatment: bool,
    pub(crate) rules: Vec<Rule>,
}

pub(crate) struct Rule {
    pub(crate) all: bool,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) treatment: bool,
}

pub(crate) enum Condition {
    Leaf { attribute: String, negate: bool, op: Op },
    Group { all: bool, conditions: Vec<Condition> },
}

/// An operator with its value, checked when the snapshot loads.
pub(crate) enum Op {
    InList(Vec<String>),
    StartsWith(Vec<String>),
    EndsWith(Vec<String>),
    Contains(Vec<String>),
    Matches(Regex),
    Compare(Comparison, f64),
    BetweenNumeric(f64, f64),
    Is(bool),
    On(SystemTime),
    OnOrAfter(SystemTime),
    OnOrBefore(SystemTime),
    BetweenDate(SystemTime, SystemTime),
    /// An unknown operator, a value of the wrong shape, a pattern that does not compile: never true.
    Never,
}

#[derive(Clone, Copy)]
pub(crate) enum Comparison {
    Equal,
    Greater,
    GreaterEqual,
    Lower,
    LowerEqual,
}

/// An immutable entitlements snapshot; see the [module docs](crate::entitlements).
pub struct Snapshot {
    offset: i64,
    pub(crate) features: Vec<Feature>,
    /// Feature key → the features with that key (usually one; several are combined).
    pub(crate) feature_by_key: HashMap<String, Vec<FeatureIx>>,
    /// Whether any plan or flag has rules (which read attributes).
    has_rules: bool,
    /// Permission key → the features whose tuple lists it.
    pub(crate) features_of_permission: HashMap<String, Vec<FeatureIx>>,
    pub(crate) bundles: Vec<Bundle>,
    /// Tenant id → its index in `grants`' keys (interned: a lookup borrows the id).
    pub(crate) tenants: HashMap<String, u32>,
    /// (plan, tenant) → its grants.
    pub(crate) grants: HashMap<(BundleIx, u32), Vec<Grant>>,
    /// Feature key → its flags.
    pub(crate) flags: HashMap<String, Vec<Flag>>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("offset", &self.offset)
            .field("features", &self.features.len())
            .field("plans", &self.bundles.len())
            .field("grants", &self.grants.values().map(Vec::len).sum::<usize>())
            .finish()
    }
}

fn bad(collection: &'static str, index: usize) -> SnapshotError {
    SnapshotError::BadTuple { collection, index }
}

fn string(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str)
}

/// `"true"` / `"false"` (or a JSON boolean); a missing slot is `false`.
fn treatment(value: Option<&Value>) -> Option<bool> {
    match value {
        None | Some(Value::Null) => Some(false),
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) if s == "true" => Some(true),
        Some(Value::String(s)) if s == "false" => Some(false),
        _ => None,
    }
}

/// An offset: any JSON number (a float is truncated), or a string holding one.
pub(crate) fn offset_of(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// An ISO 8601 date (RFC 3339) or epoch milliseconds.
pub(crate) fn instant(value: &Value) -> Option<SystemTime> {
    match value {
        Value::String(text) => {
            use time::format_description::well_known::{Iso8601, Rfc3339};
            let text = text.trim();
            // RFC 3339 first; then the other ISO 8601 forms (a date alone, no offset: UTC).
            let parsed = time::OffsetDateTime::parse(text, &Rfc3339)
                .or_else(|_| time::OffsetDateTime::parse(text, &Iso8601::DEFAULT))
                .or_else(|_| time::PrimitiveDateTime::parse(text, &Iso8601::DEFAULT).map(|t| t.assume_utc()))
                .or_else(|_| time::Date::parse(text, &Iso8601::DEFAULT).map(|d| d.midnight().assume_utc()))
                .ok()?;
            let seconds = parsed.unix_timestamp();
            let nanos = Duration::from_nanos(u64::from(parsed.nanosecond()));
            if seconds >= 0 {
                UNIX_EPOCH.checked_add(Duration::from_secs(seconds.unsigned_abs()))?.checked_add(nanos)
            } else {
                UNIX_EPOCH.checked_sub(Duration::from_secs(seconds.unsigned_abs()))?.checked_add(nanos)
            }
        }
        Value::Number(n) => match n.as_i64() {
            Some(ms) if ms >= 0 => UNIX_EPOCH.checked_add(Duration::from_millis(ms.unsigned_abs())),
            Some(ms) => UNIX_EPOCH.checked_sub(Duration::from_millis(ms.unsigned_abs())),
            None => {
                let ms = n.as_f64().filter(|ms| ms.is_finite() && ms.abs() < 1e16)?;
                let magnitude = Duration::from_secs_f64(ms.abs() / 1000.0);
                if ms >= 0.0 { UNIX_EPOCH.checked_add(magnitude) } else { UNIX_EPOCH.checked_sub(magnitude) }
            }
        },
        _ => None,
    }
}

impl Snapshot {
    /// Parses a snapshot document: `{"snapshotOffset": n, "data": {...}}`.
    pub fn parse(body: &[u8]) -> Result<Snapshot, SnapshotError> {
        let document: Value = serde_json::from_slice(body).map_err(|_| SnapshotError::NotASnapshot)?;
        let offset = document.get("snapshotOffset").and_then(offset_of).unwrap_or(-1);
        let data = document.get("data").and_then(Value::as_object).ok_or(SnapshotError::NotASnapshot)?;
        let collection = |name: &str| match data.get(name) {
            None | Some(Value::Null) => Some(&[][..]),
            Some(Value::Array(items)) => Some(items.as_slice()),
            Some(_) => None,
        };
        let (Some(raw_features), Some(raw_bundles), Some(raw_grants), Some(raw_flags)) = (
            collection("features"),
            collection("featureBundles"),
            collection("entitlements"),
            collection("featureFlags"),
        ) else {
            return Err(SnapshotError::NotASnapshot);
        };

        let mut features = Vec::with_capacity(raw_features.len());
        let mut feature_by_id = HashMap::with_capacity(raw_features.len());
        let mut feature_by_key: HashMap<String, Vec<FeatureIx>> = HashMap::with_capacity(raw_features.len());
        let mut features_of_permission: HashMap<String, Vec<FeatureIx>> = HashMap::new();
        for (index, tuple) in raw_features.iter().enumerate() {
            let tuple = tuple.as_array().ok_or(bad("features", index))?;
            let (Some(id), Some(key)) = (string(tuple.first()), string(tuple.get(1))) else {
                return Err(bad("features", index));
            };
            let ix = FeatureIx::try_from(features.len()).map_err(|_| bad("features", index))?;
            match tuple.get(2) {
                None | Some(Value::Null) => {}
                Some(Value::Array(keys)) => {
                    for permission in keys {
                        let permission = permission.as_str().ok_or(bad("features", index))?;
                        features_of_permission.entry(permission.to_owned()).or_default().push(ix);
                    }
                }
                Some(_) => return Err(bad("features", index)),
            }
            feature_by_id.insert(id.to_owned(), ix);
            feature_by_key.entry(key.to_owned()).or_default().push(ix);
            features.push(Feature { key: key.to_owned(), bundles: Vec::new() });
        }

        let mut regexes = Regexes::default();
        let mut bundles = Vec::with_capacity(raw_bundles.len());
        let mut bundle_by_id = HashMap::with_capacity(raw_bundles.len());
        for (index, tuple) in raw_bundles.iter().enumerate() {
            let tuple = tuple.as_array().ok_or(bad("featureBundles", index))?;
            let id = string(tuple.first()).ok_or(bad("featureBundles", index))?;
            let ix = BundleIx::try_from(bundles.len()).map_err(|_| bad("featureBundles", index))?;
            match tuple.get(1) {
                None | Some(Value::Null) => {}
                Some(Value::Array(ids)) => {
                    for feature_id in ids {
                        let feature_id = feature_id.as_str().ok_or(bad("featureBundles", index))?;
                        // A feature the snapshot does not list grants nothing.
                        if let Some(&feature) = feature_by_id.get(feature_id)
                            && let Some(feature) = features.get_mut(feature as usize)
                        {
                            feature.bundles.push(ix);
                        }
                    }
                }
                Some(_) => return Err(bad("featureBundles", index)),
            }
            let default_treatment = treatment(tuple.get(2)).ok_or(bad("featureBundles", index))?;
            let rules = rules(tuple.get(3), &mut regexes).ok_or(bad("featureBundles", index))??;
            bundle_by_id.insert(id.to_owned(), ix);
            bundles.push(Bundle { default_treatment, rules });
        }

        let mut tenants: HashMap<String, u32> = HashMap::new();
        let mut grants: HashMap<(BundleIx, u32), Vec<Grant>> = HashMap::new();
        for (index, tuple) in raw_grants.iter().enumerate() {
            let tuple = tuple.as_array().ok_or(bad("entitlements", index))?;
            let (Some(bundle_id), Some(tenant_id)) = (string(tuple.first()), string(tuple.get(1))) else {
                return Err(bad("entitlements", index));
            };
            let user_id = match tuple.get(2) {
                None | Some(Value::Null) => None,
                Some(Value::String(user)) => Some(user.clone()),
                Some(_) => return Err(bad("entitlements", index)),
            };
            let expires = match tuple.get(3) {
                None | Some(Value::Null) => None,
                Some(value) => Some(instant(value).ok_or(bad("entitlements", index))?),
            };
            // A grant of a plan the snapshot does not list grants nothing.
            if let Some(&bundle) = bundle_by_id.get(bundle_id) {
                let next = u32::try_from(tenants.len()).map_err(|_| bad("entitlements", index))?;
                let tenant = *tenants.entry(tenant_id.to_owned()).or_insert(next);
                grants.entry((bundle, tenant)).or_default().push(Grant { user_id, expires });
            }
        }

        let mut flags: HashMap<String, Vec<Flag>> = HashMap::new();
        for (index, tuple) in raw_flags.iter().enumerate() {
            let tuple = tuple.as_array().ok_or(bad("featureFlags", index))?;
            let key = string(tuple.first()).ok_or(bad("featureFlags", index))?;
            let on = tuple.get(1).and_then(Value::as_bool).ok_or(bad("featureFlags", index))?;
            let default_treatment = treatment(tuple.get(3)).ok_or(bad("featureFlags", index))?;
            let off_treatment = treatment(tuple.get(4)).ok_or(bad("featureFlags", index))?;
            let rules = rules(tuple.get(5), &mut regexes).ok_or(bad("featureFlags", index))??;
            flags.entry(key.to_owned()).or_default().push(Flag { on, default_treatment, off_treatment, rules });
        }

        let has_rules =
            bundles.iter().any(|b| !b.rules.is_empty()) || flags.values().flatten().any(|f| !f.rules.is_empty());
        Ok(Snapshot {
            offset,
            features,
            feature_by_key,
            features_of_permission,
            bundles,
            tenants,
            grants,
            flags,
            has_rules,
        })
    }

    /// Whether any plan or flag has rules (which read attributes).
    pub(crate) fn has_rules(&self) -> bool {
        self.has_rules
    }

    /// The snapshot's offset (`snapshotOffset`; -1 when it has none).
    pub fn offset(&self) -> i64 {
        self.offset
    }
}

/// The rules of a plan or a flag: `None` when the slot is not an array of rule objects;
/// `Some(Err)` when they nest too deeply.
fn rules(value: Option<&Value>, regexes: &mut Regexes) -> Option<Result<Vec<Rule>, SnapshotError>> {
    let items = match value {
        None | Some(Value::Null) => return Some(Ok(Vec::new())),
        Some(Value::Array(items)) => items,
        Some(_) => return None,
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let rule = item.as_object()?;
        let conditions = match conditions(rule.get("conditions"), 0, regexes) {
            Ok(conditions) => conditions,
            Err(e) => return Some(Err(e)),
        };
        out.push(Rule {
            all: logic(rule.get("conditionLogic")),
            conditions,
            treatment: treatment(rule.get("treatment")).unwrap_or(false),
        });
    }
    Some(Ok(out))
}

/// `and` (the default) or `or`.
fn logic(value: Option<&Value>) -> bool {
    !matches!(value.and_then(Value::as_str), Some("or"))
}

fn conditions(value: Option<&Value>, depth: usize, regexes: &mut Regexes) -> Result<Vec<Condition>, SnapshotError> {
    if depth > MAX_GROUP_DEPTH {
        return Err(SnapshotError::TooDeep);
    }
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        // Conditions that are not a list: read as none, the rule would match everyone.
        Some(_) => return Err(SnapshotError::BadRule),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Some(object) = item.as_object() else {
            out.push(Condition::Leaf { attribute: String::new(), negate: false, op: Op::Never });
            continue;
        };
        // A nested group: `conditionLogic` and no `op` (commons 1.2.0).
        if object.contains_key("conditionLogic") && !object.contains_key("op") {
            out.push(Condition::Group {
                all: logic(object.get("conditionLogic")),
                conditions: conditions(object.get("conditions"), depth + 1, regexes)?,
            });
            continue;
        }
        let attribute = string(object.get("attribute")).unwrap_or_default().to_owned();
        // A `negate` that is not a boolean would flip a condition silently: never true.
        let (negate, op) = match object.get("negate") {
            None | Some(Value::Null) => {
                (false, op(string(object.get("op")).unwrap_or_default(), object.get("value"), regexes))
            }
            Some(Value::Bool(negate)) => {
                (*negate, op(string(object.get("op")).unwrap_or_default(), object.get("value"), regexes))
            }
            Some(_) => (false, Op::Never),
        };
        out.push(Condition::Leaf { attribute, negate, op });
    }
    Ok(out)
}

fn op(name: &str, value: Option<&Value>, regexes: &mut Regexes) -> Op {
    let field = |key: &str| value.and_then(|v| v.get(key));
    let list = || {
        field("list")
            .and_then(Value::as_array)
            .and_then(|items| items.iter().map(|i| i.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>())
    };
    let number = |key: &str| field(key).and_then(Value::as_f64);
    let date = |key: &str| field(key).and_then(instant);
    let compare = |comparison| number("number").map_or(Op::Never, |n| Op::Compare(comparison, n));
    match name {
        "in_list" => list().map_or(Op::Never, Op::InList),
        "starts_with" => list().map_or(Op::Never, Op::StartsWith),
        "ends_with" => list().map_or(Op::Never, Op::EndsWith),
        "contains" => list().map_or(Op::Never, Op::Contains),
        "matches" => {
            field("string").and_then(Value::as_str).and_then(|p| regexes.compile(p)).map_or(Op::Never, Op::Matches)
        }
        "equal" => compare(Comparison::Equal),
        "greater_than" => compare(Comparison::Greater),
        "greater_than_equal" => compare(Comparison::GreaterEqual),
        "lower_than" => compare(Comparison::Lower),
        "lower_than_equal" => compare(Comparison::LowerEqual),
        "between_numeric" => match (number("start"), number("end")) {
            (Some(start), Some(end)) => Op::BetweenNumeric(start, end),
            _ => Op::Never,
        },
        "is" => field("boolean").and_then(Value::as_bool).map_or(Op::Never, Op::Is),
        "on" => date("date").map_or(Op::Never, Op::On),
        "on_or_after" => date("date").map_or(Op::Never, Op::OnOrAfter),
        "on_or_before" => date("date").map_or(Op::Never, Op::OnOrBefore),
        "between_date" => match (date("start"), date("end")) {
            (Some(start), Some(end)) => Op::BetweenDate(start, end),
            _ => Op::Never,
        },
        _ => Op::Never,
    }
}
