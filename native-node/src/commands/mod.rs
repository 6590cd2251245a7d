//! One module per subcommand: each turns parsed arguments into work.

pub mod devnet;
pub mod genesis;
pub mod keys;
pub mod node;
pub mod prove;
pub mod tx;
