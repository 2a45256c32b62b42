//! tanzu-mcp: an MCP server that runs the VMware Tanzu user-access lifecycle safely.
//!
//! # Layout
//!
//! Data flows one way: transport -> MCP adapter -> access domain -> API clients -> HTTP.
//!
//! - [`server`]: the rmcp handler, the tool definitions and the transports (stdio, Streamable
//!   HTTP, legacy HTTP+SSE). Thin: parse, call the domain, shape the result.
//! - [`access`]: the lifecycle across CSP, TMC and TAP clusters: a person's access, plans,
//!   confirmation, provisioning, revocation. No HTTP and no MCP types; it talks to the systems
//!   through the small traits in [`access::ports`].
//! - [`clients`]: one module per system (CSP, TMC, Kubernetes) implementing those traits, plus
//!   the shared token, retry and pagination code.
//! - [`config`]: the TOML file and environment that point the clients at real Tanzu.
//! - [`sandbox`]: a faithful simulator of the real APIs. Only the CLI and tests start it.
//! - [`cli`]: the commands of the `tanzu-mcp` binary (its `main.rs` only parses and dispatches).
//! - [`secret`]: the one type for values that never print (API, access and bearer tokens).

pub mod access;
pub mod cli;
pub mod clients;
pub mod config;
pub mod sandbox;
pub mod secret;
pub mod server;
