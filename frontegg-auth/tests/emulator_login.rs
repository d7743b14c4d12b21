//! The emulator's hosted login over real TCP: the sign-in page submitted like a browser, the
//! code grant with PKCE under both path spellings and every client authentication, the refusals
//! (`invalid_grant`, `invalid_client`, malformed requests), refresh rotation, MFA claims, the
//! id_token and its knobs, the failure knob, logout and the counters.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use frontegg_auth::testing::{ClientAuthentication, Emulator, Endpoint, LoginUser};
use frontegg_auth::{Credential, CredentialKind, Identity, MFA_ACR, Requirement};
use reqwest::StatusCode;
use serde_json::{Value, json};

const REDIRECT_URI: &str = "http://app.example/oauth/callback?from=test";
const FORM: &str = "application/x-www-form-urlencoded";

/// A client that shows redirects instead of following them, as the test needs to read them.
fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// A PKCE pair: a verifier and its S256 challenge.
fn pkce() -> (String, String) {
    let verifier = format!("verifier-{:032x}-{:016x}", fastrand::u128(..), fastrand::u64(..));
    let challenge = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()));
    (verifier, challenge)
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// The form holding the button `button_id`: its action and the fields a browser submits.
fn form_of(page: &str, button_id: &str) -> (String, Vec<(String, String)>) {
    let forms = regex::Regex::new(r#"(?s)<form method="post" action="([^"]*)">(.*?)</form>"#).unwrap();
    let hidden = regex::Regex::new(r#"<input type="hidden" name="([^"]*)" value="([^"]*)">"#).unwrap();
    let needle = format!("id=\"{button_id}\"");
    let form =
        forms.captures_iter(page).find(|c| unescape(&c[2]).contains(&needle)).unwrap_or_else(|| panic!("no {needle}"));
    let fields = hidden.captures_iter(&form[2]).map(|c| (unescape(&c[1]), unescape(&c[2]))).collect();
    (unescape(&form[1]), fields)
}

/// The authorize query of a PKCE login with `state` and `nonce`.
fn authorize_query(emulator: &Emulator, challenge: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", emulator.client_id().into()),
        ("redirect_uri", REDIRECT_URI.into()),
        ("scope", "openid email profile".into()),
        ("state", "state-1".into()),
        ("nonce", "nonce-1".into()),
        ("code_challenge", challenge.into()),
        ("code_challenge_method", "S256".into()),
    ]
}

async fn page(emulator: &Emulator, prefix: &str, query: &[(&str, String)]) -> reqwest::Response {
    let pairs: Vec<(&str, &str)> = query.iter().map(|(n, v)| (*n, v.as_str())).collect();
    http().get(format!("{}{prefix}/oauth/authorize?{}", emulator.url(), form(&pairs))).send().await.unwrap()
}

/// Opens the sign-in page, clicks `button_id` like a browser, and returns the redirect.
async fn sign_in(emulator: &Emulator, prefix: &str, query: &[(&str, String)], button_id: &str) -> url::Url {
    let response = page(emulator, prefix, query).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
    let html = response.text().await.unwrap();
    assert!(html.contains("<title>Sign in</title>"));
    let (action, fields) = form_of(&html, button_id);
    assert_eq!(action, format!("{prefix}/oauth/authorize"));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let response = http()
        .post(format!("{}{action}", emulator.url()))
        .header("content-type", FORM)
        .body(form(&fields))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap()
}

fn param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(n, _)| n == name).map(|(_, v)| v.into_owned())
}

/// A PKCE login of `button_id`: the code and its verifier.
async fn login_code(emulator: &Emulator, prefix: &str, button_id: &str) -> (String, String) {
    let (verifier, challenge) = pkce();
    let location = sign_in(emulator, prefix, &authorize_query(emulator, &challenge), button_id).await;
    (param(&location, "code").unwrap(), verifier)
}

#[derive(Clone, Copy)]
enum Client {
    Basic,
    Body,
    Public,
}

