//! Requirements at the type level, shared by the adapters' `Require<R>` extractors.
//!
//! A small declarative macro names a permission or a role as a type; tuples and [`AllOf`] mean
//! all of them, [`AnyOf`] any one of them:
//!
//! ```
//! use frontegg_auth::markers::{AllOf, AnyOf, RequirementMarker};
//! use frontegg_auth::{permission, role, Requirement};
//!
//! permission!(pub ReadReports = "reports.read");
//! permission!(pub WriteReports = "reports.write");
//! role!(pub Admin = "admin");
//! role!(pub Owner = "owner");
//!
//! assert_eq!(ReadReports::requirement(), Requirement::permission("reports.read"));
//! assert_eq!(
//!     <(ReadReports, WriteReports)>::requirement(),
//!     Requirement::all_of([Requirement::permission("reports.read"), Requirement::permission("reports.write")])
//! );
//! assert_eq!(
//!     AnyOf::<(Admin, Owner)>::requirement(),
//!     Requirement::any_of([Requirement::role("admin"), Requirement::role("owner")])
//! );
//! # let _ = AllOf::<(ReadReports, Admin)>::requirement();
//! ```

use std::marker::PhantomData;

use crate::requirement::Requirement;

/// A type that stands for a [`Requirement`]. Made by [`permission!`](crate::permission) and
/// [`role!`](crate::role), and combined with tuples, [`AllOf`] and [`AnyOf`].
pub trait RequirementMarker: Send + Sync + 'static {
    /// The requirement.
    fn requirement() -> Requirement;
}

/// A login that passed multi-factor authentication: [`Requirement::step_up`].
///
/// ```
/// use frontegg_auth::markers::{RequirementMarker, SteppedUp, SteppedUpWithin};
/// use frontegg_auth::Requirement;
/// assert_eq!(SteppedUp::requirement(), Requirement::step_up());
/// // Within the last five minutes.
/// assert_eq!(
///     SteppedUpWithin::<300>::requirement(),
///     Requirement::step_up_within(std::time::Duration::from_secs(300))
/// );
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SteppedUp;

impl RequirementMarker for SteppedUp {
    fn requirement() -> Requirement {
        Requirement::step_up()
    }
}

/// A login that passed multi-factor authentication at most `SECONDS` ago:
/// [`Requirement::step_up_within`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SteppedUpWithin<const SECONDS: u64>;

impl<const SECONDS: u64> RequirementMarker for SteppedUpWithin<SECONDS> {
    fn requirement() -> Requirement {
        Requirement::step_up_within(std::time::Duration::from_secs(SECONDS))
    }
}

/// A tuple of markers, for [`AllOf`] and [`AnyOf`].
pub trait MarkerList: Send + Sync + 'static {
    /// The requirements, in order.
    fn requirements() -> Vec<Requirement>;
}

/// All of the markers of the tuple `T` (a bare tuple means the same).
pub struct AllOf<T>(PhantomData<fn() -> T>);

/// Any one of the markers of the tuple `T`.
pub struct AnyOf<T>(PhantomData<fn() -> T>);

impl<T: MarkerList> RequirementMarker for AllOf<T> {
    fn requirement() -> Requirement {
        Requirement::all_of(T::requirements())
    }
}

impl<T: MarkerList> RequirementMarker for AnyOf<T> {
    fn requirement() -> Requirement {
        Requirement::any_of(T::requirements())
    }
}

macro_rules! tuples {
    ($($name:ident),+) => {
        impl<$($name: RequirementMarker),+> MarkerList for ($($name,)+) {
            fn requirements() -> Vec<Requirement> {
                vec![$($name::requirement()),+]
            }
        }

        impl<$($name: RequirementMarker),+> RequirementMarker for ($($name,)+) {
            fn requirement() -> Requirement {
                Requirement::all_of(<Self as MarkerList>::requirements())
            }
        }
    };
}

tuples!(A);
tuples!(A, B);
tuples!(A, B, C);
tuples!(A, B, C, D);
tuples!(A, B, C, D, E);
tuples!(A, B, C, D, E, F);
tuples!(A, B, C, D, E, F, G);
tuples!(A, B, C, D, E, F, G, H);

/// Defines a marker type for a permission key: `permission!(pub ReadReports = "reports.read");`.
///
/// ```
/// frontegg_auth::permission!(
///     /// May read reports.
///     pub ReadReports = "reports.read"
/// );
/// ```
#[macro_export]
macro_rules! permission {
    ($(#[$meta:meta])* $vis:vis $name:ident = $key:literal) => {
        $crate::__requirement_marker!(permission, $(#[$meta])* $vis $name = $key);
    };
}

/// Defines a marker type for a role key: `role!(pub Admin = "admin");`.
///
/// ```
/// frontegg_auth::role!(
///     /// Administrators.
///     pub Admin = "admin"
/// );
/// ```
#[macro_export]
macro_rules! role {
    ($(#[$meta:meta])* $vis:vis $name:ident = $key:literal) => {
        $crate::__requirement_marker!(role, $(#[$meta])* $vis $name = $key);
    };
}

/// Defines a marker type for an entitlement to a feature: `entitled!(pub Beta = "beta-dashboard");`
/// ([`Requirement::entitled`](crate::Requirement::entitled)).
///
/// ```
/// frontegg_auth::entitled!(
///     /// The beta dashboard's plan.
///     pub BetaDashboard = "beta-dashboard"
/// );
/// ```
#[macro_export]
macro_rules! entitled {
    ($(#[$meta:meta])* $vis:vis $name:ident = $key:literal) => {
        $crate::__requirement_marker!(entitled, $(#[$meta])* $vis $name = $key);
    };
}

/// Defines a marker type for a permission the caller holds *and* is entitled to:
/// `entitled_permission!(pub Exports = "exports.read");`
/// ([`Requirement::entitled_permission`](crate::Requirement::entitled_permission)).
///
/// ```
/// frontegg_auth::entitled_permission!(
///     /// Exports, in the plans that include them.
///     pub ReadExports = "exports.read"
/// );
/// ```
#[macro_export]
macro_rules! entitled_permission {
    ($(#[$meta:meta])* $vis:vis $name:ident = $key:literal) => {
        $crate::__requirement_marker!(entitled_permission, $(#[$meta])* $vis $name = $key);
    };
}

/// What [`permission!`](crate::permission) and [`role!`](crate::role) expand to.
#[doc(hidden)]
#[macro_export]
macro_rules! __requirement_marker {
    ($constructor:ident, $(#[$meta:meta])* $vis:vis $name:ident = $key:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default)]
        $vis struct $name;

        impl $crate::markers::RequirementMarker for $name {
            fn requirement() -> $crate::Requirement {
                $crate::Requirement::$constructor($key)
            }
        }
    };
}
