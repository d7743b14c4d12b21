//! Frontegg entitlements (plans, features, feature flags), evaluated locally against the vendor
//! snapshot: its parsing ([`Snapshot::parse`]), its evaluation ([`Snapshot::feature`],
//! [`Snapshot::permission`]), both pure, and the [`EntitlementsStore`] that loads it once and
//! polls its offset.
//!
//! Where Frontegg's Node SDK has a defect, this does what is right:
//!
//! - grants of several plans that hold one feature are combined (any grant without expiry wins,
//!   else the latest expiry), where Node lets the last plan overwrite the others;
//! - a condition on a missing attribute, an attribute of the wrong type, an unknown operator or
//!   a value of the wrong shape is false, whatever `negate` says (Node throws on wrong types);
//! - a `matches` pattern that the `regex` crate cannot compile (JavaScript-only syntax), or that
//!   compiles too large, is never true.
//!
//! Like Frontegg's SDKs, a plan whose default treatment is `"true"` entitles everyone to its
//! features (whether Frontegg's server means that is unconfirmed).
//!
//! ```
//! use std::time::SystemTime;
//! use frontegg_auth::entitlements::{Attributes, Justification, Snapshot, Subject};
//!
//! let snapshot = Snapshot::parse(br#"{"snapshotOffset": 3, "data": {
//!     "features": [["f-1", "beta-dashboard", ["exports.read"]]],
//!     "featureBundles": [["b-1", ["f-1"], "false", []]],
//!     "entitlements": [["b-1", "t-1", null, null]],
//!     "featureFlags": []
//! }}"#)?;
//! let attributes = Attributes::default();
//! let permissions = ["exports.read".to_owned()];
//! let subject = Subject {
//!     tenant_id: Some("t-1"),
//!     user_id: Some("u-1"),
//!     permissions: &permissions,
//!     wildcards: true,
//!     attributes: &attributes,
//! };
//! assert_eq!(snapshot.feature("beta-dashboard", &subject, SystemTime::now()), Ok(()));
//! assert_eq!(snapshot.permission("exports.write", &subject, SystemTime::now()), Err(Justification::MissingPermission));
//! # Ok::<(), frontegg_auth::entitlements::SnapshotError>(())
//! ```

mod evaluate;
mod snapshot;
mod store;

pub use evaluate::{Attributes, Entitlement, Justification, Subject, Verdict};
pub use snapshot::{Snapshot, SnapshotError};
pub(crate) use store::StoreSettings;
pub use store::{EntitlementsError, EntitlementsStore};

#[cfg(test)]
mod tests;
