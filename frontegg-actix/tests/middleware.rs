//! End-to-end tests of the adapter: real tokens from the core's emulator, an actix-web App called
//! through `actix_web::test`, and every answer compared with the core's.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::Method;
use actix_web::test::{self, TestRequest};
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpResponse};
use frontegg_actix::{
    AnyOf, AuthError, AuthRejection, Authentication, Identity, MaybeIdentity, Require, Requirement, guard, permission,
    require, require_tenant_from_path, role,
};
use frontegg_auth::testing::{Behaviour, Emulator, Surface};
use frontegg_auth::{Denied, KeyError, Malformed, Refusal, TokenType, WrongTokenType};
use serde_json::Value;

permission!(ReadReports = "reports.read");
permission!(WriteReports = "reports.write");
role!(Admin = "admin");
role!(Owner = "owner");

/// A response, taken apart.
#[derive(Debug)]
struct Answer {
    status: u16,
    /// Every header, lower-case name and bytes, sorted.
    headers: Vec<(String, Vec<u8>)>,
    body: Bytes,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or("<not UTF-8>")
    }

    /// Asserts that this is exactly the core's answer to `error`: status, every header, body.
    #[track_caller]
    fn assert_core(&self, error: &AuthError) {
        let core = Refusal::from(error.clone()).to_response::<Vec<u8>>();
        assert_eq!(self.status, core.status().as_u16(), "status of {error:?}: {}", self.text());
        let mut expected: Vec<(String, Vec<u8>)> =
            core.headers().iter().map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec())).collect();
        expected.sort();
        assert_eq!(self.headers, expected, "headers of {error:?}");
        assert_eq!(&self.body[..], &core.body()[..], "body of {error:?}");
    }

    /// Asserts a misconfiguration answer: 500, JSON `server_error`.
    #[track_caller]
    fn assert_misconfiguration(&self) {
        assert_eq!(self.status, 500, "{}", self.text());
        assert_eq!(self.header("content-type"), Some("application/json"));
        assert_eq!(self.header("cache-control"), Some("no-store"));
        assert_eq!(self.header("www-authenticate"), None);
        assert_eq!(self.json()["error"], "server_error");
    }
}

async fn send<S, R, B>(app: &S, req: R) -> Answer
where
    S: Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(app, req).await;
    let status = response.status().as_u16();
    let mut headers: Vec<(String, Vec<u8>)> =
        response.headers().iter().map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec())).collect();
    headers.sort();
    let body = test::read_body(response).await;
    Answer { status, headers, body }
}

fn get(path: &str) -> TestRequest {
    TestRequest::get().uri(path)
}

fn bearer(req: TestRequest, token: &str) -> TestRequest {
    req.insert_header(("authorization", format!("Bearer {token}")))
}

async fn me(identity: Identity) -> String {
    identity.sub().to_owned()
}

async fn maybe(identity: Option<Identity>) -> String {
    identity.map_or_else(|| "none".to_owned(), |i| format!("some:{}", i.sub()))
}

async fn strict(MaybeIdentity(identity): MaybeIdentity) -> String {
    identity.map_or_else(|| "none".to_owned(), |i| format!("some:{}", i.sub()))
}

async fn typed(caller: Require<(ReadReports, WriteReports)>) -> String {
    format!("typed:{}", caller.sub())
}

async fn any(caller: Require<AnyOf<(Admin, Owner)>>) -> String {
    format!("any:{}", caller.into_identity().sub())
}

async fn own_way(identity: Result<Identity, AuthRejection>) -> HttpResponse {
    match identity {
        Ok(identity) => HttpResponse::Ok().body(identity.sub().to_owned()),
        Err(rejection) if rejection.is_misconfiguration() => HttpResponse::InternalServerError().body("misconfigured"),
        Err(rejection) => HttpResponse::Found().insert_header(("location", "/login")).body(rejection.to_string()),
    }
}

async fn in_handler(identity: Identity) -> Result<String, AuthRejection> {
    identity.satisfies(&Requirement::permission("reports.export")).map_err(AuthError::from)?;
    Ok("exported".to_owned())
}

