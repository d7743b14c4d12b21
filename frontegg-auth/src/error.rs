//! [`AuthError`]: why a caller is refused, as kinds rather than text; [`Denied`]: what a failed
//! requirement lacked. Their HTTP answers are in [`crate::refusal`].

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::api::ApiError;
use crate::entitlements::Justification;
use crate::key_cache::KeyError;
use crate::telemetry::{Denial, Verification};

/// Why a credential or a caller was refused. Each variant has one HTTP answer: see the [table of
/// answers](crate::refusal#answers).
///
/// ```
/// use frontegg_auth::{AuthError, Refusal};
/// let refusal = Refusal::from(AuthError::Expired);
/// assert_eq!(refusal.status(), http::StatusCode::UNAUTHORIZED);
/// assert_eq!(AuthError::Expired.to_string(), "The token has expired");
/// ```
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// Neither `Authorization: Bearer` nor `x-api-key` was sent.
    #[error("No credential was presented")]
    MissingCredential,
    /// The credential is not a well-formed JWT, or its header is unusable.
    #[error("The credential is malformed: {0}")]
    Malformed(Malformed),
    /// The token exceeds the configured size.
    #[error("The token is too large")]
    TooLarge,
    /// The token's `alg` is not among the allowed algorithms (this includes `none`).
    #[error("The token's algorithm is not accepted")]
    AlgorithmNotAllowed,
    /// No signing key matches the token's `kid`, even after a refetch.
    #[error("No signing key matches the token")]
    UnknownKey,
    /// The signature does not verify.
    #[error("The token's signature is invalid")]
    InvalidSignature,
    /// `exp` is in the past.
    #[error("The token has expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("The token is not valid yet")]
    NotYetValid,
    /// `iss` is not the expected issuer.
    #[error("The token's issuer is not accepted")]
    InvalidIssuer,
    /// `aud` holds none of the accepted audiences.
    #[error("The token's audience is not accepted")]
    InvalidAudience,
    /// A required claim is missing, or a claim has the wrong type.
    #[error("The token's claims are invalid: {0}")]
    InvalidClaims(InvalidClaims),
    /// The token type is unknown, or not accepted in the header it came in.
    #[error("{0}")]
    WrongTokenType(WrongTokenType),
    /// The access token is revoked or unknown to Frontegg (or access tokens are disabled).
    #[error("The access token is revoked or unknown")]
    Revoked,
    /// A valid credential without the right.
    #[error("{0}")]
    Forbidden(Denied),
    /// A user token that has not stepped up (recently enough): the user must log in again with
    /// multi-factor authentication (RFC 9470).
    #[error("{0}")]
    StepUpRequired(StepUp),
    /// No signing key could be loaded and none is cached.
    #[error("The signing keys cannot be loaded")]
    KeysUnavailable(#[source] KeyError),
    /// The Frontegg API could not answer a lookup and no cached answer stands.
    #[error("The Frontegg API is unavailable")]
    ApiUnavailable(#[source] ApiError),
    /// An entitlement is required and no entitlements snapshot was ever loaded (or entitlements
    /// are not turned on).
    #[error("The entitlements cannot be checked yet")]
    EntitlementsUnavailable,
    /// The request came with a session cookie and the session store could not answer, or the
    /// session's token needed a refresh that Frontegg could not give: the session is kept, the
    /// caller may retry (503, never a logout).
    #[error("The session cannot be read right now")]
    SessionUnavailable,
    /// An unsafe method (POST, PUT, PATCH, DELETE) authenticated by the session cookie alone,
    /// from another origin or without the headers that would tell (cross-site request forgery).
    #[error("A request authenticated by the session cookie must come from the app's own origin")]
    CrossSiteRequest,
}

impl AuthError {
    /// Whether Frontegg could not be reached (a 503): the caller may retry.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            AuthError::KeysUnavailable(_)
                | AuthError::ApiUnavailable(_)
                | AuthError::EntitlementsUnavailable
                | AuthError::SessionUnavailable
        )
    }
}

