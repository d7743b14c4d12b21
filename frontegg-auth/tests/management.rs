//! The management clients (users, tenants, machine tokens, token exchange, sessions,
//! invitations, groups) against the emulator over real TCP: every call round trip, pagination
//! across pages, each unconfirmed reading of the fact sheet, the shared retry loop, the one id
//! rule, answers of the wrong shape, and secrets kept out of `Debug`.

use std::time::{Duration, Instant};

use frontegg_auth::api::{
    AccessTokenSecret, ApiError, ClientSecret, ExchangeVersion, FronteggClient, GroupsQuery, InvitedUser, Membership,
    NewAccessToken, NewApiToken, NewGroup, NewInvitation, NewPermission, NewRole, NewTenant, NewUser, OneTimeToken,
    SecretLink, SortOrder, Tenant, TenantUpdate, TenantsQuery, TokenExchange, TokenOwner, User, UserSort, UserUpdate,
    UsersQuery,
};
use frontegg_auth::testing::{Behaviour, Emulator, Endpoint, IdsParameter, MetadataReading, OffsetReading, Surface};
use frontegg_auth::{AuthError, Authenticator, Credential, CredentialKind, TokenType};
use futures_util::TryStreamExt;
use serde_json::json;

fn object(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// The emulator, an authenticator and its client, and a role `reader` holding `reports.read`.
async fn setup() -> (Emulator, Authenticator, FronteggClient, String) {
    let emulator = Emulator::start().await;
    let auth = Authenticator::new(emulator.config().access_token_ttl(Duration::from_secs(1)).build().unwrap()).unwrap();
    let client = auth.client().expect("credentials are configured");
    let permission =
        client.permissions().create(vec![NewPermission::new("reports.read", "Read reports")]).await.unwrap();
    let role = client.roles().create(vec![NewRole::new("reader", "Reader", 1)]).await.unwrap();
    client.roles().set_permissions(&role[0].id, &[&permission[0].id]).await.unwrap();
    (emulator, auth, client, role[0].id.clone())
}

fn membership<'a>(user: &'a User, tenant_id: &str) -> &'a Membership {
    user.tenants.iter().find(|m| m.tenant_id == tenant_id).expect("a member")
}

#[tokio::test]
async fn every_users_call_round_trips() {
    let (emulator, _auth, client, reader) = setup().await;
    let users = client.users();
    client.tenants().create(NewTenant::new("Acme").tenant_id("acme")).await.unwrap();
    client.tenants().create(NewTenant::new("Globex").tenant_id("globex")).await.unwrap();
    let admin = client.roles().create(vec![NewRole::new("admin", "Admin", 0)]).await.unwrap().remove(0);

    // Create (vendor-only), with a `+` in the address that a query must carry as written.
    let ada = users
        .create(
            NewUser::new("acme", "ada+ops@example.com")
                .name("Ada")
                .metadata(object(json!({"team": "ops"})))
                .role_ids([reader.as_str()]),
        )
        .await
        .unwrap();
    assert_eq!(ada.email.as_deref(), Some("ada+ops@example.com"));
    assert_eq!(ada.metadata["team"], "ops", "metadata sent and read back as a JSON-encoded string");
    assert_eq!(ada.last_login, None, "null where the spec says required");
    assert_eq!(membership(&ada, "acme").roles.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["reader"]);

    // Get, by id and by e-mail; unknown ones are None.
    let got = users.get(&ada.id).await.unwrap().unwrap();
    assert_eq!(got.id, ada.id);
    assert_eq!(users.get_by_email("ada+ops@example.com").await.unwrap().unwrap().id, ada.id);
    assert_eq!(users.get_by_email("ada ops@example.com").await.unwrap(), None);
    assert_eq!(users.get("no-such-user").await.unwrap(), None);

    // Update.
    let update = UserUpdate::new().name("Ada L.").metadata(object(json!({"team": "dev"})));
    let updated = users.update(&ada.id, &update).await.unwrap();
    assert_eq!((updated.name.as_deref(), &updated.metadata["team"]), (Some("Ada L."), &json!("dev")));

    // Memberships: add, make active, disable, enable, remove.
    let joined = users.add_to_tenant(&ada.id, "globex", true).await.unwrap();
    assert!(joined.tenant_ids.contains(&"globex".to_owned()));
    assert_eq!(users.set_active_tenant(&ada.id, "globex").await.unwrap().tenant_id.as_deref(), Some("globex"));
    users.disable_in_tenant(&ada.id, "globex").await.unwrap();
    assert!(membership(&users.get(&ada.id).await.unwrap().unwrap(), "globex").is_disabled);
    users.enable_in_tenant(&ada.id, "globex").await.unwrap();
    assert!(!membership(&users.get(&ada.id).await.unwrap().unwrap(), "globex").is_disabled);

    // Roles: assign, unassign, and exactly these.
    let roles = users.assign_roles(&ada.id, "acme", &[&admin.id]).await.unwrap();
    assert_eq!(roles.len(), 2);
    let roles = users.unassign_roles(&ada.id, "acme", &[&reader]).await.unwrap();
    assert_eq!(roles.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["admin"]);
    let changes = users.set_roles(&ada.id, "acme", &[&reader]).await.unwrap();
    assert_eq!((changes.assigned, changes.unassigned), (vec![reader.clone()], vec![admin.id.clone()]));
    let after = users.get(&ada.id).await.unwrap().unwrap();
    assert_eq!(membership(&after, "acme").roles.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [reader.as_str()]);
    assert!(users.set_roles(&ada.id, "acme", &[&reader]).await.unwrap().is_empty(), "nothing to change");

    // Lock, unlock, verify.
    users.lock(&ada.id).await.unwrap();
    assert!(users.get(&ada.id).await.unwrap().unwrap().is_locked);
    users.unlock(&ada.id).await.unwrap();
    users.verify(&ada.id).await.unwrap();
    let user = users.get(&ada.id).await.unwrap().unwrap();
    assert!(!user.is_locked && user.verified);

    // Links: secrets, never in Debug.
    for link in [users.activation_link(&ada.id).await.unwrap(), users.password_reset_link(&ada.id).await.unwrap()] {
        assert!(link.link.expose().contains(link.token.expose()));
        let debug = format!("{link:?}");
        assert!(!debug.contains(link.token.expose()) && !debug.contains(link.link.expose()), "{debug}");
    }

    // The invite variant: a new user in a tenant.
    let grace = users
        .invite("acme", InvitedUser::new("grace@example.com").name("Grace").skip_invite_email(true))
        .await
        .unwrap();
    assert_eq!(grace.email.as_deref(), Some("grace@example.com"));
    assert!(users.get(&grace.id).await.unwrap().unwrap().tenant_ids.contains(&"acme".to_owned()));

    // Remove from one tenant, then delete.
    users.remove_from_tenant(&ada.id, "globex").await.unwrap();
    assert!(!users.get(&ada.id).await.unwrap().unwrap().tenant_ids.contains(&"globex".to_owned()));
    users.delete(&ada.id).await.unwrap();
    assert_eq!(users.get(&ada.id).await.unwrap(), None);
    assert!(!emulator.directory_user_ids().contains(&ada.id));
}

