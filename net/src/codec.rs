//! The sync protocol's framing: one request per stream, written whole and read to
//! the end of the stream, never more than the message's size limit.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use libp2p::request_response::Codec;
use starling_core::encoding::{DecodeError, Message};

use crate::messages::{SyncRequest, SyncResponse};

/// Reads and writes [`SyncRequest`]s and [`SyncResponse`]s. A message over its
/// limit or one that does not decode fails the stream with
/// [`io::ErrorKind::InvalidData`], which the host counts against the peer.
#[derive(Clone, Copy, Debug, Default)]
pub struct SyncCodec;

/// A request as read off a stream. libp2p's request-response (0.30) reports
/// nothing when a request cannot be read (it emits no `InboundFailure` for a
/// request it never saw), so a request that is too long or does not decode is
/// handed up as `Malformed` for the host to count against the peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inbound {
    Request(SyncRequest),
    Malformed(DecodeError),
}

impl From<SyncRequest> for Inbound {
    fn from(request: SyncRequest) -> Self {
        Self::Request(request)
    }
}

impl Codec for SyncCodec {
    type Protocol = StreamProtocol;
    type Request = Inbound;
    type Response = SyncResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Inbound>
    where
        T: AsyncRead + Unpin + Send,
    {
        Ok(match read_checked(io).await? {
            Ok(request) => Inbound::Request(request),
            Err(e) => Inbound::Malformed(e),
        })
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SyncResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_message(io).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: Inbound,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        match request {
            Inbound::Request(request) => io.write_all(&request.encode_message()).await,
            Inbound::Malformed(e) => Err(invalid(e)),
        }
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: SyncResponse,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&response.encode_message()).await
    }
}

/// Reads one message to the end of the stream, refusing to buffer more than the
/// message's limit (one byte over is enough to know it is too long).
async fn read_message<M: Message, T: AsyncRead + Unpin + Send>(io: &mut T) -> io::Result<M> {
    read_checked(io).await?.map_err(invalid)
}

/// Like [`read_message`], with the peer's fault (too long, does not decode) apart
/// from the connection's.
async fn read_checked<M: Message, T: AsyncRead + Unpin + Send>(
    io: &mut T,
) -> io::Result<Result<M, DecodeError>> {
    let mut bytes = Vec::new();
    io.take(M::MAX_BYTES as u64 + 1).read_to_end(&mut bytes).await?;
    if bytes.len() > M::MAX_BYTES {
        return Ok(Err(DecodeError::MessageTooLong { len: bytes.len(), max: M::MAX_BYTES }));
    }
    Ok(M::decode_message(&bytes))
}

