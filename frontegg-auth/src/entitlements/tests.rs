//! Table-driven tests of the snapshot and its evaluation.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use super::*;

/// 2024-01-01T00:00:00Z.
fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_704_067_200)
}

fn snapshot(data: Value) -> Snapshot {
    Snapshot::parse(json!({"snapshotOffset": 1, "data": data}).to_string().as_bytes()).unwrap()
}

fn attributes(custom: Value) -> Attributes {
    let custom = custom.as_object().cloned().unwrap_or_default();
    let claims = json!({"email": "ada@example.com", "email_verified": true, "plan": {"tier": 2}, "roles": ["x"]});
    Attributes::new(&custom, claims.as_object().unwrap(), Some("t-1"), Some("u-1"), &["admin".to_owned()], &[])
}

fn subject<'a>(
    tenant: Option<&'a str>,
    user: Option<&'a str>,
    permissions: &'a [String],
    attributes: &'a Attributes,
) -> Subject<'a> {
    Subject { tenant_id: tenant, user_id: user, permissions, wildcards: true, attributes }
}

/// One plan `b-1` holding `f-1` (key `feature`, linked to `reports.export`) with these rules
/// and default treatment, and no grant.
fn plan_with_rules(rules: Value, default: &str) -> Snapshot {
    snapshot(json!({
        "features": [["f-1", "feature", ["reports.export"]]],
        "featureBundles": [["b-1", ["f-1"], default, rules]],
        "entitlements": [],
        "featureFlags": []
    }))
}

fn rule(logic: &str, conditions: Value, treatment: &str) -> Value {
    json!([{"description": "r", "conditionLogic": logic, "conditions": conditions, "treatment": treatment}])
}

fn condition(attribute: &str, op: &str, value: Value, negate: bool) -> Value {
    json!({"attribute": attribute, "attributeType": "custom", "negate": negate, "op": op, "value": value})
}

/// Whether a plan rule made of one condition grants the feature, for these custom attributes.
fn one_condition(op: &str, value: Value, custom: Value, negate: bool) -> bool {
    let snapshot = plan_with_rules(rule("and", json!([condition("a", op, value, negate)]), "true"), "false");
    let attributes = attributes(custom);
    snapshot.feature("feature", &subject(Some("t-9"), None, &[], &attributes), now()).is_ok()
}