/// `POST /oauth/token` with `params`, the client authenticated as `client`, as JSON or a form.
async fn token(
    emulator: &Emulator,
    prefix: &str,
    client: Client,
    params: &[(&str, &str)],
    json: bool,
) -> reqwest::Response {
    let mut params: Vec<(&str, &str)> = params.to_vec();
    let api_key = emulator.api_key().expose().to_owned();
    let mut request = http().post(format!("{}{prefix}/oauth/token", emulator.url()));
    match client {
        Client::Basic => request = request.basic_auth(emulator.client_id(), Some(&api_key)),
        Client::Body => params.extend([("client_id", emulator.client_id()), ("client_secret", api_key.as_str())]),
        Client::Public => {}
    }
    request = if json {
        let object: serde_json::Map<String, Value> = params.iter().map(|(n, v)| ((*n).to_owned(), json!(v))).collect();
        request.json(&object)
    } else {
        request.header("content-type", FORM).body(form(&params))
    };
    request.send().await.unwrap()
}

async fn exchange(emulator: &Emulator, client: Client, code: &str, verifier: &str) -> reqwest::Response {
    let params = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier),
    ];
    token(emulator, "", client, &params, false).await
}

async fn refresh(emulator: &Emulator, refresh_token: &str) -> reqwest::Response {
    token(emulator, "", Client::Basic, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)], true).await
}

async fn ok_json(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn refused(response: reqwest::Response, status: StatusCode, error: &str) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string());
}

async fn identity(emulator: &Emulator, access_token: &str) -> Identity {
    emulator.authenticator().authenticate(&Credential::new(CredentialKind::Bearer, access_token)).await.unwrap()
}

#[tokio::test]
async fn a_pkce_login_through_the_page_gives_a_valid_user_token_an_id_token_and_a_refresh_token() {
    let emulator = Emulator::start().await;
    let (verifier, challenge) = pkce();
    let query = authorize_query(&emulator, &challenge);

    let html = page(&emulator, "", &query).await.text().await.unwrap();
    let buttons: Vec<&str> = html.match_indices("<button").map(|(i, _)| &html[i..]).collect();
    let ids: Vec<&str> = buttons.iter().map(|b| b.split('"').nth(3).unwrap()).collect();
    assert_eq!(ids, ["login-user-1", "login-user-1-mfa", "login-admin-1", "login-admin-1-mfa"]);
    assert!(html.contains(r#"id="login-user-1">Sign in as alice@example.com</button>"#));
    assert!(html.contains(r#"id="login-admin-1-mfa">Sign in as admin@example.com with MFA</button>"#));
    let (_, fields) = form_of(&html, "login-user-1-mfa");
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["request", "user", "mfa"]);

    let location = sign_in(&emulator, "", &query, "login-user-1").await;
    assert_eq!(location.as_str().split('?').next(), Some("http://app.example/oauth/callback"));
    assert_eq!(param(&location, "from").as_deref(), Some("test"), "the redirect_uri's own query is kept");
    assert_eq!(param(&location, "state").as_deref(), Some("state-1"));
    let code = param(&location, "code").unwrap();

    let response = exchange(&emulator, Client::Basic, &code, &verifier).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = ok_json(response).await;
    assert_eq!(emulator.last_client_authentication(), Some(ClientAuthentication::Basic));
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    let refresh_token = body["refresh_token"].as_str().unwrap();
    assert_eq!(refresh_token.len(), 43);

    let access_token = body["access_token"].as_str().unwrap();
    let user = identity(&emulator, access_token).await;
    assert_eq!(user.sub(), "user-1");
    assert_eq!(user.tenant_id(), Some("tenant-1"));
    assert_eq!(user.tenant_ids(), ["tenant-1"]);
    assert_eq!(user.roles(), ["viewer"]);
    assert_eq!(user.permissions(), ["reports.read"]);
    assert_eq!(user.email(), Some("alice@example.com"));
    assert_eq!(user.name(), Some("Alice Example"));
    let sid = user.sid().unwrap().to_owned();
    assert_eq!(sid.len(), 36, "a UUID");
    let access = claims(access_token);
    assert_eq!(access["type"], "userToken");
    assert_eq!(access["iss"], emulator.url());
    assert_eq!(access["aud"], emulator.client_id());
    assert!(access.get("acr").is_none() && access.get("amr").is_none() && access.get("auth_time").is_none());
    assert!((access["iat"].as_i64().unwrap() - now()).abs() <= 5);

    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["iss"], emulator.url());
    assert_eq!(id["aud"], emulator.client_id());
    assert_eq!(id["sub"], "user-1");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["name"], "Alice Example");
    assert_eq!(id["sid"], sid.as_str());
    assert_eq!(id["nonce"], "nonce-1");
    assert_eq!(id["exp"], access["exp"]);
    assert!(id.get("type").is_none());

    assert_eq!(emulator.calls(Endpoint::Authorize), 2);
    assert_eq!(emulator.calls(Endpoint::TokenCode), 1);
    assert_eq!(emulator.calls(Endpoint::TokenRefresh), 0);
    assert_eq!(emulator.calls(Endpoint::Logout), 0);
}

#[tokio::test]
async fn the_prefixed_paths_and_a_json_body_with_the_secret_in_it_work_the_same() {
    let emulator = Emulator::start().await;
    let (verifier, challenge) = pkce();
    // A challenge without a method is S256.
    let mut query = authorize_query(&emulator, &challenge);
    query.retain(|(n, _)| *n != "code_challenge_method");
    let location = sign_in(&emulator, "/frontegg", &query, "login-admin-1").await;
    let code = param(&location, "code").unwrap();
    let params = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier.as_str()),
    ];
    let body = ok_json(token(&emulator, "/frontegg", Client::Body, &params, true).await).await;
    assert_eq!(emulator.last_client_authentication(), Some(ClientAuthentication::Body));
    let admin = identity(&emulator, body["access_token"].as_str().unwrap()).await;
    assert_eq!(admin.sub(), "admin-1");
    assert_eq!(admin.roles(), ["admin"]);
    assert_eq!(admin.permissions(), ["reports.read", "reports.write"]);

    // The refresh grant answers under the prefix too, with a form body.
    let refresh_token = body["refresh_token"].as_str().unwrap();
    let params = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
    ok_json(token(&emulator, "/frontegg", Client::Basic, &params, false).await).await;
    assert_eq!((emulator.calls(Endpoint::TokenCode), emulator.calls(Endpoint::TokenRefresh)), (1, 1));
}

