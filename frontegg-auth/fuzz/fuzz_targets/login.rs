//! The hosted login's inputs from a browser: the callback's query (`code`, `state`, `error`), the
//! login's `return_to`, the cookies (session and pre-login), and a session cookie's value.
#![no_main]

use std::sync::OnceLock;

use frontegg_auth::{Authenticator, Config, KeySource, LoginSettings};
use libfuzzer_sys::fuzz_target;

const PEM: &str = include_str!("../../tests/fixtures/rsa-2048-public.pem");

struct Fixture {
    runtime: tokio::runtime::Runtime,
    auth: Authenticator,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_time().enable_io().build().expect("a runtime");
        let _entered = runtime.enter();
        let login = LoginSettings::builder("http://127.0.0.1:3000")
            .session_keys("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
            .build()
            .expect("the login settings");
        // Nothing listens on port 9: a token request, were a forged state ever accepted, fails fast.
        let config = Config::builder()
            .base_url("http://127.0.0.1:9")
            .credentials("fuzz-client", "fuzz-key")
            .key_source(KeySource::StaticPem(PEM.to_owned()))
            .api_retries(0)
            .hosted_login(login)
            .build()
            .expect("the fuzzing configuration");
        Fixture { auth: Authenticator::new(config).expect("an authenticator"), runtime }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some(login) = f.auth.hosted_login() else { return };
    let text = String::from_utf8_lossy(data);
    // The query, then the cookies, separated by a newline.
    let (query, cookies) = text.split_once('\n').unwrap_or((&text, ""));
    frontegg_auth::fuzzing::session_cookie(query);
    for path in ["/auth/callback", "/auth/login", "/auth/logout"] {
        let Ok(request) =
            http::Request::builder().uri(format!("{path}?{query}")).header(http::header::COOKIE, cookies).body(())
        else {
            continue;
        };
        let (parts, ()) = request.into_parts();
        let answer = match path {
            "/auth/callback" => f.runtime.block_on(login.callback(&parts)),
            "/auth/login" => login.login(&parts),
            _ => f.runtime.block_on(login.logout(&parts)),
        };
        // No answer sends the browser to another origin than the app's or Frontegg's.
        if let Some((_, location)) = answer.headers().iter().find(|(name, _)| name == http::header::LOCATION) {
            let location = location.to_str().unwrap_or("");
            assert!(
                location.starts_with('/') && !location.starts_with("//") && !location.starts_with("/\\")
                    || location.starts_with("http://127.0.0.1:9/")
                    || location.starts_with("http://127.0.0.1:3000/"),
                "a redirect to {location}"
            );
        }
    }
});
