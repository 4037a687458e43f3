//! TLS to PostgreSQL, named in the database URL as libpq does:
//!
//! | `sslmode` | what it does |
//! |---|---|
//! | `disable` | plain TCP |
//! | `prefer` (tokio-postgres' default) | plain TCP, as before this module: no TLS connector |
//! | `require` | TLS (rustls) or no connection; the certificate is not checked (like libpq without a root file): it stops a listener on the wire, not an impostor. With `sslrootcert=<file>` it checks the chain like `verify-ca`. |
//! | `verify-ca` | TLS, the chain checked against `sslrootcert` (a PEM file) or the Mozilla roots |
//! | `verify-full` | as `verify-ca`, and the certificate must name the host |
//!
//! tokio-postgres knows only `disable|prefer|require` and no `sslrootcert`, so the URL is
//! read here first and handed on with those two rewritten.

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::PathBuf;
use std::sync::Arc;

/// The `sslmode` of a PostgreSQL URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// What a URL asks for: its mode, its root file, and the URL tokio-postgres is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsUrl {
    pub mode: SslMode,
    pub root_cert: Option<PathBuf>,
    /// The URL without `sslrootcert`, with `verify-*` said as `require`.
    pub url: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TlsUrlError {
    #[error(
        "sslmode {0:?} is not supported: use disable, prefer, require, verify-ca or verify-full"
    )]
    Mode(String),
    #[error("cannot read the root certificates in {path}: {message}")]
    RootCert { path: String, message: String },
    #[error("TLS set-up: {0}")]
    Rustls(String),
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads `sslmode` and `sslrootcert` from a `postgres://` URL.
pub fn parse(url: &str) -> Result<TlsUrl, TlsUrlError> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, q),
        None => (url, ""),
    };
    let mut mode = SslMode::Prefer;
    let mut root_cert = None;
    let mut kept: Vec<String> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "sslmode" => {
                mode = match percent_decode(v).as_str() {
                    "disable" => SslMode::Disable,
                    "prefer" => SslMode::Prefer,
                    "require" => SslMode::Require,
                    "verify-ca" => SslMode::VerifyCa,
                    "verify-full" => SslMode::VerifyFull,
                    other => return Err(TlsUrlError::Mode(other.to_string())),
                };
            }
            "sslrootcert" => root_cert = Some(PathBuf::from(percent_decode(v))),
            _ => kept.push(pair.to_string()),
        }
    }
    let said = match mode {
        SslMode::Disable => "disable",
        SslMode::Prefer => "prefer",
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => "require",
    };
    kept.push(format!("sslmode={said}"));
    Ok(TlsUrl {
        mode,
        root_cert,
        url: format!("{base}?{}", kept.join("&")),
    })
}

impl TlsUrl {
    /// The rustls configuration the mode asks for; `None` for `disable` and `prefer`.
    pub fn client_config(&self) -> Result<Option<rustls::ClientConfig>, TlsUrlError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier: Arc<dyn ServerCertVerifier> = match (self.mode, &self.root_cert) {
            (SslMode::Disable | SslMode::Prefer, _) => return Ok(None),
            (SslMode::Require, None) => Arc::new(EncryptOnly(provider.clone())),
            (SslMode::Require | SslMode::VerifyCa, _) => {
                Arc::new(ChainOnly(self.webpki(&provider)?))
            }
            (SslMode::VerifyFull, _) => self.webpki(&provider)?,
        };
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsUrlError::Rustls(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(Some(config))
    }

