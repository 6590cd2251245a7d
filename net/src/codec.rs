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

impl Codec for SyncCodec {
    type Protocol = StreamProtocol;
    type Request = SyncRequest;
    type Response = SyncResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SyncRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_message(io).await
    }

    async fn read_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<SyncResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_message(io).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: SyncRequest,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&request.encode_message()).await
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
    let mut bytes = Vec::new();
    io.take(M::MAX_BYTES as u64 + 1).read_to_end(&mut bytes).await?;
    if bytes.len() > M::MAX_BYTES {
        let e = DecodeError::MessageTooLong { len: bytes.len(), max: M::MAX_BYTES };
        return Err(invalid(e));
    }
    M::decode_message(&bytes).map_err(invalid)
}

fn invalid(e: DecodeError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

/// Whether a failed exchange was the peer's fault (it sent bytes that are not a
/// valid message) rather than the connection's.
pub fn is_malformed(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::InvalidData
}
