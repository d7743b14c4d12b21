//! The hosted login over real HTTP, run unchanged against both example apps: a browser played by
//! an HTTP client that keeps cookies and follows no redirect, so every hop is asserted (status,
//! `Location`, `Set-Cookie` attributes), against the emulator's hosted login.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use frontegg_auth::login::LoginSettingsBuilder;
use frontegg_auth::testing::{Emulator, Endpoint};
use frontegg_auth::{Authenticator, LoginSettings};
use reqwest::Method;
use serde_json::{Value, json};

mod apps;

use apps::AppUnderTest;

/// The emulator, an app against it with the hosted login on, and the app's base URL.
struct World {
    emulator: Arc<Emulator>,
    base: String,
    _app: Box<dyn Send>,
}

async fn world<A: AppUnderTest>(settings: impl FnOnce(LoginSettingsBuilder) -> LoginSettingsBuilder + Send) -> World {
    let emulator = Arc::new(Emulator::start().await);
    let configured = emulator.clone();
    let (base, app) = A::start_with(move |base| {
        let login = settings(LoginSettings::builder(base).default_return_to("/app")).build().unwrap();
        let config = configured.config().access_token_ttl(Duration::from_millis(500)).hosted_login(login);
        Authenticator::new(config.build().unwrap()).unwrap()
    })
    .await;
    World { emulator, base, _app: app }
}

/// A browser: its own cookies, no redirect followed.
struct Browser {
    http: reqwest::Client,
    cookies: HashMap<String, String>,
}

/// One answer, with what the tests look at.
struct Answer {
    status: u16,
    location: Option<String>,
    set_cookies: Vec<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The `Set-Cookie` of `name`, if the answer has one.
    fn set_cookie(&self, name: &str) -> Option<&str> {
        self.set_cookies.iter().map(String::as_str).find(|c| c.starts_with(&format!("{name}=")))
    }
}

