//! Signing keys: parsing JWKS and PEM answers, and the cache that keeps them fresh.
//!
//! The cache serves every verification from memory. It goes to Frontegg when it is cold, when a
//! token names a `kid` it does not know (at most once per cooldown, whatever the number of such
//! tokens), and on a background schedule that honours `Cache-Control: max-age` within bounds.
//! A failed refresh keeps the last good key set, so an outage after warm-up loses no request.

use std::collections::HashSet;
use std::sync::{Arc, Weak};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use crate::api::Gateway;
use crate::config::{Config, KeySource};
use crate::refresh::{NoValue, RefreshCell};

/// One usable verification key.
pub(crate) struct VerificationKey {
    pub(crate) kid: Option<String>,
    /// The JWK's `alg`, when it names one: the key then verifies that algorithm only.
    pub(crate) alg: Option<Algorithm>,
    pub(crate) key: DecodingKey,
}

/// The usable keys of one answer.
#[derive(Default)]
pub(crate) struct KeySet {
    keys: Vec<VerificationKey>,
}

/// Why a key answer could not be used at all.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub(crate) enum KeyError {
    #[error("the key document is not valid JSON of the expected shape")]
    Shape,
    #[error("the key document holds no usable RSA signing key")]
    NoUsableKey,
    #[error("the key endpoint answered HTTP {0}")]
    Status(u16),
    #[error("the key endpoint could not be reached: {0}")]
    Transport(String),
    #[error("the key answer exceeds {0} bytes")]
    TooLarge(usize),
    #[error("the vendor configuration uses {0}, which needs an explicitly configured secret")]
    NotRsa(String),
    #[error("{0}")]
    Api(String),
    #[error("no key was loaded yet")]
    NotLoaded,
}

impl From<NoValue> for KeyError {
    fn from(_: NoValue) -> Self {
        KeyError::NotLoaded
    }
}

/// A JWK as published, every field optional so that one odd key cannot spoil the set.
#[derive(Deserialize)]
struct RawJwk {
    kty: Option<String>,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<serde_json::Value>,
}

const MIN_RSA_BITS: usize = 2048;

impl KeySet {
    /// Parses a JWKS document, skipping (and logging at debug) every key that cannot serve:
    /// not for signatures, not RSA, an algorithm outside RSA, broken or weak parameters, a
    /// duplicate `kid`.
    pub(crate) fn from_jwks(body: &[u8]) -> Result<KeySet, KeyError> {
        let raw: RawJwks = serde_json::from_slice(body).map_err(|_| KeyError::Shape)?;
        let mut seen = HashSet::new();
        let mut keys = Vec::with_capacity(raw.keys.len());
        for (index, value) in raw.keys.into_iter().enumerate() {
            match Self::usable(value) {
                Ok(key) => {
                    if let Some(kid) = &key.kid
                        && !seen.insert(kid.clone())
                    {
                        tracing::debug!(index, kid, "skipping a JWK: duplicate kid");
                        continue;
                    }
                    keys.push(key);
                }
                Err(reason) => tracing::debug!(index, reason, "skipping a JWK"),
            }
        }
        Ok(KeySet { keys })
    }