/// Every pattern of the crate guide, under one App.
fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/me")
            .route(web::get().to(me))
            .route(web::method(Method::OPTIONS).to(|| async { "preflight reached the handler" })),
    )
    .route("/maybe", web::get().to(maybe))
    .route("/strict", web::get().to(strict))
    .route("/typed", web::get().to(typed))
    .route("/any", web::get().to(any))
    .route("/own-way", web::get().to(own_way))
    .route("/in-handler", web::get().to(in_handler))
    .service(
        web::scope("/reports")
            .wrap(require(Requirement::permission("reports.read")))
            .route("", web::get().to(|| async { "reports" }))
            .service(
                web::resource("/{id}")
                    .wrap(require(
                        Requirement::all_permissions(["reports.read", "reports.write"])
                            .and(Requirement::any_roles(["admin", "owner"])),
                    ))
                    .route(web::put().to(|| async { "updated" })),
            ),
    )
    .service(
        web::scope("/tenants/{tenant_id}")
            .wrap(require_tenant_from_path("tenant_id"))
            .route("/users", web::get().to(|path: web::Path<String>| async move { format!("users of {path}") })),
    )
    .service(
        web::resource("/resource-tenant/{tenant}")
            .wrap(require_tenant_from_path("tenant"))
            .route(web::get().to(|| async { "resource tenant" })),
    )
    .service(
        // Misconfigured: the scope's own path does not declare the parameter.
        web::scope("/undeclared")
            .wrap(require_tenant_from_path("tenant_id"))
            .route("/{tenant_id}", web::get().to(|| async { "never" })),
    )
    .service(
        web::resource("/dashboard")
            .route(web::get().guard(guard::role("admin")).to(|| async { "admin dashboard" }))
            .route(web::get().guard(guard::authenticated()).to(|| async { "your dashboard" }))
            .route(web::get().guard(guard::anonymous()).to(|| async { "please sign in" })),
    )
    .service(
        web::resource("/guarded-route")
            .route(web::get().guard(guard::any_permissions(["reports.read", "reports.admin"])).to(|| async { "ok" })),
    )
    .service(
        web::scope("/guarded-scope")
            .guard(guard::tenant("tenant-1"))
            .route("", web::get().to(|| async { "tenant one" })),
    )
    .service(
        web::resource("/guarded-marker")
            .guard(guard::marker::<AnyOf<(Admin, Owner)>>())
            .route(web::get().to(|| async { "marker" })),
    );
}

#[actix_web::test]
async fn missing_credential_is_refused_with_a_bare_challenge() {
    let emulator = Emulator::start().await;
    let app =
        test::init_service(App::new().configure(routes).wrap(Authentication::new(emulator.authenticator()))).await;
    let answer = send(&app, get("/me").to_request()).await;
    answer.assert_core(&AuthError::MissingCredential);
    assert_eq!(answer.status, 401);
    assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(answer.json()["error"], "unauthorized");
    assert_eq!(answer.json()["error_description"], "No credential was presented");
    // No other route is reachable either.
    for path in ["/maybe", "/strict", "/typed", "/reports", "/tenants/tenant-1/users", "/dashboard"] {
        send(&app, get(path).to_request()).await.assert_core(&AuthError::MissingCredential);
    }
}

#[actix_web::test]
async fn malformed_credentials_are_invalid_tokens() {
    let emulator = Emulator::start().await;
    let app =
        test::init_service(App::new().configure(routes).wrap(Authentication::new(emulator.authenticator()))).await;

    let answer = send(&app, bearer(get("/me"), "not-a-jwt").to_request()).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.json()["error"], "invalid_token");
    assert!(answer.header("www-authenticate").unwrap_or_default().starts_with("Bearer error=\"invalid_token\""));

    let basic = send(&app, get("/me").insert_header(("authorization", "Basic dXNlcjpwdw==")).to_request()).await;
    basic.assert_core(&AuthError::Malformed(Malformed::NotBearer));

    let empty = send(&app, get("/me").insert_header(("authorization", "Bearer ")).to_request()).await;
    empty.assert_core(&AuthError::Malformed(Malformed::EmptyBearer));

    let token = emulator.user_token().sign();
    let both = send(&app, bearer(get("/me"), &token).insert_header(("x-api-key", token.as_str())).to_request()).await;
    both.assert_core(&AuthError::Malformed(Malformed::BothHeaders));

    // Two Authorization headers (`append_header` keeps both).
    let twice = bearer(get("/me"), &token).append_header(("authorization", format!("Bearer {token}")));
    let twice = send(&app, twice.to_request()).await;
    twice.assert_core(&AuthError::Malformed(Malformed::RepeatedAuthorization));
}

