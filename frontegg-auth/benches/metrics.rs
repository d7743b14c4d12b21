//! What recording metrics costs the common path, as a ratio of the same path without a
//! recorder, measured in the same run: `cargo bench -p frontegg-auth --features testing --bench
//! metrics`.
//!
//! The cached paths run with no recorder (the facade's no-op) and with
//! `metrics-exporter-prometheus`'s recorder, in turn, twice: a user token seen before (two
//! counters), and an access token whose lookup is cached (three counters; the lookup's TTL is an
//! hour, so that no lookup happens while measuring). The recorder is installed for this thread
//! only (the runtime runs on it), so that the runs can alternate.
//!
//! Time on a shared VM is noisy; instructions are not. `METRICS_CALLGRIND=none|prometheus` with
//! `METRICS_ITERATIONS=N` skips criterion and runs the user-token path N times, for
//! `valgrind --tool=callgrind --toggle-collect='*measured_loop*'` (see BENCHMARKS.md).

use std::hint::black_box;

use std::time::Duration;

use criterion::{Criterion, criterion_group};

#[path = "common/criterion.rs"]
mod settings;
use frontegg_auth::testing::Emulator;
use frontegg_auth::{Credential, CredentialKind, TokenType};

type Setup = (tokio::runtime::Runtime, Emulator, frontegg_auth::Authenticator, Credential, Credential);

fn setup() -> Setup {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (emulator, auth, user, access) = rt.block_on(async {
        let emulator = Emulator::start().await;
        let config = emulator.config().access_token_ttl(Duration::from_secs(3600)).build().unwrap();
        let auth = frontegg_auth::Authenticator::new(config).unwrap();
        let user = Credential::new(CredentialKind::Bearer, emulator.user_token().sign());
        let token = emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &["reports.read"]).token;
        let access = Credential::new(CredentialKind::ApiKey, token);
        auth.authenticate(&user).await.unwrap();
        auth.authenticate(&access).await.unwrap();
        (emulator, auth, user, access)
    });
    (rt, emulator, auth, user, access)
}

fn bench(c: &mut Criterion) {
    let (rt, _emulator, auth, user, access) = setup();

    let prometheus = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let mut group = c.benchmark_group("metrics");
    for (round, recorder) in
        ["no recorder", "Prometheus recorder", "no recorder", "Prometheus recorder"].iter().enumerate()
    {
        let _installed = (*recorder == "Prometheus recorder").then(|| metrics::set_default_local_recorder(&prometheus));
        let recorder = format!("{recorder} ({})", round / 2 + 1);
        group.bench_function(format!("{recorder}: user token seen before"), |b| {
            b.to_async(&rt).iter(|| async { auth.authenticate(black_box(&user)).await.unwrap() })
        });
        group.bench_function(format!("{recorder}: access token, lookup cached"), |b| {
            b.to_async(&rt).iter(|| async { auth.authenticate(black_box(&access)).await.unwrap() })
        });
    }
    group.finish();
}

/// The user-token path `iterations` times, with the Prometheus recorder or none (for callgrind).
fn count_instructions(mode: &str, iterations: usize) {
    let (rt, _emulator, auth, user, _) = setup();
    let prometheus = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let _installed = (mode == "prometheus").then(|| metrics::set_default_local_recorder(&prometheus));
    // Warm the per-thread handles, then the measured loop.
    rt.block_on(auth.authenticate(&user)).unwrap();
    measured_loop(&rt, &auth, &user, iterations);
}

/// The loop alone, for `valgrind --tool=callgrind --toggle-collect='*measured_loop*'`.
#[inline(never)]
fn measured_loop(rt: &tokio::runtime::Runtime, auth: &frontegg_auth::Authenticator, user: &Credential, n: usize) {
    rt.block_on(async {
        for _ in 0..n {
            auth.authenticate(black_box(user)).await.unwrap();
        }
    });
}

criterion_group! {
    name = benches;
    config = settings::config();
    targets = bench
}

fn main() {
    if let Ok(mode) = std::env::var("METRICS_CALLGRIND") {
        let iterations = std::env::var("METRICS_ITERATIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(0);
        return count_instructions(&mode, iterations);
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
