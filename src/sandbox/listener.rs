//! One port, two protocols: plain HTTP for CSP, TMC and the control API, and HTTPS for the
//! Kubernetes API servers.
//!
//! Why TLS at all: kubectl (client-go's clientcmd) only sends a kubeconfig's credentials when
//! the server URL is `https://`, so a bearer-protected API server over plain HTTP cannot be
//! reached by kubectl. Each connection is sniffed: a first byte of 0x16 is a TLS handshake
//! record, anything else is plain HTTP. Both kinds reach the same router.
//!
//! The CA and the leaf certificate (for 127.0.0.1, ::1 and localhost) are made when the process
//! first needs them and live only in memory, so no private key is ever written to disk or kept
//! in the repository. `write_config` puts the CA into the kubeconfig.

use std::sync::{Arc, OnceLock};

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_util::sync::CancellationToken;
use tower::Service;

use super::faults::ConnectionKill;

/// The sandbox's TLS material: a CA, and a server certificate it signed.
struct TlsMaterial {
    ca_pem: String,
    server_cert_pem: String,
    server_key_pem: String,
}

/// One CA per process: every sandbox in it (tests start many) shares it, and making it once
/// keeps start-up in milliseconds.
static MATERIAL: OnceLock<Result<TlsMaterial, String>> = OnceLock::new();

fn material() -> std::io::Result<&'static TlsMaterial> {
    MATERIAL
        .get_or_init(|| make_material().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| std::io::Error::other(format!("sandbox TLS: cannot make a certificate: {e}")))
}

fn make_material() -> Result<TlsMaterial, rcgen::Error> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "tanzu-mcp sandbox CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = ca_params.self_signed(&ca_key)?;

    let server_key = KeyPair::generate()?;
    let names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    let mut server_params = CertificateParams::new(names)?;
    server_params
        .distinguished_name
        .push(DnType::CommonName, "tanzu-mcp sandbox");
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let server = server_params.signed_by(&server_key, &Issuer::from_params(&ca_params, &ca_key))?;
    Ok(TlsMaterial {
        ca_pem: ca.pem(),
        server_cert_pem: server.pem(),
        server_key_pem: server_key.serialize_pem(),
    })
}

/// The CA that signed the sandbox's server certificate (PEM), for kubeconfigs and test clients.
pub fn ca_pem() -> std::io::Result<&'static str> {
    material().map(|m| m.ca_pem.as_str())
}

/// The first byte of a TLS record carrying a handshake (a ClientHello).
const TLS_HANDSHAKE: u8 = 0x16;

pub fn tls_acceptor() -> std::io::Result<TlsAcceptor> {
    let invalid = |e: &dyn std::fmt::Display| std::io::Error::other(format!("sandbox TLS: {e}"));
    let material = material()?;
    let certs = CertificateDer::pem_slice_iter(material.server_cert_pem.as_bytes())
        .chain(CertificateDer::pem_slice_iter(material.ca_pem.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(&e))?;
    let key = PrivateKeyDer::from_pem_slice(material.server_key_pem.as_bytes())
        .map_err(|e| invalid(&e))?;
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
    // A `reset` fault cancels `kill`: the connection is then dropped with no answer.
    let kill = CancellationToken::new();
    let on_request = kill.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request
            .extensions_mut()
            .insert(ConnectionKill(on_request.clone()));
        let mut router = router.clone();
        async move { router.call(request).await }
    });
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
        () = kill.cancelled() => {}
        () = stop.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}
