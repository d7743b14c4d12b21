//! The entitlements store over TCP against the emulator: offset polling, one download per
//! change, the last good snapshot through outages, cold start, and the requirements on top.

use std::time::{Duration, Instant};

use frontegg_auth::testing::{Behaviour, Emulator, Endpoint, Surface};
use frontegg_auth::{Admission, AuthError, Authenticator, Caller, Refusal, Requirement};
use serde_json::json;

fn authenticator(emulator: &Emulator, poll: Duration) -> Authenticator {
    let config = emulator
        .config()
        .entitlements(true)
        .entitlements_poll_interval(poll)
        .entitlements_first_load_timeout(Duration::from_secs(2))
        .api_retries(0)
        .build()
        .unwrap();
    Authenticator::new(config).unwrap()
}

/// A request through the admission, as the layers make it, then a requirement check as the
/// adapters make it (waiting for the first snapshot on a cold start).
async fn check(auth: &Authenticator, token: &str, requirement: &Requirement) -> Result<(), Refusal> {
    let request = http::Request::builder().header("authorization", format!("Bearer {token}")).body(()).unwrap();
    let caller = Admission::required(auth.clone()).admit(&request).await?.into_parts().0;
    caller.checked(requirement).await.map(|_| ()).map_err(Refusal::from)
}

