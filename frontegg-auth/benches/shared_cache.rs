//! What the shared cache costs a request, as ratios of the cached path measured in the same run:
//! `cargo bench -p frontegg-auth --features testing,redis --bench shared_cache` (starts a real
//! `redis-server` on loopback).
//!
//! - baseline: an access token whose lookup is in the instance's own cache (the first level);
//! - first level missed, Redis hit: 2 000 tokens in turn with a first level of 1 ms, so each
//!   authentication reads its verdict from Redis (one round trip on loopback);
//! - first level missed, no shared cache: the same tokens with a lookup TTL of 1 ms, so each
//!   authentication asks the Frontegg API (the emulator, on loopback) directly.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "common/criterion.rs"]
mod settings;
use frontegg_auth::testing::redis::RedisServer;
use frontegg_auth::testing::{Emulator, Endpoint};
use frontegg_auth::{Authenticator, Credential, CredentialKind, RedisCache, TokenType};

const TOKENS: usize = 2_000;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let redis = RedisServer::start();
    let (emulator, cached, shared, direct, credentials) = rt.block_on(async {
        let emulator = Emulator::start().await;
        let ttl = Duration::from_secs(3600);
        let build = |config: frontegg_auth::ConfigBuilder| Authenticator::new(config.build().unwrap()).unwrap();
        let cached = build(emulator.config().access_token_ttl(ttl));
        let shared = build(
            emulator.config().access_token_ttl(ttl).redis(
                RedisCache::new(&redis.url())
                    .unwrap()
                    .timeout(Duration::from_secs(1))
                    .first_level_ttl(Duration::from_millis(1)),
            ),
        );
        let direct = build(emulator.config().access_token_ttl(Duration::from_millis(1)));
        let credentials: Vec<Credential> = (0..TOKENS)
            .map(|_| {
                let access = emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &["reports.read"]);
                Credential::new(CredentialKind::ApiKey, access.token)
            })
            .collect();
        // Warm every cache: keys, remembered verifications, Redis.
        for credential in &credentials {
            cached.authenticate(credential).await.unwrap();
            shared.authenticate(credential).await.unwrap();
            direct.authenticate(credential).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        (emulator, cached, shared, direct, credentials)
    });
    let mut turn = 0;
    let mut next = || {
        turn = (turn + 1) % TOKENS;
        &credentials[turn]
    };

    // What redis-rs itself takes for one round trip of the same two commands, on the same runtime.
    let raw = rt.block_on(async {
        let client = redis::Client::open(redis.url()).unwrap();
        redis::aio::ConnectionManager::new(client).await.unwrap()
    });

    let mut group = c.benchmark_group("shared_cache");
    group.bench_function("redis-rs alone: GETRANGE and PTTL in one round trip", |b| {
        b.to_async(&rt).iter(|| {
            let mut connection = raw.clone();
            async move {
                let mut pipe = redis::pipe();
                pipe.cmd("GETRANGE").arg("some-key").arg(0).arg(262_144).cmd("PTTL").arg("some-key");
                let _: Vec<redis::Value> = pipe.query_async(&mut connection).await.unwrap();
            }
        })
    });
    group.bench_function("baseline: access token, first level hit", |b| {
        b.to_async(&rt).iter(|| async { cached.authenticate(black_box(&credentials[0])).await.unwrap() })
    });
    emulator.reset_calls();
    group.bench_function("first level missed, Redis hit", |b| {
        b.to_async(&rt).iter(|| {
            let credential = next();
            async { shared.authenticate(black_box(credential)).await.unwrap() }
        })
    });
    let from_redis_lookups = emulator.calls(Endpoint::AccessTokenLookup);
    group.bench_function("first level missed, no shared cache: API lookup", |b| {
        b.to_async(&rt).iter(|| {
            let credential = next();
            async { direct.authenticate(black_box(credential)).await.unwrap() }
        })
    });
    group.finish();
    println!("lookups that reached the emulator while Redis answered: {from_redis_lookups}");
    drop(raw);
    drop(redis);
}

criterion_group! {
    name = benches;
    config = settings::config();
    targets = bench
}
criterion_main!(benches);
