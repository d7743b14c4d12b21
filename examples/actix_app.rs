//! The example service on actix-web: `cargo run --example actix_app`.
//!
//! The same service as `axum_app`, route for route and answer for answer. With no `FRONTEGG_*`
//! variable set it runs against an embedded Frontegg emulator and prints curl commands to try.

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, Route, guard, web};
use frontegg_actix::{
    Authenticator, Identity, Require, Requirement, SteppedUpWithin, authenticate, authenticate_optional, entitled,
    entitled_permission, login_scope, permission, require, require_tenant_from_path,
};
use serde_json::json;

#[path = "common/mod.rs"]
mod common;

permission!(ReadReports = "reports.read");
permission!(WriteReports = "reports.write");
entitled!(BetaDashboard = "beta-dashboard");
entitled_permission!(ReadExports = "exports.read");

/// The routes of ../shared/example-apps.md, for `App::configure`.
pub fn routes(auth: Authenticator) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg
            // Anyone, whatever they send.
            .route("/health", get().to(HttpResponse::Ok))
            .route(
                "/metrics",
                get().to(|| async {
                    HttpResponse::Ok().content_type(common::METRICS_CONTENT_TYPE).body(common::metrics().render())
                }),
            )
            // A credential is optional here, but one that is sent must be valid.
            .service(web::resource("/optional").wrap(authenticate_optional(auth.clone())).route(get().to(optional)))
            // /auth/login, /auth/callback, /auth/logout (at the prefix of the login's settings,
            // FRONTEGG_LOGIN_ROUTES); before the catch-all scope below.
            .service(login_scope(&auth))
            // For browsers: a visitor without a session is sent to the hosted login, and comes back.
            .service(web::resource("/app").wrap(authenticate(auth.clone()).redirect_to_login()).route(get().to({
                let auth = auth.clone();
                move |identity: Identity| {
                    let page = common::app_page(&identity, &auth);
                    async move { HttpResponse::Ok().content_type("text/html; charset=utf-8").body(page) }
                }
            })))
            // Every route below needs a valid credential (a bearer token, an access token, or the
            // session cookie of a logged-in browser); each states what more it needs.
            .service(
                web::scope("")
                    .wrap(authenticate(auth))
                    .route("/me", get().to(me))
                    .route("/reports", get().to(list_reports))
                    .route("/reports", web::post().to(create_report))
                    // A requirement wrapping a resource: 403 when unmet (a guard would answer 404).
                    .service(
                        web::resource("/reports/{id}")
                            .wrap(require(Requirement::any_roles(["admin", "owner"])))
                            .route(web::delete().to(delete_report)),
                    )
                    .service(
                        web::resource("/tenants/{tenant_id}/reports")
                            .wrap(require_tenant_from_path("tenant_id"))
                            .route(get().to(tenant_reports)),
                    )
                    .route("/reports/{id}/approve", web::post().to(approve_report))
                    .route("/beta", get().to(beta))
                    .route("/exports", get().to(exports)),
            );
    }
}

/// GET, and HEAD with it, as axum's `get` routes do.
fn get() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// Any valid credential.
async fn me(identity: Identity) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "sub": identity.sub(),
        "tenantId": identity.tenant_id(),
        "userId": identity.user_id(),
        "type": identity.token_type().as_str(),
        "roles": identity.roles(),
        "permissions": identity.permissions(),
    }))
}

/// `Option<Identity>`: `None` for anonymous callers.
async fn optional(identity: Option<Identity>) -> HttpResponse {
    match identity {
        Some(identity) => HttpResponse::Ok().json(json!({"authenticated": true, "sub": identity.sub()})),
        None => HttpResponse::Ok().json(json!({"authenticated": false})),
    }
}

/// The permission `reports.read`, as a type.
async fn list_reports(_: Require<ReadReports>) -> HttpResponse {
    HttpResponse::Ok().json(json!([{"id": 1, "title": "Q1"}, {"id": 2, "title": "Q2"}]))
}

/// A tuple of markers: all of them.
async fn create_report(_: Require<(ReadReports, WriteReports)>) -> HttpResponse {
    HttpResponse::Created().json(json!({"id": 3}))
}

/// Guarded by the `require` wrapper of its resource.
/// reports.write, and a multi-factor login within the last 5 minutes (else 401, RFC 9470).
async fn approve_report(id: web::Path<String>, _: Require<(WriteReports, SteppedUpWithin<300>)>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"approved": common::report_id(&id)}))
}

/// Entitled to the feature `beta-dashboard`.
async fn beta(_: Require<BetaDashboard>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"beta": true}))
}

/// exports.read, and entitled to it (the features linked to it).
async fn exports(_: Require<ReadExports>) -> HttpResponse {
    HttpResponse::Ok().json(json!([{"id": 1, "format": "csv"}]))
}

async fn delete_report(_id: web::Path<String>) -> HttpResponse {
    HttpResponse::NoContent().finish()
}

/// The tenant comes from the path (resource wrapper); the permission from the extractor.
async fn tenant_reports(tenant_id: web::Path<String>, _: Require<ReadReports>) -> HttpResponse {
    HttpResponse::Ok().json(json!([{"id": 1, "tenantId": tenant_id.into_inner()}]))
}

/// The server on a bound listener.
pub fn server(auth: Authenticator, listener: std::net::TcpListener) -> std::io::Result<Server> {
    Ok(HttpServer::new(move || App::new().configure(routes(auth.clone()))).workers(2).listen(listener)?.run())
}

#[actix_web::main]
#[allow(dead_code)] // the conformance suite includes this file as a module
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    common::init_tracing();
    // Before anything is recorded: the library's metrics go to it from the start.
    common::metrics();
    let (auth, emulator) = common::authenticator().await?;
    common::wait_for_keys(&auth).await;

    let listener = std::net::TcpListener::bind(common::bind_addr())?;
    let addr = listener.local_addr()?;
    if let Some(emulator) = &emulator {
        common::print_demo(emulator, &format!("http://{addr}"));
    }
    println!("listening on http://{addr}");
    server(auth.clone(), listener)?.await?;
    // Pending writes to the shared cache end before the process does.
    auth.shutdown().await;
    Ok(())
}