impl Browser {
    fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            cookies: HashMap::new(),
        }
    }

    async fn send(
        &mut self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        form: Option<&[(&str, &str)]>,
    ) -> Answer {
        let mut request = self.http.request(method, url);
        if !self.cookies.is_empty() && url.starts_with("http://127.0.0.1") {
            let cookie: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header("cookie", cookie.join("; "));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(form) = form {
            request = request.form(form);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        let set_cookies: Vec<String> =
            response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
        for cookie in &set_cookies {
            let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") || value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Answer { status, location, set_cookies, body: response.text().await.unwrap() }
    }

    async fn get(&mut self, url: &str) -> Answer {
        self.send(Method::GET, url, &[], None).await
    }

    /// From a route of the app to the emulator's sign-in page: the app's redirect to the login,
    /// the login's redirect to Frontegg. The authorize URL.
    async fn start_login(&mut self, base: &str, path: &str) -> String {
        let first = self.get(&format!("{base}{path}")).await;
        assert_eq!(first.status, 303, "{path} sends a browser without a session to the login");
        let login = first.location.unwrap();
        assert!(login.starts_with("/auth/login?return_to="), "{login}");
        let second = self.get(&format!("{base}{login}")).await;
        assert_eq!(second.status, 303, "the login route redirects to Frontegg: {}", second.body);
        second.location.unwrap()
    }

    /// The emulator's sign-in page, and its form posted for `user`: the callback URL.
    async fn sign_in(&mut self, authorize: &str, user: &str, mfa: bool) -> String {
        let page = self.get(authorize).await;
        assert_eq!(page.status, 200, "the sign-in page: {}", page.body);
        let request = regex::Regex::new(r#"name="request" value="([^"]+)""#).unwrap();
        let request = request.captures(&page.body).unwrap()[1].to_owned();
        let action = authorize.split('?').next().unwrap().to_owned();
        let mfa = if mfa { "true" } else { "false" };
        let posted =
            self.send(Method::POST, &action, &[], Some(&[("request", &request), ("user", user), ("mfa", mfa)])).await;
        assert_eq!(posted.status, 303, "the sign-in form: {}", posted.body);
        posted.location.unwrap()
    }

    /// A whole login of `user`, ending on `/app`.
    async fn log_in(&mut self, base: &str, user: &str) {
        let authorize = self.start_login(base, "/app").await;
        let callback = self.sign_in(&authorize, user, false).await;
        let done = self.get(&callback).await;
        assert_eq!(done.status, 303, "the callback: {}", done.body);
        assert_eq!(done.location.as_deref(), Some("/app"));
    }
}

fn query(url: &str) -> HashMap<String, String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

/// The whole flow, every hop asserted, then the session as a credential, then the logout.
async fn login_flow<A: AppUnderTest>() {
    let w = world::<A>(|s| s).await;
    let mut browser = Browser::new();
    let authorize = browser.start_login(&w.base, "/app").await;
    // The authorize request (§1.3): code flow, PKCE S256, state and nonce, our redirect URI.
    let params = query(&authorize);
    assert!(authorize.starts_with(&format!("{}/oauth/authorize?", w.emulator.url())), "{authorize}");
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["client_id"], w.emulator.client_id());
    assert_eq!(params["redirect_uri"], format!("{}/auth/callback", w.base));
    assert_eq!(params["scope"], "openid email profile");
    assert_eq!(params["code_challenge_method"], "S256");
    for name in ["state", "nonce", "code_challenge"] {
        assert_eq!(params[name].len(), 43, "{name}: 256 random bits, base64url");
    }
    assert_ne!(params["state"], params["nonce"]);
    // The login cookie binds the state to this browser.
    assert!(browser.cookies.contains_key("frontegg_session_login"));

    let callback = browser.sign_in(&authorize, "user-1", false).await;
    assert_eq!(query(&callback)["state"], params["state"]);
    let done = browser.get(&callback).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/app"));
    let session = done.set_cookie("frontegg_session").unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=604800"] {
        assert!(session.contains(attribute), "{attribute} in {session}");
    }
    assert!(!session.contains("Secure"), "plain http on loopback: no Secure");
    let id = browser.cookies["frontegg_session"].clone();
    assert_eq!(id.len(), 43, "the cookie holds only a 256-bit id");
    assert!(done.set_cookie("frontegg_session_login").unwrap().contains("Max-Age=0"), "the login cookie is cleared");
    assert!(!browser.cookies.contains_key("frontegg_session_login"));

    // The page, and every route, with the cookie alone.
    let page = browser.get(&format!("{}/app", w.base)).await;
    assert_eq!(page.status, 200);
    for shown in ["Alice Example", "alice@example.com", "viewer"] {
        assert!(page.body.contains(shown), "{shown} on the page");
    }
    assert_eq!(browser.get(&format!("{}/reports", w.base)).await.status, 200);
    let me = browser.get(&format!("{}/me", w.base)).await.json();
    assert_eq!((me["sub"].as_str(), me["type"].as_str()), (Some("user-1"), Some("userToken")));
    assert_eq!(browser.get(&format!("{}/optional", w.base)).await.json()["authenticated"], true);
    // Rights are the token's: the viewer may not write, from the app's own origin.
    let origin = w.base.clone();
    let url = format!("{}/reports", w.base);
    let same_origin = browser.send(Method::POST, &url, &[("origin", &origin)], None).await;
    assert_eq!(same_origin.status, 403);
    assert_eq!(same_origin.json()["error"], "insufficient_scope");
    let fetch_metadata = browser.send(Method::POST, &url, &[("sec-fetch-site", "same-origin")], None).await;
    assert_eq!(fetch_metadata.json()["error"], "insufficient_scope");
    // A header credential is judged alone: a bad bearer beside a good cookie is a 401.
    let bad_bearer =
        browser.send(Method::GET, &format!("{}/me", w.base), &[("authorization", "Bearer x.y.z")], None).await;
    assert_eq!(bad_bearer.status, 401);
    assert_eq!(bad_bearer.json()["error"], "invalid_token");
    let bad_api_key = browser.send(Method::GET, &format!("{}/me", w.base), &[("x-api-key", "not-a-key")], None).await;
    assert_eq!(bad_api_key.status, 401, "a bad x-api-key beside a good cookie");

    // A new login gets a new id, and the session the browser had ends (no fixation).
    let again = browser.get(&format!("{}/auth/login?return_to=%2Fapp", w.base)).await;
    assert_eq!(again.status, 303);
    let callback = browser.sign_in(&again.location.unwrap(), "user-1", false).await;
    assert_eq!(browser.get(&callback).await.status, 303);
    assert_ne!(browser.cookies["frontegg_session"], id, "a new id at every login");
    let mut before =
        Browser { http: browser.http.clone(), cookies: [("frontegg_session".to_owned(), id.clone())].into() };
    let answer = before.get(&format!("{}/me", w.base)).await;
    assert_eq!(answer.status, 401, "the session of the earlier login is gone");
    assert!(answer.set_cookie("frontegg_session").unwrap().contains("Max-Age=0"));
    assert_eq!(browser.get(&format!("{}/me", w.base)).await.status, 200);

    // Logout: the session ends here, the cookie goes, the browser goes through Frontegg.
    let kept = browser.cookies.clone();
    let out = browser.get(&format!("{}/auth/logout", w.base)).await;
    assert_eq!(out.status, 303);
    let location = out.location.clone().unwrap();
    assert!(location.starts_with(&format!("{}/oauth/logout?", w.emulator.url())), "{location}");
    assert_eq!(query(&location)["post_logout_redirect_uri"], format!("{}/app", w.base));
    assert!(out.set_cookie("frontegg_session").unwrap().contains("Max-Age=0"));
    let back = browser.get(&location).await;
    assert_eq!((back.status, back.location.as_deref()), (302, Some(format!("{}/app", w.base).as_str())));
    assert_eq!(browser.get(&format!("{}/app", w.base)).await.status, 303, "sent to the login again");
    // The old cookie, replayed, names no session: no credential, and it is cleared.
    let mut replay = Browser { http: browser.http.clone(), cookies: kept };
    let me = replay.get(&format!("{}/me", w.base)).await;
    assert_eq!(me.status, 401);
    assert!(me.set_cookie("frontegg_session").unwrap().contains("Max-Age=0"));
    let mut replay = Browser { http: browser.http.clone(), cookies: [("frontegg_session".to_owned(), id)].into() };
    let optional = replay.get(&format!("{}/optional", w.base)).await;
    assert_eq!((optional.status, optional.json()), (200, json!({"authenticated": false})));
    assert!(optional.set_cookie("frontegg_session").unwrap().contains("Max-Age=0"));
    assert_eq!(w.emulator.calls(Endpoint::TokenCode), 2);
    assert_eq!(w.emulator.calls(Endpoint::TokenRefresh), 0);
}

/// Every login that must fail does, with a clear answer and no session.
async fn login_refusals<A: AppUnderTest>() {
    let w = world::<A>(|s| s).await;
    let no_session = |answer: &Answer, what: &str| {
        assert!(answer.set_cookie("frontegg_session").is_none(), "{what}: no session cookie");
    };
    // Open redirects: refused before Frontegg is even asked.
    for evil in ["//evil.example", "/\\evil.example", "https:evil.example", "https://evil.example/", "evil", "/a\tb"] {
        let mut browser = Browser::new();
        let encoded: String = url::form_urlencoded::byte_serialize(evil.as_bytes()).collect();
        let answer = browser.get(&format!("{}/auth/login?return_to={encoded}", w.base)).await;
        assert_eq!(answer.status, 400, "{evil}");
        assert_eq!(answer.json()["error"], "invalid_request", "{evil}");
        assert!(answer.location.is_none() && browser.cookies.is_empty(), "{evil}");
        // The logout ignores such a return path: the browser comes back to the default one.
        let out = browser.get(&format!("{}/auth/logout?return_to={encoded}", w.base)).await;
        assert_eq!(out.status, 303, "logout {evil}");
        let location = out.location.unwrap();
        assert_eq!(query(&location)["post_logout_redirect_uri"], format!("{}/app", w.base), "logout {evil}");
    }
    // A forged state.
    let mut browser = Browser::new();
    let authorize = browser.start_login(&w.base, "/app").await;
    let callback = browser.sign_in(&authorize, "user-1", false).await;
    let forged = callback.replace(&query(&callback)["state"], "forged-state-forged-state-forged-state-1234");
    let answer = browser.get(&forged).await;
    assert_eq!((answer.status, answer.json()["error"].as_str()), (400, Some("invalid_request")), "forged state");
    no_session(&answer, "forged state");
    // Another browser's state: the callback of A's login, in browser B.
    let mut a = Browser::new();
    let authorize = a.start_login(&w.base, "/app").await;
    let callback = a.sign_in(&authorize, "user-1", false).await;
    let mut b = Browser::new();
    let _ = b.start_login(&w.base, "/app").await;
    let answer = b.get(&callback).await;
    assert_eq!(answer.status, 400, "another browser's state");
    assert_eq!(answer.json()["error_description"], "The login's state does not match this browser's login");
    no_session(&answer, "another browser's state");
    // No login under way at all.
    let answer = Browser::new().get(&callback).await;
    assert_eq!(answer.status, 400);
    no_session(&answer, "no login under way");
    // A code used twice: the same browser replays its callback with its login cookie.
    let mut browser = Browser::new();
    let authorize = browser.start_login(&w.base, "/app").await;
    let callback = browser.sign_in(&authorize, "user-1", false).await;
    let login_cookie = browser.cookies.clone();
    assert_eq!(browser.get(&callback).await.status, 303);
    let mut replay = Browser { http: browser.http.clone(), cookies: login_cookie };
    let answer = replay.get(&callback).await;
    assert_eq!(answer.status, 400, "a code used twice: {}", answer.body);
    assert_eq!(answer.json()["error_description"], "Frontegg refused the login's code");
    no_session(&answer, "code reused");
    // A wrong PKCE verifier: A's state (and so A's verifier) with a code issued to B's challenge.
    let mut a = Browser::new();
    let authorize_a = a.start_login(&w.base, "/app").await;
    let mut b = Browser::new();
    let authorize_b = b.start_login(&w.base, "/app").await;
    let mixed = authorize_b.replace(&query(&authorize_b)["state"], &query(&authorize_a)["state"]);
    let callback = b.sign_in(&mixed, "user-1", false).await;
    let answer = a.get(&callback).await;
    assert_eq!(answer.status, 400, "a wrong verifier: {}", answer.body);
    assert_eq!(answer.json()["error_description"], "Frontegg refused the login's code");
    no_session(&answer, "wrong verifier");
    // A wrong nonce in the ID token.
    w.emulator.set_id_token_nonce(Some("not-this-login"));
    let mut browser = Browser::new();
    let authorize = browser.start_login(&w.base, "/app").await;
    let callback = browser.sign_in(&authorize, "user-1", false).await;
    let answer = browser.get(&callback).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["error_description"], "The ID token's nonce is not this login's");
    no_session(&answer, "wrong nonce");
    w.emulator.set_id_token_nonce(None);
    // ID tokens of another audience, issuer or user, expired, or without an issuer.
    let an_hour_ago = (std::time::SystemTime::now() - Duration::from_secs(3600))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for (what, claim, value) in [
        ("another audience", "aud", json!("another-client")),
        ("another issuer", "iss", json!("https://evil.example")),
        ("no issuer", "iss", Value::Null),
        ("another user", "sub", json!("admin-1")),
        ("expired", "exp", json!(an_hour_ago)),
    ] {
        w.emulator.set_id_token_claim(claim, value);
        let mut browser = Browser::new();
        let authorize = browser.start_login(&w.base, "/app").await;
        let callback = browser.sign_in(&authorize, "user-1", false).await;
        let answer = browser.get(&callback).await;
        assert_eq!(answer.status, 400, "{what}: {}", answer.body);
        let expected = if claim == "sub" {
            "The ID token and the access token name different users"
        } else {
            "The ID token from Frontegg does not verify"
        };
        assert_eq!(answer.json()["error_description"], expected, "{what}");
        no_session(&answer, what);
        w.emulator.clear_id_token_claims();
    }
    // Without an ID token, PKCE and state carry the flow.
    w.emulator.set_id_token_issued(false);
    let mut browser = Browser::new();
    browser.log_in(&w.base, "user-1").await;
    assert_eq!(browser.get(&format!("{}/me", w.base)).await.status, 200);
    w.emulator.set_id_token_issued(true);
    // Frontegg ending the login with an error.
    // Frontegg ending this browser's login with an error; another site cannot (no state).
    let mut browser = Browser::new();
    let state = query(&browser.start_login(&w.base, "/app").await)["state"].clone();
    let mut other = Browser { http: browser.http.clone(), cookies: browser.cookies.clone() };
    let forged = other.get(&format!("{}/auth/callback?error=access_denied&state=x", w.base)).await;
    assert_eq!(forged.status, 400, "an error without this login's state");
    let answer = browser.get(&format!("{}/auth/callback?error=access_denied&state={state}", w.base)).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.json()["error"], "access_denied");
    no_session(&answer, "error from Frontegg");
}

