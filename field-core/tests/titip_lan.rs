//! Titip over the local network (`field_core::sync::lan`) with real sockets on loopback:
//! a whole file delivered once to the tablet that knows the code; wrong codes refused and
//! counted until the offer ends; a stranger's bytes, a cut connection, an expired or
//! cancelled offer; a file changed on the way refused.

use field_core::sync::lan::{
    self, LanError, LanOffer, LanTimes, MAX_WRONG, OfferState, normalise_code,
};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().expect("address")
}

fn times() -> LanTimes {
    LanTimes {
        ttl: Duration::from_secs(30),
        io: Duration::from_secs(3),
    }
}

fn addr(o: &LanOffer) -> String {
    format!("127.0.0.1:{}", o.port())
}

fn wrong_code(code: &str) -> String {
    let d = (code.as_bytes()[0] - b'0' + 1) % 10;
    format!("{d}{}", &code[1..])
}

fn wait_state(o: &LanOffer, f: impl Fn(&OfferState) -> bool) -> OfferState {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let s = o.state();
        if f(&s) || Instant::now() > until {
            return s;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_file_arrives_whole_once_with_the_right_code() {
    let file: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let offer = LanOffer::start(file.clone(), loopback(), times()).expect("offer");
    assert_eq!(offer.code().len(), 6);
    assert_eq!(offer.state(), OfferState::Waiting { wrong: 0 });
    // Typed with a space in the middle, as the screen groups it.
    let typed = format!("{} {}", &offer.code()[..3], &offer.code()[3..]);
    let got = lan::receive(&addr(&offer), &typed, Duration::from_secs(3)).expect("receive");
    assert_eq!(got, file);
    assert_eq!(
        wait_state(&offer, OfferState::ended),
        OfferState::Delivered {
            bytes: file.len() as u64
        }
    );
    // One delivery: the offer no longer listens.
    let again = lan::receive(&addr(&offer), offer.code(), Duration::from_secs(3));
    assert!(matches!(again, Err(LanError::Unreachable(_))), "{again:?}");
}

#[test]
fn wrong_codes_are_refused_and_end_the_offer() {
    let offer = LanOffer::start(b"sealed".to_vec(), loopback(), times()).expect("offer");
    let bad = wrong_code(offer.code());
    for i in 1..MAX_WRONG {
        let r = lan::receive(&addr(&offer), &bad, Duration::from_secs(3));
        assert!(matches!(r, Err(LanError::WrongCode)), "{r:?}");
        assert_eq!(
            wait_state(&offer, |s| *s == OfferState::Waiting { wrong: i }),
            OfferState::Waiting { wrong: i }
        );
    }
    // The right code still works before the last wrong one…
    let r = lan::receive(&addr(&offer), &bad, Duration::from_secs(3));
    assert!(matches!(r, Err(LanError::WrongCode)), "{r:?}");
    assert_eq!(wait_state(&offer, OfferState::ended), OfferState::Locked);
    // …but not after: the offer ended.
    let r = lan::receive(&addr(&offer), offer.code(), Duration::from_secs(3));
    assert!(matches!(r, Err(LanError::Unreachable(_))), "{r:?}");
}

#[test]
fn a_stranger_and_a_cut_connection_do_not_end_the_offer() {
    let offer = LanOffer::start(b"sealed bundle".to_vec(), loopback(), times()).expect("offer");
    // Something that is not a Jangkau receiver: dropped, not counted.
    let mut s = TcpStream::connect(addr(&offer)).expect("connect");
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    assert!(buf.is_empty(), "a stranger gets nothing: {buf:?}");
    // A receiver that says hello and goes away.
    let mut s = TcpStream::connect(addr(&offer)).expect("connect");
    s.write_all(b"JKLN\x01").expect("write");
    drop(s);
    assert_eq!(offer.state(), OfferState::Waiting { wrong: 0 });
    let got = lan::receive(&addr(&offer), offer.code(), Duration::from_secs(3)).expect("receive");
    assert_eq!(got, b"sealed bundle");
}

#[test]
fn a_receiver_meeting_something_else_says_so() {
    // A listener that answers with other bytes (say, a web server).
    let l = std::net::TcpListener::bind(loopback()).expect("bind");
    let a = l.local_addr().expect("addr");
    let t = std::thread::spawn(move || {
        if let Ok((mut s, _)) = l.accept() {
            let mut b = [0u8; 21];
            let _ = s.read_exact(&mut b);
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        }
    });
    let r = lan::receive(&a.to_string(), "123456", Duration::from_secs(3));
    assert!(matches!(r, Err(LanError::NotJangkau)), "{r:?}");
    t.join().expect("join");
}

#[test]
fn a_file_changed_on_the_way_is_refused() {
    // A relay in the middle that knows no code flips one byte of the file.
    let offer = LanOffer::start(vec![7u8; 1000], loopback(), times()).expect("offer");
    let l = std::net::TcpListener::bind(loopback()).expect("bind");
    let middle = l.local_addr().expect("addr");
    let upstream = addr(&offer);
    let t = std::thread::spawn(move || {
        let (mut down, _) = l.accept().expect("accept");
        let mut up = TcpStream::connect(upstream).expect("up");
        let mut hello = [0u8; 21];
        down.read_exact(&mut hello).expect("hello");
        up.write_all(&hello).expect("hello up");
        let mut reply = [0u8; 22];
        up.read_exact(&mut reply).expect("reply");
        down.write_all(&reply).expect("reply down");
        let mut proof = [0u8; 32];
        down.read_exact(&mut proof).expect("proof");
        up.write_all(&proof).expect("proof up");
        let mut rest = vec![0u8; 1 + 4 + 1000 + 32];
        up.read_exact(&mut rest).expect("file");
        rest[100] ^= 1;
        down.write_all(&rest).expect("file down");
        let mut ack = [0u8; 1];
        let _ = down.read(&mut ack);
    });
    let r = lan::receive(&middle.to_string(), offer.code(), Duration::from_secs(3));
    assert!(matches!(r, Err(LanError::Tampered)), "{r:?}");
    t.join().expect("join");
    // The offerer never got the receipt: not delivered.
    assert!(!matches!(offer.state(), OfferState::Delivered { .. }));
}

#[test]
fn an_offer_expires_and_can_be_cancelled() {
    let short = LanTimes {
        ttl: Duration::from_millis(200),
        io: Duration::from_secs(1),
    };
    let offer = LanOffer::start(b"x".to_vec(), loopback(), short).expect("offer");
    assert_eq!(wait_state(&offer, OfferState::ended), OfferState::Expired);
    let r = lan::receive(&addr(&offer), offer.code(), Duration::from_secs(1));
    assert!(matches!(r, Err(LanError::Unreachable(_))), "{r:?}");

    let mut offer = LanOffer::start(b"x".to_vec(), loopback(), times()).expect("offer");
    offer.cancel();
    assert_eq!(offer.state(), OfferState::Cancelled);
}

#[test]
fn typed_codes_and_addresses_are_checked_before_connecting() {
    assert_eq!(normalise_code(" 123-456 ").expect("code"), "123456");
    assert!(matches!(normalise_code("12345"), Err(LanError::BadCode)));
    assert!(matches!(normalise_code("12345a"), Err(LanError::BadCode)));
    let r = lan::receive("192.168.1.5", "123456", Duration::from_secs(1));
    assert!(matches!(r, Err(LanError::BadAddress(_))), "{r:?}");
    let too_big = vec![0u8; lan::MAX_FILE + 1];
    assert!(matches!(
        LanOffer::start(too_big, loopback(), times()),
        Err(LanError::TooLarge)
    ));
    // Codes are 6 digits and not all the same.
    let codes: std::collections::BTreeSet<String> = (0..50).map(|_| lan::new_code()).collect();
    assert!(
        codes
            .iter()
            .all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
    );
    assert!(codes.len() > 40);
}
