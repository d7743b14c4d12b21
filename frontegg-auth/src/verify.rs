//! Verification: a credential's signature and claims into an [`Identity`].
//!
//! The algorithm comes from the configuration, never from the token: the token's `alg` is only
//! compared with the allowed list, and each key verifies only its own family (an RSA public key
//! is never used as an HMAC secret). A token that verified is remembered by its exact bytes, so
//! that the next request with it skips the signature check.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use moka::Expiry;
use moka::future::Cache;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::config::Config;
use crate::context::Context;
use crate::credential::{Credential, CredentialKind};
use crate::entitlements::EntitlementsStore;
use crate::error::{AuthError, InvalidClaims, Malformed, WrongTokenType};
use crate::identity::{Identity, ShapeError, TokenType};
use crate::key_cache::{KeyCache, KeyError, LOAD_DEADLINE};
use crate::keys::KeySet;

/// How long a verification is remembered at most; it is also forgotten on any key change.
const REMEMBERED_TTL: Duration = Duration::from_secs(60);

/// Verifies credentials against the key cache (or the HMAC secret).
pub(crate) struct Verifier {
    /// One pre-built [`Validation`] per allowed algorithm.
    validations: Vec<(Algorithm, Validation)>,
    hmac: Option<DecodingKey>,
    max_bytes: usize,
    wildcards: bool,
    leeway: Duration,
    context: Context,
    keys: Arc<KeyCache>,
    /// Tokens that verified, keyed by their exact bytes: a hit means "these bytes verified".
    /// foldhash rather than SipHash: the key is the whole token, hashed on every request.
    remembered: Option<Cache<Box<str>, Remembered, foldhash::fast::RandomState>>,
}

/// A token that verified: the same bytes verify the same way for as long as the key set that
/// verified them is current and the token has not expired.
#[derive(Clone)]
struct Remembered {
    identity: Identity,
    /// The [`KeySet::id`] of the set that verified it (`None`: the HMAC secret, which never changes).
    key_set: Option<u64>,
    /// How long it may be remembered: at most [`REMEMBERED_TTL`], never past `exp` plus the leeway.
    lifetime: Duration,
}

/// A remembered token's weight: one per started KiB of the token.
#[allow(clippy::borrowed_box)] // moka hands the key as it is stored
fn weight(token: &Box<str>, _: &Remembered) -> u32 {
    u32::try_from(token.len() / 1024 + 1).unwrap_or(u32::MAX)
}

/// Each remembered verification expires after its own lifetime, so that a hit needs no clock.
struct UntilExpiry;

impl Expiry<Box<str>, Remembered> for UntilExpiry {
    fn expire_after_create(&self, _token: &Box<str>, remembered: &Remembered, _at: Instant) -> Option<Duration> {
        Some(remembered.lifetime)
    }
}

/// What a token's header says, once it passed the first checks.
struct Checked {
    alg: Algorithm,
    kid: Option<String>,
}

impl Verifier {
    pub(crate) fn new(config: &Config, keys: Arc<KeyCache>, entitlements: Option<Arc<EntitlementsStore>>) -> Verifier {
        let validations = config
            .algorithms
            .iter()
            .map(|alg| {
                let mut v = Validation::new(*alg);
                v.leeway = config.leeway.as_secs();
                v.validate_nbf = true;
                v.validate_exp = true;
                let mut required = vec!["exp", "sub"];
                if let Some(issuer) = &config.issuer {
                    // Trailing slashes are not significant for Frontegg domains: accept both spellings.
                    v.set_issuer(&[issuer.clone(), format!("{issuer}/")]);
                    required.push("iss");
                }
                if config.audiences.is_empty() {
                    v.validate_aud = false;
                } else {
                    v.set_audience(&config.audiences);
                    required.push("aud");
                }
                v.set_required_spec_claims(&required);
                (*alg, v)
            })
            .collect();
        let remembered = config.cache_verified_tokens.then(|| {
            Cache::builder()
                // Weighed by size, so that large tokens cannot multiply the memory held: a token
                // counts once per started KiB.
                .max_capacity(config.cache_capacity)
                .weigher(weight)
                .expire_after(UntilExpiry)
                .build_with_hasher(foldhash::fast::RandomState::default())
        });
        Verifier {
            validations,
            hmac: config.hs256_secret.as_ref().map(|s| DecodingKey::from_secret(s.expose().as_bytes())),
            max_bytes: config.max_token_bytes,
            wildcards: config.wildcard_permissions,
            leeway: config.leeway,
            context: {
                let context = Context::new(config.clock.clone())
                    .with_leeway(config.leeway)
                    .with_sso_as_mfa(config.sso_counts_as_mfa);
                match entitlements {
                    Some(store) => context.with_entitlements(store),
                    None => context,
                }
            },
            keys,
            remembered,
        }
    }

