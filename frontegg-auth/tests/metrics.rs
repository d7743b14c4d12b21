//! The metrics, counted by `metrics-util`'s debugging recorder installed globally in this test
//! binary (a recorder is per process, so this binary holds one scripted test): a cold start, good
//! tokens, each kind of bad token, a rotation, an outage, access-token lookups, refused
//! requirements and entitlements must move exactly the expected series by exactly the expected
//! amounts, and no label may hold an id.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use frontegg_auth::api::{ClientSecret, NewTenant, TokenExchange};
use frontegg_auth::testing::{Behaviour, Emulator, Surface};
use frontegg_auth::{Admission, Authenticator, Caller, Credential, CredentialKind, Requirement, TokenType};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

fn snapshotter() -> &'static Snapshotter {
    static SNAPSHOTTER: OnceLock<Snapshotter> = OnceLock::new();
    SNAPSHOTTER.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder.install().expect("the only recorder of this process");
        snapshotter
    })
}

/// Every series as `name{label="value",...}` (labels sorted), with its value: a counter's
/// count, a gauge's value, a histogram's number of observations, since the start. (The debugging
/// recorder's snapshots drain what they read: the totals are kept here.)
fn series() -> BTreeMap<String, f64> {
    static TOTALS: Mutex<BTreeMap<String, f64>> = Mutex::new(BTreeMap::new());
    let mut totals = TOTALS.lock().unwrap();
    for (key, _, _, value) in snapshotter().snapshot().into_vec() {
        let key = key.key();
        let mut labels: Vec<String> = key.labels().map(|l| format!("{}=\"{}\"", l.key(), l.value())).collect();
        labels.sort();
        let name =
            if labels.is_empty() { key.name().to_owned() } else { format!("{}{{{}}}", key.name(), labels.join(",")) };
        let total = totals.entry(name).or_insert(0.0);
        match value {
            DebugValue::Counter(n) => *total += n as f64,
            DebugValue::Histogram(h) => *total += h.len() as f64,
            // A drained gauge reads 0 until it is set again: keep the last value set.
            DebugValue::Gauge(g) if g.into_inner() != 0.0 => *total = g.into_inner(),
            DebugValue::Gauge(_) => {}
        }
    }
    totals.clone()
}

/// What changed since `before`: counters and histograms by how much, gauges left out.
fn delta(before: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    series()
        .into_iter()
        .filter(|(name, _)| !is_gauge(name))
        .filter_map(|(name, now)| {
            let grown = now - before.get(&name).copied().unwrap_or(0.0);
            (grown != 0.0).then_some((name, grown))
        })
        .collect()
}

fn is_gauge(name: &str) -> bool {
    name.starts_with("frontegg_key_set_last_success")
        || name.starts_with("frontegg_entitlements_snapshot_offset")
        || name.starts_with("frontegg_entitlements_last_load")
        || name.starts_with("frontegg_shared_cache_breaker_open")
}

/// Asserts that exactly these series grew, by exactly these amounts.
fn assert_grew(step: &str, before: &BTreeMap<String, f64>, expected: &[(&str, f64)]) {
    let expected: BTreeMap<String, f64> = expected.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
    assert_eq!(delta(before), expected, "{step}");
}

fn bearer(token: &str) -> Credential {
    Credential::new(CredentialKind::Bearer, token)
}

