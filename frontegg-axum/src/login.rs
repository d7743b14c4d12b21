//! The hosted login's routes for axum: [`login_router`].

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use axum::routing::get;
use frontegg_auth::{Authenticator, HostedLogin, Refusal};

/// The hosted login's three routes, at the paths of its settings (default `/auth/login`,
/// `/auth/callback`, `/auth/logout`): merge the router into the app's, outside the
/// authentication layers (the routes are public). Each route answers as the core's
/// [`HostedLogin`] decides, so the paths always agree with the redirect URI Frontegg knows.
///
/// Without the hosted login configured, every route answers 500, naming the misconfiguration.
///
/// Routes meant for browsers send anonymous visitors to the login with
/// `authenticate(auth).redirect_to_login()`.
///
/// ```
/// use axum::{Router, routing::get};
/// use frontegg_axum::{Authenticator, Identity, authenticate, login_router};
///
/// async fn page(identity: Identity) -> String {
///     format!("hello {}", identity.sub())
/// }
///
/// # fn demo(auth: Authenticator) -> Router {
/// let pages = Router::new().route("/app", get(page)).layer(authenticate(auth.clone()).redirect_to_login());
/// Router::new().merge(pages).merge(login_router(&auth))
/// # }
/// ```
pub fn login_router<S: Clone + Send + Sync + 'static>(auth: &Authenticator) -> Router<S> {
    let Some(login) = auth.hosted_login().cloned() else {
        let misconfigured = || async {
            Refusal::misconfigured(
                "The hosted login is not configured: ConfigBuilder::hosted_login or FRONTEGG_APP_URL",
            )
            .to_response::<Body>()
        };
        return Router::new()
            .route("/auth/login", get(misconfigured))
            .route("/auth/callback", get(misconfigured))
            .route("/auth/logout", get(misconfigured));
    };
    let settings = login.settings();
    let (start, back, end) = (login.clone(), login.clone(), login.clone());
    Router::new()
        .route(
            &settings.login_path(),
            get(move |request: Request| async move { start.login(&request).to_response::<Body>() }),
        )
        .route(&settings.callback_path(), get(move |request: Request| answer(back, request, Step::Callback)))
        .route(&settings.logout_path(), get(move |request: Request| answer(end, request, Step::Logout)))
}

enum Step {
    Callback,
    Logout,
}

async fn answer(login: HostedLogin, request: Request, step: Step) -> Response {
    let (parts, _) = request.into_parts();
    match step {
        Step::Callback => login.callback(&parts).await.to_response(),
        Step::Logout => login.logout(&parts).await.to_response(),
    }
}