#[actix_web::test]
async fn bad_tokens_are_refused_exactly_as_the_core_refuses_them() {
    let emulator = Emulator::start().await;
    let app =
        test::init_service(App::new().configure(routes).wrap(Authentication::new(emulator.authenticator()))).await;

    let expired = emulator.user_token().expired().sign();
    let answer = send(&app, bearer(get("/me"), &expired).to_request()).await;
    answer.assert_core(&AuthError::Expired);
    assert_eq!(
        answer.header("www-authenticate"),
        Some(r#"Bearer error="invalid_token", error_description="The token has expired""#)
    );

    let forged = emulator.user_token().sign_with_foreign_key();
    send(&app, bearer(get("/me"), &forged).to_request()).await.assert_core(&AuthError::InvalidSignature);

    let tampered = emulator.user_token().sign_tampered();
    send(&app, bearer(get("/me"), &tampered).to_request()).await.assert_core(&AuthError::InvalidSignature);

    let none = emulator.user_token().sign_alg_none();
    let answer = send(&app, bearer(get("/me"), &none).to_request()).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.json()["error"], "invalid_token");

    // A user token in the access-token header.
    let user = emulator.user_token().sign();
    let answer = send(&app, get("/me").insert_header(("x-api-key", user.as_str())).to_request()).await;
    answer.assert_core(&AuthError::WrongTokenType(WrongTokenType::BearerTokenAsApiKey));
}

#[actix_web::test]
async fn valid_credentials_reach_the_handler_with_their_identity() {
    let emulator = Emulator::start().await;
    let app =
        test::init_service(App::new().configure(routes).wrap(Authentication::new(emulator.authenticator()))).await;

    let token = emulator.user_token().subject("user-42").sign();
    let answer = send(&app, bearer(get("/me"), &token).to_request()).await;
    assert_eq!((answer.status, answer.text()), (200, "user-42"));
    let answer = send(&app, bearer(get("/maybe"), &token).to_request()).await;
    assert_eq!(answer.text(), "some:user-42");
    let answer = send(&app, bearer(get("/strict"), &token).to_request()).await;
    assert_eq!(answer.text(), "some:user-42");
    let answer = send(&app, bearer(get("/own-way"), &token).to_request()).await;
    assert_eq!((answer.status, answer.text()), (200, "user-42"));

    // An access token, in x-api-key, with its rights resolved through the API.
    let access = emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &["admin"], &["reports.read"]);
    let answer = send(&app, get("/reports").insert_header(("x-api-key", access.token.as_str())).to_request()).await;
    assert_eq!((answer.status, answer.text()), (200, "reports"));
    let answer = send(&app, get("/any").insert_header(("x-api-key", access.token.as_str())).to_request()).await;
    assert_eq!((answer.status, answer.text()), (200, format!("any:{}", access.id).as_str()));
}

#[actix_web::test]
async fn optional_mode_lets_anonymous_callers_through_but_not_bad_credentials() {
    let emulator = Emulator::start().await;
    let app =
        test::init_service(App::new().configure(routes).wrap(Authentication::optional(emulator.authenticator()))).await;

    // Anonymous.
    assert_eq!(send(&app, get("/maybe").to_request()).await.text(), "none");
    assert_eq!(send(&app, get("/strict").to_request()).await.text(), "none");
    send(&app, get("/me").to_request()).await.assert_core(&AuthError::MissingCredential);
    send(&app, get("/typed").to_request()).await.assert_core(&AuthError::MissingCredential);
    send(&app, get("/reports").to_request()).await.assert_core(&AuthError::MissingCredential);
    send(&app, get("/tenants/tenant-1/users").to_request()).await.assert_core(&AuthError::MissingCredential);
    let answer = send(&app, get("/own-way").to_request()).await;
    assert_eq!((answer.status, answer.header("location")), (302, Some("/login")));

    // Signed in.
    let token = emulator.user_token().sign();
    assert_eq!(send(&app, bearer(get("/maybe"), &token).to_request()).await.text(), "some:user-1");

    // A bad credential is refused, even where none is needed.
    let expired = emulator.user_token().expired().sign();
    send(&app, bearer(get("/maybe"), &expired).to_request()).await.assert_core(&AuthError::Expired);
    let answer = send(&app, bearer(get("/maybe"), "garbage").to_request()).await;
    assert_eq!((answer.status, answer.json()["error"].as_str()), (401, Some("invalid_token")));
}

