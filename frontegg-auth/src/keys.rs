//! Signing keys as published: JWKS and PEM documents parsed into a [`KeySet`], with every rule a
//! key must pass. Pure: no I/O, no configuration. The configuration checks static keys with it,
//! and the key cache parses what it fetches with it, so both refuse exactly the same keys.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

/// The shortest RSA modulus accepted.
pub(crate) const MIN_RSA_BITS: usize = 2048;

/// One usable verification key.
pub(crate) struct VerificationKey {
    pub(crate) kid: Option<String>,
    /// The JWK's `alg`, when it names one: the key then verifies that algorithm only.
    pub(crate) alg: Option<Algorithm>,
    pub(crate) key: DecodingKey,
}

/// The usable keys of one document.
pub(crate) struct KeySet {
    /// Unique in the process: tells apart two sets, so that a verification remembers which set
    /// verified it without holding the set.
    id: u64,
    keys: Vec<VerificationKey>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<Option<&str>> = self.keys.iter().map(|k| k.kid.as_deref()).collect();
        f.debug_struct("KeySet").field("kids", &kids).finish()
    }
}

/// Why a key document cannot serve at all.
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySetError {
    /// Not JSON of the JWKS shape (`{"keys": [...]}`).
    #[error("the key document is not a JWKS (JSON with a \"keys\" array)")]
    NotJwks,
    /// A JWKS whose every key was skipped (not RSA, not for signatures, broken or weak).
    #[error("the JWKS holds no usable RSA signing key of at least 2048 bits")]
    NoUsableKey,
    /// Not an RSA public key in PEM (SPKI or PKCS#1).
    #[error("the PEM is not an RSA public key")]
    NotRsaPem,
    /// An RSA key shorter than 2048 bits.
    #[error("the RSA key has {bits} bits; at least 2048 are required")]
    WeakKey {
        /// The modulus length.
        bits: usize,
    },
    /// A key of a static JWKS that the key cache would skip: a static set must serve whole.
    #[error("the key at index {index} of the JWKS cannot serve: {reason}")]
    UnusableKey {
        /// Its index in `keys`.
        index: usize,
        /// Why.
        reason: SkippedKey,
    },
}

