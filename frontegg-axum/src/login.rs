//! The hosted login's routes for axum: [`login_router`].

use axum::Router;
use axum::body::Body;
use axum::extract::{OriginalUri, Request};
use axum::response::Response;
use axum::routing::get;
use frontegg_auth::{Authenticator, HostedLogin, Refusal};

/// The hosted login's three routes, `/login`, `/callback` and `/logout`, to nest at the prefix
/// of its settings (default `/auth`, `FRONTEGG_LOGIN_ROUTES`), outside the authentication
/// layers (the routes are public). Each answers as the core's [`HostedLogin`] decides.
///
/// Nested anywhere else, the callback would not be where Frontegg sends the browser (the
/// redirect URI is `{app URL}{prefix}/callback`): every route then answers 500, naming the
/// prefix to nest at. Without the hosted login configured, every route answers 500 too.
///
/// Pages meant for browsers send anonymous visitors to the login with
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
/// Router::new().merge(pages).nest("/auth", login_router(&auth))
/// # }
/// ```
pub fn login_router<S: Clone + Send + Sync + 'static>(auth: &Authenticator) -> Router<S> {
    let login = auth.hosted_login().cloned();
    Router::new()
        .route("/login", get(move_to(login.clone(), Step::Login)))
        .route("/callback", get(move_to(login.clone(), Step::Callback)))
        .route("/logout", get(move_to(login, Step::Logout)))
}

#[derive(Clone, Copy)]
enum Step {
    Login,
    Callback,
    Logout,
}

/// The handler of one route.
fn move_to(
    login: Option<HostedLogin>,
    step: Step,
) -> impl Fn(OriginalUri, Request) -> std::pin::Pin<Box<dyn Future<Output = Response> + Send>> + Clone {
    move |OriginalUri(uri), request| {
        let login = login.clone();
        Box::pin(async move {
            let Some(login) = login else {
                return misconfigured(
                    "The hosted login is not configured: ConfigBuilder::hosted_login or FRONTEGG_APP_URL".to_owned(),
                );
            };
            let settings = login.settings();
            let expected = match step {
                Step::Login => settings.login_path(),
                Step::Callback => settings.callback_path(),
                Step::Logout => settings.logout_path(),
            };
            if uri.path() != expected {
                return misconfigured(format!(
                    "frontegg_axum::login_router is nested at the wrong prefix: nest it at {:?}, the prefix of the \
                     hosted login's settings (the redirect URI Frontegg knows is {})",
                    settings.routes(),
                    settings.redirect_uri()
                ));
            }
            let (parts, _) = request.into_parts();
            match step {
                Step::Login => login.login(&parts).to_response(),
                Step::Callback => login.callback(&parts).await.to_response(),
                Step::Logout => login.logout(&parts).await.to_response(),
            }
        })
    }
}

fn misconfigured(description: String) -> Response {
    Refusal::misconfigured(description).to_response::<Body>()
}