/// Cookies that name no session, and requests that must come from the app's origin.
async fn session_cookies<A: AppUnderTest>() {
    let w = world::<A>(|s| s).await;
    let mut browser = Browser::new();
    browser.log_in(&w.base, "user-1").await;
    let id = browser.cookies["frontegg_session"].clone();
    let me = format!("{}/me", w.base);
    // Tampered (one character changed), unknown (random), malformed: no credential, cleared.
    let flipped = format!("{}{}", if id.starts_with('A') { "B" } else { "A" }, &id[1..]);
    for (what, value) in [
        ("tampered", flipped),
        ("unknown", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned()),
        ("malformed", "not-a-session".to_owned()),
    ] {
        let mut other =
            Browser { http: browser.http.clone(), cookies: [("frontegg_session".to_owned(), value)].into() };
        let answer = other.get(&me).await;
        assert_eq!(answer.status, 401, "{what}");
        assert!(answer.set_cookie("frontegg_session").unwrap().contains("Max-Age=0"), "{what}: cleared");
        let page = other.get(&format!("{}/app", w.base)).await;
        assert_eq!(page.status, 303, "{what}: a page sends to the login");
        // A script's fetch of the page gets the 401: it could not follow the login's redirects.
        let fetched = other.send(Method::GET, &format!("{}/app", w.base), &[("sec-fetch-mode", "cors")], None).await;
        assert_eq!(fetched.status, 401, "{what}: fetched");
    }
    // Cross-site request forgery: an unsafe method with the cookie alone.
    let url = format!("{}/reports", w.base);
    for (what, headers) in [
        ("no origin headers", vec![]),
        ("another origin", vec![("origin", "http://evil.example")]),
        ("an opaque origin", vec![("origin", "null")]),
        (
            "another origin claiming same-origin",
            vec![("origin", "http://evil.example"), ("sec-fetch-site", "same-origin")],
        ),
        ("a cross-site fetch", vec![("sec-fetch-site", "cross-site")]),
        ("a same-site sibling", vec![("sec-fetch-site", "same-site")]),
    ] {
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            let answer = browser.send(method.clone(), &url, &headers, None).await;
            assert_eq!(answer.status, 403, "{what} {method}");
            assert_eq!(
                answer.json(),
                json!({"error": "access_denied", "error_description": "A request authenticated by the session cookie must come from the app's own origin"}),
                "{what}"
            );
        }
    }
    // A WebSocket handshake with the cookie alone is held to the same rule.
    let upgrade = [("connection", "upgrade"), ("upgrade", "websocket"), ("origin", "http://evil.example")];
    let answer = browser.send(Method::GET, &me, &upgrade, None).await;
    assert_eq!(answer.status, 403, "a cross-site WebSocket handshake");
    // A bearer token on an unsafe method is no cookie request: no origin needed.
    let writer = w.emulator.user_token().permissions(["reports.read", "reports.write"]).sign();
    let answer = browser.send(Method::POST, &url, &[("authorization", &format!("Bearer {writer}"))], None).await;
    assert_eq!(answer.status, 201);
    // The session still works after all that.
    assert_eq!(browser.get(&me).await.status, 200);
}

