//! The entitlements snapshot: parsed, then every rule evaluated for a few callers.
#![no_main]

use std::time::{Duration, SystemTime};

use frontegg_auth::entitlements::{Attributes, Snapshot, Subject};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(snapshot) = Snapshot::parse(data) else { return };
    let permissions = vec!["exports.read".to_owned(), "reports.*".to_owned()];
    let attributes = Attributes::default();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    for tenant_id in [None, Some("tenant-1"), Some("tenant-2")] {
        let subject = Subject {
            tenant_id,
            user_id: Some("user-1"),
            permissions: &permissions,
            wildcards: true,
            attributes: &attributes,
        };
        for key in ["beta-dashboard", "exports", "f-beta", ""] {
            let _ = snapshot.feature(key, &subject, now);
        }
        for key in ["exports.read", "reports.read", "x"] {
            let _ = snapshot.permission(key, &subject, now);
        }
    }
});
