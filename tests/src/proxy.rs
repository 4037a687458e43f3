//! A fault-injecting HTTP/1.1 proxy for system tests and the device simulator: it sits
//! between a device and the district server, parses each request and response (so a fault
//! hits exactly the request it names, also on a keep-alive connection carrying several),
//! shapes the link (bandwidth, latency, loss: [`LinkShape`]) and counts what crossed it.
//!
//! ```no_run
//! # async fn demo(server: std::net::SocketAddr) -> std::io::Result<()> {
//! use system_tests::proxy::{Fault, FaultPlan, LinkShape, Proxy, When};
//! let proxy = Proxy::start(server, LinkShape::two_g()).await?;
//! // The server stores the second push, but the tablet is told 503.
//! proxy.set_faults(FaultPlan::new().on("/v1/sync/push", When::Nth(2), Fault::AnswerAfterForward(503)));
//! # Ok(()) }
//! ```
//!
//! One upstream connection per device connection (opened at its first forwarded request),
//! requests handled in order (pipelined requests are answered in order). Not supported:
//! `Expect: 100-continue` (the proxy waits for the whole body), upgrades, TLS.

pub mod http1;
pub mod link;

pub use http1::{FramingError, Head, Kind, Message, MessageReader};
pub use link::{Direction, LinkShape};

use link::{Lane, Link};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use sync_protocol::sample::SampleRng;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// What happens to a request a rule picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Half the request body (half the head when there is no body) reaches the server, then
    /// both connections close: the server never handles it.
    DropMidRequest,
    /// The server handles the request; the device gets half the response head, then the
    /// connection closes.
    DropMidResponse,
    /// The server handles the request; the device gets the whole response head (with its
    /// full `Content-Length`) and half the body, then the connection closes.
    TruncateBody,
    /// The request waits this long before it is forwarded.
    Delay(Duration),
    /// The proxy answers this status (502 or 503, a small HTML body as a gateway sends)
    /// without forwarding.
    Answer(u16),
    /// The server handles the request, but the device gets this status instead of its answer.
    AnswerAfterForward(u16),
    /// The request goes to the server twice, on two upstream connections, one after the
    /// other; the device gets the second answer.
    Duplicate,
    /// The first `n`/1000 of the request's bytes (head and body together, so anywhere in
    /// the head or the body, 0 = nothing) reach the server, then both connections close.
    CutRequestAt(u16),
    /// The server handles the request; the device gets the first `n`/1000 of the answer's
    /// bytes (anywhere in the head or the body), then the connection closes.
    CutResponseAt(u16),
    /// A cut drawn from the rule's generator (the seed of [`When::Random`]): the request or
    /// the answer, at a uniform point. [`Proxy::stats`] lists the cut each request got.
    RandomCut,
}

/// Which of the requests matching a rule it applies to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum When {
    /// The n-th matching request (from 1) since the plan was set.
    Nth(u64),
    /// The first n matching requests.
    FirstN(u64),
    Every,
    /// Each matching request with this probability, drawn from `seed`.
    Random {
        probability: f64,
        seed: u64,
    },
}

/// One rule: requests whose target starts with `path_prefix`, which of them, and the fault.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    pub path_prefix: String,
    pub when: When,
    pub fault: Fault,
}

/// The faults a proxy applies. Every rule counts the requests matching it; a request gets
/// the fault of the first rule that picks it (at most one fault per request).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultPlan {
    pub rules: Vec<FaultRule>,
}

impl FaultPlan {
    /// No faults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a rule.
    pub fn on(mut self, path_prefix: &str, when: When, fault: Fault) -> Self {
        self.rules.push(FaultRule {
            path_prefix: path_prefix.to_string(),
            when,
            fault,
        });
        self
    }
}

/// What crossed the proxy, cumulative (see [`Proxy::reset_stats`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Requests read from devices.
    pub requests: u64,
    /// Connections devices opened.
    pub connections: u64,
    /// Request bytes from devices, heads included.
    pub bytes_up: u64,
    /// Response bytes delivered to devices, heads included.
    pub bytes_down: u64,
    pub faults_applied: u64,
    /// The target of every request, in order.
    pub paths: Vec<String>,
    /// Each fault applied: the request's number (from 1, as in `paths`), its target and the
    /// fault (a [`Fault::RandomCut`] as the cut it became), so a failure says what happened.
    pub faults: Vec<(u64, String, Fault)>,
}

struct ActiveRule {
    rule: FaultRule,
    seen: u64,
    rng: SampleRng,
}

struct Shared {
    upstream: SocketAddr,
    link: Link,
    rules: Mutex<Vec<ActiveRule>>,
    stats: Mutex<ProxyStats>,
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
}

