//! `login_router`: where it must be nested, and what it answers when it is not; a page's step-up
//! through the login, by layer and by extractor.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use frontegg_auth::testing::Emulator;
use frontegg_axum::{
    Authenticator, LoginSettings, Require, Requirement, SteppedUpWithin, authenticate, login_router, require,
};
use tower::ServiceExt;

async fn call(router: Router, path: &str) -> (StatusCode, Option<String>, String) {
    call_with(router, path, None).await
}

async fn call_with(router: Router, path: &str, cookie: Option<&str>) -> (StatusCode, Option<String>, String) {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = router.oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
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

/// A login through the router and the emulator's sign-in: the session cookie (`name=value`).
async fn log_in(app: &Router, emulator: &Emulator, start: &str, mfa: bool) -> String {
    let response = app.clone().oneshot(Request::get(start).body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let login_cookie = response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let back = emulator.sign_in(response.headers()["location"].to_str().unwrap(), "user-1", mfa);
    let path = back.strip_prefix("http://127.0.0.1:3000").unwrap();
    let request = Request::get(path).header("cookie", login_cookie).body(Body::empty()).unwrap();
    let done = app.clone().oneshot(request).await.unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let session = done.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned());
    session.into_iter().find(|c| c.starts_with("frontegg_session=")).unwrap().split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_page_s_step_up_goes_through_the_login() {
    let emulator = Emulator::start().await;
    let login = LoginSettings::builder("http://127.0.0.1:3000").build().unwrap();
    let auth = Authenticator::new(emulator.config().hosted_login(login).build().unwrap()).unwrap();
    let by_layer = Router::new()
        .route("/approvals", get(|| async { "approvals" }))
        .route_layer(require(Requirement::step_up_within(Duration::from_secs(300))));
    let by_extractor = Router::new().route("/audit", get(|_: Require<SteppedUpWithin<300>>| async { "audit" }));
    let app = Router::new()
        .merge(by_layer)
        .merge(by_extractor)
        .layer(authenticate(auth.clone()).redirect_to_login())
        .nest("/auth", login_router(&auth));

    let plain = log_in(&app, &emulator, "/auth/login", false).await;
    for page in ["/approvals", "/audit"] {
        let (status, location, _) = call_with(app.clone(), page, Some(&plain)).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        let expected = format!("/auth/login?return_to=%2F{}&step_up=300", &page[1..]);
        assert_eq!(location.as_deref(), Some(expected.as_str()), "{page}");
    }
    let stepped_up = log_in(&app, &emulator, "/auth/login?return_to=%2Fapprovals&step_up=300", true).await;
    for page in ["/approvals", "/audit"] {
        let (status, _, body) = call_with(app.clone(), page, Some(&stepped_up)).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, &page[1..]), "{page}");
    }
}