    fn webpki(
        &self,
        provider: &Arc<CryptoProvider>,
    ) -> Result<Arc<WebPkiServerVerifier>, TlsUrlError> {
        let mut roots = RootCertStore::empty();
        match &self.root_cert {
            Some(path) => {
                let err = |message: String| TlsUrlError::RootCert {
                    path: path.display().to_string(),
                    message,
                };
                let certs = CertificateDer::pem_file_iter(path)
                    .map_err(|e| err(e.to_string()))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| err(e.to_string()))?;
                if certs.is_empty() {
                    return Err(err("no certificate in the file".into()));
                }
                for c in certs {
                    roots.add(c).map_err(|e| err(e.to_string()))?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| TlsUrlError::Rustls(e.to_string()))
    }
}

/// `require` without a root file: any certificate, but the handshake's signatures are
/// still checked (the session keys belong to whoever holds the certificate's key).
#[derive(Debug)]
struct EncryptOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the name is not checked.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn modes_are_read_and_said_the_way_tokio_postgres_knows() {
        let t = parse("postgres://u@db.example:5432/d").unwrap();
        assert_eq!(t.mode, SslMode::Prefer);
        assert_eq!(t.url, "postgres://u@db.example:5432/d?sslmode=prefer");
        assert!(t.client_config().unwrap().is_none());
        let t = parse("postgres://u@h/d?application_name=x&sslmode=disable").unwrap();
        assert_eq!(t.mode, SslMode::Disable);
        assert_eq!(t.url, "postgres://u@h/d?application_name=x&sslmode=disable");
        let t = parse("postgres://u@h/d?sslmode=require").unwrap();
        assert_eq!((t.mode, t.root_cert.clone()), (SslMode::Require, None));
        assert!(t.client_config().unwrap().is_some());
        let t =
            parse("postgresql://u:p@h:5433/d?sslmode=verify-full&sslrootcert=%2Fetc%2Fca%20x.pem")
                .unwrap();
        assert_eq!(t.mode, SslMode::VerifyFull);
        assert_eq!(t.root_cert, Some(PathBuf::from("/etc/ca x.pem")));
        assert_eq!(t.url, "postgresql://u:p@h:5433/d?sslmode=require");
        assert!(t.url.parse::<tokio_postgres::Config>().is_ok());
        // Without a root file: the Mozilla roots.
        let t = parse("postgres://u@h/d?sslmode=verify-ca").unwrap();
        assert_eq!(t.mode, SslMode::VerifyCa);
        assert!(t.client_config().unwrap().is_some());
    }

    #[test]
    fn a_bad_mode_or_root_file_is_a_clear_error() {
        let e = parse("postgres://u@h/d?sslmode=allow-anything").unwrap_err();
        assert!(e.to_string().contains("verify-full"), "{e}");
        let t =
            parse("postgres://u@h/d?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem").unwrap();
        let e = t.client_config().unwrap_err();
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
    }

    /// The local PostgreSQL, asked over plain TCP whether it offers TLS, then reached with
    /// `sslmode=require`: over TLS when it does, a clear refusal when it does not; never a
    /// silent plain connection. `verify-full` against a certificate no public root signed
    /// (Debian's snakeoil) is refused.
    #[tokio::test]
    async fn sslmode_require_reaches_the_local_postgresql_over_tls_or_fails_clearly() {
        use crate::storage::postgres::{PgStore, scratch};
        let base = scratch::admin_url();
        let with = |mode: &str| {
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}sslmode={mode}")
        };
        let plain = PgStore::connect(&with("disable")).await.unwrap();
        assert!(!plain.uses_tls().await.unwrap(), "sslmode=disable is plain");
        let offers: String = plain
            .client()
            .await
            .unwrap()
            .query_one("SHOW ssl", &[])
            .await
            .unwrap()
            .get(0);
        let required = PgStore::connect(&with("require")).await.unwrap();
        let verified = PgStore::connect(&with("verify-full")).await.unwrap();
        if offers == "on" {
            assert!(
                required.uses_tls().await.unwrap(),
                "sslmode=require runs over TLS"
            );
            let e = verified.uses_tls().await.unwrap_err().to_string();
            eprintln!("sslmode=verify-full against the local certificate: {e}");
            assert!(e.contains("certificate"), "{e}");
            // Debian's self-signed certificate (named for the machine, not 127.0.0.1) as the
            // root: the chain holds, the name does not.
            let cert_file: String = plain
                .client()
                .await
                .unwrap()
                .query_one("SHOW ssl_cert_file", &[])
                .await
                .unwrap()
                .get(0);
            if cert_file == "/etc/ssl/certs/ssl-cert-snakeoil.pem"
                && std::fs::metadata(&cert_file).is_ok()
            {
                let root = format!("&sslrootcert={cert_file}");
                let ca = PgStore::connect(&format!("{}{root}", with("verify-ca")))
                    .await
                    .unwrap();
                assert!(ca.uses_tls().await.unwrap(), "verify-ca with its root");
                let full = PgStore::connect(&format!("{}{root}", with("verify-full")))
                    .await
                    .unwrap();
                let e = full.uses_tls().await.unwrap_err().to_string();
                assert!(e.contains("not valid for name"), "{e}");
            }
        } else {
            let e = required.uses_tls().await.unwrap_err().to_string();
            assert!(
                e.contains("TLS") || e.contains("SSL") || e.contains("ssl"),
                "{e}"
            );
            eprintln!("the local PostgreSQL has ssl off: sslmode=require refused as it must ({e})");
        }
    }
}
