//! The JSON of the permission model (frontegg-api.md §6). Answers are read leniently: a field
//! Frontegg leaves out takes its default, an unknown field is ignored.

use serde::{Deserialize, Serialize};

/// How a permission is given to new roles (`assignmentType`, and the classification `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum AssignmentType {
    /// Never assigned automatically.
    Never,
    /// Always assigned.
    Always,
    /// Assignable by tenant admins.
    Assignable,
}

/// A permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Permission {
    /// Its id (used by the management API).
    pub id: String,
    /// Its key (what tokens carry).
    pub key: String,
    /// Display name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Creation time, as Frontegg writes it.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time, as Frontegg writes it.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Ids of the roles holding it.
    #[serde(default)]
    pub role_ids: Vec<String>,
    /// Its category.
    #[serde(default)]
    pub category_id: Option<String>,
    /// Whether it is one of Frontegg's own (`fe.*`).
    #[serde(default)]
    pub fe_permission: bool,
}

/// A permission to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewPermission {
    /// Its key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_id: Option<String>,
    /// How it is given to roles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignment_type: Option<AssignmentType>,
}

impl NewPermission {
    /// A permission with a key and a name.
    ///
    /// ```
    /// use frontegg_auth::api::NewPermission;
    /// let p = NewPermission::new("reports.read", "Read reports").description("See every report");
    /// # let _ = p;
    /// ```
    pub fn new(key: impl Into<String>, name: impl Into<String>) -> Self {
        NewPermission {
            key: key.into(),
            name: name.into(),
            description: None,
            category_id: None,
            assignment_type: None,
        }
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Puts it in a category.
    pub fn category(mut self, category_id: impl Into<String>) -> Self {
        self.category_id = Some(category_id.into());
        self
    }

    /// Sets the assignment type.
    pub fn assignment(mut self, assignment: AssignmentType) -> Self {
        self.assignment_type = Some(assignment);
        self
    }
}

/// Changes to a permission; unset fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PermissionUpdate {
    /// New key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// New category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_id: Option<String>,
}

/// A permission category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Category {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Creation time, as Frontegg writes it.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Whether it is one of Frontegg's own.
    #[serde(default)]
    pub fe_category: bool,
}

/// A category to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewCategory {
    /// Its name.
    pub name: String,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// An id of your choosing (Frontegg makes one otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl NewCategory {
    /// A category with a name.
    pub fn new(name: impl Into<String>) -> Self {
        NewCategory { name: name.into(), description: None, id: None }
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Chooses the id.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
}

/// Changes to a category.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CategoryUpdate {
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A role. It lists permission **ids**; tokens carry permission **keys**.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Role {
    /// Its id.
    pub id: String,
    /// Its key (what tokens carry).
    pub key: String,
    /// Display name.
    pub name: String,
    /// The vendor.
    #[serde(default)]
    pub vendor_id: Option<String>,
    /// The tenant, for tenant-specific roles.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Given to new users.
    #[serde(default)]
    pub is_default: bool,
    /// Given to a tenant's first user.
    #[serde(default)]
    pub first_user_role: bool,
    /// Its level in the hierarchy.
    #[serde(default)]
    pub level: Option<i64>,
    /// Creation time, as Frontegg writes it.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time, as Frontegg writes it.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Ids of its permissions.
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// A role to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewRole {
    /// Its key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Its level in the hierarchy.
    pub level: i64,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Given to new users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_default: Option<bool>,
}

impl NewRole {
    /// A role with a key, a name and a level.
    pub fn new(key: impl Into<String>, name: impl Into<String>, level: i64) -> Self {
        NewRole { key: key.into(), name: name.into(), level, description: None, is_default: None }
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Makes it a default role.
    pub fn default_role(mut self, is_default: bool) -> Self {
        self.is_default = Some(is_default);
        self
    }
}

/// Changes to a role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RoleUpdate {
    /// New key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<i64>,
    /// New description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Default or not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_default: Option<bool>,
}

/// Sort direction of a paged list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// A page request of `GET /resources/roles/v2`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RolesQuery {
    /// `_limit`: items per page.
    pub limit: Option<u32>,
    /// `_offset`: the page number Frontegg starts at 0.
    pub offset: Option<u32>,
    /// `_sortBy`: a field name.
    pub sort_by: Option<String>,
    /// `_order`.
    pub order: Option<SortOrder>,
    /// `_filter`: free text matched by Frontegg.
    pub filter: Option<String>,
}

impl RolesQuery {
    pub(crate) fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = page_pairs(self.limit, self.offset, self.sort_by.as_deref(), self.order);
        if let Some(v) = &self.filter {
            out.push(("_filter", v.clone()));
        }
        out
    }
}

/// One page of roles.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RolesPage {
    /// The roles of the page.
    #[serde(default)]
    pub items: Vec<Role>,
    /// Totals.
    #[serde(rename = "_metadata", default)]
    pub metadata: PageMetadata,
}

/// Totals of a page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PageMetadata {
    /// Items over all pages.
    #[serde(default)]
    pub total_items: u64,
    /// Number of pages.
    #[serde(default)]
    pub total_pages: u64,
}

/// `metadata` as Frontegg sends it on users, tenants and groups (the fact sheet's §1.4): most
/// often a JSON-encoded string (`"{\"plan\":\"pro\"}"`), sometimes an object; missing, null or
/// an empty string is no metadata. Anything else (a string that holds no JSON object, a number)
/// is an answer of the wrong shape: an error, never a guess.
pub(crate) fn metadata<'de, D>(deserializer: D) -> Result<serde_json::Map<String, serde_json::Value>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error as _;
    use serde_json::Value;
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(serde_json::Map::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(serde_json::Map::new()),
        Some(Value::String(text)) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(Value::Null) => Ok(serde_json::Map::new()),
            _ => Err(D::Error::custom("metadata is a string that holds no JSON object")),
        },
        Some(_) => Err(D::Error::custom("metadata is neither an object nor a JSON-encoded one")),
    }
}