async fn until(what: &str, within: Duration, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + within;
    while !condition() {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn beta() -> Requirement {
    Requirement::entitled("beta-dashboard")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_download_per_offset_change_and_none_while_it_holds() {
    let emulator = Emulator::start().await;
    let auth = authenticator(&emulator, Duration::from_millis(100));
    auth.ready(Duration::from_secs(5)).await.unwrap();
    assert_eq!(emulator.calls(Endpoint::EntitlementsSnapshot), 1);
    // Several polls of an unchanged offset: no download.
    until("polls", Duration::from_secs(3), || emulator.calls(Endpoint::EntitlementsOffset) >= 4).await;
    assert_eq!(emulator.calls(Endpoint::EntitlementsSnapshot), 1);

    // tenant-1 is entitled; then the snapshot changes (tenant-1 loses the plan): one download.
    let tenant_1 = emulator.user_token().sign();
    assert_eq!(check(&auth, &tenant_1, &beta()).await, Ok(()));
    emulator.set_entitlements(json!({
        "features": [["f-beta", "beta-dashboard", null]],
        "featureBundles": [["b-pro", ["f-beta"], "false", []]],
        "entitlements": [],
        "featureFlags": []
    }));
    until("the new snapshot", Duration::from_secs(3), || emulator.calls(Endpoint::EntitlementsSnapshot) == 2).await;
    until("the new snapshot in use", Duration::from_secs(3), || {
        auth.entitlements()
            .and_then(|store| store.snapshot())
            .is_some_and(|s| s.offset() == emulator.entitlements_offset())
    })
    .await;
    let refusal = check(&auth, &tenant_1, &beta()).await.unwrap_err();
    assert_eq!(refusal.status(), 403);
    assert_eq!(refusal.description(), "Not entitled: missing-feature");
    // And no further download while the offset holds.
    let polls = emulator.calls(Endpoint::EntitlementsOffset);
    until("more polls", Duration::from_secs(3), || emulator.calls(Endpoint::EntitlementsOffset) >= polls + 3).await;
    assert_eq!(emulator.calls(Endpoint::EntitlementsSnapshot), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_start_makes_one_download_for_a_hundred_concurrent_checks() {
    let emulator = Emulator::start().await;
    // Slow, so that every check arrives while the first load runs.
    emulator.set_behaviour(Surface::Entitlements, Behaviour::Slow(Duration::from_millis(300)));
    let auth = authenticator(&emulator, Duration::from_secs(60));
    let token = emulator.user_token().sign();
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (auth, token) = (auth.clone(), token.clone());
            tokio::spawn(async move { check(&auth, &token, &beta()).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), Ok(()));
    }
    assert_eq!(emulator.calls(Endpoint::EntitlementsSnapshot), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outages_garbage_and_malformed_snapshots_keep_the_last_good_one() {
    let emulator = Emulator::start().await;
    let auth = authenticator(&emulator, Duration::from_millis(100));
    auth.ready(Duration::from_secs(5)).await.unwrap();
    let tenant_1 = emulator.user_token().sign();
    let malformed = json!({"features": "not a list"});
    for (what, behaviour) in
        [("down", Behaviour::Unavailable), ("garbage", Behaviour::Garbage), ("malformed", Behaviour::Normal)]
    {
        emulator.set_behaviour(Surface::Entitlements, behaviour);
        if what == "malformed" {
            emulator.set_entitlements(malformed.clone());
        }
        let polls = emulator.calls(Endpoint::EntitlementsOffset);
        until(what, Duration::from_secs(5), || emulator.calls(Endpoint::EntitlementsOffset) >= polls + 2).await;
        assert_eq!(check(&auth, &tenant_1, &beta()).await, Ok(()), "{what}: the last good snapshot answers");
    }
    // Back to a good snapshot: it is picked up, polling never stopped.
    emulator.set_entitlements(json!({"features": [], "featureBundles": [], "entitlements": [], "featureFlags": []}));
    until("recovery", Duration::from_secs(5), || {
        auth.entitlements()
            .and_then(|store| store.snapshot())
            .is_some_and(|s| s.offset() == emulator.entitlements_offset())
    })
    .await;
    assert_eq!(check(&auth, &tenant_1, &beta()).await.unwrap_err().status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_and_down_is_503_never_403_then_recovers() {
    let emulator = Emulator::start().await;
    emulator.set_behaviour(Surface::Entitlements, Behaviour::Unavailable);
    let auth = authenticator(&emulator, Duration::from_millis(200));
    let token = emulator.user_token().sign();
    let refusal = check(&auth, &token, &beta()).await.unwrap_err();
    assert_eq!(refusal.error(), Some(&AuthError::EntitlementsUnavailable));
    assert_eq!(refusal.status(), 503);
    assert_eq!(refusal.headers().iter().find(|(n, _)| n == "retry-after").map(|(_, v)| v.as_bytes()), Some(&b"5"[..]));
    // Routes without entitlement requirements are not refused by it.
    assert_eq!(check(&auth, &token, &Requirement::all_permissions(Vec::<String>::new())).await, Ok(()));
    emulator.set_behaviour(Surface::Entitlements, Behaviour::Normal);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(check(&auth, &token, &beta()).await, Ok(()));
}

#[tokio::test]
async fn the_requirements_and_their_answers() {
    let emulator = Emulator::start().await;
    let auth = authenticator(&emulator, Duration::from_secs(60));
    auth.ready(Duration::from_secs(5)).await.unwrap();
    let user = |tenant: &str| emulator.user_token().tenant(tenant).permissions(["exports.read"]).sign();
    assert_eq!(check(&auth, &user("tenant-1"), &beta()).await, Ok(()));
    for (tenant, justification) in [("tenant-2", "bundle-expired"), ("tenant-3", "missing-feature")] {
        let refusal = check(&auth, &user(tenant), &beta()).await.unwrap_err();
        assert_eq!(refusal.status(), 403, "{tenant}");
        assert_eq!(refusal.code(), "insufficient_scope");
        assert_eq!(refusal.description(), format!("Not entitled: {justification}"));
    }
    let exports = Requirement::entitled_permission("exports.read");
    assert_eq!(check(&auth, &user("tenant-1"), &exports).await, Ok(()));
    assert_eq!(
        check(&auth, &user("tenant-2"), &exports).await.unwrap_err().description(),
        "Not entitled: bundle-expired"
    );
    let without = emulator.user_token().permissions(["reports.read"]).sign();
    assert_eq!(check(&auth, &without, &exports).await.unwrap_err().description(), "Not entitled: missing-permission");
    // Access tokens: the looked-up permissions count, never the placeholders.
    let access =
        emulator.create_access_token(frontegg_auth::TokenType::TenantAccess, "tenant-1", &[], &["exports.read"]);
    let request = http::Request::builder().header("x-api-key", access.token.as_str()).body(()).unwrap();
    let caller = Admission::required(auth.clone()).admit(&request).await.unwrap().into_parts().0;
    assert!(caller.checked(&exports).await.is_ok());
    // In a handler: the verdict with its justification.
    let Caller::Identified(identity) = caller else { panic!("identified") };
    let custom = serde_json::Map::new();
    assert_eq!(identity.entitlement("beta-dashboard", &custom), frontegg_auth::entitlements::Entitlement::Entitled);
    // Entitlements without credentials cannot load: the build fails.
    assert!(matches!(
        frontegg_auth::Config::builder().base_url(emulator.url()).entitlements(true).build(),
        Err(frontegg_auth::ConfigError::CredentialsRequired)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_entitlement_checks_wait_for_the_first_snapshot() {
    let emulator = Emulator::start().await;
    let auth = authenticator(&emulator, Duration::from_secs(60));
    let token = emulator.user_token().permissions(["reports.read"]).sign();
    // A check without entitlements neither waits for nor starts a load.
    assert_eq!(check(&auth, &token, &Requirement::permission("reports.read")).await, Ok(()));
    assert_eq!(emulator.calls(Endpoint::EntitlementsSnapshot), 0);
    assert!(auth.entitlements().and_then(|store| store.snapshot()).is_none());
    // An entitlement check starts the one shared load and waits for it.
    assert_eq!(check(&auth, &token, &beta()).await, Ok(()));
    assert_eq!(emulator.calls(Endpoint::EntitlementsSnapshot), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_read_the_looked_up_rights_of_access_tokens() {
    let emulator = Emulator::start().await;
    // A plan granted to nobody, whose rule opens it to callers holding exports.read.
    let rule = json!([{"conditionLogic": "and", "treatment": "true", "conditions": [
        {"attribute": "jwt.permissions", "attributeType": "frontegg", "negate": false, "op": "in_list", "value": {"list": ["exports.read"]}}
    ]}]);
    emulator.set_entitlements(json!({
        "features": [["f-1", "ruled", null]],
        "featureBundles": [["b-1", ["f-1"], "false", rule]],
        "entitlements": [],
        "featureFlags": []
    }));
    let auth = authenticator(&emulator, Duration::from_secs(60));
    let ruled = Requirement::entitled("ruled");
    let holder =
        emulator.create_access_token(frontegg_auth::TokenType::TenantAccess, "tenant-1", &[], &["exports.read"]);
    let other =
        emulator.create_access_token(frontegg_auth::TokenType::TenantAccess, "tenant-1", &[], &["reports.read"]);
    for (token, entitled) in [(holder.token, true), (other.token, false)] {
        let request = http::Request::builder().header("x-api-key", token.as_str()).body(()).unwrap();
        let caller = Admission::required(auth.clone()).admit(&request).await.unwrap().into_parts().0;
        assert_eq!(caller.checked(&ruled).await.is_ok(), entitled, "looked up rights, not the placeholders");
    }
}
