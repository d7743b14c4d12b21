//! The two example apps as the end-to-end tests and the load generator start them: on a free
//! port of 127.0.0.1, until the returned guard is dropped.
#![allow(dead_code)] // each test file uses what it needs

use std::future::Future;

use frontegg_auth::Authenticator;

// The apps are the examples themselves, included as modules; both include the same demo helpers.
#[allow(dead_code)]
#[path = "../../examples/axum_app.rs"]
mod axum_app;

#[allow(dead_code, clippy::duplicate_mod)]
#[path = "../../examples/actix_app.rs"]
mod actix_app;

/// An example app, started on a free port of 127.0.0.1.
pub trait AppUnderTest {
    /// The app's base URL; the app runs until the returned guard is dropped.
    fn start(auth: Authenticator) -> impl Future<Output = (String, Box<dyn Send>)> + Send {
        Self::start_with(move |_| auth)
    }

    /// [`start`](Self::start) with an authenticator made once the base URL is known (the hosted
    /// login's app URL).
    fn start_with(
        auth: impl FnOnce(&str) -> Authenticator + Send,
    ) -> impl Future<Output = (String, Box<dyn Send>)> + Send;
}

pub struct Axum;

impl AppUnderTest for Axum {
    async fn start_with(auth: impl FnOnce(&str) -> Authenticator + Send) -> (String, Box<dyn Send>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(axum_app::serve(auth(&base), listener));
        (base, Box::new(AbortOnDrop(task)))
    }
}

struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub struct Actix;

impl AppUnderTest for Actix {
    async fn start_with(auth: impl FnOnce(&str) -> Authenticator + Send) -> (String, Box<dyn Send>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let auth = auth(&base);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = actix_app::server(auth, listener).unwrap();
                tx.send(server.handle()).unwrap();
                let _ = server.await;
            })
        });
        let handle = rx.recv().unwrap();
        (base, Box::new(StopOnDrop(Some(handle))))
    }
}

struct StopOnDrop(Option<actix_web::dev::ServerHandle>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            drop(handle.stop(false));
        }
    }
}

/// One suite, both apps: `both_apps!(check_a, check_b)` makes the tests `axum::check_a`,
/// `actix::check_a`, ..., each calling `check_a::<Axum>()` (or `Actix`), an async fn of the
/// including test file.
#[allow(unused_macros)] // not every test file runs a suite on both apps
macro_rules! both_apps {
    ($($check:ident),+ $(,)?) => {
        $crate::apps::both_apps!(@app axum, $crate::apps::Axum, $($check),+);
        $crate::apps::both_apps!(@app actix, $crate::apps::Actix, $($check),+);
    };
    (@app $module:ident, $app:ty, $($check:ident),+) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    super::$check::<$app>().await
                }
            )+
        }
    };
}

#[allow(unused_imports)]
pub(crate) use both_apps;