#[test]
fn every_operator_with_matching_non_matching_wrong_typed_and_missing_attributes() {
    let list = |items: &[&str]| json!({"list": items});
    // (op, value, matching, non-matching, wrong-typed)
    let cases: Vec<(&str, Value, Value, Value, Value)> = vec![
        ("in_list", list(&["a", "b"]), json!("b"), json!("c"), json!(1)),
        ("in_list", list(&["a", "b"]), json!(["z", "a"]), json!(["z"]), json!({"x": 1})),
        ("starts_with", list(&["ab"]), json!("abc"), json!("cab"), json!(true)),
        ("ends_with", list(&["bc"]), json!("abc"), json!("bca"), json!(3)),
        ("contains", list(&["b"]), json!("abc"), json!("ac"), json!(["b"])),
        ("matches", json!({"string": "^a.c$"}), json!("abc"), json!("abcd"), json!(7)),
        ("matches", json!({"string": "b"}), json!("abc"), json!("ac"), json!(null)),
        ("equal", json!({"number": 2}), json!(2), json!(3), json!("2")),
        ("greater_than", json!({"number": 2}), json!(3), json!(2), json!("3")),
        ("greater_than_equal", json!({"number": 2}), json!(2), json!(1.5), json!(true)),
        ("lower_than", json!({"number": 2}), json!(1), json!(2), json!("1")),
        ("lower_than_equal", json!({"number": 2}), json!(2), json!(2.5), json!([2])),
        ("between_numeric", json!({"start": 1, "end": 3}), json!(3), json!(4), json!("2")),
        ("is", json!({"boolean": true}), json!(true), json!(false), json!("true")),
        (
            "on",
            json!({"date": "2024-01-01T00:00:00Z"}),
            json!("2024-01-01T01:00:00+01:00"),
            json!("2024-01-02T00:00:00Z"),
            json!(true),
        ),
        ("on", json!({"date": 1_704_067_200_000u64}), json!("2024-01-01T00:00:00Z"), json!(0), json!(false)),
        (
            "on_or_after",
            json!({"date": "2024-01-01T00:00:00Z"}),
            json!("2024-06-01T00:00:00Z"),
            json!("2023-06-01T00:00:00Z"),
            json!("soon"),
        ),
        (
            "on_or_before",
            json!({"date": "2024-01-01T00:00:00Z"}),
            json!(1_600_000_000_000u64),
            json!("2025-01-01T00:00:00Z"),
            json!([]),
        ),
        (
            "between_date",
            json!({"start": "2024-01-01T00:00:00Z", "end": "2024-02-01T00:00:00Z"}),
            json!("2024-02-01T00:00:00Z"),
            json!("2024-03-01T00:00:00Z"),
            json!(true),
        ),
    ];
    for (op, value, matching, non_matching, wrong) in cases {
        let what = format!("{op} {value}");
        assert!(one_condition(op, value.clone(), json!({"a": matching}), false), "{what}: matching");
        assert!(!one_condition(op, value.clone(), json!({"a": non_matching}), false), "{what}: non-matching");
        assert!(!one_condition(op, value.clone(), json!({"a": wrong}), false), "{what}: wrong type");
        assert!(!one_condition(op, value.clone(), json!({}), false), "{what}: missing");
        // `negate` inverts a result, never a type error or a missing attribute.
        assert!(!one_condition(op, value.clone(), json!({"a": matching}), true), "{what}: negated match");
        assert!(one_condition(op, value.clone(), json!({"a": non_matching}), true), "{what}: negated non-match");
        assert!(!one_condition(op, value.clone(), json!({"a": wrong}), true), "{what}: negated wrong type");
        assert!(!one_condition(op, value, json!({}), true), "{what}: negated missing");
    }
    // Unknown operators, values of the wrong shape and patterns the regex crate refuses: never true.
    for (op, value) in [
        ("less_than", json!({"number": 5})),
        ("in_list", json!({"list": "a"})),
        ("equal", json!({"number": "2"})),
        ("matches", json!({"string": "(?<=a)b"})),
        ("matches", json!({"string": "a{1000}{1000}"})),
        ("between_numeric", json!({"start": 1})),
    ] {
        assert!(!one_condition(op, value.clone(), json!({"a": 2}), false), "{op} {value}");
        assert!(!one_condition(op, value.clone(), json!({"a": 2}), true), "{op} {value}: negated");
        assert!(!one_condition(op, value.clone(), json!({"a": "ab"}), true), "{op} {value}: negated text");
    }
}

#[test]
fn and_or_and_nested_groups() {
    let yes = condition("a", "is", json!({"boolean": true}), false);
    let no = condition("a", "is", json!({"boolean": false}), false);
    let attributes = attributes(json!({"a": true}));
    let grants = |rules: Value| {
        plan_with_rules(rules, "false").feature("feature", &subject(Some("t-9"), None, &[], &attributes), now()).is_ok()
    };
    assert!(grants(rule("and", json!([yes, yes]), "true")));
    assert!(!grants(rule("and", json!([yes, no]), "true")));
    assert!(grants(rule("or", json!([no, yes]), "true")));
    assert!(!grants(rule("or", json!([no, no]), "true")));
    assert!(grants(rule("and", json!([]), "true")), "no conditions: the rule matches");
    let group = |logic: &str, conditions: Value| json!({"conditionLogic": logic, "conditions": conditions});
    assert!(grants(rule("and", json!([yes, group("or", json!([no, yes]))]), "true")));
    assert!(!grants(rule("and", json!([yes, group("and", json!([no, yes]))]), "true")));
    assert!(grants(rule("or", json!([no, group("and", json!([yes, group("or", json!([yes]))]))]), "true")));
    // The first matching rule decides, even with "false".
    let two = json!([
        {"conditionLogic": "and", "conditions": [yes], "treatment": "false"},
        {"conditionLogic": "and", "conditions": [], "treatment": "true"}
    ]);
    assert!(!grants(two));
    // Nesting past 16 levels: the snapshot is refused whole.
    let mut deep = json!([yes]);
    for _ in 0..20 {
        deep = json!([group("and", deep)]);
    }
    let data =
        json!({"features": [], "featureBundles": [["b", [], "false", rule("and", deep, "true")]], "entitlements": []});
    let document = json!({"data": data}).to_string();
    assert_eq!(Snapshot::parse(document.as_bytes()).err(), Some(SnapshotError::TooDeep));
}