impl AuthError {
    /// The outcome label of a refused authentication; `None` for refusals of authorization.
    pub(crate) fn verification(&self) -> Option<Verification> {
        Some(match self {
            AuthError::MissingCredential => Verification::Missing,
            AuthError::Malformed(_) => Verification::Malformed,
            AuthError::TooLarge => Verification::TooLarge,
            AuthError::AlgorithmNotAllowed => Verification::AlgorithmNotAllowed,
            AuthError::UnknownKey => Verification::UnknownKid,
            AuthError::InvalidSignature => Verification::BadSignature,
            AuthError::Expired => Verification::Expired,
            AuthError::NotYetValid => Verification::NotYetValid,
            AuthError::InvalidIssuer => Verification::WrongIssuer,
            AuthError::InvalidAudience => Verification::WrongAudience,
            AuthError::InvalidClaims(_) => Verification::InvalidClaims,
            AuthError::WrongTokenType(_) => Verification::WrongTokenType,
            AuthError::Revoked => Verification::Revoked,
            AuthError::KeysUnavailable(_) => Verification::KeysUnavailable,
            AuthError::ApiUnavailable(_) => Verification::ApiUnavailable,
            // Counted by their own metrics (frontegg_sessions_total), or not authentications.
            AuthError::Forbidden(_)
            | AuthError::StepUpRequired(_)
            | AuthError::EntitlementsUnavailable
            | AuthError::SessionUnavailable
            | AuthError::CrossSiteRequest => return None,
        })
    }

    /// Counts this refusal in the metrics: an authentication by its outcome, a requirement by
    /// its kind; refusals of neither kind (no entitlements snapshot) are not counted.
    pub(crate) fn count(&self) {
        if let Some(outcome) = self.verification() {
            crate::telemetry::verification(outcome);
        } else if let Some(kind) = self.denial() {
            crate::telemetry::denial(kind);
        }
    }

    /// The kind label of a refused requirement; `None` for other refusals.
    pub(crate) fn denial(&self) -> Option<Denial> {
        match self {
            AuthError::StepUpRequired(_) => Some(Denial::StepUp),
            AuthError::Forbidden(denied) => Some(if denied.justification.is_some() {
                Denial::Entitlement
            } else if denied.tenant {
                Denial::Tenant
            } else if denied.permissions.is_empty() && !denied.roles.is_empty() {
                Denial::Role
            } else {
                Denial::Permission
            }),
            _ => None,
        }
    }
}

/// A refusal that only a step-up can lift becomes [`AuthError::StepUpRequired`] (401); any other
/// becomes [`AuthError::Forbidden`] (403).
impl From<Denied> for AuthError {
    fn from(denied: Denied) -> Self {
        if denied.unavailable {
            return AuthError::EntitlementsUnavailable;
        }
        match denied.step_up {
            Some(step_up) => AuthError::StepUpRequired(step_up),
            None => AuthError::Forbidden(denied),
        }
    }
}

/// What a step-up must bring: Frontegg's multi-factor `acr`, and an `auth_time` no older than
/// `max_age` when one is required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepUp {
    pub(crate) max_age: Option<Duration>,
    /// For a browser session on a page that sends to the login: the login route's location,
    /// so that the answer is a redirect to a login asking for the step-up.
    pub(crate) login: Option<std::sync::Arc<String>>,
}

impl StepUp {
    /// The required `acr` ([`MFA_ACR`](crate::MFA_ACR)).
    pub fn acr(&self) -> &'static str {
        crate::identity::MFA_ACR
    }

    /// The largest accepted age of the authentication, if one is required.
    pub fn max_age(&self) -> Option<Duration> {
        self.max_age
    }

    /// Where a browser goes to step up: the login route asking for it (`step_up=<max age in
    /// seconds, 0 for none>`), when the identity came from a session on a page that sends to
    /// the login.
    pub fn login_location(&self) -> Option<String> {
        let login = self.login.as_ref()?;
        Some(format!("{login}&step_up={}", self.max_age.map_or(0, |age| age.as_secs())))
    }
}

impl fmt::Display for StepUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.max_age {
            Some(age) => {
                write!(f, "A multi-factor authentication within the last {} seconds is required", age.as_secs())
            }
            None => f.write_str("A multi-factor authentication is required"),
        }
    }
}

