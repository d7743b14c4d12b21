//! One conformance suite, run unchanged against both example apps over real HTTP on 127.0.0.1:
//! every route of ../shared/example-apps.md with every kind of caller, asserting the status,
//! the `WWW-Authenticate` challenge and the JSON body.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use frontegg_auth::testing::{Behaviour, Emulator, Surface};
use frontegg_auth::{Authenticator, TokenType};
use reqwest::Method;
use serde_json::{Value, json};

mod apps;

use apps::AppUnderTest;

/// The emulator, the app against it, and an HTTP client.
struct World {
    /// The time of the app's requirement checks, in epoch seconds (0: the system clock).
    fixed_now: Arc<AtomicU64>,
    emulator: Emulator,
    base: String,
    http: reqwest::Client,
    _app: Box<dyn Send>,
}

async fn world<A: AppUnderTest>() -> World {
    let emulator = Emulator::start().await;
    let fixed_now = Arc::new(AtomicU64::new(0));
    let reading = fixed_now.clone();
    let clock = frontegg_auth::Clock::from_fn(move || match reading.load(Ordering::SeqCst) {
        0 => SystemTime::now(),
        seconds => UNIX_EPOCH + Duration::from_secs(seconds),
    });
    let config = emulator
        .config()
        .clock(clock)
        .access_token_ttl(Duration::from_millis(500))
        .entitlements(true)
        .entitlements_poll_interval(Duration::from_millis(200))
        .build()
        .unwrap();
    let auth = Authenticator::new(config).unwrap();
    let (base, app) = A::start(auth).await;
    World { fixed_now, emulator, base, http: reqwest::Client::new(), _app: app }
}

/// How a request presents its credential.
enum Cred<'a> {
    None,
    Bearer(&'a str),
    ApiKey(&'a str),
    Raw(&'a str, &'a str),
}

struct Answer {
    status: u16,
    challenge: Option<String>,
    retry_after: Option<String>,
    body: Value,
}

impl World {
    async fn call(&self, method: Method, path: &str, cred: Cred<'_>) -> Answer {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        request = match cred {
            Cred::None => request,
            Cred::Bearer(t) => request.header("authorization", format!("Bearer {t}")),
            Cred::ApiKey(t) => request.header("x-api-key", t),
            Cred::Raw(name, value) => request.header(name, value),
        };
        let response = request.send().await.unwrap();
        let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        let (status, challenge, retry_after) =
            (response.status().as_u16(), header("www-authenticate"), header("retry-after"));
        let text = response.text().await.unwrap();
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Answer { status, challenge, retry_after, body }
    }

    fn user(&self) -> frontegg_auth::testing::TokenBuilder {
        self.emulator.user_token()
    }
}

/// The routes that need a credential, as (method, path).
const PROTECTED: [(&str, &str); 5] = [
    ("GET", "/me"),
    ("GET", "/reports"),
    ("POST", "/reports"),
    ("DELETE", "/reports/7"),
    ("GET", "/tenants/tenant-1/reports"),
];

fn method(name: &str) -> Method {
    Method::from_bytes(name.as_bytes()).unwrap()
}

fn assert_refusal(answer: &Answer, status: u16, challenge: &str, error: &str, description: &str, what: &str) {
    assert_eq!(answer.status, status, "{what}");
    assert_eq!(answer.challenge.as_deref(), Some(challenge), "{what}");
    assert_eq!(answer.body, json!({"error": error, "error_description": description}), "{what}");
}

/// A success: the status, no challenge, and the body.
fn assert_ok(answer: &Answer, status: u16, body: Value, what: &str) {
    assert_eq!(answer.status, status, "{what}");
    assert_eq!(answer.challenge, None, "{what}");
    assert_eq!(answer.body, body, "{what}");
}

/// What `GET /reports` and `GET /tenants/{tenant}/reports` answer.
fn reports() -> Value {
    json!([{"id": 1, "title": "Q1"}, {"id": 2, "title": "Q2"}])
}

fn tenant_reports(tenant: &str) -> Value {
    json!([{"id": 1, "tenantId": tenant}])
}

fn invalid_token(description: &str) -> String {
    format!("Bearer error=\"invalid_token\", error_description=\"{description}\"")
}

