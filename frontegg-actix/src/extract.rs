//! The extractors: [`Identity`], `Option<Identity>`, [`MaybeIdentity`] and [`Require`].

use std::fmt;
use std::future::{Future, Ready, ready};
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use frontegg_auth::markers::RequirementMarker;
use frontegg_auth::{Caller, Refusal, Requirement};

use crate::rejection::AuthRejection;

/// The caller the authentication middleware found, cloned out of the request.
fn caller_of(req: &HttpRequest) -> Result<Caller, Refusal> {
    Caller::from_request(req.extensions().get()).cloned()
}

/// The verified caller, as an extractor: a newtype over the core's [`frontegg_auth::Identity`],
/// which it dereferences to (`identity.sub()`, `identity.tenant_id()`, `identity.has_permission(..)`).
///
/// It reads the [`Caller`] that the [`authenticate`](crate::authenticate) middleware put into
/// the request:
///
/// | the caller | `Identity` | `Option<Identity>` | [`MaybeIdentity`] |
/// |---|---|---|---|
/// | identified | the identity | `Some(identity)` | `MaybeIdentity(Some(identity))` |
/// | anonymous (optional mode, no credential) | 401 | `None` | `MaybeIdentity(None)` |
/// | none: no authentication middleware ran before the handler | 500 | **`None`** | 500 |
///
/// A request with a bad credential never reaches the handler: the middleware answers it.
///
/// `Option<Identity>` is actix-web's generic `Option<T>` extractor, which turns *every* error of
/// `T` into `None`: it cannot tell an anonymous caller from a missing middleware. That is safe
/// (the handler sees an anonymous caller) but hides the misconfiguration, which is only logged
/// (at `error` level the first time, through `tracing`). [`MaybeIdentity`] answers 500 instead.
///
/// ```
/// use frontegg_actix::Identity;
///
/// async fn me(identity: Identity) -> String {
///     format!("{} of tenant {:?}", identity.sub(), identity.tenant_id())
/// }
///
/// async fn greeting(identity: Option<Identity>) -> String {
///     match identity {
///         Some(identity) => format!("hello {}", identity.sub()),
///         None => "hello stranger".to_owned(),
///     }
/// }
/// # let _ = actix_web::App::new()
/// #     .route("/me", actix_web::web::get().to(me))
/// #     .route("/hello", actix_web::web::get().to(greeting));
/// ```
#[derive(Clone, Debug)]
pub struct Identity(pub frontegg_auth::Identity);

impl Deref for Identity {
    type Target = frontegg_auth::Identity;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FromRequest for Identity {
    type Error = AuthRejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(caller_of(req).and_then(|caller| Ok(Identity(caller.identified()?.clone()))).map_err(AuthRejection))
    }
}

/// The caller's identity if there is one, as an extractor that also catches a missing middleware:
/// `Some` identity, `None` for an anonymous caller of an [optional](crate::authenticate_optional)
/// middleware, and 500 when no authentication middleware ran before the handler.
///
/// It exists because actix-web's `Option<Identity>` gives `None` for any error, a missing
/// middleware included (see [`Identity`]); use it where that misconfiguration must not pass
/// silently as an anonymous caller.
///
/// ```
/// use frontegg_actix::MaybeIdentity;
///
/// async fn greeting(MaybeIdentity(identity): MaybeIdentity) -> String {
///     match identity {
///         Some(identity) => format!("hello {}", identity.sub()),
///         None => "hello stranger".to_owned(),
///     }
/// }
/// # let _ = actix_web::App::new().route("/hello", actix_web::web::get().to(greeting));
/// ```
#[derive(Clone, Debug)]
pub struct MaybeIdentity(
    /// The identity; `None` for an anonymous caller.
    pub Option<Identity>,
);

impl Deref for MaybeIdentity {
    type Target = Option<Identity>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FromRequest for MaybeIdentity {
    type Error = AuthRejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(
            caller_of(req).map(|caller| MaybeIdentity(caller.identity().cloned().map(Identity))).map_err(AuthRejection),
        )
    }
}

/// An [`Identity`] that satisfies the requirement `R`, checked at extraction; it dereferences to
/// the identity.
///
/// `R` is a marker type made by [`permission!`](crate::permission) or [`role!`](crate::role),
/// a tuple of markers (all of them), [`AllOf`](crate::AllOf) (all of them) or
/// [`AnyOf`](crate::AnyOf) (any one of them). Refusals: 401 for an anonymous caller, 403 with the
/// core's `insufficient_scope` answer when the requirement fails, 500 when no authentication
/// middleware ran.
///
/// ```
/// use frontegg_actix::{AnyOf, Require, permission, role};
///
/// permission!(pub ReadReports = "reports.read");
/// permission!(pub WriteReports = "reports.write");
/// role!(pub Admin = "admin");
/// role!(pub Owner = "owner");
///
/// // reports.read and reports.write, both.
/// async fn edit(caller: Require<(ReadReports, WriteReports)>) -> String {
///     format!("{} may edit", caller.sub())
/// }
///
/// // admin or owner.
/// async fn manage(caller: Require<AnyOf<(Admin, Owner)>>) -> String {
///     format!("{} may manage", caller.sub())
/// }
/// # let _ = actix_web::App::new()
/// #     .route("/edit", actix_web::web::post().to(edit))
/// #     .route("/manage", actix_web::web::post().to(manage));
/// ```
pub struct Require<R: RequirementMarker> {
    identity: Identity,
    marker: PhantomData<fn() -> R>,
}

impl<R: RequirementMarker> Require<R> {
    /// The requirement this extractor enforces: `R::requirement()`.
    pub fn requirement() -> Requirement {
        R::requirement()
    }

    /// The identity, by value.
    pub fn into_identity(self) -> Identity {
        self.identity
    }
}

impl<R: RequirementMarker> Deref for Require<R> {
    type Target = Identity;

    fn deref(&self) -> &Self::Target {
        &self.identity
    }
}

impl<R: RequirementMarker> Clone for Require<R> {
    fn clone(&self) -> Self {
        Require { identity: self.identity.clone(), marker: PhantomData }
    }
}

impl<R: RequirementMarker> fmt::Debug for Require<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Require")
            .field("requirement", &std::any::type_name::<R>())
            .field("identity", &self.identity)
            .finish()
    }
}

impl<R: RequirementMarker> FromRequest for Require<R> {
    type Error = AuthRejection;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let caller = caller_of(req);
        Box::pin(async move {
            let caller = caller?;
            let identity = caller.checked(&R::requirement()).await.map_err(Refusal::from)?;
            Ok(Require { identity: Identity(identity.clone()), marker: PhantomData })
        })
    }
}