#[tokio::test]
async fn a_public_client_needs_pkce_and_a_wrong_client_pair_is_invalid_client() {
    let emulator = Emulator::start().await;
    let (code, verifier) = login_code(&emulator, "", "login-user-1").await;
    let body = ok_json(exchange(&emulator, Client::Public, &code, &verifier).await).await;
    assert_eq!(emulator.last_client_authentication(), Some(ClientAuthentication::None));

    // No refresh without client authentication.
    let params = [("grant_type", "refresh_token"), ("refresh_token", body["refresh_token"].as_str().unwrap())];
    refused(token(&emulator, "", Client::Public, &params, true).await, StatusCode::UNAUTHORIZED, "invalid_client")
        .await;

    // A code issued without a challenge needs a confidential client.
    let mut query = authorize_query(&emulator, "");
    query.retain(|(n, _)| !n.starts_with("code_challenge"));
    let location = sign_in(&emulator, "", &query, "login-user-1").await;
    let code = param(&location, "code").unwrap();
    let params = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", REDIRECT_URI)];
    refused(token(&emulator, "", Client::Public, &params, false).await, StatusCode::UNAUTHORIZED, "invalid_client")
        .await;
    // ...and that attempt used the code up.
    refused(token(&emulator, "", Client::Basic, &params, false).await, StatusCode::BAD_REQUEST, "invalid_grant").await;

    // A wrong pair is refused before the code is looked at: the code still works afterwards.
    let location = sign_in(&emulator, "", &query, "login-user-1").await;
    let code = param(&location, "code").unwrap();
    let params = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", REDIRECT_URI)];
    let url = format!("{}/oauth/token", emulator.url());
    let wrong_basic = http()
        .post(&url)
        .basic_auth(emulator.client_id(), Some("not-the-api-key"))
        .header("content-type", FORM)
        .body(form(&params))
        .send()
        .await
        .unwrap();
    assert!(wrong_basic.headers().contains_key("www-authenticate"));
    refused(wrong_basic, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let mut wrong_body = params.to_vec();
    wrong_body.extend([("client_id", "someone-else"), ("client_secret", "not-the-api-key")]);
    let response = http().post(&url).header("content-type", FORM).body(form(&wrong_body)).send().await.unwrap();
    refused(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    assert_eq!(emulator.last_client_authentication(), Some(ClientAuthentication::Body));
    let body = ok_json(token(&emulator, "", Client::Basic, &params, false).await).await;
    identity(&emulator, body["access_token"].as_str().unwrap()).await;
}

#[tokio::test]
async fn a_wrong_verifier_a_reused_code_and_a_wrong_redirect_uri_are_invalid_grant() {
    let emulator = Emulator::start().await;

    let (code, verifier) = login_code(&emulator, "", "login-user-1").await;
    refused(
        exchange(&emulator, Client::Basic, &code, "a-wrong-verifier").await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    // The failed attempt consumed the code: the right verifier is too late.
    refused(exchange(&emulator, Client::Basic, &code, &verifier).await, StatusCode::BAD_REQUEST, "invalid_grant").await;

    let (code, verifier) = login_code(&emulator, "", "login-user-1").await;
    ok_json(exchange(&emulator, Client::Public, &code, &verifier).await).await;
    refused(exchange(&emulator, Client::Public, &code, &verifier).await, StatusCode::BAD_REQUEST, "invalid_grant")
        .await;

    let (code, verifier) = login_code(&emulator, "", "login-user-1").await;
    let params = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "http://app.example/oauth/callback"),
        ("code_verifier", verifier.as_str()),
    ];
    refused(token(&emulator, "", Client::Basic, &params, false).await, StatusCode::BAD_REQUEST, "invalid_grant").await;

    // A challenge needs its verifier, even from a confidential client.
    let (code, _) = login_code(&emulator, "", "login-user-1").await;
    let params = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", REDIRECT_URI)];
    refused(token(&emulator, "", Client::Basic, &params, false).await, StatusCode::BAD_REQUEST, "invalid_grant").await;

    // A verifier for a code issued without a challenge is a downgrade.
    let mut query = authorize_query(&emulator, "");
    query.retain(|(n, _)| !n.starts_with("code_challenge"));
    let location = sign_in(&emulator, "", &query, "login-user-1").await;
    let code = param(&location, "code").unwrap();
    refused(exchange(&emulator, Client::Basic, &code, "some-verifier").await, StatusCode::BAD_REQUEST, "invalid_grant")
        .await;

    refused(exchange(&emulator, Client::Basic, "never-issued", "v").await, StatusCode::BAD_REQUEST, "invalid_grant")
        .await;
    assert_eq!(emulator.calls(Endpoint::TokenCode), 8);
}

#[tokio::test]
async fn an_mfa_login_carries_the_step_up_claims_and_refresh_rotates_and_drops_them() {
    let emulator = Emulator::start().await;
    let (code, verifier) = login_code(&emulator, "", "login-user-1-mfa").await;
    let first = ok_json(exchange(&emulator, Client::Basic, &code, &verifier).await).await;
    let access = claims(first["access_token"].as_str().unwrap());
    assert_eq!(access["acr"], MFA_ACR);
    assert_eq!(access["amr"], json!(["mfa", "otp"]));
    assert!((access["auth_time"].as_i64().unwrap() - now()).abs() <= 5);
    let id = claims(first["id_token"].as_str().unwrap());
    assert_eq!((&id["acr"], &id["amr"], &id["auth_time"]), (&access["acr"], &access["amr"], &access["auth_time"]));
    let stepped_up = identity(&emulator, first["access_token"].as_str().unwrap()).await;
    stepped_up.satisfies(&Requirement::step_up_within(Duration::from_secs(300))).unwrap();
    let sid = stepped_up.sid().unwrap().to_owned();

    let old = first["refresh_token"].as_str().unwrap();
    let second = ok_json(refresh(&emulator, old).await).await;
    let new = second["refresh_token"].as_str().unwrap();
    assert_ne!(new, old);
    assert_eq!(second["token_type"], "Bearer");
    assert_eq!(second["expires_in"], 600);
    let refreshed = identity(&emulator, second["access_token"].as_str().unwrap()).await;
    assert_eq!(refreshed.sub(), "user-1");
    assert_eq!(refreshed.tenant_id(), Some("tenant-1"));
    assert_eq!(refreshed.roles(), ["viewer"]);
    assert_eq!(refreshed.permissions(), ["reports.read"]);
    assert_eq!(refreshed.sid(), Some(sid.as_str()), "the session id survives refreshes");
    assert!(refreshed.satisfies(&Requirement::step_up_within(Duration::from_secs(300))).is_err());
    let access = claims(second["access_token"].as_str().unwrap());
    assert!(access.get("acr").is_none() && access.get("amr").is_none() && access.get("auth_time").is_none());
    // The refresh's id_token: same session, no nonce, no step-up.
    let id = claims(second["id_token"].as_str().unwrap());
    assert_eq!(id["sid"], sid.as_str());
    assert!(id.get("nonce").is_none() && id.get("acr").is_none());

    refused(refresh(&emulator, old).await, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let third = ok_json(refresh(&emulator, new).await).await;
    assert_eq!(claims(third["access_token"].as_str().unwrap())["sid"], sid.as_str());
    assert_eq!(emulator.calls(Endpoint::TokenRefresh), 3);

    emulator.revoke_refresh_tokens();
    refused(
        refresh(&emulator, third["refresh_token"].as_str().unwrap()).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    let (code, verifier) = login_code(&emulator, "", "login-user-1").await;
    let fresh = ok_json(exchange(&emulator, Client::Basic, &code, &verifier).await).await;
    assert_ne!(claims(fresh["access_token"].as_str().unwrap())["sid"], sid.as_str(), "a new login, a new session");
    ok_json(refresh(&emulator, fresh["refresh_token"].as_str().unwrap()).await).await;
}

#[tokio::test]
async fn the_id_token_nonce_and_its_knobs() {
    let emulator = Emulator::start().await;
    async fn login(emulator: &Emulator, nonce: bool) -> Value {
        let (verifier, challenge) = pkce();
        let mut query = authorize_query(emulator, &challenge);
        if !nonce {
            query.retain(|(n, _)| *n != "nonce");
        }
        let location = sign_in(emulator, "", &query, "login-user-1").await;
        let code = param(&location, "code").unwrap();
        ok_json(exchange(emulator, Client::Basic, &code, &verifier).await).await
    }
    let id_token = |body: &Value| claims(body["id_token"].as_str().unwrap());

    assert_eq!(id_token(&login(&emulator, true).await)["nonce"], "nonce-1");
    assert!(id_token(&login(&emulator, false).await).get("nonce").is_none());
    emulator.set_id_token_nonce(Some("a-wrong-nonce"));
    assert_eq!(id_token(&login(&emulator, true).await)["nonce"], "a-wrong-nonce");
    assert_eq!(id_token(&login(&emulator, false).await)["nonce"], "a-wrong-nonce");
    emulator.set_id_token_nonce(None);
    assert_eq!(id_token(&login(&emulator, true).await)["nonce"], "nonce-1");

    emulator.set_id_token_issued(false);
    let body = login(&emulator, true).await;
    assert!(body.get("id_token").is_none());
    let refreshed = ok_json(refresh(&emulator, body["refresh_token"].as_str().unwrap()).await).await;
    assert!(refreshed.get("id_token").is_none());
    emulator.set_id_token_issued(true);
    assert!(login(&emulator, true).await["id_token"].is_string());
}

#[tokio::test]
async fn the_login_token_lifetime_sets_expires_in_and_exp() {
    let emulator = Emulator::start().await;
    let lifetime = |body: &Value, name: &str| {
        let c = claims(body[name].as_str().unwrap());
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap()
    };
    let (code, verifier) = login_code(&emulator, "", "login-user-1").await;
    let body = ok_json(exchange(&emulator, Client::Basic, &code, &verifier).await).await;
    assert_eq!((lifetime(&body, "access_token"), lifetime(&body, "id_token")), (600, 600));

    emulator.set_login_token_lifetime(Duration::from_secs(120));
    let (code, verifier) = login_code(&emulator, "", "login-user-1").await;
    let body = ok_json(exchange(&emulator, Client::Basic, &code, &verifier).await).await;
    assert_eq!(body["expires_in"], 120);
    assert_eq!((lifetime(&body, "access_token"), lifetime(&body, "id_token")), (120, 120));
    let refreshed = ok_json(refresh(&emulator, body["refresh_token"].as_str().unwrap()).await).await;
    assert_eq!(refreshed["expires_in"], 120);
    assert_eq!(lifetime(&refreshed, "access_token"), 120);
}

#[tokio::test]
async fn a_failing_token_endpoint_consumes_neither_codes_nor_refresh_tokens() {
    let emulator = Emulator::start().await;
    let (code, verifier) = login_code(&emulator, "", "login-user-1").await;
    emulator.set_token_endpoint_failure(Some(503));
    refused(
        exchange(&emulator, Client::Basic, &code, &verifier).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
    )
    .await;
    refused(
        exchange(&emulator, Client::Public, &code, &verifier).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
    )
    .await;
    // A malformed call fails the same way.
    let url = format!("{}/oauth/token", emulator.url());
    let malformed = http().post(url).header("content-type", "application/json").body("{not json").send().await.unwrap();
    refused(malformed, StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable").await;
    assert_eq!(emulator.last_client_authentication(), Some(ClientAuthentication::None));
    emulator.set_token_endpoint_failure(None);
    let body = ok_json(exchange(&emulator, Client::Basic, &code, &verifier).await).await;

    let refresh_token = body["refresh_token"].as_str().unwrap();
    emulator.set_token_endpoint_failure(Some(500));
    refused(refresh(&emulator, refresh_token).await, StatusCode::INTERNAL_SERVER_ERROR, "server_error").await;
    emulator.set_token_endpoint_failure(Some(400));
    refused(refresh(&emulator, refresh_token).await, StatusCode::BAD_REQUEST, "invalid_grant").await;
    emulator.set_token_endpoint_failure(None);
    ok_json(refresh(&emulator, refresh_token).await).await;
    assert_eq!((emulator.calls(Endpoint::TokenCode), emulator.calls(Endpoint::TokenRefresh)), (3, 3));
}

#[tokio::test]
async fn logout_redirects_to_an_absolute_url_and_otherwise_says_signed_out() {
    let emulator = Emulator::start().await;
    for prefix in ["", "/frontegg"] {
        let target = "http://app.example/signed-out?x=1";
        let url = format!("{}{prefix}/oauth/logout?{}", emulator.url(), form(&[("post_logout_redirect_uri", target)]));
        let response = http().get(url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(response.headers()["location"], target);
    }
    for query in ["", "?post_logout_redirect_uri=%2Frelative", "?post_logout_redirect_uri=javascript%3Aalert(1)"] {
        let response = http().get(format!("{}/oauth/logout{query}", emulator.url())).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().get("location").is_none());
        assert!(response.text().await.unwrap().contains("Signed out"));
    }
    assert_eq!(emulator.calls(Endpoint::Logout), 5);
    emulator.reset_calls();
    assert_eq!(emulator.calls(Endpoint::Logout), 0);
}

#[tokio::test]
async fn malformed_requests_get_a_400_json_error_never_a_redirect_or_a_panic() {
    let emulator = Emulator::start().await;
    let (_, challenge) = pkce();
    let base = authorize_query(&emulator, &challenge);
    let with = |name: &'static str, value: Option<&str>| {
        let mut query: Vec<(&str, String)> = base.iter().filter(|(n, _)| *n != name).cloned().collect();
        if let Some(value) = value {
            query.push((name, value.to_owned()));
        }
        query
    };
    let cases = [
        (with("response_type", None), "invalid_request"),
        (with("response_type", Some("token")), "unsupported_response_type"),
        (with("client_id", None), "invalid_request"),
        (with("client_id", Some("someone-else")), "unauthorized_client"),
        (with("redirect_uri", None), "invalid_request"),
        (with("redirect_uri", Some("/oauth/callback")), "invalid_request"),
        (with("redirect_uri", Some("javascript:alert(1)")), "invalid_request"),
        (with("redirect_uri", Some("http://app.example/cb#fragment")), "invalid_request"),
        (with("code_challenge_method", Some("plain")), "invalid_request"),
        (with("code_challenge", None), "invalid_request"),
        ([base.clone(), vec![("state", "again".to_owned())]].concat(), "invalid_request"),
    ];
    for (query, error) in cases {
        refused(page(&emulator, "", &query).await, StatusCode::BAD_REQUEST, error).await;
    }
    assert_eq!(emulator.calls(Endpoint::Authorize), 11);

    // An application id is a client id of the authorize request; the token endpoint still
    // takes the environment's pair.
    emulator.set_application_id(Some("app-1"));
    let (verifier, challenge) = pkce();
    let mut query = authorize_query(&emulator, &challenge);
    query.retain(|(n, _)| *n != "client_id");
    query.push(("client_id", "app-1".to_owned()));
    let location = sign_in(&emulator, "", &query, "login-user-1").await;
    let code = param(&location, "code").unwrap();
    ok_json(exchange(&emulator, Client::Basic, &code, &verifier).await).await;
    emulator.set_application_id(None);
    refused(page(&emulator, "", &query).await, StatusCode::BAD_REQUEST, "unauthorized_client").await;

    let post = |path: &str, content_type: &str, body: Vec<u8>| {
        http().post(format!("{}{path}", emulator.url())).header("content-type", content_type).body(body).send()
    };
    // The page's form with an unknown request, an unknown user, a bad flag.
    let html = page(&emulator, "", &base).await.text().await.unwrap();
    let (_, fields) = form_of(&html, "login-user-1");
    let request = &fields[0].1;
    for body in [
        form(&[("request", "never-served"), ("user", "user-1")]),
        form(&[("request", request), ("user", "nobody")]),
        form(&[("request", request), ("user", "user-1"), ("mfa", "maybe")]),
        form(&[("user", "user-1")]),
        String::new(),
    ] {
        refused(
            post("/oauth/authorize", FORM, body.into_bytes()).await.unwrap(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        )
        .await;
    }

    // Token requests.
    let basic = |body: Vec<u8>, content_type: &'static str| {
        let api_key = emulator.api_key().expose().to_owned();
        http()
            .post(format!("{}/oauth/token", emulator.url()))
            .basic_auth(emulator.client_id(), Some(api_key))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let json_type = "application/json";
    for (body, content_type, error) in [
        (b"{not json".to_vec(), json_type, "invalid_request"),
        (br#"["an", "array"]"#.to_vec(), json_type, "invalid_request"),
        (br#"{"grant_type": 7}"#.to_vec(), json_type, "invalid_request"),
        (b"{}".to_vec(), json_type, "invalid_request"),
        (b"grant_type=password&username=a&password=b".to_vec(), FORM, "unsupported_grant_type"),
        (b"grant_type=authorization_code".to_vec(), FORM, "invalid_request"),
        (b"grant_type=refresh_token".to_vec(), FORM, "invalid_request"),
        (b"grant_type=refresh_token&grant_type=refresh_token".to_vec(), FORM, "invalid_request"),
        (vec![0xff, 0xfe, b'=', 0x80], FORM, "invalid_request"),
    ] {
        refused(basic(body, content_type).await.unwrap(), StatusCode::BAD_REQUEST, error).await;
    }
    // Basic and a body secret at once, and a Basic header that is not base64.
    let both = form(&[("grant_type", "refresh_token"), ("refresh_token", "x"), ("client_secret", "s")]);
    refused(basic(both.into_bytes(), FORM).await.unwrap(), StatusCode::BAD_REQUEST, "invalid_request").await;
    let garbled = http()
        .post(format!("{}/oauth/token", emulator.url()))
        .header("authorization", "Basic %%%not-base64")
        .header("content-type", FORM)
        .body("grant_type=refresh_token&refresh_token=x")
        .send()
        .await
        .unwrap();
    refused(garbled, StatusCode::UNAUTHORIZED, "invalid_client").await;

    let unknown = http().get(format!("{}/frontegg/oauth/nothing-here", emulator.url())).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let wrong_method = http().get(format!("{}/oauth/token", emulator.url())).send().await.unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    // The emulator still answers.
    refused(exchange(&emulator, Client::Basic, "x", "y").await, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn added_login_users_are_listed_in_order_escaped_and_replaced_by_id() {
    let emulator = Emulator::start().await;
    emulator.add_login_user(
        LoginUser::new("bob-<2>", "bob\"&<script>@example.com").name("Bob").tenant("tenant-2").roles(["editor"]),
    );
    emulator.add_login_user(LoginUser::new("carol-3", "carol@example.com"));
    emulator.add_login_user(LoginUser { roles: vec!["owner".into()], ..LoginUser::alice() });
    let ids: Vec<String> = emulator.login_users().into_iter().map(|u| u.id).collect();
    assert_eq!(ids, ["user-1", "admin-1", "bob-<2>", "carol-3"]);

    let (_, challenge) = pkce();
    let html = page(&emulator, "", &authorize_query(&emulator, &challenge)).await.text().await.unwrap();
    assert!(!html.contains("<script>") && !html.contains("bob-<2>"));
    assert!(html.contains(
        r#"id="login-bob-&lt;2&gt;-mfa">Sign in as bob&quot;&amp;&lt;script&gt;@example.com with MFA</button>"#
    ));
    let order: Vec<usize> = ["login-user-1\"", "login-admin-1\"", "login-bob-&lt;2&gt;\"", "login-carol-3\""]
        .iter()
        .map(|id| html.find(id).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");

    let (code, verifier) = login_code(&emulator, "", "login-bob-<2>").await;
    let body = ok_json(exchange(&emulator, Client::Basic, &code, &verifier).await).await;
    let bob = identity(&emulator, body["access_token"].as_str().unwrap()).await;
    assert_eq!((bob.sub(), bob.tenant_id(), bob.roles()), ("bob-<2>", Some("tenant-2"), &["editor".to_owned()][..]));
    assert_eq!(bob.email(), Some("bob\"&<script>@example.com"));

    // Replacing a user changes what their next refresh carries.
    let (code, verifier) = login_code(&emulator, "", "login-user-1").await;
    let body = ok_json(exchange(&emulator, Client::Basic, &code, &verifier).await).await;
    assert_eq!(identity(&emulator, body["access_token"].as_str().unwrap()).await.roles(), ["owner"]);
    emulator.add_login_user(LoginUser::alice());
    let refreshed = ok_json(refresh(&emulator, body["refresh_token"].as_str().unwrap()).await).await;
    assert_eq!(identity(&emulator, refreshed["access_token"].as_str().unwrap()).await.roles(), ["viewer"]);
}

#[tokio::test]
async fn no_secret_reaches_a_debug_string() {
    let emulator = Emulator::start().await;
    let (code, verifier) = login_code(&emulator, "", "login-user-1").await;
    let body = ok_json(exchange(&emulator, Client::Basic, &code, &verifier).await).await;
    let refresh_token = body["refresh_token"].as_str().unwrap();
    let debug = format!(
        "{emulator:?} {:?} {:?} {:?}",
        emulator.login_users(),
        emulator.last_client_authentication(),
        LoginUser::admin()
    );
    for secret in [refresh_token, code.as_str(), verifier.as_str(), emulator.api_key().expose()] {
        assert!(!debug.contains(secret), "{debug}");
    }
}
