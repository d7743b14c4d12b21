//! Property tests: arbitrary bytes, headers and claims never panic the verifier, and every
//! refusal is a 401 (never a 500).

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use frontegg_auth::testing::Emulator;
use frontegg_auth::{Authenticator, Credential};
use proptest::prelude::*;
use serde_json::Value;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    emulator: Emulator,
    auth: Authenticator,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let (emulator, auth) = runtime.block_on(async {
            let emulator = Emulator::start().await;
            let auth = emulator.authenticator();
            auth.ready(std::time::Duration::from_secs(10)).await.unwrap();
            (emulator, auth)
        });
        Fixture { runtime, emulator, auth }
    })
}

/// Authenticates whatever the headers hold; any outcome but a panic or a non-401 refusal is fine.
fn check(authorization: &[Vec<u8>], api_key: &[Vec<u8>]) {
    let f = fixture();
    let outcome = Credential::from_values(authorization.iter().map(Vec::as_slice), api_key.iter().map(Vec::as_slice));
    let outcome = match outcome {
        Ok(Some(credential)) => f.runtime.block_on(f.auth.authenticate(&credential)).map(|_| ()),
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = outcome {
        let refusal = frontegg_auth::Refusal::from(e);
        assert_eq!(refusal.status(), http::StatusCode::UNAUTHORIZED, "{refusal:?}");
        // The answer renders, whatever the error.
        let _: http::Response<bytes::Bytes> = refusal.to_response();
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::hash_map(".{0,8}", inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const CLAIMS: &[&str] = &[
    "sub",
    "type",
    "tenantId",
    "tenantIds",
    "userId",
    "createdByUserId",
    "roles",
    "permissions",
    "email",
    "name",
    "metadata",
    "sid",
    "applicationId",
    "exp",
    "nbf",
    "iat",
    "iss",
    "aud",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_header_bytes(auth in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..3),
                              key in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..3)) {
        check(&auth, &key);
    }

    #[test]
    fn arbitrary_bearer_text(text in "(?i:bearer) [ -~]{0,300}") {
        check(&[text.into_bytes()], &[]);
    }

    #[test]
    fn arbitrary_jwt_shaped_tokens(header in json_value(), payload in json_value(), signature in prop::collection::vec(any::<u8>(), 0..300)) {
        let token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            URL_SAFE_NO_PAD.encode(signature)
        );
        check(&[format!("Bearer {token}").into_bytes()], &[]);
        check(&[], &[token.into_bytes()]);
    }

    #[test]
    fn arbitrary_claims_validly_signed(values in prop::collection::vec(json_value(), CLAIMS.len()),
                                       keep in prop::collection::vec(any::<bool>(), CLAIMS.len())) {
        let f = fixture();
        let mut builder = f.emulator.user_token();
        for ((name, value), keep) in CLAIMS.iter().zip(values).zip(keep) {
            builder = if keep { builder.claim(name, value) } else { builder.without(name) };
        }
        let token = builder.sign();
        check(&[format!("Bearer {token}").into_bytes()], &[]);
    }
}