    fn usable(value: serde_json::Value) -> Result<VerificationKey, &'static str> {
        let jwk: RawJwk = serde_json::from_value(value).map_err(|_| "not a JWK object")?;
        if jwk.kty.as_deref() != Some("RSA") {
            return Err("kty is not RSA");
        }
        if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
            return Err("use is not sig");
        }
        let alg = match jwk.alg.as_deref() {
            None => None,
            Some("RS256") => Some(Algorithm::RS256),
            Some("RS384") => Some(Algorithm::RS384),
            Some("RS512") => Some(Algorithm::RS512),
            Some("PS256") => Some(Algorithm::PS256),
            Some("PS384") => Some(Algorithm::PS384),
            Some("PS512") => Some(Algorithm::PS512),
            Some(_) => return Err("alg is not an RSA signature algorithm"),
        };
        let n =
            URL_SAFE_NO_PAD.decode(jwk.n.as_deref().ok_or("no modulus")?).map_err(|_| "modulus is not base64url")?;
        let e =
            URL_SAFE_NO_PAD.decode(jwk.e.as_deref().ok_or("no exponent")?).map_err(|_| "exponent is not base64url")?;
        let n_bits = modulus_bits(&n);
        if n_bits < MIN_RSA_BITS {
            return Err("modulus shorter than 2048 bits");
        }
        if e.is_empty() || e.len() > 8 || e.iter().all(|b| *b == 0) {
            return Err("exponent out of range");
        }
        Ok(VerificationKey { kid: jwk.kid, alg, key: DecodingKey::from_rsa_raw_components(&n, &e) })
    }

    /// One key from an SPKI (or PKCS#1) PEM, without `kid`.
    pub(crate) fn from_pem(pem: &str) -> Result<KeySet, KeyError> {
        let key = DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| KeyError::NoUsableKey)?;
        let der = key.try_get_as_bytes().map_err(|_| KeyError::NoUsableKey)?;
        let public = aws_lc_rs::rsa::PublicKey::from_der(der).map_err(|_| KeyError::NoUsableKey)?;
        if modulus_bits(public.modulus().big_endian_without_leading_zero()) < MIN_RSA_BITS {
            return Err(KeyError::NoUsableKey);
        }
        Ok(KeySet { keys: vec![VerificationKey { kid: None, alg: None, key }] })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The keys that may verify a token with this `kid` and `alg`: the one with that `kid`; else
    /// the keys published without `kid` (a PEM has none); for a token without `kid`, every key
    /// whose algorithm fits.
    pub(crate) fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
        alg: Algorithm,
    ) -> impl Iterator<Item = &'a VerificationKey> + 'a {
        let exact = kid.is_some_and(|kid| self.has_kid(kid));
        self.keys.iter().filter(move |k| {
            let kid_fits = match (kid, k.kid.as_deref()) {
                (None, _) => true,
                (Some(wanted), Some(own)) => wanted == own,
                (Some(_), None) => !exact,
            };
            kid_fits && k.alg.is_none_or(|a| a == alg)
        })
    }

    pub(crate) fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }
}

/// The exact bit length of a big-endian modulus.
fn modulus_bits(n: &[u8]) -> usize {
    match n.iter().position(|b| *b != 0) {
        Some(first) => (n.len() - first - 1) * 8 + (8 - n.get(first).map_or(8, |b| b.leading_zeros() as usize)),
        None => 0,
    }
}

/// A fetched key set and how long it may be kept.
struct Fetched {
    set: KeySet,
    max_age: Option<Duration>,
}

/// After a failed fetch, unknown `kid`s wait this long before the next attempt (answering 503
/// meanwhile): an outage costs at most one upstream call per second, however many tokens arrive.
const FAILURE_BACKOFF: Duration = Duration::from_secs(1);

/// The shared, refreshing key cache.
pub(crate) struct KeyCache {
    cell: RefreshCell<Arc<KeySet>, KeyError>,
    source: KeySource,
    gateway: Gateway,
    cooldown: Duration,
    refresh_bounds: (Duration, Duration),
    default_refresh: Duration,
    max_bytes: usize,
    next_refresh: std::sync::Mutex<Duration>,
    refresher_running: std::sync::atomic::AtomicBool,
}

impl KeyCache {
    pub(crate) fn new(config: &Config, gateway: Gateway) -> Arc<KeyCache> {
        let initial = match &config.key_source {
            KeySource::StaticPem(pem) => KeySet::from_pem(pem).ok().map(Arc::new),
            KeySource::StaticJwks(json) => KeySet::from_jwks(json.as_bytes()).ok().map(Arc::new),
            _ => None,
        };
        Arc::new(KeyCache {
            cell: RefreshCell::new(initial),
            source: config.key_source.clone(),
            gateway,
            cooldown: config.unknown_kid_cooldown,
            refresh_bounds: config.refresh_bounds,
            default_refresh: config.default_refresh,
            max_bytes: config.max_jwks_bytes,
            next_refresh: std::sync::Mutex::new(config.default_refresh),
            refresher_running: std::sync::atomic::AtomicBool::new(false),
        })
    }

    fn is_static(&self) -> bool {
        matches!(self.source, KeySource::StaticPem(_) | KeySource::StaticJwks(_))
    }

    /// Whether a key set is loaded.
    pub(crate) fn is_loaded(&self) -> bool {
        self.loaded().is_some()
    }

    /// The key set, if one is loaded.
    pub(crate) fn loaded(&self) -> Option<Arc<KeySet>> {
        self.cell.get().0
    }

    /// The key set, loading it if the cache is cold.
    pub(crate) async fn current(self: &Arc<Self>) -> Result<Arc<KeySet>, KeyError> {
        let (value, seen) = self.cell.get();
        if let Some(set) = value {
            // Cheap when it runs (one atomic load); restarts it when its runtime went away.
            self.start_refresher();
            return Ok(set);
        }
        // Callers that queued behind a load share its outcome: one upstream call at a time, and
        // after a failure none for a second (those requests get that failure: a 503).
        self.load(seen, |history| history.last_failure.is_none_or(|at| at.elapsed() >= FAILURE_BACKOFF)).await
    }

