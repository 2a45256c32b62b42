//! Configuration: a TOML file plus environment; secrets only from the environment or a file.
//!
//! See INTERFACE.md: `csp.url` (env `VMW_CLOUD_ENDPOINT`), `csp.org_id`, `csp.api_token_file` or
//! env `VMW_CLOUD_API_TOKEN`, `tmc.url` (env `TMC_ENDPOINT`), and one `[[tap]]` per TAP cluster.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Config {
    pub csp: CspConfig,
    pub tmc: TmcConfig,
    pub tap: Vec<TapClusterConfig>,
}

#[derive(Debug, Clone)]
pub struct CspConfig {
    pub url: String,
    pub org_id: String,
}

#[derive(Debug, Clone)]
pub struct TmcConfig {
    pub url: String,
}

#[derive(Debug, Clone)]
pub struct TapClusterConfig {
    pub name: String,
    pub context: String,
    pub kubeconfig: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    pub fn load(_path: Option<&Path>) -> Result<Config, ConfigError> {
        todo!("Config::load")
    }
}