    /// Verifies a credential: its token, then whether its type may come in its header.
    pub(crate) async fn verify(&self, credential: &Credential) -> Result<Identity, AuthError> {
        let token = credential.token().expose();
        let identity = match self.remembered(token).await {
            Some(identity) => identity,
            None => self.verify_token(token).await?,
        };
        check_type(credential.kind(), identity.token_type())?;
        Ok(identity)
    }

    /// A verification of these exact bytes that still stands: made with the current key set, and
    /// not expired (the cache drops it at `exp` plus the leeway).
    async fn remembered(&self, token: &str) -> Option<Identity> {
        let cache = self.remembered.as_ref()?;
        if token.len() > self.max_bytes {
            return None;
        }
        let hit = cache.get(token).await.filter(|hit| hit.key_set.is_none_or(|id| self.keys.is_current(id)));
        crate::telemetry::verified_token_cache(hit.is_some());
        hit.map(|hit| hit.identity)
    }

    /// Remembers a verification for at most [`REMEMBERED_TTL`], never past `exp` plus the leeway.
    async fn remember(&self, token: &str, identity: &Identity, key_set: Option<u64>) {
        let Some(cache) = &self.remembered else { return };
        let Some(left) =
            identity.expires_at().and_then(|exp| (exp + self.leeway).duration_since(SystemTime::now()).ok())
        else {
            return;
        };
        let lifetime = left.min(REMEMBERED_TTL);
        cache.insert(Box::from(token), Remembered { identity: identity.clone(), key_set, lifetime }).await;
    }

    async fn verify_token(&self, token: &str) -> Result<Identity, AuthError> {
        let checked = self.check_header(token)?;
        let (identity, keys) = if checked.alg == Algorithm::HS256 {
            let key = self.hmac.as_ref().ok_or(AuthError::AlgorithmNotAllowed)?;
            (self.verify_with(token, &checked, std::iter::once(key))?, None)
        } else {
            // One deadline for every wait of this request: a load it queued behind, then the
            // refetch its `kid` may cause. The shared fetch itself goes on for the other callers.
            let deadline = tokio::time::Instant::now() + LOAD_DEADLINE;
            let within = |outcome| match outcome {
                Ok(Ok(keys)) => Ok(keys),
                Ok(Err(e)) => Err(AuthError::KeysUnavailable(e)),
                Err(_) => Err(AuthError::KeysUnavailable(KeyError::Deadline(LOAD_DEADLINE))),
            };
            let keys = within(tokio::time::timeout_at(deadline, self.keys.current()).await)?;
            match (self.verify_rsa(token, &checked, &keys), &checked.kid) {
                // A `kid` the set does not hold: the keys may have rotated. The key cache decides
                // whether to refetch; verify again if the set changed.
                (Err(e @ (AuthError::UnknownKey | AuthError::InvalidSignature)), Some(kid)) if !keys.has_kid(kid) => {
                    let fresh =
                        within(tokio::time::timeout_at(deadline, self.keys.refetch_for_unknown_kid(kid)).await)?;
                    if Arc::ptr_eq(&fresh, &keys) {
                        return Err(e);
                    }
                    (self.verify_rsa(token, &checked, &fresh)?, Some(fresh))
                }
                (outcome, _) => (outcome?, Some(keys)),
            }
        };
        self.remember(token, &identity, keys.map(|set| set.id())).await;
        Ok(identity)
    }

    /// Size, shape and header checks, before any key is looked at.
    fn check_header(&self, token: &str) -> Result<Checked, AuthError> {
        if token.len() > self.max_bytes {
            return Err(AuthError::TooLarge);
        }
        if token.bytes().filter(|b| *b == b'.').count() != 2 {
            return Err(AuthError::Malformed(Malformed::NotThreeParts));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| header_error(token))?;
        if header.crit.is_some() {
            return Err(AuthError::Malformed(Malformed::CriticalHeader));
        }
        if !self.validations.iter().any(|(alg, _)| *alg == header.alg) {
            return Err(AuthError::AlgorithmNotAllowed);
        }
        Ok(Checked { alg: header.alg, kid: header.kid.filter(|k| !k.is_empty()) })
    }

