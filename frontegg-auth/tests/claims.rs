//! Registered claims of the wrong JSON type are refused whenever they are present, whether or not
//! the configuration checks that claim (RFC 7519 §4.1), and the configuration refuses static keys
//! that the key cache would refuse.

use frontegg_auth::testing::Emulator;
use frontegg_auth::{
    AuthError, Authenticator, Config, ConfigError, Credential, CredentialKind, InvalidClaims, KeySetError, KeySource,
    Refusal,
};
use serde_json::{Value, json};

#[tokio::test]
async fn registered_claims_of_the_wrong_type_are_401_checked_or_not() {
    let emulator = Emulator::start().await;
    let issuer = emulator.user_token().claims()["iss"].clone();
    let checked = emulator.authenticator();
    let unchecked = Authenticator::new(emulator.config().skip_issuer_check().build().unwrap()).unwrap();
    let cases: [(&str, Value); 7] = [
        ("iss", json!([issuer])),
        ("aud", json!({"client": emulator.client_id()})),
        ("aud", json!([emulator.client_id(), 7])),
        ("exp", json!("4102444800")),
        ("nbf", json!("0")),
        ("iat", json!(true)),
        ("jti", json!(12)),
    ];
    for auth in [&checked, &unchecked] {
        // The same token with well-typed claims verifies.
        let good = emulator.user_token().claim("jti", "j-1").sign();
        auth.authenticate(&Credential::new(CredentialKind::Bearer, good)).await.unwrap();
        for (name, value) in &cases {
            let token = emulator.user_token().claim(name, value.clone()).sign();
            let err = auth.authenticate(&Credential::new(CredentialKind::Bearer, token)).await.unwrap_err();
            assert!(matches!(err, AuthError::InvalidClaims(_)), "{name}: {value} gave {err:?}");
            let refusal = Refusal::from(err);
            assert_eq!(refusal.status(), 401, "{name}");
            assert_eq!(refusal.code(), "invalid_token", "{name}");
        }
        // `iss` as an array holding the right issuer: the RFC makes it a single StringOrURI.
        let token = emulator.user_token().claim("iss", json!([issuer])).sign();
        assert_eq!(
            auth.authenticate(&Credential::new(CredentialKind::Bearer, token)).await.unwrap_err(),
            AuthError::InvalidClaims(InvalidClaims::RegisteredClaimType)
        );
        // `sub` as a number stays a 401.
        let token = emulator.user_token().claim("sub", 42).sign();
        let err = auth.authenticate(&Credential::new(CredentialKind::Bearer, token)).await.unwrap_err();
        assert_eq!(Refusal::from(err).status(), 401);
    }
}

#[test]
fn a_static_key_the_cache_would_refuse_fails_the_build() {
    let weak = include_str!("fixtures/rsa-1024-public.pem");
    match Config::builder().key_source(KeySource::StaticPem(weak.into())).build() {
        Err(ConfigError::StaticKey(KeySetError::WeakKey { bits: 1024 })) => {}
        other => panic!("a 1024-bit key must fail the build: {other:?}"),
    }
    let message = Config::builder().key_source(KeySource::StaticPem(weak.into())).build().unwrap_err().to_string();
    assert_eq!(message, "the static key cannot be used: the RSA key has 1024 bits; at least 2048 are required");
    let strong = include_str!("fixtures/rsa-2048-public.pem");
    assert!(Config::builder().key_source(KeySource::StaticPem(strong.into())).build().is_ok());
    assert!(matches!(
        Config::builder().key_source(KeySource::StaticJwks(r#"{"keys":[]}"#.into())).build(),
        Err(ConfigError::StaticKey(KeySetError::NoUsableKey))
    ));
}
