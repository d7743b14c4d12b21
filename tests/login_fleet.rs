//! The hosted login's Redis session store, as a fleet uses it: two instances of the axum example
//! app, one emulator, one real `redis-server` on a free loopback port. A session created on one
//! instance is used on the other; at the refresh edge both refresh once between them; a Redis
//! outage answers cookie requests 503 (never a 401 or a logout) and nothing else.

use std::sync::Arc;
use std::time::Duration;

use frontegg_auth::testing::redis::RedisServer;
use frontegg_auth::testing::{Emulator, Endpoint};
use frontegg_auth::{Authenticator, LoginSettings, RedisCache};
use reqwest::redirect::Policy;

mod apps;

use apps::{AppUnderTest, Axum};

const SESSION_KEY: &str = "8f1c2b3a4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8";

async fn instance(emulator: &Arc<Emulator>, redis: &str) -> (String, Box<dyn Send>) {
    instance_with_keys(emulator, redis, SESSION_KEY).await
}

async fn instance_with_keys(emulator: &Arc<Emulator>, redis: &str, keys: &str) -> (String, Box<dyn Send>) {
    let (emulator, redis, keys) = (emulator.clone(), redis.to_owned(), keys.to_owned());
    Axum::start_with(move |base| {
        let store = RedisCache::new(&redis).unwrap().timeout(Duration::from_millis(200));
        let login =
            LoginSettings::builder(base).session_keys(&keys).redis_store(store).default_return_to("/app").build();
        Authenticator::new(emulator.config().hosted_login(login.unwrap()).build().unwrap()).unwrap()
    })
    .await
}

/// Logs `user-1` in through `base`: the session cookie's value.
async fn log_in(emulator: &Emulator, http: &reqwest::Client, base: &str) -> String {
    let login = http.get(format!("{base}/auth/login?return_to=/app")).send().await.unwrap();
    let login_cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let authorize = login.headers()["location"].to_str().unwrap().to_owned();
    let callback = emulator.sign_in(&authorize, "user-1", false);
    let done = http.get(callback).header("cookie", login_cookie).send().await.unwrap();
    assert_eq!(done.status(), 303);
    let session = done
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("frontegg_session="))
        .unwrap();
    session.split(';').next().unwrap().trim_start_matches("frontegg_session=").to_owned()
}

