//! The Frontegg API over real TCP: the vendor token, access tokens resolved through the API,
//! user lookups, outages, rate limits, and every management endpoint.

use std::time::{Duration, Instant};

use frontegg_auth::api::{
    ApiError, AssignmentType, CategoryUpdate, FronteggClient, NewCategory, NewPermission, NewRole, PermissionUpdate,
    RoleUpdate, RolesQuery,
};
use frontegg_auth::testing::{Behaviour, Emulator, Endpoint, Surface};
use frontegg_auth::{AuthError, Authenticator, Credential, CredentialKind, TokenType};

fn api_key(token: &str) -> Credential {
    Credential::new(CredentialKind::ApiKey, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_requests_with_one_access_token_make_one_vendor_call_and_one_lookup() {
    let emulator = Emulator::start().await;
    let auth = emulator.authenticator();
    let access = emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &["admin"], &["reports.read"]);
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let (auth, token) = (auth.clone(), access.token.clone());
            tokio::spawn(async move { auth.authenticate(&api_key(&token)).await })
        })
        .collect();
    for task in tasks {
        let identity = task.await.unwrap().unwrap();
        assert_eq!(identity.roles(), ["admin"]);
        assert_eq!(identity.permissions(), ["reports.read"]);
    }
    assert_eq!(emulator.calls(Endpoint::VendorAuth), 1);
    assert_eq!(emulator.calls(Endpoint::AccessTokenLookup), 1);
}

#[tokio::test]
async fn placeholders_never_surface_and_user_access_tokens_name_their_user() {
    let emulator = Emulator::start().await;
    let auth = emulator.authenticator();
    let access = emulator.create_access_token(TokenType::UserAccess, "tenant-1", &[], &["reports.*"]);
    let identity = auth.authenticate(&api_key(&access.token)).await.unwrap();
    assert_eq!(identity.token_type(), &TokenType::UserAccess);
    assert_eq!(identity.user_id(), Some("user-1"));
    assert!(identity.roles().is_empty());
    assert!(identity.has_permission("reports.read"));
    assert!(!identity.has_permission("FETCH-PERMISSIONS-BY-API"));
}

#[tokio::test]
async fn a_revoked_access_token_is_refused_within_ttl_plus_one_second() {
    let emulator = Emulator::start().await;
    let ttl = Duration::from_secs(1);
    let auth = Authenticator::new(emulator.config().access_token_ttl(ttl).build().unwrap()).unwrap();
    let access = emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &["reports.read"]);
    auth.authenticate(&api_key(&access.token)).await.unwrap();
    emulator.revoke_access_token(&access.id);
    let revoked_at = Instant::now();
    loop {
        match auth.authenticate(&api_key(&access.token)).await {
            Ok(_) => assert!(revoked_at.elapsed() < ttl + Duration::from_secs(1), "still accepted after TTL + 1 s"),
            Err(e) => {
                assert_eq!(e, AuthError::Revoked);
                assert_eq!(frontegg_auth::Refusal::from(e.clone()).status(), http::StatusCode::UNAUTHORIZED);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The refusal is cached for the TTL: no lookup per request.
    let lookups = emulator.calls(Endpoint::AccessTokenLookup);
    for _ in 0..20 {
        assert_eq!(auth.authenticate(&api_key(&access.token)).await.unwrap_err(), AuthError::Revoked);
    }
    assert_eq!(emulator.calls(Endpoint::AccessTokenLookup), lookups);
}

#[tokio::test]
async fn unknown_access_tokens_and_disabled_access_tokens_answer_401() {
    let emulator = Emulator::start().await;
    let auth = emulator.authenticator();
    let stranger = emulator.token(TokenType::TenantAccess).sign();
    assert_eq!(auth.authenticate(&api_key(&stranger)).await.unwrap_err(), AuthError::Revoked);

    emulator.set_access_tokens_disabled(true);
    let access = emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &[]);
    assert_eq!(auth.authenticate(&api_key(&access.token)).await.unwrap_err(), AuthError::Revoked);

    // A lookup that names another tenant than the token does not authenticate it.
    emulator.set_access_tokens_disabled(false);
    let other = emulator.create_access_token(TokenType::TenantAccess, "tenant-2", &[], &[]);
    let relabelled = emulator.token(TokenType::TenantAccess).subject(&other.id).tenant("tenant-1").sign();
    assert_eq!(auth.authenticate(&api_key(&relabelled)).await.unwrap_err(), AuthError::Revoked);
}

#[tokio::test]
async fn gateway_down_answers_503_and_nothing_from_the_outage_is_cached() {
    let emulator = Emulator::start().await;
    let auth = Authenticator::new(emulator.config().api_retries(1).build().unwrap()).unwrap();
    auth.ready(Duration::from_secs(5)).await.unwrap();
    let access = emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &["reports.read"]);

    emulator.set_behaviour(Surface::Gateway, Behaviour::Unavailable);
    let err = auth.authenticate(&api_key(&access.token)).await.unwrap_err();
    assert!(matches!(err, AuthError::ApiUnavailable(_)));
    assert_eq!(frontegg_auth::Refusal::from(err.clone()).status(), http::StatusCode::SERVICE_UNAVAILABLE);
    // Garbage is no verdict either.
    emulator.set_behaviour(Surface::Gateway, Behaviour::Garbage);
    assert!(matches!(auth.authenticate(&api_key(&access.token)).await.unwrap_err(), AuthError::ApiUnavailable(_)));

    emulator.set_behaviour(Surface::Gateway, Behaviour::Normal);
    let identity = auth.authenticate(&api_key(&access.token)).await.unwrap();
    assert!(identity.has_permission("reports.read"));

    // Down after warm-up: the cached lookup keeps serving within its TTL.
    emulator.set_behaviour(Surface::Gateway, Behaviour::Unavailable);
    auth.authenticate(&api_key(&access.token)).await.unwrap();
}

