//! STARTTLS: load the configured certificate or make a self-signed one on
//! first run. Rustock sent most of its spam over TLS until April 2010, so a
//! trap without STARTTLS would miss (or mis-fingerprint) such senders.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::{TlsSetup, TrapError};

/// File name of the generated certificate inside [`TlsSetup::SelfSigned`]'s directory.
pub const SELF_SIGNED_CERT_FILE: &str = "trap-cert.pem";
/// File name of the generated private key inside [`TlsSetup::SelfSigned`]'s directory.
pub const SELF_SIGNED_KEY_FILE: &str = "trap-key.pem";

/// Build the TLS acceptor for `setup`, generating the self-signed certificate
/// for `hostname` if it is asked for and does not exist yet.
pub fn acceptor(setup: &TlsSetup, hostname: &str) -> Result<TlsAcceptor, TrapError> {
    let (cert_path, key_path) = match setup {
        TlsSetup::Files { cert, key } => (cert.clone(), key.clone()),
        TlsSetup::SelfSigned { dir } => ensure_self_signed(dir, hostname)?,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| cert_error(&cert_path, e))?;
    if certs.is_empty() {
        return Err(TrapError::Certificate {
            path: cert_path,
            message: "no certificate found in the file".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| cert_error(&key_path, e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TrapError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TrapError::Tls(e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn cert_error(path: &Path, error: impl std::fmt::Display) -> TrapError {
    TrapError::Certificate {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}

/// Return the paths of the self-signed certificate and key in `dir`, creating
/// them when absent. The key file is written with mode 0600.
fn ensure_self_signed(dir: &Path, hostname: &str) -> Result<(PathBuf, PathBuf), TrapError> {
    let cert_path = dir.join(SELF_SIGNED_CERT_FILE);
    let key_path = dir.join(SELF_SIGNED_KEY_FILE);
    if cert_path.exists() && key_path.exists() {
        return Ok((cert_path, key_path));
    }
    std::fs::create_dir_all(dir).map_err(|e| cert_error(dir, e))?;
    let generated = rcgen::generate_simple_self_signed(vec![hostname.to_string()])
        .map_err(|e| TrapError::Tls(format!("cannot generate a self-signed certificate: {e}")))?;
    write_private(&key_path, generated.signing_key.serialize_pem().as_bytes())?;
    std::fs::write(&cert_path, generated.cert.pem()).map_err(|e| cert_error(&cert_path, e))?;
    tracing::info!(cert = %cert_path.display(), "generated a self-signed STARTTLS certificate for {hostname}");
    Ok((cert_path, key_path))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TrapError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| cert_error(path, e))?;
    file.write_all(bytes).map_err(|e| cert_error(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_is_made_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let setup = TlsSetup::SelfSigned {
            dir: dir.path().to_path_buf(),
        };
        acceptor(&setup, "trap.example").unwrap();
        let first = std::fs::read(dir.path().join(SELF_SIGNED_CERT_FILE)).unwrap();
        acceptor(&setup, "trap.example").unwrap();
        let second = std::fs::read(dir.path().join(SELF_SIGNED_CERT_FILE)).unwrap();
        assert_eq!(first, second);
        assert!(
            String::from_utf8(first)
                .unwrap()
                .contains("BEGIN CERTIFICATE")
        );
    }

    #[test]
    fn broken_certificate_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("c.pem");
        let key = dir.path().join("k.pem");
        std::fs::write(&cert, "not a pem").unwrap();
        std::fs::write(&key, "not a pem").unwrap();
        let error = acceptor(&TlsSetup::Files { cert, key }, "x").err().unwrap();
        assert!(error.to_string().contains("c.pem"), "{error}");
    }
}
