//! Memory held per remembered verification: `cargo bench -p frontegg-auth --features testing --bench memory`.
//!
//! A counting allocator measures the bytes still allocated after `N` distinct tokens verified,
//! with the verification cache on and off, in the same run. The difference, divided by `N`, is
//! what one remembered token holds: its bytes (the cache's key), the identity, and the cache's
//! own bookkeeping. Not a timed measurement.

use std::time::Duration;

use frontegg_auth::testing::Emulator;
use frontegg_auth::{Authenticator, Credential, CredentialKind};

#[path = "common/counting.rs"]
mod counting;

const TOKENS: usize = 2_000;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    rt.block_on(async {
        let emulator = Emulator::start().await;
        let tokens: Vec<Credential> = (0..TOKENS)
            .map(|i| {
                let token = emulator.user_token().subject(&format!("user-{i}")).permissions(["reports.read"]).sign();
                Credential::new(CredentialKind::Bearer, token)
            })
            .collect();
        let length: usize = tokens.iter().map(|c| c.token().expose().len()).sum::<usize>() / TOKENS;
        let mut held = Vec::new();
        for remember in [false, true] {
            let auth = Authenticator::new(emulator.config().cache_verified_tokens(remember).build().unwrap()).unwrap();
            auth.ready(Duration::from_secs(10)).await.unwrap();
            auth.authenticate(&tokens[0]).await.unwrap();
            let before = counting::live();
            for credential in &tokens {
                auth.authenticate(credential).await.unwrap();
            }
            // Let the cache's pending bookkeeping settle.
            tokio::time::sleep(Duration::from_millis(200)).await;
            auth.authenticate(&tokens[0]).await.unwrap();
            held.push(counting::live() - before);
            drop(auth);
        }
        let per_token = (held[1] - held[0]) as f64 / TOKENS as f64;
        println!("tokens: {TOKENS}, mean token length: {length} bytes");
        println!("held without the cache: {} bytes; with it: {} bytes", held[0], held[1]);
        println!(
            "memory per remembered token: {per_token:.0} bytes ({:.1}x the token's length)",
            per_token / length as f64
        );
    });
}
