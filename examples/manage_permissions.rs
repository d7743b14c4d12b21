//! Manage the permission model from Rust: `cargo run --example manage_permissions`.
//!
//! Creates a category, two permissions in it and a role, gives the role the permissions, and
//! lists everything back. Against the embedded emulator by default; against your environment
//! when `FRONTEGG_CLIENT_ID` and `FRONTEGG_API_KEY` (and `FRONTEGG_API_GATEWAY_URL`, for a region
//! other than EU) are set. On a real environment it creates real objects: the keys are prefixed
//! with `example.` so that you can find and delete them.

use frontegg_auth::api::{FronteggClient, NewCategory, NewPermission, NewRole};
use frontegg_auth::testing::Emulator;
use frontegg_auth::{Config, ConfigBuilder};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Keep the emulator alive for the whole run when we use it.
    let (builder, _emulator): (ConfigBuilder, Option<Emulator>) =
        if std::env::var("FRONTEGG_API_KEY").is_ok_and(|v| !v.is_empty()) {
            (ConfigBuilder::from_env()?, None)
        } else {
            let emulator = Emulator::start().await;
            println!("No FRONTEGG_API_KEY: using the embedded Frontegg emulator at {}", emulator.url());
            (emulator.config(), Some(emulator))
        };
    // The management API needs credentials only; no signing keys are involved.
    let config: Config = builder.build()?;
    let client = FronteggClient::new(&config)?;

    let category =
        client.categories().create(NewCategory::new("Example reports").description("Made by frontegg-rs")).await?;
    println!("created category {} ({})", category.name, category.id);

    let permissions = client
        .permissions()
        .create(vec![
            NewPermission::new("example.reports.read", "Read reports").category(&category.id),
            NewPermission::new("example.reports.write", "Write reports").category(&category.id),
        ])
        .await?;
    for p in &permissions {
        println!("created permission {} ({})", p.key, p.id);
    }

    let roles = client.roles().create(vec![NewRole::new("example-editor", "Example editor", 1)]).await?;
    let role = roles.first().ok_or("Frontegg created no role")?;
    println!("created role {} ({})", role.key, role.id);

    let ids: Vec<&str> = permissions.iter().map(|p| p.id.as_str()).collect();
    let role = client.roles().set_permissions(&role.id, &ids).await?;
    println!("role {} now holds {} permissions", role.key, role.permissions.len());

    println!("\ncategories:");
    for c in client.categories().list().await? {
        println!("  {} ({})", c.name, c.id);
    }
    println!("permissions:");
    for p in client.permissions().list().await? {
        println!("  {} in {:?}, roles {:?}", p.key, p.category_id, p.role_ids);
    }
    println!("roles:");
    for r in client.roles().list(None).await? {
        println!("  {} with permissions {:?}", r.key, r.permissions);
    }
    Ok(())
}
