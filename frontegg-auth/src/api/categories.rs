use http::Method;

use super::error::ApiError;
use super::gateway::{ApiRequest, Gateway};
use crate::telemetry::ApiClient;

const CLIENT: ApiClient = ApiClient::Categories;
use super::models::{Category, CategoryUpdate, NewCategory};

const BASE: &str = "/identity/resources/permissions/v1/categories";

/// Permission categories: `{gateway}/identity/resources/permissions/v1/categories`. From
/// [`FronteggClient::categories`](super::FronteggClient::categories).
///
/// ```no_run
/// use frontegg_auth::Config;
/// use frontegg_auth::api::{FronteggClient, NewCategory};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = FronteggClient::new(&Config::from_env()?)?;
/// let category = client.categories().create(NewCategory::new("Reports")).await?;
/// client.categories().delete(&category.id).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Categories<'a> {
    gateway: &'a Gateway,
}

impl<'a> Categories<'a> {
    pub(crate) fn new(gateway: &'a Gateway) -> Self {
        Categories { gateway }
    }

    /// Every category.
    pub async fn list(&self) -> Result<Vec<Category>, ApiError> {
        self.gateway.json(ApiRequest::of(CLIENT, Method::GET, self.gateway.url(BASE, &[])?)).await
    }

    /// Creates a category.
    pub async fn create(&self, category: NewCategory) -> Result<Category, ApiError> {
        self.gateway.json(ApiRequest::of(CLIENT, Method::POST, self.gateway.url(BASE, &[])?).json(&category)?).await
    }

    /// Changes a category.
    pub async fn update(&self, category_id: &str, update: &CategoryUpdate) -> Result<(), ApiError> {
        let url = self.gateway.url(BASE, &[category_id])?;
        self.gateway.no_content(ApiRequest::of(CLIENT, Method::PATCH, url).json(update)?).await
    }

    /// Deletes a category.
    pub async fn delete(&self, category_id: &str) -> Result<(), ApiError> {
        self.gateway.no_content(ApiRequest::of(CLIENT, Method::DELETE, self.gateway.url(BASE, &[category_id])?)).await
    }
}