/// The idle and the absolute lifetimes end a session.
async fn session_lifetimes<A: AppUnderTest>() {
    let w = world::<A>(|s| s.idle_timeout(Duration::from_secs(2))).await;
    let mut browser = Browser::new();
    browser.log_in(&w.base, "user-1").await;
    let me = format!("{}/me", w.base);
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(900)).await;
        assert_eq!(browser.get(&me).await.status, 200, "activity keeps an idle session");
    }
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let answer = browser.get(&me).await;
    assert_eq!(answer.status, 401, "idle for longer than the idle lifetime");
    assert!(answer.set_cookie("frontegg_session").unwrap().contains("Max-Age=0"), "idle: cleared");

    let w = world::<A>(|s| s.absolute_timeout(Duration::from_secs(3))).await;
    let mut browser = Browser::new();
    browser.log_in(&w.base, "user-1").await;
    let me = format!("{}/me", w.base);
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_millis(2500) {
        assert_eq!(browser.get(&me).await.status, 200);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let answer = browser.get(&me).await;
    assert_eq!(answer.status, 401, "past the absolute lifetime, active or not");
    assert!(answer.set_cookie("frontegg_session").unwrap().contains("Max-Age=0"), "expired: cleared");
}

/// At the refresh edge, ten concurrent requests cause one refresh; a refresh failing with a 5xx
/// keeps the session (503, then 200); a refused refresh token ends it.
async fn refresh<A: AppUnderTest>() {
    let w = world::<A>(|s| s).await;
    w.emulator.set_login_token_lifetime(Duration::from_secs(3));
    let mut browser = Browser::new();
    browser.log_in(&w.base, "user-1").await;
    let me = format!("{}/me", w.base);
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let cookie = format!("frontegg_session={}", browser.cookies["frontegg_session"]);
    let requests = (0..10).map(|_| {
        let (http, me, cookie) = (browser.http.clone(), me.clone(), cookie.clone());
        tokio::spawn(async move { http.get(&me).header("cookie", cookie).send().await.unwrap().status().as_u16() })
    });
    for status in futures_util::future::join_all(requests).await {
        assert_eq!(status.unwrap(), 200);
    }
    assert_eq!(w.emulator.calls(Endpoint::TokenRefresh), 1, "ten concurrent requests, one refresh");

    // Frontegg answering 503: the expired token cannot serve; the session stays.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    w.emulator.set_token_endpoint_failure(Some(503));
    let answer = browser.get(&me).await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert_eq!(answer.json()["error"], "temporarily_unavailable");
    assert!(answer.set_cookie("frontegg_session").is_none(), "never a logout");
    assert_eq!(browser.get(&me).await.status, 503, "no second try right away: the failure is remembered 2 s");
    assert_eq!(w.emulator.calls(Endpoint::TokenRefresh), 2, "one failed refresh for both requests");
    w.emulator.set_token_endpoint_failure(None);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(browser.get(&me).await.status, 200, "the session survived the outage");

    // A refresh token Frontegg refuses ends the session.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    w.emulator.revoke_refresh_tokens();
    let answer = browser.get(&me).await;
    assert_eq!(answer.status, 401);
    assert!(answer.set_cookie("frontegg_session").unwrap().contains("Max-Age=0"));
}

