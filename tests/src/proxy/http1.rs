//! HTTP/1.1 message framing, as much as a proxy needs to find where each message ends: the
//! start line, the headers, and the body by `Transfer-Encoding: chunked`, `Content-Length`,
//! or (responses only) the end of the connection. Messages are kept as the bytes that came
//! in, so they are forwarded unchanged.

use tokio::io::{AsyncRead, AsyncReadExt};

/// The longest head (start line and headers) accepted.
pub const MAX_HEAD: usize = 64 * 1024;
/// The longest body accepted.
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// Why bytes are not an HTTP/1.1 message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error("the message head is over {MAX_HEAD} bytes")]
    HeadTooLarge,
    #[error("bad start line {0:?}")]
    BadStartLine(String),
    #[error("bad header line {0:?}")]
    BadHeader(String),
    #[error("bad or conflicting Content-Length")]
    BadContentLength,
    #[error("a request with a transfer coding other than chunked")]
    BadTransferEncoding,
    #[error("bad chunk framing at byte {0}")]
    BadChunk(usize),
    #[error("the body is over {MAX_BODY} bytes")]
    BodyTooLarge,
}

/// Which message is read: a request, or the response to a request (`HEAD` responses have
/// no body whatever their headers say).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Request,
    Response { to_head: bool },
}

/// The start line and headers of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The request line or the status line.
    pub start: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first value of a header (names compare without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The request method (the first word of a request line).
    pub fn method(&self) -> &str {
        self.start.split(' ').next().unwrap_or_default()
    }

    /// The request target (the second word of a request line), e.g. `/v1/sync/push`.
    pub fn target(&self) -> &str {
        self.start.split(' ').nth(1).unwrap_or_default()
    }

    /// The status code of a status line.
    pub fn status(&self) -> Option<u16> {
        self.start.split(' ').nth(1).and_then(|s| s.parse().ok())
    }

    /// The HTTP version word (`HTTP/1.1`) of either kind of start line.
    fn version(&self) -> &str {
        if self.start.starts_with("HTTP/") {
            self.start.split(' ').next().unwrap_or_default()
        } else {
            self.start.rsplit(' ').next().unwrap_or_default()
        }
    }

    /// Whether the connection ends after this message (`Connection: close`, or HTTP/1.0
    /// without `keep-alive`).
    pub fn closes(&self) -> bool {
        let tokens = |v: &str| {
            v.split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        };
        let conn: Vec<String> = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
            .flat_map(|(_, v)| tokens(v))
            .collect();
        if conn.iter().any(|t| t == "close") {
            return true;
        }
        self.version() == "HTTP/1.0" && !conn.iter().any(|t| t == "keep-alive")
    }
}

/// How a message's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    None,
    Length(usize),
    Chunked,
    /// A response whose body runs to the end of the connection.
    UntilClose,
}

/// A message head found at the front of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub head: Head,
    /// Bytes of the head, the blank line included.
    pub head_len: usize,
    pub framing: Framing,
    /// Bytes of the whole message when they are all in the buffer (`None` for
    /// [`Framing::UntilClose`]).
    pub len: Option<usize>,
}

/// One complete message, as its bytes came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub head: Head,
    pub head_len: usize,
    pub framing: Framing,
    pub raw: Vec<u8>,
}

impl Message {
    /// The body as it is on the wire (chunk framing included).
    pub fn body_raw(&self) -> &[u8] {
        &self.raw[self.head_len..]
    }