fn activate(plan: FaultPlan) -> Vec<ActiveRule> {
    plan.rules
        .into_iter()
        .map(|rule| ActiveRule {
            rng: SampleRng::new(match rule.when {
                When::Random { seed, .. } => seed,
                _ => 0,
            }),
            rule,
            seen: 0,
        })
        .collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Shared {
    fn decide(&self, path: &str) -> Option<Fault> {
        let mut rules = lock(&self.rules);
        let mut chosen = None;
        for r in rules.iter_mut() {
            if !path.starts_with(&r.rule.path_prefix) {
                continue;
            }
            r.seen += 1;
            let fire = match r.rule.when {
                When::Nth(n) => r.seen == n,
                When::FirstN(n) => r.seen <= n,
                When::Every => true,
                When::Random { probability, .. } => link::unit(&mut r.rng) < probability,
            };
            if fire && chosen.is_none() {
                chosen = Some(match r.rule.fault {
                    Fault::RandomCut => {
                        let at = (r.rng.below(1000)) as u16;
                        if r.rng.below(2) == 0 {
                            Fault::CutRequestAt(at)
                        } else {
                            Fault::CutResponseAt(at)
                        }
                    }
                    f => f,
                });
            }
        }
        chosen
    }

    fn stats(&self, f: impl FnOnce(&mut ProxyStats)) {
        f(&mut lock(&self.stats));
    }
}

/// A running proxy; it stops (every connection closed) when dropped.
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Listens on `127.0.0.1:0` and forwards to `upstream` over a link of this shape.
    pub async fn start(upstream: SocketAddr, link: LinkShape) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            link: Link::new(link),
            rules: Mutex::default(),
            stats: Mutex::default(),
            tasks: Mutex::default(),
        });
        let sh = shared.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                sh.stats(|s| s.connections += 1);
                let task = tokio::spawn(serve(sh.clone(), client));
                let mut tasks = lock(&sh.tasks);
                tasks.retain(|t| !t.is_finished());
                tasks.push(task.abort_handle());
            }
        });
        Ok(Proxy {
            addr,
            shared,
            accept,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shape of the link.
    pub fn link(&self) -> &LinkShape {
        self.shared.link.shape()
    }

    /// Replaces the fault plan; its rules count requests seen from now on.
    pub fn set_faults(&self, plan: FaultPlan) {
        *lock(&self.shared.rules) = activate(plan);
    }

    pub fn stats(&self) -> ProxyStats {
        lock(&self.shared.stats).clone()
    }

    pub fn reset_stats(&self) {
        *lock(&self.shared.stats) = ProxyStats::default();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        for t in lock(&self.shared.tasks).drain(..) {
            t.abort();
        }
    }
}

/// What a gateway answers by itself.
fn gateway_answer(status: u16) -> Vec<u8> {
    let reason = match status {
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    };
    let body = format!("<html><body><h1>{status} {reason}</h1></body></html>\n");
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A connection to the server with its reader.
struct Upstream {
    stream: TcpStream,
    reader: MessageReader,
}

impl Upstream {
    async fn connect(addr: SocketAddr) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        let _ = stream.set_nodelay(true);
        Ok(Self {
            stream,
            reader: MessageReader::new(),
        })
    }

    /// Reads the answer to a request (informational answers are passed over).
    async fn response(&mut self, to_head: bool) -> std::io::Result<Message> {
        loop {
            let m = self
                .reader
                .next(&mut self.stream, Kind::Response { to_head })
                .await?
                .ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the server closed the connection without answering",
                    )
                })?;
            if !m
                .head
                .status()
                .is_some_and(|s| (100..200).contains(&s) && s != 101)
            {
                return Ok(m);
            }
        }
    }
}

/// Whether the device connection stays open after a request.
enum Next {
    KeepAlive,
    Close,
}

/// One device connection: requests in order, each forwarded (or faulted) and answered.
async fn serve(shared: Arc<Shared>, mut client: TcpStream) {
    let _ = client.set_nodelay(true);
    let mut reader = MessageReader::new();
    let mut up: Option<Upstream> = None;
    let mut lane = shared.link.open_lane();
    loop {
        let req = match reader.next(&mut client, Kind::Request).await {
            Ok(Some(r)) => r,
            _ => break,
        };
        let path = req.head.target().to_string();
        let fault = shared.decide(&path);
        shared.stats(|s| {
            s.requests += 1;
            s.bytes_up += req.raw.len() as u64;
            s.paths.push(path.clone());
            if let Some(f) = fault {
                s.faults_applied += 1;
                s.faults.push((s.requests, path.clone(), f));
            }
        });
        match handle(&shared, &mut client, &mut up, &mut lane, &req, fault).await {
            Ok(Next::KeepAlive) if !req.head.closes() => {}
            _ => break,
        }
    }
    let _ = client.shutdown().await;
    if let Some(mut u) = up {
        let _ = u.stream.shutdown().await;
    }
}

