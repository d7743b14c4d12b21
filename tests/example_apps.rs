//! The example binaries as a user runs them: `cargo run --example axum_app` (and `actix_app`)
//! with no Frontegg variables must start, print curl commands, and each command must answer as
//! printed. And with Frontegg unreachable, they must still serve within 10 s.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `target/<profile>/examples/<name>`: cargo builds the examples before it runs the tests.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = profile_dir.join("examples").join(name);
    assert!(path.exists(), "{} is not built: run `cargo test` (which builds the examples)", path.display());
    path
}

struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn launch(name: &str, env: &[(&str, &str)]) -> Running {
    let mut command = Command::new(example(name));
    command.env("BIND_ADDR", "127.0.0.1:0").env("RUST_LOG", "warn").stdout(Stdio::piped()).stderr(Stdio::null());
    for var in [
        "FRONTEGG_BASE_URL",
        "FRONTEGG_CLIENT_ID",
        "FRONTEGG_API_KEY",
        "FRONTEGG_API_GATEWAY_URL",
        "FRONTEGG_REDIS_URL",
        "FRONTEGG_REDIS_HMAC_KEY",
        "FRONTEGG_APP_URL",
        "FRONTEGG_SESSION_KEY",
        "FRONTEGG_SESSION_REDIS_URL",
        "FRONTEGG_LOGIN_ROUTES",
        "FRONTEGG_LOGIN_SCOPES",
        "FRONTEGG_APP_ID",
    ] {
        command.env_remove(var);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Running { child, lines }
}

/// Reads stdout until `listening on http://ADDR`; returns the lines before it and the URL.
fn until_listening(app: &Running, limit: Duration) -> (Vec<String>, String) {
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line =
            app.lines.recv_timeout(left).unwrap_or_else(|_| panic!("no `listening on` within {limit:?}: {seen:?}"));
        if let Some(url) = line.strip_prefix("listening on ") {
            return (seen, url.to_owned());
        }
        seen.push(line);
    }
}

/// A printed command: `# what: expect NNN` then `curl -i [-X METHOD] URL [-H 'Name: value']...`.
struct Printed {
    what: String,
    status: u16,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
}

fn parse(lines: &[String]) -> Vec<Printed> {
    let mut out = Vec::new();
    for pair in lines.windows(2) {
        let (comment, command) = (&pair[0], &pair[1]);
        let Some((what, status)) = comment.strip_prefix("# ").and_then(|c| c.rsplit_once(": expect ")) else {
            continue;
        };
        let rest = command.strip_prefix("curl -i ").expect("a curl command follows its comment");
        let (method, rest) = match rest.strip_prefix("-X ") {
            Some(r) => {
                let (m, r) = r.split_once(' ').unwrap();
                (m.to_owned(), r)
            }
            None => ("GET".to_owned(), rest),
        };
        let (url, mut rest) = rest.split_once(' ').unwrap_or((rest, ""));
        let mut headers = Vec::new();
        while let Some(r) = rest.strip_prefix("-H '") {
            let (header, r) = r.split_once('\'').unwrap();
            let (name, value) = header.split_once(": ").unwrap();
            headers.push((name.to_owned(), value.to_owned()));
            rest = r.trim_start();
        }
        assert!(rest.is_empty(), "unparsed: {rest}");
        out.push(Printed {
            what: what.to_owned(),
            status: status.parse().unwrap(),
            method,
            url: url.to_owned(),
            headers,
        });
    }
    out
}

async fn printed_commands_answer_as_printed(name: &str) {
    let app = launch(name, &[]);
    let (lines, base) = until_listening(&app, Duration::from_secs(30));
    let commands = parse(&lines);
    assert!(commands.len() >= 10, "{lines:?}");
    let browser = format!("open {base}/app in a browser");
    assert!(lines.iter().any(|line| line.contains(&browser)), "the start-up text says: {browser}");
    let http = reqwest::Client::new();
    let mut kinds = std::collections::BTreeSet::new();
    for c in &commands {
        assert!(c.url.starts_with(&base), "{} is not on {base}", c.url);
        let mut request = http.request(c.method.parse().unwrap(), &c.url);
        for (k, v) in &c.headers {
            request = request.header(k, v);
        }
        let status = request.send().await.unwrap().status().as_u16();
        assert_eq!(status, c.status, "{name}: {}", c.what);
        kinds.insert(c.headers.first().map(|h| h.0.clone()).unwrap_or_default());
    }
    // Anonymous, bearer and access-token callers are all shown.
    assert_eq!(kinds.len(), 3, "{kinds:?}");
}