const OK: &str = r#"frontegg_verifications_total{outcome="ok"}"#;
const HIT: &str = r#"frontegg_verified_token_cache_total{result="hit"}"#;
const MISS: &str = r#"frontegg_verified_token_cache_total{result="miss"}"#;
const JWKS_OK: &str = r#"frontegg_upstream_request_duration_seconds{endpoint="jwks",outcome="ok"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_run_moves_exactly_the_expected_series() {
    let before = series();
    let emulator = Emulator::start().await;
    // The background key refresh far away, retries off, a short unknown-kid cooldown.
    let config = emulator
        .config()
        .key_refresh(Duration::from_secs(3600), Duration::from_secs(3600), Duration::from_secs(3600))
        .unknown_kid_cooldown(Duration::from_millis(200))
        .api_retries(0)
        .entitlements(true)
        .entitlements_poll_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let auth = Authenticator::new(config).unwrap();

    // Cold start: keys and the entitlements snapshot, once each.
    auth.ready(Duration::from_secs(5)).await.unwrap();
    assert_grew(
        "cold start",
        &before,
        &[
            (r#"frontegg_key_fetches_total{outcome="ok",reason="start"}"#, 1.0),
            (JWKS_OK, 1.0),
            (r#"frontegg_vendor_token_renewals_total{outcome="ok"}"#, 1.0),
            (r#"frontegg_upstream_request_duration_seconds{endpoint="vendor_token",outcome="ok"}"#, 1.0),
            (r#"frontegg_upstream_request_duration_seconds{endpoint="entitlements_snapshot",outcome="ok"}"#, 1.0),
        ],
    );
    let gauges = series();
    assert!(gauges["frontegg_key_set_last_success_timestamp_seconds"] > 1.7e9, "{gauges:?}");
    assert!(gauges["frontegg_entitlements_last_load_timestamp_seconds"] > 1.7e9);
    assert_eq!(gauges["frontegg_entitlements_snapshot_offset"], emulator.entitlements_offset() as f64);

    // Good tokens: three times the same, once another.
    let step = series();
    let token = emulator.user_token().permissions(["reports.read"]).sign();
    for _ in 0..3 {
        auth.authenticate(&bearer(&token)).await.unwrap();
    }
    auth.authenticate(&bearer(&emulator.user_token().sign())).await.unwrap();
    assert_grew("good tokens", &step, &[(OK, 4.0), (MISS, 2.0), (HIT, 2.0)]);

    // Each kind of bad token.
    let bad: Vec<(&str, String)> = vec![
        ("expired", emulator.user_token().expired().sign()),
        ("bad_signature", emulator.user_token().sign_tampered()),
        ("wrong_issuer", emulator.user_token().issuer("https://elsewhere.example").sign()),
        ("wrong_audience", emulator.user_token().audience("another-client").sign()),
        ("not_yet_valid", emulator.user_token().not_before_in(Duration::from_secs(3600)).sign()),
        ("algorithm_not_allowed", emulator.user_token().sign_alg_none()),
        ("malformed", "not.a-token".to_owned()),
        ("too_large", format!("{}.{}.{}", "a".repeat(10_000), "b".repeat(10_000), "c")),
        ("invalid_claims", emulator.user_token().claim("sub", 5).sign()),
        // An access token in the bearer header.
        ("wrong_token_type", emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &[]).token),
    ];
    for (outcome, token) in &bad {
        let step = series();
        let refused = auth.authenticate(&bearer(token)).await;
        assert!(refused.is_err(), "{outcome}");
        let label = format!(r#"frontegg_verifications_total{{outcome="{outcome}"}}"#);
        // A token too large is refused before the remembered tokens are asked.
        let expected: &[(&str, f64)] =
            if *outcome == "too_large" { &[(label.as_str(), 1.0)] } else { &[(label.as_str(), 1.0), (MISS, 1.0)] };
        assert_grew(outcome, &step, expected);
    }
    // No credential where one is required, and an unreadable header.
    let step = series();
    let admission = Admission::required(auth.clone());
    let empty = http::Request::builder().uri("/reports").body(()).unwrap();
    assert!(admission.admit(&empty).await.is_err());
    let garbled = http::Request::builder().uri("/reports").header("authorization", "Basic abc").body(()).unwrap();
    assert!(admission.admit(&garbled).await.is_err());
    assert_grew(
        "no credential, unreadable header",
        &step,
        &[
            (r#"frontegg_verifications_total{outcome="missing"}"#, 1.0),
            (r#"frontegg_verifications_total{outcome="malformed"}"#, 1.0),
        ],
    );

    // An unknown `kid`: one refetch, then the token is refused.
    let step = series();
    let stranger = emulator.user_token().kid("made-up-kid").sign();
    assert!(auth.authenticate(&bearer(&stranger)).await.is_err());
    assert_grew(
        "unknown kid",
        &step,
        &[
            (r#"frontegg_verifications_total{outcome="unknown_kid"}"#, 1.0),
            (r#"frontegg_key_fetches_total{outcome="ok",reason="unknown_kid"}"#, 1.0),
            (JWKS_OK, 1.0),
            (MISS, 1.0),
        ],
    );

    // A rotation: the new key's first token makes one refetch, after the cooldown.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let step = series();
    emulator.rotate_key();
    let rotated = emulator.user_token().sign();
    auth.authenticate(&bearer(&rotated)).await.unwrap();
    assert_grew(
        "rotation",
        &step,
        &[
            (OK, 1.0),
            (r#"frontegg_key_fetches_total{outcome="ok",reason="unknown_kid"}"#, 1.0),
            (JWKS_OK, 1.0),
            (MISS, 1.0),
        ],
    );

    // An outage of the JWKS: a rotated key cannot be fetched, a 503 (keys unavailable).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let step = series();
    emulator.set_behaviour(Surface::Jwks, Behaviour::Unavailable);
    emulator.rotate_key();
    assert!(auth.authenticate(&bearer(&emulator.user_token().sign())).await.is_err());
    emulator.set_behaviour(Surface::Jwks, Behaviour::Normal);
    assert_grew(
        "outage",
        &step,
        &[
            (r#"frontegg_verifications_total{outcome="keys_unavailable"}"#, 1.0),
            (r#"frontegg_key_fetches_total{outcome="error",reason="unknown_kid"}"#, 1.0),
            (r#"frontegg_upstream_request_duration_seconds{endpoint="jwks",outcome="server_error"}"#, 1.0),
            (MISS, 1.0),
        ],
    );

    // Access-token lookups: one through the API, then from the instance's cache; a revoked one.
    // (After a failed fetch, keys are not fetched again for a second.)
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let access = emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &["admin"], &["reports.read"]);
    let revoked = emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &[]);
    emulator.revoke_access_token(&revoked.id);
    let step = series();
    for _ in 0..2 {
        auth.authenticate(&Credential::new(CredentialKind::ApiKey, access.token.as_str())).await.unwrap();
    }
    assert!(auth.authenticate(&Credential::new(CredentialKind::ApiKey, revoked.token.as_str())).await.is_err());
    let local =
        |result: &str| format!(r#"frontegg_lookups_total{{kind="access_token",level="local",result="{result}"}}"#);
    let upstream = r#"frontegg_lookups_total{kind="access_token",level="upstream",result="hit"}"#;
    let lookup = r#"frontegg_upstream_request_duration_seconds{endpoint="access_token_lookup",outcome="ok"}"#;
    let not_found =
        r#"frontegg_upstream_request_duration_seconds{endpoint="access_token_lookup",outcome="client_error"}"#;
    let grown = delta(&step);
    let expected: BTreeMap<String, f64> = [
        (OK, 2.0),
        (r#"frontegg_verifications_total{outcome="revoked"}"#, 1.0),
        (local("miss").as_str(), 2.0),
        (local("hit").as_str(), 1.0),
        (upstream, 2.0),
        (lookup, 1.0),
        (not_found, 1.0),
        // The JWT of each: the key rotated away above is known by now.
        (r#"frontegg_key_fetches_total{outcome="ok",reason="unknown_kid"}"#, 1.0),
        (JWKS_OK, 1.0),
        (MISS, 2.0),
        (HIT, 1.0),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), *v))
    .collect();
    assert_eq!(grown, expected, "access tokens");

    // Refused requirements, through the one check every adapter calls.
    let step = series();
    let identity =
        auth.authenticate(&bearer(&emulator.user_token().permissions(["reports.read"]).sign())).await.unwrap();
    let caller = Caller::Identified(identity);
    assert!(caller.check(&Requirement::all_permissions(["reports.write"])).is_err());
    assert!(caller.check(&Requirement::any_roles(["admin"])).is_err());
    assert!(caller.check(&Requirement::tenant("tenant-2")).is_err());
    assert!(caller.check(&Requirement::step_up()).is_err());
    assert!(caller.check(&Requirement::entitled("no-such-feature")).is_err());
    assert!(caller.check(&Requirement::all_permissions(["reports.read"])).is_ok());
    let denial = |kind: &str| format!(r#"frontegg_authorization_denials_total{{kind="{kind}"}}"#);
    let kinds = ["permission", "role", "tenant", "step_up", "entitlement"].map(denial);
    let mut expected: Vec<(&str, f64)> = kinds.iter().map(|k| (k.as_str(), 1.0)).collect();
    expected.extend([(OK, 1.0), (MISS, 1.0)]);
    assert_grew("denials", &step, &expected);
    // A guard's question is no refusal: not counted.
    let step = series();
    assert!(!caller.permits(&Requirement::all_permissions(["reports.write"])));
    assert_grew("a guard's question", &step, &[]);

    // An outage of the API: the lookup fails (503), nothing is cached.
    let unlucky = emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &["reports.read"]);
    let step = series();
    emulator.set_behaviour(Surface::Gateway, Behaviour::Unavailable);
    assert!(auth.authenticate(&Credential::new(CredentialKind::ApiKey, unlucky.token.as_str())).await.is_err());
    emulator.set_behaviour(Surface::Gateway, Behaviour::Normal);
    assert_grew(
        "API outage",
        &step,
        &[
            (r#"frontegg_verifications_total{outcome="api_unavailable"}"#, 1.0),
            (r#"frontegg_lookups_total{kind="access_token",level="local",result="miss"}"#, 1.0),
            (r#"frontegg_lookups_total{kind="access_token",level="upstream",result="error"}"#, 1.0),
            (
                r#"frontegg_upstream_request_duration_seconds{endpoint="access_token_lookup",outcome="server_error"}"#,
                1.0,
            ),
            (MISS, 1.0),
        ],
    );

    // Entitlements: polls of an unchanged offset, then of a changed one (timed: at least).
    let step = series();
    let polling = Authenticator::new(
        emulator.config().entitlements(true).entitlements_poll_interval(Duration::from_millis(100)).build().unwrap(),
    )
    .unwrap();
    polling.ready(Duration::from_secs(5)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(450)).await;
    let polls = |outcome: &str| format!(r#"frontegg_entitlements_polls_total{{outcome="{outcome}"}}"#);
    assert!(delta(&step).get(&polls("unchanged")).copied().unwrap_or(0.0) >= 2.0, "{:?}", delta(&step));
    emulator.set_entitlements(
        serde_json::json!({"features": [], "featureBundles": [], "entitlements": [], "featureFlags": []}),
    );
    let changed_to = emulator.entitlements_offset();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while delta(&step).get(&polls("changed")).copied().unwrap_or(0.0) < 1.0 {
        assert!(std::time::Instant::now() < deadline, "no changed poll: {:?}", delta(&step));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(series()["frontegg_entitlements_snapshot_offset"], changed_to as f64);
    drop(polling);

    // The shared cache's level, and its breaker as a gauge.
    #[cfg(feature = "redis")]
    {
        use frontegg_auth::RedisCache;
        use frontegg_auth::testing::redis::RedisServer;
        let mut redis = RedisServer::start();
        let shared = || {
            let cache = RedisCache::new(&redis.url())
                .unwrap()
                .timeout(Duration::from_secs(1))
                .breaker(1, Duration::from_secs(60));
            Authenticator::new(emulator.config().redis(cache).build().unwrap()).unwrap()
        };
        let (a, b) = (shared(), shared());
        let token = emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &["reports.read"]).token;
        let step = series();
        a.authenticate(&Credential::new(CredentialKind::ApiKey, token.as_str())).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        b.authenticate(&Credential::new(CredentialKind::ApiKey, token.as_str())).await.unwrap();
        let level = |level: &str, result: &str| {
            format!(r#"frontegg_lookups_total{{kind="access_token",level="{level}",result="{result}"}}"#)
        };
        let grown = delta(&step);
        assert_eq!(grown.get(&level("local", "miss")), Some(&2.0), "{grown:?}");
        assert_eq!(grown.get(&level("shared", "miss")), Some(&1.0), "{grown:?}");
        assert_eq!(grown.get(&level("shared", "hit")), Some(&1.0), "{grown:?}");
        assert_eq!(grown.get(&level("upstream", "hit")), Some(&1.0), "{grown:?}");
        redis.kill();
        let other = emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &["reports.read"]).token;
        a.authenticate(&Credential::new(CredentialKind::ApiKey, other.as_str())).await.unwrap();
        assert_eq!(series()["frontegg_shared_cache_breaker_open"], 1.0);
        assert_eq!(delta(&step).get(&level("shared", "error")), Some(&1.0));
    }

    // The hosted login: a login, a session used, refreshed, refused from another origin, and a
    // cookie naming no session.
    {
        use frontegg_auth::LoginSettings;
        let login = LoginSettings::builder("http://127.0.0.1:3000").build().unwrap();
        let auth = Authenticator::new(emulator.config().api_retries(0).hosted_login(login).build().unwrap()).unwrap();
        let login = auth.hosted_login().unwrap();
        // Long enough that a loaded machine does not reach the refresh edge before the sleep below.
        emulator.set_login_token_lifetime(Duration::from_secs(4));
        let step = series();
        let get = |target: &str, cookie: &str| http::Request::get(target).header("cookie", cookie).body(()).unwrap();
        let started = login.login(&get("/auth/login", ""));
        let header = |name: &str| {
            started.headers().iter().find(|(n, _)| n == name).map(|(_, v)| v.to_str().unwrap().to_owned()).unwrap()
        };
        let (authorize, login_cookie) = (header("location"), header("set-cookie"));
        let callback = emulator.sign_in(&authorize, "user-1", false).replace("http://127.0.0.1:3000", "");
        let done = login.callback(&get(&callback, login_cookie.split(';').next().unwrap())).await;
        let session = done
            .headers()
            .iter()
            .map(|(_, v)| v.to_str().unwrap())
            .find(|v| v.starts_with("frontegg_session="))
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let admission = Admission::required(auth.clone());
        assert!(admission.admit(&get("/me", &session)).await.is_ok());
        tokio::time::sleep(Duration::from_millis(4100)).await;
        assert!(admission.admit(&get("/me", &session)).await.is_ok(), "refreshed");
        let post = http::Request::post("/reports").header("cookie", &session).body(()).unwrap();
        assert!(admission.admit(&post).await.is_err(), "cross-site");
        assert!(admission.admit(&get("/me", "frontegg_session=nothing")).await.is_err());
        let grown = delta(&step);
        for (series, count) in [
            (r#"frontegg_logins_total{outcome="started"}"#, 1.0),
            (r#"frontegg_logins_total{outcome="ok"}"#, 1.0),
            (r#"frontegg_sessions_total{event="created"}"#, 1.0),
            (r#"frontegg_sessions_total{event="cross_site_refused"}"#, 1.0),
            (r#"frontegg_sessions_total{event="unknown"}"#, 1.0),
            (r#"frontegg_session_refreshes_total{outcome="ok"}"#, 1.0),
            (r#"frontegg_upstream_request_duration_seconds{endpoint="oauth_token",outcome="ok"}"#, 2.0),
            (r#"frontegg_verifications_total{outcome="missing"}"#, 1.0),
        ] {
            assert_eq!(grown.get(series), Some(&count), "{series}: {grown:?}");
        }
    }

    // The management clients: one count per call, by client and outcome, whatever its retries.
    {
        let step = series();
        let client = auth.client().unwrap();
        client.tenants().create(NewTenant::new("Acme").tenant_id("acme-metrics")).await.unwrap();
        assert_eq!(client.users().get("nobody").await.unwrap(), None);
        assert!(client.tenants().create(NewTenant::new("Acme").tenant_id("acme-metrics")).await.is_err());
        assert!(client.users().get("..").await.is_err(), "refused before any call: not counted");
        let config = emulator.config().build().unwrap();
        let exchange = TokenExchange::new(&config, "no-such-client", ClientSecret::new("wrong")).unwrap();
        assert!(exchange.token().await.is_err());
        emulator.set_behaviour(Surface::Gateway, Behaviour::Garbage);
        assert!(client.tenants().list().await.is_err());
        emulator.set_behaviour(Surface::Gateway, Behaviour::Normal);
        let grown = delta(&step);
        for (series, count) in [
            (r#"frontegg_api_calls_total{client="tenants",outcome="ok"}"#, 1.0),
            (r#"frontegg_api_calls_total{client="users",outcome="not_found"}"#, 1.0),
            (r#"frontegg_api_calls_total{client="tenants",outcome="client_error"}"#, 1.0),
            (r#"frontegg_api_calls_total{client="token_exchange",outcome="client_error"}"#, 1.0),
            (r#"frontegg_api_calls_total{client="tenants",outcome="invalid_answer"}"#, 1.0),
            (r#"frontegg_upstream_request_duration_seconds{endpoint="token_exchange",outcome="client_error"}"#, 1.0),
        ] {
            assert_eq!(grown.get(series), Some(&count), "{series}: {grown:?}");
        }
        let api_calls: f64 =
            grown.iter().filter(|(k, _)| k.starts_with("frontegg_api_calls_total")).map(|(_, v)| v).sum();
        assert_eq!(api_calls, 5.0, "{grown:?}");
    }

    // No label holds an id, a token, a tenant or a URL.
    for name in series().keys() {
        let keys = ["reports.read", "reports.write", "admin", "no-such-feature"];
        for secret in [
            &access.id,
            "tenant-1",
            "tenant-2",
            "user-1",
            "emulator-client-id",
            "http",
            "eyJ",
            "acme",
            "nobody",
            "no-such",
        ]
        .iter()
        .chain(&keys)
        {
            assert!(!name.contains(secret), "{name} holds {secret}");
        }
    }
}
