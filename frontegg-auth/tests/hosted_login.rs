//! The core's hosted login without a web framework: [`HostedLogin`]'s routes called with
//! `http` requests, the tower layers in front of a page, the emulator's hosted login over real
//! HTTP. What the example-app suites cannot reach: the step-up through the login, each setting
//! of the token request, and what `Debug` shows.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use frontegg_auth::login::{ClientAuthentication, LoginSettings, LoginSettingsBuilder, OAuthPaths};
use frontegg_auth::testing::{ClientAuthentication as Seen, Emulator, Endpoint, RefreshTokens};
use frontegg_auth::{AuthenticationLayer, Authenticator, Caller, HostedLogin, Requirement, RequirementLayer};
use http::{Request, Response};
use serde_json::json;
use tower::{Layer, Service, ServiceExt, service_fn};

const APP: &str = "http://127.0.0.1:3000";

fn authenticator(
    emulator: &Emulator,
    settings: impl FnOnce(LoginSettingsBuilder) -> LoginSettingsBuilder,
) -> Authenticator {
    let login = settings(LoginSettings::builder(APP)).build().unwrap();
    Authenticator::new(emulator.config().hosted_login(login).build().unwrap()).unwrap()
}

fn get(target: &str, cookie: Option<&str>) -> Request<()> {
    let mut request = Request::get(target);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.body(()).unwrap()
}

fn header(response: &frontegg_auth::LoginAnswer, name: &str) -> Vec<String> {
    response.headers().iter().filter(|(n, _)| n == name).map(|(_, v)| v.to_str().unwrap().to_owned()).collect()
}

fn query(url: &str) -> std::collections::HashMap<String, String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

