//! HTTPS to the district server: rustls with an explicit root store (never the platform
//! verifier, which panics on Android unless initialised from JNI: see PITFALLS), zstd bodies,
//! the protocol header, and error bodies turned into [`SyncError`]s.

use super::error::SyncError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;
use sync_protocol::codec::{self, CodecError, Encoding};
use sync_protocol::{Limits, PROTOCOL_HEADER, PROTOCOL_VERSION, WireMessage};

/// Which certificate authorities the client trusts. This is the one place TLS trust is
/// decided for the whole app (desktop, Android, CLI).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TrustRoots {
    /// The Mozilla roots bundled in the app (`webpki-roots`).
    #[default]
    WebPki,
    /// Only the district's own CA (PEM, one or more certificates).
    DistrictCa(Vec<u8>),
    /// The bundled roots and the district's CA.
    WebPkiAndDistrictCa(Vec<u8>),
}

/// The rustls configuration every connection uses: ring, TLS 1.2/1.3, explicit roots.
pub fn tls_config(roots: &TrustRoots) -> Result<rustls::ClientConfig, SyncError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut store = rustls::RootCertStore::empty();
    let (bundled, pem) = match roots {
        TrustRoots::WebPki => (true, None),
        TrustRoots::DistrictCa(p) => (false, Some(p)),
        TrustRoots::WebPkiAndDistrictCa(p) => (true, Some(p)),
    };
    if bundled {
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if let Some(pem) = pem {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| SyncError::Tls(format!("district CA PEM: {e}")))?;
            store
                .add(cert)
                .map_err(|e| SyncError::Tls(format!("district CA certificate: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(SyncError::Tls(
                "the district CA file holds no certificate".into(),
            ));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SyncError::Tls(e.to_string()))?
        .with_root_certificates(store)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

/// Checks a server address: `https://…`, or `http://` to a loopback host only (tests, demos).
pub fn check_server_url(url: &str) -> Result<String, SyncError> {
    let url = url.trim().trim_end_matches('/');
    let bad = || SyncError::BadUrl(url.to_string());
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    let host_port = rest.split('/').next().unwrap_or_default();
    if host_port.is_empty() || rest.contains(char::is_whitespace) {
        return Err(bad());
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(url.to_string()),
        "http" if is_loopback(host_port) => Ok(url.to_string()),
        _ => Err(bad()),
    }
}

fn is_loopback(host_port: &str) -> bool {
    let host = if let Some(rest) = host_port.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host_port.rsplit_once(':').map_or(host_port, |(h, _)| h)
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Which credential a request carries.
#[derive(Clone, Copy)]
pub(crate) enum Auth<'a> {
    None,
    Device(&'a str),
    Bearer(&'a str),
}

/// One server's HTTP client.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    client: reqwest::Client,
    base: String,
    /// Limits for decoding answers: the defaults until a status call says otherwise.
    pub limits: Limits,
}

impl Transport {
    pub fn new(server: &str, roots: &TrustRoots, timeout: Duration) -> Result<Self, SyncError> {
        let base = check_server_url(server)?;
        let mut builder = reqwest::Client::builder()
            .use_preconfigured_tls(tls_config(roots)?)
            .connect_timeout(timeout.min(Duration::from_secs(30)))
            .timeout(timeout)
            .user_agent(concat!("jangkau-field-core/", env!("CARGO_PKG_VERSION")));
        if base.starts_with("http://") {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| SyncError::Tls(format!("HTTP client: {e}")))?;
        Ok(Self {
            client,
            base,
            limits: Limits::default(),
        })
    }

    /// POSTs one wire message and decodes the answer.
    pub async fn call<Req, Resp>(
        &self,
        path: &str,
        auth: Auth<'_>,
        req: &Req,
    ) -> Result<Resp, SyncError>
    where
        Req: Serialize,
        Resp: DeserializeOwned + WireMessage,
    {
        let body = encode(req)?;
        Ok(self.call_encoded(path, auth, body).await?.0)
    }

    /// POSTs a body already encoded by [`encode`] and decodes the answer; also returns the
    /// time the answer took to decompress and parse.
    pub async fn call_encoded<Resp>(
        &self,
        path: &str,
        auth: Auth<'_>,
        body: Vec<u8>,
    ) -> Result<(Resp, Duration), SyncError>
    where
        Resp: DeserializeOwned + WireMessage,
    {
        let rb = self
            .client
            .post(format!("{}{}", self.base, path))
            .header("content-type", "application/json")
            .header("content-encoding", "zstd")
            .body(body);
        let (bytes, encoding) = self.exchange(rb, auth).await?;
        let t = std::time::Instant::now();
        let resp = codec::decode::<Resp>(&bytes, encoding, &self.limits).map_err(answer_error)?;
        Ok((resp, t.elapsed()))
    }

    /// GETs one wire answer (a request without a body, such as `/v1/places`).
    pub async fn get<Resp>(&self, path: &str, auth: Auth<'_>) -> Result<Resp, SyncError>
    where
        Resp: DeserializeOwned + WireMessage,
    {
        let rb = self.client.get(format!("{}{}", self.base, path));
        self.send(rb, auth).await
    }

    /// POSTs one sealed titip bundle (`POST /v1/relay`) and returns the sealed answer's
    /// bytes (at most the compressed limit).
    pub async fn post_sealed(
        &self,
        path: &str,
        auth: Auth<'_>,
        sealed: Vec<u8>,
    ) -> Result<Vec<u8>, SyncError> {
        let rb = self
            .client
            .post(format!("{}{}", self.base, path))
            .header("content-type", "application/vnd.jangkau.titip")
            .body(sealed);
        let (bytes, _) = self.exchange(rb, auth).await?;
        Ok(bytes)
    }

    /// Sends a request with the protocol header and the credential, and decodes the answer
    /// (or its error body).
    async fn send<Resp>(
        &self,
        rb: reqwest::RequestBuilder,
        auth: Auth<'_>,
    ) -> Result<Resp, SyncError>
    where
        Resp: DeserializeOwned + WireMessage,
    {
        let (bytes, encoding) = self.exchange(rb, auth).await?;
        codec::decode::<Resp>(&bytes, encoding, &self.limits).map_err(answer_error)
    }

    /// Sends a request with the protocol header and the credential; returns a 2xx answer's
    /// bytes and encoding, or the error its body (or status) says.
    async fn exchange(
        &self,
        rb: reqwest::RequestBuilder,
        auth: Auth<'_>,
    ) -> Result<(Vec<u8>, Encoding), SyncError> {
        let mut rb = rb
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .header("accept-encoding", "zstd, gzip");
        let bearer = matches!(auth, Auth::Bearer(_));
        match auth {
            Auth::None => {}
            Auth::Device(t) => rb = rb.header("authorization", format!("Device {t}")),
            Auth::Bearer(t) => rb = rb.header("authorization", format!("Bearer {t}")),
        }
        let mut resp = rb.send().await.map_err(network)?;
        let status = resp.status().as_u16();
        let encoding = resp
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap_or("?").to_string());
        // Read at most the compressed limit (plus one byte to notice a longer body).
        let cap = self.limits.max_compressed;
        if resp.content_length().is_some_and(|n| n > cap as u64) {
            return Err(SyncError::AnswerTooLarge(format!(
                "the answer is over {cap} bytes"
            )));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(network)? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > cap {
                return Err(SyncError::AnswerTooLarge(format!(
                    "the answer is over {cap} bytes"
                )));
            }
        }
        let encoding = Encoding::from_header(encoding.as_deref())
            .map_err(|e| SyncError::Protocol(e.to_string()))?;
        if (200..300).contains(&status) {
            return Ok((bytes, encoding));
        }
        let body = codec::decode_error_body(&bytes, encoding, &self.limits).unwrap_or_else(|| {
            // No readable error body: judge by the HTTP status alone.
            let code = match status {
                426 => sync_protocol::ErrorCode::ProtocolUnsupported,
                429 => sync_protocol::ErrorCode::RateLimited,
                503 => sync_protocol::ErrorCode::Unavailable,
                401 => sync_protocol::ErrorCode::Unauthorized,
                s if s >= 500 => sync_protocol::ErrorCode::Internal,
                _ => sync_protocol::ErrorCode::Unknown,
            };
            sync_protocol::ErrorBody::new(code, format!("HTTP {status} without an error body"))
        });
        Err(SyncError::from_error_body(status, body, bearer))
    }
}

/// A request body as [`Transport::call`] sends it: compact JSON, zstd.
pub(crate) fn encode<Req: Serialize>(req: &Req) -> Result<Vec<u8>, SyncError> {
    codec::encode(req, Encoding::Zstd).map_err(|e| SyncError::Protocol(e.to_string()))
}

fn network(e: reqwest::Error) -> SyncError {
    // Include the causes: "error sending request" alone says nothing.
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    SyncError::Network(msg)
}

/// A 2xx answer that does not decode. A body of another protocol version means one side
/// must be updated (seen from the client: a newer body means "update the app").
fn answer_error(e: CodecError) -> SyncError {
    match e {
        CodecError::VersionMismatch { found, expected } if found > u64::from(expected) => {
            SyncError::UpdateApp(e.to_string())
        }
        CodecError::VersionMismatch { .. } => SyncError::UpdateServer(e.to_string()),
        CodecError::CompressedTooLarge { .. }
        | CodecError::DecompressedTooLarge { .. }
        | CodecError::BatchTooLong { .. } => SyncError::AnswerTooLarge(e.to_string()),
        other => SyncError::Protocol(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses() {
        assert!(check_server_url("https://jangkau.belu.go.id").is_ok());
        assert!(check_server_url("https://jangkau.belu.go.id:8443/").is_ok());
        assert!(check_server_url("http://127.0.0.1:8080").is_ok());
        assert!(check_server_url("http://localhost:8080").is_ok());
        assert!(check_server_url("http://[::1]:8080").is_ok());
        assert!(check_server_url("http://jangkau.belu.go.id").is_err());
        assert!(check_server_url("ftp://x").is_err());
        assert!(check_server_url("jangkau.belu.go.id").is_err());
        assert!(check_server_url("https://").is_err());
    }

    #[test]
    fn trust_roots_are_explicit() {
        assert!(tls_config(&TrustRoots::WebPki).is_ok());
        assert!(matches!(
            tls_config(&TrustRoots::DistrictCa(b"not a pem".to_vec())),
            Err(SyncError::Tls(_))
        ));
    }
}
