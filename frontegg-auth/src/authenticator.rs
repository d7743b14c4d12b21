//! The [`Authenticator`]: the one object an application builds and every adapter shares. A thin
//! facade over the key cache, the verifier and the rights resolver.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;

use crate::api::FronteggClient;
use crate::api::gateway::Gateway;
use crate::config::{Config, ConfigError};
use crate::credential::Credential;
use crate::entitlements::{EntitlementsStore, StoreSettings};
use crate::error::AuthError;
use crate::hosted_login::HostedLogin;
use crate::identity::Identity;
use crate::key_cache::{KeyCache, KeyCacheSettings, KeyError};
use crate::rights::{Rights, RightsSettings};
use crate::verify::Verifier;

/// Tries `attempt` until it succeeds or `deadline` passes, pausing 250 ms after a failure; the
/// error is the last failure, `None` when the deadline cut an attempt short.
async fn retry_until<T, E, Fut>(
    deadline: tokio::time::Instant,
    mut attempt: impl FnMut() -> Fut,
) -> Result<(), Option<E>>
where
    Fut: std::future::Future<Output = Result<T, E>>,
{
    loop {
        match tokio::time::timeout_at(deadline, attempt()).await {
            Ok(Ok(_)) => return Ok(()),
            Err(_) => return Err(None),
            Ok(Err(e)) => {
                let pause = tokio::time::Instant::now() + Duration::from_millis(250);
                if pause >= deadline {
                    return Err(Some(e));
                }
                tokio::time::sleep_until(pause).await;
            }
        }
    }
}