async fn me(http: &reqwest::Client, base: &str, session: &str) -> reqwest::Response {
    http.get(format!("{base}/me")).header("cookie", format!("frontegg_session={session}")).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_shares_sessions_through_redis() {
    let redis = RedisServer::start();
    let emulator = Arc::new(Emulator::start().await);
    // Long enough that a loaded machine does not reach the refresh edge before the sleep below.
    emulator.set_login_token_lifetime(Duration::from_secs(6));
    let (a, _a) = instance(&emulator, &redis.url()).await;
    let (b, _b) = instance(&emulator, &redis.url()).await;
    let http = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();

    let session = log_in(&emulator, &http, &a).await;
    // Created on A, used on B: no sticky sessions.
    let on_b = me(&http, &b, &session).await;
    assert_eq!(on_b.status(), 200);
    assert_eq!(on_b.json::<serde_json::Value>().await.unwrap()["sub"], "user-1");

    // What Redis holds: sealed values under hashed ids; no token, no session id.
    let stored = redis.dump();
    assert!(!stored.is_empty());
    let token = emulator.user_token().sign();
    let token_header = token.split('.').next().unwrap();
    for (key, value) in &stored {
        assert!(key.starts_with("frontegg-rs:v1:"), "{key}");
        assert!(!key.contains(&session) && !value.contains(&session), "the session id is stored under its hash only");
        assert!(!value.contains(token_header) && !value.contains("eyJ"), "tokens are sealed at rest: {key}");
    }

    // The refresh edge, on both instances at once: one refresh for the fleet. A slow Frontegg
    // makes the two instances' refreshes overlap: the second waits on the lock in Redis.
    emulator.set_token_endpoint_delay(Duration::from_millis(500));
    tokio::time::sleep(Duration::from_millis(6200)).await;
    let calls = (0..10).map(|i| {
        let (http, base, session) = (http.clone(), if i % 2 == 0 { a.clone() } else { b.clone() }, session.clone());
        tokio::spawn(async move { me(&http, &base, &session).await.status().as_u16() })
    });
    for status in futures_util::future::join_all(calls).await {
        assert_eq!(status.unwrap(), 200);
    }
    assert_eq!(emulator.calls(Endpoint::TokenRefresh), 1, "two instances at the refresh edge refresh once");
    emulator.set_token_endpoint_delay(Duration::ZERO);

    // Redis frozen: cookie requests answer 503, never 401 or a logout; bearer requests go on.
    redis.freeze();
    tokio::time::sleep(Duration::from_millis(1100)).await; // past the first level
    let frozen = me(&http, &a, &session).await;
    assert_eq!(frozen.status(), 503);
    assert!(frozen.headers().get("set-cookie").is_none(), "never a logout");
    let bearer = emulator.user_token().permissions(["reports.read"]).sign();
    let answer = http.get(format!("{a}/reports")).bearer_auth(&bearer).send().await.unwrap();
    assert_eq!(answer.status(), 200, "a Redis outage refuses no bearer request");
    redis.resume();
    let mut back = false;
    for _ in 0..50 {
        if me(&http, &b, &session).await.status() == 200 {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back, "the session is served again once Redis answers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_reaches_the_fleet_and_redis_errors_are_outages() {
    let redis = RedisServer::start();
    let emulator = Arc::new(Emulator::start().await);
    let (a, _a) = instance(&emulator, &redis.url()).await;
    let (b, _b) = instance(&emulator, &redis.url()).await;
    let http = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();

    // A logout on A: B refuses the cookie once its first level (1 s) has passed.
    let session = log_in(&emulator, &http, &a).await;
    assert_eq!(me(&http, &b, &session).await.status(), 200);
    let out = http.get(format!("{a}/auth/logout")).header("cookie", format!("frontegg_session={session}")).send();
    assert_eq!(out.await.unwrap().status(), 303);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(me(&http, &b, &session).await.status(), 401, "logged out on every instance");

    // An error answer of Redis (here a refused command, as LOADING or NOAUTH would be) is an
    // outage: 503, the cookie kept; never taken for "no session".
    let session = log_in(&emulator, &http, &a).await;
    redis.cli(&["ACL", "SETUSER", "default", "-getrange"]);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let refused = me(&http, &b, &session).await;
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().get("set-cookie").is_none(), "never a logout");
    redis.cli(&["ACL", "SETUSER", "default", "+getrange"]);
    assert_eq!(me(&http, &b, &session).await.status(), 200);
    // Something else than a session under its key (WRONGTYPE) is no session.
    let key = redis.dump().into_iter().map(|(k, _)| k).find(|k| k.contains(":session:")).unwrap();
    redis.cli(&["DEL", &key]);
    redis.cli(&["RPUSH", &key, "x"]);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(me(&http, &b, &session).await.status(), 401);
}

/// A session key rotates across a fleet: an instance with `new,old` opens what `old` sealed; a
/// session no key of an instance opens is no credential there (401, cookie cleared) and stays
/// in the store for the instances that can open it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_keys_rotate_and_undecryptable_sessions_are_no_credential() {
    const NEW: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="; // base64, 32 bytes
    let redis = RedisServer::start();
    let emulator = Arc::new(Emulator::start().await);
    let (old, _old) = instance_with_keys(&emulator, &redis.url(), SESSION_KEY).await;
    let (both, _both) = instance_with_keys(&emulator, &redis.url(), &format!("{NEW}, {SESSION_KEY}")).await;
    let (new, _new) = instance_with_keys(&emulator, &redis.url(), NEW).await;
    let http = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();

    let sealed_old = log_in(&emulator, &http, &old).await;
    assert_eq!(me(&http, &both, &sealed_old).await.status(), 200, "the second key still opens");
    let sealed_new = log_in(&emulator, &http, &both).await;
    assert_eq!(me(&http, &new, &sealed_new).await.status(), 200, "the first key seals");
    for (base, session, what) in
        [(&new, &sealed_old, "the old key dropped"), (&old, &sealed_new, "the new key unknown")]
    {
        let answer = me(&http, base, session).await;
        assert_eq!(answer.status(), 401, "{what}");
        let cleared = answer.headers().get_all("set-cookie").iter().any(|c| {
            let c = c.to_str().unwrap();
            c.starts_with("frontegg_session=") && c.contains("Max-Age=0")
        });
        assert!(cleared, "{what}: the cookie is cleared");
    }
    // Past the first level (1 s), so that these read the store again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let stored = redis.dump().into_iter().filter(|(k, _)| k.contains(":session:")).count();
    assert_eq!(stored, 2, "no instance deleted a session it could not open");
    assert_eq!(me(&http, &both, &sealed_old).await.status(), 200, "left in the store for those who can open it");
    assert_eq!(me(&http, &new, &sealed_new).await.status(), 200);
}

#[test]
fn the_redis_store_needs_a_shared_key() {
    let store = RedisCache::new("redis://127.0.0.1:1").unwrap();
    let refused = LoginSettings::builder("http://127.0.0.1:3000").redis_store(store).build();
    assert_eq!(refused.err(), Some(frontegg_auth::login::LoginSettingsError::RedisWithoutKey));
}