fn insufficient(description: &str, scope: Option<&str>) -> String {
    let mut out = format!("Bearer error=\"insufficient_scope\", error_description=\"{description}\"");
    if let Some(scope) = scope {
        out.push_str(&format!(", scope=\"{scope}\""));
    }
    out
}

async fn health<A: AppUnderTest>() {
    let w = world::<A>().await;
    let answer = w.call(Method::GET, "/health", Cred::None).await;
    assert_ok(&answer, 200, Value::Null, "health");
}

/// `GET /metrics`: anyone, whatever they send, 200 with Prometheus text and no token in it. (Both
/// apps run in this one process, each with its own copy of the examples' helpers, and a process
/// has one recorder: what the text counts is checked per binary in `example_apps.rs`.)
async fn metrics_route<A: AppUnderTest>() {
    let w = world::<A>().await;
    let token = w.user().sign();
    assert_eq!(w.call(Method::GET, "/me", Cred::Bearer(&token)).await.status, 200);
    for cred in [Cred::None, Cred::Bearer("a.b.c"), Cred::Bearer(&token)] {
        let answer = w.call(Method::GET, "/metrics", cred).await;
        assert_eq!(answer.status, 200, "metrics");
        assert!(answer.challenge.is_none());
        let text = answer.body.as_str().map(str::to_owned).unwrap_or_default();
        assert!(!text.contains(&token) && !text.contains("tenant-1"), "{text}");
    }
}

async fn no_credential<A: AppUnderTest>() {
    let w = world::<A>().await;
    for (m, path) in PROTECTED {
        let answer = w.call(method(m), path, Cred::None).await;
        assert_refusal(&answer, 401, "Bearer", "unauthorized", "No credential was presented", &format!("{m} {path}"));
    }
}

