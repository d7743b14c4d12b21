//! The example service on axum: `cargo run --example axum_app`.
//!
//! With no `FRONTEGG_*` variable set it runs against an embedded Frontegg emulator and prints
//! curl commands to try; with `FRONTEGG_BASE_URL` (and, for access tokens, `FRONTEGG_CLIENT_ID`
//! and `FRONTEGG_API_KEY`) it protects the same routes with your Frontegg environment.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use frontegg_axum::{
    AnyOf, Authenticator, Identity, Require, Requirement, SteppedUpWithin, authenticate, authenticate_optional,
    entitled, entitled_permission, login_router, permission, require, require_tenant_from_path, role,
};
use serde_json::{Value, json};

#[path = "common/mod.rs"]
mod common;

permission!(ReadReports = "reports.read");
permission!(WriteReports = "reports.write");
role!(Admin = "admin");
entitled!(BetaDashboard = "beta-dashboard");
entitled_permission!(ReadExports = "exports.read");
role!(Owner = "owner");

/// The routes of ../shared/example-apps.md.
pub fn app(auth: Authenticator) -> Router {
    // Anyone, whatever they send.
    let public = Router::new().route("/health", get(|| async { StatusCode::OK })).route(
        "/metrics",
        get(|| async {
            ([(axum::http::header::CONTENT_TYPE, common::METRICS_CONTENT_TYPE)], common::metrics().render())
        }),
    );

    // A credential is optional here, but one that is sent must be valid.
    let optional = Router::new().route("/optional", get(optional)).layer(authenticate_optional(auth.clone()));

    // For browsers: a visitor without a session is sent to the hosted login, and comes back.
    let pages = Router::new()
        .route("/app", {
            let auth = auth.clone();
            get(move |identity: Identity| {
                let page = common::app_page(&identity, &auth);
                async move { Html(page) }
            })
        })
        .layer(authenticate(auth.clone()).redirect_to_login());

    // Every route below needs a valid credential (a bearer token, an access token, or the
    // session cookie of a logged-in browser); each states what more it needs.
    let protected = Router::new()
        .route("/me", get(me))
        .route("/reports", get(list_reports).post(create_report))
        // A requirement as a route layer, instead of an extractor.
        .route("/reports/{id}", delete(delete_report).route_layer(require(Requirement::any_roles(["admin", "owner"]))))
        .route("/tenants/{tenant_id}/reports", get(tenant_reports).route_layer(require_tenant_from_path("tenant_id")))
        .route("/reports/{id}/approve", post(approve_report))
        .route("/beta", get(|_: Require<BetaDashboard>| async { Json(json!({"beta": true})) }))
        .route("/exports", get(|_: Require<ReadExports>| async { Json(json!([{"id": 1, "format": "csv"}])) }))
        .layer(authenticate(auth.clone()));

    // /auth/login, /auth/callback, /auth/logout: nested at the prefix of the login's settings
    // (FRONTEGG_LOGIN_ROUTES), where the callback is the redirect URI Frontegg knows.
    let login_routes = auth.hosted_login().map_or("/auth", |login| login.settings().routes()).to_owned();
    public.merge(optional).merge(pages).merge(protected).nest(&login_routes, login_router(&auth))
}

/// Any valid credential.
async fn me(identity: Identity) -> Json<Value> {
    Json(json!({
        "sub": identity.sub(),
        "tenantId": identity.tenant_id(),
        "userId": identity.user_id(),
        "type": identity.token_type().as_str(),
        "roles": identity.roles(),
        "permissions": identity.permissions(),
    }))
}

/// `Option<Identity>`: `None` for anonymous callers.
async fn optional(identity: Option<Identity>) -> Json<Value> {
    match identity {
        Some(identity) => Json(json!({"authenticated": true, "sub": identity.sub()})),
        None => Json(json!({"authenticated": false})),
    }
}

/// The permission `reports.read`, as a type.
async fn list_reports(_: Require<ReadReports>) -> Json<Value> {
    Json(json!([{"id": 1, "title": "Q1"}, {"id": 2, "title": "Q2"}]))
}

/// A tuple of markers: all of them.
async fn create_report(_: Require<(ReadReports, WriteReports)>) -> (StatusCode, Json<Value>) {
    (StatusCode::CREATED, Json(json!({"id": 3})))
}

/// Guarded by the route layer above; `Require<AnyOf<(Admin, Owner)>>` would say the same.
async fn delete_report(Path(_id): Path<String>) -> StatusCode {
    StatusCode::NO_CONTENT
}

/// The tenant comes from the path (route layer above); the permission from the extractor.
/// reports.write, and a multi-factor login within the last 5 minutes (else 401, RFC 9470).
async fn approve_report(Path(id): Path<String>, _: Require<(WriteReports, SteppedUpWithin<300>)>) -> Json<Value> {
    Json(json!({"approved": common::report_id(&id)}))
}

async fn tenant_reports(Path(tenant_id): Path<String>, _: Require<ReadReports>) -> Json<Value> {
    Json(json!([{"id": 1, "tenantId": tenant_id}]))
}

#[allow(dead_code)]
type AdminOrOwner = Require<AnyOf<(Admin, Owner)>>;

/// Serves `app` on a bound listener until the process is interrupted or terminated.
pub async fn serve(auth: Authenticator, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, app(auth)).with_graceful_shutdown(common::stop_requested()).await
}

#[tokio::main]
#[allow(dead_code)] // the conformance suite includes this file as a module
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    common::init_tracing();
    // Before anything is recorded: the library's metrics go to it from the start.
    common::metrics();
    let (auth, emulator) = common::authenticator().await?;
    common::wait_for_keys(&auth).await;

    let listener = tokio::net::TcpListener::bind(common::bind_addr()).await?;
    let addr = listener.local_addr()?;
    if let Some(emulator) = &emulator {
        common::print_demo(emulator, &format!("http://{addr}"));
    }
    println!("listening on http://{addr}");
    serve(auth.clone(), listener).await?;
    // Pending writes to the shared cache end before the process does.
    auth.shutdown().await;
    Ok(())
}