#[tokio::test]
async fn set_roles_reports_which_changes_failed() {
    let (emulator, _auth, client, reader) = setup().await;
    client.tenants().create(NewTenant::new("Acme").tenant_id("acme")).await.unwrap();
    let admin = client.roles().create(vec![NewRole::new("admin", "Admin", 0)]).await.unwrap().remove(0);
    let ada = client.users().create(NewUser::new("acme", "ada@example.com").role_ids([reader.as_str()])).await.unwrap();
    // The assignment fails (a 5xx, not retried: a POST): nothing is unassigned, so the user is
    // never left without roles.
    emulator.fail_role_changes(1);
    let error = client.users().set_roles(&ada.id, "acme", &[&admin.id]).await.unwrap_err();
    let ApiError::RolesPartlySet { applied, failed, cause } = &error else { panic!("{error:?}") };
    assert!(applied.is_empty(), "{applied:?}");
    assert_eq!((&failed.assigned, &failed.unassigned), (&vec![admin.id.clone()], &vec![reader.clone()]));
    assert_eq!(cause.status(), Some(http::StatusCode::INTERNAL_SERVER_ERROR));
    assert!(error.is_transient());
    let kept = client.users().get_in_tenant(&ada.id, "acme").await.unwrap().unwrap();
    assert_eq!(kept.roles.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [reader.as_str()]);
    // The assignment made, the unassignment fails (a DELETE: retried, so it fails every time):
    // the report says which.
    emulator.fail_role_changes_after(1, 10);
    let error = client.users().set_roles(&ada.id, "acme", &[&admin.id]).await.unwrap_err();
    let ApiError::RolesPartlySet { applied, failed, .. } = &error else { panic!("{error:?}") };
    assert_eq!((&applied.assigned, &applied.unassigned), (&vec![admin.id.clone()], &vec![]));
    assert_eq!((&failed.assigned, &failed.unassigned), (&vec![], &vec![reader.clone()]));
    // A role id that is not one: refused before any call.
    assert_eq!(client.users().set_roles(&ada.id, "acme", &[""]).await.unwrap_err(), ApiError::InvalidId);
}

