//! The browser harness itself, proved against a two-page site served on 127.0.0.1: a link, a
//! cookie set HttpOnly by the server, a script's fetch that needs the cookie, and two browsers
//! at once that share nothing and leave no process behind.

use std::path::Path;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::get;

mod browser;

use browser::Browser;

const FIRST: &str = r#"<!doctype html>
<title>first</title>
<a id="next" href="/second">next</a>
<button id="call" onclick="fetch('/api').then(r => { document.getElementById('status').textContent = r.status; })">call</button>
<p id="status">none</p>
"#;

const SECOND: &str = r#"<!doctype html>
<title>second</title>
<p id="message">second page</p>
"#;

/// `/api` answers 200 only to a request carrying the cookie that `/second` sets.
async fn api(headers: HeaderMap) -> StatusCode {
    let has_cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .any(|pair| pair.trim() == "harness=on");
    if has_cookie { StatusCode::OK } else { StatusCode::UNAUTHORIZED }
}

struct Site {
    base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Site {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn site() -> Site {
    let app = Router::new()
        .route("/", get(|| async { Html(FIRST) }))
        .route(
            "/second",
            get(|| async {
                ([(header::SET_COOKIE, "harness=on; Path=/; HttpOnly; SameSite=Lax")], Html(SECOND)).into_response()
            }),
        )
        .route("/api", get(api));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Site { base, task }
}

/// The processes whose command line names `dir` (Chromium's, through its --user-data-dir).
fn processes_naming(dir: &Path) -> Vec<String> {
    let needle = dir.to_str().unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| std::fs::read(entry.ok()?.path().join("cmdline")).ok())
        .map(|cmdline| String::from_utf8_lossy(&cmdline).replace('\0', " "))
        .filter(|cmdline| cmdline.contains(needle))
        .collect()
}

/// Drops `browser` and asserts that nothing of it is left: no process, no folder.
fn end(browser: Browser) {
    let dir = browser.dir().to_path_buf();
    assert!(!processes_naming(&dir).is_empty(), "Chromium runs with its profile under {}", dir.display());
    drop(browser);
    // Chromium's helpers exit just after the browser process; give them a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_naming(&dir).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(processes_naming(&dir), Vec::<String>::new(), "processes left after the browser was dropped");
    assert!(!dir.exists(), "{} was not removed", dir.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_cookie_and_fetch() {
    let site = site().await;
    let base = &site.base;
    let b = Browser::start().await;

    b.goto(&format!("{base}/")).await;
    assert_eq!(b.current_url().await, format!("{base}/"));
    assert!(b.cookies().await.is_empty(), "a fresh profile has no cookie");

    b.click("#next").await;
    b.wait_for_url("/second", |url| url == format!("{base}/second")).await;
    assert_eq!(b.text("#message").await, "second page");
    let cookies = b.cookies().await;
    let cookie = cookies.iter().find(|c| c.name() == "harness").expect("the cookie set by /second");
    assert_eq!(cookie.value(), "on");
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.path(), Some("/"));
    assert_eq!(cookie.same_site().map(|s| s.to_string()).as_deref(), Some("Lax"));
    assert!(b.source().await.contains("second page"));

    b.back().await;
    b.wait_for_url("/", |url| url == format!("{base}/")).await;
    b.click("#call").await;
    b.wait_for_text("#status", "200").await;

    // Without the cookie the same fetch is refused, and a reload starts the page over.
    b.delete_all_cookies().await;
    assert!(b.cookies().await.is_empty());
    b.click("#call").await;
    b.wait_for_text("#status", "401").await;
    b.refresh().await;
    b.wait_for_text("#status", "none").await;

    end(b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_browsers_share_nothing() {
    let site = site().await;
    let base = &site.base;
    let (a, b) = tokio::join!(Browser::start(), Browser::start());
    assert_ne!(a.dir(), b.dir());

    a.goto(&format!("{base}/second")).await;
    assert_eq!(a.text("#message").await, "second page");
    b.goto(&format!("{base}/")).await;
    assert!(b.cookies().await.is_empty(), "b sees a's cookie");
    b.click("#call").await;
    b.wait_for_text("#status", "401").await;

    a.goto(&format!("{base}/")).await;
    a.click("#call").await;
    a.wait_for_text("#status", "200").await;

    // Ending one leaves the other working.
    end(a);
    b.refresh().await;
    b.click("#next").await;
    b.wait_for_url("/second", |url| url.ends_with("/second")).await;
    assert_eq!(b.cookies().await.len(), 1);
    end(b);
}
