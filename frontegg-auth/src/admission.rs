//! Admission: from a request head to the [`Caller`], framework-neutral. The tower layer and the
//! actix-web middleware both call [`Admission::admit`], so every adapter decides alike.

use std::future::Future;

use http::Method;

use crate::authenticator::Authenticator;
use crate::caller::Caller;
use crate::credential::{API_KEY_HEADER, Credential};
use crate::error::AuthError;
use crate::refusal::Refusal;

/// What admission reads of a request: its method, its target and its headers. Implemented for
/// `http` requests; an adapter implements it for its framework's request type.
pub trait RequestHead {
    /// The method, as sent (`GET`, `OPTIONS`...).
    fn method(&self) -> &str;
    /// The path and query, as sent.
    fn path_and_query(&self) -> &str;
    /// Every value of the header `name` (lower case), in order.
    fn header_values<'a>(&'a self, name: &'static str) -> impl Iterator<Item = &'a [u8]>;
}

impl<B> RequestHead for http::Request<B> {
    fn method(&self) -> &str {
        self.method().as_str()
    }

    fn path_and_query(&self) -> &str {
        self.uri().path_and_query().map_or("/", |p| p.as_str())
    }

    fn header_values<'a>(&'a self, name: &'static str) -> impl Iterator<Item = &'a [u8]> {
        self.headers().get_all(name).into_iter().map(|v| v.as_bytes())
    }
}

impl RequestHead for http::request::Parts {
    fn method(&self) -> &str {
        self.method.as_str()
    }

    fn path_and_query(&self) -> &str {
        self.uri.path_and_query().map_or("/", |p| p.as_str())
    }

    fn header_values<'a>(&'a self, name: &'static str) -> impl Iterator<Item = &'a [u8]> {
        self.headers.get_all(name).into_iter().map(|v| v.as_bytes())
    }
}

/// Whether a request without a credential is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Required,
    Optional,
}

/// The admission policy: which authenticator, whether a credential is required, whether CORS
/// preflights pass. Cheap to clone.
///
/// ```
/// use frontegg_auth::{Admission, Authenticator, Caller};
///
/// # async fn demo(auth: Authenticator, request: http::Request<()>) {
/// let admission = Admission::required(auth);
/// match admission.admit(&request).await {
///     Ok(Caller::Identified(identity)) => println!("{}", identity.sub()),
///     Ok(Caller::Anonymous) => println!("anonymous"),
///     Err(refusal) => println!("answered {}", refusal.status()),
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Admission {
    auth: Authenticator,
    mode: Mode,
    allow_preflight: bool,
}

impl Admission {
    /// Every request must carry a valid credential (401 otherwise).
    pub fn required(auth: Authenticator) -> Admission {
        Admission { auth, mode: Mode::Required, allow_preflight: false }
    }

    /// A request without any credential is admitted as [`Caller::Anonymous`]; a credential that
    /// is present must still be valid (401 otherwise).
    pub fn optional(auth: Authenticator) -> Admission {
        Admission { auth, mode: Mode::Optional, allow_preflight: false }
    }

    /// Admits CORS preflights (`OPTIONS` with `Access-Control-Request-Method`) without a
    /// credential, as browsers send them without one, as [`Caller::Anonymous`]. Off by default:
    /// a CORS layer placed outside the authentication answers them before they get here.
    pub fn allow_cors_preflight(mut self) -> Admission {
        self.allow_preflight = true;
        self
    }

    /// The authenticator.
    pub fn authenticator(&self) -> &Authenticator {
        &self.auth
    }

    /// Whether a request without a credential is admitted.
    pub fn is_optional(&self) -> bool {
        self.mode == Mode::Optional
    }

    /// The decision for one request. The head is read at once; the returned future owns what
    /// it needs, so the request can move on while it runs.
    pub fn admit(&self, head: &impl RequestHead) -> impl Future<Output = Result<Caller, Refusal>> + Send + 'static {
        let preflight = self.allow_preflight
            && head.method() == Method::OPTIONS.as_str()
            && head.header_values("access-control-request-method").next().is_some();
        let credential = if preflight {
            Ok(None)
        } else {
            Credential::from_values(head.header_values("authorization"), head.header_values(API_KEY_HEADER))
        };
        let auth = self.auth.clone();
        let mode = self.mode;
        async move {
            // A credential that cannot be read, or none where one is required, is an
            // authentication too (`authenticate` counts the others).
            let refused = |e: AuthError| {
                e.count();
                Refusal::from(e)
            };
            match credential.map_err(refused)? {
                Some(credential) => Ok(Caller::Identified(auth.authenticate(&credential).await?)),
                None if preflight || mode == Mode::Optional => Ok(Caller::Anonymous),
                None => Err(refused(AuthError::MissingCredential)),
            }
        }
    }
}