#[actix_web::test]
async fn a_missing_middleware_is_a_500_not_an_anonymous_caller() {
    let app = test::init_service(App::new().configure(routes)).await;
    for path in ["/me", "/strict", "/typed", "/any", "/tenants/tenant-1/users", "/in-handler"] {
        let answer = send(&app, get(path).to_request()).await;
        answer.assert_misconfiguration();
        assert!(
            answer.json()["error_description"]
                .as_str()
                .unwrap_or_default()
                .contains("No Frontegg authentication ran before this check"),
            "{path}"
        );
    }
    // `require` answers as the core's RequirementLayer does: 500 (and logs the misconfiguration).
    send(&app, get("/reports").to_request()).await.assert_misconfiguration();
    // actix-web's Option<T> swallows the error: documented, and logged.
    assert_eq!(send(&app, get("/maybe").to_request()).await.text(), "none");
    assert_eq!(send(&app, get("/own-way").to_request()).await.text(), "misconfigured");
    // No guard matches, `anonymous()` included: a request no middleware saw is no anonymous
    // caller. Route guards failing in a resource that matched: 405.
    assert_eq!(send(&app, get("/dashboard").to_request()).await.status, 405);
}

#[actix_web::test]
async fn authorize_registered_inside_authenticate_on_the_same_scope_fails_closed() {
    let emulator = Emulator::start().await;
    let token = emulator.user_token().permissions(["reports.read"]).sign();
    // Wrong: the last wrap runs first, so the checks run before the authentication.
    let wrong = test::init_service(
        App::new()
            .service(
                web::scope("/reports")
                    .route("", web::get().to(|| async { "reports" }))
                    .wrap(Authentication::new(emulator.authenticator()))
                    .wrap(require(Requirement::permission("reports.read"))),
            )
            .service(
                web::scope("/tenants/{tenant_id}")
                    .route("", web::get().to(|| async { "tenant" }))
                    .wrap(Authentication::new(emulator.authenticator()))
                    .wrap(require_tenant_from_path("tenant_id")),
            ),
    )
    .await;
    send(&wrong, bearer(get("/reports"), &token).to_request()).await.assert_misconfiguration();
    send(&wrong, bearer(get("/tenants/tenant-1"), &token).to_request()).await.assert_misconfiguration();
    // Right.
    let right = test::init_service(
        App::new()
            .service(
                web::scope("/reports")
                    .route("", web::get().to(|| async { "reports" }))
                    .wrap(require(Requirement::permission("reports.read")))
                    .wrap(Authentication::new(emulator.authenticator())),
            )
            .service(
                web::scope("/tenants/{tenant_id}")
                    .route("", web::get().to(|| async { "tenant" }))
                    .wrap(require_tenant_from_path("tenant_id"))
                    .wrap(Authentication::new(emulator.authenticator())),
            ),
    )
    .await;
    let answer = send(&right, bearer(get("/reports"), &token).to_request()).await;
    assert_eq!((answer.status, answer.text()), (200, "reports"));
    let answer = send(&right, bearer(get("/tenants/tenant-1"), &token).to_request()).await;
    assert_eq!((answer.status, answer.text()), (200, "tenant"));
}

