//! What both example apps share and that is not about the library: configuration from the
//! environment or the embedded emulator, and the printed curl commands of the offline demo.

use std::time::Duration;

use frontegg_auth::testing::Emulator;
use frontegg_auth::{Authenticator, TokenType};

/// Where the app listens: `BIND_ADDR`, default `127.0.0.1:3000`.
pub fn bind_addr() -> String {
    std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned())
}

/// The content type of Prometheus's text format.
#[allow(dead_code)] // each binary uses what it needs
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The process's Prometheus recorder, installed on first use (the library records through the
/// `metrics` facade; the application chooses the exporter). `GET /metrics` renders it.
#[allow(dead_code)] // each binary uses what it needs
pub fn metrics() -> &'static metrics_exporter_prometheus::PrometheusHandle {
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    static HANDLE: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> = std::sync::OnceLock::new();
    HANDLE.get_or_init(|| {
        // Calls to Frontegg take milliseconds to seconds.
        let buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full("frontegg_upstream_request_duration_seconds".into()), &buckets)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder already installed (a test harness): this handle then renders nothing.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// The authenticator: from the `FRONTEGG_*` variables when any is set, else against an
/// embedded emulator (returned too: it must live as long as the app). Entitlements are loaded
/// whenever credentials are set (the emulator has them), polled every
/// `FRONTEGG_ENTITLEMENTS_POLL_SECS` seconds (default 30). `FRONTEGG_REDIS_URL` (both modes)
/// shares access-token lookups with the other instances through Redis.
pub async fn authenticator() -> Result<(Authenticator, Option<Emulator>), Box<dyn std::error::Error>> {
    let configured = ["FRONTEGG_BASE_URL", "FRONTEGG_CLIENT_ID", "FRONTEGG_API_KEY", "FRONTEGG_API_GATEWAY_URL"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty()));
    let poll = match std::env::var("FRONTEGG_ENTITLEMENTS_POLL_SECS") {
        Ok(value) => Duration::from_secs(
            value.trim().parse::<u64>().map_err(|_| "FRONTEGG_ENTITLEMENTS_POLL_SECS: not a number of seconds")?,
        ),
        Err(_) => Duration::from_secs(30),
    };
    let with_entitlements = |builder: frontegg_auth::ConfigBuilder, credentials: bool| {
        builder.entitlements(credentials).entitlements_poll_interval(poll)
    };
    if configured {
        // Reads FRONTEGG_REDIS_URL (and FRONTEGG_REDIS_HMAC_KEY) too.
        let mut builder = frontegg_auth::ConfigBuilder::from_env()?;
        let credentials = std::env::var("FRONTEGG_API_KEY").is_ok_and(|v| !v.trim().is_empty());
        let base_url = std::env::var("FRONTEGG_BASE_URL").is_ok_and(|v| !v.trim().is_empty());
        if credentials && base_url {
            builder = builder.hosted_login(hosted_login()?);
        }
        return Ok((Authenticator::new(with_entitlements(builder, credentials).build()?)?, None));
    }
    let emulator = Emulator::start().await;
    eprintln!("No FRONTEGG_* variable is set: using the embedded Frontegg emulator at {}", emulator.url());
    let mut builder = with_entitlements(emulator.config(), true).hosted_login(hosted_login()?);
    if let Some(redis) = frontegg_auth::RedisCache::from_env()? {
        eprintln!("Sharing access-token lookups through FRONTEGG_REDIS_URL");
        builder = builder.redis(redis);
    }
    let auth = Authenticator::new(builder.build()?)?;
    Ok((auth, Some(emulator)))
}

/// The hosted login: `FRONTEGG_APP_URL` (default `http://BIND_ADDR`), `FRONTEGG_SESSION_KEY`
/// (default: a random key, sessions end with the process) and the rest of
/// `LoginSettings::from_env`; a login without `return_to` ends on `/app`.
fn hosted_login() -> Result<frontegg_auth::LoginSettings, Box<dyn std::error::Error>> {
    Ok(frontegg_auth::LoginSettings::from_env_or(format!("http://{}", bind_addr()))?
        .default_return_to("/app")
        .build()?)
}

/// The `/app` page of a logged-in user: name, email, roles, a button that calls `/reports` with
/// the session cookie (same origin), and the logout link.
#[allow(dead_code)] // each binary uses what it needs
pub fn app_page(identity: &frontegg_auth::Identity, auth: &frontegg_auth::Authenticator) -> String {
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;")
    };
    let name = escape(identity.name().unwrap_or("(no name)"));
    let email = escape(identity.email().unwrap_or("(no email)"));
    let roles = escape(&identity.roles().join(", "));
    // The logout route is where the login's settings put it (FRONTEGG_LOGIN_ROUTES).
    let logout = escape(&auth.hosted_login().map_or_else(|| "/auth/logout".to_owned(), |l| l.settings().logout_path()));
    format!(
        r#"<!doctype html>
<html><head><meta charset="utf-8"><title>frontegg-rs example</title></head>
<body>
<h1>Hello, <span id="name">{name}</span></h1>
<p>Email: <span id="email">{email}</span></p>
<p>Roles: <span id="roles">{roles}</span></p>
<p><button id="load-reports" type="button">Load reports</button> <span id="reports-status"></span></p>
<pre id="reports"></pre>
<p><a id="logout" href="{logout}">Log out</a></p>
<script>
document.getElementById("load-reports").addEventListener("click", async () => {{
  const answer = await fetch("/reports", {{ credentials: "same-origin" }});
  document.getElementById("reports").textContent = await answer.text();
  document.getElementById("reports-status").textContent = String(answer.status);
}});
</script>
</body></html>
"#
    )
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM (what an orchestrator sends): the start of a
/// graceful stop.
#[allow(dead_code)] // each binary uses what it needs
pub async fn stop_requested() {
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => return drop(tokio::signal::ctrl_c().await),
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    drop(tokio::signal::ctrl_c().await);
}