async fn handle(
    shared: &Shared,
    client: &mut TcpStream,
    up: &mut Option<Upstream>,
    lane: &mut Lane,
    req: &Message,
    fault: Option<Fault>,
) -> std::io::Result<Next> {
    let link = &shared.link;
    let to_head = req.head.method().eq_ignore_ascii_case("HEAD");
    match fault {
        Some(Fault::Answer(status)) => {
            link.carry(Direction::Up, req.raw.len(), lane).await;
            deliver(shared, client, &gateway_answer(status), lane).await?;
            return Ok(Next::KeepAlive);
        }
        Some(Fault::DropMidRequest) => {
            let body = req.raw.len() - req.head_len;
            let cut = if body > 0 {
                req.head_len + body / 2
            } else {
                req.head_len / 2
            };
            let u = connected(up, shared.upstream).await?;
            link.send(Direction::Up, &mut u.stream, &req.raw[..cut], lane)
                .await?;
            return Ok(Next::Close);
        }
        Some(Fault::CutRequestAt(at)) => {
            let cut = req.raw.len() * usize::from(at.min(999)) / 1000;
            let u = connected(up, shared.upstream).await?;
            if cut > 0 {
                link.send(Direction::Up, &mut u.stream, &req.raw[..cut], lane)
                    .await?;
            }
            return Ok(Next::Close);
        }
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        _ => {}
    }
    // Forward, and read the server's answer.
    let u = connected(up, shared.upstream).await?;
    link.send(Direction::Up, &mut u.stream, &req.raw, lane)
        .await?;
    let mut resp = u.response(to_head).await?;
    if resp.closes() {
        *up = None;
    }
    if fault == Some(Fault::Duplicate) {
        let mut second = Upstream::connect(shared.upstream).await?;
        second.stream.write_all(&req.raw).await?;
        resp = second.response(to_head).await?;
        let _ = second.stream.shutdown().await;
    }
    match fault {
        Some(Fault::DropMidResponse) => {
            let cut = resp.head_len / 2;
            deliver(shared, client, &resp.raw[..cut], lane).await?;
            Ok(Next::Close)
        }
        Some(Fault::TruncateBody) => {
            let body = resp.raw.len() - resp.head_len;
            let cut = resp.head_len + body / 2;
            deliver(shared, client, &resp.raw[..cut], lane).await?;
            Ok(Next::Close)
        }
        Some(Fault::CutResponseAt(at)) => {
            let cut = resp.raw.len() * usize::from(at.min(999)) / 1000;
            deliver(shared, client, &resp.raw[..cut], lane).await?;
            Ok(Next::Close)
        }
        Some(Fault::AnswerAfterForward(status)) => {
            deliver(shared, client, &gateway_answer(status), lane).await?;
            Ok(Next::KeepAlive)
        }
        _ => {
            let closes = resp.closes();
            deliver(shared, client, &resp.raw, lane).await?;
            Ok(if closes { Next::Close } else { Next::KeepAlive })
        }
    }
}

/// Sends an answer to the device through the link, counting its bytes.
async fn deliver(
    shared: &Shared,
    client: &mut TcpStream,
    bytes: &[u8],
    lane: &mut Lane,
) -> std::io::Result<()> {
    let r = shared.link.send(Direction::Down, client, bytes, lane).await;
    shared.stats(|s| s.bytes_down += bytes.len() as u64);
    r
}

