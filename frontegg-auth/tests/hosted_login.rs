//! The core's hosted login without a web framework: [`HostedLogin`]'s routes called with
//! `http` requests, the tower layers in front of a page, the emulator's hosted login over real
//! HTTP. What the example-app suites cannot reach: the step-up through the login, each setting
//! of the token request, and what `Debug` shows.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use frontegg_auth::login::{ClientAuthentication, LoginSettings, LoginSettingsBuilder, OAuthPaths};
use frontegg_auth::testing::{ClientAuthentication as Seen, Emulator, Endpoint};
use frontegg_auth::{AuthenticationLayer, Authenticator, Caller, HostedLogin, Requirement, RequirementLayer};
use http::{Request, Response};
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
    assert_eq!(emulator.calls(Endpoint::TokenCode), 2);
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