macro_rules! reasons {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// The reason in words, as the answer's description says it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

reasons! {
    /// Why a credential is malformed.
    Malformed {
        /// `Authorization` was sent more than once.
        RepeatedAuthorization => "send one Authorization header",
        /// `x-api-key` was sent more than once.
        RepeatedApiKey => "send one x-api-key header",
        /// Both headers were sent.
        BothHeaders => "send either Authorization or x-api-key, not both",
        /// `Authorization` with another scheme than Bearer.
        NotBearer => "the Authorization scheme must be Bearer",
        /// `Authorization: Bearer` without a token.
        EmptyBearer => "the bearer token is empty",
        /// An empty `x-api-key`.
        EmptyApiKey => "the x-api-key header is empty",
        /// Bytes that cannot be part of a JWT.
        BadCharacters => "the credential holds characters a JWT cannot contain",
        /// Not three dot-separated parts.
        NotThreeParts => "a JWT has three dot-separated parts",
        /// The JOSE header does not decode.
        BadHeader => "the token header cannot be decoded",
        /// The JOSE header has `crit`.
        CriticalHeader => "critical header extensions are not supported",
        /// The token does not decode otherwise.
        Undecodable => "the token cannot be decoded",
    }
}

reasons! {
    /// Why a token's claims are invalid.
    InvalidClaims {
        /// A Frontegg claim is missing or has the wrong type.
        WrongShape => "a claim is missing or has the wrong type",
        /// `sub` is empty.
        EmptySubject => "the subject is empty",
        /// A claim the configuration requires (`exp`, `sub`, `iss`, `aud`) is missing or malformed.
        MissingRequired => "a required claim is missing or malformed",
        /// `exp`, `nbf` or `iat` is not a number.
        TimeClaim => "a time claim is malformed",
        /// The payload is not a JSON object.
        NotAnObject => "the claims are not a JSON object",
        /// A registered claim has the wrong JSON type (RFC 7519 §4.1): `iss` or `jti` not a
        /// string, `aud` not a string or an array of strings, `exp`, `nbf`, `iat` not a number.
        /// (`sub` of another type than a string is [`WrongShape`](Self::WrongShape).)
        RegisteredClaimType => "a registered claim has the wrong JSON type",
    }
}

reasons! {
    /// Why a token type is refused.
    WrongTokenType {
        /// The `type` claim is none of Frontegg's five types, or missing.
        Unknown => "The token type is not a Frontegg token type",
        /// An access token in `Authorization: Bearer`.
        AccessTokenAsBearer => "Access tokens must be sent in the x-api-key header",
        /// A user or API token in `x-api-key`.
        BearerTokenAsApiKey => "User and API tokens must be sent in the Authorization header as Bearer",
        /// An access token, and no credentials are configured to look it up.
        AccessTokensNotAccepted => "This service does not accept access tokens",
    }
}

/// Why a requirement failed. Its `Display` is the description sent to the caller: the required
/// keys, never anything from the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub(crate) message: String,
    pub(crate) permissions: Vec<String>,
    pub(crate) roles: Vec<String>,
    pub(crate) tenant: bool,
    /// Only a step-up can lift it.
    pub(crate) step_up: Option<StepUp>,
    /// Why an entitlement was refused.
    pub(crate) justification: Option<Justification>,
    /// An entitlement could not be checked: no snapshot (a 503, never a 403).
    pub(crate) unavailable: bool,
}

impl Denied {
    /// A refusal saying `message`, with nothing else to tell.
    pub(crate) fn because(message: impl Into<String>) -> Denied {
        Denied {
            message: message.into(),
            permissions: Vec::new(),
            roles: Vec::new(),
            tenant: false,
            step_up: None,
            justification: None,
            unavailable: false,
        }
    }

    /// The refusal of a tenant requirement, for adapters that find the tenant cannot match
    /// before comparing (a path segment that is not even UTF-8, for instance).
    pub fn wrong_tenant() -> Denied {
        Denied { tenant: true, ..Denied::because("The credential does not belong to this tenant") }
    }

    /// Why an entitlement was refused, when one was.
    pub fn justification(&self) -> Option<Justification> {
        self.justification
    }

    /// The step-up that would lift this refusal, when only a step-up can.
    pub fn step_up(&self) -> Option<&StepUp> {
        self.step_up.as_ref()
    }

    /// The required permission keys the caller lacks.
    pub fn missing_permissions(&self) -> &[String] {
        &self.permissions
    }

    /// The required role keys the caller lacks.
    pub fn missing_roles(&self) -> &[String] {
        &self.roles
    }

    /// Whether a tenant requirement failed.
    pub fn tenant_mismatch(&self) -> bool {
        self.tenant
    }

    /// The RFC 6750 `scope` attribute: the missing permissions, space separated.
    pub(crate) fn scope(&self) -> String {
        self.permissions.join(" ")
    }
}

impl std::error::Error for Denied {}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Logs a server misconfiguration at error level the first time `logged` sees it in the process,
/// at debug level after: loud enough to be fixed, without flooding the log at every request.
pub(crate) fn log_misconfiguration(logged: &AtomicBool, message: &str) {
    if logged.swap(true, Ordering::Relaxed) {
        tracing::debug!("frontegg: {message}");
    } else {
        tracing::error!("frontegg: {message} (logged once, then at debug level)");
    }
}
