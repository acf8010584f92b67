//! The enrollment site as running software: the applicant's pages (password, SignIn, step 5
//! with `Register` / `Sign In`, the WebAuthn ceremony in the page, label, 処理が完了しました),
//! verified with the verification core under a [`SitePolicy`], over an
//! [`crate::enrollment::Store`]. See `../shared/spec/enrollment-flow.md`.

pub mod error;
pub mod http;
pub mod label;
pub mod pages;
pub mod policy;
pub mod server;
pub mod session;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;

pub use error::SiteError;
pub use http::{serve, serve_with, ServeLimits, Tls};
pub use policy::SitePolicy;
pub use server::router;

use crate::enrollment::Store;

/// Who the site is, for WebAuthn, and what it accepts.
#[derive(Debug, Clone)]
pub struct SiteConfig {
    /// The RP ID (a registrable domain; `localhost` for local runs).
    pub rp_id: String,
    /// The site's origin, exactly as browsers send it (`http://localhost:8080`).
    pub origin: String,
    /// The RP name shown by authenticators.
    pub rp_name: String,
    /// The policy profile.
    pub policy: SitePolicy,
    /// How long every answer to a password takes, accepted or refused, for any URL, so that
    /// timing does not tell the cases apart ([`DEFAULT_PASSWORD_ANSWER_TIME`]).
    pub password_answer_time: std::time::Duration,
}

/// The default [`SiteConfig::password_answer_time`].
pub const DEFAULT_PASSWORD_ANSWER_TIME: std::time::Duration = std::time::Duration::from_millis(100);

impl SiteConfig {
    /// The site on `http://localhost:{port}` under `policy`.
    pub fn localhost(port: u16, policy: SitePolicy) -> Self {
        SiteConfig {
            rp_id: "localhost".into(),
            origin: format!("http://localhost:{port}"),
            rp_name: "HPKI セカンド電子証明書".into(),
            policy,
            password_answer_time: DEFAULT_PASSWORD_ANSWER_TIME,
        }
    }
}

/// A site running on its own threads, for the CLI's in-process runs and for tests. Dropping it
/// stops the server.
pub struct RunningSite {
    /// The site's configuration (its origin names the port).
    pub config: SiteConfig,
    /// The address it listens on.
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RunningSite {
    /// Starts the site on `127.0.0.1:port` (0: any free port) with `policy`, origin
    /// `http://localhost:{port}`.
    pub fn start_localhost(
        port: u16,
        policy: SitePolicy,
        store: Arc<dyn Store>,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        Self::start(listener, SiteConfig::localhost(addr.port(), policy), store)
    }

    /// Starts the site on a bound `listener`.
    pub fn start(
        listener: TcpListener,
        config: SiteConfig,
        store: Arc<dyn Store>,
    ) -> std::io::Result<Self> {
        Self::start_with(listener, config, store, ServeLimits::default(), None)
    }

    /// [`RunningSite::start`] with explicit connection limits, and TLS when `tls` is given
    /// (the configuration's origin should then be https).
    pub fn start_with(
        listener: TcpListener,
        config: SiteConfig,
        store: Arc<dyn Store>,
        limits: ServeLimits,
        tls: Option<Tls>,
    ) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = config.clone();
        let thread = std::thread::Builder::new()
            .name("ctapkit-site".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            eprintln!("site: cannot listen: {e}");
                            return;
                        }
                    };
                    let shutdown = async {
                        let _ = rx.await;
                    };
                    if let Err(e) = serve_with(listener, served, store, limits, tls, shutdown).await
                    {
                        eprintln!("site: server stopped: {e}");
                    }
                });
            })?;
        Ok(RunningSite {
            config,
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The site's base URL (its origin).
    pub fn base_url(&self) -> &str {
        &self.config.origin
    }

    /// The registration URL for `token`.
    pub fn registration_url(&self, token: &str) -> String {
        format!("{}/r/{token}", self.config.origin)
    }
}

impl Drop for RunningSite {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
