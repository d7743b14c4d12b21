//! Key rotation over TCP against the emulator, with short cooldowns set in each test: only a
//! refetch caused by an unknown `kid` starts the cooldown; start-up and background fetches never
//! do, so a rotated key is accepted on its first token.

use std::time::{Duration, Instant};

use frontegg_auth::testing::{Emulator, Endpoint};
use frontegg_auth::{AuthError, Authenticator, Credential, CredentialKind, Identity};

async fn verify(auth: &Authenticator, token: String) -> Result<Identity, AuthError> {
    auth.authenticate(&Credential::new(CredentialKind::Bearer, token)).await
}

/// Tokens naming `count` made-up `kid`s, signed before any burst so that the burst is short.
fn made_up_kids(emulator: &Emulator, prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| emulator.user_token().kid(&format!("{prefix}-{i}")).sign()).collect()
}

/// Verifies every token at once; each must be refused as signed by an unknown key.
async fn burst_of_unknown_kids(auth: &Authenticator, tokens: Vec<String>) {
    let tasks: Vec<_> = tokens
        .into_iter()
        .map(|token| {
            let auth = auth.clone();
            tokio::spawn(async move { verify(&auth, token).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap_err(), AuthError::UnknownKey);
    }
}

/// Waits until the emulator has served `calls` JWKS requests.
async fn jwks_calls_reach(emulator: &Emulator, calls: usize, within: Duration) {
    let deadline = Instant::now() + within;
    while emulator.calls(Endpoint::Jwks) < calls {
        assert!(Instant::now() < deadline, "only {} JWKS calls", emulator.calls(Endpoint::Jwks));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotated_a_second_after_start_is_accepted_on_its_first_token() {
    let emulator = Emulator::start().await;
    let cooldown = Duration::from_secs(2);
    let auth = Authenticator::new(emulator.config().unknown_kid_cooldown(cooldown).build().unwrap()).unwrap();
    verify(&auth, emulator.user_token().sign()).await.unwrap();
    assert_eq!(emulator.calls(Endpoint::Jwks), 1, "the start-up fetch");
    let first_burst = made_up_kids(&emulator, "first", 500);
    let second_burst = made_up_kids(&emulator, "second", 100);

    tokio::time::sleep(Duration::from_secs(1)).await;
    emulator.rotate_key();
    let refetched = Instant::now();
    let identity = verify(&auth, emulator.user_token().sign()).await.expect("the first token of the new key");
    assert_eq!(identity.sub(), "user-1");
    assert_eq!(emulator.calls(Endpoint::Jwks), 2, "exactly one refetch");

    // That refetch started the cooldown: 500 unknown kids right after it fetch nothing.
    burst_of_unknown_kids(&auth, first_burst).await;
    assert!(refetched.elapsed() < cooldown, "the burst must run inside the cooldown");
    assert_eq!(emulator.calls(Endpoint::Jwks), 2, "no fetch within the cooldown");

    // After the cooldown, unknown kids cause exactly one more fetch, shared by the burst.
    tokio::time::sleep(cooldown.saturating_sub(refetched.elapsed()) + Duration::from_millis(100)).await;
    burst_of_unknown_kids(&auth, second_burst).await;
    assert_eq!(emulator.calls(Endpoint::Jwks), 3, "one fetch for the whole burst");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_refresh_inside_the_cooldown_changes_nothing() {
    let emulator = Emulator::start().await;
    // The JWKS asks to be refreshed every 2 s; the cooldown is 5 s.
    emulator.set_jwks_max_age(Some(2));
    let cooldown = Duration::from_secs(5);
    let config = emulator
        .config()
        .unknown_kid_cooldown(cooldown)
        .key_refresh(Duration::from_secs(1), Duration::from_secs(60), Duration::from_secs(3600))
        .build()
        .unwrap();
    let auth = Authenticator::new(config).unwrap();
    verify(&auth, emulator.user_token().sign()).await.unwrap();
    let inside = made_up_kids(&emulator, "inside", 200);
    let after = made_up_kids(&emulator, "after", 100);

    // A rotation: one refetch, which starts the cooldown.
    emulator.rotate_key();
    let refetched = Instant::now();
    verify(&auth, emulator.user_token().sign()).await.expect("the first token of the new key");
    assert_eq!(emulator.calls(Endpoint::Jwks), 2);

    // A background refresh happens (about 2 s after start); right after it, unknown kids still
    // fetch nothing: the refresh neither ended nor restarted the cooldown.
    jwks_calls_reach(&emulator, 3, Duration::from_secs(4)).await;
    burst_of_unknown_kids(&auth, inside).await;
    assert!(refetched.elapsed() < cooldown, "the burst must run inside the cooldown");
    assert_eq!(emulator.calls(Endpoint::Jwks), 3, "no fetch caused by the burst");

    // Once the cooldown of the rotation's refetch is over, a burst causes exactly one fetch,
    // however recently a background refresh ran.
    tokio::time::sleep(cooldown.saturating_sub(refetched.elapsed()) + Duration::from_millis(100)).await;
    let before = emulator.calls(Endpoint::Jwks);
    burst_of_unknown_kids(&auth, after).await;
    assert_eq!(emulator.calls(Endpoint::Jwks), before + 1, "one fetch for the whole burst");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotated_right_after_a_background_refresh_is_accepted_on_its_first_token() {
    let emulator = Emulator::start().await;
    emulator.set_jwks_max_age(Some(1));
    let config = emulator
        .config()
        .unknown_kid_cooldown(Duration::from_secs(30))
        .key_refresh(Duration::from_secs(1), Duration::from_secs(60), Duration::from_secs(3600))
        .build()
        .unwrap();
    let auth = Authenticator::new(config).unwrap();
    verify(&auth, emulator.user_token().sign()).await.unwrap();
    jwks_calls_reach(&emulator, 2, Duration::from_secs(3)).await;
    emulator.rotate_key();
    let before = emulator.calls(Endpoint::Jwks);
    verify(&auth, emulator.user_token().sign()).await.expect("a key rotated after a background refresh");
    assert_eq!(emulator.calls(Endpoint::Jwks), before + 1, "exactly one refetch");
}
