//! End to end: a backend provisions a customer with the management clients (a tenant, a user
//! with a role, a tenant access token), and each example app answers the token 200 on
//! `/reports`; once the token is deleted, the app answers 401 within its lookup TTL.

use std::time::{Duration, Instant};

use frontegg_auth::Authenticator;
use frontegg_auth::api::{NewAccessToken, NewPermission, NewRole, NewTenant, NewUser, TokenOwner};
use frontegg_auth::testing::{Emulator, Endpoint};

mod apps;

use apps::AppUnderTest;

const LOOKUP_TTL: Duration = Duration::from_secs(1);

async fn provisioned_access_token_works_until_deleted<App: AppUnderTest>() {
    let emulator = Emulator::start().await;
    let config = emulator.config().access_token_ttl(LOOKUP_TTL).build().unwrap();
    let client = Authenticator::new(config.clone()).unwrap().client().unwrap();
    let permission =
        client.permissions().create(vec![NewPermission::new("reports.read", "Read reports")]).await.unwrap().remove(0);
    let role = client.roles().create(vec![NewRole::new("reader", "Reader", 1)]).await.unwrap().remove(0);
    client.roles().set_permissions(&role.id, &[&permission.id]).await.unwrap();
    client.tenants().create(NewTenant::new("Acme").tenant_id("acme")).await.unwrap();
    let user = client.users().create(NewUser::new("acme", "ada@example.com").role_ids([&role.id])).await.unwrap();
    assert_eq!(user.tenants[0].roles[0].key, "reader");
    let owner = TokenOwner::Tenant("acme");
    let token = client.access_tokens().create(owner, NewAccessToken::new("e2e").role_ids([&role.id])).await.unwrap();

    let (base, _app) = App::start(Authenticator::new(config).unwrap()).await;
    let http = reqwest::Client::new();
    let reports = || async {
        http.get(format!("{base}/reports")).header("x-api-key", token.secret.expose()).send().await.unwrap()
    };
    assert_eq!(reports().await.status(), 200);
    // The rights come from the lookup, not from the token: without the role, a 403.
    let bare = client.access_tokens().create(owner, NewAccessToken::new("no role")).await.unwrap();
    let status =
        http.get(format!("{base}/reports")).header("x-api-key", bare.secret.expose()).send().await.unwrap().status();
    assert_eq!(status, 403);
    let lookups = emulator.calls(Endpoint::AccessTokenLookup);
    assert_eq!(reports().await.status(), 200);
    assert_eq!(emulator.calls(Endpoint::AccessTokenLookup), lookups, "cached: no lookup per request");

    client.access_tokens().delete(owner, &token.token.id).await.unwrap();
    let deleted = Instant::now();
    loop {
        let status = reports().await.status();
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(deleted.elapsed() < LOOKUP_TTL + Duration::from_millis(500), "still 200 past the lookup TTL");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

apps::both_apps!(provisioned_access_token_works_until_deleted);
