//! The extractors: [`Identity`], `Option<Identity>` and [`Require`].

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use http::Extensions;
use http::request::Parts;

use frontegg_auth::markers::RequirementMarker;
use frontegg_auth::{Anonymous, AuthError, Requirement};

use crate::rejection::AuthRejection;

/// What the authentication layer left in the request extensions: `Some` identity, `None` for an
/// anonymous caller (optional layer), and an error when no layer ran.
pub(crate) fn identity_from_extensions(
    extensions: &Extensions,
) -> Result<Option<&frontegg_auth::Identity>, AuthRejection> {
    if let Some(identity) = extensions.get::<frontegg_auth::Identity>() {
        return Ok(Some(identity));
    }
    if extensions.get::<Anonymous>().is_some() {
        return Ok(None);
    }
    Err(AuthRejection::MissingLayer)
}

/// The verified caller, as an extractor: a newtype over the core's [`frontegg_auth::Identity`],
/// which it dereferences to (`identity.sub()`, `identity.tenant_id()`, `identity.has_permission(..)`).
///
/// It reads what the [`authenticate`](crate::authenticate) or
/// [`authenticate_optional`](crate::authenticate_optional) layer put into the request:
///
/// | in the request | `Identity` | `Option<Identity>` |
/// |---|---|---|
/// | a verified identity | the identity | `Some(identity)` |
/// | an anonymous caller (optional layer, no credential) | 401 ([`AuthError::MissingCredential`]) | `None` |
/// | nothing: no authentication layer ran before the handler | 500 ([`AuthRejection::MissingLayer`]) | 500 |
///
/// A request with a bad credential never reaches the handler: the layer answers it.
///
/// ```
/// use frontegg_axum::Identity;
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
/// # let _ = axum::Router::<()>::new()
/// #     .route("/me", axum::routing::get(me))
/// #     .route("/hello", axum::routing::get(greeting));
/// ```
#[derive(Clone, Debug)]
pub struct Identity(pub frontegg_auth::Identity);

impl Identity {
    /// The core identity.
    pub fn inner(&self) -> &frontegg_auth::Identity {
        &self.0
    }

    /// The core identity, by value.
    pub fn into_inner(self) -> frontegg_auth::Identity {
        self.0
    }
}

impl Deref for Identity {
    type Target = frontegg_auth::Identity;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl AsRef<frontegg_auth::Identity> for Identity {
    fn as_ref(&self) -> &frontegg_auth::Identity {
        &self.0
    }
}

impl From<frontegg_auth::Identity> for Identity {
    fn from(identity: frontegg_auth::Identity) -> Self {
        Identity(identity)
    }
}

impl From<Identity> for frontegg_auth::Identity {
    fn from(identity: Identity) -> Self {
        identity.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match identity_from_extensions(&parts.extensions)? {
            Some(identity) => Ok(Identity(identity.clone())),
            None => Err(AuthRejection::Auth(AuthError::MissingCredential)),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Identity {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(identity_from_extensions(&parts.extensions)?.map(|identity| Identity(identity.clone())))
    }
}

/// An [`Identity`] that satisfies the requirement `R`, checked at extraction; it dereferences to
/// the identity.
///
/// `R` is a marker type made by [`permission!`](crate::permission) or [`role!`](crate::role),
/// a tuple of markers (all of them), [`AllOf`](crate::AllOf) (all of them) or
/// [`AnyOf`](crate::AnyOf) (any one of them). Refusals: 401 for an anonymous caller, 403 with the
/// core's `insufficient_scope` answer when the requirement fails, 500 when no authentication
/// layer ran ([`AuthRejection`]).
///
/// ```
/// use frontegg_axum::{AnyOf, Require, permission, role};
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
/// # let _ = axum::Router::<()>::new()
/// #     .route("/edit", axum::routing::post(edit))
/// #     .route("/manage", axum::routing::post(manage));
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

    /// The identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The identity, by value.
    pub fn into_identity(self) -> Identity {
        self.identity
    }

    /// The core identity, by value.
    pub fn into_inner(self) -> frontegg_auth::Identity {
        self.identity.0
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

impl<R: RequirementMarker, S: Send + Sync> FromRequestParts<S> for Require<R> {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let identity =
            identity_from_extensions(&parts.extensions)?.ok_or(AuthRejection::Auth(AuthError::MissingCredential))?;
        R::requirement().check(identity).map_err(|denied| AuthRejection::Auth(AuthError::Forbidden(denied)))?;
        Ok(Require { identity: Identity(identity.clone()), marker: PhantomData })
    }
}