#[tokio::test]
async fn a_slow_gateway_times_out_with_503() {
    let emulator = Emulator::start().await;
    let auth =
        Authenticator::new(emulator.config().http_timeout(Duration::from_millis(300)).api_retries(0).build().unwrap())
            .unwrap();
    auth.ready(Duration::from_secs(5)).await.unwrap();
    let access = emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &[]);
    emulator.set_behaviour(Surface::Gateway, Behaviour::Slow(Duration::from_secs(30)));
    let started = Instant::now();
    assert!(matches!(auth.authenticate(&api_key(&access.token)).await.unwrap_err(), AuthError::ApiUnavailable(_)));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn the_vendor_token_is_renewed_before_it_expires_and_no_request_fails_at_the_switch() {
    let emulator = Emulator::start().await;
    emulator.set_vendor_token_lifetime(Duration::from_secs(2));
    let client = FronteggClient::new(&emulator.config().build().unwrap()).unwrap();
    let started = Instant::now();
    let mut calls = 0;
    while started.elapsed() < Duration::from_secs(5) {
        client.permissions().list().await.unwrap();
        calls += 1;
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    assert!(calls > 50);
    let renewals = emulator.calls(Endpoint::VendorAuth);
    assert!((3..=5).contains(&renewals), "{renewals} vendor token requests");
    assert_eq!(emulator.refused_vendor_tokens(), 0, "a request was sent with an expired vendor token");
}

#[tokio::test]
async fn wrong_credentials_are_a_clear_configuration_error() {
    let emulator = Emulator::start().await;
    let config = emulator.config().credentials(emulator.client_id(), "wrong-key").build().unwrap();
    let client = FronteggClient::new(&config).unwrap();
    let err = client.roles().list(None).await.unwrap_err();
    assert_eq!(err, ApiError::InvalidCredentials);
    assert!(err.to_string().contains("FRONTEGG_API_KEY"));
    assert!(!err.to_string().contains("wrong-key"));
    // And access tokens then answer 503 (the service is misconfigured, the caller is not at fault).
    let auth = Authenticator::new(config).unwrap();
    let access = emulator.create_access_token(TokenType::TenantAccess, "tenant-1", &[], &[]);
    assert!(matches!(auth.authenticate(&api_key(&access.token)).await.unwrap_err(), AuthError::ApiUnavailable(_)));
}

#[tokio::test]
async fn a_429_waits_for_the_reset_and_gives_up_when_it_is_far() {
    let emulator = Emulator::start().await;
    let client = FronteggClient::new(&emulator.config().build().unwrap()).unwrap();
    client.permissions().list().await.unwrap();
    emulator.reset_calls();

    emulator.rate_limit(1, Duration::from_millis(300));
    let started = Instant::now();
    client.permissions().list().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200), "waited {:?}", started.elapsed());
    assert_eq!(emulator.calls(Endpoint::Management), 2);

    emulator.rate_limit(10, Duration::from_secs(3600));
    let started = Instant::now();
    match client.permissions().list().await.unwrap_err() {
        ApiError::RateLimited { reset } => assert!(reset.is_some()),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(1), "it must not wait an hour");
}

#[tokio::test]
async fn a_429_on_the_vendor_token_request_waits_for_the_reset_too() {
    let emulator = Emulator::start().await;
    let client = FronteggClient::new(&emulator.config().build().unwrap()).unwrap();
    emulator.rate_limit(1, Duration::from_millis(200));
    client.permissions().list().await.unwrap();
    assert_eq!(emulator.calls(Endpoint::VendorAuth), 2);
}

