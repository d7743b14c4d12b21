//! What the hosted login (issue 12) keeps secret, as pure functions: session ids and the key
//! they are stored under, the session keys and the AES-256-GCM sealing of what a session holds,
//! and the PKCE verifier, `state` and `nonce` of a login. Every random value comes from the
//! operating system's CSPRNG through aws-lc-rs, never from `fastrand`.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// 32 random bytes from the operating system.
fn random_32() -> Result<[u8; 32], SealingError> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).map_err(|_| SealingError::Random)?;
    Ok(bytes)
}

/// 32 random bytes, base64url without padding: 43 characters (`state`, `nonce`, a PKCE verifier).
pub(crate) fn random_token() -> Result<String, SealingError> {
    Ok(URL_SAFE_NO_PAD.encode(random_32()?))
}

/// Why sealing failed or a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SealingError {
    #[error("the operating system's random generator failed")]
    Random,
    #[error("a session key must be 32 bytes, as 64 hex characters or base64")]
    BadKey,
    #[error("no session key is given")]
    NoKey,
    #[error("sealing failed")]
    Seal,
}

/// A session id: 256 random bits. The cookie holds its base64url form; the store holds it under
/// [`storage_key`](Self::storage_key), a hash, so that a leak of the store leaks no usable id.
/// The key is computed once: a request asks for it at every step of its session's lookup.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SessionId {
    bytes: [u8; 32],
    key: String,
}

impl SessionId {
    pub(crate) fn new() -> Result<SessionId, SealingError> {
        Ok(SessionId::of(random_32()?))
    }

    fn of(bytes: [u8; 32]) -> SessionId {
        SessionId { key: hex(digest(&SHA256, &bytes).as_ref()), bytes }
    }

    /// The id a cookie value names, if it is one: exactly 43 base64url characters.
    pub(crate) fn parse(cookie: &str) -> Option<SessionId> {
        if cookie.len() != 43 {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(cookie).ok()?;
        Some(SessionId::of(bytes.try_into().ok()?))
    }

    /// The cookie's value.
    pub(crate) fn cookie_value(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.bytes)
    }

    /// The key the session is stored under: hex SHA-256 of the id.
    pub(crate) fn storage_key(&self) -> &str {
        &self.key
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(<redacted>)")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A PKCE pair (RFC 7636, S256): the verifier stays with the server, the challenge goes to the
/// authorize request.
pub(crate) struct Pkce {
    pub(crate) verifier: String,
    pub(crate) challenge: String,
}

impl Pkce {
    pub(crate) fn new() -> Result<Pkce, SealingError> {
        Ok(Pkce::of(random_token()?))
    }

    fn of(verifier: String) -> Pkce {
        let challenge = URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()).as_ref());
        Pkce { verifier, challenge }
    }
}

impl fmt::Debug for Pkce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkce").field("verifier", &"<redacted>").field("challenge", &self.challenge).finish()
    }
}

/// The session keys (`FRONTEGG_SESSION_KEY`): the first seals, every one opens, so that keys
/// rotate by putting the new one first and dropping the old one once its sessions have ended.
pub(crate) struct SessionKeys {
    keys: Vec<(u32, LessSafeKey)>,
}

impl fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionKeys({} key(s), <redacted>)", self.keys.len())
    }
}

impl SessionKeys {
    /// Keys separated by commas or whitespace, each 32 bytes as 64 hex characters or base64
    /// (standard or URL-safe, padded or not).
    pub(crate) fn parse(list: &str) -> Result<SessionKeys, SealingError> {
        let keys = list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|k| !k.is_empty())
            .map(decode_key)
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(SealingError::NoKey);
        }
        keys.iter().map(key).collect::<Result<_, _>>().map(|keys| SessionKeys { keys })
    }

    /// One random key: sessions sealed with it end with the process.
    pub(crate) fn random() -> Result<SessionKeys, SealingError> {
        Ok(SessionKeys { keys: vec![key(&random_32()?)?] })
    }

    /// `{key id: 4}{nonce: 12}{ciphertext and tag}`; `aad` binds the value to its place (the
    /// session's storage key), so that a sealed value moved elsewhere does not open.
    pub(crate) fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, SealingError> {
        let (id, key) = self.keys.first().ok_or(SealingError::NoKey)?;
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).map_err(|_| SealingError::Random)?;
        let mut sealed = plaintext.to_vec();
        key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut sealed)
            .map_err(|_| SealingError::Seal)?;
        let mut out = Vec::with_capacity(4 + NONCE_LEN + sealed.len());
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The plaintext of a sealed value, or `None` when no key opens it (tampered, another key,
    /// another place, truncated).
    pub(crate) fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        let (id, rest) = sealed.split_first_chunk::<4>()?;
        let (nonce, ciphertext) = rest.split_first_chunk::<NONCE_LEN>()?;
        let id = u32::from_be_bytes(*id);
        let (_, key) = self.keys.iter().find(|(k, _)| *k == id)?;
        let mut buffer = ciphertext.to_vec();
        let plaintext = key.open_in_place(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), &mut buffer).ok()?;
        Some(plaintext.to_vec())
    }
}