    /// Called when a token names a `kid` the set does not hold: refetches, unless a fetch
    /// succeeded within the cooldown (the answer is then the current set, and the token an
    /// unknown key) or the latest fetch failed less than a second ago (the answer is then that
    /// failure: Frontegg is unreachable, which is no verdict about the token).
    pub(crate) async fn refetch_for_unknown_kid(self: &Arc<Self>, kid: &str) -> Result<Arc<KeySet>, KeyError> {
        let (value, seen) = self.cell.get();
        if self.is_static() {
            return value.ok_or(KeyError::NotLoaded);
        }
        if let Some(set) = &value
            && set.has_kid(kid)
        {
            return Ok(set.clone());
        }
        let cooldown = self.cooldown;
        tracing::debug!("unknown kid: refetching the signing keys");
        self.load(seen, move |history| {
            // A success clears `last_failure`: its presence means the latest attempt failed.
            let cooling =
                history.last_failure.is_none() && history.last_success.is_some_and(|at| at.elapsed() < cooldown);
            let failed_just_now = history.last_failure.is_some_and(|at| at.elapsed() < FAILURE_BACKOFF);
            !cooling && !failed_just_now
        })
        .await
    }

    async fn load(
        self: &Arc<Self>,
        seen: crate::refresh::Seen,
        allow: impl FnOnce(&crate::refresh::History) -> bool,
    ) -> Result<Arc<KeySet>, KeyError> {
        let this = self.clone();
        let outcome = self
            .cell
            .refresh(seen, allow, move || async move {
                // Logged here, once per attempt, not once per caller that shares it.
                let fetched = this
                    .fetch()
                    .await
                    .inspect_err(|e| tracing::warn!(error = %e, "signing keys could not be loaded"))?;
                this.schedule(fetched.max_age);
                tracing::info!(keys = fetched.set.len(), "signing keys loaded");
                Ok(Arc::new(fetched.set))
            })
            .await;
        self.start_refresher();
        outcome
    }

    fn schedule(&self, max_age: Option<Duration>) {
        let next = max_age.map_or(self.default_refresh, |age| age.clamp(self.refresh_bounds.0, self.refresh_bounds.1));
        if let Ok(mut slot) = self.next_refresh.lock() {
            *slot = next;
        }
    }

    /// Starts the background refresh unless it runs, on the current runtime. It holds a weak
    /// reference (dropping the last authenticator ends it), and it is started again if its
    /// runtime shuts down (a runtime used only for start-up, a restarted worker).
    fn start_refresher(self: &Arc<Self>) {
        use std::sync::atomic::Ordering;
        if self.is_static() || self.refresher_running.load(Ordering::Acquire) {
            return;
        }
        if tokio::runtime::Handle::try_current().is_err() || self.refresher_running.swap(true, Ordering::AcqRel) {
            return;
        }
        /// Clears the flag however the task ends: returned, or dropped with its runtime.
        struct Running(Weak<KeyCache>);
        impl Drop for Running {
            fn drop(&mut self) {
                if let Some(cache) = self.0.upgrade() {
                    cache.refresher_running.store(false, std::sync::atomic::Ordering::Release);
                }
            }
        }
        // Made outside the task: a task dropped before its first poll still drops what it captured.
        let running = Running(Arc::downgrade(self));
        tokio::spawn(async move {
            let running = running;
            loop {
                let wait = match running.0.upgrade() {
                    Some(cache) => cache.next_wait(),
                    None => return,
                };
                tokio::time::sleep(wait).await;
                let Some(cache) = running.0.upgrade() else { return };
                let (_, seen) = cache.cell.get();
                // A failure was logged by the attempt; the last good keys stay in use.
                let _ = cache.load(seen, |_| true).await;
            }
        });
    }

    fn next_wait(&self) -> Duration {
        match self.cell.history().last_failure {
            // After a failure, retry sooner than the regular schedule.
            Some(_) => self.refresh_bounds.0.min(Duration::from_secs(30)),
            _ => self.next_refresh.lock().map(|d| *d).unwrap_or(self.default_refresh),
        }
    }