    /// Whether the connection ends after this message.
    pub fn closes(&self) -> bool {
        self.framing == Framing::UntilClose || self.head.closes()
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Parses the message at the front of `buf`: `Ok(None)` while its head is incomplete; once
/// the head is there, its framing, and its full length when the body is complete too.
pub fn parse(buf: &[u8], kind: Kind) -> Result<Option<Parsed>, FramingError> {
    let Some(end) = find(&buf[..buf.len().min(MAX_HEAD + 4)], b"\r\n\r\n", 0) else {
        return if buf.len() > MAX_HEAD {
            Err(FramingError::HeadTooLarge)
        } else {
            Ok(None)
        };
    };
    let head_len = end + 4;
    let text = std::str::from_utf8(&buf[..end])
        .map_err(|_| FramingError::BadHeader("not UTF-8".into()))?;
    let mut lines = text.split("\r\n");
    let start = lines.next().unwrap_or_default().to_string();
    let words = start.split(' ').count();
    let well_formed = match kind {
        Kind::Request => {
            words == 3 && (start.ends_with(" HTTP/1.1") || start.ends_with(" HTTP/1.0"))
        }
        Kind::Response { .. } => start.starts_with("HTTP/1.") && words >= 2,
    };
    if !well_formed {
        return Err(FramingError::BadStartLine(start));
    }
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .filter(|(n, _)| !n.is_empty() && !n.contains(char::is_whitespace))
            .ok_or_else(|| FramingError::BadHeader(line.to_string()))?;
        headers.push((name.to_string(), value.trim().to_string()));
    }
    let head = Head { start, headers };
    let framing = framing(&head, kind)?;
    let len = match framing {
        Framing::None => Some(head_len),
        Framing::Length(n) => {
            if n > MAX_BODY {
                return Err(FramingError::BodyTooLarge);
            }
            (buf.len() >= head_len + n).then_some(head_len + n)
        }
        Framing::Chunked => chunked_end(buf, head_len)?,
        Framing::UntilClose => None,
    };
    Ok(Some(Parsed {
        head,
        head_len,
        framing,
        len,
    }))
}

fn framing(head: &Head, kind: Kind) -> Result<Framing, FramingError> {
    if let Kind::Response { to_head } = kind {
        let status = head
            .status()
            .ok_or_else(|| FramingError::BadStartLine(head.start.clone()))?;
        if to_head || (100..200).contains(&status) || status == 204 || status == 304 {
            return Ok(Framing::None);
        }
    }
    let codings: Vec<String> = head
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"))
        .flat_map(|(_, v)| v.split(',').map(|t| t.trim().to_ascii_lowercase()))
        .collect();
    if !codings.is_empty() {
        return if codings.last().is_some_and(|c| c == "chunked") {
            Ok(Framing::Chunked)
        } else if kind == Kind::Request {
            Err(FramingError::BadTransferEncoding)
        } else {
            Ok(Framing::UntilClose)
        };
    }
    let mut length = None;
    for (n, v) in &head.headers {
        if !n.eq_ignore_ascii_case("content-length") {
            continue;
        }
        for part in v.split(',') {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(FramingError::BadContentLength);
            }
            let l: usize = part.parse().map_err(|_| FramingError::BadContentLength)?;
            match length {
                Some(prev) if prev != l => return Err(FramingError::BadContentLength),
                _ => length = Some(l),
            }
        }
    }
    Ok(match (length, kind) {
        (Some(0), _) => Framing::None,
        (Some(n), _) => Framing::Length(n),
        (None, Kind::Request) => Framing::None,
        (None, Kind::Response { .. }) => Framing::UntilClose,
    })
}

/// Where a chunked body starting at `at` ends (its trailers included), once it is all in
/// `buf`.
fn chunked_end(buf: &[u8], mut at: usize) -> Result<Option<usize>, FramingError> {
    loop {
        let Some(eol) = find(buf, b"\r\n", at) else {
            return if buf.len() - at > 1024 {
                Err(FramingError::BadChunk(at))
            } else {
                Ok(None)
            };
        };
        let line = std::str::from_utf8(&buf[at..eol]).map_err(|_| FramingError::BadChunk(at))?;
        let size = line.split(';').next().unwrap_or_default().trim();
        if size.is_empty() || size.len() > 15 {
            return Err(FramingError::BadChunk(at));
        }
        let size = usize::from_str_radix(size, 16).map_err(|_| FramingError::BadChunk(at))?;
        if size > MAX_BODY || at > MAX_BODY + MAX_HEAD {
            return Err(FramingError::BodyTooLarge);
        }
        at = eol + 2;
        if size == 0 {
            // Trailers, each ended by CRLF, then a blank line.
            loop {
                let Some(eol) = find(buf, b"\r\n", at) else {
                    return Ok(None);
                };
                let blank = eol == at;
                at = eol + 2;
                if blank {
                    return Ok(Some(at));
                }
            }
        }
        if buf.len() < at + size + 2 {
            return Ok(None);
        }
        if &buf[at + size..at + size + 2] != b"\r\n" {
            return Err(FramingError::BadChunk(at + size));
        }
        at += size + 2;
    }
}

/// Reads whole messages from a byte stream; bytes of the next message (pipelining) stay
/// buffered for the next call.
#[derive(Debug, Default)]
pub struct MessageReader {
    buf: Vec<u8>,
}