#[actix_web::test]
async fn require_wrappers_answer_403_with_the_core_s_challenge() {
    let emulator = Emulator::start().await;
    let app =
        test::init_service(App::new().configure(routes).wrap(Authentication::new(emulator.authenticator()))).await;

    let reader = emulator.user_token().permissions(["reports.read"]).sign();
    let answer = send(&app, bearer(get("/reports"), &reader).to_request()).await;
    assert_eq!((answer.status, answer.text()), (200, "reports"));

    let nobody = emulator.user_token().permissions(["other.thing"]).sign();
    let answer = send(&app, bearer(get("/reports"), &nobody).to_request()).await;
    let denied = denied_by(&Requirement::permission("reports.read"), &["other.thing"], &[]);
    answer.assert_core(&AuthError::Forbidden(denied));
    assert_eq!(answer.status, 403);
    assert_eq!(answer.json()["error"], "insufficient_scope");
    assert_eq!(
        answer.header("www-authenticate"),
        Some(
            r#"Bearer error="insufficient_scope", error_description="Missing permissions: reports.read", scope="reports.read""#
        )
    );

    // A wildcard grant.
    let wildcard = emulator.user_token().permissions(["reports.*"]).sign();
    assert_eq!(send(&app, bearer(get("/reports"), &wildcard).to_request()).await.status, 200);

    // Nested: the scope's requirement, then the resource's.
    let editor = emulator.user_token().permissions(["reports.read", "reports.write"]).roles(["owner"]).sign();
    let answer = send(&app, bearer(TestRequest::put().uri("/reports/7"), &editor).to_request()).await;
    assert_eq!((answer.status, answer.text()), (200, "updated"));
    let answer = send(&app, bearer(TestRequest::put().uri("/reports/7"), &reader).to_request()).await;
    assert_eq!(answer.status, 403);
    assert_eq!(answer.json()["error_description"], "Missing permissions: reports.write");
}

/// The core's verdict, for comparing answers.
fn denied_by(requirement: &Requirement, permissions: &[&str], roles: &[&str]) -> Denied {
    let identity = frontegg_auth::Identity::for_tests("user-1", TokenType::User, Some("tenant-1"), roles, permissions);
    match identity.satisfies(requirement) {
        Err(denied) => denied,
        Ok(()) => panic!("the requirement holds"),
    }
}

#[actix_web::test]
async fn typed_requirements_are_checked_at_extraction() {
    let emulator = Emulator::start().await;
    let app =
        test::init_service(App::new().configure(routes).wrap(Authentication::new(emulator.authenticator()))).await;

    let both = emulator.user_token().permissions(["reports.read", "reports.write"]).sign();
    let answer = send(&app, bearer(get("/typed"), &both).to_request()).await;
    assert_eq!((answer.status, answer.text()), (200, "typed:user-1"));

    let reader = emulator.user_token().permissions(["reports.read"]).sign();
    let answer = send(&app, bearer(get("/typed"), &reader).to_request()).await;
    let requirement = Require::<(ReadReports, WriteReports)>::requirement();
    answer.assert_core(&AuthError::Forbidden(denied_by(&requirement, &["reports.read"], &[])));

    let owner = emulator.user_token().roles(["owner"]).sign();
    assert_eq!(send(&app, bearer(get("/any"), &owner).to_request()).await.text(), "any:user-1");
    let viewer = emulator.user_token().roles(["viewer"]).sign();
    let answer = send(&app, bearer(get("/any"), &viewer).to_request()).await;
    let requirement = Require::<AnyOf<(Admin, Owner)>>::requirement();
    answer.assert_core(&AuthError::Forbidden(denied_by(&requirement, &[], &["viewer"])));

    // The check in the handler answers the same way.
    let answer = send(&app, bearer(get("/in-handler"), &viewer).to_request()).await;
    let requirement = Requirement::permission("reports.export");
    answer.assert_core(&AuthError::Forbidden(denied_by(&requirement, &[], &[])));
}

#[actix_web::test]
async fn the_tenant_in_the_path_must_be_the_credential_s() {
    let emulator = Emulator::start().await;
    let app =
        test::init_service(App::new().configure(routes).wrap(Authentication::new(emulator.authenticator()))).await;
    let token = emulator.user_token().tenant("tenant-1").sign();

    let answer = send(&app, bearer(get("/tenants/tenant-1/users"), &token).to_request()).await;
    assert_eq!((answer.status, answer.text()), (200, "users of tenant-1"));

    let answer = send(&app, bearer(get("/tenants/tenant-2/users"), &token).to_request()).await;
    answer.assert_core(&AuthError::Forbidden(denied_by(&Requirement::tenant("tenant-2"), &[], &[])));
    assert_eq!(answer.json()["error_description"], "The credential does not belong to this tenant");

    // On a resource.
    assert_eq!(send(&app, bearer(get("/resource-tenant/tenant-1"), &token).to_request()).await.status, 200);
    assert_eq!(send(&app, bearer(get("/resource-tenant/tenant-2"), &token).to_request()).await.status, 403);

    // Compared decoded, as web::Path<String> gives it.
    let plus = emulator.user_token().tenant("a+b/c").sign();
    let answer = send(&app, bearer(get("/resource-tenant/a%2Bb%2Fc"), &plus).to_request()).await;
    assert_eq!((answer.status, answer.text()), (200, "resource tenant"));

    // A credential without a tenant.
    let tenantless = emulator.user_token().without("tenantId").without("tenantIds").sign();
    let answer = send(&app, bearer(get("/tenants/tenant-1/users"), &tenantless).to_request()).await;
    assert_eq!(answer.status, 403);

    // A parameter the wrapped scope does not declare itself: misconfiguration.
    let answer = send(&app, bearer(get("/undeclared/tenant-1"), &token).to_request()).await;
    answer.assert_misconfiguration();
    assert!(answer.json()["error_description"].as_str().unwrap_or_default().contains("`tenant_id`"));
}