#[test]
fn flags_on_and_off_and_the_plans_default_treatment() {
    let flagged = |on: bool, default: &str, off: &str, rules: Value| {
        snapshot(json!({
            "features": [["f-1", "feature", null]],
            "featureBundles": [["b-1", ["f-1"], "false", []]],
            "entitlements": [],
            "featureFlags": [["feature", on, "boolean", default, off, rules]]
        }))
    };
    let attributes = attributes(json!({"beta": true}));
    let who = subject(Some("t-9"), None, &[], &attributes);
    let beta = rule("and", json!([condition("beta", "is", json!({"boolean": true}), false)]), "true");
    assert!(flagged(true, "true", "false", json!([])).feature("feature", &who, now()).is_ok(), "on, default true");
    assert!(flagged(true, "false", "true", json!([])).feature("feature", &who, now()).is_err(), "on, default false");
    assert!(flagged(false, "true", "false", json!([])).feature("feature", &who, now()).is_err(), "off: off treatment");
    assert!(
        flagged(false, "false", "true", json!([])).feature("feature", &who, now()).is_ok(),
        "off, off treatment true"
    );
    assert!(flagged(true, "false", "false", beta.clone()).feature("feature", &who, now()).is_ok(), "a rule grants");
    let other = attributes_without_beta();
    let who_else = subject(Some("t-9"), None, &[], &other);
    assert!(
        flagged(true, "false", "false", beta).feature("feature", &who_else, now()).is_err(),
        "the rule does not hold"
    );
    // A plan whose default treatment is "true" entitles everyone to its features.
    let open = plan_with_rules(json!([]), "true");
    assert_eq!(open.feature("feature", &who, now()), Ok(()));
    assert_eq!(plan_with_rules(json!([]), "false").feature("feature", &who, now()), Err(Justification::MissingFeature));
}

fn attributes_without_beta() -> Attributes {
    attributes(json!({}))
}

#[test]
fn expiry_tenant_user_no_expiry_wins_and_the_most_generous_across_plans() {
    let past = "2023-06-01T00:00:00Z";
    let future = "2024-06-01T00:00:00+00:00";
    let plans = |grants: Value| {
        snapshot(json!({
            "features": [["f-1", "feature", null]],
            "featureBundles": [["b-1", ["f-1"], "false", []], ["b-2", ["f-1"], "false", []]],
            "entitlements": grants,
            "featureFlags": []
        }))
    };
    let attributes = attributes(json!({}));
    let ada = subject(Some("t-1"), Some("u-1"), &[], &attributes);
    let bob = subject(Some("t-1"), Some("u-2"), &[], &attributes);
    let tenant_token = subject(Some("t-1"), None, &[], &attributes);
    let other_tenant = subject(Some("t-2"), Some("u-1"), &[], &attributes);
    let cases: Vec<(&str, Value, &Subject<'_>, Verdict)> = vec![
        ("tenant grant, no expiry", json!([["b-1", "t-1", null, null]]), &ada, Ok(())),
        ("tenant grant, future", json!([["b-1", "t-1", null, future]]), &ada, Ok(())),
        ("tenant grant, expired", json!([["b-1", "t-1", null, past]]), &ada, Err(Justification::BundleExpired)),
        ("tenant grant, tenant token", json!([["b-1", "t-1", null, null]]), &tenant_token, Ok(())),
        (
            "another tenant's grant",
            json!([["b-1", "t-1", null, null]]),
            &other_tenant,
            Err(Justification::MissingFeature),
        ),
        ("user grant", json!([["b-1", "t-1", "u-1", null]]), &ada, Ok(())),
        ("another user's grant", json!([["b-1", "t-1", "u-1", null]]), &bob, Err(Justification::MissingFeature)),
        (
            "a user grant, tenant token",
            json!([["b-1", "t-1", "u-1", null]]),
            &tenant_token,
            Err(Justification::MissingFeature),
        ),
        ("no expiry wins over expired", json!([["b-1", "t-1", null, past], ["b-1", "t-1", "u-1", null]]), &ada, Ok(())),
        ("the latest wins", json!([["b-1", "t-1", null, past], ["b-1", "t-1", null, future]]), &ada, Ok(())),
        (
            "across plans, the most generous",
            json!([["b-2", "t-1", null, future], ["b-1", "t-1", null, past]]),
            &ada,
            Ok(()),
        ),
        ("epoch ms expiry", json!([["b-1", "t-1", null, 1_800_000_000_000u64]]), &ada, Ok(())),
        ("no grant", json!([]), &ada, Err(Justification::MissingFeature)),
        ("a grant of an unknown plan", json!([["b-9", "t-1", null, null]]), &ada, Err(Justification::MissingFeature)),
    ];
    for (what, grants, who, expected) in cases {
        assert_eq!(plans(grants).feature("feature", who, now()), expected, "{what}");
    }
    // An unknown feature: missing.
    assert_eq!(
        plans(json!([["b-1", "t-1", null, null]])).feature("nope", &ada, now()),
        Err(Justification::MissingFeature)
    );
}