async fn serves_within_ten_seconds_when_frontegg_is_unreachable(name: &str) {
    // A loopback port nobody listens on: connections are refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let started = Instant::now();
    let app = launch(name, &[("FRONTEGG_BASE_URL", &dead)]);
    let (_, base) = until_listening(&app, Duration::from_secs(15));
    assert!(started.elapsed() < Duration::from_secs(12), "took {:?}", started.elapsed());
    let http = reqwest::Client::new();
    assert_eq!(http.get(format!("{base}/health")).send().await.unwrap().status(), 200);
    let refused = http.get(format!("{base}/me")).bearer_auth("a.b.c").send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let fake = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJ4In0.c2ln";
    let unavailable = http.get(format!("{base}/me")).bearer_auth(fake).send().await.unwrap();
    assert_eq!(unavailable.status(), 503);
}

/// The hosted login's variables, as a deployment sets them: the routes' prefix, the scopes, the
/// application id and the app URL reach the authorize request; a list of session keys (base64
/// and hex) is taken; a session key that is not 32 bytes stops the app before it listens.
async fn login_settings_come_from_the_environment(name: &str) {
    let keys = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=, \
                5e2d4c3b2a19080706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a090";
    let app = launch(
        name,
        &[
            ("FRONTEGG_APP_URL", "http://127.0.0.1:4321"),
            ("FRONTEGG_SESSION_KEY", keys),
            ("FRONTEGG_LOGIN_ROUTES", "/account"),
            ("FRONTEGG_LOGIN_SCOPES", "openid email"),
            ("FRONTEGG_APP_ID", "app-7"),
        ],
    );
    let (_, base) = until_listening(&app, Duration::from_secs(30));
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = http.get(format!("{base}/app")).send().await.unwrap();
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/account/login?return_to=%2Fapp");
    let login = http.get(format!("{base}/account/login?return_to=%2Fapp")).send().await.unwrap();
    assert_eq!(login.status(), 303, "{name}: the login routes at FRONTEGG_LOGIN_ROUTES");
    let location = login.headers()["location"].to_str().unwrap().to_owned();
    let query = location.split_once('?').unwrap().1;
    let params: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    assert_eq!(params["client_id"], "app-7");
    assert_eq!(params["scope"], "openid email");
    assert_eq!(params["redirect_uri"], "http://127.0.0.1:4321/account/callback");
    assert!(login.headers()["set-cookie"].to_str().unwrap().starts_with("frontegg_session_login="));
    drop(app);

    let mut refused =
        launch(name, &[("FRONTEGG_APP_URL", "http://127.0.0.1:4321"), ("FRONTEGG_SESSION_KEY", "c2hvcnQ=")]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = refused.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "{name} started with a 5-byte session key");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success(), "{name}: a bad FRONTEGG_SESSION_KEY is an error at start");
    let printed: Vec<String> = refused.lines.try_iter().collect();
    assert!(!printed.iter().any(|line| line.starts_with("listening on")), "{printed:?}");
}

#[tokio::test]
async fn axum_app_takes_the_login_settings_from_the_environment() {
    login_settings_come_from_the_environment("axum_app").await;
}

#[tokio::test]
async fn actix_app_takes_the_login_settings_from_the_environment() {
    login_settings_come_from_the_environment("actix_app").await;
}

#[tokio::test]
async fn axum_app_printed_commands_answer_as_printed() {
    printed_commands_answer_as_printed("axum_app").await;
}

#[tokio::test]
async fn actix_app_printed_commands_answer_as_printed() {
    printed_commands_answer_as_printed("actix_app").await;
}

#[tokio::test]
async fn axum_app_serves_when_frontegg_is_unreachable() {
    serves_within_ten_seconds_when_frontegg_is_unreachable("axum_app").await;
}

