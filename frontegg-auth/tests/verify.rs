//! Verification against the emulator's keys over real TCP: key cache, rotation, outages, odd key
//! sets, and every kind of bad token.

use std::time::Duration;

use frontegg_auth::testing::{Behaviour, Emulator, Endpoint, Surface};
use frontegg_auth::{
    Algorithm, AuthError, Authenticator, Credential, CredentialKind, InvalidClaims, KeySource, Malformed, TokenType,
    WrongTokenType,
};
use serde_json::json;

fn bearer(token: impl Into<String>) -> Credential {
    Credential::new(CredentialKind::Bearer, token.into())
}

/// An emulator whose JWKS says `max-age=1`, and an authenticator that honours it.
async fn refreshing_every_second() -> (Emulator, Authenticator) {
    let emulator = Emulator::start().await;
    emulator.set_jwks_max_age(Some(1));
    let config = emulator
        .config()
        .key_refresh(Duration::from_millis(500), Duration::from_secs(60), Duration::from_secs(3600))
        .build()
        .unwrap();
    let auth = Authenticator::new(config).unwrap();
    (emulator, auth)
}

async fn verify(auth: &Authenticator, token: String) -> Result<frontegg_auth::Identity, AuthError> {
    auth.authenticate(&bearer(token)).await
}

#[tokio::test]
async fn a_user_token_verifies_and_maps_every_claim() {
    let emulator = Emulator::start().await;
    let auth = emulator.authenticator();
    let token = emulator
        .user_token()
        .roles(["Admin"])
        .permissions(["fe.secure.*", "reports.read"])
        .claim("applicationId", "app-1")
        .claim("someFutureClaim", json!({"x": 1}))
        .sign();
    let identity = verify(&auth, token).await.unwrap();
    assert_eq!(identity.sub(), "user-1");
    assert_eq!(identity.token_type(), &TokenType::User);
    assert_eq!(identity.tenant_id(), Some("tenant-1"));
    assert_eq!(identity.tenant_ids(), ["tenant-1".to_owned()]);
    assert_eq!(identity.user_id(), Some("user-1"));
    assert_eq!(identity.roles(), ["Admin".to_owned()]);
    assert_eq!(identity.email(), Some("user-1@example.com"));
    assert_eq!(identity.name(), Some("Jo Doe"));
    assert_eq!(identity.sid(), Some("session-of-user-1"));
    assert_eq!(identity.application_id(), Some("app-1"));
    assert!(identity.metadata().is_some());
    assert!(identity.expires_at().is_some());
    assert_eq!(identity.claims()["someFutureClaim"], json!({"x": 1}));
    assert!(identity.has_permission("fe.secure.read.users"));
    assert!(identity.has_permission("reports.read"));
    assert!(!identity.has_permission("reports.write"));
    // Personal data stays out of Debug.
    assert!(!format!("{identity:?}").contains("example.com"));
}