#[tokio::test]
async fn users_stream_across_three_pages_and_filter_by_id_under_either_parameter_name() {
    let (emulator, _auth, client, _) = setup().await;
    client.tenants().create(NewTenant::new("Acme").tenant_id("acme")).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(client.users().create(NewUser::new("acme", format!("u{i}@example.com"))).await.unwrap().id);
    }
    emulator.reset_calls();
    let streamed: Vec<User> =
        client.users().stream(UsersQuery::default().tenant("acme").limit(2)).try_collect().await.unwrap();
    assert_eq!(streamed.iter().map(|u| u.id.clone()).collect::<Vec<_>>(), ids);
    assert_eq!(emulator.calls(Endpoint::Directory), 3, "pages 0, 1 and 2 (`_offset` is a page index), no fourth");

    let page = client.users().list_page(&UsersQuery::default().limit(2).page(2)).await.unwrap();
    assert_eq!((page.items.len(), page.total_pages, page.total_items), (1, Some(3), Some(5)));
    let by_email = client.users().list_page(&UsersQuery::default().email("u3@example.com")).await.unwrap();
    assert_eq!(by_email.items.iter().map(|u| u.id.clone()).collect::<Vec<_>>(), [ids[3].clone()]);
    let sorted: Vec<User> = client
        .users()
        .stream(UsersQuery::default().sort(UserSort::Email, SortOrder::Desc).limit(3))
        .try_collect()
        .await
        .unwrap();
    let mut reversed = ids.clone();
    reversed.reverse();
    assert_eq!(sorted.iter().map(|u| u.id.clone()).collect::<Vec<_>>(), reversed);

    for reading in [IdsParameter::Ids, IdsParameter::UnderscoreIds] {
        emulator.set_user_ids_parameter(reading);
        let page = client.users().list_page(&UsersQuery::default().ids([&ids[1], &ids[3]])).await.unwrap();
        assert_eq!(
            page.items.iter().map(|u| u.id.clone()).collect::<Vec<_>>(),
            [ids[1].clone(), ids[3].clone()],
            "{reading:?}"
        );
    }
}

#[tokio::test]
async fn every_tenants_call_round_trips_whatever_form_metadata_takes() {
    for reading in [MetadataReading::String, MetadataReading::Object] {
        let (emulator, _auth, client, _) = setup().await;
        emulator.set_tenant_metadata_reading(reading);
        let tenants = client.tenants();
        let acme =
            tenants.create(NewTenant::new("Acme").tenant_id("acme").creator("Ada", "ada@example.com")).await.unwrap();
        assert_eq!((acme.tenant_id.as_str(), acme.name.as_deref()), ("acme", Some("Acme")));
        let generated = tenants.create(NewTenant::new("Initech")).await.unwrap();
        assert!(!generated.tenant_id.is_empty());

        let duplicate = tenants.create(NewTenant::new("Acme again").tenant_id("acme")).await.unwrap_err();
        assert_eq!(duplicate.status(), Some(http::StatusCode::CONFLICT));
        assert!(duplicate.to_string().contains("Tenant already exists"), "{duplicate}");
        assert!(duplicate.trace_id().is_some_and(|t| !t.is_empty()), "the trace id is kept");

        assert_eq!(tenants.get("acme").await.unwrap().unwrap().name.as_deref(), Some("Acme"));
        assert_eq!(tenants.get("nobody").await.unwrap(), None, "an empty array is no tenant");
        let all: Vec<Tenant> = tenants.list().await.unwrap();
        assert_eq!(all.len(), 2);
        let page = tenants.list_page(&TenantsQuery::default().filter("acm").limit(1)).await.unwrap();
        assert_eq!(page.items.iter().map(|t| t.tenant_id.as_str()).collect::<Vec<_>>(), ["acme"]);
        assert_eq!((page.total_items, page.total_pages), (Some(1), Some(1)));

        let renamed = tenants.update("acme", &TenantUpdate::new().name("Acme Corp")).await.unwrap();
        assert_eq!(renamed.name.as_deref(), Some("Acme Corp"));
        tenants.merge_metadata("acme", object(json!({"plan": "pro", "seats": 5}))).await.unwrap();
        let merged = tenants.merge_metadata("acme", object(json!({"plan": "enterprise"}))).await.unwrap();
        assert_eq!(merged.metadata, object(json!({"plan": "enterprise", "seats": 5})), "{reading:?}");
        let trimmed = tenants.delete_metadata("acme", "seats").await.unwrap();
        assert_eq!(trimmed.metadata, object(json!({"plan": "enterprise"})), "{reading:?}");

        tenants.delete("acme").await.unwrap();
        assert_eq!(tenants.get("acme").await.unwrap(), None);
        assert_eq!(emulator.directory_tenant_ids(), std::slice::from_ref(&generated.tenant_id));
    }
}

#[tokio::test]
async fn tenants_stream_whichever_way_the_offset_is_read() {
    for (reading, calls) in [(OffsetReading::PageIndex, 3), (OffsetReading::Records, 4)] {
        let (emulator, _auth, client, _) = setup().await;
        emulator.set_tenant_offset_reading(reading);
        let mut ids = Vec::new();
        for i in 0..5 {
            ids.push(
                client
                    .tenants()
                    .create(NewTenant::new(format!("T{i}")).tenant_id(format!("t{i}")))
                    .await
                    .unwrap()
                    .tenant_id,
            );
        }
        emulator.reset_calls();
        let streamed: Vec<Tenant> =
            client.tenants().stream(TenantsQuery::default().limit(2)).try_collect().await.unwrap();
        assert_eq!(streamed.iter().map(|t| t.tenant_id.clone()).collect::<Vec<_>>(), ids, "{reading:?}: each once");
        assert_eq!(emulator.calls(Endpoint::Directory), calls, "{reading:?}");
    }
}