#[tokio::test]
async fn actix_app_serves_when_frontegg_is_unreachable() {
    serves_within_ten_seconds_when_frontegg_is_unreachable("actix_app").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_apps_share_lookups_through_redis_and_serve_through_its_outage() {
    use frontegg_auth::TokenType;
    use frontegg_auth::testing::redis::RedisServer;
    use frontegg_auth::testing::{Emulator, Endpoint};

    let emulator = Emulator::start().await;
    let mut redis = RedisServer::start();
    let (url, key, redis_url) = (emulator.url().to_owned(), emulator.api_key().expose().to_owned(), redis.url());
    let env = [
        ("FRONTEGG_BASE_URL", url.as_str()),
        ("FRONTEGG_API_GATEWAY_URL", url.as_str()),
        ("FRONTEGG_CLIENT_ID", emulator.client_id()),
        ("FRONTEGG_API_KEY", key.as_str()),
        ("FRONTEGG_REDIS_URL", redis_url.as_str()),
        ("FRONTEGG_REDIS_HMAC_KEY", "the fleet's HMAC key, thirty-two bytes or more"),
    ];
    let (axum, actix) = (launch("axum_app", &env), launch("actix_app", &env));
    let bases = [until_listening(&axum, Duration::from_secs(30)).1, until_listening(&actix, Duration::from_secs(30)).1];
    let http = reqwest::Client::new();
    let get = |base: &str, token: &str| http.get(format!("{base}/reports")).header("x-api-key", token).send();

    let access = emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &["reports.read"]);
    assert_eq!(get(&bases[0], &access.token).await.unwrap().status(), 200);
    let deadline = Instant::now() + Duration::from_secs(5);
    while redis.dump().is_empty() {
        assert!(Instant::now() < deadline, "the axum app wrote nothing to Redis");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for i in 0..100 {
        assert_eq!(get(&bases[i % 2], &access.token).await.unwrap().status(), 200);
    }
    assert_eq!(emulator.calls(Endpoint::AccessTokenLookup), 1, "one lookup for both apps");

    // Redis gone: nothing is refused, nothing waits long; lookups go to Frontegg.
    redis.kill();
    let tokens: Vec<String> = (0..5)
        .map(|_| emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &["reports.read"]).token)
        .collect();
    for i in 0..100 {
        let began = Instant::now();
        assert_eq!(get(&bases[i % 2], &tokens[i % 5]).await.unwrap().status(), 200);
        assert!(began.elapsed() < Duration::from_secs(1), "request {i} took {:?}", began.elapsed());
    }
    assert_eq!(emulator.calls(Endpoint::AccessTokenLookup), 1 + 2 * 5, "each app looks each new token up itself");
}

/// `GET /metrics`: Prometheus text, series and their values (comment lines left out).
async fn scrape(base: &str) -> (String, std::collections::BTreeMap<String, f64>) {
    let response = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.unwrap();
    let series = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.rsplit_once(' ').map(|(k, v)| (k.to_owned(), v.parse().unwrap_or(f64::NAN))))
        .collect();
    (text, series)
}

