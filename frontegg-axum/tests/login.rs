//! `login_router`: where it must be nested, and what it answers when it is not.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use frontegg_auth::testing::Emulator;
use frontegg_axum::{Authenticator, LoginSettings, login_router};
use tower::ServiceExt;

async fn call(router: Router, path: &str) -> (StatusCode, Option<String>, String) {
    let response = router.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
    (status, location, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn the_login_router_answers_only_where_its_settings_say() {
    let emulator = Emulator::start().await;
    let login = LoginSettings::builder("http://127.0.0.1:3000").build().unwrap();
    let auth = Authenticator::new(emulator.config().hosted_login(login).build().unwrap()).unwrap();

    let (status, location, _) = call(Router::new().nest("/auth", login_router(&auth)), "/auth/login").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.unwrap().contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fauth%2Fcallback"));

    // Nested elsewhere, the callback would not be the redirect URI: a 500 that says where.
    for path in ["/login", "/callback", "/logout"] {
        let (status, _, body) =
            call(Router::new().nest("/elsewhere", login_router(&auth)), &format!("/elsewhere{path}")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        assert!(body.contains(r#"nest it at \"/auth\""#), "{body}");
    }

    // Without the hosted login configured: a 500 that says so.
    let plain = emulator.authenticator();
    let (status, _, body) = call(Router::new().nest("/auth", login_router(&plain)), "/auth/login").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body.contains("not configured"), "{body}");
}