#[actix_web::test]
async fn guards_route_by_identity() {
    let emulator = Emulator::start().await;
    let app =
        test::init_service(App::new().configure(routes).wrap(Authentication::optional(emulator.authenticator()))).await;
    let admin = emulator.user_token().roles(["admin"]).permissions(["reports.admin"]).sign();
    let user = emulator.user_token().tenant("tenant-2").sign();

    assert_eq!(send(&app, bearer(get("/dashboard"), &admin).to_request()).await.text(), "admin dashboard");
    assert_eq!(send(&app, bearer(get("/dashboard"), &user).to_request()).await.text(), "your dashboard");
    assert_eq!(send(&app, get("/dashboard").to_request()).await.text(), "please sign in");

    // A failed route guard: the resource's answer, 405.
    assert_eq!(send(&app, bearer(get("/guarded-route"), &admin).to_request()).await.status, 200);
    assert_eq!(send(&app, bearer(get("/guarded-route"), &user).to_request()).await.status, 405);
    assert_eq!(send(&app, get("/guarded-route").to_request()).await.status, 405);

    // A failed scope or resource guard: no match, 404.
    assert_eq!(send(&app, bearer(get("/guarded-scope"), &admin).to_request()).await.status, 200);
    assert_eq!(send(&app, bearer(get("/guarded-scope"), &user).to_request()).await.status, 404);
    assert_eq!(send(&app, bearer(get("/guarded-marker"), &admin).to_request()).await.text(), "marker");
    assert_eq!(send(&app, bearer(get("/guarded-marker"), &user).to_request()).await.status, 404);
}

#[actix_web::test]
async fn an_unreachable_frontegg_is_a_503_with_retry_after() {
    let emulator = Emulator::start().await;
    emulator.set_behaviour(Surface::Jwks, Behaviour::Unavailable);
    let app =
        test::init_service(App::new().configure(routes).wrap(Authentication::new(emulator.authenticator()))).await;
    let token = emulator.user_token().sign();
    let answer = send(&app, bearer(get("/me"), &token).to_request()).await;
    answer.assert_core(&AuthError::KeysUnavailable(KeyError::NotLoaded));
    assert_eq!(answer.header("retry-after"), Some("5"));
    assert_eq!(answer.json()["error"], "temporarily_unavailable");
}

#[actix_web::test]
async fn cors_preflights_pass_only_when_allowed() {
    let emulator = Emulator::start().await;
    let preflight = || {
        TestRequest::default()
            .method(Method::OPTIONS)
            .uri("/me")
            .insert_header(("origin", "https://app.example.com"))
            .insert_header(("access-control-request-method", "GET"))
            .to_request()
    };

    let strict =
        test::init_service(App::new().configure(routes).wrap(Authentication::new(emulator.authenticator()))).await;
    send(&strict, preflight()).await.assert_core(&AuthError::MissingCredential);

    let open = test::init_service(
        App::new().configure(routes).wrap(Authentication::new(emulator.authenticator()).allow_cors_preflight()),
    )
    .await;
    let answer = send(&open, preflight()).await;
    assert_eq!((answer.status, answer.text()), (200, "preflight reached the handler"));
    // A plain OPTIONS is no preflight.
    let plain = TestRequest::default().method(Method::OPTIONS).uri("/me").to_request();
    send(&open, plain).await.assert_core(&AuthError::MissingCredential);
}

