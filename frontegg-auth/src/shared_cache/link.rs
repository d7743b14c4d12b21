//! The connection to Redis: one server through redis-rs's reconnecting `ConnectionManager`, or a
//! cluster through its cluster connection. Opened in the background on first use, so that a
//! Redis that is down or frozen at start delays nothing; callers wait for it at most their own
//! timeout.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Pipeline, RedisError, RedisResult, Value};
use tokio::sync::Notify;

use super::RedisCache;

/// How long one attempt to open the connection may take (a frozen server accepts TCP
/// connections in its kernel, then never answers).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Clone)]
enum Client {
    Single(Box<redis::Client>),
    Cluster(Box<ClusterClient>),
}

#[derive(Clone)]
enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Connection {
    async fn run(&mut self, pipe: &Pipeline) -> RedisResult<Vec<Value>> {
        match self {
            Connection::Single(c) => pipe.query_async(c).await,
            Connection::Cluster(c) => pipe.query_async(c).await,
        }
    }
}

/// Why a call could not reach Redis.
#[derive(Debug)]
pub(crate) enum Fault {
    /// No connection yet (being opened), or closed by a shutdown.
    NotConnected,
    /// The call failed: I/O, protocol, cluster errors.
    Redis(RedisError),
}

pub(crate) struct Link {
    client: Client,
    timeout: Duration,
    current: Mutex<Current>,
    connecting: AtomicBool,
    connected: Notify,
}

/// The connection, if open, and whether the link is closed for good (a shutdown).
#[derive(Default)]
struct Current {
    connection: Option<Connection>,
    closed: bool,
}

impl Link {
    pub(crate) fn new(settings: &RedisCache) -> RedisResult<Arc<Link>> {
        if settings.nodes.iter().any(super::RedisUrl::is_tls) {
            // redis-rs builds its TLS configuration with the process's default rustls provider;
            // choose the one this crate already carries, unless the application chose one.
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        }
        let certificates = settings
            .root_certificate
            .clone()
            .map(|root| redis::TlsCertificates { client_tls: None, root_cert: Some(root) });
        let client = if settings.cluster {
            let mut builder = ClusterClient::builder(settings.nodes.iter().map(|n| n.as_str().to_owned()))
                .connection_timeout(CONNECT_TIMEOUT)
                .response_timeout(settings.timeout);
            if settings.nodes.iter().any(super::RedisUrl::is_tls) {
                builder = builder.tls(redis::TlsMode::Secure);
            }
            if let Some(certificates) = certificates {
                builder = builder.certs(certificates);
            }
            Client::Cluster(Box::new(builder.build()?))
        } else {
            let url = settings.nodes.first().map(super::RedisUrl::as_str).unwrap_or_default();
            Client::Single(Box::new(match certificates {
                Some(certificates) => redis::Client::build_with_tls(url, certificates)?,
                None => redis::Client::open(url)?,
            }))
        };
        Ok(Arc::new(Link {
            client,
            timeout: settings.timeout,
            current: Mutex::new(Current::default()),
            connecting: AtomicBool::new(false),
            connected: Notify::new(),
        }))
    }

    /// Runs `pipe`, waiting at most the call timeout for a connection that is being opened.
    pub(crate) async fn run(self: &Arc<Self>, pipe: &Pipeline) -> Result<Vec<Value>, Fault> {
        let mut connection = match self.connection() {
            Some(c) => c,
            None => {
                let connected = self.connected.notified();
                tokio::pin!(connected);
                connected.as_mut().enable();
                self.open();
                match self.connection() {
                    Some(c) => c,
                    None => {
                        let _ = tokio::time::timeout(self.timeout, connected).await;
                        self.connection().ok_or(Fault::NotConnected)?
                    }
                }
            }
        };
        connection.run(pipe).await.map_err(Fault::Redis)
    }

    /// Drops the connection for good: it closes once the calls still holding it end, and no
    /// other opens.
    pub(crate) fn close(&self) {
        let mut current = self.lock();
        current.closed = true;
        current.connection = None;
    }

    /// Drops the connection so that the next call opens a new one: for failures that redis-rs's
    /// manager would keep answering (a refused password, a refused `SELECT`, a protocol error),
    /// since it reconnects by itself only after I/O errors.
    pub(crate) fn reset(&self) {
        self.lock().connection = None;
    }

    fn connection(&self) -> Option<Connection> {
        self.lock().connection.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Current> {
        // A plain value, valid whatever a panicking holder left in it.
        self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts opening the connection in the background, unless it is open, that is under way,
    /// or there is no Tokio runtime here. The task holds no strong reference: dropping the cache
    /// ends it.
    pub(crate) fn open(self: &Arc<Self>) {
        let wanted = |link: &Link| {
            let current = link.lock();
            current.connection.is_none() && !current.closed
        };
        if !wanted(self) || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        if self.connecting.swap(true, Ordering::AcqRel) {
            return;
        }
        // Another task may have opened it between the check and the swap.
        if !wanted(self) {
            self.connecting.store(false, Ordering::Release);
            return;
        }
        let weak: Weak<Link> = Arc::downgrade(self);
        let client = self.client.clone();
        let timeout = self.timeout;
        tokio::spawn(async move {
            let opened = tokio::time::timeout(CONNECT_TIMEOUT, connect(client, timeout)).await;
            let Some(link) = weak.upgrade() else { return };
            match opened {
                Ok(Ok(connection)) => {
                    let mut current = link.lock();
                    if !current.closed {
                        current.connection = Some(connection);
                        tracing::debug!("connected to the shared cache");
                    }
                }
                Ok(Err(e)) => tracing::debug!(error = %e, "cannot connect to the shared cache"),
                Err(_) => tracing::debug!("connecting to the shared cache timed out"),
            }
            link.connecting.store(false, Ordering::Release);
            link.connected.notify_waiters();
        });
    }
}

async fn connect(client: Client, timeout: Duration) -> RedisResult<Connection> {
    match client {
        Client::Single(client) => {
            // The manager reconnects by itself after the connection breaks: a few quick
            // attempts, then again on the next call.
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(CONNECT_TIMEOUT))
                .set_response_timeout(Some(timeout))
                .set_number_of_retries(2)
                .set_max_delay(Duration::from_millis(500));
            Ok(Connection::Single(ConnectionManager::new_with_config(*client, config).await?))
        }
        Client::Cluster(client) => Ok(Connection::Cluster(client.get_async_connection().await?)),
    }
}