#[tokio::test]
async fn user_roles_are_resolved_through_the_api_when_the_jwt_leaves_them_out() {
    let emulator = Emulator::start().await;
    emulator.add_user("user-1", "tenant-1", &["admin"], &["reports.read"]);
    let plain = emulator.authenticator();
    let token = emulator.user_token().sign();
    let identity = plain.authenticate(&Credential::new(CredentialKind::Bearer, token.clone())).await.unwrap();
    assert!(identity.roles().is_empty(), "off by default");
    assert_eq!(emulator.calls(Endpoint::UserLookup), 0);

    let resolving = Authenticator::new(emulator.config().resolve_user_roles(true).build().unwrap()).unwrap();
    for _ in 0..3 {
        let identity = resolving.authenticate(&Credential::new(CredentialKind::Bearer, token.clone())).await.unwrap();
        assert_eq!(identity.roles(), ["admin"]);
        assert!(identity.has_permission("reports.read"));
    }
    assert_eq!(emulator.calls(Endpoint::UserLookup), 1, "cached");
    // A token that carries its rights is not looked up.
    resolving
        .authenticate(&Credential::new(CredentialKind::Bearer, emulator.user_token().roles(["viewer"]).sign()))
        .await
        .unwrap();
    assert_eq!(emulator.calls(Endpoint::UserLookup), 1);
}

#[tokio::test]
async fn every_management_endpoint_round_trips() {
    let emulator = Emulator::start().await;
    let auth = emulator.authenticator();
    let client = auth.client().expect("credentials are configured");

    // Categories.
    let category = client.categories().create(NewCategory::new("Reports").description("Report access")).await.unwrap();
    assert_eq!(category.name, "Reports");
    let chosen = client.categories().create(NewCategory::new("Billing").id("billing-cat")).await.unwrap();
    assert_eq!(chosen.id, "billing-cat");
    client.categories().update(&category.id, &CategoryUpdate::new().name("Reporting")).await.unwrap();
    let categories = client.categories().list().await.unwrap();
    assert_eq!(categories.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["Reporting", "Billing"]);

    // Permissions.
    let created = client
        .permissions()
        .create(vec![
            NewPermission::new("reports.read", "Read reports").category(&category.id),
            NewPermission::new("reports.write", "Write reports")
                .category(&category.id)
                .assignment(AssignmentType::Assignable),
        ])
        .await
        .unwrap();
    assert_eq!(created.len(), 2);
    assert_eq!(created[0].category_id.as_deref(), Some(category.id.as_str()));
    let duplicate = client.permissions().create(vec![NewPermission::new("reports.read", "again")]).await.unwrap_err();
    assert_eq!(duplicate.status(), Some(http::StatusCode::CONFLICT));
    assert!(matches!(&duplicate, ApiError::Status { messages, .. } if messages[0].contains("already exists")));
    let updated = client
        .permissions()
        .update(&created[1].id, &PermissionUpdate::new().description("Create and edit"))
        .await
        .unwrap();
    assert_eq!(updated.description.as_deref(), Some("Create and edit"));
    client.permissions().classify(&[&created[0].id], AssignmentType::Always).await.unwrap();

    // Roles.
    let roles = client
        .roles()
        .create(vec![
            NewRole::new("reader", "Reader", 2),
            NewRole::new("editor", "Editor", 1).description("Edits").default_role(true),
        ])
        .await
        .unwrap();
    assert_eq!(roles.len(), 2);
    assert!(roles[1].is_default);
    let reader = client.roles().set_permissions(&roles[0].id, &[&created[0].id]).await.unwrap();
    assert_eq!(reader.permissions, [created[0].id.clone()]);
    let writable = client.permissions().set_roles(&created[1].id, &[&roles[1].id]).await.unwrap();
    assert_eq!(writable.role_ids, [roles[1].id.clone()]);
    let renamed = client.roles().update(&roles[1].id, &RoleUpdate::new().name("Editors")).await.unwrap();
    assert_eq!(renamed.name, "Editors");
    assert_eq!(client.roles().list(None).await.unwrap().len(), 2);
    assert_eq!(client.roles().list(Some("tenant-1")).await.unwrap().len(), 2);

    let page = client.roles().list_page(&RolesQuery::default().limit(1u32).offset(1u32)).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].key, "editor");
    assert_eq!((page.metadata.total_items, page.metadata.total_pages), (2, 2));
    let filtered = client.roles().list_page(&RolesQuery::default().filter("read")).await.unwrap();
    assert_eq!(filtered.items.len(), 1);

    let listed = client.permissions().list().await.unwrap();
    let read = listed.iter().find(|p| p.key == "reports.read").unwrap();
    assert_eq!(read.role_ids, [roles[0].id.clone()]);

    // Deletions, and errors carrying Frontegg's messages.
    client.permissions().delete(&created[1].id).await.unwrap();
    client.roles().delete(&roles[1].id).await.unwrap();
    client.categories().delete(&chosen.id).await.unwrap();
    let missing = client.roles().delete("no-such-role").await.unwrap_err();
    assert_eq!(missing.status(), Some(http::StatusCode::NOT_FOUND));
    let trace_id = missing.trace_id().expect("Frontegg's trace id is kept").to_owned();
    assert_eq!(
        missing.to_string(),
        format!("Frontegg answered HTTP 404 Not Found: Role not found (frontegg-trace-id {trace_id})")
    );
    let (permissions, categories, roles) = emulator.permission_model();
    assert_eq!((permissions.len(), categories.len(), roles.len()), (1, 1, 1));
    // Ids from callers never change the path's shape.
    assert!(client.permissions().delete("../../roles/v1").await.is_err());
    assert_eq!(emulator.permission_model().2.len(), 1);
}

