//! The site's HTTP server: its own accept loop on hyper (HTTP/1.1), with a header read
//! timeout and a connection cap against slow clients, optional TLS (rustls on aws-lc-rs), and
//! a graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use super::{router, SiteConfig};
use crate::enrollment::Store;

/// Connection limits of the server.
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// How long a client may take to send a request's headers, or to start the next request
    /// on a kept-alive connection; slow ("slow-loris") connections are closed after it.
    pub header_read_timeout: Duration,
    /// Connections served at once; further clients wait in the listen backlog.
    pub max_connections: usize,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 512,
        }
    }
}

/// Serves `config` over `store` on `listener` until `shutdown` resolves, with the default
/// [`ServeLimits`].
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: SiteConfig,
    store: Arc<dyn Store>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(
        listener,
        config,
        store,
        ServeLimits::default(),
        None,
        shutdown,
    )
    .await
}

/// [`serve`] with explicit limits, and over TLS when `tls` is given. HTTP/1.1 through hyper,
/// each connection on its own task; on shutdown, connections finish their current request
/// (5 s at most).
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    config: SiteConfig,
    store: Arc<dyn Store>,
    limits: ServeLimits,
    tls: Option<Tls>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tls.map(|t| tokio_rustls::TlsAcceptor::from(t.0));
    let app = router(config, store);
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let (closing_tx, closing_rx) = tokio::sync::watch::channel(false);
    let shutdown = std::pin::pin!(shutdown);
    let mut shutdown = shutdown;
    loop {
        let slot = tokio::select! {
            _ = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => slot.map_err(std::io::Error::other)?,
        };
        let stream = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    eprintln!("site: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let closing = closing_rx.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _slot = slot;
            match acceptor {
                None => connection(stream, service, limits, closing).await,
                Some(acceptor) => {
                    // The handshake gets the same time as a request's headers.
                    let handshake =
                        tokio::time::timeout(limits.header_read_timeout, acceptor.accept(stream));
                    if let Ok(Ok(tls)) = handshake.await {
                        connection(tls, service, limits, closing).await;
                    }
                }
            }
        });
    }
    let _ = closing_tx.send(true);
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(Duration::from_secs(5), slots.acquire_many(all)).await;
    Ok(())
}

/// Serves one connection until it ends, or until the server closes.
async fn connection<IO>(
    io: IO,
    service: hyper_util::service::TowerToHyperService<axum::Router>,
    limits: ServeLimits,
    mut closing: tokio::sync::watch::Receiver<bool>,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let connection = builder.serve_connection(hyper_util::rt::TokioIo::new(io), service);
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = async { drop(closing.wait_for(|c| *c).await) } => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

/// The site's TLS identity (certificate chain and private key), for `site serve --tls-cert`.
#[derive(Clone)]
pub struct Tls(Arc<rustls::ServerConfig>);

/// Why a TLS identity cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The certificate PEM has no certificate, or cannot be read.
    #[error("the certificate file has no PEM certificate: {0}")]
    Certificate(String),
    /// The key PEM has no private key, or cannot be read.
    #[error("the key file has no PEM private key (PKCS#8, PKCS#1 or SEC1): {0}")]
    Key(String),
    /// rustls refused the pair (e.g. the key does not match the certificate).
    #[error("unusable certificate and key: {0}")]
    Rustls(#[from] rustls::Error),
}

impl Tls {
    /// An identity from a PEM certificate chain (leaf first) and a PEM private key.
    pub fn from_pem(cert_chain_pem: &[u8], key_pem: &[u8]) -> Result<Self, TlsError> {
        use rustls::pki_types::pem::PemObject as _;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let chain = CertificateDer::pem_slice_iter(cert_chain_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::Certificate(e.to_string()))?;
        if chain.is_empty() {
            return Err(TlsError::Certificate("none found".into()));
        }
        let key =
            PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::Key(e.to_string()))?;
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls(Arc::new(config)))
    }
}
