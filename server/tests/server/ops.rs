//! HTTPS with rustls, and graceful shutdown finishing a batch in flight.

use crate::common::{Backend, MAWAR, TestDb, TestServer, body_for, test_config};
use district_server::config::TlsConfig;
use std::sync::Arc;
use sync_protocol::{Change, EntityKind, RecordId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

fn data(file: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_https_with_rustls() {
    let db = TestDb::new(Backend::Sqlite).await;
    let cfg = test_config(&db.url);
    let state = district_server::AppState::new(db.store.clone(), cfg).unwrap();
    let app = district_server::router(state);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let tls = TlsConfig {
        cert: data("localhost.cert.pem"),
        key: data("localhost.key.pem"),
    };
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        district_server::http::serve_tls(
            listener,
            &tls,
            app,
            async move {
                let _ = rx.await;
            },
            std::time::Duration::from_secs(2),
        )
        .await
    });
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(data("localhost.cert.pem")).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let mut answer = String::new();
    for _ in 0..50 {
        let Ok(tcp) = tokio::net::TcpStream::connect(addr).await else {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            continue;
        };
        let mut tls = connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        tls.read_to_string(&mut answer).await.unwrap_or_default();
        break;
    }
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ok"), "{answer}");
    let _ = stop.send(());
    assert!(server.await.unwrap().is_ok());
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_batch_in_flight() {
    let mut srv = TestServer::demo(Backend::Sqlite).await;
    let mut k = srv.session("kader.mawar").await;
    let batch: Vec<Change> = (0..1500)
        .map(|_| {
            k.change(
                EntityKind::Measurement,
                RecordId::new_v7(),
                body_for(EntityKind::Measurement, MAWAR),
            )
        })
        .collect();
    let body = serde_json::to_vec(&serde_json::json!({"v": 1, "changes": batch})).unwrap();
    let request = srv
        .http
        .post(srv.url("/v1/sync/push"))
        .header("Jangkau-Protocol", "1")
        .header("Authorization", k.bearer.clone())
        .body(body);
    let pushing = tokio::spawn(async move {
        let r = request.send().await.unwrap();
        let status = r.status().as_u16();
        let v: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        (status, v)
    });
    // Ask the server to stop while the batch is being stored.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    srv.begin_shutdown();
    let (status, v) = pushing.await.unwrap();
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["acked_seq"], 1500);
    let page = srv.store().pull(MAWAR.into(), 0, 2000).await.unwrap();
    assert_eq!(page.changes.len(), 1500);
    // And it no longer accepts connections.
    srv.finish_keep_db().await;
    assert!(
        reqwest::Client::new()
            .get(srv.url("/healthz"))
            .send()
            .await
            .is_err()
    );
    srv.finish().await;
}

/// A client that stalls mid-body gets a 503 `unavailable` ErrorBody when the request
/// timeout passes, instead of holding a connection and a task for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_request_times_out_with_an_error_body() {
    let srv = TestServer::demo_with(Backend::Sqlite, |c| c.request_timeout_s = 1).await;
    let mut tcp = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    tcp.write_all(
        b"POST /v1/enrol HTTP/1.1\r\nHost: x\r\nJangkau-Protocol: 1\r\nContent-Length: 100\r\n\r\n{\"v\":1,",
    )
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.ends_with(b"}") {
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), tcp.read(&mut buf))
            .await
            .expect("answered within 10 s")
            .unwrap();
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("\"code\":\"unavailable\""), "{text}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    srv.finish().await;
}
