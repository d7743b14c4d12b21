//! Step-up requirements (RFC 9470) against real tokens, the age edges on a clock the test sets.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use frontegg_auth::testing::{Emulator, TokenBuilder};
use frontegg_auth::{
    AuthError, Authenticator, Clock, Credential, CredentialKind, Identity, MFA_ACR, Refusal, Requirement, TokenType,
};
use serde_json::json;

/// An authenticator whose requirement checks read `seconds` as the time.
fn at(emulator: &Emulator, seconds: &Arc<AtomicU64>, sso: bool) -> Authenticator {
    let reading = seconds.clone();
    let clock = Clock::from_fn(move || UNIX_EPOCH + Duration::from_secs(reading.load(Ordering::SeqCst)));
    Authenticator::new(emulator.config().clock(clock).step_up_accepts_sso(sso).build().unwrap()).unwrap()
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

async fn identity(auth: &Authenticator, token: TokenBuilder) -> Identity {
    let kind =
        if token.claims()["type"] == "tenantAccessToken" { CredentialKind::ApiKey } else { CredentialKind::Bearer };
    auth.authenticate(&Credential::new(kind, token.sign())).await.unwrap()
}

fn step_up_error(identity: &Identity, requirement: &Requirement) -> Option<AuthError> {
    identity.satisfies(requirement).err().map(AuthError::from)
}

#[tokio::test]
async fn the_age_edges_on_the_authenticators_clock() {
    let emulator = Emulator::start().await;
    let t = now();
    let clock = Arc::new(AtomicU64::new(t));
    let auth = at(&emulator, &clock, true);
    let within_300 = Requirement::step_up_within(Duration::from_secs(300));
    let stepped_up = identity(&auth, emulator.user_token().stepped_up().claim("auth_time", t)).await;

    for (offset, passes) in [(0, true), (299, true), (300, true), (301, false), (3600, false)] {
        clock.store(t + offset, Ordering::SeqCst);
        assert_eq!(stepped_up.satisfies(&within_300).is_ok(), passes, "{offset} s after the step-up");
    }
    // Without an age, any time after passes.
    assert!(stepped_up.satisfies(&Requirement::step_up()).is_ok());

    // An `auth_time` in the future: within the clock leeway (10 s) it is an age of zero; beyond,
    // it is refused, with or without an age.
    clock.store(t - 10, Ordering::SeqCst);
    assert!(stepped_up.satisfies(&within_300).is_ok());
    clock.store(t - 11, Ordering::SeqCst);
    assert!(stepped_up.satisfies(&within_300).is_err());
    assert!(stepped_up.satisfies(&Requirement::step_up()).is_err());
}

#[tokio::test]
async fn each_claim_missing_or_wrong_fails() {
    let emulator = Emulator::start().await;
    let clock = Arc::new(AtomicU64::new(now()));
    let auth = at(&emulator, &clock, true);
    let strict = at(&emulator, &clock, false);
    let any_age = Requirement::step_up();
    let within = Requirement::step_up_within(Duration::from_secs(300));
    let up = || emulator.user_token().stepped_up();

    let cases: Vec<(&str, TokenBuilder, bool, bool)> = vec![
        // (what, token, passes any age, passes within 300 s)
        ("stepped up", up(), true, true),
        ("no acr", up().without("acr"), false, false),
        ("another acr", up().claim("acr", "urn:mace:incommon:iap:silver"), false, false),
        ("acr as an array", up().claim("acr", json!([MFA_ACR])), false, false),
        ("no amr", up().without("amr"), false, false),
        ("amr without mfa", up().claim("amr", json!(["otp"])), false, false),
        ("amr with mfa alone", up().claim("amr", json!(["mfa"])), false, false),
        ("amr with sms", up().claim("amr", json!(["mfa", "sms"])), true, true),
        ("amr with hwk", up().claim("amr", json!(["mfa", "hwk"])), true, true),
        ("amr as a string", up().claim("amr", "mfa otp"), false, false),
        ("amr with a number", up().claim("amr", json!(["mfa", "otp", 3])), false, false),
        ("no auth_time", up().without("auth_time"), true, false),
        ("auth_time as a string", up().claim("auth_time", now().to_string()), false, false),
        ("negative auth_time", up().claim("auth_time", -5), false, false),
    ];
    for (what, token, any, recent) in cases {
        let identity = identity(&auth, token).await;
        assert_eq!(identity.satisfies(&any_age).is_ok(), any, "{what}, any age");
        assert_eq!(identity.satisfies(&within).is_ok(), recent, "{what}, within 300 s");
    }
    // `sso` as the second factor: accepted by default (as Frontegg's Node SDK), refused when
    // turned off.
    let sso = emulator.user_token().stepped_up().claim("amr", json!(["mfa", "sso"]));
    assert!(identity(&auth, sso.clone()).await.satisfies(&within).is_ok());
    assert!(identity(&strict, sso).await.satisfies(&within).is_err());
}

#[tokio::test]
async fn the_answers_and_their_order() {
    let emulator = Emulator::start().await;
    let auth = emulator.authenticator();
    let approve = Requirement::permission("reports.write").and(Requirement::step_up_within(Duration::from_secs(300)));

    // A user who lacks the other right: the usual 403, stepped up or not.
    for token in [emulator.user_token().permissions(["reports.read"]), emulator.user_token().stepped_up()] {
        let reader = identity(&auth, token.permissions(["reports.read"])).await;
        let refusal = Refusal::from(step_up_error(&reader, &approve).unwrap());
        assert_eq!(refusal.status(), 403);
        assert_eq!(refusal.code(), "insufficient_scope");
    }
    // The step-up listed first changes nothing: the other rights are checked first.
    let reversed = Requirement::step_up().and(Requirement::permission("reports.write"));
    let reader = identity(&auth, emulator.user_token().permissions(["reports.read"])).await;
    assert_eq!(Refusal::from(step_up_error(&reader, &reversed).unwrap()).status(), 403);

    // API and access tokens can never step up: 403.
    let api = identity(&auth, emulator.token(TokenType::TenantApi).permissions(["reports.write"])).await;
    let refusal = Refusal::from(step_up_error(&api, &approve).unwrap());
    assert_eq!((refusal.status().as_u16(), refusal.code()), (403, "insufficient_scope"));
    assert_eq!(
        refusal.description(),
        "API tokens and access tokens cannot step up: this needs a user's multi-factor login"
    );

    // A user with the right, not stepped up: 401 and the RFC 9470 challenge, exactly.
    let writer = identity(&auth, emulator.user_token().permissions(["reports.write"])).await;
    let error = step_up_error(&writer, &approve).unwrap();
    assert!(
        matches!(&error, AuthError::StepUpRequired(step_up) if step_up.max_age() == Some(Duration::from_secs(300)))
    );
    let response: http::Response<Vec<u8>> = Refusal::from(error).to_response();
    assert_eq!(response.status(), 401);
    let d = "A multi-factor authentication within the last 300 seconds is required";
    assert_eq!(
        response.headers()["www-authenticate"],
        format!(
            "Bearer error=\"insufficient_user_authentication\", error_description=\"{d}\", acr_values=\"{MFA_ACR}\", max_age=\"300\""
        )
        .as_str()
    );
    let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(body, json!({"error": "insufficient_user_authentication", "error_description": d}));

    // Without an age, no `max_age` parameter.
    let error = step_up_error(&writer, &Requirement::step_up()).unwrap();
    let challenge = Refusal::from(error).www_authenticate().unwrap();
    assert!(challenge.ends_with(&format!("acr_values=\"{MFA_ACR}\"")), "{challenge}");

    // An alternative that only a step-up keeps from passing: the step-up lifts the refusal.
    let either = Requirement::role("admin").or(Requirement::step_up());
    assert!(matches!(step_up_error(&writer, &either), Some(AuthError::StepUpRequired(_))));
    // Stepped up: passes.
    let fresh = identity(&auth, emulator.user_token().permissions(["reports.write"]).stepped_up()).await;
    assert!(fresh.satisfies(&approve).is_ok());
}
