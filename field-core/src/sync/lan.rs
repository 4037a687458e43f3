//! Titip over the local network (`docs/sync-protocol.md` §10, "Over the local network"):
//! one tablet **offers** a titip file (a kader's sealed bundle, or a carrier's pack of
//! answers) on a TCP port of its network and shows its address and a 6-digit one-time code;
//! the tablet next to it **receives** it with that address and code.
//!
//! The files are already sealed and signed end to end (`sync_protocol::relay`), so this
//! channel adds no secrecy. The code only keeps strangers on the same network from taking
//! the session or slipping in another file: each side proves it knows the code with
//! HMAC-SHA256 over both sides' fresh nonces (a recorded exchange cannot be replayed), the
//! file arrives with a tag under the code, three wrong codes end the offer, and the offer
//! ends by itself after its time-to-live or after one delivery. Sizes are bounded and every
//! read and write has a timeout.
//!
//! Wire (all lengths big-endian):
//! 1. receiver → offerer: `JKLN`, version `1`, 16 random bytes `rn`;
//! 2. offerer → receiver: `JKLN`, version `1`, status (`0` open, `2` ended), 16 random
//!    bytes `on`;
//! 3. receiver → offerer: `HMAC(code, "jangkau titip lan v1 proof" ‖ rn ‖ on)` (32 bytes);
//! 4. offerer → receiver: status (`0` right code, `1` wrong code, `2` ended); when `0`: the
//!    file's length (4 bytes, at most [`MAX_FILE`]), the file, and
//!    `HMAC(code, "jangkau titip lan v1 file" ‖ rn ‖ on ‖ length ‖ file)` (32 bytes);
//! 5. receiver → offerer: `0` once the tag matched (the offer is then delivered and ends).

use chacha20poly1305::aead::OsRng;
use chacha20poly1305::aead::rand_core::RngCore;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

type HmacSha256 = Hmac<Sha256>;

const MAGIC: &[u8; 4] = b"JKLN";
const VERSION: u8 = 1;
const OPEN: u8 = 0;
const WRONG: u8 = 1;
const ENDED: u8 = 2;
const PROOF_LABEL: &[u8] = b"jangkau titip lan v1 proof";
const FILE_LABEL: &[u8] = b"jangkau titip lan v1 file";

/// The largest file handed over (a carrier's pack for many tablets stays far below).
pub const MAX_FILE: usize = 32 * 1024 * 1024;
/// How long an offer waits for the tablet next to it.
pub const OFFER_TTL: Duration = Duration::from_secs(10 * 60);
/// Wrong codes after which an offer ends.
pub const MAX_WRONG: u32 = 3;
/// The longest wait for any one read or write.
pub const IO_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a hand-over over the network failed. Nothing local is changed by any of them.
#[derive(Debug, thiserror::Error)]
pub enum LanError {
    #[error("not an address with a port (like 192.168.43.1:40123): {0}")]
    BadAddress(String),
    #[error("the code is 6 digits")]
    BadCode,
    #[error("the other tablet cannot be reached: {0}")]
    Unreachable(io::Error),
    #[error("the other tablet refused the code")]
    WrongCode,
    #[error("the offer has ended (delivered, cancelled, expired or too many wrong codes)")]
    Ended,
    #[error("the other side is not a Jangkau tablet offering titip")]
    NotJangkau,
    #[error("the file is larger than {MAX_FILE} bytes")]
    TooLarge,
    #[error("the file did not match the code: it was changed on the way")]
    Tampered,
    #[error("the connection was cut or timed out: {0}")]
    Cut(io::Error),
    #[error("no network port could be opened: {0}")]
    Listen(io::Error),
}

impl LanError {
    /// The message key the app translates.
    pub fn message_key(&self) -> &'static str {
        match self {
            LanError::BadAddress(_) => "titip.error.lan_address",
            LanError::BadCode => "titip.error.lan_code_format",
            LanError::Unreachable(_) => "titip.error.lan_unreachable",
            LanError::WrongCode => "titip.error.lan_wrong_code",
            LanError::Ended => "titip.error.lan_ended",
            LanError::NotJangkau => "titip.error.lan_not_jangkau",
            LanError::TooLarge => "titip.error.lan_too_large",
            LanError::Tampered => "titip.error.lan_tampered",
            LanError::Cut(_) => "titip.error.lan_cut",
            LanError::Listen(_) => "titip.error.lan_listen",
        }
    }

    /// One of each, for the test that every key has sentences.
    pub fn examples() -> Vec<LanError> {
        let e = || io::Error::other("x");
        vec![
            LanError::BadAddress("x".into()),
            LanError::BadCode,
            LanError::Unreachable(e()),
            LanError::WrongCode,
            LanError::Ended,
            LanError::NotJangkau,
            LanError::TooLarge,
            LanError::Tampered,
            LanError::Cut(e()),
            LanError::Listen(e()),
        ]
    }
}

