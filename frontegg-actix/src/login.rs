//! The hosted login's routes for actix-web: [`login_scope`].

use actix_web::{HttpRequest, HttpResponse, Scope, web};
use frontegg_auth::{Authenticator, HostedLogin, LoginAnswer, Refusal};

use crate::authentication::Head;
use crate::rejection::{render, render_parts};

/// The hosted login's three routes as a scope at the prefix of its settings (default `/auth`:
/// `/auth/login`, `/auth/callback`, `/auth/logout`): register it on the App, outside the
/// authentication middleware (the routes are public). Each route answers as the core's
/// [`HostedLogin`] decides, so the paths always agree with the redirect URI Frontegg knows.
///
/// Without the hosted login configured, every route answers 500, naming the misconfiguration.
///
/// Pages meant for browsers send anonymous visitors to the login with
/// `authenticate(auth).redirect_to_login()`.
///
/// ```
/// use actix_web::{App, web};
/// use frontegg_actix::{Authenticator, Identity, authenticate, login_scope};
///
/// async fn page(identity: Identity) -> String {
///     format!("hello {}", identity.sub())
/// }
///
/// # fn demo(auth: Authenticator) {
/// let app = App::new()
///     .service(login_scope(&auth))
///     .service(web::resource("/app").route(web::get().to(page)).wrap(authenticate(auth).redirect_to_login()));
/// # let _ = app;
/// # }
/// ```
pub fn login_scope(auth: &Authenticator) -> Scope {
    let Some(login) = auth.hosted_login().cloned() else {
        return web::scope("/auth").default_service(web::to(|| async {
            render(&Refusal::misconfigured(
                "The hosted login is not configured: ConfigBuilder::hosted_login or FRONTEGG_APP_URL",
            ))
        }));
    };
    web::scope(login.settings().routes())
        .app_data(web::Data::new(login))
        .route("/login", web::get().to(start))
        .route("/callback", web::get().to(callback))
        .route("/logout", web::get().to(logout))
}

fn rendered(answer: &LoginAnswer) -> HttpResponse {
    render_parts(answer.status(), answer.headers(), answer.body().clone())
}

async fn start(login: web::Data<HostedLogin>, request: HttpRequest) -> HttpResponse {
    rendered(&login.login(&Head(request.head())))
}

async fn callback(login: web::Data<HostedLogin>, request: HttpRequest) -> HttpResponse {
    rendered(&login.callback(&Head(request.head())).await)
}

async fn logout(login: web::Data<HostedLogin>, request: HttpRequest) -> HttpResponse {
    rendered(&login.logout(&Head(request.head())).await)
}
