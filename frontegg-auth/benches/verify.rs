//! Cost of the common path against its floor, measured in the same run:
//!
//! - baseline: `jsonwebtoken::decode` of the same token with the same key (signature and claims);
//! - `authenticate` of a user token with the keys cached, the signature checked every time
//!   (`cache_verified_tokens(false)`): what a first request with a token pays;
//! - `authenticate` of a user token seen before (the default: its verification is remembered);
//! - `authenticate` of an access token whose lookup is cached;
//! - a requirement check with a wildcard grant.
//!
//! `cargo bench -p frontegg-auth --features testing --bench verify`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "common/criterion.rs"]
mod settings;
use frontegg_auth::testing::Emulator;
use frontegg_auth::{Credential, CredentialKind, Requirement, TokenType};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let (emulator, auth, uncached, user, access, key) = rt.block_on(async {
        let emulator = Emulator::start().await;
        let auth = emulator.authenticator();
        auth.ready(Duration::from_secs(10)).await.unwrap();
        let uncached =
            frontegg_auth::Authenticator::new(emulator.config().cache_verified_tokens(false).build().unwrap()).unwrap();
        uncached.ready(Duration::from_secs(10)).await.unwrap();
        let user = emulator.user_token().roles(["admin"]).permissions(["reports.*", "billing.read"]).sign();
        let access = emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &["reports.read"]).token;
        auth.authenticate(&Credential::new(CredentialKind::ApiKey, access.clone())).await.unwrap();
        let jwks: Value =
            reqwest::get(format!("{}/.well-known/jwks.json", emulator.url())).await.unwrap().json().await.unwrap();
        let jwk = &jwks["keys"][0];
        let key = DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).unwrap();
        (emulator, auth, uncached, user, access, key)
    });
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[emulator.client_id()]);
    let bearer = Credential::new(CredentialKind::Bearer, user.clone());
    let api_key = Credential::new(CredentialKind::ApiKey, access);
    let identity = rt.block_on(auth.authenticate(&bearer)).unwrap();
    let requirement =
        Requirement::all_permissions(["reports.read", "reports.write"]).and(Requirement::any_roles(["admin", "owner"]));

    let mut group = c.benchmark_group("verify");
    group.bench_function("baseline jsonwebtoken::decode", |b| {
        b.iter(|| jsonwebtoken::decode::<Map<String, Value>>(black_box(&user), &key, &validation).unwrap())
    });
    group.bench_function("authenticate user token, signature checked", |b| {
        b.to_async(&rt).iter(|| async { uncached.authenticate(black_box(&bearer)).await.unwrap() })
    });
    group.bench_function("authenticate user token, seen before", |b| {
        b.to_async(&rt).iter(|| async { auth.authenticate(black_box(&bearer)).await.unwrap() })
    });
    group.bench_function("authenticate access token, lookup cached", |b| {
        b.to_async(&rt).iter(|| async { auth.authenticate(black_box(&api_key)).await.unwrap() })
    });
    group.bench_function("requirement check with wildcard", |b| {
        b.iter(|| requirement.check(black_box(&identity), identity.context()).unwrap())
    });
    group.finish();
    drop(emulator);
}

criterion_group! {
    name = benches;
    config = settings::config();
    targets = bench
}
criterion_main!(benches);