/// A login through the emulator's page: the session cookie (`name=value`) and the authorize URL.
async fn log_in(emulator: &Emulator, login: &HostedLogin, target: &str, user: &str, mfa: bool) -> (String, String) {
    let (done, authorize) = callback(emulator, login, target, user, mfa).await;
    assert_eq!(done.status(), 303, "{:?}", done.body());
    let session = header(&done, "set-cookie")
        .into_iter()
        .find(|c| c.starts_with("frontegg_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    (session, authorize)
}

/// A login through the emulator's sign-in, up to the callback's answer; and the authorize URL.
async fn callback(
    emulator: &Emulator,
    login: &HostedLogin,
    target: &str,
    user: &str,
    mfa: bool,
) -> (frontegg_auth::LoginAnswer, String) {
    let started = login.login(&get(target, None));
    assert_eq!(started.status(), 303, "{:?}", started.body());
    let authorize = header(&started, "location").remove(0);
    let login_cookie = header(&started, "set-cookie").remove(0).split(';').next().unwrap().to_owned();
    let callback = emulator.sign_in(&authorize, user, mfa);
    let path = callback.strip_prefix(APP).unwrap().to_owned();
    (login.callback(&get(&path, Some(&login_cookie))).await, authorize)
}

/// A page behind `authenticate(..).redirect_to_login()` and a step-up requirement.
fn page(
    auth: &Authenticator,
    requirement: Requirement,
) -> impl Service<Request<()>, Response = Response<Bytes>, Error = Infallible> + Clone {
    let handler = service_fn(|request: Request<()>| async move {
        let who = request.extensions().get::<Caller>().and_then(Caller::identity).map(|i| i.sub().to_owned());
        Ok::<_, Infallible>(Response::new(Bytes::from(who.unwrap_or_default())))
    });
    let required = RequirementLayer::new(requirement).layer(handler);
    AuthenticationLayer::new(auth.clone()).redirect_to_login().layer(required)
}

/// An API route behind the authentication layer alone: 401 without a credential.
fn api(auth: &Authenticator) -> impl Service<Request<()>, Response = Response<Bytes>, Error = Infallible> + Clone {
    let handler = service_fn(|_: Request<()>| async { Ok::<_, Infallible>(Response::new(Bytes::new())) });
    AuthenticationLayer::new(auth.clone()).layer(handler)
}

/// Whether an answer clears the cookie `name`.
fn clears(answer: &Response<Bytes>, name: &str) -> bool {
    answer.headers().get_all("set-cookie").iter().any(|c| {
        let c = c.to_str().unwrap();
        c.starts_with(&format!("{name}=")) && c.contains("Max-Age=0")
    })
}

#[tokio::test]
async fn a_page_steps_up_through_the_login() {
    let emulator = Emulator::start().await;
    let auth = authenticator(&emulator, |s| s);
    let login = auth.hosted_login().unwrap();
    let approvals = page(&auth, Requirement::step_up_within(Duration::from_secs(300)));

    // Anonymous: to the login, coming back here.
    let answer = approvals.clone().oneshot(get("/approvals?x=1", None)).await.unwrap();
    assert_eq!(answer.status(), 303);
    assert_eq!(answer.headers()["location"], "/auth/login?return_to=%2Fapprovals%3Fx%3D1");

    // Logged in without MFA: to a login asking for the step-up, never a 401 for a browser.
    let (session, authorize) = log_in(&emulator, login, "/auth/login?return_to=/approvals", "user-1", false).await;
    assert!(!query(&authorize).contains_key("acr_values"), "a plain login asks for no step-up");
    let answer = approvals.clone().oneshot(get("/approvals", Some(&session))).await.unwrap();
    assert_eq!(answer.status(), 303);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, "/auth/login?return_to=%2Fapprovals&step_up=300");

    // That login asks Frontegg for MFA (RFC 9470 through OIDC), and its session passes.
    let (stepped_up, authorize) = log_in(&emulator, login, &location, "user-1", true).await;
    let params = query(&authorize);
    assert_eq!(params["acr_values"], frontegg_auth::MFA_ACR);
    assert_eq!(params["max_age"], "300");
    let answer = approvals.clone().oneshot(get("/approvals", Some(&stepped_up))).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.body(), &Bytes::from("user-1"));

    // A step-up login that brings no MFA ends there: sent back, the page would send the
    // browser to the login again and again.
    let (done, _) = callback(&emulator, login, &location, "user-1", false).await;
    assert_eq!(done.status(), 401);
    assert!(std::str::from_utf8(done.body()).unwrap().contains("insufficient_user_authentication"));
    assert!(header(&done, "set-cookie").iter().any(|c| c.starts_with("frontegg_session=")), "logged in all the same");

    // An API route (no redirect) keeps the RFC 9470 401 for the same session.
    let api = RequirementLayer::new(Requirement::step_up_within(Duration::from_secs(300)))
        .layer(service_fn(|_: Request<()>| async { Ok::<_, Infallible>(Response::new(Bytes::new())) }));
    let api = AuthenticationLayer::new(auth.clone()).layer(api);
    let answer = api.oneshot(get("/api", Some(&session))).await.unwrap();
    assert_eq!(answer.status(), 401);
    assert!(answer.headers()["www-authenticate"].to_str().unwrap().contains("insufficient_user_authentication"));
}

#[tokio::test]
async fn the_token_request_follows_the_settings() {
    let emulator = Emulator::start().await;
    // Defaults: bare paths, HTTP Basic.
    let auth = authenticator(&emulator, |s| s);
    let (_, authorize) = log_in(&emulator, auth.hosted_login().unwrap(), "/auth/login", "user-1", false).await;
    assert!(authorize.starts_with(&format!("{}/oauth/authorize?", emulator.url())));
    assert_eq!(emulator.last_client_authentication(), Some(Seen::Basic));
    let seen = emulator.last_token_request().unwrap();
    assert_eq!((seen.path.as_str(), seen.grant_type.as_deref()), ("/oauth/token", Some("authorization_code")));
    assert_eq!(seen.requested_application_id, None);

    // Credentials in the body, prefixed paths, an application id as the authorize client_id.
    emulator.set_application_id(Some("app-42"));
    let auth = authenticator(&emulator, |s| {
        s.client_authentication(ClientAuthentication::Body).oauth_paths(OAuthPaths::Prefixed).application_id("app-42")
    });
    let login = auth.hosted_login().unwrap();
    let (session, authorize) = log_in(&emulator, login, "/auth/login", "admin-1", false).await;
    assert!(authorize.starts_with(&format!("{}/frontegg/oauth/authorize?", emulator.url())), "{authorize}");
    assert_eq!(query(&authorize)["client_id"], "app-42");
    assert_eq!(emulator.last_client_authentication(), Some(Seen::Body));
    let seen = emulator.last_token_request().unwrap();
    assert_eq!(seen.path, "/frontegg/oauth/token");
    assert_eq!(seen.requested_application_id.as_deref(), Some("app-42"));
    assert_eq!(emulator.calls(Endpoint::TokenCode), 2);
    // Whether an ID token's audience is the app id or the client id is unconfirmed: with an app
    // id configured, both pass.
    emulator.set_id_token_claim("aud", json!("app-42"));
    let (done, _) = callback(&emulator, login, "/auth/login", "admin-1", false).await;
    assert_eq!(done.status(), 303, "an ID token for the app id: {:?}", done.body());
    emulator.clear_id_token_claims();
    let out = login.logout(&get("/auth/logout?return_to=/bye", Some(&session))).await;
    let location = header(&out, "location").remove(0);
    assert!(location.starts_with(&format!("{}/frontegg/oauth/logout?", emulator.url())), "{location}");
    assert_eq!(query(&location)["post_logout_redirect_uri"], format!("{APP}/bye"));
}

