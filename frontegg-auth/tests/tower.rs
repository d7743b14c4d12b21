//! The tower layers: credentials from headers, the error answers (RFC 6750), optional mode,
//! CORS preflights, and the requirement layer.

use std::convert::Infallible;

use bytes::Bytes;
use frontegg_auth::testing::Emulator;
use frontegg_auth::{AuthenticationLayer, Caller, Requirement, RequirementLayer};
use http::{HeaderValue, Request, Response, StatusCode, header};
use serde_json::Value;
use tower::{ServiceBuilder, ServiceExt, service_fn};

async fn echo(req: Request<Bytes>) -> Result<Response<Bytes>, Infallible> {
    let body = match req.extensions().get::<Caller>() {
        Some(Caller::Identified(identity)) => format!("identity {}", identity.sub()),
        Some(Caller::Anonymous) => "anonymous".to_owned(),
        None => "nothing".to_owned(),
    };
    Ok(Response::new(Bytes::from(body)))
}

fn request(headers: &[(&str, &str)]) -> Request<Bytes> {
    let mut req = Request::new(Bytes::new());
    for (name, value) in headers {
        req.headers_mut().append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_bytes(value.as_bytes()).unwrap(),
        );
    }
    req
}

fn json(response: &Response<Bytes>) -> Value {
    serde_json::from_slice(response.body()).unwrap()
}

fn challenge(response: &Response<Bytes>) -> &str {
    response.headers()[header::WWW_AUTHENTICATE].to_str().unwrap()
}

#[tokio::test]
async fn the_layer_answers_rfc_6750_refusals_and_passes_identities_on() {
    let emulator = Emulator::start().await;
    let service = ServiceBuilder::new().layer(AuthenticationLayer::new(emulator.authenticator())).service_fn(echo);

    let missing = service.clone().oneshot(request(&[])).await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&missing), "Bearer");
    assert_eq!(json(&missing)["error"], "unauthorized");
    assert_eq!(missing.headers()[header::CONTENT_TYPE], "application/json");

    let token = emulator.user_token().sign();
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let ok = service.clone().oneshot(request(&[("authorization", &format!("{scheme} {token}"))])).await.unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(ok.body(), "identity user-1");
    }

    let cases: [(&[(&str, &str)], &str); 6] = [
        (&[("authorization", "Bearer ")], "The credential is malformed: the bearer token is empty"),
        (
            &[("authorization", "Basic dXNlcjpwYXNz")],
            "The credential is malformed: the Authorization scheme must be Bearer",
        ),
        (&[("authorization", "Bearer not.a.jwt")], "The credential is malformed: the token header cannot be decoded"),
        (
            &[("authorization", "Bearer a"), ("authorization", "Bearer b")],
            "The credential is malformed: send one Authorization header",
        ),
        (
            &[("authorization", "Bearer a.b.c"), ("x-api-key", "a.b.c")],
            "The credential is malformed: send either Authorization or x-api-key, not both",
        ),
        (&[("x-api-key", "")], "The credential is malformed: the x-api-key header is empty"),
    ];
    for (headers, description) in cases {
        let refused = service.clone().oneshot(request(headers)).await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{description}");
        let body = json(&refused);
        assert_eq!(body["error"], "invalid_token");
        assert_eq!(body["error_description"], description);
        assert_eq!(challenge(&refused), format!("Bearer error=\"invalid_token\", error_description=\"{description}\""));
    }

    let expired = service
        .clone()
        .oneshot(request(&[("authorization", &format!("Bearer {}", emulator.user_token().expired().sign()))]))
        .await
        .unwrap();
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(&expired)["error_description"], "The token has expired");
    // The token never comes back in the answer.
    let forged = emulator.user_token().sign_tampered();
    let refused = service.clone().oneshot(request(&[("authorization", &format!("Bearer {forged}"))])).await.unwrap();
    let all = format!("{:?} {:?}", refused.headers(), refused.body());
    assert!(!all.contains(&forged[..40]));
}

#[tokio::test]
async fn optional_mode_lets_anonymous_callers_through_but_not_bad_credentials() {
    let emulator = Emulator::start().await;
    let service = ServiceBuilder::new().layer(AuthenticationLayer::optional(emulator.authenticator())).service_fn(echo);
    let anonymous = service.clone().oneshot(request(&[])).await.unwrap();
    assert_eq!(anonymous.body(), "anonymous");
    let bad = service.clone().oneshot(request(&[("authorization", "Bearer x.y.z")])).await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let good = service
        .oneshot(request(&[("authorization", &format!("Bearer {}", emulator.user_token().sign()))]))
        .await
        .unwrap();
    assert_eq!(good.body(), "identity user-1");
}