/// Why a JWK is skipped (a fetched set keeps its other keys; a static set is refused).
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkippedKey {
    /// Not a JSON object of the JWK shape.
    #[error("not a JWK object")]
    NotAnObject,
    /// `kty` is not `RSA`.
    #[error("kty is not RSA")]
    NotRsa,
    /// `use` is not `sig`.
    #[error("use is not sig")]
    NotForSignatures,
    /// `alg` names no RSA signature algorithm.
    #[error("alg is not an RSA signature algorithm")]
    NotRsaAlgorithm,
    /// `n` or `e` is missing or not base64url.
    #[error("the modulus or the exponent is missing or not base64url")]
    BadParameters,
    /// The modulus is shorter than 2048 bits.
    #[error("the modulus is shorter than 2048 bits")]
    WeakModulus,
    /// The exponent is zero or longer than 64 bits.
    #[error("the exponent is out of range")]
    BadExponent,
    /// Another key before it has the same `kid`.
    #[error("a key before it has the same kid")]
    DuplicateKid,
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

impl KeySet {
    /// Parses a fetched JWKS document, skipping (and logging at debug) every key that cannot
    /// serve: not for signatures, not RSA, an algorithm outside RSA, broken or weak parameters, a
    /// duplicate `kid` (the first is kept). A document left with no key is refused.
    pub(crate) fn from_jwks(body: &[u8]) -> Result<KeySet, KeySetError> {
        Self::parse_jwks(body, false)
    }

    /// Parses a configured JWKS document: every key must serve, since nothing will replace it.
    pub(crate) fn from_static_jwks(body: &[u8]) -> Result<KeySet, KeySetError> {
        Self::parse_jwks(body, true)
    }

    fn parse_jwks(body: &[u8], strict: bool) -> Result<KeySet, KeySetError> {
        let raw: RawJwks = serde_json::from_slice(body).map_err(|_| KeySetError::NotJwks)?;
        let mut seen = HashSet::new();
        let mut keys = Vec::with_capacity(raw.keys.len());
        for (index, value) in raw.keys.into_iter().enumerate() {
            let usable = Self::usable(value).and_then(|key| match &key.kid {
                Some(kid) if !seen.insert(kid.clone()) => Err(SkippedKey::DuplicateKid),
                _ => Ok(key),
            });
            match usable {
                Ok(key) => keys.push(key),
                Err(reason) if strict => return Err(KeySetError::UnusableKey { index, reason }),
                Err(reason) => tracing::debug!(index, %reason, "skipping a JWK"),
            }
        }
        if keys.is_empty() {
            return Err(KeySetError::NoUsableKey);
        }
        Ok(KeySet::new(keys))
    }

    fn usable(value: serde_json::Value) -> Result<VerificationKey, SkippedKey> {
        let jwk: RawJwk = serde_json::from_value(value).map_err(|_| SkippedKey::NotAnObject)?;
        if jwk.kty.as_deref() != Some("RSA") {
            return Err(SkippedKey::NotRsa);
        }
        if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
            return Err(SkippedKey::NotForSignatures);
        }
        let alg = match jwk.alg.as_deref() {
            None => None,
            Some("RS256") => Some(Algorithm::RS256),
            Some("RS384") => Some(Algorithm::RS384),
            Some("RS512") => Some(Algorithm::RS512),
            Some("PS256") => Some(Algorithm::PS256),
            Some("PS384") => Some(Algorithm::PS384),
            Some("PS512") => Some(Algorithm::PS512),
            Some(_) => return Err(SkippedKey::NotRsaAlgorithm),
        };
        let decode =
            |part: Option<&str>| part.and_then(|p| URL_SAFE_NO_PAD.decode(p).ok()).ok_or(SkippedKey::BadParameters);
        let (n, e) = (decode(jwk.n.as_deref())?, decode(jwk.e.as_deref())?);
        if modulus_bits(&n) < MIN_RSA_BITS {
            return Err(SkippedKey::WeakModulus);
        }
        if e.is_empty() || e.len() > 8 || e.iter().all(|b| *b == 0) {
            return Err(SkippedKey::BadExponent);
        }
        Ok(VerificationKey { kid: jwk.kid, alg, key: DecodingKey::from_rsa_raw_components(&n, &e) })
    }

    /// One key from an SPKI (or PKCS#1) PEM, without `kid`.
    pub(crate) fn from_pem(pem: &str) -> Result<KeySet, KeySetError> {
        let key = DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| KeySetError::NotRsaPem)?;
        let der = key.try_get_as_bytes().map_err(|_| KeySetError::NotRsaPem)?;
        let public = aws_lc_rs::rsa::PublicKey::from_der(der).map_err(|_| KeySetError::NotRsaPem)?;
        let bits = modulus_bits(public.modulus().big_endian_without_leading_zero());
        if bits < MIN_RSA_BITS {
            return Err(KeySetError::WeakKey { bits });
        }
        Ok(KeySet::new(vec![VerificationKey { kid: None, alg: None, key }]))
    }

    fn new(keys: Vec<VerificationKey>) -> KeySet {
        KeySet { id: NEXT_ID.fetch_add(1, Ordering::Relaxed), keys }
    }

    /// The set's identity in this process.
    pub(crate) fn id(&self) -> u64 {
        self.id
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
        assert_eq!(KeySet::from_jwks(b"{}").err(), Some(KeySetError::NotJwks));
        assert_eq!(KeySet::from_jwks(b"[1,2]").err(), Some(KeySetError::NotJwks));
        assert_eq!(KeySet::from_jwks(br#"{"keys":[]}"#).err(), Some(KeySetError::NoUsableKey));
        assert_eq!(KeySet::from_pem("nope").err(), Some(KeySetError::NotRsaPem));
        // A configured set must serve whole: the first key it would skip is named.
        assert_eq!(
            KeySet::from_static_jwks(doc.to_string().as_bytes()).err(),
            Some(KeySetError::UnusableKey { index: 0, reason: SkippedKey::NotRsa })
        );
    }
}