/// Waits for the signing keys, at most 10 s: the app serves either way (answering 503 until
/// Frontegg can be reached).
pub async fn wait_for_keys(auth: &Authenticator) {
    if let Err(e) = auth.ready(Duration::from_secs(10)).await {
        tracing::warn!(error = %e, "serving without signing keys for now");
    }
}

/// A report id as the routes answer it: a number when it is one, else the text.
#[allow(dead_code)] // each binary uses what it needs
pub fn report_id(id: &str) -> serde_json::Value {
    id.parse::<u64>().map_or_else(|_| serde_json::Value::from(id), serde_json::Value::from)
}

/// Prints one ready-to-paste curl command per kind of caller, each with the status it gets.
pub fn print_demo(emulator: &Emulator, base: &str) {
    let day = Duration::from_secs(24 * 3600);
    let reader = emulator.user_token().permissions(["reports.read"]).expires_in(day).sign();
    let writer = emulator.user_token().permissions(["reports.read", "reports.write"]).expires_in(day).sign();
    let admin =
        emulator.user_token().subject("admin-1").roles(["admin"]).permissions(["reports.*"]).expires_in(day).sign();
    let other_tenant = emulator.user_token().tenant("tenant-2").permissions(["reports.read"]).expires_in(day).sign();
    let expired = emulator.user_token().permissions(["reports.read"]).expired().sign();
    let access = emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &["reports.read"]);
    let stepped_up =
        emulator.user_token().permissions(["reports.read", "reports.write"]).stepped_up().expires_in(day).sign();
    // The emulator's plan `b-pro` (beta-dashboard, exports): tenant-1 holds it, tenant-2's expired.
    let exporter =
        |tenant: &str| emulator.user_token().tenant(tenant).permissions(["exports.read"]).expires_in(day).sign();
    let (plan_holder, plan_expired, plan_missing) = (exporter("tenant-1"), exporter("tenant-2"), exporter("tenant-3"));
    let bearer = |t: &str| format!(" -H 'Authorization: Bearer {t}'");
    let commands: Vec<(&str, u16, String)> = vec![
        ("Anyone: health", 200, format!("curl -i {base}/health")),
        ("No credential: refused", 401, format!("curl -i {base}/me")),
        ("Anonymous on an optional route", 200, format!("curl -i {base}/optional")),
        ("A user: who am I", 200, format!("curl -i {base}/me{}", bearer(&reader))),
        ("A user with reports.read", 200, format!("curl -i {base}/reports{}", bearer(&reader))),
        ("The same user may not write", 403, format!("curl -i -X POST {base}/reports{}", bearer(&reader))),
        (
            "A user with reports.read and reports.write",
            201,
            format!("curl -i -X POST {base}/reports{}", bearer(&writer)),
        ),
        (
            "An admin (role admin, wildcard reports.*) deletes",
            204,
            format!("curl -i -X DELETE {base}/reports/42{}", bearer(&admin)),
        ),
        (
            "A user of tenant-1 reads its tenant's reports",
            200,
            format!("curl -i {base}/tenants/tenant-1/reports{}", bearer(&reader)),
        ),
        (
            "A user of tenant-2 may not",
            403,
            format!("curl -i {base}/tenants/tenant-1/reports{}", bearer(&other_tenant)),
        ),
        (
            "An access token, rights from the Frontegg API",
            200,
            format!("curl -i {base}/reports -H 'x-api-key: {}'", access.token),
        ),
        ("An expired token", 401, format!("curl -i {base}/me{}", bearer(&expired))),
        (
            "A writer who passed MFA (step-up) approves, within 5 minutes of this start",
            200,
            format!("curl -i -X POST {base}/reports/7/approve{}", bearer(&stepped_up)),
        ),
        (
            "A writer without a step-up: RFC 9470 challenge",
            401,
            format!("curl -i -X POST {base}/reports/7/approve{}", bearer(&writer)),
        ),
        ("A tenant entitled to the beta dashboard", 200, format!("curl -i {base}/beta{}", bearer(&plan_holder))),
        ("A tenant whose plan expired: bundle-expired", 403, format!("curl -i {base}/beta{}", bearer(&plan_expired))),
        ("A tenant without the plan: missing-feature", 403, format!("curl -i {base}/beta{}", bearer(&plan_missing))),
        ("Exports, permission and plan held", 200, format!("curl -i {base}/exports{}", bearer(&plan_holder))),
        (
            "Exports without the permission: missing-permission",
            403,
            format!("curl -i {base}/exports{}", bearer(&reader)),
        ),
    ];
    println!();
    println!("Log in through the emulator's hosted login: open {base}/app in a browser.");
    println!();
    println!("Try it (each command says the status it answers):");
    for (what, status, command) in commands {
        println!();
        println!("# {what}: expect {status}");
        println!("{command}");
    }
    println!();
}