fn invalid(e: DecodeError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

/// Whether a failed exchange was the peer's fault (it sent bytes that are not a
/// valid message) rather than the connection's.
pub fn is_malformed(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::InvalidData
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::pin::Pin;
    use core::task::{Context, Poll};

    use futures::executor::block_on;
    use futures::io::Cursor;
    use starling_core::types::{Address, Hash};

    use crate::messages::{MAX_RESPONSE_BYTES, PeerStatus, Refusal, SignedHeader, StateChunk};

    fn protocol() -> StreamProtocol {
        StreamProtocol::new("/starling/test/sync/1")
    }

    fn blocks_response() -> SyncResponse {
        crate::messages::tests::blocks_response(&crate::messages::tests::fixture())
    }

    fn write_request(request: SyncRequest) -> Vec<u8> {
        let mut io = Cursor::new(Vec::new());
        block_on(SyncCodec.write_request(&protocol(), &mut io, request.into())).unwrap();
        io.into_inner()
    }

    fn write_response(response: SyncResponse) -> Vec<u8> {
        let mut io = Cursor::new(Vec::new());
        block_on(SyncCodec.write_response(&protocol(), &mut io, response)).unwrap();
        io.into_inner()
    }

    /// Reads a request; a malformed one comes back as the error it stands for.
    fn read_request(bytes: Vec<u8>) -> (io::Result<SyncRequest>, u64) {
        let mut io = Cursor::new(bytes);
        let result =
            block_on(SyncCodec.read_request(&protocol(), &mut io)).and_then(|read| match read {
                Inbound::Request(request) => Ok(request),
                Inbound::Malformed(e) => Err(invalid(e)),
            });
        (result, io.position())
    }

    fn read_response(bytes: Vec<u8>) -> (io::Result<SyncResponse>, u64) {
        let mut io = Cursor::new(bytes);
        let result = block_on(SyncCodec.read_response(&protocol(), &mut io));
        (result, io.position())
    }

    fn assert_malformed(e: &io::Error) {
        assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");
        assert!(is_malformed(e));
    }

    /// Proves every request written by the codec is exactly its message encoding
    /// and reads back to the same request.
    #[test]
    fn requests_round_trip_through_a_stream() {
        let requests = [
            SyncRequest::Status,
            SyncRequest::Headers { from: 3, count: 100 },
            SyncRequest::Blocks { from: 1, count: 2, witnesses: true },
            SyncRequest::Blocks { from: 1, count: 2, witnesses: false },
            SyncRequest::StateChunk { height: 9, start: Address([4; 32]), count: 50 },
        ];
        for request in requests {
            let bytes = write_request(request.clone());
            assert_eq!(bytes, request.encode_message());
            let (read, _) = read_request(bytes);
            assert_eq!(read.unwrap(), request);
        }
    }

    /// Proves every kind of response, a real Blocks response included, written by
    /// the codec reads back to the same response.
    #[test]
    fn responses_round_trip_through_a_stream() {
        let SyncResponse::Blocks(blocks) = blocks_response() else { unreachable!() };
        let responses = [
            SyncResponse::Status(PeerStatus {
                genesis_hash: blocks[0].block.hash(),
                head_height: 1,
                head_hash: blocks[1].block.hash(),
                snapshot_height: Some(1),
            }),
            SyncResponse::Headers(blocks.iter().map(|b| SignedHeader::of(&b.block)).collect()),
            SyncResponse::Blocks(blocks.clone()),
            SyncResponse::StateChunk(Box::new(StateChunk {
                height: 1,
                accounts: blocks.iter().find_map(|b| b.witness.clone()).unwrap(),
                next: Some(Address([5; 32])),
            })),
            SyncResponse::Refused(Refusal::RateLimited),
        ];
        for response in responses {
            let bytes = write_response(response.clone());
            assert_eq!(bytes, response.encode_message());
            let (read, _) = read_response(bytes);
            assert_eq!(read.unwrap(), response);
        }
    }

    /// Proves a request stream longer than SyncRequest::MAX_BYTES is refused as
    /// malformed after reading no more than MAX_BYTES + 1 bytes of it.
    #[test]
    fn an_overlong_request_stream_is_refused_without_reading_it_all() {
        for extra in [1, 2, 1_000_000] {
            // A valid request, padded past the limit.
            let mut bytes = SyncRequest::Status.encode_message();
            bytes.resize(SyncRequest::MAX_BYTES + extra, 0);
            let (result, read) = read_request(bytes);
            let e = result.unwrap_err();
            assert_malformed(&e);
            let limit = SyncRequest::MAX_BYTES as u64;
            assert!(read <= limit + 1, "read {read} bytes");
            let too_long = DecodeError::MessageTooLong {
                len: SyncRequest::MAX_BYTES + 1,
                max: SyncRequest::MAX_BYTES,
            };
            assert_eq!(e.to_string(), too_long.to_string());
        }
        // Exactly at the limit the length is fine; these bytes fail for another reason.
        let mut bytes = SyncRequest::Status.encode_message();
        bytes.resize(SyncRequest::MAX_BYTES, 0);
        let e = read_request(bytes).0.unwrap_err();
        assert_malformed(&e);
        let trailing = DecodeError::TrailingBytes(SyncRequest::MAX_BYTES - 2);
        assert_eq!(e.to_string(), trailing.to_string());
    }

    /// Proves a response stream longer than its limit is refused as malformed after
    /// reading no more than the limit plus one byte.
    #[test]
    fn an_overlong_response_stream_is_refused_without_reading_it_all() {
        let mut bytes = SyncResponse::Refused(Refusal::Busy).encode_message();
        bytes.resize(MAX_RESPONSE_BYTES + 4096, 0);
        let (result, read) = read_response(bytes);
        assert_malformed(&result.unwrap_err());
        assert!(read <= MAX_RESPONSE_BYTES as u64 + 1, "read {read} bytes");
    }

    /// Proves bytes that are not a message (and truncated or padded real ones) are
    /// refused as malformed, for requests and responses alike.
    #[test]
    fn garbage_is_malformed() {
        let mut truncated = blocks_response().encode_message();
        truncated.truncate(truncated.len() / 2);
        let mut padded = SyncRequest::Status.encode_message();
        padded.push(0);
        let garbage: [Vec<u8>; 6] = [
            vec![0xff; 16],
            b"GET / HTTP/1.1\r\n\r\n".to_vec(),
            vec![1, 9],
            vec![0, 0],
            truncated,
            padded,
        ];
        for bytes in garbage {
            assert_malformed(&read_request(bytes.clone()).0.unwrap_err());
            assert_malformed(&read_response(bytes).0.unwrap_err());
        }
        // A response is not a request, nor the other way round.
        let headers = SyncResponse::Headers(vec![]).encode_message();
        assert_malformed(&read_request(headers).0.unwrap_err());
        let blocks = SyncRequest::Blocks { from: 1, count: 1, witnesses: true }.encode_message();
        assert_malformed(&read_response(blocks).0.unwrap_err());
        let status = PeerStatus {
            genesis_hash: Hash([1; 32]),
            head_height: 0,
            head_hash: Hash([1; 32]),
            snapshot_height: None,
        };
        let status = SyncResponse::Status(status).encode_message();
        assert_malformed(&read_request(status).0.unwrap_err());
    }

    /// Proves an empty stream (a peer that closed without sending) is malformed.
    #[test]
    fn an_empty_stream_is_malformed() {
        assert_malformed(&read_request(Vec::new()).0.unwrap_err());
        assert_malformed(&read_response(Vec::new()).0.unwrap_err());
    }

    /// A stream whose connection fails on every read.
    struct Reset;

    impl AsyncRead for Reset {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()))
        }
    }

    /// Proves a transport failure is passed on as it is and not counted as the
    /// peer sending a malformed message.
    #[test]
    fn a_broken_connection_is_not_malformed() {
        let e = block_on(SyncCodec.read_request(&protocol(), &mut Reset)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionReset);
        assert!(!is_malformed(&e));
        let e = block_on(SyncCodec.read_response(&protocol(), &mut Reset)).unwrap_err();
        assert!(!is_malformed(&e));
    }
}
