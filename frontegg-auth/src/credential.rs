//! Taking the credential out of a request: `Authorization: Bearer` or `x-api-key`.

use http::HeaderMap;

use crate::error::{AuthError, Malformed};
use crate::secret::TokenString;

/// The header a credential came in; it decides which token types are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// `Authorization: Bearer <jwt>`: user tokens and API tokens.
    Bearer,
    /// `x-api-key: <jwt>`: access tokens.
    ApiKey,
}

/// A credential as presented, not verified yet. Its `Debug` hides the token.
#[derive(Debug, Clone)]
pub struct Credential {
    kind: CredentialKind,
    token: TokenString,
}

/// The name of the access-token header.
pub const API_KEY_HEADER: &str = "x-api-key";

impl Credential {
    /// A credential from its parts.
    pub fn new(kind: CredentialKind, token: impl Into<TokenString>) -> Credential {
        Credential { kind, token: token.into() }
    }

    /// The header it came in.
    pub fn kind(&self) -> CredentialKind {
        self.kind
    }

    /// The token.
    pub fn token(&self) -> &TokenString {
        &self.token
    }

    /// Reads the credential from request headers.
    ///
    /// `Ok(None)`: neither header is present. Errors (401): a scheme other than Bearer, an empty
    /// token, a header repeated, both headers at once, bytes that cannot be a JWT.
    ///
    /// ```
    /// use frontegg_auth::{Credential, CredentialKind};
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("authorization", "bearer abc.def.ghi".parse().unwrap());
    /// let credential = Credential::from_headers(&headers).unwrap().unwrap();
    /// assert_eq!(credential.kind(), CredentialKind::Bearer);
    /// ```
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Credential>, AuthError> {
        Self::from_values(
            headers.get_all(http::header::AUTHORIZATION).iter().map(|v| v.as_bytes()),
            headers.get_all(API_KEY_HEADER).iter().map(|v| v.as_bytes()),
        )
    }

    /// The same as [`from_headers`](Self::from_headers), from raw header values, for frameworks
    /// with their own header types.
    pub fn from_values<'a>(
        authorization: impl IntoIterator<Item = &'a [u8]>,
        api_key: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Option<Credential>, AuthError> {
        let authorization = single(authorization, Malformed::RepeatedAuthorization)?;
        let api_key = single(api_key, Malformed::RepeatedApiKey)?;
        match (authorization, api_key) {
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err(AuthError::Malformed(Malformed::BothHeaders)),
            (Some(value), None) => {
                let value = text(value)?;
                let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
                if !scheme.eq_ignore_ascii_case("bearer") {
                    return Err(AuthError::Malformed(Malformed::NotBearer));
                }
                let token = token.trim();
                if token.is_empty() {
                    return Err(AuthError::Malformed(Malformed::EmptyBearer));
                }
                Ok(Some(Credential::new(CredentialKind::Bearer, token)))
            }
            (None, Some(value)) => {
                let token = text(value)?.trim();
                if token.is_empty() {
                    return Err(AuthError::Malformed(Malformed::EmptyApiKey));
                }
                Ok(Some(Credential::new(CredentialKind::ApiKey, token)))
            }
        }
    }
}

fn single<'a>(values: impl IntoIterator<Item = &'a [u8]>, repeated: Malformed) -> Result<Option<&'a [u8]>, AuthError> {
    let mut values = values.into_iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(AuthError::Malformed(repeated));
    }
    Ok(first)
}

fn text(value: &[u8]) -> Result<&str, AuthError> {
    std::str::from_utf8(value)
        .ok()
        .filter(|s| s.bytes().all(|b| b == b' ' || b.is_ascii_graphic()))
        .ok_or(AuthError::Malformed(Malformed::BadCharacters))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(auth: &[&[u8]], key: &[&[u8]]) -> Result<Option<Credential>, AuthError> {
        Credential::from_values(auth.iter().copied(), key.iter().copied())
    }

    #[test]
    fn headers() {
        assert!(parse(&[], &[]).unwrap().is_none());
        assert_eq!(parse(&[b"BEARER x.y.z"], &[]).unwrap().unwrap().token().expose(), "x.y.z");
        assert_eq!(parse(&[], &[b"x.y.z"]).unwrap().unwrap().kind(), CredentialKind::ApiKey);
        assert!(parse(&[b"Bearer "], &[]).is_err());
        assert!(parse(&[b"Bearer"], &[]).is_err());
        assert!(parse(&[b"Basic abc"], &[]).is_err());
        assert!(parse(&[b"Bearer a", b"Bearer b"], &[]).is_err());
        assert!(parse(&[b"Bearer a"], &[b"b"]).is_err());
        assert!(parse(&[b"Bearer \xff"], &[]).is_err());
        assert!(parse(&[], &[b" "]).is_err());
    }
}