#[tokio::test]
async fn on_https_cookies_are_secure_host_cookies() {
    let emulator = Emulator::start().await;
    let login = LoginSettings::builder("https://app.example.com").build().unwrap();
    assert_eq!(login.cookie_name(), "__Host-frontegg_session");
    let auth = Authenticator::new(emulator.config().hosted_login(login).build().unwrap()).unwrap();
    let started = auth.hosted_login().unwrap().login(&get("/auth/login", None));
    let cookie = header(&started, "set-cookie").remove(0);
    assert!(cookie.starts_with("__Host-frontegg_session_login="), "{cookie}");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=600"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Domain"), "a __Host- cookie has no Domain");
    assert_eq!(query(&header(&started, "location")[0])["redirect_uri"], "https://app.example.com/auth/callback");

    // The session cookie too, under a name of the app's choosing, and it is a credential.
    let login = LoginSettings::builder("https://app.example.com").cookie_name("app_sid").build().unwrap();
    let auth = Authenticator::new(emulator.config().hosted_login(login).build().unwrap()).unwrap();
    let hosted = auth.hosted_login().unwrap();
    let started = hosted.login(&get("/auth/login", None));
    let login_cookie = header(&started, "set-cookie").remove(0);
    assert!(login_cookie.starts_with("__Host-app_sid_login="), "{login_cookie}");
    let back = emulator.sign_in(&header(&started, "location")[0], "user-1", false);
    let path = back.strip_prefix("https://app.example.com").unwrap();
    let done = hosted.callback(&get(path, Some(login_cookie.split(';').next().unwrap()))).await;
    assert_eq!(done.status(), 303, "{:?}", done.body());
    let session = header(&done, "set-cookie").into_iter().find(|c| c.starts_with("__Host-app_sid=")).unwrap();
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=604800"] {
        assert!(session.contains(attribute), "{attribute} in {session}");
    }
    assert!(!session.contains("Domain"), "a __Host- cookie has no Domain");
    let pair = session.split(';').next().unwrap();
    assert_eq!(api(&auth).oneshot(get("/api", Some(pair))).await.unwrap().status(), 200);
    let plain = pair.replacen("__Host-app_sid", "app_sid", 1);
    assert_eq!(api(&auth).oneshot(get("/api", Some(&plain))).await.unwrap().status(), 401, "only the __Host- name");
}

