//! The MCP adapter: the rmcp handler, the tools and the transports. Thin: parse the arguments,
//! call `crate::access`, shape the result.
pub mod transport;
