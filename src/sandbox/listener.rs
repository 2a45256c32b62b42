//! One port, two protocols: plain HTTP for CSP, TMC and the control API, and HTTPS for the
//! Kubernetes API servers.
//!
//! Why TLS at all: kubectl (client-go's clientcmd) only sends a kubeconfig's credentials when
//! the server URL is `https://`, so a bearer-protected API server over plain HTTP cannot be
//! reached by kubectl. Each connection is sniffed: a first byte of 0x16 is a TLS handshake
//! record, anything else is plain HTTP. Both kinds reach the same router.
//!
//! The certificate is a fixed test CA and a leaf for 127.0.0.1, ::1 and localhost in `tls/`
//! (valid until 2126). Its key is not a secret: it only ever protects loopback traffic to a
//! simulator holding made-up data. `write_config` puts the CA into the kubeconfig.

use std::sync::Arc;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_util::sync::CancellationToken;

/// The CA that signed the sandbox's server certificate (PEM), for kubeconfigs.
pub const CA_PEM: &str = include_str!("tls/ca.crt");
const SERVER_CERT_PEM: &str = include_str!("tls/server.crt");
const SERVER_KEY_PEM: &str = include_str!("tls/server.key");

/// The first byte of a TLS record carrying a handshake (a ClientHello).
const TLS_HANDSHAKE: u8 = 0x16;

pub fn tls_acceptor() -> std::io::Result<TlsAcceptor> {
    let invalid = |e: &dyn std::fmt::Display| std::io::Error::other(format!("sandbox TLS: {e}"));
    let certs = CertificateDer::pem_slice_iter(SERVER_CERT_PEM.as_bytes())
        .chain(CertificateDer::pem_slice_iter(CA_PEM.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(&e))?;
    let key = PrivateKeyDer::from_pem_slice(SERVER_KEY_PEM.as_bytes()).map_err(|e| invalid(&e))?;
    // Name the provider: reqwest and kube also link rustls, and an ambiguous process default
    // would panic.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(&e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| invalid(&e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accept connections until `stop` fires, then let open connections finish their requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: TlsAcceptor,
    stop: CancellationToken,
) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let stream = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Usually EMFILE; back off briefly instead of spinning.
                    tracing::warn!(%error, "sandbox: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        connections.spawn(connection(
            stream,
            router.clone(),
            tls.clone(),
            stop.clone(),
        ));
        // Reap finished connections so the set does not grow with every request.
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
}

async fn connection(stream: TcpStream, router: Router, tls: TlsAcceptor, stop: CancellationToken) {
    let mut first = [0u8; 1];
    let is_tls = matches!(stream.peek(&mut first).await, Ok(1) if first[0] == TLS_HANDSHAKE);
    if is_tls {
        match tls.accept(stream).await {
            Ok(stream) => serve_http(stream, router, stop).await,
            Err(error) => tracing::debug!(%error, "sandbox: TLS handshake failed"),
        }
    } else {
        serve_http(stream, router, stop).await;
    }
}

async fn serve_http<I>(io: I, router: Router, stop: CancellationToken)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(router);
    let connection = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                tracing::debug!(%error, "sandbox: connection ended with an error");
            }
        }
        () = stop.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}
