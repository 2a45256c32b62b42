//! What the capability modules share: headless Chromium over DevTools (`browser`), a sandbox and its config files (`common`), the clients
//! built from them (`clients`), the real binary over stdio (`mcp`), its captured stderr
//! (`server_log`), and a stand-in MCP handler over HTTP (`transport`).

pub mod browser;
pub mod clients;
pub mod common;
pub mod mcp;
pub mod server_log;
pub mod transport;
