//! Minting tokens with the emulator's keys: valid ones of every Frontegg type, and broken ones.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value, json};

use super::keys::{FOREIGN_KEY, RsaKey, Signer, pooled};
use crate::identity::TokenType;

/// Builds a token; obtained from [`Emulator::token`](super::Emulator::token) and its shortcuts.
///
/// Defaults: signed RS256 by the emulator's current key with its `kid`, `iss` the emulator's
/// URL, `aud` its client id, valid for an hour, tenant `tenant-1`.
///
/// ```no_run
/// # async fn demo() {
/// use std::time::Duration;
/// use frontegg_auth::testing::Emulator;
/// let emulator = Emulator::start().await;
/// let ok = emulator.user_token().permissions(["reports.read"]).roles(["admin"]).sign();
/// let expired = emulator.user_token().expired().sign();
/// let forged = emulator.user_token().sign_alg_none();
/// # let _ = (ok, expired, forged);
/// # }
/// ```
#[derive(Clone)]
#[must_use = "a token builder does nothing until signed"]
pub struct TokenBuilder {
    shared: Arc<dyn Signer>,
    claims: Map<String, Value>,
    kid: Kid,
    alg: Algorithm,
}

#[derive(Clone)]
enum Kid {
    Signer,
    None,
    Custom(String),
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

impl TokenBuilder {
    /// A token of `token_type` for `sub`, issued by `issuer` for `audience`.
    pub(crate) fn new(
        shared: Arc<dyn Signer>,
        issuer: &str,
        audience: &str,
        token_type: TokenType,
        sub: String,
    ) -> TokenBuilder {
        let now = now();
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(sub));
        claims.insert("type".into(), json!(token_type.as_str()));
        claims.insert("tenantId".into(), json!("tenant-1"));
        claims.insert("iss".into(), json!(issuer));
        claims.insert("aud".into(), json!(audience));
        claims.insert("iat".into(), json!(now));
        claims.insert("exp".into(), json!(now + 3600));
        match token_type {
            TokenType::User => {
                claims.insert("tenantIds".into(), json!(["tenant-1"]));
                claims.insert("email".into(), json!(format!("{sub}@example.com")));
                claims.insert("name".into(), json!("Jo Doe"));
                claims.insert("email_verified".into(), json!(true));
                claims.insert("sid".into(), json!(format!("session-of-{sub}")));
                claims.insert("metadata".into(), json!({}));
                claims.insert("roles".into(), json!([]));
                claims.insert("permissions".into(), json!([]));
            }
            TokenType::UserApi => {
                claims.insert("userId".into(), json!("user-1"));
                claims.insert("createdByUserId".into(), json!("user-1"));
                claims.insert("metadata".into(), json!({}));
                claims.insert("roles".into(), json!([]));
                claims.insert("permissions".into(), json!([]));
            }
            TokenType::TenantApi => {
                claims.insert("createdByUserId".into(), json!("user-1"));
                claims.insert("metadata".into(), json!({}));
                claims.insert("roles".into(), json!([]));
                claims.insert("permissions".into(), json!([]));
            }
            TokenType::UserAccess | TokenType::TenantAccess => {
                if token_type == TokenType::UserAccess {
                    claims.insert("userId".into(), json!("user-1"));
                }
                claims.insert("roles".into(), json!(["FETCH-ROLES-BY-API"]));
                claims.insert("permissions".into(), json!(["FETCH-PERMISSIONS-BY-API"]));
            }
            TokenType::Unknown(_) => {}
        }
        TokenBuilder { shared, claims, kid: Kid::Signer, alg: Algorithm::RS256 }
    }

    /// Sets any claim.
    pub fn claim(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.claims.insert(name.to_owned(), value.into());
        self
    }