    #[tracing::instrument(name = "frontegg.keys.fetch", skip_all, fields(source = ?self.source))]
    async fn fetch(&self) -> Result<Fetched, KeyError> {
        match &self.source {
            KeySource::Jwks(url) => {
                let response = self
                    .gateway
                    .http()
                    .get(url)
                    .header(http::header::ACCEPT, "application/json")
                    .send()
                    .await
                    .map_err(|e| KeyError::Transport(crate::api::describe_transport(&e)))?;
                if !response.status().is_success() {
                    return Err(KeyError::Status(response.status().as_u16()));
                }
                let max_age =
                    response.headers().get(http::header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).and_then(max_age);
                let body = crate::api::read_capped(response, self.max_bytes).await.map_err(|e| match e {
                    crate::api::CappedError::TooLarge => KeyError::TooLarge(self.max_bytes),
                    crate::api::CappedError::Transport(t) => KeyError::Transport(t),
                })?;
                let set = KeySet::from_jwks(&body)?;
                if set.is_empty() {
                    return Err(KeyError::NoUsableKey);
                }
                Ok(Fetched { set, max_age })
            }
            KeySource::VendorConfiguration => {
                // The answer also holds `jwtSecret`: it is parsed into this struct only, never logged.
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct VendorConfiguration {
                    public_key: Option<String>,
                    jwt_algorithm: Option<String>,
                }
                let conf: VendorConfiguration = self
                    .gateway
                    .get_json("/identity/resources/configurations/v1", self.max_bytes)
                    .await
                    .map_err(|e| KeyError::Api(e.to_string()))?;
                if let Some(alg) = conf.jwt_algorithm.as_deref()
                    && !alg.starts_with("RS")
                    && !alg.starts_with("PS")
                {
                    return Err(KeyError::NotRsa(alg.to_owned()));
                }
                let pem = conf.public_key.ok_or(KeyError::NoUsableKey)?;
                Ok(Fetched { set: KeySet::from_pem(&pem)?, max_age: None })
            }
            KeySource::StaticPem(_) | KeySource::StaticJwks(_) => Err(KeyError::NotLoaded),
        }
    }
}

/// `max-age` of a `Cache-Control` value; `no-cache`/`no-store` count as zero (then clamped to the
/// minimum interval).
fn max_age(value: &str) -> Option<Duration> {
    for directive in value.split(',') {
        let directive = directive.trim();
        if directive.eq_ignore_ascii_case("no-cache") || directive.eq_ignore_ascii_case("no-store") {
            return Some(Duration::ZERO);
        }
        if let Some((name, seconds)) = directive.split_once('=')
            && name.trim().eq_ignore_ascii_case("max-age")
        {
            return seconds.trim().trim_matches('"').parse::<u64>().ok().map(Duration::from_secs);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modulus_bits_are_exact() {
        assert_eq!(modulus_bits(&[0x00, 0x01]), 1);
        assert_eq!(modulus_bits(&[0x80, 0x00]), 16);
        assert_eq!(modulus_bits(&[0x01; 256]), 2041);
        assert_eq!(modulus_bits(&[]), 0);
    }

    #[test]
    fn cache_control() {
        assert_eq!(max_age("public, max-age=600"), Some(Duration::from_secs(600)));
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("max-age=abc"), None);
        assert_eq!(max_age("public"), None);
    }

    #[test]
    fn odd_keys_are_skipped() {
        let good_n = URL_SAFE_NO_PAD.encode([0xC5u8; 256]);
        let doc = serde_json::json!({"keys": [
            {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "kid": "ec"},
            {"kty": "oct", "k": "c2VjcmV0", "kid": "oct"},
            {"kty": "RSA", "use": "enc", "n": good_n, "e": "AQAB", "kid": "enc"},
            {"kty": "RSA", "n": "!!!", "e": "AQAB", "kid": "broken"},
            {"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xC5u8; 64]), "e": "AQAB", "kid": "weak"},
            {"kty": "RSA", "alg": "HS256", "n": good_n, "e": "AQAB", "kid": "confused"},
            "not an object",
            {"kty": "RSA", "alg": "RS256", "use": "sig", "n": good_n, "e": "AQAB", "kid": "good"},
            {"kty": "RSA", "n": good_n, "e": "AQAB", "kid": "good"},
        ]});
        let set = KeySet::from_jwks(doc.to_string().as_bytes()).unwrap();
        assert_eq!(set.len(), 1);
        assert!(set.has_kid("good"));
        assert_eq!(set.candidates(Some("good"), Algorithm::RS256).count(), 1);
        assert_eq!(set.candidates(Some("good"), Algorithm::RS512).count(), 0);
        assert_eq!(set.candidates(None, Algorithm::RS256).count(), 1);
        assert!(KeySet::from_jwks(b"{}").is_err());
        assert!(KeySet::from_jwks(b"[1,2]").is_err());
    }
}
