//! The TLS settings of both halves of the protocol (HTTPS and WSS): one rustls configuration
//! trusting the public web roots, the operating system's roots (where a company installs its
//! private CA) and any extra CA the configuration names.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

use crate::error::{Error, Result};

/// Builds the client TLS configuration; `extra_roots_pem` holds PEM CA certificates to trust
/// besides the system's.
pub fn client_config(extra_roots_pem: &[u8]) -> Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::debug!(%error, "a system certificate could not be read");
    }
    let (_, ignored) = roots.add_parsable_certificates(native.certs);
    if ignored > 0 {
        tracing::debug!(ignored, "system certificates rustls cannot use");
    }
    let extra: Vec<CertificateDer<'static>> =
        rustls_pemfile::certs(&mut std::io::BufReader::new(extra_roots_pem))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::Invalid(format!("trusted CA certificate: {e}")))?;
    for cert in extra {
        roots
            .add(cert)
            .map_err(|e| Error::Invalid(format!("trusted CA certificate: {e}")))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Invalid(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
