//! A load generator over real HTTP on 127.0.0.1: each example app (axum, actix) answers the same
//! scenarios, and every figure is a ratio against a baseline measured in the same run: the app's
//! own unauthenticated `/health` route, on the same server, through the same client.
//!
//! `cargo bench --bench load` (`LOAD_SECONDS`, default 3, `LOAD_CONCURRENCY`, default 32, and
//! `LOAD_PARTS`, default `axum,actix,fleet`).
//! Loops are bounded in time and count, and only loopback addresses are used.
//!
//! The fleet part runs two instances of the axum app with many access tokens, without and with
//! the shared cache (a real `redis-server` on loopback), and counts the lookups that reach
//! Frontegg; then it measures what a Redis round trip adds to a request whose first level
//! missed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use frontegg_auth::TokenType;
use frontegg_auth::testing::{Emulator, Endpoint};

#[path = "../tests/apps/mod.rs"]
mod apps;

use apps::{Actix, AppUnderTest, Axum};

const MAX_REQUESTS_PER_SCENARIO: usize = 2_000_000;

struct Scenario {
    name: &'static str,
    path: &'static str,
    header: Option<(&'static str, String)>,
    expect: u16,
}

impl Scenario {
    fn one(&self) -> Many<'_> {
        Many {
            path: self.path,
            name: self.header.as_ref().map(|h| h.0),
            values: self.header.iter().map(|h| h.1.clone()).collect(),
            expect: self.expect,
        }
    }
}

/// Requests spread over several credentials (one header name, many values), in turn.
struct Many<'a> {
    path: &'a str,
    name: Option<&'static str>,
    values: Vec<String>,
    expect: u16,
}

struct Outcome {
    requests: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

async fn drive(base: &str, scenario: &Scenario, seconds: f64, concurrency: usize) -> Outcome {
    drive_many(&[base.to_owned()], &scenario.one(), seconds, concurrency).await
}

/// Drives `scenario` against `bases` in turn, each worker starting at its own credential.
async fn drive_many(bases: &[String], scenario: &Many<'_>, seconds: f64, concurrency: usize) -> Outcome {
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let per_worker = MAX_REQUESTS_PER_SCENARIO / concurrency;
    let urls: Arc<Vec<String>> = Arc::new(bases.iter().map(|b| format!("{b}{}", scenario.path)).collect());
    let values = Arc::new(scenario.values.clone());
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let (client, stop, urls, values) = (client.clone(), stop.clone(), urls.clone(), values.clone());
            let (name, expect) = (scenario.name, scenario.expect);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut turn = worker;
                while Instant::now() < deadline && !stop.load(Ordering::Relaxed) && latencies.len() < per_worker {
                    turn += 1;
                    let url = &urls[turn % urls.len()];
                    let mut request = client.get(url);
                    if let Some(name) = name {
                        request = request.header(name, &values[(turn / urls.len()) % values.len()]);
                    }
                    let sent = Instant::now();
                    let response = request.send().await.expect("loopback request");
                    assert_eq!(response.status().as_u16(), expect, "{url}");
                    let _ = response.bytes().await;
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let at = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or_default()
    };
    Outcome { requests: all.len(), per_second: all.len() as f64 / elapsed, p50: at(0.5), p99: at(0.99) }
}

async fn run_app<A: AppUnderTest>(name: &str, seconds: f64, concurrency: usize) {
    let emulator = Emulator::start().await;
    let auth = emulator.authenticator();
    let (base, _guard) = A::start(auth.clone()).await;
    let user = emulator.user_token().permissions(["reports.read"]).expires_in(Duration::from_secs(3600)).sign();
    let wildcard = emulator.user_token().permissions(["billing.*", "reports.*"]).sign();
    let access = emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &["reports.read"]);
    let scenarios = [
        Scenario { name: "baseline: GET /health, no auth", path: "/health", header: None, expect: 200 },
        Scenario {
            name: "GET /reports, user token",
            path: "/reports",
            header: Some(("authorization", format!("Bearer {user}"))),
            expect: 200,
        },
        Scenario {
            name: "GET /reports, wildcard grant",
            path: "/reports",
            header: Some(("authorization", format!("Bearer {wildcard}"))),
            expect: 200,
        },
        Scenario {
            name: "GET /reports, access token (cached lookup)",
            path: "/reports",
            header: Some(("x-api-key", access.token.clone())),
            expect: 200,
        },
        Scenario { name: "GET /reports, no credential (401)", path: "/reports", header: None, expect: 401 },
    ];
    println!("\n{name}: {concurrency} concurrent clients, {seconds} s per scenario");
    println!("{:<46} {:>9} {:>10} {:>9} {:>9} {:>9}", "scenario", "requests", "req/s", "ratio", "p50", "p99");
    // Warm up connections, worker threads and caches before anything is measured.
    for scenario in &scenarios {
        drive(&base, scenario, (seconds / 6.0).min(0.5), concurrency).await;
    }
    let mut baseline = None;
    for scenario in &scenarios {
        let outcome = drive(&base, scenario, seconds, concurrency).await;
        let reference = *baseline.get_or_insert(outcome.per_second);
        println!(
            "{:<46} {:>9} {:>10.0} {:>8.2}x {:>9?} {:>9?}",
            scenario.name,
            outcome.requests,
            outcome.per_second,
            outcome.per_second / reference,
            outcome.p50,
            outcome.p99
        );
    }
    println!(
        "upstream calls during the whole run: JWKS {}, vendor token {}, access-token lookups {} (TTL 10 s)",
        emulator.calls(Endpoint::Jwks),
        emulator.calls(Endpoint::VendorAuth),
        emulator.calls(Endpoint::AccessTokenLookup)
    );
}

