//! End to end through the real authentication layer, with tokens signed by the Frontegg emulator
//! of `frontegg_auth::testing`.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::routing::get;
use frontegg_auth::testing::{Behaviour, Emulator, Surface};
use frontegg_axum::{
    AnyOf, Identity, Require, Requirement, TokenType, authenticate, authenticate_optional, permission, require,
    require_tenant_from_path, role,
};

use common::{Answer, assert_missing_layer, get as send, send as send_request};

permission!(pub ReadReports = "reports.read");
role!(pub Admin = "admin");
role!(pub Owner = "owner");

async fn who(identity: Identity) -> String {
    identity.sub().to_owned()
}

async fn maybe(identity: Option<Identity>) -> String {
    identity.map_or_else(|| "anonymous".to_owned(), |identity| identity.sub().to_owned())
}

async fn manage(caller: Require<(ReadReports, AnyOf<(Admin, Owner)>)>) -> String {
    format!("{} manages", caller.sub())
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn assert_invalid_token(answer: &Answer, description: &str) {
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text());
    assert_eq!(
        answer.www_authenticate(),
        format!(r#"Bearer error="invalid_token", error_description="{description}""#)
    );
    let body = answer.json();
    assert_eq!(body["error"], "invalid_token");
    assert_eq!(body["error_description"], description);
}

fn assert_no_credential(answer: &Answer) {
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text());
    assert_eq!(answer.www_authenticate(), "Bearer");
    assert_eq!(answer.json()["error"], "unauthorized");
    assert_eq!(answer.json()["error_description"], "No credential was presented");
}

#[tokio::test]
async fn the_required_layer_admits_valid_credentials_only() {
    let emulator = Emulator::start().await;
    let app = Router::new().route("/who", get(who)).layer(authenticate(emulator.authenticator()));

    assert_no_credential(&send(&app, "/who", &[]).await);

    let answer = send(&app, "/who", &[("authorization", "Bearer not-a-jwt")]).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json()["error"], "invalid_token");
    assert!(answer.www_authenticate().starts_with(r#"Bearer error="invalid_token""#));

    let answer = send(&app, "/who", &[("authorization", "Basic dXNlcjpwYXNz")]).await;
    assert_invalid_token(&answer, "The credential is malformed: the Authorization scheme must be Bearer");

    let expired = emulator.user_token().expired().sign();
    assert_invalid_token(&send(&app, "/who", &[("authorization", &bearer(&expired))]).await, "The token has expired");

    let forged = emulator.user_token().sign_with_foreign_key();
    let answer = send(&app, "/who", &[("authorization", &bearer(&forged))]).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json()["error"], "invalid_token");

    let token = emulator.user_token().sign();
    let answer = send(&app, "/who", &[("authorization", &bearer(&token))]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.text(), "user-1");
}

#[tokio::test]
async fn access_tokens_come_in_x_api_key() {
    let emulator = Emulator::start().await;
    let app = Router::new().route("/manage", get(manage)).layer(authenticate(emulator.authenticator()));
    let granted = emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &["owner"], &["reports.read"]);
    let answer = send(&app, "/manage", &[("x-api-key", &granted.token)]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.text(), format!("{} manages", granted.id));

    let lacking = emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &["viewer"], &["reports.read"]);
    let answer = send(&app, "/manage", &[("x-api-key", &lacking.token)]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json()["error"], "insufficient_scope");
}

#[tokio::test]
async fn the_optional_layer_lets_anonymous_callers_through() {
    let emulator = Emulator::start().await;
    let app = Router::new()
        .route("/maybe", get(maybe))
        .route("/who", get(who))
        .layer(authenticate_optional(emulator.authenticator()));

    let answer = send(&app, "/maybe", &[]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.text(), "anonymous");

    let token = emulator.user_token().sign();
    let answer = send(&app, "/maybe", &[("authorization", &bearer(&token))]).await;
    assert_eq!(answer.text(), "user-1");

    // A credential that is sent must be valid.
    let expired = emulator.user_token().expired().sign();
    assert_invalid_token(&send(&app, "/maybe", &[("authorization", &bearer(&expired))]).await, "The token has expired");

    // Identity needs a caller.
    assert_no_credential(&send(&app, "/who", &[]).await);
}

#[tokio::test]
async fn route_requirements() {
    let emulator = Emulator::start().await;
    let app = Router::new()
        .route("/reports", get(who))
        .route_layer(require(Requirement::all_permissions(["reports.read", "reports.write"])))
        .layer(authenticate_optional(emulator.authenticator()));

    let writer = emulator.user_token().permissions(["reports.read", "reports.write"]).sign();
    let answer = send(&app, "/reports", &[("authorization", &bearer(&writer))]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.text(), "user-1");

    // Frontegg's wildcard permissions.
    let wildcard = emulator.user_token().permissions(["reports.*"]).sign();
    assert_eq!(send(&app, "/reports", &[("authorization", &bearer(&wildcard))]).await.status, StatusCode::OK);

    let reader = emulator.user_token().permissions(["reports.read"]).sign();
    let answer = send(&app, "/reports", &[("authorization", &bearer(&reader))]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.www_authenticate(),
        r#"Bearer error="insufficient_scope", error_description="Missing permissions: reports.write", scope="reports.write""#
    );
    assert_eq!(answer.json()["error"], "insufficient_scope");
    assert_eq!(answer.json()["error_description"], "Missing permissions: reports.write");

    assert_no_credential(&send(&app, "/reports", &[]).await);
}

