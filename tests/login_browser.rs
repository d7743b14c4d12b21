//! The hosted login in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, installed by `tests/run`) driven over WebDriver through both example apps
//! and the emulator's hosted login. It fails, never skips, when the browser cannot start.

use std::sync::Arc;
use std::time::Duration;

use frontegg_auth::testing::{Emulator, Endpoint};
use frontegg_auth::{Authenticator, LoginSettings};

mod apps;
mod browser;

use apps::{Actix, AppUnderTest, Axum};
use browser::Browser;

/// How long the emulator's access tokens live in this test: short, so that a reload after it
/// needs a refresh.
/// Long enough for a loaded CI machine to log in and load the page before the refresh edge.
const TOKEN_LIFETIME: Duration = Duration::from_secs(8);

/// Open `/app`, land on the emulator's sign-in page, click a user, land back on `/app` showing
/// that user, call `/reports` from the page, reload after the access token expired (still
/// logged in, after exactly one refresh), log out, and be sent to the login again on `/app`.
async fn a_browser_logs_in_refreshes_and_logs_out<A: AppUnderTest>() {
    let emulator = Arc::new(Emulator::start().await);
    emulator.set_login_token_lifetime(TOKEN_LIFETIME);
    let configured = emulator.clone();
    let (base, _app) = A::start_with(move |base| {
        let login = LoginSettings::builder(base).default_return_to("/app").build().unwrap();
        Authenticator::new(configured.config().hosted_login(login).build().unwrap()).unwrap()
    })
    .await;
    let browser = Browser::start().await;
    let on_sign_in_page = |url: &str| url.starts_with(&format!("{}/oauth/authorize?", emulator.url()));

    browser.goto(&format!("{base}/app")).await;
    browser.wait_for_url("the emulator's sign-in page", on_sign_in_page).await;
    browser.click("#login-user-1").await;
    browser.wait_for_url("back on /app", |url| url == format!("{base}/app")).await;
    browser.wait_for_text("#name", "Alice Example").await;
    assert_eq!(browser.text("#email").await, "alice@example.com");
    assert_eq!(browser.text("#roles").await, "viewer");
    let cookies = browser.cookies().await;
    let session = cookies.iter().find(|c| c.name() == "frontegg_session").expect("the session cookie");
    assert_eq!(session.value().len(), 43, "only an id");
    assert_eq!(session.http_only(), Some(true));
    assert_eq!(session.path(), Some("/"));
    assert!(!cookies.iter().any(|c| c.name() == "frontegg_session_login"), "the login cookie is gone");

    // The page's own script calls the API with the session cookie.
    browser.click("#load-reports").await;
    browser.wait_for_text("#reports-status", "200").await;
    assert_eq!(emulator.calls(Endpoint::TokenRefresh), 0);

    // After the access token expired: a reload is still logged in, through exactly one refresh.
    tokio::time::sleep(TOKEN_LIFETIME + Duration::from_millis(300)).await;
    browser.refresh().await;
    browser.wait_for_text("#name", "Alice Example").await;
    assert_eq!(browser.current_url().await, format!("{base}/app"));
    assert_eq!(emulator.calls(Endpoint::TokenRefresh), 1, "exactly one refresh");
    browser.click("#load-reports").await;
    browser.wait_for_text("#reports-status", "200").await;

    // Logout: through Frontegg's logout, back to /app, and from there to the login again.
    browser.click("#logout").await;
    browser.wait_for_url("the sign-in page after the logout", on_sign_in_page).await;
    assert_eq!(emulator.calls(Endpoint::Logout), 1);
    assert!(!browser.cookies().await.iter().any(|c| c.name() == "frontegg_session"), "the session cookie is cleared");
    browser.goto(&format!("{base}/app")).await;
    browser.wait_for_url("the sign-in page again", on_sign_in_page).await;
    browser.wait_for("#login-user-1").await;
    assert_eq!(emulator.calls(Endpoint::TokenCode), 1, "one login in all");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_app_in_a_browser() {
    a_browser_logs_in_refreshes_and_logs_out::<Axum>().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_app_in_a_browser() {
    a_browser_logs_in_refreshes_and_logs_out::<Actix>().await
}