impl MessageReader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes read but not yet part of a returned message.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next message, or `None` when the stream ends cleanly between messages. A stream
    /// that ends inside a message is `UnexpectedEof`; bytes that are not HTTP/1.1 are
    /// `InvalidData`.
    pub async fn next<R: AsyncRead + Unpin>(
        &mut self,
        r: &mut R,
        kind: Kind,
    ) -> std::io::Result<Option<Message>> {
        let mut tmp = vec![0u8; 16 * 1024];
        let mut eof = false;
        loop {
            let parsed = parse(&self.buf, kind)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            match parsed {
                Some(p) if p.len.is_some() || (p.framing == Framing::UntilClose && eof) => {
                    let n = p.len.unwrap_or(self.buf.len());
                    let raw: Vec<u8> = self.buf.drain(..n).collect();
                    return Ok(Some(Message {
                        head: p.head,
                        head_len: p.head_len,
                        framing: p.framing,
                        raw,
                    }));
                }
                Some(Parsed {
                    framing: Framing::UntilClose,
                    ..
                }) if self.buf.len() > MAX_BODY => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        FramingError::BodyTooLarge,
                    ));
                }
                _ if eof && self.buf.is_empty() => return Ok(None),
                _ if eof => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the connection ended inside a message",
                    ));
                }
                _ => {}
            }
            let n = r.read(&mut tmp).await?;
            if n == 0 {
                eof = true;
            }
            self.buf.extend_from_slice(&tmp[..n]);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    const CHUNKED: &[u8] = b"POST /v1/sync/push HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: 1\r\n\r\n";
    const SIMPLE: &[u8] =
        b"POST /v1/sync/pull HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello";

    #[test]
    fn a_chunked_request_ends_after_its_trailers() {
        let p = parse(CHUNKED, Kind::Request).unwrap().unwrap();
        assert_eq!(p.framing, Framing::Chunked);
        assert_eq!(p.len, Some(CHUNKED.len()));
        assert_eq!(p.head.target(), "/v1/sync/push");
        assert_eq!(p.head.method(), "POST");
        // Any prefix is incomplete, never an error.
        for i in 0..CHUNKED.len() {
            let r = parse(&CHUNKED[..i], Kind::Request).unwrap();
            assert!(r.is_none_or(|p| p.len.is_none()), "prefix {i}");
        }
        // Bad chunk framing is an error.
        let bad = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert!(matches!(
            parse(bad, Kind::Request),
            Err(FramingError::BadChunk(_))
        ));
        let bad = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n";
        assert!(matches!(
            parse(bad, Kind::Request),
            Err(FramingError::BadChunk(_))
        ));
    }

    #[test]
    fn lengths_and_responses() {
        let p = parse(SIMPLE, Kind::Request).unwrap().unwrap();
        assert_eq!(
            (p.framing, p.len, p.head.header("Content-Length")),
            (Framing::Length(5), Some(SIMPLE.len()), Some("5"))
        );
        assert_eq!(
            parse(&SIMPLE[..SIMPLE.len() - 1], Kind::Request)
                .unwrap()
                .unwrap()
                .len,
            None
        );
        let get = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_eq!(
            parse(get, Kind::Request).unwrap().unwrap().len,
            Some(get.len())
        );
        let conflicting = b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n";
        assert_eq!(
            parse(conflicting, Kind::Request),
            Err(FramingError::BadContentLength)
        );
        let resp = Kind::Response { to_head: false };
        let no_content = b"HTTP/1.1 204 No Content\r\n\r\n";
        assert_eq!(
            parse(no_content, resp).unwrap().unwrap().framing,
            Framing::None
        );
        let to_head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
        assert_eq!(
            parse(to_head, Kind::Response { to_head: true })
                .unwrap()
                .unwrap()
                .len,
            Some(to_head.len())
        );
        let until_close = b"HTTP/1.0 200 OK\r\n\r\nabc";
        let p = parse(until_close, resp).unwrap().unwrap();
        assert_eq!((p.framing, p.len), (Framing::UntilClose, None));
        assert!(p.head.closes());
        let close = b"HTTP/1.1 503 Service Unavailable\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n";
        assert!(parse(close, resp).unwrap().unwrap().head.closes());
        assert!(matches!(
            parse(b"HELLO\r\n\r\n", Kind::Request),
            Err(FramingError::BadStartLine(_))
        ));
        assert!(matches!(
            parse(b"GET / HTTP/1.1\r\nno colon\r\n\r\n", Kind::Request),
            Err(FramingError::BadHeader(_))
        ));
    }

    /// Yields at most `step` bytes per read.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        step: usize,
    }

    impl AsyncRead for Trickle {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            let n = self
                .step
                .min(self.data.len() - self.at)
                .min(buf.remaining());
            let at = self.at;
            buf.put_slice(&self.data[at..at + n]);
            self.at += n;
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn pipelined_requests_in_one_read_and_split_reads() {
        let mut both = CHUNKED.to_vec();
        both.extend_from_slice(SIMPLE);
        for step in [1, 3, 7, 64, 100_000] {
            let mut r = Trickle {
                data: both.clone(),
                at: 0,
                step,
            };
            let mut reader = MessageReader::new();
            let a = reader.next(&mut r, Kind::Request).await.unwrap().unwrap();
            assert_eq!(a.raw, CHUNKED, "step {step}");
            assert_eq!(a.body_raw(), &CHUNKED[a.head_len..]);
            let b = reader.next(&mut r, Kind::Request).await.unwrap().unwrap();
            assert_eq!(b.raw, SIMPLE, "step {step}");
            assert_eq!(b.head.target(), "/v1/sync/pull");
            assert!(reader.next(&mut r, Kind::Request).await.unwrap().is_none());
        }
        // Cut inside a message: an error, not a silent end.
        let mut r = Trickle {
            data: SIMPLE[..SIMPLE.len() - 2].to_vec(),
            at: 0,
            step: 5,
        };
        let err = MessageReader::new()
            .next(&mut r, Kind::Request)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
        // A response running to the end of the connection.
        let mut r = Trickle {
            data: b"HTTP/1.1 200 OK\r\n\r\nall of it".to_vec(),
            at: 0,
            step: 4,
        };
        let m = MessageReader::new()
            .next(&mut r, Kind::Response { to_head: false })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m.body_raw(), b"all of it");
        assert!(m.closes());
    }
}