#[tokio::test]
async fn user_id_follows_the_token_type() {
    let emulator = Emulator::start().await;
    let auth = emulator.authenticator();
    let api = verify(&auth, emulator.token(TokenType::UserApi).claim("userId", "u-9").sign()).await.unwrap();
    assert_eq!(api.user_id(), Some("u-9"));
    let api =
        verify(&auth, emulator.token(TokenType::UserApi).without("userId").claim("createdByUserId", "u-7").sign())
            .await
            .unwrap();
    assert_eq!(api.user_id(), Some("u-7"));
    let tenant = verify(&auth, emulator.token(TokenType::TenantApi).sign()).await.unwrap();
    assert_eq!(tenant.user_id(), None);
    assert!(tenant.token_type().is_tenant_token());
    // Missing optional claims are fine.
    let bare = emulator.user_token().without("roles").without("permissions").without("email").without("tenantId");
    let identity = verify(&auth, bare.sign()).await.unwrap();
    assert!(identity.roles().is_empty() && identity.tenant_id().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_verifications_on_a_cold_cache_fetch_the_jwks_once() {
    let emulator = Emulator::start().await;
    let auth = emulator.authenticator();
    let token = emulator.user_token().sign();
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let (auth, token) = (auth.clone(), token.clone());
            tokio::spawn(async move { verify(&auth, token).await.is_ok() })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap());
    }
    assert_eq!(emulator.calls(Endpoint::Jwks), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unknown_kids_within_the_cooldown_costs_at_most_one_fetch() {
    let emulator = Emulator::start().await;
    let auth =
        Authenticator::new(emulator.config().unknown_kid_cooldown(Duration::from_secs(30)).build().unwrap()).unwrap();
    verify(&auth, emulator.user_token().sign()).await.unwrap();
    assert_eq!(emulator.calls(Endpoint::Jwks), 1);
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            let auth = auth.clone();
            let token = emulator.user_token().kid(&format!("made-up-{i}")).sign();
            tokio::spawn(async move { verify(&auth, token).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap_err(), AuthError::UnknownKey);
    }
    assert!(emulator.calls(Endpoint::Jwks) <= 2, "{} fetches", emulator.calls(Endpoint::Jwks));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_kids_after_the_cooldown_refetch_once_for_all_concurrent_callers() {
    let emulator = Emulator::start().await;
    let auth = Authenticator::new(emulator.config().unknown_kid_cooldown(Duration::from_millis(200)).build().unwrap())
        .unwrap();
    verify(&auth, emulator.user_token().sign()).await.unwrap();
    // Signed before the burst, so that it fits in the cooldown.
    let tokens: Vec<String> = (0..200).map(|i| emulator.user_token().kid(&format!("made-up-{i}")).sign()).collect();
    tokio::time::sleep(Duration::from_millis(250)).await;
    let tasks: Vec<_> = tokens
        .into_iter()
        .map(|token| {
            let auth = auth.clone();
            tokio::spawn(async move { verify(&auth, token).await })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().is_err());
    }
    assert_eq!(emulator.calls(Endpoint::Jwks), 2, "one refetch for the whole burst");
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_without_a_restart() {
    let emulator = Emulator::start().await;
    let auth = Authenticator::new(emulator.config().unknown_kid_cooldown(Duration::from_millis(100)).build().unwrap())
        .unwrap();
    let old = emulator.user_token().sign();
    verify(&auth, old.clone()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;

    let new_kid = emulator.rotate_key();
    emulator.retire_old_keys();
    let new = emulator.user_token().sign();
    let identity = verify(&auth, new).await.unwrap();
    assert_eq!(identity.sub(), "user-1");
    assert_eq!(emulator.calls(Endpoint::Jwks), 2);
    assert_eq!(emulator.signing_kid(), new_kid);
    // The retired key is gone from the refetched set.
    assert_eq!(verify(&auth, old).await.unwrap_err(), AuthError::UnknownKey);
}

#[tokio::test]
async fn the_background_refresh_follows_max_age_and_keeps_the_last_good_keys_through_an_outage() {
    let (emulator, auth) = refreshing_every_second().await;
    let token = emulator.user_token().sign();
    verify(&auth, token.clone()).await.unwrap();
    assert_eq!(emulator.calls(Endpoint::Jwks), 1);

    // A key rotated upstream arrives without any request asking for it.
    emulator.rotate_key();
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert!(emulator.calls(Endpoint::Jwks) >= 2);

    // Outage after warm-up: refreshes fail, every request still verifies.
    emulator.set_behaviour(Surface::Jwks, Behaviour::Unavailable);
    let before = emulator.calls(Endpoint::Jwks);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(emulator.calls(Endpoint::Jwks) > before, "the refresher kept trying");
    verify(&auth, token.clone()).await.unwrap();
    verify(&auth, emulator.user_token().sign()).await.unwrap();
    emulator.set_behaviour(Surface::Jwks, Behaviour::Garbage);
    tokio::time::sleep(Duration::from_millis(600)).await;
    verify(&auth, token).await.unwrap();
}

#[tokio::test]
async fn no_key_ever_loaded_answers_503_and_recovers_once_the_jwks_is_back() {
    let emulator = Emulator::start().await;
    emulator.set_behaviour(Surface::Jwks, Behaviour::Unavailable);
    let auth = emulator.authenticator();
    assert!(!auth.is_ready());
    let token = emulator.user_token().sign();
    let err = verify(&auth, token.clone()).await.unwrap_err();
    assert!(matches!(err, AuthError::KeysUnavailable(_)));
    assert_eq!(frontegg_auth::Refusal::from(err.clone()).status(), http::StatusCode::SERVICE_UNAVAILABLE);
    assert!(matches!(auth.ready(Duration::from_millis(300)).await, Err(AuthError::KeysUnavailable(_))));

    // For a second after a failed load, requests get that failure without asking again: a flood
    // costs one upstream call per second.
    emulator.set_behaviour(Surface::Jwks, Behaviour::Normal);
    let calls = emulator.calls(Endpoint::Jwks);
    for _ in 0..100 {
        assert!(matches!(verify(&auth, token.clone()).await.unwrap_err(), AuthError::KeysUnavailable(_)));
    }
    assert_eq!(emulator.calls(Endpoint::Jwks), calls);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    verify(&auth, token).await.unwrap();
    assert!(auth.is_ready());
}

#[tokio::test]
async fn ready_waits_for_the_keys_and_gives_up_at_its_timeout() {
    let emulator = Emulator::start().await;
    let auth = emulator.authenticator();
    auth.ready(Duration::from_secs(5)).await.unwrap();
    assert!(auth.is_ready());
    assert_eq!(emulator.calls(Endpoint::Jwks), 1);

    let slow = Emulator::start().await;
    slow.set_behaviour(Surface::Jwks, Behaviour::Slow(Duration::from_secs(30)));
    let auth = slow.authenticator();
    let started = std::time::Instant::now();
    assert!(matches!(auth.ready(Duration::from_millis(300)).await, Err(AuthError::KeysUnavailable(_))));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_jwks_with_odd_keys_beside_the_right_one_still_verifies() {
    let emulator = Emulator::start().await;
    emulator.add_jwks_entries(vec![
        json!({"kty": "EC", "crv": "P-256", "kid": "ec-key", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}),
        json!({"kty": "oct", "kid": "oct-key", "k": "c2VjcmV0"}),
        json!({"kty": "RSA", "kid": "enc-key", "use": "enc", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw", "e": "AQAB"}),
        json!({"kty": "RSA", "kid": "broken-key", "n": "%%%not-base64%%%", "e": "AQAB"}),
        json!("not even an object"),
    ]);
    let auth = emulator.authenticator();
    verify(&auth, emulator.user_token().sign()).await.unwrap();
    // A token naming one of the skipped keys is refused, not crashed on.
    let err = verify(&auth, emulator.user_token().kid("enc-key").sign()).await.unwrap_err();
    assert_eq!(err, AuthError::UnknownKey);
}

#[tokio::test]
async fn a_token_without_kid_is_tried_against_the_usable_keys() {
    let emulator = Emulator::start().await;
    emulator.rotate_key();
    emulator.rotate_key();
    let auth = emulator.authenticator();
    verify(&auth, emulator.user_token().no_kid().sign()).await.unwrap();
    assert_eq!(
        verify(&auth, emulator.user_token().no_kid().sign_with_foreign_key()).await.unwrap_err(),
        AuthError::InvalidSignature
    );
}

#[tokio::test]
async fn garbage_and_oversized_jwks_answers_are_refused_without_caching_a_verdict() {
    let emulator = Emulator::start().await;
    emulator.set_behaviour(Surface::Jwks, Behaviour::Garbage);
    let auth = emulator.authenticator();
    let token = emulator.user_token().sign();
    assert!(matches!(verify(&auth, token.clone()).await.unwrap_err(), AuthError::KeysUnavailable(_)));

    let big: Vec<_> =
        (0..3000).map(|i| json!({"kty": "oct", "kid": format!("pad-{i}"), "k": "c2VjcmV0c2VjcmV0c2VjcmV0"})).collect();
    emulator.add_jwks_entries(big);
    emulator.set_behaviour(Surface::Jwks, Behaviour::Normal);
    let small = Authenticator::new(emulator.config().max_jwks_bytes(16 * 1024).build().unwrap()).unwrap();
    assert!(matches!(verify(&small, token.clone()).await.unwrap_err(), AuthError::KeysUnavailable(_)));
    // The same answer within the default cap serves (once the second after the failure is over).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    verify(&auth, token).await.unwrap();
}

#[tokio::test]
async fn a_hanging_jwks_times_out_with_503() {
    let emulator = Emulator::start().await;
    emulator.set_behaviour(Surface::Jwks, Behaviour::Slow(Duration::from_secs(30)));
    let auth = Authenticator::new(emulator.config().http_timeout(Duration::from_millis(300)).build().unwrap()).unwrap();
    let started = std::time::Instant::now();
    assert!(matches!(verify(&auth, emulator.user_token().sign()).await.unwrap_err(), AuthError::KeysUnavailable(_)));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn bad_tokens_are_refused_with_the_right_error() {
    let emulator = Emulator::start().await;
    let auth = emulator.authenticator();
    let user = || emulator.user_token();
    let cases: Vec<(&str, String, AuthError)> = vec![
        ("alg none", user().sign_alg_none(), AuthError::AlgorithmNotAllowed),
        ("HS256 keyed with the public key", user().sign_hs256_with_public_key(), AuthError::AlgorithmNotAllowed),
        ("RS512 not allowed", user().algorithm(Algorithm::RS512).sign(), AuthError::AlgorithmNotAllowed),
        ("tampered payload", user().sign_tampered(), AuthError::InvalidSignature),
        ("foreign key", user().sign_with_foreign_key(), AuthError::InvalidSignature),
        ("expired", user().expired().sign(), AuthError::Expired),
        ("future nbf", user().not_before_in(Duration::from_secs(3600)).sign(), AuthError::NotYetValid),
        ("wrong iss", user().issuer("https://evil.example.com").sign(), AuthError::InvalidIssuer),
        ("no iss", user().without("iss").sign(), AuthError::InvalidClaims(InvalidClaims::MissingRequired)),
        ("wrong aud", user().audience("another-client").sign(), AuthError::InvalidAudience),
        ("no exp", user().without("exp").sign(), AuthError::InvalidClaims(InvalidClaims::MissingRequired)),
        (
            "string exp",
            user().claim("exp", "tomorrow").sign(),
            AuthError::InvalidClaims(InvalidClaims::MissingRequired),
        ),
        ("string nbf", user().claim("nbf", "later").sign(), AuthError::InvalidClaims(InvalidClaims::TimeClaim)),
        ("no sub", user().without("sub").sign(), AuthError::InvalidClaims(InvalidClaims::MissingRequired)),
        (
            "roles not a list",
            user().claim("roles", "admin").sign(),
            AuthError::InvalidClaims(InvalidClaims::WrongShape),
        ),
        (
            "unknown type",
            user().claim("type", "martianToken").sign(),
            AuthError::WrongTokenType(WrongTokenType::Unknown),
        ),
        ("oversized", user().claim("padding", "x".repeat(20_000)).sign(), AuthError::TooLarge),
        ("not base64", "abc.d!ef.ghi".to_owned(), AuthError::Malformed(Malformed::BadHeader)),
        ("two parts", "abc.def".to_owned(), AuthError::Malformed(Malformed::NotThreeParts)),
        ("unknown kid", user().kid("nobody").sign(), AuthError::UnknownKey),
    ];
    for (name, token, expected) in cases {
        let err = verify(&auth, token).await.expect_err(name);
        assert_eq!(err, expected, "{name}");
        let refusal = frontegg_auth::Refusal::from(err.clone());
        assert_eq!(refusal.status(), http::StatusCode::UNAUTHORIZED, "{name}");
        assert!(refusal.www_authenticate().unwrap_or_default().starts_with("Bearer error=\"invalid_token\""), "{name}");
    }
}

#[tokio::test]
async fn the_token_type_must_match_its_header() {
    let emulator = Emulator::start().await;
    let auth = emulator.authenticator();
    let user = emulator.user_token().sign();
    let err = auth.authenticate(&Credential::new(CredentialKind::ApiKey, user)).await.unwrap_err();
    assert_eq!(err, AuthError::WrongTokenType(WrongTokenType::BearerTokenAsApiKey));
    let access = emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &[]);
    let err = verify(&auth, access.token).await.unwrap_err();
    assert_eq!(err, AuthError::WrongTokenType(WrongTokenType::AccessTokenAsBearer));
}

#[tokio::test]
async fn hs256_is_accepted_only_with_an_explicit_secret() {
    let emulator = Emulator::start().await;
    let token = emulator.user_token().sign_hs256(b"the-environment-secret");
    let rsa_only = emulator.authenticator();
    assert_eq!(verify(&rsa_only, token.clone()).await.unwrap_err(), AuthError::AlgorithmNotAllowed);

    let hs = Authenticator::new(emulator.config().hs256_secret("the-environment-secret").build().unwrap()).unwrap();
    verify(&hs, token).await.unwrap();
    let forged = emulator.user_token().sign_hs256(b"a-guess");
    assert_eq!(verify(&hs, forged).await.unwrap_err(), AuthError::InvalidSignature);
    // RSA tokens keep working beside HS256, and the public key is still no HMAC secret.
    verify(&hs, emulator.user_token().sign()).await.unwrap();
    assert_eq!(
        verify(&hs, emulator.user_token().sign_hs256_with_public_key()).await.unwrap_err(),
        AuthError::InvalidSignature
    );
}

#[tokio::test]
async fn more_rsa_algorithms_when_configured() {
    let emulator = Emulator::start().await;
    let auth = Authenticator::new(emulator.config().algorithms([Algorithm::RS256, Algorithm::PS256]).build().unwrap())
        .unwrap();
    // The emulator's JWK says RS256: a PS256 token must not verify with it.
    let err = verify(&auth, emulator.user_token().algorithm(Algorithm::PS256).sign()).await.unwrap_err();
    assert_eq!(err, AuthError::UnknownKey);
    verify(&auth, emulator.user_token().sign()).await.unwrap();
}

#[tokio::test]
async fn the_vendor_configuration_key_source_works_with_credentials_alone() {
    let emulator = Emulator::start().await;
    let config = frontegg_auth::Config::builder()
        .gateway_url(emulator.url())
        .credentials(emulator.client_id(), emulator.api_key())
        .build()
        .unwrap();
    assert_eq!(config.key_source(), &KeySource::VendorConfiguration);
    let auth = Authenticator::new(config).unwrap();
    // Real tokens carry a `kid`; the PEM has none, and serves them all the same.
    verify(&auth, emulator.user_token().sign()).await.unwrap();
    verify(&auth, emulator.user_token().no_kid().sign()).await.unwrap();
    assert_eq!(
        verify(&auth, emulator.user_token().sign_with_foreign_key()).await.unwrap_err(),
        AuthError::InvalidSignature
    );
    // The foreign token's `kid` is unknown: one refetch (start-up fetches start no cooldown).
    assert_eq!(emulator.calls(Endpoint::Configuration), 2);
    assert_eq!(emulator.calls(Endpoint::VendorAuth), 1);
    assert_eq!(emulator.calls(Endpoint::Jwks), 0);
}

#[tokio::test]
async fn a_rotated_vendor_configuration_key_is_picked_up_through_the_new_kid() {
    let emulator = Emulator::start().await;
    let config = frontegg_auth::Config::builder()
        .gateway_url(emulator.url())
        .credentials(emulator.client_id(), emulator.api_key())
        .unknown_kid_cooldown(Duration::from_millis(100))
        .build()
        .unwrap();
    let auth = Authenticator::new(config).unwrap();
    verify(&auth, emulator.user_token().sign()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    emulator.rotate_key();
    verify(&auth, emulator.user_token().sign()).await.unwrap();
    assert_eq!(emulator.calls(Endpoint::Configuration), 2);
}

#[tokio::test]
async fn a_static_pem_serves_tokens_with_a_kid() {
    let emulator = Emulator::start().await;
    let client = frontegg_auth::api::FronteggClient::new(&emulator.config().build().unwrap()).unwrap();
    drop(client);
    let pem: serde_json::Value = {
        let http = reqwest::Client::new();
        let token: serde_json::Value = http
            .post(format!("{}/auth/vendor", emulator.url()))
            .json(&json!({"clientId": emulator.client_id(), "secret": emulator.api_key().expose()}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        http.get(format!("{}/identity/resources/configurations/v1", emulator.url()))
            .header("x-access-token", token["token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };
    let config = frontegg_auth::Config::builder()
        .key_source(KeySource::StaticPem(pem["publicKey"].as_str().unwrap().to_owned()))
        .build()
        .unwrap();
    let auth = Authenticator::new(config).unwrap();
    verify(&auth, emulator.user_token().sign()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_refetch_answers_503_to_everyone_and_starts_no_cooldown() {
    let emulator = Emulator::start().await;
    let cooldown = Duration::from_millis(100);
    // No retries: each refetch is then exactly one JWKS call.
    let config = emulator.config().unknown_kid_cooldown(cooldown).api_retries(0).build().unwrap();
    let auth = Authenticator::new(config).unwrap();
    verify(&auth, emulator.user_token().sign()).await.unwrap();
    tokio::time::sleep(cooldown * 2).await;
    emulator.rotate_key();
    emulator.set_behaviour(Surface::Jwks, Behaviour::Unavailable);
    let token = emulator.user_token().sign();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (auth, token) = (auth.clone(), token.clone());
            tokio::spawn(async move { verify(&auth, token).await })
        })
        .collect();
    for task in tasks {
        // Frontegg could not be asked: no verdict about the token, for the fetcher and the waiters alike.
        assert!(matches!(task.await.unwrap().unwrap_err(), AuthError::KeysUnavailable(_)));
    }
    assert_eq!(emulator.calls(Endpoint::Jwks), 2, "one refetch for the whole burst");
    // The failure starts no 30 s cooldown: once the JWKS is back, the new key is fetched.
    emulator.set_behaviour(Surface::Jwks, Behaviour::Normal);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    verify(&auth, token).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_refresh_restarts_when_its_runtime_ends() {
    let (emulator, auth) = refreshing_every_second().await;
    // Keys loaded on a start-up runtime that then goes away, taking the refresher with it.
    let warm = auth.clone();
    std::thread::spawn(move || {
        tokio::runtime::Runtime::new().unwrap().block_on(warm.ready(Duration::from_secs(5))).unwrap();
    })
    .join()
    .unwrap();
    assert_eq!(emulator.calls(Endpoint::Jwks), 1);
    // The next request restarts it on the serving runtime.
    verify(&auth, emulator.user_token().sign()).await.unwrap();
    // max-age 1 s: the restarted refresher fetches within about a second (a pooled connection of
    // the dead runtime may cost it one failed attempt, retried 0.5 s later).
    let deadline = std::time::Instant::now() + Duration::from_secs(4);
    while emulator.calls(Endpoint::Jwks) < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(emulator.calls(Endpoint::Jwks) >= 2, "the refresher runs again");
}

#[tokio::test]
async fn static_keys_need_no_network() {
    let emulator = Emulator::start().await;
    let jwks = reqwest::get(format!("{}/.well-known/jwks.json", emulator.url())).await.unwrap().text().await.unwrap();
    let auth = Authenticator::new(
        frontegg_auth::Config::builder()
            .key_source(KeySource::StaticJwks(jwks))
            .issuer(emulator.url())
            .build()
            .unwrap(),
    )
    .unwrap();
    assert!(auth.is_ready());
    emulator.set_behaviour(Surface::Jwks, Behaviour::Unavailable);
    let before = emulator.calls(Endpoint::Jwks);
    verify(&auth, emulator.user_token().sign()).await.unwrap();
    assert_eq!(verify(&auth, emulator.user_token().kid("other").sign()).await.unwrap_err(), AuthError::UnknownKey);
    assert_eq!(emulator.calls(Endpoint::Jwks), before);
}

#[tokio::test]
async fn secrets_never_reach_debug_strings() {
    let emulator = Emulator::start().await;
    let auth = Authenticator::new(emulator.config().hs256_secret("hmac-secret-value").build().unwrap()).unwrap();
    let token = emulator.user_token().sign();
    let dbg = format!("{auth:?} {:?} {:?}", bearer(token.clone()), emulator.api_key());
    assert!(!dbg.contains(emulator.api_key().expose()), "{dbg}");
    assert!(!dbg.contains("hmac-secret-value"), "{dbg}");
    assert!(!dbg.contains(&token), "{dbg}");
}

#[tokio::test]
async fn a_remembered_verification_never_outlives_the_token() {
    let emulator = Emulator::start().await;
    let auth = Authenticator::new(emulator.config().leeway(Duration::ZERO).build().unwrap()).unwrap();
    let token = emulator.user_token().expires_in(Duration::from_secs(2)).sign();
    verify(&auth, token.clone()).await.unwrap();
    verify(&auth, token.clone()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(verify(&auth, token).await.unwrap_err(), AuthError::Expired);
}

#[tokio::test]
async fn a_remembered_verification_is_forgotten_when_the_keys_change() {
    let emulator = Emulator::start().await;
    let auth =
        Authenticator::new(emulator.config().unknown_kid_cooldown(Duration::from_millis(50)).build().unwrap()).unwrap();
    let old = emulator.user_token().sign();
    verify(&auth, old.clone()).await.unwrap();
    verify(&auth, old.clone()).await.unwrap();
    emulator.rotate_key();
    emulator.retire_old_keys();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A token of the new key makes the cache refetch; the old key is gone, and so is its verdict.
    verify(&auth, emulator.user_token().sign()).await.unwrap();
    assert_eq!(verify(&auth, old).await.unwrap_err(), AuthError::UnknownKey);
}

#[tokio::test]
async fn a_remembered_token_is_still_checked_against_its_header() {
    let emulator = Emulator::start().await;
    let auth = emulator.authenticator();
    let token = emulator.user_token().sign();
    verify(&auth, token.clone()).await.unwrap();
    let err = auth.authenticate(&Credential::new(CredentialKind::ApiKey, token)).await.unwrap_err();
    assert!(matches!(err, AuthError::WrongTokenType(_)));
    // And the cache can be turned off.
    let plain = Authenticator::new(emulator.config().cache_verified_tokens(false).build().unwrap()).unwrap();
    verify(&plain, emulator.user_token().sign()).await.unwrap();
}
