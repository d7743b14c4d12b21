//! Real RSA keys for the emulator, generated once per process and shared (key generation is
//! the slow part of a test run).

use std::sync::{Arc, Mutex, OnceLock};

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::Algorithm;

/// The pool index of a key that is never published (for forged signatures).
pub(crate) const FOREIGN_KEY: usize = 0;

/// Where token builders get the emulator's current signing key.
pub(crate) trait Signer: Send + Sync {
    /// The current signing key and its `kid`.
    fn signer(&self) -> (String, Arc<RsaKey>);
}

/// An RSA key pair the emulator signs with.
pub(crate) struct RsaKey {
    pair: KeyPair,
    /// base64url of the modulus and exponent, for the JWKS.
    pub(crate) n: String,
    pub(crate) e: String,
    /// The SPKI PEM of the public key, as the vendor configuration serves it.
    pub(crate) pem: String,
}

impl RsaKey {
    fn generate() -> RsaKey {
        // Test-kit code: a failure to generate a key is a broken machine, not an input.
        let pair = KeyPair::generate(KeySize::Rsa2048).unwrap_or_else(|_| panic!("RSA key generation failed"));
        let public = pair.public_key();
        let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
        let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
        let der: PublicKeyX509Der<'static> = public.as_der().unwrap_or_else(|_| panic!("public key encoding failed"));
        let body = STANDARD.encode(der.as_ref());
        let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END PUBLIC KEY-----\n");
        RsaKey { pair, n, e, pem }
    }

    /// Signs `message` with the RSA algorithm `alg`.
    pub(crate) fn sign(&self, alg: Algorithm, message: &[u8]) -> Vec<u8> {
        use aws_lc_rs::signature as s;
        let padding: &'static dyn s::RsaEncoding = match alg {
            Algorithm::RS384 => &s::RSA_PKCS1_SHA384,
            Algorithm::RS512 => &s::RSA_PKCS1_SHA512,
            Algorithm::PS256 => &s::RSA_PSS_SHA256,
            Algorithm::PS384 => &s::RSA_PSS_SHA384,
            Algorithm::PS512 => &s::RSA_PSS_SHA512,
            _ => &s::RSA_PKCS1_SHA256,
        };
        let mut signature = vec![0; self.pair.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.pair.sign(padding, &rng, message, &mut signature).unwrap_or_else(|_| panic!("RSA signing failed"));
        signature
    }
}

/// The `index`-th key of the process-wide pool: distinct indexes are distinct keys.
pub(crate) fn pooled(index: usize) -> Arc<RsaKey> {
    static POOL: OnceLock<Mutex<Vec<Arc<RsaKey>>>> = OnceLock::new();
    let pool = POOL.get_or_init(|| Mutex::new(Vec::new()));
    let mut keys = pool.lock().unwrap_or_else(|p| p.into_inner());
    while keys.len() <= index {
        keys.push(Arc::new(RsaKey::generate()));
    }
    keys[index].clone()
}