/// Two instances of the axum app, with or without one Redis, driven with many access tokens.
async fn run_fleet(seconds: f64, concurrency: usize) {
    use frontegg_auth::testing::redis::RedisServer;
    use frontegg_auth::{Authenticator, RedisCache};

    let redis = RedisServer::start();
    let redis_url = redis.url();
    let tokens = 500;
    // A short TTL, so that lookups keep happening during the run.
    let ttl = Duration::from_secs(2);
    println!("\nfleet: two axum_app instances, {tokens} access tokens in turn, TTL {ttl:?}, {concurrency} clients");
    println!(
        "{:<52} {:>9} {:>10} {:>9} {:>9} {:>9} {:>8}",
        "setup", "requests", "req/s", "ratio", "p50", "p99", "lookups"
    );
    let mut reference = None;
    let dead = {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("redis://{}", closed.local_addr().unwrap())
    };
    let setups: [(&str, Option<(&str, Duration)>); 4] = [
        ("each instance on its own", None),
        ("shared cache (first level 1 s)", Some((&redis_url, Duration::from_secs(1)))),
        ("shared cache, first level 1 ms (Redis each time)", Some((&redis_url, Duration::from_millis(1)))),
        ("shared cache configured, Redis down", Some((&dead, Duration::from_secs(1)))),
    ];
    // Twice, interleaved: on a small machine the order of runs matters as much as the setup.
    for (name, shared) in setups.iter().chain(setups.iter()).copied() {
        let emulator = Emulator::start().await;
        let instance = || {
            let mut config = emulator.config().access_token_ttl(ttl);
            if let Some((url, first_level)) = shared {
                config = config.redis(RedisCache::new(url).unwrap().first_level_ttl(first_level));
            }
            Authenticator::new(config.build().unwrap()).unwrap()
        };
        let (a, _a) = Axum::start(instance()).await;
        let (b, _b) = Axum::start(instance()).await;
        let values: Vec<String> = (0..tokens)
            .map(|_| emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &["reports.read"]).token)
            .collect();
        let scenario = Many { path: "/reports", name: Some("x-api-key"), values, expect: 200 };
        let bases = [a, b];
        drive_many(&bases, &scenario, (seconds / 6.0).min(0.5), concurrency).await;
        emulator.reset_calls();
        let outcome = drive_many(&bases, &scenario, seconds, concurrency).await;
        let lookups = emulator.calls(Endpoint::AccessTokenLookup);
        let reference = *reference.get_or_insert(outcome.per_second);
        println!(
            "{:<52} {:>9} {:>10.0} {:>8.2}x {:>9?} {:>9?} {:>8}",
            name,
            outcome.requests,
            outcome.per_second,
            outcome.per_second / reference,
            outcome.p50,
            outcome.p99,
            lookups
        );
        redis.cli(&["FLUSHALL"]);
    }
}

fn main() {
    let seconds: f64 =
        std::env::var("LOAD_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3.0f64).clamp(0.2, 60.0);
    let concurrency: usize =
        std::env::var("LOAD_CONCURRENCY").ok().and_then(|s| s.parse().ok()).unwrap_or(32).clamp(1, 512);
    // `cargo bench` passes `--bench`; anything else (such as `cargo test --benches`) gets a short run.
    let seconds = if std::env::args().any(|a| a == "--bench") { seconds } else { 0.2 };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let parts = std::env::var("LOAD_PARTS").unwrap_or_else(|_| "axum,actix,fleet".to_owned());
        let parts: Vec<&str> = parts.split(',').map(str::trim).collect();
        if parts.contains(&"axum") {
            run_app::<Axum>("axum_app", seconds, concurrency).await;
        }
        if parts.contains(&"actix") {
            run_app::<Actix>("actix_app", seconds, concurrency).await;
        }
        if parts.contains(&"fleet") {
            run_fleet(seconds, concurrency).await;
        }
    });
}