    /// Verifies with the candidate keys of `keys`: `Err(UnknownKey)` when none fits the `kid`.
    fn verify_rsa(&self, token: &str, checked: &Checked, keys: &KeySet) -> Result<Identity, AuthError> {
        self.verify_with(token, checked, keys.candidates(checked.kid.as_deref(), checked.alg).map(|k| &k.key))
    }

    fn verify_with<'k>(
        &self,
        token: &str,
        checked: &Checked,
        keys: impl Iterator<Item = &'k DecodingKey>,
    ) -> Result<Identity, AuthError> {
        let validation = self
            .validations
            .iter()
            .find(|(alg, _)| *alg == checked.alg)
            .map(|(_, v)| v)
            .ok_or(AuthError::AlgorithmNotAllowed)?;
        self.identity(decode_claims(token, validation, keys)?)
    }

    /// An OpenID Connect ID token of the hosted login: signed by the same keys, with the same
    /// algorithms and leeway, but for `audience` (the client id), always from `issuer` (the
    /// environment's domain, whether or not the configuration checks the issuer of access
    /// tokens), and without Frontegg's `type`, which ID tokens need not carry. Its claims.
    pub(crate) async fn verify_id_token(
        &self,
        token: &str,
        audience: &[&str],
        issuer: &str,
    ) -> Result<Map<String, Value>, AuthError> {
        let checked = self.check_header(token)?;
        let mut validation = self
            .validations
            .iter()
            .find(|(alg, _)| *alg == checked.alg)
            .map(|(_, v)| v.clone())
            .ok_or(AuthError::AlgorithmNotAllowed)?;
        validation.validate_aud = true;
        validation.set_audience(audience);
        validation.set_issuer(&[issuer.to_owned(), format!("{issuer}/")]);
        validation.set_required_spec_claims(&["exp", "aud", "sub", "iss"]);
        let claims = if checked.alg == Algorithm::HS256 {
            let key = self.hmac.as_ref().ok_or(AuthError::AlgorithmNotAllowed)?;
            decode_claims(token, &validation, std::iter::once(key))?
        } else {
            let keys = match tokio::time::timeout(LOAD_DEADLINE, self.keys.current()).await {
                Ok(Ok(keys)) => keys,
                Ok(Err(e)) => return Err(AuthError::KeysUnavailable(e)),
                Err(_) => return Err(AuthError::KeysUnavailable(KeyError::Deadline(LOAD_DEADLINE))),
            };
            decode_claims(token, &validation, keys.candidates(checked.kid.as_deref(), checked.alg).map(|k| &k.key))?
        };
        registered_claim_types(&claims)?;
        Ok(claims)
    }

    /// Verified claims into an identity, once their registered claims have the right types.
    fn identity(&self, claims: Map<String, Value>) -> Result<Identity, AuthError> {
        registered_claim_types(&claims)?;
        Identity::from_claims(claims, self.wildcards, self.context.clone()).map_err(|e| {
            AuthError::InvalidClaims(match e {
                ShapeError::WrongShape => InvalidClaims::WrongShape,
                ShapeError::EmptySubject => InvalidClaims::EmptySubject,
            })
        })
    }
}

/// The claims of `token` under `validation`, with the first of `keys` whose signature verifies:
/// `Err(UnknownKey)` when there is none. Only a signature mismatch lets the next key try: any
/// other failure is about the token, whichever key verifies it.
fn decode_claims<'k>(
    token: &str,
    validation: &Validation,
    keys: impl Iterator<Item = &'k DecodingKey>,
) -> Result<Map<String, Value>, AuthError> {
    let mut outcome = Err(AuthError::UnknownKey);
    for key in keys {
        match jsonwebtoken::decode::<Map<String, Value>>(token, key, validation) {
            Ok(data) => return Ok(data.claims),
            Err(e) => {
                let mapped = map_error(e.kind());
                if mapped != AuthError::InvalidSignature {
                    return Err(mapped);
                }
                outcome = Err(mapped);
            }
        }
    }
    outcome
}