/// How Frontegg refuses a dead refresh token is unconfirmed: every refusal (a 400, 401 or 403
/// with a JSON body or none) ends the session (401, cookie cleared) except those that blame the
/// app's own client, which keep it like an outage, and like answers that are not the token
/// endpoint's (503, then 200 once Frontegg answers again).
#[tokio::test]
async fn a_refused_refresh_ends_the_session_unless_it_blames_the_app() {
    let emulator = Emulator::start().await;
    emulator.set_login_token_lifetime(Duration::from_secs(1));
    let auth = authenticator(&emulator, |s| s);
    let login = auth.hosted_login().unwrap();
    let cases: [(u16, &str, bool); 17] = [
        (400, r#"{"error":"invalid_grant"}"#, true),
        (400, r#"{"error":"invalid_request","error_description":"refresh token expired"}"#, true),
        // Frontegg's own error format; its Android SDK reads a 401 as "session invalid".
        (401, r#"{"errors":["Unauthorized"],"statusCode":401}"#, true),
        (401, "", true),
        (403, r#"{"errors":["Forbidden"]}"#, true),
        // A gateway's or a firewall's page, a redirect, a wrong path, an unusable answer.
        (403, "<html>Forbidden</html>", false),
        (401, "Unauthorized", false),
        (302, "", false),
        (404, r#"{"error":"invalid_grant"}"#, false),
        (200, "{}", false),
        (401, r#"{"error":"invalid_client"}"#, false),
        (400, r#"{"error":"unauthorized_client"}"#, false),
        (400, r#"{"error":"unsupported_grant_type"}"#, false),
        (400, r#"{"error":"invalid_scope"}"#, false),
        (408, "", false),
        (429, r#"{"errors":["Too many requests"]}"#, false),
        (502, "<html>Bad gateway</html>", false),
    ];
    let mut sessions = Vec::new();
    for _ in &cases {
        sessions.push(log_in(&emulator, login, "/auth/login", "user-1", false).await.0);
    }
    tokio::time::sleep(Duration::from_millis(2100)).await;
    for ((status, body, ends), session) in cases.iter().zip(&sessions) {
        emulator.set_token_endpoint_answer(Some((*status, body)));
        let before = emulator.calls(Endpoint::TokenRefresh);
        let answer = api(&auth).oneshot(get("/api", Some(session))).await.unwrap();
        assert_eq!(emulator.calls(Endpoint::TokenRefresh), before + 1, "{status} {body}: one refresh");
        if *ends {
            assert_eq!(answer.status(), 401, "{status} {body} ends the session");
            assert!(clears(&answer, "frontegg_session"), "{status} {body}: the cookie is cleared");
        } else {
            assert_eq!(answer.status(), 503, "{status} {body} keeps the session");
            assert!(answer.headers().get("set-cookie").is_none(), "{status} {body}: never a logout");
        }
    }
    emulator.set_token_endpoint_answer(None);
    // Past the 2 s during which a failed refresh is not tried again.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    for ((status, body, ends), session) in cases.iter().zip(&sessions) {
        let answer = api(&auth).oneshot(get("/api", Some(session))).await.unwrap();
        let expected = if *ends { 401 } else { 200 };
        assert_eq!(answer.status(), expected, "{status} {body}, once Frontegg answers again");
    }
}

/// Whether Frontegg rotates refresh tokens is unconfirmed: a session lives on whether a refresh
/// answers a new refresh token, the same one or none; a login answered without one gives a
/// session served until its access token expires, and ended then.
#[tokio::test]
async fn sessions_follow_every_reading_of_refresh_token_rotation() {
    let emulator = Emulator::start().await;
    emulator.set_login_token_lifetime(Duration::from_secs(1));
    let auth = authenticator(&emulator, |s| s);
    let login = auth.hosted_login().unwrap();
    for mode in [RefreshTokens::Rotated, RefreshTokens::Repeated, RefreshTokens::Kept] {
        emulator.set_refresh_tokens(mode);
        let (session, _) = log_in(&emulator, login, "/auth/login", "user-1", false).await;
        let before = emulator.calls(Endpoint::TokenRefresh);
        for round in 1..=2 {
            tokio::time::sleep(Duration::from_millis(1200)).await;
            let answer = api(&auth).oneshot(get("/api", Some(&session))).await.unwrap();
            assert_eq!(answer.status(), 200, "{mode:?}: after refresh {round}");
        }
        assert_eq!(emulator.calls(Endpoint::TokenRefresh) - before, 2, "{mode:?}: one refresh per expiry");
    }
    emulator.set_refresh_tokens(RefreshTokens::NotIssued);
    emulator.set_login_token_lifetime(Duration::from_secs(5));
    // JWTs count whole seconds: logged in within 300 ms of a second's start, the token has
    // 4.7-5 s left, so 4.2 s after that start it is within the refresh margin (a fifth of its
    // lifetime) and still valid for 0.8 s.
    let unix_ms = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    let (session, second) = loop {
        let second = (unix_ms() / 1000 + 1) * 1000;
        tokio::time::sleep(Duration::from_millis(u64::try_from(second.saturating_sub(unix_ms())).unwrap())).await;
        let (session, _) = log_in(&emulator, login, "/auth/login", "user-1", false).await;
        if unix_ms() < second + 300 {
            break (session, second);
        }
    };
    let before = emulator.calls(Endpoint::TokenRefresh);
    tokio::time::sleep(Duration::from_millis(u64::try_from((second + 4200).saturating_sub(unix_ms())).unwrap())).await;
    let answer = api(&auth).oneshot(get("/api", Some(&session))).await.unwrap();
    assert_eq!(answer.status(), 200, "nothing to refresh with: served until it expires");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let answer = api(&auth).oneshot(get("/api", Some(&session))).await.unwrap();
    assert_eq!(answer.status(), 401, "no refresh token: the session ends with its access token");
    assert!(clears(&answer, "frontegg_session"));
    assert_eq!(emulator.calls(Endpoint::TokenRefresh), before, "nothing to refresh with");
}

#[tokio::test]
async fn nothing_secret_reaches_debug() {
    let emulator = Emulator::start().await;
    let key = "8f1c2b3a4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8";
    let auth = authenticator(&emulator, |s| s.session_keys(key));
    let login = auth.hosted_login().unwrap();
    let (session, _) = log_in(&emulator, login, "/auth/login", "user-1", false).await;
    let id = session.trim_start_matches("frontegg_session=");
    let started = login.login(&get("/auth/login", None));
    let shown = format!(
        "{:?} {:?} {:?} {:?} {:?}",
        login,
        auth,
        login.settings(),
        started,
        LoginSettings::builder(APP).session_keys(key)
    );
    for secret in [key, &key[..16], id, emulator.api_key().expose()] {
        assert!(!shown.contains(secret), "Debug shows a secret: {shown}");
    }
    let login_cookie = header(&started, "set-cookie").remove(0);
    let sealed = login_cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    assert!(!shown.contains(&sealed));
}

/// The login route passes on what Frontegg's authorize request knows of the login (an e-mail
/// to prefill, a tenant's custom login, `prompt`), nothing else, and refuses values it cannot
/// pass on.
#[tokio::test]
async fn the_login_route_passes_on_hints_and_nothing_else() {
    let emulator = Emulator::start().await;
    let auth = authenticator(&emulator, |s| s);
    let login = auth.hosted_login().unwrap();
    let route = "/auth/login?return_to=%2Fapp&login_hint=alice%40example.com&organization=acme&tenantId=tenant-1\
                 &prompt=login&client_id=evil&redirect_uri=https%3A%2F%2Fevil.example&scope=admin&state=mine";
    let started = login.login(&get(route, None));
    assert_eq!(started.status(), 303, "{:?}", started.body());
    let authorize = header(&started, "location").remove(0);
    let params = query(&authorize);
    for (name, value) in
        [("login_hint", "alice@example.com"), ("organization", "acme"), ("tenantId", "tenant-1"), ("prompt", "login")]
    {
        assert_eq!(params[name], value, "{name}");
    }
    assert_eq!(params["client_id"], emulator.client_id(), "the route's own client_id stays there");
    assert_eq!(params["redirect_uri"], format!("{APP}/auth/callback"));
    assert_eq!(params["scope"], "openid email profile");
    assert_ne!(params["state"], "mine");
    assert_eq!(authorize.matches("client_id=").count(), 1, "{authorize}");
    // The hosted login takes such a request, and the login ends as any other.
    let login_cookie = header(&started, "set-cookie").remove(0).split(';').next().unwrap().to_owned();
    let back = emulator.sign_in(&authorize, "user-1", false);
    let done = login.callback(&get(back.strip_prefix(APP).unwrap(), Some(&login_cookie))).await;
    assert_eq!(done.status(), 303, "{:?}", done.body());

    let long = "a".repeat(257);
    for bad in ["prompt=always", &format!("login_hint={long}"), "organization=a%0Ab", "tenantId=", "prompt="] {
        let answer = login.login(&get(&format!("/auth/login?{bad}"), None));
        assert_eq!(answer.status(), 400, "{bad}");
        let body = std::str::from_utf8(answer.body()).unwrap();
        assert!(body.contains("invalid_request"), "{bad}: {body}");
        assert!(header(&answer, "set-cookie").is_empty() && header(&answer, "location").is_empty(), "{bad}");
    }
}
