//! The [`Authenticator`]: the one object an application builds, and every adapter shares.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use moka::future::Cache;

use crate::api::lookups::{self, AccessKind, Verdict};
use crate::api::{FronteggClient, Gateway};
use crate::claims::{Identity, TokenType};
use crate::config::{Config, ConfigError};
use crate::credential::{Credential, CredentialKind};
use crate::error::AuthError;
use crate::jwks::{KeyCache, KeyError, KeySet};
use crate::verify::Verifier;

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
    verifier: Verifier,
    keys: Arc<KeyCache>,
    gateway: Gateway,
    access_tokens: Cache<(AccessKind, String), Arc<Verdict>>,
    users: Cache<(String, Option<String>), Arc<Verdict>>,
    verified: Option<Cache<[u8; 32], Verified>>,
}

/// A token that verified, keyed by its SHA-256: the same bytes verify the same way for as long
/// as the key set that verified them is current and the token has not expired.
#[derive(Clone)]
struct Verified {
    identity: Identity,
    /// The key set that verified it (`None`: the HMAC secret, which never changes).
    keys: Option<Arc<KeySet>>,
}

/// How long a verification is remembered at most; it is also forgotten on any key refresh.
const VERIFIED_TTL: Duration = Duration::from_secs(60);

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Builds the authenticator. Nothing is fetched yet: keys load on the first request or on
    /// [`ready`](Self::ready).
    pub fn new(config: Config) -> Result<Authenticator, ConfigError> {
        // jsonwebtoken needs one crypto provider; another crate in the graph may enable a second
        // backend, which would leave the choice ambiguous (and panic): choose explicitly.
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
        let gateway = Gateway::new(&config)?;
        let keys = KeyCache::new(&config, gateway.clone());
        fn lookup_cache<K, V>(config: &Config) -> Cache<K, V>
        where
            K: std::hash::Hash + Eq + Send + Sync + 'static,
            V: Clone + Send + Sync + 'static,
        {
            Cache::builder().max_capacity(config.cache_capacity).time_to_live(config.access_token_ttl).build()
        }
        Ok(Authenticator {
            inner: Arc::new(Inner {
                verifier: Verifier::new(&config),
                keys,
                gateway,
                access_tokens: lookup_cache(&config),
                users: lookup_cache(&config),
                verified: config
                    .cache_verified_tokens
                    .then(|| Cache::builder().max_capacity(config.cache_capacity).time_to_live(VERIFIED_TTL).build()),
                config,
            }),
        })
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

    /// Whether the signing keys are loaded (for readiness probes).
    pub fn is_ready(&self) -> bool {
        self.inner.config.hs256_only() || self.inner.keys.is_loaded()
    }

    /// Loads the signing keys if needed, waiting at most `timeout`.
    ///
    /// `Err(AuthError::KeysUnavailable)` when they could not be loaded in time; the authenticator
    /// keeps trying in the background and on later requests.
    pub async fn ready(&self, timeout: Duration) -> Result<(), AuthError> {
        if self.is_ready() {
            return Ok(());
        }
        let now = tokio::time::Instant::now();
        let deadline = now.checked_add(timeout).unwrap_or(now + Duration::from_secs(86_400 * 365));
        loop {
            let attempt = tokio::time::timeout_at(deadline, self.inner.keys.current()).await;
            match attempt {
                Ok(Ok(_)) => return Ok(()),
                Err(_) => return Err(AuthError::KeysUnavailable),
                Ok(Err(_)) => {
                    let pause = tokio::time::Instant::now() + Duration::from_millis(250);
                    if pause >= deadline {
                        return Err(AuthError::KeysUnavailable);
                    }
                    tokio::time::sleep_until(pause).await;
                }
            }
        }
    }

    /// Reads the credential from request headers and authenticates it; `Ok(None)` when there
    /// is none.
    pub async fn authenticate_headers(&self, headers: &HeaderMap) -> Result<Option<Identity>, AuthError> {
        match Credential::from_headers(headers)? {
            Some(credential) => self.authenticate(&credential).await.map(Some),
            None => Ok(None),
        }
    }

    /// Verifies a credential and resolves its identity.
    #[tracing::instrument(name = "frontegg.authenticate", skip_all, fields(kind = ?credential.kind(), token_type, sub))]
    pub async fn authenticate(&self, credential: &Credential) -> Result<Identity, AuthError> {
        let outcome = self.verify(credential).await;
        let span = tracing::Span::current();
        match &outcome {
            Ok(identity) => {
                span.record("token_type", identity.token_type().as_str());
                span.record("sub", identity.sub());
            }
            Err(e) => tracing::debug!(error = %e, "credential refused"),
        }
        outcome
    }

    async fn verify(&self, credential: &Credential) -> Result<Identity, AuthError> {
        let token = credential.token().expose();
        let identity = match self.remembered(token).await {
            Some(identity) => identity,
            None => self.verify_signature(token).await?,
        };
        self.check_type(credential.kind(), identity.token_type())?;
        self.resolve(identity).await
    }

    /// A verification of these exact bytes that still stands: same key set, not expired.
    async fn remembered(&self, token: &str) -> Option<Identity> {
        let cache = self.inner.verified.as_ref()?;
        if token.len() > self.inner.config.max_token_bytes {
            return None;
        }
        let hit = cache.get(&digest(token)).await?;
        let keys_current = match &hit.keys {
            Some(keys) => self.inner.keys.loaded().is_some_and(|current| Arc::ptr_eq(keys, &current)),
            None => true,
        };
        let leeway = self.inner.config.leeway;
        let unexpired = hit.identity.expires_at().is_some_and(|exp| exp + leeway > std::time::SystemTime::now());
        (keys_current && unexpired).then_some(hit.identity)
    }

    async fn verify_signature(&self, token: &str) -> Result<Identity, AuthError> {
        let inner = &self.inner;
        let checked = inner.verifier.check_header(token)?;
        let (identity, keys) = if inner.verifier.is_hmac(&checked) {
            (inner.verifier.verify_hmac(token, &checked)?, None)
        } else {
            let keys = inner.keys.current().await.map_err(keys_unavailable)?;
            match (inner.verifier.verify_rsa(token, &checked, &keys), &checked.kid) {
                // A `kid` the set does not hold: the keys may have rotated. Refetch (at most once
                // per cooldown), and verify again if the set changed.
                (Err(e @ (AuthError::UnknownKey | AuthError::InvalidSignature)), Some(kid)) if !keys.has_kid(kid) => {
                    let fresh = inner.keys.refetch_for_unknown_kid(kid).await.map_err(keys_unavailable)?;
                    if Arc::ptr_eq(&fresh, &keys) {
                        return Err(e);
                    }
                    (inner.verifier.verify_rsa(token, &checked, &fresh)?, Some(fresh))
                }
                (outcome, _) => (outcome?, Some(keys)),
            }
        };
        if let Some(cache) = &inner.verified {
            cache.insert(digest(token), Verified { identity: identity.clone(), keys }).await;
        }
        Ok(identity)
    }

    /// User and API tokens come in `Authorization: Bearer`, access tokens in `x-api-key`.
    fn check_type(&self, kind: CredentialKind, token_type: &TokenType) -> Result<(), AuthError> {
        match (kind, token_type) {
            (_, TokenType::Unknown(_)) => Err(AuthError::WrongTokenType("The token type is not a Frontegg token type")),
            (CredentialKind::Bearer, t) if t.is_access_token() => {
                Err(AuthError::WrongTokenType("Access tokens must be sent in the x-api-key header"))
            }
            (CredentialKind::ApiKey, t) if !t.is_access_token() => {
                Err(AuthError::WrongTokenType("User and API tokens must be sent in the Authorization header as Bearer"))
            }
            _ => Ok(()),
        }
    }

    /// Replaces placeholder rights with the ones Frontegg holds, where the token type needs it.
    async fn resolve(&self, identity: Identity) -> Result<Identity, AuthError> {
        let inner = &self.inner;
        let kind = match identity.token_type() {
            TokenType::TenantAccess => AccessKind::Tenant,
            TokenType::UserAccess => AccessKind::User,
            TokenType::User
                if inner.config.resolve_user_roles
                    && identity.roles().is_empty()
                    && identity.permissions().is_empty() =>
            {
                return self.resolve_user(identity).await;
            }
            _ => return Ok(identity),
        };
        if !inner.gateway.has_credentials() {
            return Err(AuthError::WrongTokenType("This service does not accept access tokens"));
        }
        let key = (kind, identity.sub().to_owned());
        let gateway = inner.gateway.clone();
        let sub = identity.sub().to_owned();
        // moka runs one lookup per key and caches only `Ok`: network failures are never a verdict.
        let verdict = inner
            .access_tokens
            .try_get_with(key, async move { lookups::access_token(&gateway, kind, &sub).await.map(Arc::new) })
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "access token lookup failed");
                AuthError::ApiUnavailable
            })?;
        match verdict.as_ref() {
            Verdict::Refused => Err(AuthError::Revoked),
            Verdict::Rights { tenant_id, roles, permissions } => {
                // A lookup that names another tenant than the token is not this token's.
                if tenant_id.is_some() && identity.tenant_id().is_some() && tenant_id.as_deref() != identity.tenant_id()
                {
                    return Err(AuthError::Revoked);
                }
                Ok(identity.with_rights(roles.clone(), permissions.clone()))
            }
        }
    }

    async fn resolve_user(&self, identity: Identity) -> Result<Identity, AuthError> {
        let Some(user_id) = identity.user_id().map(str::to_owned) else {
            return Ok(identity);
        };
        let tenant = identity.tenant_id().map(str::to_owned);
        let gateway = self.inner.gateway.clone();
        let verdict = self
            .inner
            .users
            .try_get_with((user_id.clone(), tenant.clone()), async move {
                lookups::user(&gateway, &user_id, tenant.as_deref()).await.map(Arc::new)
            })
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "user lookup failed");
                AuthError::ApiUnavailable
            })?;
        match verdict.as_ref() {
            Verdict::Refused => Err(AuthError::Revoked),
            Verdict::Rights { roles, permissions, .. } => Ok(identity.with_rights(roles.clone(), permissions.clone())),
        }
    }
}

fn digest(token: &str) -> [u8; 32] {
    let mut out = [0; 32];
    out.copy_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()).as_ref());
    out
}

fn keys_unavailable(e: KeyError) -> AuthError {
    tracing::debug!(error = %e, "no signing keys");
    AuthError::KeysUnavailable
}