#[tokio::test]
async fn access_tokens_verify_through_our_authentication_until_deleted() {
    let (emulator, auth, client, reader) = setup().await;
    client.tenants().create(NewTenant::new("Acme").tenant_id("acme")).await.unwrap();
    let ada = client.users().create(NewUser::new("acme", "ada@example.com").role_ids([reader.as_str()])).await.unwrap();

    let tenant = TokenOwner::Tenant("acme");
    let created = client
        .access_tokens()
        .create(tenant, NewAccessToken::new("exporter").role_ids([reader.as_str()]))
        .await
        .unwrap();
    assert!(!format!("{created:?}").contains(created.secret.expose()), "the value stays out of Debug");
    let identity = auth.authenticate(&Credential::new(CredentialKind::ApiKey, created.secret.expose())).await.unwrap();
    assert_eq!((identity.tenant_id(), identity.roles()), (Some("acme"), &["reader".to_owned()][..]));
    assert!(identity.has_permission("reports.read"));
    let listed = client.access_tokens().list(tenant).await.unwrap();
    assert_eq!(listed.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), [created.token.id.as_str()]);

    let user = TokenOwner::User { tenant_id: "acme", user_id: &ada.id };
    let personal =
        client.access_tokens().create(user, NewAccessToken::new("laptop").expires_in_minutes(60)).await.unwrap();
    let identity = auth.authenticate(&Credential::new(CredentialKind::ApiKey, personal.secret.expose())).await.unwrap();
    assert_eq!(identity.user_id(), Some(ada.id.as_str()));
    assert!(identity.has_permission("reports.read"));
    assert_eq!(client.access_tokens().list(user).await.unwrap().len(), 1);

    // Deleted: refused once the cached rights end (a TTL of 1 s here).
    client.access_tokens().delete(tenant, &created.token.id).await.unwrap();
    client.access_tokens().delete(user, &personal.token.id).await.unwrap();
    assert!(client.access_tokens().list(tenant).await.unwrap().is_empty());
    let deleted = Instant::now();
    loop {
        match auth.authenticate(&Credential::new(CredentialKind::ApiKey, created.secret.expose())).await {
            Err(AuthError::Revoked) => break,
            Ok(_) if deleted.elapsed() < Duration::from_secs(2) => tokio::time::sleep(Duration::from_millis(100)).await,
            other => panic!("still accepted after the TTL: {other:?}"),
        }
    }
    let _ = emulator;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_are_exchanged_once_for_concurrent_callers_in_both_versions() {
    let (emulator, auth, client, reader) = setup().await;
    client.tenants().create(NewTenant::new("Acme").tenant_id("acme")).await.unwrap();
    let ada = client.users().create(NewUser::new("acme", "ada@example.com").role_ids([reader.as_str()])).await.unwrap();
    let config = emulator.config().build().unwrap();

    let tenant = TokenOwner::Tenant("acme");
    let created = client
        .api_tokens()
        .create(tenant, NewApiToken::new("sync").role_ids([reader.as_str()]).metadata(object(json!({"env": "test"}))))
        .await
        .unwrap();
    assert_eq!(created.token.metadata["env"], "test");
    assert!(!format!("{created:?}").contains(created.secret.expose()));
    let listed = client.api_tokens().list(tenant).await.unwrap();
    assert_eq!(listed.iter().map(|t| t.client_id.as_str()).collect::<Vec<_>>(), [created.token.client_id.as_str()]);

    for version in [ExchangeVersion::V2, ExchangeVersion::V1] {
        emulator.reset_calls();
        let exchange =
            TokenExchange::new(&config, &created.token.client_id, created.secret.clone()).unwrap().version(version);
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let exchange = exchange.clone();
                tokio::spawn(async move { exchange.token().await })
            })
            .collect();
        let mut tokens = Vec::new();
        for task in tasks {
            tokens.push(task.await.unwrap().unwrap());
        }
        emulator.set_behaviour(Surface::Gateway, Behaviour::Normal);
        assert!(tokens.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(emulator.calls(Endpoint::TokenExchange), 1, "{version:?}: one exchange for 20 callers");
        exchange.token().await.unwrap();
        assert_eq!(emulator.calls(Endpoint::TokenExchange), 1, "{version:?}: the JWT is kept");
        let identity = auth.authenticate(&Credential::new(CredentialKind::Bearer, tokens[0].expose())).await.unwrap();
        assert_eq!(identity.token_type(), &TokenType::TenantApi);
        assert_eq!(identity.tenant_id(), Some("acme"));
        assert!(identity.has_permission("reports.read"), "{version:?}");
        assert!(!format!("{exchange:?}").contains(created.secret.expose()));
        assert!(!format!("{:?}", tokens[0]).contains(tokens[0].expose()), "the exchanged JWT stays out of Debug");
    }

    let user = TokenOwner::User { tenant_id: "acme", user_id: &ada.id };
    let personal = client.api_tokens().create(user, NewApiToken::new("cli")).await.unwrap();
    assert_eq!(client.api_tokens().list(user).await.unwrap().len(), 1);
    let jwt =
        TokenExchange::new(&config, &personal.token.client_id, personal.secret.clone()).unwrap().token().await.unwrap();
    let identity = auth.authenticate(&Credential::new(CredentialKind::Bearer, jwt.expose())).await.unwrap();
    assert_eq!(identity.user_id(), Some(ada.id.as_str()));

    // A wrong secret, and a deleted token: refused, with a clear error.
    let wrong = TokenExchange::new(&config, &created.token.client_id, ClientSecret::new("wrong")).unwrap();
    assert_eq!(wrong.token().await.unwrap_err(), ApiError::ExchangeRefused);
    client.api_tokens().delete(tenant, &created.token.client_id).await.unwrap();
    client.api_tokens().delete(user, &personal.token.client_id).await.unwrap();
    let deleted = TokenExchange::new(&config, &created.token.client_id, created.secret.clone()).unwrap();
    assert_eq!(deleted.token().await.unwrap_err(), ApiError::ExchangeRefused);
    assert!(client.api_tokens().list(tenant).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_exchanged_jwt_is_renewed_shortly_before_it_expires_and_outlives_an_outage() {
    let (emulator, _auth, client, _) = setup().await;
    client.tenants().create(NewTenant::new("Acme").tenant_id("acme")).await.unwrap();
    emulator.set_api_token_lifetime(Duration::from_secs(2));
    let created = client.api_tokens().create(TokenOwner::Tenant("acme"), NewApiToken::new("sync")).await.unwrap();
    let config = emulator.config().api_retries(0).build().unwrap();
    let exchange = TokenExchange::new(&config, created.client_id(), created.secret.clone()).unwrap();
    emulator.reset_calls();
    let started = Instant::now();
    let first = exchange.token().await.unwrap();
    // Kept until 90 % of its 2 s lifetime...
    tokio::time::sleep(Duration::from_millis(1500).saturating_sub(started.elapsed())).await;
    assert_eq!(exchange.token().await.unwrap(), first);
    assert_eq!(emulator.calls(Endpoint::TokenExchange), 1);
    // ...then renewed.
    tokio::time::sleep(Duration::from_millis(1850).saturating_sub(started.elapsed())).await;
    let second = exchange.token().await.unwrap();
    assert_ne!(second, first);
    assert_eq!(emulator.calls(Endpoint::TokenExchange), 2);

    // An outage at the next renewal: the JWT held is given while it lasts, a failure after.
    emulator.set_behaviour(Surface::Gateway, Behaviour::Unavailable);
    tokio::time::sleep(Duration::from_millis(3700).saturating_sub(started.elapsed())).await;
    assert_eq!(exchange.token().await.unwrap(), second, "still valid: given despite the failed renewal");
    assert_eq!(exchange.token().await.unwrap(), second);
    assert_eq!(emulator.calls(Endpoint::TokenExchange), 3, "one attempt, then the 1 s backoff");
    tokio::time::sleep(Duration::from_millis(4100).saturating_sub(started.elapsed())).await;
    assert!(exchange.token().await.unwrap_err().is_transient(), "expired: the failure shows");
}

#[tokio::test]
async fn sessions_are_listed_and_revoked() {
    let (emulator, _auth, client, _) = setup().await;
    client.tenants().create(NewTenant::new("Acme").tenant_id("acme")).await.unwrap();
    client.tenants().create(NewTenant::new("Globex").tenant_id("globex")).await.unwrap();
    let ada = client.users().create(NewUser::new("acme", "ada@example.com")).await.unwrap();
    client.users().add_to_tenant(&ada.id, "globex", true).await.unwrap();
    let first = emulator.add_user_session(&ada.id, "acme");
    emulator.add_user_session(&ada.id, "acme");
    emulator.add_user_session(&ada.id, "globex");
    let sessions = client.sessions();
    assert_eq!(sessions.list(&ada.id, None).await.unwrap().len(), 3);
    let in_acme = sessions.list(&ada.id, Some("acme")).await.unwrap();
    assert_eq!(in_acme.len(), 2);
    assert!(in_acme.iter().all(|s| !s.current && !s.impersonated), "null reads as false");
    sessions.revoke(&ada.id, Some("acme"), &first).await.unwrap();
    assert_eq!(sessions.list(&ada.id, Some("acme")).await.unwrap().len(), 1);
    sessions.revoke_all(&ada.id, Some("acme")).await.unwrap();
    assert!(sessions.list(&ada.id, Some("acme")).await.unwrap().is_empty());
    assert_eq!(sessions.list(&ada.id, None).await.unwrap().len(), 1, "the other tenant's session stays");
    assert_eq!(sessions.revoke(&ada.id, None, "all").await.unwrap_err(), ApiError::InvalidId);
}

#[tokio::test]
async fn invitations_and_groups_round_trip() {
    let (_emulator, _auth, client, reader) = setup().await;
    client.tenants().create(NewTenant::new("Acme").tenant_id("acme")).await.unwrap();

    let invitation = client
        .invitations()
        .create(NewInvitation::new("acme").expires_in_minutes(60).role_ids([reader.as_str()]))
        .await
        .unwrap();
    assert_eq!((invitation.tenant_id.as_str(), invitation.role_ids.clone()), ("acme", vec![reader.clone()]));
    assert!(!format!("{invitation:?}").contains(invitation.token.expose()));
    assert_eq!(client.invitations().list().await.unwrap().len(), 1);
    client.invitations().delete(&invitation.id).await.unwrap();
    assert!(client.invitations().list().await.unwrap().is_empty());

    let groups = client.groups();
    let mut ids = Vec::new();
    for name in ["Finance", "Ops", "Sales"] {
        let group = groups.create("acme", NewGroup::new(name).metadata(object(json!({"cost": name})))).await.unwrap();
        assert_eq!(group.metadata["cost"], name);
        ids.push(group.id);
    }
    let all: Vec<_> = groups.stream("acme", GroupsQuery::default().limit(1)).try_collect().await.unwrap();
    assert_eq!(all.iter().map(|g| g.id.clone()).collect::<Vec<_>>(), ids);
    let page = groups.list_page("acme", &GroupsQuery::default().limit(2)).await.unwrap();
    assert_eq!((page.items.len(), page.total_pages), (2, Some(2)));
    groups.delete("acme", &ids[0]).await.unwrap();
    assert_eq!(groups.list_page("acme", &GroupsQuery::default()).await.unwrap().items.len(), 2);
}

#[tokio::test]
async fn a_429_goes_through_the_shared_retry_loop() {
    let (emulator, _auth, client, _) = setup().await;
    client.tenants().create(NewTenant::new("Acme").tenant_id("acme")).await.unwrap();
    emulator.reset_calls();
    emulator.rate_limit(1, Duration::from_millis(200));
    let started = Instant::now();
    assert!(client.tenants().get("acme").await.unwrap().is_some());
    assert!(started.elapsed() >= Duration::from_millis(150), "waited for the reset");
    assert_eq!(emulator.calls(Endpoint::Directory), 2);
    // A create is sent again after a 429 too: Frontegg did not process it.
    emulator.rate_limit(1, Duration::from_millis(100));
    client.tenants().create(NewTenant::new("Globex").tenant_id("globex")).await.unwrap();
    emulator.rate_limit(10, Duration::from_secs(3600));
    assert!(matches!(client.users().get("x").await.unwrap_err(), ApiError::RateLimited { .. }));
}

#[tokio::test]
async fn the_application_id_goes_on_every_call() {
    let (emulator, _auth, client, _) = setup().await;
    emulator.require_application_id(Some("app-1"));
    let refused = client.tenants().list().await.unwrap_err();
    assert_eq!(refused.status(), Some(http::StatusCode::FORBIDDEN));
    let client = client.with_application_id("app-1").unwrap();
    client.tenants().create(NewTenant::new("Acme").tenant_id("acme")).await.unwrap();
    client.users().create(NewUser::new("acme", "ada@example.com")).await.unwrap();
    assert_eq!(client.tenants().list().await.unwrap().len(), 1);
    assert_eq!(client.with_application_id("app\n1").unwrap_err(), ApiError::InvalidId);
}

#[tokio::test]
async fn malformed_ids_are_refused_before_any_call() {
    let (emulator, _auth, client, _) = setup().await;
    emulator.reset_calls();
    let owner = |id| TokenOwner::Tenant(id);
    for id in ["", " ", "\t", ".", "..", "a\nb", "a\u{0}b", "a\u{7f}"] {
        let invalid = |r: Result<_, ApiError>| assert_eq!(r.map(|_| ()).unwrap_err(), ApiError::InvalidId, "{id:?}");
        invalid(client.users().get(id).await.map(|_| ()));
        invalid(client.users().update(id, &UserUpdate::default()).await.map(|_| ()));
        invalid(client.users().delete(id).await);
        invalid(client.users().remove_from_tenant("u", id).await);
        invalid(client.users().add_to_tenant(id, "t", true).await.map(|_| ()));
        invalid(client.users().set_active_tenant(id, "t").await.map(|_| ()));
        invalid(client.users().disable_in_tenant(id, "t").await);
        invalid(client.users().enable_in_tenant("u", id).await);
        invalid(client.users().assign_roles(id, "t", &["r"]).await.map(|_| ()));
        invalid(client.users().unassign_roles("u", id, &["r"]).await.map(|_| ()));
        invalid(client.users().set_roles(id, "t", &["r"]).await.map(|_| ()));
        invalid(client.users().lock(id).await);
        invalid(client.users().unlock(id).await);
        invalid(client.users().verify(id).await);
        invalid(client.users().activation_link(id).await.map(|_| ()));
        invalid(client.users().password_reset_link(id).await.map(|_| ()));
        invalid(client.users().invite(id, InvitedUser::new("a@example.com")).await.map(|_| ()));
        invalid(client.users().list_page(&UsersQuery::default().tenant(id)).await.map(|_| ()));
        invalid(client.tenants().get(id).await.map(|_| ()));
        invalid(client.tenants().update(id, &TenantUpdate::default()).await.map(|_| ()));
        invalid(client.tenants().delete(id).await);
        invalid(client.tenants().merge_metadata(id, Default::default()).await.map(|_| ()));
        invalid(client.tenants().delete_metadata("t", id).await.map(|_| ()));
        invalid(client.access_tokens().create(owner(id), NewAccessToken::new("x")).await.map(|_| ()));
        invalid(client.access_tokens().list(TokenOwner::User { tenant_id: "t", user_id: id }).await.map(|_| ()));
        invalid(client.access_tokens().delete(owner("t"), id).await);
        invalid(client.api_tokens().create(owner(id), NewApiToken::new("x")).await.map(|_| ()));
        invalid(client.api_tokens().list(owner(id)).await.map(|_| ()));
        invalid(client.api_tokens().delete(owner("t"), id).await);
        invalid(client.sessions().list(id, None).await.map(|_| ()));
        invalid(client.sessions().revoke("u", Some(id), "s").await);
        invalid(client.sessions().revoke("u", None, id).await);
        invalid(client.sessions().revoke_all(id, None).await);
        invalid(client.invitations().delete(id).await);
        invalid(client.groups().create(id, NewGroup::new("g")).await.map(|_| ()));
        invalid(client.groups().list_page(id, &GroupsQuery::default()).await.map(|_| ()));
        invalid(client.groups().delete("t", id).await);
    }
    for id in ["", "..", "a\nb"] {
        let invalid = |r: Result<(), ApiError>| assert_eq!(r.unwrap_err(), ApiError::InvalidId, "{id:?}");
        // Ids in headers and bodies follow the same rule.
        invalid(client.users().set_roles("u", id, &["r"]).await.map(|_| ()));
        invalid(client.users().add_to_tenant("u", id, true).await.map(|_| ()));
        invalid(client.users().set_active_tenant("u", id).await.map(|_| ()));
        invalid(client.users().create(NewUser::new(id, "a@example.com")).await.map(|_| ()));
        invalid(client.tenants().create(NewTenant::new("T").tenant_id(id)).await.map(|_| ()));
        invalid(client.invitations().create(NewInvitation::new(id)).await.map(|_| ()));
        invalid(client.access_tokens().list(owner(id)).await.map(|_| ()));
        invalid(client.api_tokens().list(TokenOwner::User { tenant_id: "t", user_id: id }).await.map(|_| ()));
        invalid(client.users().list_page(&UsersQuery::default().ids(["a", id])).await.map(|_| ()));
    }
    // A comma would split an id of the list; spaces around a header id would be dropped by HTTP.
    let invalid_id = |r: Result<(), ApiError>| assert_eq!(r.unwrap_err(), ApiError::InvalidId);
    invalid_id(client.users().list_page(&UsersQuery::default().ids(["a,b"])).await.map(|_| ()));
    invalid_id(client.sessions().list(" u", None).await.map(|_| ()));
    invalid_id(client.groups().list_page("acme ", &GroupsQuery::default()).await.map(|_| ()));
    // Requests that cannot be meant.
    let invalid_request = |r: Result<(), ApiError>| assert!(matches!(r, Err(ApiError::InvalidRequest(_))), "{r:?}");
    invalid_request(client.users().update("u", &UserUpdate::new()).await.map(|_| ()));
    invalid_request(client.tenants().update("t", &TenantUpdate::new()).await.map(|_| ()));
    let many: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    invalid_request(client.users().list_page(&UsersQuery::default().ids(many)).await.map(|_| ()));
    let user = TokenOwner::User { tenant_id: "t", user_id: "u" };
    invalid_request(client.access_tokens().create(user, NewAccessToken::new("x").role_ids(["r"])).await.map(|_| ()));
    invalid_request(client.api_tokens().create(user, NewApiToken::new("x").permission_ids(["p"])).await.map(|_| ()));
    // Fine in a path (one encoded segment), never in a header.
    for id in ["é", "a\u{80}"] {
        assert_eq!(client.groups().list_page(id, &GroupsQuery::default()).await.unwrap_err(), ApiError::InvalidId);
        assert_eq!(client.sessions().list(id, None).await.unwrap_err(), ApiError::InvalidId);
    }
    assert_eq!(emulator.calls(Endpoint::Directory), 0);
    assert_eq!(emulator.calls(Endpoint::VendorAuth), 0, "not even the vendor token was fetched");
    // An id with a slash is one segment: it names no tenant, and deletes nothing else.
    client.tenants().create(NewTenant::new("A").tenant_id("a")).await.unwrap();
    assert_eq!(client.tenants().get("a/metadata").await.unwrap(), None);
    assert!(client.tenants().delete("a/..").await.is_err());
    assert!(client.tenants().get("a").await.unwrap().is_some());
}

#[tokio::test]
async fn answers_of_the_wrong_shape_are_errors() {
    let (emulator, _auth, client, _) = setup().await;
    client.tenants().create(NewTenant::new("Acme").tenant_id("acme")).await.unwrap();
    emulator.set_behaviour(Surface::Gateway, Behaviour::Garbage);
    let decode = |e: ApiError| assert!(matches!(e, ApiError::Decode(_)), "{e:?}");
    decode(client.tenants().list().await.unwrap_err());
    decode(client.tenants().get("acme").await.unwrap_err());
    decode(client.users().get("u").await.unwrap_err());
    decode(client.users().list_page(&UsersQuery::default()).await.unwrap_err());
    decode(client.access_tokens().list(TokenOwner::Tenant("acme")).await.unwrap_err());
    decode(client.sessions().list("u", None).await.unwrap_err());
    decode(client.groups().list_page("acme", &GroupsQuery::default()).await.unwrap_err());
    let failed: Result<Vec<User>, _> = client.users().stream(UsersQuery::default()).try_collect().await;
    decode(failed.unwrap_err());

    // JSON, but not of the shape asked for: an empty object, an error body with a 200.
    for body in ["{}", r#"{"errors":["Something went wrong"]}"#, "null", "[1]"] {
        emulator.set_behaviour(Surface::Gateway, Behaviour::Json(body.to_owned()));
        decode(client.tenants().list().await.unwrap_err());
        decode(client.users().list_page(&UsersQuery::default()).await.unwrap_err());
        decode(client.access_tokens().list(TokenOwner::Tenant("acme")).await.unwrap_err());
        decode(client.api_tokens().list(TokenOwner::Tenant("acme")).await.unwrap_err());
        decode(client.sessions().list("u", None).await.unwrap_err());
        decode(client.invitations().list().await.unwrap_err());
        decode(client.groups().list_page("acme", &GroupsQuery::default()).await.unwrap_err());
        decode(client.users().assign_roles("u", "acme", &["r"]).await.unwrap_err());
        decode(client.tenants().create(NewTenant::new("X")).await.unwrap_err());
    }
    // A tenant answered as an object (the other reading of tenants' gets), or as none.
    emulator.set_behaviour(Surface::Gateway, Behaviour::Json(r#"{"tenantId":"acme","name":"Acme"}"#.to_owned()));
    assert_eq!(client.tenants().get("acme").await.unwrap().unwrap().tenant_id, "acme");
    emulator.set_behaviour(Surface::Gateway, Behaviour::Json("[]".to_owned()));
    assert_eq!(client.tenants().get("acme").await.unwrap(), None);
    emulator.set_behaviour(Surface::Gateway, Behaviour::Json(r#"[{"name":"no id"}]"#.to_owned()));
    decode(client.tenants().get("acme").await.unwrap_err());
    // The decode error names where, never what: an answer may hold a secret.
    emulator.set_behaviour(Surface::Gateway, Behaviour::Json(r#"{"secret": 5, "id": "t"}"#.to_owned()));
    let error = client.access_tokens().create(TokenOwner::Tenant("acme"), NewAccessToken::new("x")).await.unwrap_err();
    emulator
        .set_behaviour(Surface::Gateway, Behaviour::Json(r#"{"id":"t","secret":{"leak":"s3cr3t-value"}}"#.to_owned()));
    let leaky = client.access_tokens().create(TokenOwner::Tenant("acme"), NewAccessToken::new("x")).await.unwrap_err();
    for e in [error, leaky] {
        let text = format!("{e:?} {e} {}", std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_default());
        assert!(!text.contains("s3cr3t-value") && !text.contains("leak"), "{text}");
    }
}

#[test]
fn models_read_every_quirk_and_refuse_other_shapes() {
    // Null where the spec says required, metadata as a string, list items without roles.
    let user: User = serde_json::from_value(json!({
        "id": "u1", "email": null, "name": null, "verified": null, "tenantIds": null,
        "metadata": "{\"a\":1}", "vendorMetadata": null, "lastLogin": null, "unknownField": {"x": 1},
        "tenants": [{"tenantId": "t1", "isDisabled": null}]
    }))
    .unwrap();
    assert_eq!((user.metadata["a"].as_i64(), user.verified, user.tenants[0].roles.len()), (Some(1), false, 0));
    // Metadata as an object; a tenant known by `id` only.
    let tenant: Tenant = serde_json::from_value(json!({"id": "t1", "metadata": {"plan": "pro"}})).unwrap();
    assert_eq!((tenant.tenant_id.as_str(), &tenant.metadata["plan"]), ("t1", &json!("pro")));
    for bad in [
        json!({"email": "no id"}),
        json!({"id": 7}),
        json!({"id": "u", "metadata": "not json"}),
        json!({"id": "u", "metadata": 3}),
        json!({"id": "u", "tenants": {"tenantId": "t"}}),
        json!([]),
        json!("u"),
    ] {
        assert!(serde_json::from_value::<User>(bad.clone()).is_err(), "{bad}");
    }
    assert!(serde_json::from_value::<Tenant>(json!({"tenantId": "t", "metadata": [1]})).is_err());
}

#[test]
fn no_secret_reaches_debug() {
    let secrets: Vec<(String, &str)> = vec![
        (format!("{:?}", ClientSecret::new("client-secret-value")), "client-secret-value"),
        (format!("{:?}", AccessTokenSecret::new("access-token-value")), "access-token-value"),
        (format!("{:?}", OneTimeToken::new("one-time-value")), "one-time-value"),
        (format!("{:?}", SecretLink::new("https://x/activate?token=link-value")), "link-value"),
    ];
    for (debug, secret) in secrets {
        assert!(!debug.contains(secret) && debug.contains("<redacted>"), "{debug}");
    }
}