    /// Removes a claim.
    pub fn without(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// `sub`.
    pub fn subject(self, sub: &str) -> Self {
        self.claim("sub", sub)
    }

    /// `tenantId` (and `tenantIds` when the token has them).
    pub fn tenant(mut self, tenant_id: &str) -> Self {
        if self.claims.contains_key("tenantIds") {
            self.claims.insert("tenantIds".into(), json!([tenant_id]));
        }
        self.claim("tenantId", tenant_id)
    }

    /// `roles`.
    pub fn roles<I: IntoIterator<Item = S>, S: Into<String>>(self, roles: I) -> Self {
        let roles: Vec<String> = roles.into_iter().map(Into::into).collect();
        self.claim("roles", roles)
    }

    /// `permissions`.
    pub fn permissions<I: IntoIterator<Item = S>, S: Into<String>>(self, permissions: I) -> Self {
        let permissions: Vec<String> = permissions.into_iter().map(Into::into).collect();
        self.claim("permissions", permissions)
    }

    /// `exp` this far from now.
    pub fn expires_in(self, lifetime: Duration) -> Self {
        let exp = now() + lifetime.as_secs() as i64;
        self.claim("exp", exp)
    }

    /// `exp` an hour ago.
    pub fn expired(self) -> Self {
        let exp = now() - 3600;
        self.claim("exp", exp)
    }

    /// `nbf` this far in the future.
    pub fn not_before_in(self, delay: Duration) -> Self {
        let nbf = now() + delay.as_secs() as i64;
        self.claim("nbf", nbf)
    }

    /// A login that passed multi-factor authentication just now: Frontegg's `acr`,
    /// `amr: ["mfa", "otp"]` and `auth_time` of now.
    pub fn stepped_up(self) -> Self {
        self.stepped_up_ago(Duration::ZERO)
    }

    /// A login that passed multi-factor authentication `ago` before now.
    pub fn stepped_up_ago(self, ago: Duration) -> Self {
        let auth_time = now() - ago.as_secs() as i64;
        self.claim("acr", crate::MFA_ACR).claim("amr", json!(["mfa", "otp"])).claim("auth_time", auth_time)
    }

    /// `iss`.
    pub fn issuer(self, issuer: &str) -> Self {
        self.claim("iss", issuer)
    }

    /// `aud`.
    pub fn audience(self, audience: &str) -> Self {
        self.claim("aud", audience)
    }

    /// The header's `kid` (default: the signing key's).
    pub fn kid(mut self, kid: &str) -> Self {
        self.kid = Kid::Custom(kid.to_owned());
        self
    }

    /// No `kid` in the header.
    pub fn no_kid(mut self) -> Self {
        self.kid = Kid::None;
        self
    }

    /// The RSA algorithm (default RS256): RS256/384/512, PS256/384/512.
    pub fn algorithm(mut self, alg: Algorithm) -> Self {
        self.alg = alg;
        self
    }

    /// The claims as they will be signed.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    fn encode(&self, alg: &str, kid: Option<&str>) -> String {
        let mut header = json!({"alg": alg, "typ": "JWT"});
        if let (Some(kid), Some(obj)) = (kid, header.as_object_mut()) {
            obj.insert("kid".into(), json!(kid));
        }
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(Value::Object(self.claims.clone()).to_string())
        )
    }

    fn rsa_with(&self, key: &RsaKey, kid: Option<&str>) -> String {
        let alg = format!("{:?}", self.alg);
        let message = self.encode(&alg, kid);
        let signature = key.sign(self.alg, message.as_bytes());
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn chosen_kid(&self, signer_kid: &str) -> Option<String> {
        match &self.kid {
            Kid::Signer => Some(signer_kid.to_owned()),
            Kid::None => None,
            Kid::Custom(kid) => Some(kid.clone()),
        }
    }

    /// Signs with the emulator's current key: a valid token (unless the claims say otherwise).
    pub fn sign(&self) -> String {
        let (kid, key) = self.shared.signer();
        self.rsa_with(&key, self.chosen_kid(&kid).as_deref())
    }

    /// `alg: none` and an empty signature.
    pub fn sign_alg_none(&self) -> String {
        format!("{}.", self.encode("none", None))
    }

    /// HS256 with the given secret (for services configured with that secret).
    pub fn sign_hs256(&self, secret: &[u8]) -> String {
        let (kid, _) = self.shared.signer();
        let message = self.encode("HS256", self.chosen_kid(&kid).as_deref());
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
        let tag = aws_lc_rs::hmac::sign(&key, message.as_bytes());
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// The algorithm-confusion attack: HS256 keyed with the public key's PEM.
    pub fn sign_hs256_with_public_key(&self) -> String {
        let (_, key) = self.shared.signer();
        self.sign_hs256(key.pem.as_bytes())
    }

    /// A valid signature over other claims: the payload was changed after signing.
    pub fn sign_tampered(&self) -> String {
        let signed = self.sign();
        let mut parts = signed.splitn(3, '.');
        let (header, _, signature) = (parts.next(), parts.next(), parts.next());
        let mut claims = self.claims.clone();
        claims.insert("permissions".into(), json!(["*"]));
        claims.insert("roles".into(), json!(["admin", "owner"]));
        format!(
            "{}.{}.{}",
            header.unwrap_or_default(),
            URL_SAFE_NO_PAD.encode(Value::Object(claims).to_string()),
            signature.unwrap_or_default()
        )
    }

    /// Signed by a key the emulator does not publish, under the current `kid`.
    pub fn sign_with_foreign_key(&self) -> String {
        let (kid, _) = self.shared.signer();
        self.rsa_with(&pooled(FOREIGN_KEY), self.chosen_kid(&kid).as_deref())
    }
}