/// Metadata as Frontegg takes it on users and groups: a JSON-encoded string.
pub(crate) fn metadata_string<S: serde::Serializer>(
    metadata: &Option<serde_json::Map<String, serde_json::Value>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match metadata {
        Some(map) => serializer.serialize_str(&serde_json::Value::Object(map.clone()).to_string()),
        None => serializer.serialize_none(),
    }
}

/// A field Frontegg marks required but sometimes sends as `null` (the fact sheet's §1.4): null
/// reads as the default (`false`, an empty list).
pub(crate) fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// Metadata: a JSON object.
pub type Metadata = serde_json::Map<String, serde_json::Value>;

/// A role as users, groups and role assignments carry it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AssignedRole {
    /// Its id.
    pub id: String,
    /// Its key (what tokens carry).
    pub key: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Ids of its permissions, when Frontegg sends them.
    #[serde(default, deserialize_with = "nullable")]
    pub permissions: Vec<String>,
}

/// A permission as users carry it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AssignedPermission {
    /// Its id.
    pub id: String,
    /// Its key (what tokens carry).
    pub key: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
}

/// Builder methods for optional fields: `field(value)` sets `Some(value.into())`, one per field.
macro_rules! option_setters {
    ($ty:ident { $($(#[$doc:meta])* $field:ident: $t:ty),* $(,)? }) => {
        impl $ty {
            $(
                $(#[$doc])*
                pub fn $field(mut self, value: impl Into<$t>) -> Self {
                    self.$field = Some(value.into());
                    self
                }
            )*
        }
    };
}
pub(crate) use option_setters;

/// The builder methods every page request shares: `limit`, `page` and `sort`.
macro_rules! page_request {
    ($query:ident, $sort:ty) => {
        impl $query {
            /// Items per page (Frontegg's default 50, at most 200).
            pub fn limit(mut self, limit: u32) -> Self {
                self.limit = Some(limit);
                self
            }

            /// The page to read, from 0, sent as `_offset` (a page index).
            pub fn page(mut self, page: u32) -> Self {
                self.page = Some(page);
                self
            }

            /// Sort field and direction.
            pub fn sort(mut self, by: $sort, order: SortOrder) -> Self {
                self.sort_by = Some(by);
                self.order = Some(order);
                self
            }
        }
    };
}
pub(crate) use page_request;

/// The query pairs of a page request: `_limit`, `_offset` (a page index), `_sortBy`, `_order`.
pub(crate) fn page_pairs(
    limit: Option<u32>,
    page: Option<u32>,
    sort_by: Option<&str>,
    order: Option<SortOrder>,
) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(v) = limit {
        out.push(("_limit", v.to_string()));
    }
    if let Some(v) = page {
        out.push(("_offset", v.to_string()));
    }
    if let Some(v) = sort_by {
        out.push(("_sortBy", v.to_owned()));
    }
    if let Some(v) = order {
        out.push(("_order", if v == SortOrder::Asc { "ASC" } else { "DESC" }.to_owned()));
    }
    out
}

#[cfg(test)]
mod metadata_tests {
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Holder {
        #[serde(default, deserialize_with = "super::metadata")]
        metadata: serde_json::Map<String, serde_json::Value>,
    }

    fn read(body: serde_json::Value) -> Result<serde_json::Map<String, serde_json::Value>, serde_json::Error> {
        serde_json::from_value::<Holder>(body).map(|h| h.metadata)
    }

    #[test]
    fn metadata_as_a_string_or_an_object() {
        let expected = json!({"plan": "pro"}).as_object().cloned().unwrap();
        assert_eq!(read(json!({"metadata": "{\"plan\":\"pro\"}"})).unwrap(), expected);
        assert_eq!(read(json!({"metadata": {"plan": "pro"}})).unwrap(), expected);
        for none in [json!({}), json!({"metadata": null}), json!({"metadata": ""}), json!({"metadata": "null"})] {
            assert!(read(none.clone()).unwrap().is_empty(), "{none}");
        }
        for bad in [json!({"metadata": "not json"}), json!({"metadata": "[1]"}), json!({"metadata": 3})] {
            assert!(read(bad.clone()).is_err(), "{bad}");
        }
    }
}

impl PermissionUpdate {
    /// No change yet: add the fields to change.
    ///
    /// ```
    /// use frontegg_auth::api::PermissionUpdate;
    /// let update = PermissionUpdate::new().description("Create and edit reports");
    /// # let _ = update;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }
}

option_setters!(PermissionUpdate {
    /// New key.
    key: String,
    /// New name.
    name: String,
    /// New description.
    description: String,
    /// New category.
    category_id: String,
});

impl CategoryUpdate {
    /// No change yet: add the fields to change.
    pub fn new() -> Self {
        Self::default()
    }
}

option_setters!(CategoryUpdate {
    /// New name.
    name: String,
    /// New description.
    description: String,
});

impl RoleUpdate {
    /// No change yet: add the fields to change.
    pub fn new() -> Self {
        Self::default()
    }
}

option_setters!(RoleUpdate {
    /// New key.
    key: String,
    /// New name.
    name: String,
    /// New level.
    level: i64,
    /// New description.
    description: String,
    /// Default or not.
    is_default: bool,
});

option_setters!(RolesQuery {
    /// Items per page.
    limit: u32,
    /// The page, from 0.
    offset: u32,
    /// Sort field.
    sort_by: String,
    /// Sort direction.
    order: SortOrder,
    /// Free text matched by Frontegg.
    filter: String,
});