#[test]
fn permissions_linked_unlinked_wildcards_and_looked_up_rights() {
    let snapshot = snapshot(json!({
        "features": [["f-1", "exports", ["exports.read"]], ["f-2", "archive", ["exports.read", "archive.read"]]],
        "featureBundles": [["b-1", ["f-1"], "false", []], ["b-2", ["f-2"], "false", []]],
        "entitlements": [["b-1", "t-1", null, null], ["b-2", "t-2", null, "2020-01-01T00:00:00Z"]],
        "featureFlags": []
    }));
    let attributes = attributes(json!({}));
    let held = vec!["exports.read".to_owned(), "reports.read".to_owned(), "archive.read".to_owned()];
    let wildcard = vec!["exports.*".to_owned()];
    let t1 = subject(Some("t-1"), Some("u-1"), &held, &attributes);
    let t2 = subject(Some("t-2"), Some("u-1"), &held, &attributes);
    let t3 = subject(Some("t-3"), Some("u-1"), &held, &attributes);
    let patterned = subject(Some("t-1"), Some("u-1"), &wildcard, &attributes);
    assert_eq!(snapshot.permission("exports.read", &t1, now()), Ok(()), "linked, entitled through one feature");
    assert_eq!(snapshot.permission("reports.read", &t3, now()), Ok(()), "unlinked: roles only");
    assert_eq!(snapshot.permission("exports.write", &t1, now()), Err(Justification::MissingPermission));
    assert_eq!(snapshot.permission("archive.read", &t2, now()), Err(Justification::BundleExpired));
    assert_eq!(
        snapshot.permission("exports.read", &t2, now()),
        Err(Justification::BundleExpired),
        "expired beats missing"
    );
    assert_eq!(snapshot.permission("archive.read", &t3, now()), Err(Justification::MissingFeature));
    assert_eq!(snapshot.permission("exports.read", &patterned, now()), Ok(()), "a wildcard grant holds it");
    let no_wildcards = Subject { wildcards: false, ..subject(Some("t-1"), None, &wildcard, &attributes) };
    assert_eq!(snapshot.permission("exports.read", &no_wildcards, now()), Err(Justification::MissingPermission));

    // Access tokens: `jwt.permissions` and `jwt.roles` are the looked-up rights, never the
    // placeholders the token carries.
    let claims = json!({"permissions": ["FETCH-PERMISSIONS-BY-API"], "roles": ["FETCH-ROLES-BY-API"]});
    let looked_up = Attributes::new(
        &Map::new(),
        claims.as_object().unwrap(),
        Some("t-1"),
        None,
        &["admin".to_owned()],
        &["exports.read".to_owned()],
    );
    assert_eq!(looked_up.get("jwt.permissions"), Some(&json!(["exports.read"])));
    assert_eq!(looked_up.get("jwt.permissions.0"), Some(&json!("exports.read")));
    assert_eq!(looked_up.get("jwt.roles.0"), Some(&json!("admin")));
}