async fn metrics_count_requests_and_hold_no_id(name: &str) {
    let app = launch(name, &[]);
    let (lines, base) = until_listening(&app, Duration::from_secs(30));
    let commands = parse(&lines);
    let reader = commands.iter().find(|c| c.what == "A user with reports.read").expect("the reader's command");
    let (_, before) = scrape(&base).await;
    let http = reqwest::Client::new();
    let reports = format!("{base}/reports");
    for _ in 0..3 {
        let mut request = http.get(&reader.url);
        for (k, v) in &reader.headers {
            request = request.header(k, v);
        }
        assert_eq!(request.send().await.unwrap().status(), 200);
    }
    for _ in 0..2 {
        assert_eq!(http.get(&reports).send().await.unwrap().status(), 401);
    }
    assert_eq!(http.get(&reports).bearer_auth("a.b.c").send().await.unwrap().status(), 401);
    let writer_only = http.post(&reports).header("authorization", reader.headers[0].1.as_str()).send();
    assert_eq!(writer_only.await.unwrap().status(), 403);
    // The tenant-from-path middleware: the reader is of tenant-1.
    let elsewhere =
        http.get(format!("{base}/tenants/tenant-2/reports")).header("authorization", reader.headers[0].1.as_str());
    assert_eq!(elsewhere.send().await.unwrap().status(), 403);

    let (text, after) = scrape(&base).await;
    let grew = |series: &str| after.get(series).copied().unwrap_or(0.0) - before.get(series).copied().unwrap_or(0.0);
    assert_eq!(grew(r#"frontegg_verifications_total{outcome="ok"}"#), 5.0, "{name}: {text}");
    assert_eq!(grew(r#"frontegg_verifications_total{outcome="missing"}"#), 2.0, "{name}");
    assert_eq!(grew(r#"frontegg_verifications_total{outcome="malformed"}"#), 1.0, "{name}");
    assert_eq!(grew(r#"frontegg_authorization_denials_total{kind="permission"}"#), 1.0, "{name}");
    assert_eq!(grew(r#"frontegg_authorization_denials_total{kind="tenant"}"#), 1.0, "{name}");
    assert_eq!(grew(r#"frontegg_verified_token_cache_total{result="hit"}"#), 4.0, "{name}");
    // The reader's first request, and `a.b.c` (looked for before it is parsed).
    assert_eq!(grew(r#"frontegg_verified_token_cache_total{result="miss"}"#), 2.0, "{name}");
    assert!(after[r#"frontegg_key_fetches_total{outcome="ok",reason="start"}"#] >= 1.0, "{name}");
    assert!(after["frontegg_key_set_last_success_timestamp_seconds"] > 1.7e9, "{name}");
    // No token, id, tenant or URL anywhere in the text.
    let token = reader.headers[0].1.trim_start_matches("Bearer ");
    for secret in
        [token, "tenant-1", "user-1", "emulator-client-id", "127.0.0.1", "eyJ", "reports.read", "reports.write"]
    {
        assert!(!text.contains(secret), "{name}: /metrics holds {secret}");
    }
}

#[tokio::test]
async fn axum_app_metrics_count_requests_and_hold_no_id() {
    metrics_count_requests_and_hold_no_id("axum_app").await;
}

#[tokio::test]
async fn actix_app_metrics_count_requests_and_hold_no_id() {
    metrics_count_requests_and_hold_no_id("actix_app").await;
}

/// SIGTERM (what an orchestrator sends) stops each app gracefully: exit status 0, within 5 s.
#[tokio::test]
async fn both_apps_stop_gracefully_on_sigterm() {
    for name in ["axum_app", "actix_app"] {
        let mut app = launch(name, &[]);
        let (_, base) = until_listening(&app, Duration::from_secs(30));
        assert_eq!(reqwest::get(format!("{base}/health")).await.unwrap().status(), 200);
        let pid = app.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let deadline = Instant::now() + Duration::from_secs(5);
        let status = loop {
            if let Some(status) = app.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "{name} still runs 5 s after SIGTERM");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(status.success(), "{name} exited with {status}");
    }
}

#[test]
fn manage_permissions_succeeds_offline() {
    let mut command = Command::new(example("manage_permissions"));
    for var in ["FRONTEGG_BASE_URL", "FRONTEGG_CLIENT_ID", "FRONTEGG_API_KEY", "FRONTEGG_API_GATEWAY_URL"] {
        command.env_remove(var);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("role example-editor now holds 2 permissions"), "{stdout}");
    assert!(stdout.contains("example.reports.write in Some("), "{stdout}");
}

#[test]
fn provision_succeeds_offline() {
    let mut command = Command::new(example("provision"));
    for var in ["FRONTEGG_BASE_URL", "FRONTEGG_CLIENT_ID", "FRONTEGG_API_KEY", "FRONTEGG_API_GATEWAY_URL"] {
        command.env_remove(var);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    for line in [
        "created tenant example-provision-",
        "with role example.reports-reader",
        "/reports with the token: 200 OK",
        "the user has 2 session(s)",
        "revoked them all: 0 left",
        "/reports answers 401 after",
    ] {
        assert!(stdout.contains(line), "{line:?} missing from:\n{stdout}");
    }
    assert_eq!(stdout.lines().last(), Some("provision: succeeded"), "{stdout}");
}
