//! The extractors and the tenant layer over identities put into the request directly (no token,
//! no network): what each of them answers for an identity, an anonymous caller and a missing layer.

mod common;

use axum::Extension;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use frontegg_axum::frontegg_auth::Identity as CoreIdentity;
use frontegg_axum::{
    AllOf, AnyOf, AuthError, AuthRejection, Caller, Identity, Require, Requirement, RequirementMarker, TokenType,
    permission, require_tenant_from_path, role,
};

use common::{assert_missing_layer, get as send};

permission!(pub ReadReports = "reports.read");
permission!(pub WriteReports = "reports.write");
role!(pub Admin = "admin");
role!(pub Owner = "owner");

fn alice() -> CoreIdentity {
    CoreIdentity::for_tests("alice", TokenType::User, Some("t1"), &["admin"], &["reports.read"])
}

async fn who(identity: Identity) -> String {
    identity.sub().to_owned()
}

async fn maybe(identity: Option<Identity>) -> String {
    identity.map_or_else(|| "anonymous".to_owned(), |identity| identity.sub().to_owned())
}

async fn read(caller: Require<ReadReports>) -> String {
    caller.sub().to_owned()
}

async fn read_write(caller: Require<(ReadReports, WriteReports)>) -> String {
    caller.sub().to_owned()
}

async fn admin_or_owner(caller: Require<AnyOf<(Admin, Owner)>>) -> String {
    caller.sub().to_owned()
}

/// Nested markers, named.
type ReadAndManage = AllOf<(ReadReports, AnyOf<(Owner, Admin)>)>;

async fn nested(caller: Require<ReadAndManage>) -> String {
    caller.into_identity().0.sub().to_owned()
}

async fn maybe_writer(caller: Option<Require<(ReadReports, WriteReports)>>) -> String {
    caller.map_or_else(|| "anonymous".to_owned(), |caller| caller.sub().to_owned())
}

fn routes() -> Router {
    Router::new()
        .route("/who", get(who))
        .route("/maybe-writer", get(maybe_writer))
        .route("/maybe", get(maybe))
        .route("/read", get(read))
        .route("/read-write", get(read_write))
        .route("/admin-or-owner", get(admin_or_owner))
        .route("/nested", get(nested))
}

#[tokio::test]
async fn an_identity_is_extracted() {
    let app = routes().layer(Extension(Caller::Identified(alice())));
    for path in ["/who", "/maybe", "/read", "/admin-or-owner", "/nested"] {
        let answer = send(&app, path, &[]).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_eq!(answer.text(), "alice", "{path}");
    }
}

#[tokio::test]
async fn a_missing_requirement_is_a_403_with_the_core_answer() {
    let app = routes().layer(Extension(Caller::Identified(alice())));
    let answer = send(&app, "/read-write", &[]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.www_authenticate(),
        r#"Bearer error="insufficient_scope", error_description="Missing permissions: reports.write", scope="reports.write""#
    );
    let body = answer.json();
    assert_eq!(body["error"], "insufficient_scope");
    assert_eq!(body["error_description"], "Missing permissions: reports.write");
    assert_eq!(answer.header("cache-control"), "no-store");
    assert_eq!(answer.header("content-type"), "application/json");

    let bob = CoreIdentity::for_tests("bob", TokenType::User, Some("t1"), &["viewer"], &["reports.read"]);
    let app = routes().layer(Extension(Caller::Identified(bob)));
    for path in ["/admin-or-owner", "/nested"] {
        let answer = send(&app, path, &[]).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(answer.json()["error"], "insufficient_scope", "{path}");
    }
}

#[tokio::test]
async fn an_anonymous_caller_is_401_except_for_option() {
    let app = routes().layer(Extension(Caller::Anonymous));
    let answer = send(&app, "/maybe", &[]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.text(), "anonymous");
    for path in ["/who", "/read", "/read-write", "/admin-or-owner", "/nested"] {
        let answer = send(&app, path, &[]).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(answer.www_authenticate(), "Bearer", "{path}");
        assert_eq!(answer.json()["error"], "unauthorized", "{path}");
        assert_eq!(answer.json()["error_description"], "No credential was presented", "{path}");
    }
}

#[tokio::test]
async fn without_the_layer_every_extractor_answers_500() {
    let app = routes();
    for path in ["/who", "/maybe", "/read", "/read-write", "/admin-or-owner", "/nested"] {
        assert_missing_layer(&send(&app, path, &[]).await);
    }
}

#[tokio::test]
async fn a_handler_can_inspect_the_rejection() {
    async fn page(identity: Result<Identity, AuthRejection>) -> Response {
        match identity {
            Ok(identity) => identity.sub().to_owned().into_response(),
            Err(rejection) => match rejection.error() {
                Some(AuthError::MissingCredential) => (StatusCode::SEE_OTHER, [("location", "/login")]).into_response(),
                _ => rejection.into_response(),
            },
        }
    }
    async fn optional(identity: Result<Option<Identity>, AuthRejection>) -> String {
        match identity {
            Ok(Some(identity)) => identity.sub().to_owned(),
            Ok(None) => "anonymous".to_owned(),
            Err(rejection) => format!("misconfigured: {}", rejection.is_misconfiguration()),
        }
    }
    let app = Router::new().route("/", get(page)).route("/optional", get(optional));

    let anonymous = app.clone().layer(Extension(Caller::Anonymous));
    let answer = send(&anonymous, "/", &[]).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.header("location"), "/login");
    assert_eq!(send(&anonymous, "/optional", &[]).await.text(), "anonymous");

    assert_missing_layer(&send(&app, "/", &[]).await);
    assert_eq!(send(&app, "/optional", &[]).await.text(), "misconfigured: true");

    let known = app.layer(Extension(Caller::Identified(alice())));
    assert_eq!(send(&known, "/", &[]).await.text(), "alice");
    assert_eq!(send(&known, "/optional", &[]).await.text(), "alice");
}