#[tokio::test]
async fn user_rights_never_cross_tenants() {
    let emulator = Emulator::start().await;
    emulator.add_user("user-1", "tenant-1", &["admin"], &["reports.read"]);
    let auth = Authenticator::new(emulator.config().resolve_user_roles(true).build().unwrap()).unwrap();
    let elsewhere = emulator.user_token().tenant("tenant-2").sign();
    let identity = auth.authenticate(&Credential::new(CredentialKind::Bearer, elsewhere)).await.unwrap();
    assert!(identity.roles().is_empty(), "{:?}", identity.roles());
    assert!(identity.permissions().is_empty(), "{:?}", identity.permissions());
}

#[tokio::test]
async fn ids_that_would_change_the_path_are_refused_before_any_call() {
    let emulator = Emulator::start().await;
    let auth = emulator.authenticator();
    let client = auth.client().unwrap();
    client.roles().create(vec![NewRole::new("reader", "Reader", 1)]).await.unwrap();
    let before = emulator.calls(Endpoint::Management);
    for id in ["", ".", ".."] {
        assert_eq!(client.roles().delete(id).await.unwrap_err(), ApiError::InvalidId);
        assert_eq!(client.permissions().set_roles(id, &["x"]).await.unwrap_err(), ApiError::InvalidId);
    }
    assert_eq!(emulator.calls(Endpoint::Management), before);
    assert_eq!(emulator.permission_model().2.len(), 1);
    // An access token whose `sub` is such an id names no access token.
    let dotted = emulator.token(TokenType::TenantAccess).subject("..").sign();
    assert_eq!(auth.authenticate(&api_key(&dotted)).await.unwrap_err(), AuthError::Revoked);
    assert_eq!(emulator.calls(Endpoint::AccessTokenLookup), 0);
}

#[tokio::test]
async fn creates_are_not_retried_after_a_5xx_but_reads_are() {
    let emulator = Emulator::start().await;
    let client = FronteggClient::new(&emulator.config().build().unwrap()).unwrap();
    client.permissions().list().await.unwrap();
    emulator.reset_calls();
    emulator.set_behaviour(Surface::Gateway, Behaviour::Unavailable);
    let err = client.permissions().create(vec![NewPermission::new("a.b", "A")]).await.unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(emulator.calls(Endpoint::Management), 1, "a create is sent once");
    client.permissions().list().await.unwrap_err();
    assert_eq!(emulator.calls(Endpoint::Management), 1 + 3, "a read is retried twice");
}

#[tokio::test]
async fn a_vendor_auth_outage_does_not_stall_requests_while_the_token_is_valid() {
    let emulator = Emulator::start().await;
    emulator.set_vendor_token_lifetime(Duration::from_secs(2));
    let client = FronteggClient::new(&emulator.config().build().unwrap()).unwrap();
    client.permissions().list().await.unwrap();
    // Past 80 % of the lifetime, with /auth/vendor down.
    tokio::time::sleep(Duration::from_millis(1700)).await;
    emulator.set_behaviour(Surface::VendorAuth, Behaviour::Slow(Duration::from_secs(30)));
    for _ in 0..5 {
        let started = Instant::now();
        client.permissions().list().await.unwrap();
        assert!(started.elapsed() < Duration::from_millis(500), "a request waited {:?}", started.elapsed());
    }
    // Back to normal: the next renewal succeeds and requests go on.
    emulator.set_behaviour(Surface::VendorAuth, Behaviour::Normal);
    tokio::time::sleep(Duration::from_millis(600)).await;
    client.permissions().list().await.unwrap();
}

#[tokio::test]
async fn the_management_client_needs_credentials() {
    let config = frontegg_auth::Config::builder().base_url("https://app-x.frontegg.com").build().unwrap();
    assert!(FronteggClient::new(&config).is_err());
    assert!(Authenticator::new(config).unwrap().client().is_none());
}
