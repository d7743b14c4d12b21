//! Entry points of the fuzz targets (`frontegg-auth/fuzz`), behind the `fuzzing` feature: they
//! reach the readers of untrusted input that are not public (key sets, Frontegg's answers,
//! values read back from a store, session cookies) without widening the public API. Hidden from
//! the documentation and outside any semver promise. Each function takes arbitrary bytes and
//! must return without panicking, whatever they hold.

use std::time::Duration;

use http::{HeaderMap, HeaderValue, StatusCode};

use crate::api::transport::{Answer, error_messages, status_error};
use crate::api::vendor::lifetime;
use crate::api::{
    AccessToken, ApiToken, CreatedAccessToken, CreatedApiToken, Group, Invitation, Page, Permission, Role, Tenant,
    User, UserLink, UserSession,
};
use crate::keys::KeySet;
use crate::sealing::{SessionId, SessionKeys};

/// A JWKS document and a PEM key, read as the key cache reads them.
pub fn key_set(data: &[u8]) {
    let _ = KeySet::from_jwks(data);
    let _ = KeySet::from_static_jwks(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = KeySet::from_pem(text);
    }
}

/// An answer of Frontegg's API with this status: the access-token and user lookups, the vendor
/// token and the token exchange, error bodies, paged lists and every management model.
pub fn api_answer(status: u16, data: &[u8]) {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut headers = HeaderMap::new();
    headers.insert("frontegg-trace-id", HeaderValue::from_static("fuzz"));
    let answer = Answer { status, headers, body: bytes::Bytes::copy_from_slice(data) };
    let _ = crate::rights::access_token_verdict(&answer);
    let _ = crate::rights::user_verdict(&answer, None);
    let _ = crate::rights::user_verdict(&answer, Some("tenant-1"));
    let _ = status_error(status, &answer.headers, data);
    let _ = error_messages(data);
    let _ = Page::<User>::parse(data);
    let _ = Page::<Tenant>::parse(data);
    let _ = Page::<Group>::parse(data);
    // The vendor token's and the token exchange's answers, and the lifetime each gives.
    if let Ok(answer) = serde_json::from_slice::<crate::api::vendor::VendorAnswer>(data) {
        let _ = (answer.token.len(), lifetime(answer.expires_in, Duration::from_secs(300)));
    }
    if let Ok(answer) = serde_json::from_slice::<crate::api::token_exchange::ExchangeAnswer>(data) {
        let _ = (answer.access_token.len(), lifetime(answer.expires_in, Duration::from_secs(60)));
    }
    models(data);
}

fn models(data: &[u8]) {
    fn read<T: serde::de::DeserializeOwned>(data: &[u8]) {
        let _ = serde_json::from_slice::<T>(data);
        let _ = serde_json::from_slice::<Vec<T>>(data);
    }
    read::<User>(data);
    read::<Tenant>(data);
    read::<AccessToken>(data);
    read::<CreatedAccessToken>(data);
    read::<ApiToken>(data);
    read::<CreatedApiToken>(data);
    read::<UserSession>(data);
    read::<Invitation>(data);
    read::<Group>(data);
    read::<UserLink>(data);
    read::<Permission>(data);
    read::<Role>(data);
}

/// A value read back from a session store: sealed bytes, and the JSON a sealed value holds.
pub fn session_value(data: &[u8]) {
    let keys = fuzz_session_keys();
    let _ = crate::sessions::open_record(&keys, "fuzz", data);
    let _ = serde_json::from_slice::<crate::sessions::Record>(data);
    // What sealing gives back opens, and nothing else does once a byte changes.
    if let Ok(sealed) = keys.seal(data, b"fuzz")
        && keys.open(&sealed, b"fuzz").as_deref() != Some(data)
    {
        panic!("a sealed value does not open to what was sealed");
    }
}

/// A value read back from the shared cache (feature `redis`), under an access-token question and
/// a user question, with and without an HMAC key.
#[cfg(feature = "redis")]
pub fn shared_cache_value(data: &[u8]) {
    use crate::lookup::{AccessKind, Question};
    use crate::shared_cache::record::Codec;
    let hmac = crate::shared_cache::RedisHmacKey::new("fuzz-hmac-key-of-at-least-32-bytes!!");
    for codec in [Codec::new("client", None), Codec::new("client", Some(&hmac))] {
        for question in [
            Question::AccessToken { kind: AccessKind::Tenant, id: "token-1".into() },
            Question::User { id: "user-1".into(), tenant: Some("tenant-1".into()) },
        ] {
            let key = codec.key(&question);
            let _ = codec.open(&key, &question, data);
        }
    }
}

/// A session cookie's value, a `return_to` and a session-key list.
pub fn session_cookie(data: &str) {
    if let Some(id) = SessionId::parse(data) {
        // A parsed id writes back to the same cookie value.
        assert_eq!(id.cookie_value(), data, "a session id changes when written back");
    }
    let _ = crate::login::is_app_path(data);
    let _ = SessionKeys::parse(data);
}

fn fuzz_session_keys() -> SessionKeys {
    // 32 bytes, hex: a fixed key, so that runs repeat.
    SessionKeys::parse("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
        .unwrap_or_else(|_| panic!("the fixed fuzzing key parses"))
}
