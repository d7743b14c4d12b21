//! Admission: from a request head to the [`Caller`], framework-neutral. The tower layer and the
//! actix-web middleware both call [`Admission::admit`], so every adapter decides alike.

use std::future::Future;
use std::sync::Arc;

use http::{HeaderValue, Method};

use crate::authenticator::Authenticator;
use crate::caller::Caller;
use crate::credential::{API_KEY_HEADER, Credential, CredentialKind};
use crate::error::AuthError;
use crate::head::RequestHead;
use crate::hosted_login::SessionLookup;
use crate::refusal::Refusal;

/// Whether a request without a credential is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Required,
    Optional,
}

/// What admission found: the [`Caller`], and a `Set-Cookie` for the answer when the request's
/// session cookie named no session (it is cleared).
#[derive(Debug, Clone)]
pub struct Admitted {
    caller: Caller,
    set_cookie: Option<HeaderValue>,
}

impl Admitted {
    /// The caller.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// The caller and the `Set-Cookie` value to add to the answer, if any.
    pub fn into_parts(self) -> (Caller, Option<HeaderValue>) {
        (self.caller, self.set_cookie)
    }
}

/// The admission policy: which authenticator, whether a credential is required, whether CORS
/// preflights pass, whether browsers are sent to the login. Cheap to clone.
///
/// With the hosted login configured ([`Authenticator::hosted_login`]), the session cookie is one
/// more credential, read when the request has neither `Authorization` nor `x-api-key`; see
/// [`hosted_login`](crate::hosted_login#sessions).
///
/// ```
/// use frontegg_auth::{Admission, Authenticator, Caller};
///
/// # async fn demo(auth: Authenticator, request: http::Request<()>) {
/// let admission = Admission::required(auth);
/// match admission.admit(&request).await.map(|admitted| admitted.into_parts().0) {
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
    redirect_to_login: bool,
}

impl Admission {
    /// Every request must carry a valid credential (401 otherwise).
    pub fn required(auth: Authenticator) -> Admission {
        Admission { auth, mode: Mode::Required, allow_preflight: false, redirect_to_login: false }
    }

    /// A request without any credential is admitted as [`Caller::Anonymous`]; a credential that
    /// is present must still be valid (401 otherwise).
    pub fn optional(auth: Authenticator) -> Admission {
        Admission { auth, mode: Mode::Optional, allow_preflight: false, redirect_to_login: false }
    }

    /// Admits CORS preflights (`OPTIONS` with `Access-Control-Request-Method`) without a
    /// credential, as browsers send them without one, as [`Caller::Anonymous`]. Off by default:
    /// a CORS layer placed outside the authentication answers them before they get here.
    pub fn allow_cors_preflight(mut self) -> Admission {
        self.allow_preflight = true;
        self
    }

    /// For routes meant for browsers: a `GET` or `HEAD` without any credential (or whose session
    /// ended) is sent to the hosted login (303 to `{routes}/login?return_to=<this path>`) rather
    /// than answered 401; so is a session without the step-up a requirement needs (the login
    /// then asks for it). A script's request (`Sec-Fetch-Mode` other than `navigate`) keeps the
    /// 401. Other methods, and every refusal of a credential that was presented,
    /// keep their answers. Without the hosted login configured, nothing changes.
    pub fn redirect_to_login(mut self) -> Admission {
        self.redirect_to_login = true;
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
    pub fn admit(&self, head: &impl RequestHead) -> impl Future<Output = Result<Admitted, Refusal>> + Send + 'static {
        let method = head.method();
        let preflight = self.allow_preflight
            && method == Method::OPTIONS.as_str()
            && head.header_values("access-control-request-method").next().is_some();
        let credential = if preflight {
            Ok(None)
        } else {
            Credential::from_values(head.header_values("authorization"), head.header_values(API_KEY_HEADER))
        };
        // The session cookie counts only when no header credential is there.
        let login = self.auth.hosted_login().cloned();
        let session = match (&credential, &login) {
            (Ok(None), Some(login)) if !preflight => login.session_cookie(head).map(|cookie| {
                // A WebSocket handshake is a GET that opens a two-way channel: it must come from
                // the app's origin too.
                let websocket = head.header_values("upgrade").any(|v| v.eq_ignore_ascii_case(b"websocket"));
                let safe = matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE") && !websocket;
                (cookie, safe || login.same_origin(head))
            }),
            _ => None,
        };
        // A page the browser navigates to goes to the login; a script's fetch of it gets the 401
        // (it could not follow a redirect to another origin anyway).
        let fetched = head.header_values("sec-fetch-mode").next().is_some_and(|mode| mode != b"navigate");
        let browser = self.redirect_to_login && matches!(method, "GET" | "HEAD") && !fetched;
        let login_location = login.as_ref().filter(|_| browser).map(|l| l.login_location(head.path_and_query()));
        let auth = self.auth.clone();
        let mode = self.mode;
        async move {
            // A credential that cannot be read, or none where one is required, is an
            // authentication too (`authenticate` counts the others).
            let refused = |e: AuthError| {
                e.count();
                Refusal::from(e)
            };
            if let Some(credential) = credential.map_err(refused)? {
                let identity = auth.authenticate(&credential).await?;
                return Ok(Admitted { caller: Caller::Identified(identity), set_cookie: None });
            }
            let mut cleared = None;
            if let (Some((cookie, same_origin)), Some(login)) = (session, &login) {
                if !same_origin {
                    crate::telemetry::session(crate::telemetry::SessionEvent::CrossSiteRefused);
                    return Err(Refusal::from(AuthError::CrossSiteRequest));
                }
                match login.session(&cookie).await {
                    SessionLookup::Active(access) => {
                        match auth.authenticate(&Credential::new(CredentialKind::Bearer, access)).await {
                            Ok(identity) => {
                                // On a page: a missing step-up sends the browser to a login
                                // asking for it, since refreshed tokens never carry one.
                                let identity = match &login_location {
                                    Some(location) => identity.with_login(Arc::new(location.clone())),
                                    None => identity,
                                };
                                return Ok(Admitted { caller: Caller::Identified(identity), set_cookie: None });
                            }
                            Err(e) if e.is_unavailable() => return Err(Refusal::from(e)),
                            // A session whose token no longer verifies is no credential.
                            Err(_) => cleared = login.clear_session_cookie(),
                        }
                    }
                    SessionLookup::Gone => cleared = login.clear_session_cookie(),
                    SessionLookup::Unavailable => return Err(Refusal::from(AuthError::SessionUnavailable)),
                }
            }
            if preflight || mode == Mode::Optional {
                return Ok(Admitted { caller: Caller::Anonymous, set_cookie: cleared });
            }
            if let Some(location) = login_location.as_deref().and_then(|l| HeaderValue::from_str(l).ok()) {
                return Err(Refusal::redirect(location).with_set_cookie(cleared));
            }
            Err(refused(AuthError::MissingCredential).with_set_cookie(cleared))
        }
    }
}