fn decode_key(text: &str) -> Result<[u8; 32], SealingError> {
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| text.get(2 * i..2 * i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
            .collect::<Option<Vec<u8>>>()
    } else {
        [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD].iter().find_map(|engine| engine.decode(text).ok())
    };
    bytes.and_then(|b| b.try_into().ok()).ok_or(SealingError::BadKey)
}

/// A key and its id: the first four bytes of the key's SHA-256, so that a sealed value names
/// the key that opens it without revealing it.
fn key(bytes: &[u8; 32]) -> Result<(u32, LessSafeKey), SealingError> {
    let hash = digest(&SHA256, bytes);
    let id = hash.as_ref().first_chunk::<4>().map(|b| u32::from_be_bytes(*b)).ok_or(SealingError::BadKey)?;
    let unbound = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| SealingError::BadKey)?;
    Ok((id, LessSafeKey::new(unbound)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn session_ids_are_random_strict_and_stored_under_a_hash() {
        let id = SessionId::new().unwrap();
        let cookie = id.cookie_value();
        assert_eq!(cookie.len(), 43);
        assert_eq!(SessionId::parse(&cookie), Some(id.clone()));
        assert_ne!(SessionId::new().unwrap(), id);
        assert_eq!(id.storage_key().len(), 64);
        assert!(!id.storage_key().contains(&cookie));
        for bad in ["", "short", &format!("{cookie}A"), &cookie.replace(|c: char| c.is_alphanumeric(), "!")] {
            assert_eq!(SessionId::parse(bad), None, "{bad}");
        }
        assert_eq!(format!("{id:?}"), "SessionId(<redacted>)");
    }

    #[test]
    fn pkce_is_s256_of_the_verifier() {
        let pkce = Pkce::new().unwrap();
        assert_eq!(pkce.verifier.len(), 43);
        // RFC 7636 appendix B.
        let rfc = Pkce::of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_owned());
        assert_eq!(rfc.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert!(!format!("{pkce:?}").contains(&pkce.verifier));
        assert_ne!(random_token().unwrap(), random_token().unwrap());
    }

    #[test]
    fn keys_parse_as_hex_or_base64_and_rotate() {
        let base64 = STANDARD.encode((0u8..32).collect::<Vec<_>>());
        let old = SessionKeys::parse(HEX).unwrap();
        let same = SessionKeys::parse(&base64).unwrap();
        let sealed = old.seal(b"tokens", b"place").unwrap();
        assert_eq!(same.open(&sealed, b"place").as_deref(), Some(&b"tokens"[..]));
        // A new key first: it seals, the old one still opens.
        let rotated = SessionKeys::parse(&format!("{}, {HEX}", STANDARD.encode([7u8; 32]))).unwrap();
        assert_eq!(rotated.open(&sealed, b"place").as_deref(), Some(&b"tokens"[..]));
        assert!(old.open(&rotated.seal(b"new", b"place").unwrap(), b"place").is_none());
        for bad in ["", "abc", &HEX[..62], &STANDARD.encode([1u8; 31])] {
            assert!(SessionKeys::parse(bad).is_err(), "{bad}");
        }
        assert!(!format!("{old:?}").contains("0001"));
    }

    #[test]
    fn a_sealed_value_opens_only_untouched_and_in_its_place() {
        let keys = SessionKeys::random().unwrap();
        let sealed = keys.seal(b"refresh token", b"session:abc").unwrap();
        assert_ne!(keys.seal(b"refresh token", b"session:abc").unwrap(), sealed, "a fresh nonce each time");
        assert!(keys.open(&sealed, b"session:other").is_none());
        for i in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 1;
            assert!(keys.open(&tampered, b"session:abc").is_none(), "byte {i}");
        }
        for len in 0..sealed.len() {
            assert!(keys.open(&sealed[..len], b"session:abc").is_none());
        }
        assert!(SessionKeys::random().unwrap().open(&sealed, b"session:abc").is_none());
    }
}