#[test]
fn attributes_from_the_token_override_custom_ones() {
    let custom = json!({"frontegg.tenantId": "spoofed", "jwt.email": "spoofed", "plan": "gold"});
    let attributes = attributes(custom);
    assert_eq!(attributes.get("frontegg.tenantId"), Some(&json!("t-1")));
    assert_eq!(attributes.get("frontegg.userId"), Some(&json!("u-1")));
    assert_eq!(attributes.get("frontegg.email"), Some(&json!("ada@example.com")));
    assert_eq!(attributes.get("frontegg.emailVerified"), Some(&json!(true)));
    assert_eq!(attributes.get("jwt.email"), Some(&json!("ada@example.com")));
    assert_eq!(attributes.get("jwt.plan.tier"), Some(&json!(2)));
    assert_eq!(attributes.get("plan"), Some(&json!("gold")));
}

#[test]
fn malformed_snapshots_are_refused_whole() {
    let parse = |text: &str| Snapshot::parse(text.as_bytes()).err();
    assert_eq!(parse("not json"), Some(SnapshotError::NotASnapshot));
    assert_eq!(parse(r#"{"data": []}"#), Some(SnapshotError::NotASnapshot));
    assert_eq!(parse(r#"{"data": {"features": {}}}"#), Some(SnapshotError::NotASnapshot));
    let tuple = |collection: &str, item: Value| {
        let mut data = json!({"features": [], "featureBundles": [], "entitlements": [], "featureFlags": []});
        data[collection] = json!([item]);
        Snapshot::parse(json!({"data": data}).to_string().as_bytes()).err()
    };
    for (collection, item) in [
        ("features", json!("f-1")),
        ("features", json!([1, "key"])),
        ("features", json!(["f-1", "key", "not-a-list"])),
        ("features", json!(["f-1", "key", [1]])),
        ("featureBundles", json!(["b-1", "f-1"])),
        ("featureBundles", json!(["b-1", [], "maybe"])),
        ("featureBundles", json!(["b-1", [], "true", {"rules": []}])),
        ("entitlements", json!(["b-1"])),
        ("entitlements", json!(["b-1", "t-1", 7])),
        ("entitlements", json!(["b-1", "t-1", null, "next tuesday"])),
        ("featureFlags", json!(["f", "on"])),
        ("featureFlags", json!(["f", true, "boolean", "yes"])),
    ] {
        assert!(matches!(tuple(collection, item.clone()), Some(SnapshotError::BadTuple { .. })), "{collection} {item}");
    }
    // Extra slots and missing optional ones are tolerated.
    let lenient = json!({"snapshotOffset": 9, "data": {
        "features": [["f-1", "k", null, "extra"], ["f-2", "k2"]],
        "featureBundles": [["b-1", ["f-1", "unknown"]]],
        "entitlements": [["b-1", "t-1"]],
        "extraCollection": [1]
    }});
    let snapshot = Snapshot::parse(lenient.to_string().as_bytes()).unwrap();
    assert_eq!(snapshot.offset(), 9);
    let attributes = Attributes::default();
    assert_eq!(snapshot.feature("k", &subject(Some("t-1"), None, &[], &attributes), now()), Ok(()));
}

#[test]
fn hostile_snapshots_do_not_panic() {
    for text in [
        "[]",
        "null",
        r#"{"data": null}"#,
        r#"{"data": {"featureBundles": [["b", [], "true", [{"conditions": [{"op": "matches", "value": {"string": "("}}]}]]]}}"#,
        r#"{"data": {"featureBundles": [["b", [], "true", [{"conditions": [null, 1, "x", {"conditionLogic": "or"}]}]]]}}"#,
        r#"{"data": {"featureFlags": [["f", true, "boolean", "true", "false", [{"treatment": 1}]]]}}"#,
        r#"{"data": {"entitlements": [["b", "t", null, 1e308]]}}"#,
        r#"{"data": {"entitlements": [["b", "t", null, -1]]}}"#,
    ] {
        if let Ok(snapshot) = Snapshot::parse(text.as_bytes()) {
            let attributes = Attributes::default();
            let _ = snapshot.feature("f", &subject(Some("t"), None, &[], &attributes), now());
        }
    }
}

#[test]
fn review_edges_fail_closed() {
    let attributes = attributes(json!({"a": true, "tags": ["x", 1]}));
    let who = subject(Some("t-9"), None, &[], &attributes);
    // Conditions that are not a list: the snapshot is refused, never read as "no conditions".
    let document =
        json!({"data": {"featureBundles": [["b", [], "false", [{"conditions": "all", "treatment": "true"}]]]}});
    assert_eq!(Snapshot::parse(document.to_string().as_bytes()).err(), Some(SnapshotError::BadRule));
    // An empty `or` group is false (JavaScript's `some`), an empty `and` group true.
    let group = |logic: &str| rule("and", json!([{"conditionLogic": logic, "conditions": []}]), "true");
    assert!(plan_with_rules(group("and"), "false").feature("feature", &who, now()).is_ok());
    assert!(plan_with_rules(group("or"), "false").feature("feature", &who, now()).is_err());
    assert!(plan_with_rules(rule("or", json!([]), "true"), "false").feature("feature", &who, now()).is_err());
    // A `negate` that is not a boolean: never true, negated or not.
    let odd = json!({"attribute": "a", "op": "is", "value": {"boolean": false}, "negate": "true"});
    assert!(plan_with_rules(rule("and", json!([odd]), "true"), "false").feature("feature", &who, now()).is_err());
    // An array attribute with a non-string element has the wrong type: false, even negated.
    assert!(!one_condition("in_list", json!({"list": ["y"]}), json!({"a": ["x", 1]}), true));
    assert!(!one_condition("in_list", json!({"list": ["x"]}), json!({"a": ["x", 1]}), false));
}

#[test]
fn dates_far_ahead_before_1970_and_other_iso_forms() {
    let plan = |expiry: Value| {
        snapshot(json!({
            "features": [["f-1", "feature", null]],
            "featureBundles": [["b-1", ["f-1"], "false", []]],
            "entitlements": [["b-1", "t-1", null, expiry]],
            "featureFlags": []
        }))
    };
    let attributes = Attributes::default();
    let who = subject(Some("t-1"), None, &[], &attributes);
    for (expiry, entitled) in [
        (json!("9999-12-31T23:59:59Z"), true),
        (json!("2030-01-01"), true),
        (json!("2030-01-01T00:00:00"), true),
        (json!("1960-01-01T00:00:00Z"), false),
        (json!(-1_000), false),
    ] {
        assert_eq!(plan(expiry.clone()).feature("feature", &who, now()).is_ok(), entitled, "{expiry}");
    }
    assert!(one_condition("on", json!({"date": 1_704_067_200_123u64}), json!({"a": 1_704_067_200_123u64}), false));
}

#[test]
fn a_feature_key_listed_twice_takes_the_most_generous_answer() {
    let snapshot = snapshot(json!({
        "features": [["f-1", "feature", null], ["f-2", "feature", null]],
        "featureBundles": [["b-1", ["f-1"], "false", []], ["b-2", ["f-2"], "false", []]],
        "entitlements": [["b-2", "t-1", null, null]],
        "featureFlags": []
    }));
    let attributes = Attributes::default();
    assert_eq!(snapshot.feature("feature", &subject(Some("t-1"), None, &[], &attributes), now()), Ok(()));
}

#[test]
fn offsets_of_any_json_number() {
    for (offset, expected) in [(json!(7), 7), (json!(7.9), 7), (json!("12"), 12), (json!(null), -1), (json!("x"), -1)] {
        let document = json!({"snapshotOffset": offset, "data": {}});
        assert_eq!(Snapshot::parse(document.to_string().as_bytes()).unwrap().offset(), expected, "{offset}");
    }
}

#[test]
fn many_patterns_are_capped_and_identical_ones_compiled_once() {
    let conditions: Vec<Value> =
        (0..1_500).map(|i| condition("a", "matches", json!({"string": format!("^v{i}$")}), false)).collect();
    let snapshot = plan_with_rules(rule("or", json!(conditions), "true"), "false");
    // The first 1 000 patterns compiled; the ones beyond are never true.
    let early = attributes(json!({"a": "v10"}));
    let late = attributes(json!({"a": "v1400"}));
    assert!(snapshot.feature("feature", &subject(Some("t-9"), None, &[], &early), now()).is_ok());
    assert!(snapshot.feature("feature", &subject(Some("t-9"), None, &[], &late), now()).is_err());
    // A huge list is evaluated, not refused.
    let list: Vec<String> = (0..100_000).map(|i| format!("x{i}")).collect();
    assert!(one_condition("in_list", json!({"list": list}), json!({"a": "x99999"}), false));
}
