//! Signature and claim checks. The algorithm comes from the configuration, never from the token:
//! the token's `alg` is only compared with the allowed list, and each key verifies only its own
//! family (an RSA public key is never used as an HMAC secret).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::claims::Identity;
use crate::config::Config;
use crate::error::AuthError;
use crate::jwks::KeySet;

/// Pre-built checks, one [`Validation`] per allowed algorithm.
pub(crate) struct Verifier {
    validations: Vec<(Algorithm, Validation)>,
    hmac: Option<DecodingKey>,
    max_bytes: usize,
    wildcards: bool,
}

/// What a token's header says, once it passed the first checks.
pub(crate) struct Checked {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
}

impl Verifier {
    pub(crate) fn new(config: &Config) -> Verifier {
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
        Verifier {
            validations,
            hmac: config.hs256_secret.as_ref().map(|s| DecodingKey::from_secret(s.expose().as_bytes())),
            max_bytes: config.max_token_bytes,
            wildcards: config.wildcard_permissions,
        }
    }

    /// Size, shape and header checks, before any key is looked at.
    pub(crate) fn check_header(&self, token: &str) -> Result<Checked, AuthError> {
        if token.len() > self.max_bytes {
            return Err(AuthError::TooLarge);
        }
        if token.bytes().filter(|b| *b == b'.').count() != 2 {
            return Err(AuthError::Malformed("a JWT has three dot-separated parts"));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| header_error(token))?;
        if header.crit.is_some() {
            return Err(AuthError::Malformed("critical header extensions are not supported"));
        }
        if !self.validations.iter().any(|(alg, _)| *alg == header.alg) {
            return Err(AuthError::AlgorithmNotAllowed);
        }
        Ok(Checked { alg: header.alg, kid: header.kid.filter(|k| !k.is_empty()) })
    }

    /// Whether the token is verified with the configured HMAC secret rather than a key set.
    pub(crate) fn is_hmac(&self, checked: &Checked) -> bool {
        checked.alg == Algorithm::HS256
    }

    /// Verifies with the HMAC secret.
    pub(crate) fn verify_hmac(&self, token: &str, checked: &Checked) -> Result<Identity, AuthError> {
        let key = self.hmac.as_ref().ok_or(AuthError::AlgorithmNotAllowed)?;
        self.verify_with(token, checked, std::iter::once(key))
    }

    /// Verifies with the candidate keys of `keys`: `Err(UnknownKey)` when none fits the `kid`.
    pub(crate) fn verify_rsa(&self, token: &str, checked: &Checked, keys: &KeySet) -> Result<Identity, AuthError> {
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
        let mut outcome = Err(AuthError::UnknownKey);
        for key in keys {
            match jsonwebtoken::decode::<Map<String, Value>>(token, key, validation) {
                Ok(data) => return Identity::from_claims(data.claims, self.wildcards),
                Err(e) => {
                    let mapped = map_error(e.kind());
                    // Only a signature mismatch lets the next key try: any other failure is about
                    // the token, whichever key verifies it.
                    if mapped != AuthError::InvalidSignature {
                        return Err(mapped);
                    }
                    outcome = Err(mapped);
                }
            }
        }
        outcome
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
        _ => AuthError::Malformed("the token header cannot be decoded"),
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
        ErrorKind::MissingRequiredClaim(_) => AuthError::InvalidClaims("a required claim is missing or malformed"),
        ErrorKind::InvalidClaimFormat(_) => AuthError::InvalidClaims("a time claim is malformed"),
        ErrorKind::Json(_) => AuthError::InvalidClaims("the claims are not a JSON object"),
        // A key that parsed but cannot verify behaves as a key that does not match.
        ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidKeyFormat | ErrorKind::Provider(_) => {
            AuthError::InvalidSignature
        }
        _ => AuthError::Malformed("the token cannot be decoded"),
    }
}
