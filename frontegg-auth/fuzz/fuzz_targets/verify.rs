//! Token verification with static keys: any bytes as an RS256 bearer token (header, signature
//! and claims as a caller sends them), and any JSON as the claims of an HS256 token signed with
//! the configured secret, so that claims are checked past a valid signature.
#![no_main]

use std::sync::OnceLock;

use frontegg_auth::{Algorithm, Authenticator, Config, Credential, CredentialKind, KeySource};
use libfuzzer_sys::fuzz_target;

const PEM: &str = include_str!("../../tests/fixtures/rsa-2048-public.pem");
const SECRET: &str = "fuzzing-hs256-secret-fuzzing-hs256-secret";

struct Fixture {
    runtime: tokio::runtime::Runtime,
    rs256: Authenticator,
    hs256: Authenticator,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
        let _entered = runtime.enter();
        let config = |builder: frontegg_auth::ConfigBuilder| {
            builder
                .key_source(KeySource::StaticPem(PEM.to_owned()))
                .issuer("https://fuzz.frontegg.com")
                .audiences(["fuzz-client"])
                .build()
                .expect("the fuzzing configuration")
        };
        let rs256 = Authenticator::new(config(Config::builder())).expect("an authenticator");
        let hs256 = Authenticator::new(config(Config::builder().algorithms([Algorithm::HS256]).hs256_secret(SECRET)))
            .expect("an authenticator");
        Fixture { runtime, rs256, hs256 }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode % 2 == 0 {
        let token = String::from_utf8_lossy(rest);
        let credential = Credential::new(CredentialKind::Bearer, token.as_ref());
        let _ = f.runtime.block_on(f.rs256.authenticate(&credential));
        return;
    }
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(rest) else { return };
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    let Ok(token) = jsonwebtoken::encode(&header, &claims, &key) else { return };
    let credential = Credential::new(CredentialKind::Bearer, token);
    if let Ok(identity) = f.runtime.block_on(f.hs256.authenticate(&credential)) {
        // Whatever the claims, an accepted token names its subject.
        assert!(!identity.sub().is_empty(), "an identity without a subject");
    }
});