/// The device connection's upstream connection, opened when first needed.
async fn connected(up: &mut Option<Upstream>, addr: SocketAddr) -> std::io::Result<&mut Upstream> {
    if up.is_none() {
        *up = Some(Upstream::connect(addr).await?);
    }
    up.as_mut()
        .ok_or_else(|| std::io::Error::other("no upstream connection"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use tokio::io::AsyncReadExt;

    /// A tiny keep-alive upstream: answers every request with its target and a count of the
    /// requests it has seen, in a chunked or a sized body.
    async fn upstream() -> (SocketAddr, Arc<AtomicU64>) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let seen = Arc::new(AtomicU64::new(0));
        let s = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut c, _)) = l.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let mut r = MessageReader::new();
                    while let Ok(Some(m)) = r.next(&mut c, Kind::Request).await {
                        let n = s.fetch_add(1, Ordering::SeqCst) + 1;
                        let body = format!("{} #{n} {}", m.head.target(), m.body_raw().len());
                        let resp = if m.head.target().contains("chunked") {
                            format!(
                                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
                                body.len()
                            )
                        } else {
                            format!(
                                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                                body.len()
                            )
                        };
                        if c.write_all(resp.as_bytes()).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        (addr, seen)
    }

    fn post(path: &str, body: &str) -> Vec<u8> {
        format!(
            "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    async fn exchange(
        c: &mut TcpStream,
        r: &mut MessageReader,
        req: &[u8],
    ) -> std::io::Result<Option<Message>> {
        c.write_all(req).await?;
        r.next(c, Kind::Response { to_head: false }).await
    }

    #[tokio::test]
    async fn keep_alive_requests_each_meet_their_own_fault() {
        let (up, seen) = upstream().await;
        let proxy = Proxy::start(up, LinkShape::loopback()).await.unwrap();
        proxy.set_faults(
            FaultPlan::new()
                .on("/v1/sync/push", When::Nth(2), Fault::Answer(503))
                .on("/v1/sync/push", When::Nth(3), Fault::Duplicate)
                .on(
                    "/v1/sync/pull",
                    When::Nth(1),
                    Fault::AnswerAfterForward(502),
                ),
        );
        let mut c = TcpStream::connect(proxy.addr()).await.unwrap();
        let mut r = MessageReader::new();
        let status = |m: &Message| m.head.status().unwrap();
        let body = |m: &Message| String::from_utf8(m.body_raw().to_vec()).unwrap();
        let m = exchange(&mut c, &mut r, &post("/v1/sync/push", "abc"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((status(&m), body(&m)), (200, "/v1/sync/push #1 3".into()));
        // Answered by the proxy: the upstream does not see it.
        let m = exchange(&mut c, &mut r, &post("/v1/sync/push", "abc"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status(&m), 503);
        assert!(body(&m).contains("Service Unavailable"));
        // Sent twice: the device gets the second answer.
        let m = exchange(&mut c, &mut r, &post("/v1/sync/push/chunked", "x"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m.framing, http1::Framing::Chunked);
        assert!(body(&m).contains("#3"), "{}", body(&m));
        assert_eq!(seen.load(Ordering::SeqCst), 3);
        // Handled upstream, but the device sees 502.
        let m = exchange(&mut c, &mut r, &post("/v1/sync/pull", ""))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status(&m), 502);
        assert_eq!(seen.load(Ordering::SeqCst), 4);
        // Two pipelined requests in one write: answered in order.
        let mut two = post("/a", "1");
        two.extend(post("/b", "22"));
        c.write_all(&two).await.unwrap();
        let a = r
            .next(&mut c, Kind::Response { to_head: false })
            .await
            .unwrap()
            .unwrap();
        let b = r
            .next(&mut c, Kind::Response { to_head: false })
            .await
            .unwrap()
            .unwrap();
        assert_eq!((body(&a), body(&b)), ("/a #5 1".into(), "/b #6 2".into()));
        let st = proxy.stats();
        assert_eq!(st.requests, 6);
        assert_eq!(st.connections, 1);
        assert_eq!(st.faults_applied, 3);
        assert_eq!(
            st.paths,
            [
                "/v1/sync/push",
                "/v1/sync/push",
                "/v1/sync/push/chunked",
                "/v1/sync/pull",
                "/a",
                "/b"
            ]
        );
        assert!(st.bytes_up > 6 * 40 && st.bytes_down > 6 * 40, "{st:?}");
        proxy.reset_stats();
        assert_eq!(proxy.stats(), ProxyStats::default());
    }

    #[tokio::test]
    async fn cuts_close_the_connection_where_they_say() {
        let (up, seen) = upstream().await;
        let proxy = Proxy::start(up, LinkShape::loopback()).await.unwrap();
        let read_all = |mut c: TcpStream| async move {
            let mut got = Vec::new();
            let _ = c.read_to_end(&mut got).await;
            got
        };
        // Half the request: the upstream never sees a whole request.
        proxy.set_faults(FaultPlan::new().on("/", When::Every, Fault::DropMidRequest));
        let mut c = TcpStream::connect(proxy.addr()).await.unwrap();
        c.write_all(&post("/x", "0123456789")).await.unwrap();
        assert!(read_all(c).await.is_empty());
        // Part of the head.
        proxy.set_faults(FaultPlan::new().on("/", When::Every, Fault::DropMidResponse));
        let mut c = TcpStream::connect(proxy.addr()).await.unwrap();
        c.write_all(&post("/y", "0123456789")).await.unwrap();
        let got = read_all(c).await;
        assert!(!got.is_empty() && !got.windows(4).any(|w| w == b"\r\n\r\n"));
        // The whole head and half the body.
        proxy.set_faults(FaultPlan::new().on("/", When::Every, Fault::TruncateBody));
        let mut c = TcpStream::connect(proxy.addr()).await.unwrap();
        c.write_all(&post("/z", "0123456789")).await.unwrap();
        let got = read_all(c).await;
        let p = http1::parse(&got, Kind::Response { to_head: false })
            .unwrap()
            .unwrap();
        assert_eq!(p.len, None, "incomplete");
        assert!(got.len() > p.head_len);
        // DropMidResponse and TruncateBody were handled upstream; DropMidRequest was not.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(seen.load(Ordering::SeqCst), 2);
        assert_eq!(proxy.stats().faults_applied, 3);
        // A cut at a chosen point: exactly that many bytes of the request, or of the answer.
        let req = post("/w", "0123456789");
        proxy.set_faults(FaultPlan::new().on("/", When::Every, Fault::CutRequestAt(500)));
        let mut c = TcpStream::connect(proxy.addr()).await.unwrap();
        c.write_all(&req).await.unwrap();
        assert!(read_all(c).await.is_empty());
        proxy.set_faults(FaultPlan::new().on("/", When::Every, Fault::CutResponseAt(250)));
        let mut c = TcpStream::connect(proxy.addr()).await.unwrap();
        c.write_all(&req).await.unwrap();
        let got = read_all(c).await;
        let whole = "HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\n/w #3 10".to_string();
        assert_eq!(got, &whole.as_bytes()[..whole.len() / 4]);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            seen.load(Ordering::SeqCst),
            3,
            "the cut request never reached it"
        );
        let st = proxy.stats();
        assert_eq!(st.faults.len(), 5, "{st:?}");
        assert_eq!(st.faults[4], (5, "/w".into(), Fault::CutResponseAt(250)));
    }

    #[test]
    fn rules_pick_by_prefix_and_occurrence() {
        let shared = Shared {
            upstream: "127.0.0.1:1".parse().unwrap(),
            link: Link::new(LinkShape::loopback()),
            rules: Mutex::default(),
            stats: Mutex::default(),
            tasks: Mutex::default(),
        };
        let set = |plan: FaultPlan| *lock(&shared.rules) = activate(plan);
        set(FaultPlan::new()
            .on("/v1/sync/push", When::FirstN(2), Fault::Answer(502))
            .on("/v1/sync/push", When::Nth(2), Fault::Duplicate)
            .on("/v1/sync/push", When::Nth(3), Fault::Duplicate));
        let got: Vec<_> = [
            "/v1/sync/push",
            "/v1/sync/pull",
            "/v1/sync/push",
            "/v1/sync/push",
        ]
        .iter()
        .map(|p| shared.decide(p))
        .collect();
        assert_eq!(
            got,
            [
                Some(Fault::Answer(502)),
                None,
                Some(Fault::Answer(502)),
                Some(Fault::Duplicate)
            ]
        );
        let draw = |seed| {
            set(FaultPlan::new().on(
                "/",
                When::Random {
                    probability: 0.3,
                    seed,
                },
                Fault::Answer(503),
            ));
            (0..1000)
                .map(|_| shared.decide("/v1/sync/status").is_some())
                .collect::<Vec<_>>()
        };
        // Random cuts: the same seed gives the same cuts; both sides and points all over.
        let cuts = |seed| {
            set(FaultPlan::new().on(
                "/v1/sync/",
                When::Random {
                    probability: 0.5,
                    seed,
                },
                Fault::RandomCut,
            ));
            (0..400)
                .filter_map(|_| shared.decide("/v1/sync/push"))
                .collect::<Vec<_>>()
        };
        let c = cuts(9);
        assert_eq!(c, cuts(9));
        assert_ne!(c, cuts(10));
        let req: Vec<u16> = c
            .iter()
            .filter_map(|f| match f {
                Fault::CutRequestAt(n) => Some(*n),
                _ => None,
            })
            .collect();
        let resp = c
            .iter()
            .filter(|f| matches!(f, Fault::CutResponseAt(_)))
            .count();
        assert!(req.len() > 50 && resp > 50, "{c:?}");
        assert!(req.iter().any(|n| *n < 100) && req.iter().any(|n| *n > 900));
        let a = draw(5);
        assert_eq!(a, draw(5));
        let n = a.iter().filter(|x| **x).count();
        assert!((240..=360).contains(&n), "{n}");
    }
}