async fn valid_user_token<A: AppUnderTest>() {
    let w = world::<A>().await;
    let token = w.user().roles(["admin"]).permissions(["reports.read", "reports.write"]).sign();
    let me = w.call(Method::GET, "/me", Cred::Bearer(&token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(
        me.body,
        json!({"sub": "user-1", "tenantId": "tenant-1", "userId": "user-1", "type": "userToken",
               "roles": ["admin"], "permissions": ["reports.read", "reports.write"]})
    );
    assert_ok(&w.call(Method::GET, "/reports", Cred::Bearer(&token)).await, 200, reports(), "GET /reports");
    assert_ok(&w.call(Method::POST, "/reports", Cred::Bearer(&token)).await, 201, json!({"id": 3}), "POST /reports");
    assert_ok(&w.call(Method::DELETE, "/reports/7", Cred::Bearer(&token)).await, 204, Value::Null, "DELETE");
    let tenant = w.call(Method::GET, "/tenants/tenant-1/reports", Cred::Bearer(&token)).await;
    assert_ok(&tenant, 200, tenant_reports("tenant-1"), "tenant reports");
    // Any letter case of the scheme.
    let lower = w.call(Method::GET, "/me", Cred::Raw("authorization", &format!("bearer {token}"))).await;
    assert_eq!(lower.status, 200);
}

async fn lacking_the_right<A: AppUnderTest>() {
    let w = world::<A>().await;
    let nothing = w.user().roles(["viewer"]).sign();
    let reader = w.user().roles(["viewer"]).permissions(["reports.read"]).sign();

    let a = w.call(Method::GET, "/reports", Cred::Bearer(&nothing)).await;
    let d = "Missing permissions: reports.read";
    assert_refusal(&a, 403, &insufficient(d, Some("reports.read")), "insufficient_scope", d, "GET /reports");

    let a = w.call(Method::POST, "/reports", Cred::Bearer(&reader)).await;
    let d = "Missing permissions: reports.write";
    assert_refusal(&a, 403, &insufficient(d, Some("reports.write")), "insufficient_scope", d, "POST /reports");

    let a = w.call(Method::POST, "/reports", Cred::Bearer(&nothing)).await;
    let d = "Missing permissions: reports.read";
    assert_refusal(&a, 403, &insufficient(d, Some("reports.read")), "insufficient_scope", d, "POST /reports, nothing");

    let a = w.call(Method::DELETE, "/reports/7", Cred::Bearer(&reader)).await;
    let d = "Missing one of the roles: admin, owner";
    assert_refusal(&a, 403, &insufficient(d, None), "insufficient_scope", d, "DELETE /reports/7");

    let a = w.call(Method::GET, "/tenants/tenant-1/reports", Cred::Bearer(&nothing)).await;
    let d = "Missing permissions: reports.read";
    assert_refusal(&a, 403, &insufficient(d, Some("reports.read")), "insufficient_scope", d, "tenant reports");

    // Any valid credential may ask who it is.
    assert_eq!(w.call(Method::GET, "/me", Cred::Bearer(&nothing)).await.status, 200);
}

async fn wildcard_permission<A: AppUnderTest>() {
    let w = world::<A>().await;
    let token = w.user().permissions(["reports.*"]).sign();
    assert_ok(&w.call(Method::GET, "/reports", Cred::Bearer(&token)).await, 200, reports(), "GET");
    assert_ok(&w.call(Method::POST, "/reports", Cred::Bearer(&token)).await, 201, json!({"id": 3}), "POST");
    let tenant = w.call(Method::GET, "/tenants/tenant-1/reports", Cred::Bearer(&token)).await;
    assert_ok(&tenant, 200, tenant_reports("tenant-1"), "tenant reports");
    // A pattern covers what it matches, nothing else.
    let narrow = w.user().permissions(["reports.read.*"]).sign();
    assert_eq!(w.call(Method::GET, "/reports", Cred::Bearer(&narrow)).await.status, 403);
}

async fn expired_token<A: AppUnderTest>() {
    let w = world::<A>().await;
    let token = w.user().roles(["admin"]).permissions(["reports.*"]).expired().sign();
    for (m, path) in PROTECTED.iter().copied().chain([("GET", "/optional")]) {
        let answer = w.call(method(m), path, Cred::Bearer(&token)).await;
        let d = "The token has expired";
        assert_refusal(&answer, 401, &invalid_token(d), "invalid_token", d, &format!("{m} {path}"));
    }
}

async fn bad_credentials<A: AppUnderTest>() {
    let w = world::<A>().await;
    let forged = w.user().permissions(["reports.read"]).sign_tampered();
    let none = w.user().sign_alg_none();
    let cases: Vec<(Cred<'_>, &str)> = vec![
        (Cred::Bearer(&forged), "The token's signature is invalid"),
        (Cred::Bearer(&none), "The token's algorithm is not accepted"),
        (Cred::Bearer("garbage"), "The credential is malformed: a JWT has three dot-separated parts"),
        (
            Cred::Raw("authorization", "Basic dXNlcjpwYXNz"),
            "The credential is malformed: the Authorization scheme must be Bearer",
        ),
        (Cred::Raw("authorization", "Bearer"), "The credential is malformed: the bearer token is empty"),
    ];
    for (cred, d) in cases {
        let answer = w.call(Method::GET, "/reports", cred).await;
        assert_refusal(&answer, 401, &invalid_token(d), "invalid_token", d, d);
    }
}

async fn wrong_tenant<A: AppUnderTest>() {
    let w = world::<A>().await;
    let token = w.user().tenant("tenant-2").permissions(["reports.read"]).sign();
    let answer = w.call(Method::GET, "/tenants/tenant-1/reports", Cred::Bearer(&token)).await;
    let d = "The credential does not belong to this tenant";
    assert_refusal(&answer, 403, &insufficient(d, None), "insufficient_scope", d, "wrong tenant");
    let own = w.call(Method::GET, "/tenants/tenant-2/reports", Cred::Bearer(&token)).await;
    assert_ok(&own, 200, tenant_reports("tenant-2"), "own tenant");
}

async fn access_token_rights_from_the_api<A: AppUnderTest>() {
    let w = world::<A>().await;
    let access = w.emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &["admin"], &["reports.read"]);
    let me = w.call(Method::GET, "/me", Cred::ApiKey(&access.token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(
        me.body,
        json!({"sub": access.id, "tenantId": "tenant-1", "userId": null, "type": "tenantAccessToken",
               "roles": ["admin"], "permissions": ["reports.read"]})
    );
    assert_ok(&w.call(Method::GET, "/reports", Cred::ApiKey(&access.token)).await, 200, reports(), "GET");
    assert_ok(&w.call(Method::DELETE, "/reports/7", Cred::ApiKey(&access.token)).await, 204, Value::Null, "DELETE");
    let a = w.call(Method::POST, "/reports", Cred::ApiKey(&access.token)).await;
    let d = "Missing permissions: reports.write";
    assert_refusal(&a, 403, &insufficient(d, Some("reports.write")), "insufficient_scope", d, "access token POST");
    // In the wrong header.
    let a = w.call(Method::GET, "/reports", Cred::Bearer(&access.token)).await;
    let d = "Access tokens must be sent in the x-api-key header";
    assert_refusal(&a, 401, &invalid_token(d), "invalid_token", d, "access token as bearer");
    let user = w.user().permissions(["reports.read"]).sign();
    let a = w.call(Method::GET, "/reports", Cred::ApiKey(&user)).await;
    let d = "User and API tokens must be sent in the Authorization header as Bearer";
    assert_refusal(&a, 401, &invalid_token(d), "invalid_token", d, "user token as api key");
}

async fn revoked_access_token<A: AppUnderTest>() {
    let w = world::<A>().await;
    let access = w.emulator.create_access_token(TokenType::UserAccess, "tenant-1", &[], &["reports.read"]);
    assert_ok(&w.call(Method::GET, "/reports", Cred::ApiKey(&access.token)).await, 200, reports(), "before revocation");
    w.emulator.revoke_access_token(&access.id);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let a = w.call(Method::GET, "/reports", Cred::ApiKey(&access.token)).await;
    let d = "The access token is revoked or unknown";
    assert_refusal(&a, 401, &invalid_token(d), "invalid_token", d, "revoked");
}

async fn gateway_down<A: AppUnderTest>() {
    let w = world::<A>().await;
    let user = w.user().permissions(["reports.read"]).sign();
    assert_eq!(w.call(Method::GET, "/reports", Cred::Bearer(&user)).await.status, 200);
    let access = w.emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &["reports.read"]);
    w.emulator.set_behaviour(Surface::Gateway, Behaviour::Unavailable);
    let a = w.call(Method::GET, "/reports", Cred::ApiKey(&access.token)).await;
    assert_refusal(&a, 503, "Bearer", "temporarily_unavailable", "The Frontegg API is unavailable", "gateway down");
    assert_eq!(a.retry_after.as_deref(), Some("5"));
    // User tokens need no gateway: they keep working.
    assert_eq!(w.call(Method::GET, "/reports", Cred::Bearer(&user)).await.status, 200);
    w.emulator.set_behaviour(Surface::Gateway, Behaviour::Normal);
    assert_ok(&w.call(Method::GET, "/reports", Cred::ApiKey(&access.token)).await, 200, reports(), "gateway back");
}

async fn keys_unreachable<A: AppUnderTest>() {
    let w = world::<A>().await;
    w.emulator.set_behaviour(Surface::Jwks, Behaviour::Unavailable);
    let user = w.user().permissions(["reports.read"]).sign();
    let a = w.call(Method::GET, "/reports", Cred::Bearer(&user)).await;
    assert_refusal(&a, 503, "Bearer", "temporarily_unavailable", "The signing keys cannot be loaded", "no keys");
    assert_eq!(w.call(Method::GET, "/health", Cred::None).await.status, 200);
    w.emulator.set_behaviour(Surface::Jwks, Behaviour::Normal);
    // After a failed load, a second passes before the next one.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_ok(&w.call(Method::GET, "/reports", Cred::Bearer(&user)).await, 200, reports(), "keys back");
}

/// Where the two frameworks differ by default, the apps and adapters must not.
async fn framework_edges<A: AppUnderTest>() {
    let w = world::<A>().await;
    let reader = w.user().roles(["admin"]).permissions(["reports.read"]).sign();
    // A tenant segment that is not UTF-8 cannot name the caller's tenant.
    let a = w.call(Method::GET, "/tenants/%FF/reports", Cred::Bearer(&reader)).await;
    let d = "The credential does not belong to this tenant";
    assert_refusal(&a, 403, &insufficient(d, None), "insufficient_scope", d, "non-UTF-8 tenant");
    // Any report id.
    assert_ok(&w.call(Method::DELETE, "/reports/abc", Cred::Bearer(&reader)).await, 204, Value::Null, "DELETE abc");
    // HEAD wherever GET is served.
    assert_ok(&w.call(Method::HEAD, "/health", Cred::None).await, 200, Value::Null, "HEAD /health");
    assert_ok(&w.call(Method::HEAD, "/reports", Cred::Bearer(&reader)).await, 200, Value::Null, "HEAD /reports");
    let a = w.call(Method::HEAD, "/reports", Cred::None).await;
    assert_eq!((a.status, a.challenge.as_deref()), (401, Some("Bearer")), "HEAD without credential");
}

async fn optional_route<A: AppUnderTest>() {
    let w = world::<A>().await;
    let anonymous = w.call(Method::GET, "/optional", Cred::None).await;
    assert_ok(&anonymous, 200, json!({"authenticated": false}), "anonymous");
    let token = w.user().sign();
    let known = w.call(Method::GET, "/optional", Cred::Bearer(&token)).await;
    assert_ok(&known, 200, json!({"authenticated": true, "sub": "user-1"}), "signed in");
    let bad = w.call(Method::GET, "/optional", Cred::Bearer("a.b.c")).await;
    let d = "The credential is malformed: the token header cannot be decoded";
    assert_refusal(&bad, 401, &invalid_token(d), "invalid_token", d, "optional with a bad token");
}

/// `POST /reports/{id}/approve`: reports.write, and a step-up within 300 s (RFC 9470).
async fn step_up<A: AppUnderTest>() {
    let w = world::<A>().await;
    let path = "/reports/7/approve";
    let writer = || w.user().permissions(["reports.read", "reports.write"]);
    let fresh = writer().stepped_up_ago(Duration::from_secs(10)).sign();
    assert_ok(&w.call(Method::POST, path, Cred::Bearer(&fresh)).await, 200, json!({"approved": 7}), "stepped up");

    let d = "A multi-factor authentication within the last 300 seconds is required";
    let challenge = format!(
        "Bearer error=\"insufficient_user_authentication\", error_description=\"{d}\", acr_values=\"{}\", max_age=\"300\"",
        frontegg_auth::MFA_ACR
    );
    let not_stepped_up = writer().sign();
    let stale = writer().stepped_up_ago(Duration::from_secs(400)).sign();
    let without_mfa = writer().stepped_up_ago(Duration::from_secs(10)).claim("amr", json!(["pwd"])).sign();
    let wrong_acr = writer().stepped_up_ago(Duration::from_secs(10)).claim("acr", "urn:something-else").sign();
    let no_auth_time = writer().stepped_up().without("auth_time").sign();
    for (what, token) in [
        ("not stepped up", not_stepped_up),
        ("stepped up too long ago", stale),
        ("amr without mfa", without_mfa),
        ("another acr", wrong_acr),
        ("no auth_time", no_auth_time),
    ] {
        let a = w.call(Method::POST, path, Cred::Bearer(&token)).await;
        assert_refusal(&a, 401, &challenge, "insufficient_user_authentication", d, what);
    }

    // Lacking the other right: the usual 403, stepped up or not (a step-up would not help).
    let reader = w.user().permissions(["reports.read"]).sign();
    let a = w.call(Method::POST, path, Cred::Bearer(&reader)).await;
    let d = "Missing permissions: reports.write";
    assert_refusal(&a, 403, &insufficient(d, Some("reports.write")), "insufficient_scope", d, "reader");
    // The age edges, on the app's clock: exactly 300 s passes, 301 s does not.
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let at_t = writer().stepped_up().claim("auth_time", t).sign();
    w.fixed_now.store(t + 300, Ordering::SeqCst);
    let a = w.call(Method::POST, path, Cred::Bearer(&at_t)).await;
    assert_ok(&a, 200, json!({"approved": 7}), "stepped up exactly 300 s ago");
    w.fixed_now.store(t + 301, Ordering::SeqCst);
    let a = w.call(Method::POST, path, Cred::Bearer(&at_t)).await;
    let d300 = "A multi-factor authentication within the last 300 seconds is required";
    assert_refusal(&a, 401, &challenge, "insufficient_user_authentication", d300, "stepped up 301 s ago");
    w.fixed_now.store(0, Ordering::SeqCst);
    // A step-up whose `auth_time` lies in the future beyond the clock leeway: refused.
    let future = writer().stepped_up().claim("auth_time", json!(4_102_444_800u64)).sign();
    let a = w.call(Method::POST, path, Cred::Bearer(&future)).await;
    assert_eq!((a.status, a.body["error"].as_str()), (401, Some("insufficient_user_authentication")), "future");
    // An API token can never step up: 403.
    let api = w.emulator.token(TokenType::TenantApi).permissions(["reports.write"]).sign();
    let a = w.call(Method::POST, path, Cred::Bearer(&api)).await;
    let dd = "API tokens and access tokens cannot step up: this needs a user's multi-factor login";
    assert_refusal(&a, 403, &insufficient(dd, None), "insufficient_scope", dd, "API token");
    // An access token can never step up: 403.
    let access = w.emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &["reports.write"]);
    let a = w.call(Method::POST, path, Cred::ApiKey(&access.token)).await;
    let d = "API tokens and access tokens cannot step up: this needs a user's multi-factor login";
    assert_refusal(&a, 403, &insufficient(d, None), "insufficient_scope", d, "access token");
    // No credential: the bare 401.
    let a = w.call(Method::POST, path, Cred::None).await;
    assert_eq!((a.status, a.challenge.as_deref()), (401, Some("Bearer")), "no credential");
}

/// `GET /beta` (entitled to `beta-dashboard`) and `GET /exports` (exports.read, entitled): the
/// emulator's plan is held by tenant-1 and expired for tenant-2; tenant-3 has none.
async fn entitlements<A: AppUnderTest>() {
    let w = world::<A>().await;
    let user = |tenant: &str| w.user().tenant(tenant).permissions(["exports.read"]).sign();
    assert_ok(
        &w.call(Method::GET, "/beta", Cred::Bearer(&user("tenant-1"))).await,
        200,
        json!({"beta": true}),
        "entitled",
    );
    let exports = json!([{"id": 1, "format": "csv"}]);
    assert_ok(&w.call(Method::GET, "/exports", Cred::Bearer(&user("tenant-1"))).await, 200, exports, "exports");
    for (path, token, justification) in [
        ("/beta", user("tenant-2"), "bundle-expired"),
        ("/beta", user("tenant-3"), "missing-feature"),
        ("/exports", user("tenant-2"), "bundle-expired"),
        ("/exports", user("tenant-3"), "missing-feature"),
        ("/exports", w.user().tenant("tenant-1").permissions(["reports.read"]).sign(), "missing-permission"),
    ] {
        let a = w.call(Method::GET, path, Cred::Bearer(&token)).await;
        let d = format!("Not entitled: {justification}");
        assert_refusal(&a, 403, &insufficient(&d, None), "insufficient_scope", &d, &format!("{path} {justification}"));
    }
    // Access tokens: the looked-up permissions count.
    let access = w.emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &["exports.read"]);
    assert_eq!(w.call(Method::GET, "/exports", Cred::ApiKey(&access.token)).await.status, 200, "access token");
}

