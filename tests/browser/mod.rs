//! A real headless Chromium for the tests, driven over WebDriver: Debian's `chromedriver` on a
//! free port of 127.0.0.1, one fresh profile per browser, everything ended when it is dropped.
//!
//! `tests/run` installs the two Debian packages (`chromium`, `chromium-driver`); without them a
//! test fails, it never skips. Every method panics with the current URL and an excerpt of the
//! page when it cannot do its work, and every wait is bounded.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

pub use fantoccini::cookies::Cookie;

/// How long chromedriver may take to start and answer ready.
const DRIVER_START: Duration = Duration::from_secs(20);
/// How long a wait for an element, a text or a URL may take.
const WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);

/// A headless Chromium with its own chromedriver and profile.
pub struct Browser {
    client: Client,
    session: String,
    port: u16,
    // Dropped in this order, after `Browser::drop` ended the session: the processes, then the folder.
    driver: Driver,
    dir: TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port of 127.0.0.1 and opens a session of a headless
    /// Chromium with a fresh profile. Panics when either program is missing or does not start.
    pub async fn start() -> Browser {
        let chromedriver = on_path("chromedriver", "chromium-driver");
        let chromium = chromium_binary();
        let dir = TempDir::fresh();
        let log_path = dir.0.join("chromedriver.log");
        let log = std::fs::File::create(&log_path).unwrap();
        // --port=0: chromedriver picks a free port and prints it, so two browsers never race for one.
        // Chromium's crash reporter writes under XDG_CONFIG_HOME: kept in the folder too.
        let mut driver = Driver(
            Command::new(&chromedriver)
                .arg("--port=0")
                .env("XDG_CONFIG_HOME", dir.0.join("config"))
                .process_group(0)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display())),
        );

        let deadline = Instant::now() + DRIVER_START;
        let port = loop {
            let output = std::fs::read_to_string(&log_path).unwrap_or_default();
            let port = output
                .lines()
                .find_map(|line| line.strip_prefix("ChromeDriver was started successfully on port "))
                .and_then(|rest| rest.trim_end_matches('.').parse::<u16>().ok());
            if let Some(port) = port
                && driver_ready(port)
            {
                break port;
            }
            if let Some(status) = driver.0.try_wait().unwrap() {
                panic!("chromedriver exited ({status}) before it was ready; its output:\n{output}");
            }
            if Instant::now() > deadline {
                panic!("chromedriver was not ready within {DRIVER_START:?}; its output:\n{output}");
            }
            tokio::time::sleep(POLL).await;
        };

        let profile = dir.0.join("profile");
        let capabilities = json!({
            "browserName": "chrome",
            "timeouts": { "pageLoad": 20_000, "script": 10_000 },
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new",
                    // Chromium's sandbox refuses to run as root, which the tests and CI are.
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--no-first-run",
                    "--disable-extensions",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        });
        let Value::Object(capabilities) = capabilities else { unreachable!() };
        let connected = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await;
        let client = match connected {
            Ok(client) => client,
            Err(e) => {
                let output = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("chromedriver could not open a Chromium session: {e}; its output:\n{output}");
            }
        };
        let session = client.session_id().await.unwrap().expect("a session id");
        Browser { client, session, port, driver, dir }
    }

    /// The WebDriver client, for what this harness does not wrap.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    pub async fn current_url(&self) -> String {
        self.client.current_url().await.expect("the current URL").to_string()
    }

    pub async fn back(&self) {
        self.client.back().await.expect("back");
    }

    pub async fn refresh(&self) {
        self.client.refresh().await.expect("refresh");
    }

    /// The page's source as the browser has it now (after scripts ran).
    pub async fn source(&self) -> String {
        self.client.source().await.expect("the page source")
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn wait_for(&self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.client.find(Locator::Css(css)).await {
                Ok(element) => return element,
                Err(e) if is_missing(&e) => {}
                Err(e) => panic!("cannot look for `{css}`: {e}"),
            }
            if Instant::now() > deadline {
                self.fail(&format!("no element `{css}` within {WAIT:?}")).await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the element matching `css` has exactly `text` as its visible text.
    pub async fn wait_for_text(&self, css: &str, text: &str) {
        let deadline = Instant::now() + WAIT;
        let mut last = String::new();
        loop {
            match self.client.find(Locator::Css(css)).await {
                Ok(element) => match element.text().await {
                    Ok(now) if now == text => return,
                    Ok(now) => last = now,
                    Err(e) if is_missing(&e) => {}
                    Err(e) => panic!("cannot read the text of `{css}`: {e}"),
                },
                Err(e) if is_missing(&e) => {}
                Err(e) => panic!("cannot look for `{css}`: {e}"),
            }
            if Instant::now() > deadline {
                self.fail(&format!("`{css}` did not read {text:?} within {WAIT:?} (last: {last:?})")).await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the current URL satisfies `matches`; returns it.
    pub async fn wait_for_url(&self, what: &str, matches: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let url = self.current_url().await;
            if matches(&url) {
                return url;
            }
            if Instant::now() > deadline {
                self.fail(&format!("the URL did not become {what} within {WAIT:?}")).await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Clicks the element matching `css`, waiting for it to appear.
    pub async fn click(&self, css: &str) {
        let element = self.wait_for(css).await;
        element.click().await.unwrap_or_else(|e| panic!("cannot click `{css}`: {e}"));
    }

    /// The visible text of the element matching `css`, waiting for it to appear.
    pub async fn text(&self, css: &str) -> String {
        let element = self.wait_for(css).await;
        element.text().await.unwrap_or_else(|e| panic!("cannot read the text of `{css}`: {e}"))
    }

    /// The cookies the browser holds for the current page, with their flags (`http_only()`,
    /// `secure()`, `same_site()`, `path()`), as the WebDriver cookie API reports them.
    pub async fn cookies(&self) -> Vec<Cookie<'static>> {
        self.client.get_all_cookies().await.expect("the cookies")
    }

    /// Deletes the cookies of the current page's domain.
    pub async fn delete_all_cookies(&self) {
        self.client.delete_all_cookies().await.expect("delete the cookies");
    }

    /// The folder holding this browser's profile and chromedriver's log; removed on drop.
    pub fn dir(&self) -> &Path {
        &self.dir.0
    }

    async fn fail(&self, what: &str) -> ! {
        let url = self.client.current_url().await.map(|u| u.to_string()).unwrap_or_else(|e| format!("({e})"));
        let source = self.client.source().await.unwrap_or_else(|e| format!("({e})"));
        let excerpt: String = source.chars().take(2000).collect();
        panic!("{what}\ncurrent URL: {url}\npage source (first 2000 characters):\n{excerpt}");
    }
}

impl Drop for Browser {
    /// Ends the session, so that chromedriver quits Chromium; synchronous, so that it also runs
    /// when a test panics. The fields' own drops then kill what is left and remove the folder.
    fn drop(&mut self) {
        let _ = http_request(self.port, "DELETE", &format!("/session/{}", self.session), Duration::from_secs(5));
    }
}

/// chromedriver, leading a process group of its own that the Chromium it starts joins (all but
/// the crash handlers, which exit with it): the whole group is killed on drop, so nothing of a
/// browser survives it, even when its session could not be ended or `start` did not finish.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let group = -(self.0.id() as libc::pid_t);
        // SAFETY: kill(2) with a negative pid signals that process group and touches no memory.
        unsafe { libc::kill(group, libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

/// A new empty folder of its own under the temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn fresh() -> TempDir {
        static COUNT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let dir = std::env::temp_dir().join(format!(
            "frontegg-browser-{}-{}-{nanos}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // A killed Chromium's last helpers may still be closing files of the profile.
        for _ in 0..20 {
            if std::fs::remove_dir_all(&self.0).is_ok() || !self.0.exists() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn is_missing(e: &CmdError) -> bool {
    matches!(
        e,
        CmdError::Standard(w) if matches!(
            w.error,
            fantoccini::error::ErrorStatus::NoSuchElement | fantoccini::error::ErrorStatus::StaleElementReference
        )
    )
}

/// `program` from PATH, or a panic naming the Debian package to install.
fn on_path(program: &str, package: &str) -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("`{program}` is not on PATH: install Debian's {package} package (tests/run does)"))
}

/// The Chromium executable. Debian's `/usr/bin/chromium` is a launcher script that adds flags of
/// its own from /etc/chromium.d (extensions, GPU rasterization) and execs
/// /usr/lib/chromium/chromium; the harness runs that binary directly, with only its own flags.
fn chromium_binary() -> PathBuf {
    let launcher = on_path("chromium", "chromium");
    let debian = Path::new("/usr/lib/chromium/chromium");
    if debian.is_file() { debian.to_path_buf() } else { launcher }
}

/// Whether chromedriver's /status says it is ready.
fn driver_ready(port: u16) -> bool {
    let Ok(body) = http_request(port, "GET", "/status", Duration::from_secs(2)) else { return false };
    serde_json::from_str::<Value>(&body).is_ok_and(|status| status["value"]["ready"] == true)
}

/// A blocking HTTP/1.1 request to chromedriver without a body; the answer's body. Chromedriver
/// keeps the connection open after answering, so the body is read by its Content-Length.
fn http_request(port: u16, method: &str, path: &str, timeout: Duration) -> std::io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\r\n")?;
    let mut answer = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        let read = stream.read(&mut chunk)?;
        if read == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        answer.extend_from_slice(&chunk[..read]);
        let text = String::from_utf8_lossy(&answer);
        let Some((head, body)) = text.split_once("\r\n\r\n") else { continue };
        let length = head
            .lines()
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, value)| value.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if body.len() >= length {
            return Ok(body.to_string());
        }
    }
}
