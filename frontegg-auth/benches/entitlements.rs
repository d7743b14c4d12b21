//! Entitlement checks against a large snapshot, as ratios of the RSA verification of one token
//! measured in the same run: `cargo bench -p frontegg-auth --features testing --bench entitlements`.
//!
//! The snapshot: 1 000 features (each linked to a permission), 200 plans of 5 features each
//! (every tenth with a rule), 100 000 entitlements (tenant grants, some per user, a quarter
//! expiring), 50 flags. Also measured: parsing it, and the memory it holds (a counting allocator).

use std::hint::black_box;
use std::time::SystemTime;

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "common/criterion.rs"]
mod settings;
use frontegg_auth::entitlements::{Attributes, Snapshot, Subject};
use frontegg_auth::testing::Emulator;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value, json};

#[path = "common/counting.rs"]
mod counting;

fn document() -> String {
    let features: Vec<Value> =
        (0..1_000).map(|f| json!([format!("f-{f}"), format!("feature-{f}"), [format!("perm.{f}")]])).collect();
    let bundles: Vec<Value> = (0..200)
        .map(|b| {
            let ids: Vec<String> = (0..5).map(|i| format!("f-{}", (b * 5 + i) % 1_000)).collect();
            let rules = if b % 10 == 0 {
                json!([{"conditionLogic": "and", "treatment": "true", "conditions": [
                    {"attribute": "jwt.country", "attributeType": "custom", "negate": false, "op": "in_list", "value": {"list": ["NL", "BE"]}}
                ]}])
            } else {
                json!([])
            };
            json!([format!("b-{b}"), ids, "false", rules])
        })
        .collect();
    let grants: Vec<Value> = (0..100_000)
        .map(|g| {
            let user = if g % 7 == 0 { json!(format!("user-{g}")) } else { Value::Null };
            let expiry = if g % 4 == 0 { json!("2030-01-01T00:00:00Z") } else { Value::Null };
            json!([format!("b-{}", g % 200), format!("tenant-{}", g % 20_000), user, expiry])
        })
        .collect();
    let flags: Vec<Value> =
        (0..50).map(|f| json!([format!("feature-{f}"), true, "boolean", "false", "false", []])).collect();
    json!({"snapshotOffset": 1, "data": {"features": features, "featureBundles": bundles, "entitlements": grants, "featureFlags": flags}})
        .to_string()
}

fn bench(c: &mut Criterion) {
    let text = document();
    let before = counting::live();
    let snapshot = Snapshot::parse(text.as_bytes()).unwrap();
    let held = counting::live() - before;
    println!("snapshot document: {} bytes; parsed snapshot holds {:.1} MB", text.len(), held as f64 / 1e6);

    // The floor: one RSA verification (jsonwebtoken::decode), as in the verify benchmark.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (token, key, client_id) = rt.block_on(async {
        let emulator = Emulator::start().await;
        let token = emulator.user_token().sign();
        let jwks: Value =
            reqwest::get(format!("{}/.well-known/jwks.json", emulator.url())).await.unwrap().json().await.unwrap();
        let jwk = &jwks["keys"][0];
        let key = DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).unwrap();
        (token, key, emulator.client_id().to_owned())
    });
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[client_id]);

    let claims = json!({"sub": "user-7", "country": "NL"});
    let permissions = vec!["perm.12".to_owned(), "perm.*".to_owned()];
    let attributes =
        Attributes::new(&Map::new(), claims.as_object().unwrap(), Some("tenant-12"), Some("user-7"), &[], &permissions);
    let subject = Subject {
        tenant_id: Some("tenant-12"),
        user_id: Some("user-7"),
        permissions: &permissions,
        wildcards: true,
        attributes: &attributes,
    };
    let now = SystemTime::now();

    let mut group = c.benchmark_group("entitlements");
    group.bench_function("baseline: RSA verification of one token", |b| {
        b.iter(|| jsonwebtoken::decode::<Map<String, Value>>(black_box(&token), &key, &validation).unwrap())
    });
    group.bench_function("feature check", |b| b.iter(|| snapshot.feature(black_box("feature-62"), &subject, now)));
    group.bench_function("feature check, not entitled", |b| {
        b.iter(|| snapshot.feature(black_box("feature-999"), &subject, now))
    });
    group.bench_function("permission-entitlement check", |b| {
        b.iter(|| snapshot.permission(black_box("perm.62"), &subject, now))
    });
    group.sample_size(10);
    group.bench_function("loading the snapshot", |b| b.iter(|| Snapshot::parse(black_box(text.as_bytes())).unwrap()));
    group.finish();
}

criterion_group! {
    name = benches;
    config = settings::config();
    targets = bench
}
criterion_main!(benches);