/// Where an offer stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum OfferState {
    /// Waiting for the tablet next to it; `wrong` codes were tried so far.
    Waiting { wrong: u32 },
    /// The file was received whole by a tablet that knew the code.
    Delivered { bytes: u64 },
    /// Ended after [`MAX_WRONG`] wrong codes.
    Locked,
    /// Ended after its time-to-live.
    Expired,
    /// Ended by the user.
    Cancelled,
}

impl OfferState {
    pub fn ended(&self) -> bool {
        !matches!(self, OfferState::Waiting { .. })
    }
}

/// Timings of an offer or a receipt (tests shorten them).
#[derive(Debug, Clone, Copy)]
pub struct LanTimes {
    pub ttl: Duration,
    pub io: Duration,
}

impl Default for LanTimes {
    fn default() -> Self {
        Self {
            ttl: OFFER_TTL,
            io: IO_TIMEOUT,
        }
    }
}

/// A file offered on the network until it is delivered once, cancelled, locked or expired.
/// Dropping it ends the offer.
pub struct LanOffer {
    port: u16,
    code: String,
    expires: Instant,
    state: Arc<Mutex<OfferState>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for LanOffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The code stays out of logs.
        f.debug_struct("LanOffer")
            .field("port", &self.port)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A fresh 6-digit code, uniform over 000000–999999.
pub fn new_code() -> String {
    loop {
        let n = OsRng.next_u32();
        // Rejection sampling: the top partial block of u32 would favour small codes.
        if n < 4_294_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

/// The code as typed ("123 456", "123-456") reduced to its 6 digits.
pub fn normalise_code(typed: &str) -> Result<String, LanError> {
    let digits: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(LanError::BadCode)
    }
}

/// The address as typed, with its port.
pub fn parse_address(typed: &str) -> Result<SocketAddr, LanError> {
    typed
        .trim()
        .parse::<SocketAddr>()
        .map_err(|_| LanError::BadAddress(typed.trim().chars().take(64).collect()))
}

/// This tablet's address on its network (the one its default route leaves from): nothing is
/// sent, a UDP socket is only pointed at a public address. `None` without any network.
pub fn local_ip() -> Option<IpAddr> {
    let s = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    s.connect((Ipv4Addr::new(192, 0, 2, 1), 9)).ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_unspecified()).then_some(ip)
}

fn mac(code: &str, label: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    // HMAC takes a key of any length; this cannot fail.
    let mut m = <HmacSha256 as Mac>::new_from_slice(code.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    m.update(label);
    for p in parts {
        m.update(p);
    }
    m
}

fn nonce() -> [u8; 16] {
    let mut n = [0u8; 16];
    OsRng.fill_bytes(&mut n);
    n
}

impl LanOffer {
    /// Offers `file` on `bind` (port 0: any free port) with a fresh code.
    pub fn start(file: Vec<u8>, bind: SocketAddr, times: LanTimes) -> Result<Self, LanError> {
        if file.len() > MAX_FILE {
            return Err(LanError::TooLarge);
        }
        let listener = TcpListener::bind(bind).map_err(LanError::Listen)?;
        listener.set_nonblocking(true).map_err(LanError::Listen)?;
        let port = listener.local_addr().map_err(LanError::Listen)?.port();
        let code = new_code();
        let expires = Instant::now() + times.ttl;
        let state = Arc::new(Mutex::new(OfferState::Waiting { wrong: 0 }));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, stop, code) = (Arc::clone(&state), Arc::clone(&stop), code.clone());
            std::thread::Builder::new()
                .name("titip-lan-offer".into())
                .spawn(move || serve(listener, &file, &code, expires, times.io, &state, &stop))
                .map_err(LanError::Listen)?
        };
        Ok(Self {
            port,
            code,
            expires,
            state,
            stop,
            thread: Some(thread),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The one-time code to show.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// How long until the offer expires.
    pub fn remaining(&self) -> Duration {
        self.expires.saturating_duration_since(Instant::now())
    }

    pub fn state(&self) -> OfferState {
        lock(&self.state).clone()
    }

    /// Ends the offer (a delivered one stays delivered).
    pub fn cancel(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let mut s = lock(&self.state);
        if !s.ended() {
            *s = OfferState::Cancelled;
        }
    }
}

impl Drop for LanOffer {
    fn drop(&mut self) {
        self.cancel();
    }
}

fn serve(
    listener: TcpListener,
    file: &[u8],
    code: &str,
    expires: Instant,
    io_timeout: Duration,
    state: &Mutex<OfferState>,
    stop: &AtomicBool,
) {
    loop {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        if Instant::now() >= expires {
            *lock(state) = OfferState::Expired;
            return;
        }
        match listener.accept() {
            Ok((stream, _)) => {
                let outcome = answer(stream, file, code, io_timeout);
                let mut s = lock(state);
                match (outcome, &*s) {
                    (Served::Delivered, _) => {
                        *s = OfferState::Delivered {
                            bytes: file.len() as u64,
                        };
                        return;
                    }
                    (Served::Wrong, OfferState::Waiting { wrong }) => {
                        let wrong = wrong + 1;
                        if wrong >= MAX_WRONG {
                            *s = OfferState::Locked;
                            return;
                        }
                        *s = OfferState::Waiting { wrong };
                    }
                    _ => {}
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
            }
            // A connection that failed before it was accepted: wait for the next one.
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

enum Served {
    Delivered,
    Wrong,
    /// Not a Jangkau receiver, cut, or timed out: counts for nothing.
    Dropped,
}

fn answer(mut s: TcpStream, file: &[u8], code: &str, io_timeout: Duration) -> Served {
    let mut run = || -> io::Result<Served> {
        s.set_nonblocking(false)?;
        s.set_read_timeout(Some(io_timeout))?;
        s.set_write_timeout(Some(io_timeout))?;
        s.set_nodelay(true)?;
        let mut hello = [0u8; 21];
        s.read_exact(&mut hello)?;
        if &hello[..4] != MAGIC || hello[4] != VERSION {
            return Ok(Served::Dropped);
        }
        let rn = &hello[5..21];
        let on = nonce();
        let mut reply = Vec::with_capacity(22);
        reply.extend_from_slice(MAGIC);
        reply.push(VERSION);
        reply.push(OPEN);
        reply.extend_from_slice(&on);
        s.write_all(&reply)?;
        let mut proof = [0u8; 32];
        s.read_exact(&mut proof)?;
        if mac(code, PROOF_LABEL, &[rn, &on])
            .verify_slice(&proof)
            .is_err()
        {
            s.write_all(&[WRONG])?;
            return Ok(Served::Wrong);
        }
        let len = (file.len() as u32).to_be_bytes();
        let tag = mac(code, FILE_LABEL, &[rn, &on, &len, file])
            .finalize()
            .into_bytes();
        s.write_all(&[OPEN])?;
        s.write_all(&len)?;
        s.write_all(file)?;
        s.write_all(&tag)?;
        s.flush()?;
        let mut ack = [1u8; 1];
        s.read_exact(&mut ack)?;
        Ok(if ack[0] == 0 {
            Served::Delivered
        } else {
            Served::Dropped
        })
    };
    run().unwrap_or(Served::Dropped)
}

fn cut(e: io::Error) -> LanError {
    LanError::Cut(e)
}

/// Receives the file offered at `address` with `code` (as typed).
pub fn receive(address: &str, code: &str, io_timeout: Duration) -> Result<Vec<u8>, LanError> {
    let addr = parse_address(address)?;
    let code = normalise_code(code)?;
    let mut s = TcpStream::connect_timeout(&addr, io_timeout).map_err(LanError::Unreachable)?;
    s.set_read_timeout(Some(io_timeout)).map_err(cut)?;
    s.set_write_timeout(Some(io_timeout)).map_err(cut)?;
    s.set_nodelay(true).map_err(cut)?;
    let rn = nonce();
    let mut hello = Vec::with_capacity(21);
    hello.extend_from_slice(MAGIC);
    hello.push(VERSION);
    hello.extend_from_slice(&rn);
    s.write_all(&hello).map_err(cut)?;
    let mut reply = [0u8; 22];
    s.read_exact(&mut reply).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => LanError::NotJangkau,
        _ => cut(e),
    })?;
    if &reply[..4] != MAGIC || reply[4] != VERSION {
        return Err(LanError::NotJangkau);
    }
    if reply[5] != OPEN {
        return Err(LanError::Ended);
    }
    let on = &reply[6..22];
    let proof = mac(&code, PROOF_LABEL, &[&rn, on]).finalize().into_bytes();
    s.write_all(&proof).map_err(cut)?;
    let mut status = [0u8; 1];
    s.read_exact(&mut status).map_err(cut)?;
    match status[0] {
        OPEN => {}
        WRONG => return Err(LanError::WrongCode),
        ENDED => return Err(LanError::Ended),
        _ => return Err(LanError::NotJangkau),
    }
    let mut len = [0u8; 4];
    s.read_exact(&mut len).map_err(cut)?;
    let n = u32::from_be_bytes(len) as usize;
    if n > MAX_FILE {
        return Err(LanError::TooLarge);
    }
    let mut file = vec![0u8; n];
    s.read_exact(&mut file).map_err(cut)?;
    let mut tag = [0u8; 32];
    s.read_exact(&mut tag).map_err(cut)?;
    mac(&code, FILE_LABEL, &[&rn, on, &len, &file])
        .verify_slice(&tag)
        .map_err(|_| LanError::Tampered)?;
    s.write_all(&[0]).map_err(cut)?;
    let _ = s.flush();
    Ok(file)
}