/// With no snapshot ever loaded, an entitlement route answers 503, never 403; then it recovers.
async fn entitlements_unavailable<A: AppUnderTest>() {
    let w = world::<A>().await;
    w.emulator.set_behaviour(Surface::Entitlements, Behaviour::Unavailable);
    let token = w.user().permissions(["reports.read"]).sign();
    let a = w.call(Method::GET, "/beta", Cred::Bearer(&token)).await;
    let d = "The entitlements cannot be checked yet";
    assert_refusal(&a, 503, "Bearer", "temporarily_unavailable", d, "no snapshot");
    assert_eq!(a.retry_after.as_deref(), Some("5"));
    // Other routes are not refused for it.
    assert_ok(&w.call(Method::GET, "/reports", Cred::Bearer(&token)).await, 200, reports(), "reports meanwhile");
    w.emulator.set_behaviour(Surface::Entitlements, Behaviour::Normal);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_ok(&w.call(Method::GET, "/beta", Cred::Bearer(&token)).await, 200, json!({"beta": true}), "recovered");
}

apps::both_apps!(
    health,
    metrics_route,
    no_credential,
    valid_user_token,
    lacking_the_right,
    wildcard_permission,
    expired_token,
    bad_credentials,
    wrong_tenant,
    access_token_rights_from_the_api,
    revoked_access_token,
    gateway_down,
    keys_unreachable,
    optional_route,
    framework_edges,
    step_up,
    entitlements,
    entitlements_unavailable,
);