#[tokio::test]
async fn type_level_requirements() {
    let emulator = Emulator::start().await;
    let app = Router::new().route("/manage", get(manage)).layer(authenticate(emulator.authenticator()));

    let owner = emulator.user_token().permissions(["reports.read"]).roles(["owner"]).sign();
    let answer = send(&app, "/manage", &[("authorization", &bearer(&owner))]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.text(), "user-1 manages");

    let viewer = emulator.user_token().permissions(["reports.read"]).roles(["viewer"]).sign();
    let answer = send(&app, "/manage", &[("authorization", &bearer(&viewer))]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.www_authenticate().starts_with(r#"Bearer error="insufficient_scope""#));
    assert_eq!(
        answer.json()["error_description"],
        "None of the alternatives is met (Missing roles: admin; Missing roles: owner)"
    );

    let admin_without_permission = emulator.user_token().roles(["admin"]).sign();
    let answer = send(&app, "/manage", &[("authorization", &bearer(&admin_without_permission))]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json()["error_description"], "Missing permissions: reports.read");
}

#[tokio::test]
async fn the_tenant_of_the_path() {
    let emulator = Emulator::start().await;
    let app = Router::new()
        .route("/tenants/{tenant_id}/reports", get(who))
        .route_layer(require_tenant_from_path("tenant_id"))
        .route_layer(require(Requirement::permission("reports.read")))
        .layer(authenticate_optional(emulator.authenticator()));

    let token = emulator.user_token().tenant("t1").permissions(["reports.read"]).sign();
    let auth = bearer(&token);
    let answer = send(&app, "/tenants/t1/reports", &[("authorization", &auth)]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.text(), "user-1");

    let answer = send(&app, "/tenants/t2/reports", &[("authorization", &auth)]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json()["error"], "insufficient_scope");
    assert_eq!(answer.json()["error_description"], "The credential does not belong to this tenant");

    // The permission is checked as well (its layer runs first: it was added last).
    let without = emulator.user_token().tenant("t1").sign();
    let answer = send(&app, "/tenants/t1/reports", &[("authorization", &bearer(&without))]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json()["error_description"], "Missing permissions: reports.read");

    assert_no_credential(&send(&app, "/tenants/t1/reports", &[]).await);
}

#[tokio::test]
async fn layers_in_the_wrong_order() {
    let emulator = Emulator::start().await;
    let token = emulator.user_token().tenant("t1").permissions(["reports.read"]).sign();
    let auth = bearer(&token);

    // The authentication layer added first sits inside the route layers added after it.
    let tenant = Router::new()
        .route("/tenants/{tenant_id}/reports", get(who))
        .layer(authenticate(emulator.authenticator()))
        .route_layer(require_tenant_from_path("tenant_id"));
    assert_missing_layer(&send(&tenant, "/tenants/t1/reports", &[("authorization", &auth)]).await);

    // The core's RequirementLayer tells too: 500.
    let required = Router::new()
        .route("/reports", get(who))
        .layer(authenticate(emulator.authenticator()))
        .route_layer(require(Requirement::permission("reports.read")));
    let answer = send(&required, "/reports", &[("authorization", &auth)]).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.json()["error"], "server_error");

    // No authentication layer at all.
    assert_missing_layer(&send(&Router::new().route("/who", get(who)), "/who", &[("authorization", &auth)]).await);
}

#[tokio::test]
async fn frontegg_unreachable_is_a_503() {
    let emulator = Emulator::start().await;
    emulator.set_behaviour(Surface::Jwks, Behaviour::Unavailable);
    let app = Router::new().route("/who", get(who)).layer(authenticate(emulator.authenticator()));
    let token = emulator.user_token().sign();
    let answer = send(&app, "/who", &[("authorization", &bearer(&token))]).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{}", answer.text());
    assert_eq!(answer.header("retry-after"), "5");
    assert_eq!(answer.json()["error"], "temporarily_unavailable");
}

#[tokio::test]
async fn cors_preflights_may_pass_without_credential() {
    let emulator = Emulator::start().await;
    let app = Router::new()
        .route("/who", get(who).options(|| async { "preflight" }))
        .layer(authenticate(emulator.authenticator()).allow_cors_preflight());
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/who")
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "GET")
        .body(Body::empty())
        .expect("a request");
    let answer = send_request(&app, preflight).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.text(), "preflight");
    assert_no_credential(&send(&app, "/who", &[]).await);
}

#[tokio::test]
async fn an_optional_requirement_behind_the_optional_layer() {
    type Manager = Require<(ReadReports, AnyOf<(Admin, Owner)>)>;
    async fn maybe_manager(caller: Option<Manager>) -> String {
        caller.map_or_else(|| "anonymous".to_owned(), |caller| caller.sub().to_owned())
    }
    let emulator = Emulator::start().await;
    let app = Router::new().route("/", get(maybe_manager)).layer(authenticate_optional(emulator.authenticator()));
    assert_eq!(send(&app, "/", &[]).await.text(), "anonymous");
    let manager = emulator.user_token().roles(["admin"]).permissions(["reports.read"]).sign();
    assert_eq!(send(&app, "/", &[("authorization", &bearer(&manager))]).await.text(), "user-1");
    // An invalid credential stays a 401, a missing right a 403: neither is `None`.
    let expired = emulator.user_token().roles(["admin"]).permissions(["reports.read"]).expired().sign();
    assert_invalid_token(&send(&app, "/", &[("authorization", &bearer(&expired))]).await, "The token has expired");
    let reader = emulator.user_token().permissions(["reports.read"]).sign();
    assert_eq!(send(&app, "/", &[("authorization", &bearer(&reader))]).await.status, StatusCode::FORBIDDEN);
}