#[tokio::test]
async fn a_handler_can_check_a_requirement_chosen_at_run_time() {
    async fn report(identity: Identity) -> Result<String, AuthRejection> {
        identity.satisfies(&WriteReports::requirement()).map_err(AuthError::from)?;
        Ok("written".to_owned())
    }
    let app = Router::new().route("/", get(report)).layer(Extension(Caller::Identified(alice())));
    let answer = send(&app, "/", &[]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json()["error"], "insufficient_scope");
}

fn tenant_routes() -> Router {
    Router::new()
        .route("/tenants/{tenant_id}/reports", get(who))
        .route("/other/{id}", get(who))
        .route("/tenants/{tenant_id}/files/{name}", get(who))
        .route_layer(require_tenant_from_path("tenant_id"))
}

#[tokio::test]
async fn the_tenant_of_the_path_must_be_the_credentials() {
    let app = tenant_routes().layer(Extension(Caller::Identified(alice())));
    let answer = send(&app, "/tenants/t1/reports", &[]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.text(), "alice");

    let answer = send(&app, "/tenants/t2/reports", &[]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.www_authenticate(),
        r#"Bearer error="insufficient_scope", error_description="The credential does not belong to this tenant""#
    );
    assert_eq!(answer.json()["error"], "insufficient_scope");
    assert_eq!(answer.json()["error_description"], "The credential does not belong to this tenant");
    // Another parameter that is not UTF-8 leaves the tenant unreadable: refused, 400.
    let answer = send(&app, "/tenants/t1/files/%FF", &[]).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json()["error"], "invalid_request");
    assert_eq!(send(&app, "/tenants/t1/files/ok", &[]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_tenant_of_the_path_is_compared_decoded_and_exactly() {
    let spaced = CoreIdentity::for_tests("carol", TokenType::TenantApi, Some("t 1"), &[], &[]);
    let app = tenant_routes().layer(Extension(Caller::Identified(spaced)));
    assert_eq!(send(&app, "/tenants/t%201/reports", &[]).await.status, StatusCode::OK);
    assert_eq!(send(&app, "/tenants/T%201/reports", &[]).await.status, StatusCode::FORBIDDEN);

    let no_tenant = CoreIdentity::for_tests("dave", TokenType::User, None, &[], &[]);
    let app = tenant_routes().layer(Extension(Caller::Identified(no_tenant)));
    assert_eq!(send(&app, "/tenants/t1/reports", &[]).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_tenant_layer_refuses_anonymous_callers_and_missing_layers() {
    let app = tenant_routes().layer(Extension(Caller::Anonymous));
    let answer = send(&app, "/tenants/t1/reports", &[]).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.www_authenticate(), "Bearer");
    assert_eq!(answer.json()["error"], "unauthorized");

    assert_missing_layer(&send(&tenant_routes(), "/tenants/t1/reports", &[]).await);
}

#[tokio::test]
async fn the_tenant_layer_on_a_route_without_the_parameter_is_a_500() {
    let app = tenant_routes().layer(Extension(Caller::Identified(alice())));
    let answer = send(&app, "/other/t1", &[]).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(answer.headers.get("www-authenticate").is_none());
    let body = answer.json();
    assert_eq!(body["error"], "server_error");
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(description.contains("no path parameter `tenant_id`"), "{description}");

    // Added with `layer`, it also wraps the fallback, where no route matched: fail closed.
    let app = Router::new()
        .route("/tenants/{tenant_id}/reports", get(who))
        .layer(require_tenant_from_path("tenant_id"))
        .layer(Extension(Caller::Identified(alice())));
    assert_eq!(send(&app, "/tenants/t1/reports", &[]).await.status, StatusCode::OK);
    assert_eq!(send(&app, "/tenants/t2/reports", &[]).await.status, StatusCode::FORBIDDEN);
    let answer = send(&app, "/nowhere", &[]).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.json()["error"], "server_error");
}

#[tokio::test]
async fn a_path_parameter_that_is_not_utf8_is_a_tenant_mismatch() {
    let app = tenant_routes().layer(Extension(Caller::Identified(alice())));
    let answer = send(&app, "/tenants/%FF/reports", &[]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json()["error_description"], "The credential does not belong to this tenant");
}

#[test]
fn require_exposes_its_requirement() {
    assert_eq!(
        Require::<AnyOf<(Admin, Owner)>>::requirement(),
        Requirement::any_of([Requirement::role("admin"), Requirement::role("owner")])
    );
}

#[tokio::test]
async fn an_optional_requirement_is_none_only_for_an_anonymous_caller() {
    // Anonymous: `None`.
    let app = routes().layer(Extension(Caller::Anonymous));
    let answer = send(&app, "/maybe-writer", &[]).await;
    assert_eq!((answer.status, answer.text().as_str()), (StatusCode::OK, "anonymous"));
    // An identity that satisfies it: `Some`.
    let writer = CoreIdentity::for_tests("wes", TokenType::User, Some("t1"), &[], &["reports.*"]);
    let app = routes().layer(Extension(Caller::Identified(writer)));
    let answer = send(&app, "/maybe-writer", &[]).await;
    assert_eq!((answer.status, answer.text().as_str()), (StatusCode::OK, "wes"));
    // An identity that lacks a right: still the 403, never `None`.
    let app = routes().layer(Extension(Caller::Identified(alice())));
    let answer = send(&app, "/maybe-writer", &[]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json()["error_description"], "Missing permissions: reports.write");
    // No authentication at all: the 500.
    assert_missing_layer(&send(&routes(), "/maybe-writer", &[]).await);
}
