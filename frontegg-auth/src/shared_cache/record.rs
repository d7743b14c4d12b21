//! Keys and values in the shared cache: how a question becomes a key, how a verdict becomes a
//! value bound to that key, and every check a value read back must pass. Pure: no I/O.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::RedisHmacKey;
use crate::lookup::{AccessKind, Question, Verdict};

/// The largest value read back, in bytes: longer ones are misses.
pub(crate) const MAX_VALUE_BYTES: usize = 256 * 1024;

/// The prefix of an HMAC-tagged value: `mac1.{tag}.{json}`.
const MAC_PREFIX: &str = "mac1.";

/// How keys are named and values sealed, for one environment.
pub(crate) struct Codec {
    prefix: String,
    hmac: Option<hmac::Key>,
}

impl Codec {
    pub(crate) fn new(client_id: &str, hmac_key: Option<&RedisHmacKey>) -> Codec {
        Codec {
            prefix: format!("frontegg-rs:v1:{}:", encode(client_id)),
            hmac: hmac_key.map(|k| hmac::Key::new(hmac::HMAC_SHA256, k.expose().as_bytes())),
        }
    }

    /// The key of a question. Every id is form-encoded, so no id can reach into another's key.
    pub(crate) fn key(&self, question: &Question) -> String {
        match question {
            Question::AccessToken { kind: AccessKind::Tenant, id } => {
                format!("{}tenant-access-token:{}", self.prefix, encode(id))
            }
            Question::AccessToken { kind: AccessKind::User, id } => {
                format!("{}user-access-token:{}", self.prefix, encode(id))
            }
            Question::User { id, tenant: None } => format!("{}user:{}:*", self.prefix, encode(id)),
            Question::User { id, tenant: Some(t) } => format!("{}user:{}:t.{}", self.prefix, encode(id), encode(t)),
        }
    }

    /// The value stored for `verdict` under `key`, `None` when it would be too large to read back.
    pub(crate) fn seal(&self, key: &str, question: &Question, verdict: &Verdict) -> Option<Vec<u8>> {
        let record = Record::new(question, verdict);
        let json = serde_json::to_vec(&record).ok()?;
        let value = match &self.hmac {
            None => json,
            Some(mac) => {
                let tag = tag(mac, key, &json);
                let mut value = Vec::with_capacity(MAC_PREFIX.len() + tag.len() + 1 + json.len());
                value.extend_from_slice(MAC_PREFIX.as_bytes());
                value.extend_from_slice(tag.as_bytes());
                value.push(b'.');
                value.extend_from_slice(&json);
                value
            }
        };
        (value.len() <= MAX_VALUE_BYTES).then_some(value)
    }

    /// The verdict a value read back under `key` holds for `question`, or why it is not one.
    pub(crate) fn open(&self, key: &str, question: &Question, value: &[u8]) -> Result<Verdict, Unusable> {
        if value.len() > MAX_VALUE_BYTES {
            return Err(Unusable::TooLarge);
        }
        let json = match &self.hmac {
            None => value,
            Some(mac) => {
                let rest = value.strip_prefix(MAC_PREFIX.as_bytes()).ok_or(Unusable::BadTag)?;
                let dot = rest.iter().position(|&b| b == b'.').ok_or(Unusable::BadTag)?;
                let (tag, json) = rest.split_at(dot);
                let json = json.get(1..).ok_or(Unusable::BadTag)?;
                let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| Unusable::BadTag)?;
                hmac::verify(mac, &signed_message(key, json), &tag).map_err(|_| Unusable::BadTag)?;
                json
            }
        };
        let record: Record = serde_json::from_slice(json).map_err(|_| Unusable::Garbage)?;
        record.verdict_for(question).ok_or(Unusable::OtherKey)
    }
}

/// Why a value read back is not used (it is then looked up again and overwritten).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unusable {
    TooLarge,
    BadTag,
    Garbage,
    OtherKey,
}

impl Unusable {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Unusable::TooLarge => "the value is too large",
            Unusable::BadTag => "the value has no valid HMAC tag",
            Unusable::Garbage => "the value does not parse",
            Unusable::OtherKey => "the value belongs to another key",
        }
    }
}

fn signed_message(key: &str, json: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(key.len() + 1 + json.len());
    message.extend_from_slice(key.as_bytes());
    message.push(0);
    message.extend_from_slice(json);
    message
}

fn tag(mac: &hmac::Key, key: &str, json: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(hmac::sign(mac, &signed_message(key, json)).as_ref())
}

fn encode(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

/// A stored verdict, bound to its question.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    v: u8,
    kind: Kind,
    id: String,
    #[serde(default)]
    tenant: Option<String>,
    verdict: StoredVerdict,
}

#[derive(Serialize, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Kind {
    TenantAccessToken,
    UserAccessToken,
    User,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum StoredVerdict {
    Active {
        #[serde(default)]
        tenant_id: Option<String>,
        roles: Vec<String>,
        permissions: Vec<String>,
    },
    Refused,
}

