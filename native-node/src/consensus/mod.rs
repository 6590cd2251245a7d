//! The daemon's side of proof-of-stake consensus: the write-ahead log that keeps a
//! validator from ever signing twice, and (with the engine) the loop that runs the
//! core's Tendermint driver over the network.

// The engine that uses the log lands in the next commits.
#[allow(dead_code)]
pub mod wal;