#[tokio::test]
async fn cors_preflights_pass_only_when_allowed() {
    let emulator = Emulator::start().await;
    let preflight = || {
        let mut req = request(&[("origin", "https://app.example.com"), ("access-control-request-method", "POST")]);
        *req.method_mut() = http::Method::OPTIONS;
        req
    };
    let strict = ServiceBuilder::new().layer(AuthenticationLayer::new(emulator.authenticator())).service_fn(echo);
    assert_eq!(strict.oneshot(preflight()).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let lenient = ServiceBuilder::new()
        .layer(AuthenticationLayer::new(emulator.authenticator()).allow_cors_preflight())
        .service_fn(echo);
    let passed = lenient.clone().oneshot(preflight()).await.unwrap();
    assert_eq!((passed.status(), passed.body().as_ref()), (StatusCode::OK, b"anonymous".as_ref()));
    // A plain OPTIONS without the preflight header is not a preflight.
    let mut plain = request(&[]);
    *plain.method_mut() = http::Method::OPTIONS;
    assert_eq!(lenient.oneshot(plain).await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_requirement_layer_answers_403_with_what_is_missing() {
    let emulator = Emulator::start().await;
    let service = ServiceBuilder::new()
        .layer(AuthenticationLayer::optional(emulator.authenticator()))
        .layer(RequirementLayer::new(Requirement::all_permissions(["reports.read", "reports.write"])))
        .service(service_fn(echo));
    let call = |token: Option<String>| {
        let service = service.clone();
        async move {
            let header = token.map(|t| format!("Bearer {t}"));
            let headers: Vec<(&str, &str)> = header.iter().map(|h| ("authorization", h.as_str())).collect();
            service.oneshot(request(&headers)).await.unwrap()
        }
    };
    assert_eq!(call(None).await.status(), StatusCode::UNAUTHORIZED);

    let partial = call(Some(emulator.user_token().permissions(["reports.read"]).sign())).await;
    assert_eq!(partial.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        challenge(&partial),
        "Bearer error=\"insufficient_scope\", error_description=\"Missing permissions: reports.write\", scope=\"reports.write\""
    );
    assert_eq!(json(&partial)["error"], "insufficient_scope");
    assert_eq!(json(&partial)["error_description"], "Missing permissions: reports.write");

    let wildcard = call(Some(emulator.user_token().permissions(["reports.*"]).sign())).await;
    assert_eq!(wildcard.status(), StatusCode::OK);
    let full = call(Some(emulator.user_token().permissions(["reports.read", "reports.write"]).sign())).await;
    assert_eq!(full.status(), StatusCode::OK);
}

#[tokio::test]
async fn wildcards_can_be_turned_off() {
    let emulator = Emulator::start().await;
    let auth =
        frontegg_auth::Authenticator::new(emulator.config().wildcard_permissions(false).build().unwrap()).unwrap();
    let service = ServiceBuilder::new()
        .layer(AuthenticationLayer::new(auth))
        .layer(RequirementLayer::new(Requirement::permission("reports.read")))
        .service(service_fn(echo));
    let token = emulator.user_token().permissions(["reports.*"]).sign();
    let response = service.oneshot(request(&[("authorization", &format!("Bearer {token}"))])).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn requirements_combine_all_any_roles_and_tenants() {
    let emulator = Emulator::start().await;
    let auth = emulator.authenticator();
    let identity = |token: String| {
        let auth = auth.clone();
        async move {
            auth.authenticate(&frontegg_auth::Credential::new(frontegg_auth::CredentialKind::Bearer, token))
                .await
                .unwrap()
        }
    };
    let admin =
        identity(emulator.user_token().roles(["admin"]).permissions(["fe.secure.*"]).tenant("t-1").sign()).await;
    let viewer =
        identity(emulator.user_token().roles(["viewer"]).permissions(["reports.read"]).tenant("t-2").sign()).await;

    let manage = Requirement::any_roles(["admin", "owner"]);
    assert!(manage.check(&admin, admin.context()).is_ok());
    let denied = manage.check(&viewer, viewer.context()).unwrap_err();
    assert_eq!(denied.missing_roles(), ["admin", "owner"]);
    assert_eq!(denied.to_string(), "Missing one of the roles: admin, owner");

    assert!(Requirement::all_roles(["admin", "owner"]).check(&admin, admin.context()).is_err());
    assert!(Requirement::any_permissions(["fe.secure.read", "x"]).check(&admin, admin.context()).is_ok());
    assert!(Requirement::all_permissions(Vec::<String>::new()).check(&viewer, viewer.context()).is_ok());
    assert!(Requirement::any_permissions(Vec::<String>::new()).check(&admin, admin.context()).is_err());

    let tenant = Requirement::tenant("t-1");
    assert!(tenant.check(&admin, admin.context()).is_ok());
    assert!(tenant.check(&viewer, viewer.context()).unwrap_err().tenant_mismatch());

    let combined = Requirement::permission("reports.read").and(Requirement::tenant("t-2"));
    assert!(combined.check(&viewer, viewer.context()).is_ok());
    assert!(combined.check(&admin, admin.context()).is_err());
    let either = Requirement::role("admin").or(Requirement::permission("reports.read"));
    assert!(either.check(&admin, admin.context()).is_ok() && either.check(&viewer, viewer.context()).is_ok());
    let neither = Requirement::role("owner")
        .or(Requirement::permission("billing.read"))
        .check(&viewer, viewer.context())
        .unwrap_err();
    assert_eq!(neither.missing_roles(), ["owner"]);
    assert_eq!(neither.missing_permissions(), ["billing.read"]);
}

#[tokio::test]
async fn a_requirement_without_an_authentication_layer_is_a_500_not_a_401() {
    let service =
        ServiceBuilder::new().layer(RequirementLayer::new(Requirement::permission("reports.read"))).service_fn(echo);
    let answer = service.oneshot(request(&[("authorization", "Bearer a.b.c")])).await.unwrap();
    assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(json(&answer)["error"], "server_error");
    assert!(answer.headers().get(header::WWW_AUTHENTICATE).is_none());
}
