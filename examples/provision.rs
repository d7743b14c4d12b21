//! Provision a customer from Rust: `cargo run --example provision`.
//!
//! Creates a tenant, a user with a role in it, and a tenant access token; calls the axum
//! example's `/reports` with the token (run in this process); lists and revokes the user's
//! sessions; deletes the token and waits until `/reports` refuses it; then removes what it
//! made. The last line says whether it succeeded.
//!
//! Against the embedded emulator by default. With `FRONTEGG_BASE_URL`, `FRONTEGG_CLIENT_ID` and
//! `FRONTEGG_API_KEY` (and `FRONTEGG_API_GATEWAY_URL` outside the EU) it works on your
//! environment: it creates a tenant `example-provision-…`, a user `example+provision-…@…`
//! (`PROVISION_EMAIL_DOMAIN`, default `example.com`), a permission `reports.read` and a role
//! `example.reports-reader` if they are missing, and deletes the tenant, user and token at the
//! end (the permission and role stay).

use std::time::{Duration, Instant};

use frontegg_auth::api::{FronteggClient, NewAccessToken, NewPermission, NewRole, NewTenant, NewUser, TokenOwner};
use frontegg_auth::testing::Emulator;
use frontegg_auth::{Authenticator, Config, ConfigBuilder};

#[allow(dead_code)] // the app's own `main` and helpers are not all used here
#[path = "axum_app.rs"]
mod axum_app;

/// How long the app may keep a deleted token's rights: its lookup TTL.
const LOOKUP_TTL: Duration = Duration::from_secs(2);

#[tokio::main]
async fn main() {
    match provision().await {
        Ok(()) => println!("provision: succeeded"),
        Err(e) => {
            println!("provision: FAILED: {e}");
            std::process::exit(1);
        }
    }
}

async fn provision() -> Result<(), Box<dyn std::error::Error>> {
    let configured = std::env::var("FRONTEGG_API_KEY").is_ok_and(|v| !v.trim().is_empty());
    // Keep the emulator alive for the whole run when we use it.
    let (builder, emulator): (ConfigBuilder, Option<Emulator>) = if configured {
        (ConfigBuilder::from_env()?, None)
    } else {
        let emulator = Emulator::start().await;
        println!("No FRONTEGG_API_KEY: using the embedded Frontegg emulator at {}", emulator.url());
        (emulator.config(), Some(emulator))
    };
    let config = builder.access_token_ttl(LOOKUP_TTL).build()?;
    let client = FronteggClient::new(&config)?;
    // What was made is removed whatever happens, so a failed run leaves nothing behind.
    let mut made = Made::default();
    let outcome = run(&client, &config, emulator.as_ref(), &mut made).await;
    let cleaned = made.remove(&client).await;
    outcome.and(cleaned)
}

/// What the run made, to remove at the end.
#[derive(Default)]
struct Made {
    tenant_id: Option<String>,
    user_id: Option<String>,
    token_id: Option<String>,
}

impl Made {
    async fn remove(self, client: &FronteggClient) -> Result<(), Box<dyn std::error::Error>> {
        if let (Some(tenant_id), Some(token_id)) = (&self.tenant_id, &self.token_id) {
            client.access_tokens().delete(TokenOwner::Tenant(tenant_id), token_id).await?;
        }
        if let Some(user_id) = &self.user_id {
            client.users().delete(user_id).await?;
        }
        if let Some(tenant_id) = &self.tenant_id {
            client.tenants().delete(tenant_id).await?;
            println!("deleted the user and the tenant");
        }
        Ok(())
    }
}

async fn run(
    client: &FronteggClient,
    config: &Config,
    emulator: Option<&Emulator>,
    made: &mut Made,
) -> Result<(), Box<dyn std::error::Error>> {
    let run = format!("{:08x}", std::process::id() ^ (std::time::UNIX_EPOCH.elapsed()?.subsec_nanos()));

    // The role the user and the token get: `reports.read`, what the app's `/reports` requires.
    let permissions = client.permissions().list().await?;
    let permission = match permissions.into_iter().find(|p| p.key == "reports.read") {
        Some(p) => p,
        None => first(client.permissions().create(vec![NewPermission::new("reports.read", "Read reports")]).await?)?,
    };
    let roles = client.roles().list(None).await?;
    let role = match roles.into_iter().find(|r| r.key == "example.reports-reader") {
        Some(r) => r,
        None => first(client.roles().create(vec![NewRole::new("example.reports-reader", "Reports reader", 1)]).await?)?,
    };
    client.roles().set_permissions(&role.id, &[&permission.id]).await?;
    println!("role {} holds reports.read", role.key);

    let tenant_id = format!("example-provision-{run}");
    let tenant = client.tenants().create(NewTenant::new("Example Provisioned Co").tenant_id(&tenant_id)).await?;
    made.tenant_id = Some(tenant.tenant_id.clone());
    println!("created tenant {}", tenant.tenant_id);

    let domain = std::env::var("PROVISION_EMAIL_DOMAIN").unwrap_or_else(|_| "example.com".to_owned());
    let user = client
        .users()
        .create(NewUser::new(&tenant_id, format!("example+provision-{run}@{domain}")).name("Ada").role_ids([&role.id]))
        .await?;
    made.user_id = Some(user.id.clone());
    println!("created user {} ({}) with role {}", user.email.as_deref().unwrap_or("?"), user.id, role.key);

    let owner = TokenOwner::Tenant(&tenant_id);
    let token =
        client.access_tokens().create(owner, NewAccessToken::new("provision example").role_ids([&role.id])).await?;
    made.token_id = Some(token.id().to_owned());
    println!("created tenant access token {}", token.id());

    // The axum example app, in this process, on a free port.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = AbortOnDrop(tokio::spawn(axum_app::serve(Authenticator::new(config.clone())?, listener)));
    let http = reqwest::Client::new();
    let reports = || http.get(format!("{base}/reports")).header("x-api-key", token.secret.expose()).send();
    let status = reports().await?.status();
    println!("GET {base}/reports with the token: {status}");
    if status != reqwest::StatusCode::OK {
        return Err(format!("the app answered {status}, not 200").into());
    }

    // Sessions: offline, the emulator opens two as two sign-ins would.
    if let Some(emulator) = emulator {
        emulator.add_user_session(&user.id, &tenant_id);
        emulator.add_user_session(&user.id, &tenant_id);
    }
    let sessions = client.sessions().list(&user.id, Some(&tenant_id)).await?;
    println!("the user has {} session(s)", sessions.len());
    client.sessions().revoke_all(&user.id, Some(&tenant_id)).await?;
    let left = client.sessions().list(&user.id, Some(&tenant_id)).await?.len();
    println!("revoked them all: {left} left");
    if left != 0 {
        return Err("sessions are left after revoking them all".into());
    }

    client.access_tokens().delete(owner, token.id()).await?;
    made.token_id = None;
    let deleted = Instant::now();
    loop {
        let status = reports().await?.status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            println!("deleted the token: /reports answers 401 after {} ms", deleted.elapsed().as_millis());
            break;
        }
        if deleted.elapsed() > LOOKUP_TTL + Duration::from_secs(2) {
            return Err(format!("/reports still answers {status} after the lookup TTL").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(app);
    Ok(())
}

/// The one item a create of one answers.
fn first<T>(created: Vec<T>) -> Result<T, Box<dyn std::error::Error>> {
    created.into_iter().next().ok_or_else(|| "Frontegg's answer to a create holds nothing".into())
}

/// Stops the app however the run ends.
struct AbortOnDrop(tokio::task::JoinHandle<Result<(), std::io::Error>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