/// RFC 7519 §4.1: whenever present, and whether or not the configuration checks them, `iss` and
/// `jti` are strings, `aud` a string or an array of strings, `exp`, `nbf` and `iat` numbers.
/// (`sub` must be a non-empty string for the identity itself.)
fn registered_claim_types(claims: &Map<String, Value>) -> Result<(), AuthError> {
    let is = |name: &str, fits: fn(&Value) -> bool| claims.get(name).is_none_or(fits);
    let audience = |aud: &Value| match aud {
        Value::String(_) => true,
        Value::Array(items) => items.iter().all(Value::is_string),
        _ => false,
    };
    let fits = is("iss", Value::is_string)
        && is("jti", Value::is_string)
        && is("aud", audience)
        && is("exp", Value::is_number)
        && is("nbf", Value::is_number)
        && is("iat", Value::is_number);
    if fits { Ok(()) } else { Err(AuthError::InvalidClaims(InvalidClaims::RegisteredClaimType)) }
}

/// User and API tokens come in `Authorization: Bearer`, access tokens in `x-api-key`.
fn check_type(kind: CredentialKind, token_type: &TokenType) -> Result<(), AuthError> {
    match (kind, token_type) {
        (_, TokenType::Unknown(_)) => Err(AuthError::WrongTokenType(WrongTokenType::Unknown)),
        (CredentialKind::Bearer, t) if t.is_access_token() => {
            Err(AuthError::WrongTokenType(WrongTokenType::AccessTokenAsBearer))
        }
        (CredentialKind::ApiKey, t) if !t.is_access_token() => {
            Err(AuthError::WrongTokenType(WrongTokenType::BearerTokenAsApiKey))
        }
        _ => Ok(()),
    }
}

/// Why the header did not decode: an algorithm we do not know (`none` among them) deserves its
/// own answer; everything else is a malformed token.
fn header_error(token: &str) -> AuthError {
    let alg = token
        .split('.')
        .next()
        .and_then(|h| URL_SAFE_NO_PAD.decode(h.trim_end_matches('=')).ok())
        .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok())
        .and_then(|h| h.get("alg").cloned());
    match alg {
        Some(alg @ Value::String(_)) if Algorithm::deserialize(&alg).is_err() => AuthError::AlgorithmNotAllowed,
        _ => AuthError::Malformed(Malformed::BadHeader),
    }
}

fn map_error(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::InvalidSignature => AuthError::InvalidSignature,
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidIssuer => AuthError::InvalidIssuer,
        ErrorKind::InvalidAudience => AuthError::InvalidAudience,
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm | ErrorKind::InvalidAlgorithmName => {
            AuthError::AlgorithmNotAllowed
        }
        ErrorKind::MissingRequiredClaim(_) => AuthError::InvalidClaims(InvalidClaims::MissingRequired),
        ErrorKind::InvalidClaimFormat(_) => AuthError::InvalidClaims(InvalidClaims::TimeClaim),
        ErrorKind::Json(_) => AuthError::InvalidClaims(InvalidClaims::NotAnObject),
        // A key that parsed but cannot verify behaves as a key that does not match.
        ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidKeyFormat | ErrorKind::Provider(_) => {
            AuthError::InvalidSignature
        }
        _ => AuthError::Malformed(Malformed::Undecodable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_claims_of_the_wrong_type_are_refused() {
        let ok = serde_json::json!({"iss": "i", "sub": "s", "aud": ["a"], "exp": 1, "nbf": 1.5, "iat": 0, "jti": "j"});
        assert!(registered_claim_types(ok.as_object().unwrap()).is_ok());
        for bad in [
            serde_json::json!({"iss": ["i"]}),
            serde_json::json!({"iss": null}),
            serde_json::json!({"aud": {"a": 1}}),
            serde_json::json!({"aud": ["a", 1]}),
            serde_json::json!({"exp": "1"}),
            serde_json::json!({"nbf": true}),
            serde_json::json!({"iat": []}),
            serde_json::json!({"jti": 7}),
        ] {
            assert_eq!(
                registered_claim_types(bad.as_object().unwrap()),
                Err(AuthError::InvalidClaims(InvalidClaims::RegisteredClaimType)),
                "{bad}"
            );
        }
    }
}
