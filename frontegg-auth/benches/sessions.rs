//! What the session cookie costs a request, as ratios of a bearer token's admission measured in
//! the same run: `cargo bench -p frontegg-auth --features testing,redis --bench sessions`.
//!
//! Each case is one `Admission::admit` of a `GET`: the bearer token seen before (the common path
//! of an API), the session cookie with the in-process store (a cache read, an AES-256-GCM open, a
//! JSON parse, then the same remembered verification), and with the Redis store while its
//! one-second first level holds the session (no round trip).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use frontegg_auth::testing::Emulator;
use frontegg_auth::testing::redis::RedisServer;
use frontegg_auth::{Admission, Authenticator, LoginSettings, RedisCache};

#[path = "common/criterion.rs"]
mod settings;

const APP: &str = "http://127.0.0.1:3000";
const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn get(target: &str, header: (&str, &str)) -> http::Request<()> {
    http::Request::get(target).header(header.0, header.1).body(()).unwrap()
}

/// A login of `user-1` through the emulator: the `Cookie` header's value.
async fn log_in(emulator: &Emulator, auth: &Authenticator) -> String {
    let login = auth.hosted_login().unwrap();
    let started = login.login(&http::Request::get("/auth/login").body(()).unwrap());
    let header = |answer: &frontegg_auth::LoginAnswer, name: &str| -> Vec<String> {
        answer.headers().iter().filter(|(n, _)| n == name).map(|(_, v)| v.to_str().unwrap().to_owned()).collect()
    };
    let authorize = header(&started, "location").remove(0);
    let pending = header(&started, "set-cookie").remove(0).split(';').next().unwrap().to_owned();
    let back = emulator.sign_in(&authorize, "user-1", false).replace(APP, "");
    let done = login.callback(&get(&back, ("cookie", &pending))).await;
    let session = header(&done, "set-cookie").into_iter().find(|c| c.starts_with("frontegg_session=")).unwrap();
    session.split(';').next().unwrap().to_owned()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let redis = RedisServer::start();
    let (emulator, memory, shared) = rt.block_on(async {
        let emulator = Emulator::start().await;
        // Tokens that live through the whole run: no refresh is measured.
        emulator.set_login_token_lifetime(Duration::from_secs(3600));
        let build =
            |login: LoginSettings| Authenticator::new(emulator.config().hosted_login(login).build().unwrap()).unwrap();
        let memory = build(LoginSettings::builder(APP).build().unwrap());
        let store = RedisCache::new(&redis.url()).unwrap().timeout(Duration::from_secs(1));
        let shared = build(LoginSettings::builder(APP).session_keys(KEY).redis_store(store).build().unwrap());
        (emulator, memory, shared)
    });
    let bearer = format!("Bearer {}", emulator.user_token().permissions(["reports.read"]).sign());
    let (in_memory, in_redis) =
        rt.block_on(async { (log_in(&emulator, &memory).await, log_in(&emulator, &shared).await) });

    let cases = [
        ("bearer token, seen before (1x)", Admission::required(memory.clone()), get("/me", ("authorization", &bearer))),
        ("session cookie, in-process store", Admission::required(memory.clone()), get("/me", ("cookie", &in_memory))),
        (
            "session cookie, Redis store, first level",
            Admission::required(shared.clone()),
            get("/me", ("cookie", &in_redis)),
        ),
    ];
    for (_, admission, request) in &cases {
        // Each case answers as it should before it is timed.
        assert!(rt.block_on(admission.admit(request)).unwrap().caller().identity().is_some());
    }
    let mut group = c.benchmark_group("sessions");
    for (name, admission, request) in &cases {
        group.bench_function(*name, |b| {
            b.to_async(&rt).iter(|| async { admission.admit(black_box(request)).await.unwrap() })
        });
    }
    group.finish();
}

criterion_group! { name = benches; config = settings::config(); targets = bench }
criterion_main!(benches);