/// Everything logged in this test binary, at every level, from every crate.
fn captured_logs() -> &'static std::sync::Mutex<Vec<u8>> {
    static LOGS: std::sync::OnceLock<&'static std::sync::Mutex<Vec<u8>>> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs: &'static std::sync::Mutex<Vec<u8>> = Box::leak(Box::new(std::sync::Mutex::new(Vec::new())));
        struct Sink(&'static std::sync::Mutex<Vec<u8>>);
        impl std::io::Write for Sink {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Sink(logs))
            .try_init()
            .expect("the only subscriber of this test binary");
        logs
    })
}

/// A login, a refresh, a refused refresh, a tampered cookie, a logout, with every log line kept:
/// none holds a token, a code, a state, the session id or the session key.
async fn logs_hold_no_secret<A: AppUnderTest>() {
    let logs = captured_logs();
    const KEY: &str = "5e2d4c3b2a19080706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a090";
    let w = world::<A>(|s| s.session_keys(KEY)).await;
    w.emulator.set_login_token_lifetime(Duration::from_secs(2));
    let mut browser = Browser::new();
    let authorize = browser.start_login(&w.base, "/app").await;
    let params = query(&authorize);
    let callback = browser.sign_in(&authorize, "user-1", false).await;
    let code = query(&callback)["code"].clone();
    assert_eq!(browser.get(&callback).await.status, 303);
    let id = browser.cookies["frontegg_session"].clone();
    let me = format!("{}/me", w.base);
    assert_eq!(browser.get(&me).await.status, 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(browser.get(&me).await.status, 200, "refreshed");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    w.emulator.set_token_endpoint_failure(Some(503));
    assert_eq!(browser.get(&me).await.status, 503);
    w.emulator.set_token_endpoint_failure(None);
    let mut other =
        Browser { http: browser.http.clone(), cookies: [("frontegg_session".to_owned(), format!("{id}x"))].into() };
    assert_eq!(other.get(&me).await.status, 401);
    assert_eq!(browser.get(&format!("{}/auth/logout", w.base)).await.status, 303);
    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(logged.contains("refresh"), "the capture works: {logged}");
    // The PKCE verifier and both refresh tokens (the login's, the refresh's).
    let exchanged = w.emulator.token_endpoint_secrets();
    assert_eq!(exchanged.len(), 3, "one verifier and two refresh tokens");
    for secret in &exchanged {
        assert!(!logged.contains(secret.as_str()), "a refresh token or the PKCE verifier in the logs");
    }
    for (what, secret) in [
        ("a JWT", "eyJ"),
        ("the code", code.as_str()),
        ("the state", params["state"].as_str()),
        ("the nonce", params["nonce"].as_str()),
        ("the challenge", params["code_challenge"].as_str()),
        ("the session id", id.as_str()),
        ("the session key", KEY),
        ("the API key", w.emulator.api_key().expose()),
    ] {
        assert!(!logged.contains(secret), "{what} in the logs");
    }
}

apps::both_apps!(login_flow, login_refusals, session_cookies, session_lifetimes, refresh, logs_hold_no_secret,);
