//! The management API's knobs on [`Emulator`]: apart from the handlers, which need nothing of
//! the emulator but its [`DirectoryHost`] side.

use std::time::Duration;

use super::directory::{DirectoryHost, IdsParameter, MetadataReading, OffsetReading};
use super::emulator::Emulator;

/// The management API's knobs.
impl Emulator {
    /// How tenants' `metadata` is served from now on: a JSON-encoded string (the default, as
    /// Frontegg's own clients see it) or an object (as one community client models it), so
    /// that a client can be tested to read both.
    pub fn set_tenant_metadata_reading(&self, reading: MetadataReading) {
        self.shared.directory().metadata_reading = reading;
    }

    /// What `_offset` of `GET /tenants/resources/tenants/v2` counts from now on: pages (the
    /// default) or records. Frontegg's own documents leave it unconfirmed, so a client can be
    /// tested against both.
    pub fn set_tenant_offset_reading(&self, reading: OffsetReading) {
        self.shared.directory().offset_reading = reading;
    }

    /// The name of the id filter of `GET /identity/resources/users/v3` from now on: `ids` (the
    /// default, as the published OpenAPI has it) or `_ids`. The other name is ignored, as
    /// Frontegg ignores unknown parameters: a client sending the wrong one gets every user.
    pub fn set_user_ids_parameter(&self, parameter: IdsParameter) {
        self.shared.directory().ids_parameter = parameter;
    }

    /// When `Some`, every management call (users, tenants, tokens, sessions, invitations,
    /// groups; not the permission model, not the lookups, not the token exchange) without the
    /// header `frontegg-application-id` of this value answers 403 `ER-00008`, as Frontegg does
    /// in multi-app environments. `None` (the default) requires nothing. Unrelated to
    /// [`set_application_id`](Self::set_application_id), which is the hosted login's.
    pub fn require_application_id(&self, application_id: Option<&str>) {
        self.shared.directory().application_id = application_id.map(str::to_owned);
    }

    /// The next `calls` role changes (`POST` or `DELETE .../users/v1/{id}/roles`) answer 500
    /// and change nothing: partial failures of a multi-call role update.
    pub fn fail_role_changes(&self, calls: usize) {
        self.fail_role_changes_after(0, calls);
    }

    /// The next `passing` role changes succeed, then `calls` answer 500 (the second call of a
    /// multi-call role update fails).
    pub fn fail_role_changes_after(&self, passing: usize, calls: usize) {
        let mut d = self.shared.directory();
        d.passing_role_changes = passing;
        d.failing_role_changes = calls;
    }

    /// `expires_in` of the token exchange (`auth/v1|v2/api-token`), and `exp - iat` of the
    /// JWTs it issues from now on (default 600 s).
    pub fn set_api_token_lifetime(&self, lifetime: Duration) {
        self.shared.directory().api_token_lifetime = lifetime;
    }

    /// Opens a session of `user_id` in `tenant_id`, as a login would, for
    /// `/identity/resources/users/sessions/v1/me`; returns its id (a UUID). Neither id is
    /// checked.
    pub fn add_user_session(&self, user_id: &str, tenant_id: &str) -> String {
        self.shared.directory().add_session(user_id, tenant_id)
    }

    /// The ids of the management API's tenants, in creation order.
    pub fn directory_tenant_ids(&self) -> Vec<String> {
        self.shared.directory().tenant_ids()
    }

    /// The ids of the management API's users, in creation order (not the users of
    /// [`add_user`](Self::add_user) or [`add_login_user`](Self::add_login_user)).
    pub fn directory_user_ids(&self) -> Vec<String> {
        self.shared.directory().user_ids()
    }
}