impl Record {
    fn new(question: &Question, verdict: &Verdict) -> Record {
        let (kind, id, tenant) = parts(question);
        Record {
            v: 1,
            kind,
            id: id.to_owned(),
            tenant: tenant.map(str::to_owned),
            verdict: match verdict {
                Verdict::Rights { tenant_id, roles, permissions } => StoredVerdict::Active {
                    tenant_id: tenant_id.clone(),
                    roles: roles.clone(),
                    permissions: permissions.clone(),
                },
                Verdict::Refused => StoredVerdict::Refused,
            },
        }
    }

    fn verdict_for(self, question: &Question) -> Option<Verdict> {
        let (kind, id, tenant) = parts(question);
        if self.v != 1 || self.kind != kind || self.id != id || self.tenant.as_deref() != tenant {
            return None;
        }
        Some(match self.verdict {
            StoredVerdict::Active { tenant_id, roles, permissions } => {
                Verdict::Rights { tenant_id, roles, permissions }
            }
            StoredVerdict::Refused => Verdict::Refused,
        })
    }
}

fn parts(question: &Question) -> (Kind, &str, Option<&str>) {
    match question {
        Question::AccessToken { kind: AccessKind::Tenant, id } => (Kind::TenantAccessToken, id, None),
        Question::AccessToken { kind: AccessKind::User, id } => (Kind::UserAccessToken, id, None),
        Question::User { id, tenant } => (Kind::User, id, tenant.as_deref()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question() -> Question {
        Question::AccessToken { kind: AccessKind::Tenant, id: "tok-1".into() }
    }

    fn rights() -> Verdict {
        Verdict::Rights { tenant_id: Some("t-1".into()), roles: vec!["admin".into()], permissions: vec!["a.b".into()] }
    }

    fn key32() -> RedisHmacKey {
        RedisHmacKey::new("0123456789abcdef0123456789abcdef")
    }

    #[test]
    fn a_sealed_value_opens_under_its_own_key_only() {
        for codec in [Codec::new("client", None), Codec::new("client", Some(&key32()))] {
            let key = codec.key(&question());
            let value = codec.seal(&key, &question(), &rights()).unwrap();
            assert_eq!(codec.open(&key, &question(), &value), Ok(rights()));
            let other = Question::AccessToken { kind: AccessKind::User, id: "tok-1".into() };
            let refused = codec.open(&codec.key(&other), &other, &value);
            assert!(matches!(refused, Err(Unusable::OtherKey | Unusable::BadTag)), "{refused:?}");
        }
    }

    #[test]
    fn keys_are_prefixed_by_environment_and_encode_ids() {
        let codec = Codec::new("env:1", None);
        let user = Question::User { id: "a:b".into(), tenant: Some("*".into()) };
        assert_eq!(codec.key(&user), "frontegg-rs:v1:env%3A1:user:a%3Ab:t.*");
        let none = Question::User { id: "a:b".into(), tenant: None };
        assert_ne!(codec.key(&user), codec.key(&none));
    }

    #[test]
    fn tags_are_required_checked_and_bound_to_the_key() {
        let plain = Codec::new("client", None);
        let sealed = Codec::new("client", Some(&key32()));
        let key = plain.key(&question());
        let untagged = plain.seal(&key, &question(), &rights()).unwrap();
        assert_eq!(sealed.open(&key, &question(), &untagged), Err(Unusable::BadTag));
        let mut tagged = sealed.seal(&key, &question(), &rights()).unwrap();
        assert_eq!(plain.open(&key, &question(), &tagged), Err(Unusable::Garbage));
        let other_key = RedisHmacKey::new("another key, also thirty-two bytes long");
        let stranger = Codec::new("client", Some(&other_key));
        assert_eq!(stranger.open(&key, &question(), &tagged), Err(Unusable::BadTag));
        assert_eq!(sealed.open("frontegg-rs:v1:client:elsewhere", &question(), &tagged), Err(Unusable::BadTag));
        let last = tagged.len() - 2;
        tagged[last] ^= 1;
        assert_eq!(sealed.open(&key, &question(), &tagged), Err(Unusable::BadTag));
    }

    #[test]
    fn garbage_and_oversized_values_are_unusable() {
        let codec = Codec::new("client", None);
        let key = codec.key(&question());
        for value in [
            &b""[..],
            b"null",
            b"{}",
            b"\xff\xfe",
            br#"{"v":2,"kind":"tenant_access_token","id":"tok-1","verdict":"refused"}"#,
        ] {
            assert!(codec.open(&key, &question(), value).is_err(), "{value:?}");
        }
        let huge = vec![b' '; MAX_VALUE_BYTES + 1];
        assert_eq!(codec.open(&key, &question(), &huge), Err(Unusable::TooLarge));
        let refused = br#"{"v":1,"kind":"tenant_access_token","id":"tok-1","verdict":"refused"}"#;
        assert_eq!(codec.open(&key, &question(), refused), Ok(Verdict::Refused));
    }
}