/// Verifies credentials and resolves identities. Cheap to clone: clones share the key cache, the
/// vendor token and the lookup caches.
///
/// Build one per application, at start-up, inside the Tokio runtime:
///
/// ```no_run
/// use std::time::Duration;
/// use frontegg_auth::{Authenticator, Config};
///
/// # async fn start() -> Result<(), Box<dyn std::error::Error>> {
/// let auth = Authenticator::new(Config::from_env()?)?;
/// // Optional: wait (bounded) for the signing keys, so the first requests are not the ones paying.
/// if auth.ready(Duration::from_secs(10)).await.is_err() {
///     eprintln!("Frontegg is not reachable yet; requests answer 503 until it is");
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    keys: Arc<KeyCache>,
    verifier: Arc<Verifier>,
    rights: Rights,
    login: Option<HostedLogin>,
    gateway: Gateway,
    entitlements: Option<Arc<EntitlementsStore>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Builds the authenticator. Nothing is fetched yet: keys load on the first request or on
    /// [`ready`](Self::ready). With a shared cache, its connection starts opening in the
    /// background when this runs inside a Tokio runtime (else on `ready` or the first lookup).
    pub fn new(config: Config) -> Result<Authenticator, ConfigError> {
        // jsonwebtoken needs one crypto provider; another crate in the graph may enable a second
        // backend, which would leave the choice ambiguous (and panic): choose explicitly.
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
        let gateway = Gateway::from_config(&config)?;
        let keys = KeyCache::new(
            KeyCacheSettings {
                source: config.key_source.clone(),
                static_keys: config.static_keys.clone(),
                unknown_kid_cooldown: config.unknown_kid_cooldown,
                refresh_bounds: config.refresh_bounds,
                default_refresh: config.default_refresh,
                max_bytes: config.max_jwks_bytes,
            },
            gateway.clone(),
        );
        let entitlements = config.entitlements.map(|settings| {
            EntitlementsStore::new(
                StoreSettings {
                    poll: settings.poll,
                    first_load_timeout: settings.first_load_timeout,
                    max_bytes: settings.max_bytes,
                    download_timeout: settings.download_timeout,
                },
                gateway.clone(),
            )
        });
        #[cfg(feature = "redis")]
        let shared = match (&config.redis, &config.client_id) {
            (Some(redis), Some(client_id)) => Some(
                crate::shared_cache::SharedCache::new(redis, client_id, config.access_token_ttl)
                    .map_err(ConfigError::Redis)?,
            ),
            _ => None,
        };
        let rights = Rights::new(
            RightsSettings {
                ttl: config.access_token_ttl,
                capacity: config.cache_capacity,
                resolve_user_roles: config.resolve_user_roles,
                #[cfg(feature = "redis")]
                shared,
            },
            gateway.clone(),
        );
        #[cfg(feature = "redis")]
        if let Some(shared) = rights.shared() {
            shared.warm_up();
        }
        let verifier = Arc::new(Verifier::new(&config, keys.clone(), entitlements.clone()));
        let login = match (&config.hosted_login, config.base_url(), &config.client_id, &config.api_key) {
            (Some(settings), Some(base), Some(client_id), Some(api_key)) => Some(
                HostedLogin::new(
                    settings.clone(),
                    base,
                    client_id,
                    api_key.clone(),
                    gateway.transport().http().clone(),
                    config.http_timeout,
                    verifier.clone(),
                )
                .map_err(|e| ConfigError::Login(crate::login::LoginSettingsError::Store(e)))?,
            ),
            _ => None,
        };
        Ok(Authenticator { inner: Arc::new(Inner { verifier, login, keys, rights, gateway, entitlements, config }) })
    }

    /// The hosted login, when it is configured
    /// ([`ConfigBuilder::hosted_login`](crate::ConfigBuilder::hosted_login)).
    pub fn hosted_login(&self) -> Option<&HostedLogin> {
        self.inner.login.as_ref()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// A management client sharing this authenticator's HTTP client and vendor token, when
    /// credentials are configured.
    pub fn client(&self) -> Option<FronteggClient> {
        self.inner.gateway.has_credentials().then(|| FronteggClient::from_gateway(self.inner.gateway.clone()))
    }

    /// Whether the signing keys are loaded, and the entitlements snapshot when entitlements are
    /// on (for readiness probes).
    pub fn is_ready(&self) -> bool {
        let keys = self.inner.config.hs256_only() || self.inner.keys.loaded().is_some();
        keys && self.inner.entitlements.as_ref().is_none_or(|store| store.snapshot().is_some())
    }

    /// The entitlements store, when entitlements are on.
    pub fn entitlements(&self) -> Option<&Arc<EntitlementsStore>> {
        self.inner.entitlements.as_ref()
    }

    /// Loads the signing keys, and the entitlements snapshot when entitlements are on, if needed,
    /// both at once, waiting at most `timeout`.
    ///
    /// `Err(AuthError::KeysUnavailable)` when the keys could not be loaded in time,
    /// `Err(AuthError::EntitlementsUnavailable)` when the snapshot could not; the authenticator
    /// keeps trying in the background and on later requests.
    pub async fn ready(&self, timeout: Duration) -> Result<(), AuthError> {
        #[cfg(feature = "redis")]
        if let Some(shared) = self.inner.rights.shared() {
            shared.warm_up();
        }
        if self.is_ready() {
            return Ok(());
        }
        let now = tokio::time::Instant::now();
        let deadline = now.checked_add(timeout).unwrap_or(now + Duration::from_secs(86_400 * 365));
        let keys = async {
            if self.inner.config.hs256_only() {
                return Ok(());
            }
            retry_until(deadline, || self.inner.keys.current())
                .await
                .map_err(|last| AuthError::KeysUnavailable(last.unwrap_or(KeyError::Deadline(timeout))))
        };
        let snapshot = async {
            let Some(store) = &self.inner.entitlements else { return Ok(()) };
            retry_until(deadline, || store.ready()).await.map_err(|_| AuthError::EntitlementsUnavailable)
        };
        let (keys, snapshot) = tokio::join!(keys, snapshot);
        keys.and(snapshot)
    }

    /// Whether the shared cache is in use: configured, not shut down, and Redis answering (its
    /// breaker closed). For readiness reports: a service answers without it.
    #[cfg(feature = "redis")]
    pub fn shared_cache_in_use(&self) -> bool {
        self.inner.rights.shared().is_some_and(crate::shared_cache::SharedCache::in_use)
    }

    /// Stops gracefully: the shared cache's pending writes end (each within its timeout) and its
    /// connections close; afterwards lookups go on without Redis. Without a shared cache there
    /// is nothing to wait for. Dropping the last clone closes the connections too, without
    /// waiting for the writes.
    pub async fn shutdown(&self) {
        if let Some(login) = &self.inner.login {
            login.shutdown();
        }
        #[cfg(feature = "redis")]
        if let Some(shared) = self.inner.rights.shared() {
            shared.shutdown().await;
        }
    }

    /// Reads the credential from request headers and authenticates it; `Ok(None)` when there
    /// is none.
    pub async fn authenticate_headers(&self, headers: &HeaderMap) -> Result<Option<Identity>, AuthError> {
        let credential = Credential::from_headers(headers).inspect_err(AuthError::count)?;
        match credential {
            Some(credential) => self.authenticate(&credential).await.map(Some),
            None => Ok(None),
        }
    }

    /// Verifies a credential and resolves its identity.
    #[tracing::instrument(name = "frontegg.authenticate", skip_all, fields(kind = ?credential.kind(), token_type, sub))]
    pub async fn authenticate(&self, credential: &Credential) -> Result<Identity, AuthError> {
        let outcome = match self.inner.verifier.verify(credential).await {
            Ok(identity) => self.inner.rights.resolve(identity).await,
            Err(e) => Err(e),
        };
        let span = tracing::Span::current();
        match &outcome {
            Ok(_) => crate::telemetry::verification(crate::telemetry::Verification::Ok),
            Err(e) => e.count(),
        }
        match &outcome {
            Ok(identity) => {
                span.record("token_type", identity.token_type().as_str());
                span.record("sub", identity.sub());
            }
            Err(e) => tracing::debug!(error = %e, "credential refused"),
        }
        outcome
    }
}
