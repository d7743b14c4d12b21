//! The extractors: [`Identity`], `Option<Identity>`, [`Require`] and `Option<Require<R>>`.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;

use frontegg_auth::markers::RequirementMarker;
use frontegg_auth::{Caller, Refusal, Requirement};

use crate::rejection::AuthRejection;

/// The verified caller, as an extractor: a newtype over the core's [`frontegg_auth::Identity`],
/// which it dereferences to (`identity.sub()`, `identity.tenant_id()`, `identity.has_permission(..)`).
///
/// It reads the [`Caller`] that the [`authenticate`](crate::authenticate) or
/// [`authenticate_optional`](crate::authenticate_optional) layer put into the request:
///
/// | the caller | `Identity` | `Option<Identity>` |
/// |---|---|---|
/// | identified | the identity | `Some(identity)` |
/// | anonymous (optional layer, no credential) | 401 | `None` |
/// | none: no authentication layer ran before the handler | 500 | 500 |
///
/// A request with a bad credential never reaches the handler: the layer answers it. Every answer
/// is in the core's [table of answers](frontegg_auth::refusal#answers).
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

impl Deref for Identity {
    type Target = frontegg_auth::Identity;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_extensions(&parts.extensions)?;
        Ok(Identity(caller.identified().map_err(Refusal::from)?.clone()))
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Identity {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        let caller = Caller::from_extensions(&parts.extensions)?;
        Ok(caller.identity().cloned().map(Identity))
    }
}

/// An [`Identity`] that satisfies the requirement `R`, checked at extraction; it dereferences to
/// the identity.
///
/// `R` is a marker type made by [`permission!`](crate::permission) or [`role!`](crate::role),
/// a tuple of markers (all of them), [`AllOf`](crate::AllOf) (all of them) or
/// [`AnyOf`](crate::AnyOf) (any one of them).
///
/// | the caller | `Require<R>` | `Option<Require<R>>` |
/// |---|---|---|
/// | identified, satisfies `R` | the identity | `Some` |
/// | identified, lacks a right | 403 | 403 |
/// | anonymous | 401 | `None` |
/// | none: no authentication layer ran | 500 | 500 |
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
/// // admin or owner; anonymous callers get the public view.
/// async fn manage(caller: Option<Require<AnyOf<(Admin, Owner)>>>) -> String {
///     match caller {
///         Some(caller) => format!("{} may manage", caller.sub()),
///         None => "sign in to manage".to_owned(),
///     }
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

    /// The identity, by value.
    pub fn into_identity(self) -> Identity {
        self.identity
    }

    async fn check(caller: Caller) -> Result<Self, AuthRejection> {
        let identity = caller.checked(&R::requirement()).await.map_err(Refusal::from)?;
        Ok(Require { identity: Identity(identity.clone()), marker: PhantomData })
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
        Self::check(Caller::from_extensions(&parts.extensions)?.clone()).await
    }
}

impl<R: RequirementMarker, S: Send + Sync> OptionalFromRequestParts<S> for Require<R> {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        match Caller::from_extensions(&parts.extensions)? {
            Caller::Anonymous => Ok(None),
            caller => Self::check(caller.clone()).await.map(Some),
        }
    }
}
