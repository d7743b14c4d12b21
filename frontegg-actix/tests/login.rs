//! `login_scope` in an actix-web app: the login through the scope and the emulator's sign-in,
//! then a page's step-up through the login, by middleware and by extractor, as in axum.

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{self, TestRequest};
use actix_web::{App, web};
use frontegg_actix::{Require, Requirement, SteppedUpWithin, authenticate, login_scope, require};
use frontegg_auth::testing::Emulator;
use frontegg_auth::{Authenticator, LoginSettings};

fn get(path: &str, cookie: Option<&str>) -> TestRequest {
    let request = TestRequest::get().uri(path);
    match cookie {
        Some(cookie) => request.insert_header(("cookie", cookie)),
        None => request,
    }
}

/// The status, the `Location`, every `Set-Cookie` and the body of an answer.
async fn call<S, R, B>(app: &S, request: R) -> (u16, Option<String>, Vec<String>, String)
where
    S: Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(app, request).await;
    let status = response.status().as_u16();
    let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    let cookies = response.headers().get_all("set-cookie").map(|v| v.to_str().unwrap().to_owned()).collect();
    let body = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
    (status, location, cookies, body)
}

#[actix_web::test]
async fn a_page_s_step_up_goes_through_the_login() {
    let emulator = Emulator::start().await;
    let login = LoginSettings::builder("http://127.0.0.1:3000").build().unwrap();
    let auth = Authenticator::new(emulator.config().hosted_login(login).build().unwrap()).unwrap();
    let app = test::init_service(
        App::new()
            .service(login_scope(&auth))
            .service(
                web::resource("/approvals")
                    .route(web::get().to(|| async { "approvals" }))
                    .wrap(require(Requirement::step_up_within(Duration::from_secs(300))))
                    .wrap(authenticate(auth.clone()).redirect_to_login()),
            )
            .service(
                web::resource("/audit")
                    .route(web::get().to(|_: Require<SteppedUpWithin<300>>| async { "audit" }))
                    .wrap(authenticate(auth.clone()).redirect_to_login()),
            ),
    )
    .await;
    let log_in = async |start: &str, mfa: bool| {
        let (status, location, cookies, _) = call(&app, get(start, None).to_request()).await;
        assert_eq!(status, 303);
        let login_cookie = cookies[0].split(';').next().unwrap().to_owned();
        let back = emulator.sign_in(&location.unwrap(), "user-1", mfa);
        let path = back.strip_prefix("http://127.0.0.1:3000").unwrap().to_owned();
        let (status, _, cookies, body) = call(&app, get(&path, Some(&login_cookie)).to_request()).await;
        assert_eq!(status, 303, "{body}");
        let session = cookies.into_iter().find(|c| c.starts_with("frontegg_session=")).unwrap();
        session.split(';').next().unwrap().to_owned()
    };

    let plain = log_in("/auth/login", false).await;
    for page in ["/approvals", "/audit"] {
        let (status, location, _, _) = call(&app, get(page, Some(&plain)).to_request()).await;
        assert_eq!(status, 303, "{page}");
        let expected = format!("/auth/login?return_to=%2F{}&step_up=300", &page[1..]);
        assert_eq!(location.as_deref(), Some(expected.as_str()), "{page}");
    }
    let stepped_up = log_in("/auth/login?return_to=%2Fapprovals&step_up=300", true).await;
    for page in ["/approvals", "/audit"] {
        let (status, _, _, body) = call(&app, get(page, Some(&stepped_up)).to_request()).await;
        assert_eq!((status, body.as_str()), (200, &page[1..]), "{page}");
    }
}