#[actix_web::test]
async fn middleware_refusals_are_responses_not_errors() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let emulator = Emulator::start().await;
    let errors = Arc::new(AtomicUsize::new(0));
    let seen = errors.clone();
    let app = test::init_service(
        App::new()
            .configure(routes)
            .wrap(Authentication::new(emulator.authenticator()))
            // Outermost: sees what the authentication middleware returned.
            .wrap_fn(move |req, srv| {
                let seen = seen.clone();
                let call = srv.call(req);
                async move {
                    let response = call.await?;
                    if response.response().error().is_some() {
                        seen.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(response)
                }
            }),
    )
    .await;
    send(&app, get("/me").to_request()).await.assert_core(&AuthError::MissingCredential);
    let expired = emulator.user_token().expired().sign();
    send(&app, bearer(get("/me"), &expired).to_request()).await.assert_core(&AuthError::Expired);
    let nobody = emulator.user_token().sign();
    assert_eq!(send(&app, bearer(get("/reports"), &nobody).to_request()).await.status, 403);
    assert_eq!(errors.load(Ordering::SeqCst), 0);
}

#[actix_web::test]
async fn a_public_app_with_a_protected_scope() {
    let emulator = Emulator::start().await;
    let auth = emulator.authenticator();
    let app = test::init_service(
        App::new()
            .route("/", web::get().to(maybe))
            .service(web::scope("/account").wrap(Authentication::new(auth.clone())).route("", web::get().to(me)))
            .wrap(Authentication::optional(auth)),
    )
    .await;
    assert_eq!(send(&app, get("/").to_request()).await.text(), "none");
    send(&app, get("/account").to_request()).await.assert_core(&AuthError::MissingCredential);
    let token = emulator.user_token().sign();
    assert_eq!(send(&app, bearer(get("/account"), &token).to_request()).await.text(), "user-1");
}

#[actix_web::test]
async fn extractors_read_identities_put_there_by_other_means() {
    // Identities from `Identity::for_tests`, inserted by hand: the extractors and guards only
    // read the request extensions.
    let identity =
        frontegg_auth::Identity::for_tests("svc", TokenType::TenantApi, Some("tenant-1"), &[], &["reports.read"]);
    let app = test::init_service(App::new().configure(routes).wrap_fn(move |req, srv| {
        actix_web::HttpMessage::extensions_mut(&req).insert(frontegg_auth::Caller::Identified(identity.clone()));
        srv.call(req)
    }))
    .await;
    assert_eq!(send(&app, get("/me").to_request()).await.text(), "svc");
    assert_eq!(send(&app, get("/reports").to_request()).await.text(), "reports");
    assert_eq!(send(&app, get("/guarded-route").to_request()).await.text(), "ok");
    assert_eq!(send(&app, get("/typed").to_request()).await.status, 403);
}

/// `render` gives every refusal exactly as the core's `Refusal::to_response`: status, every
/// header, body, the server's own answers included.
#[actix_web::test]
async fn render_copies_the_core_s_answers_byte_for_byte() {
    let refusals = [
        Refusal::from(AuthError::MissingCredential),
        Refusal::from(AuthError::Expired),
        Refusal::from(AuthError::Malformed(Malformed::BothHeaders)),
        Refusal::from(AuthError::KeysUnavailable(KeyError::NotLoaded)),
        Refusal::from(AuthError::Forbidden(denied_by(&Requirement::permission("reports.write"), &[], &[]))),
        Refusal::no_authentication(),
        Refusal::misconfigured("a route without its parameter"),
        Refusal::bad_request("Invalid UTF-8"),
        Refusal::redirect(http::HeaderValue::from_static("/login")),
    ];
    for refusal in refusals {
        let core = refusal.to_response::<Vec<u8>>();
        let ours = frontegg_actix::render(&refusal);
        assert_eq!(ours.status().as_u16(), core.status().as_u16(), "{refusal:?}");
        let mut expected: Vec<(String, Vec<u8>)> =
            core.headers().iter().map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec())).collect();
        let mut got: Vec<(String, Vec<u8>)> =
            ours.headers().iter().map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec())).collect();
        expected.sort();
        got.sort();
        assert_eq!(got, expected, "{refusal:?}");
        let body = actix_web::body::to_bytes(ours.into_body()).await.unwrap_or_default();
        assert_eq!(&body[..], &core.body()[..], "{refusal:?}");
    }
}
