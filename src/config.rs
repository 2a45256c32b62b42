//! Configuration: a TOML file plus environment; secrets only from the environment or a file.
//!
//! See INTERFACE.md: `csp.url` (env `VMW_CLOUD_ENDPOINT`), `csp.org_id` (env `TANZU_MCP_ORG_ID`),
//! `csp.api_token_file` or env `VMW_CLOUD_API_TOKEN`, `tmc.url` (env `TMC_ENDPOINT`), and one
//! `[[tap]]` per TAP cluster (env `TANZU_MCP_TAP_CONTEXTS`). Without a file the environment alone
//! configures the server, so a container or a CI job needs no TOML. Relative paths in the file are
//! relative to the file. Every error names the key and the fix.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

use crate::access::policy::WritePolicy;
use crate::secret::Secret;

/// The environment variables INTERFACE.md names (the Terraform TMC provider uses the same).
pub const ENV_API_TOKEN: &str = "VMW_CLOUD_API_TOKEN";
pub const ENV_CSP_ENDPOINT: &str = "VMW_CLOUD_ENDPOINT";
pub const ENV_TMC_ENDPOINT: &str = "TMC_ENDPOINT";
/// `csp.org_id` from the environment (the file's value wins when both are set).
pub const ENV_ORG_ID: &str = "TANZU_MCP_ORG_ID";
/// The TAP clusters from the environment: `ctx1,ctx2` or `name=ctx,...`, contexts of the
/// kubeconfig that `KUBECONFIG` (else `~/.kube/config`) names. When set, it replaces `[[tap]]`.
pub const ENV_TAP_CONTEXTS: &str = "TANZU_MCP_TAP_CONTEXTS";
/// What [`Config::source`] says when no file was read.
pub const ENVIRONMENT_SOURCE: &str = "(environment)";

/// The CSP console the Terraform provider defaults to.
pub const DEFAULT_CSP_URL: &str = "https://console.tanzu.broadcom.com";

/// The file looked for in the working directory when no `--config` is given.
pub const DEFAULT_CONFIG_FILE: &str = "tanzu-mcp.toml";

#[derive(Debug, Clone)]
pub struct Config {
    pub csp: CspConfig,
    pub tmc: TmcConfig,
    pub tap: Vec<TapClusterConfig>,
    /// `[policy]`: which writes need a human.
    pub policy: WritePolicy,
    /// `[clients]`: timeouts of the HTTP calls to CSP, TMC and Kubernetes.
    pub clients: ClientSettings,
    /// The file this was read from, for messages.
    pub source: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct CspConfig {
    /// Validated base URL, without a trailing slash.
    pub url: String,
    /// `None`: taken from the API token (`POST .../api-tokens/details`) when the clients are
    /// built.
    pub org_id: Option<String>,
    /// The CSP API token; redacted in `Debug`.
    pub api_token: Secret,
}

#[derive(Debug, Clone)]
pub struct TmcConfig {
    /// Validated base URL, without a trailing slash.
    pub url: String,
}

#[derive(Debug, Clone)]
pub struct TapClusterConfig {
    pub name: String,
    pub context: String,
    /// `None`: `KUBECONFIG`, then `~/.kube/config`, as kubectl does.
    pub kubeconfig: Option<PathBuf>,
}

/// `[clients]` in the TOML: what may be tuned of the clients' timeouts; absent keys keep the
/// defaults of `clients::ClientOptions`. Lets a slow network (or a test of client-side
/// timeouts) choose how long one request may take.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSettings {
    /// The longest one HTTP request may take, sending to last byte of the answer (ms).
    pub request_timeout_ms: Option<u64>,
    /// The longest a connection (TCP and TLS) may take to establish (ms).
    pub connect_timeout_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// The file as written; everything optional so that a missing key gets our message, not serde's.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    csp: Option<RawCsp>,
    tmc: Option<RawTmc>,
    #[serde(default)]
    tap: Vec<RawTap>,
    #[serde(default)]
    policy: WritePolicy,
    #[serde(default)]
    clients: ClientSettings,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCsp {
    url: Option<String>,
    org_id: Option<String>,
    api_token_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTmc {
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTap {
    name: Option<String>,
    context: Option<String>,
    kubeconfig: Option<PathBuf>,
}

impl Config {
    /// Read `path` (or `./tanzu-mcp.toml`) and the environment; with neither, the environment
    /// alone.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let env = |name: &str| std::env::var(name).ok();
        let path = match path {
            Some(path) => path.to_path_buf(),
            None => {
                let default = PathBuf::from(DEFAULT_CONFIG_FILE);
                if !default.exists() {
                    let mut config =
                        Config::from_toml("", Path::new("."), &env).map_err(|ConfigError(m)| {
                            ConfigError(format!(
                                "no --config (or TANZU_MCP_CONFIG), no {DEFAULT_CONFIG_FILE} here, \
                                 and the environment alone is not enough: {m}"
                            ))
                        })?;
                    config.source = Some(PathBuf::from(ENVIRONMENT_SOURCE));
                    return Ok(config);
                }
                default
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            ConfigError(format!(
                "cannot read {}: {e}; check the path given to --config",
                path.display()
            ))
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut config = Config::from_toml(&text, &base, &env)
            .map_err(|ConfigError(m)| ConfigError(format!("{}: {m}", path.display())))?;
        config.source = Some(path);
        Ok(config)
    }

    /// Parse `text` with relative paths resolved against `base` and the environment read
    /// through `env` (so tests need not touch the process environment).
    pub fn from_toml(
        text: &str,
        base: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            ConfigError(format!(
                "not valid TOML or an unknown key: {}; fix the file (keys: [csp] url, org_id, \
                 api_token_file; [tmc] url; [[tap]] name, context, kubeconfig; [policy] approve, \
                 privileged_roles; [clients] request_timeout_ms, connect_timeout_ms)",
                e.message()
            ))
        })?;
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let csp = raw.csp.unwrap_or_default();
        let tmc = raw.tmc.unwrap_or_default();

        let csp_url = match env(ENV_CSP_ENDPOINT).or(csp.url) {
            Some(url) => normalize_url(&url, "csp.url")?,
            None => DEFAULT_CSP_URL.to_string(),
        };
        // Optional: the API token names its org (`check` shows it, and refuses a mismatch).
        let org_id = csp
            .org_id
            .map(|id| id.trim().to_string())
            .filter(|id| !id.is_empty())
            .or(env(ENV_ORG_ID)
                .map(|id| id.trim().to_string())
                .filter(|id| !id.is_empty()));
        let api_token = read_api_token(env(ENV_API_TOKEN), csp.api_token_file, base)?;

        let tmc_url = env(ENV_TMC_ENDPOINT).or(tmc.url).ok_or_else(|| {
            ConfigError(format!(
                "missing tmc.url; set it (or env {ENV_TMC_ENDPOINT}) to your org's TMC host, such \
                 as https://myorg.tmc.cloud.vmware.com"
            ))
        })?;
        let tmc_url = normalize_url(&tmc_url, "tmc.url")?;

        let raw_tap = match env(ENV_TAP_CONTEXTS) {
            Some(list) => tap_from_env(&list)?,
            None => raw.tap,
        };
        let mut tap = Vec::with_capacity(raw_tap.len());
        for (index, entry) in raw_tap.into_iter().enumerate() {
            let name = entry.name.filter(|n| !n.is_empty()).ok_or_else(|| {
                ConfigError(format!(
                    "missing name in [[tap]] number {}; give every TAP cluster a name",
                    index + 1
                ))
            })?;
            if tap.iter().any(|t: &TapClusterConfig| t.name == name) {
                return Err(ConfigError(format!(
                    "two [[tap]] entries are named '{name}'; give each TAP cluster its own name"
                )));
            }
            let context = entry.context.filter(|c| !c.is_empty()).ok_or_else(|| {
                ConfigError(format!(
                    "missing context in [[tap]] '{name}'; set it to the kubeconfig context of that \
                     cluster (see `kubectl config get-contexts`)"
                ))
            })?;
            tap.push(TapClusterConfig {
                name,
                context,
                kubeconfig: entry.kubeconfig.map(|p| base.join(p)),
            });
        }

        for (key, value) in [
            ("request_timeout_ms", raw.clients.request_timeout_ms),
            ("connect_timeout_ms", raw.clients.connect_timeout_ms),
        ] {
            if value == Some(0) {
                return Err(ConfigError(format!(
                    "clients.{key} is 0; give a positive number of milliseconds or leave it out"
                )));
            }
        }

        Ok(Config {
            csp: CspConfig {
                url: csp_url,
                org_id,
                api_token,
            },
            tmc: TmcConfig { url: tmc_url },
            tap,
            policy: raw.policy,
            clients: raw.clients,
            source: None,
        })
    }
}

/// `TANZU_MCP_TAP_CONTEXTS`: `ctx` names a cluster after its context, `name=ctx` renames it.
fn tap_from_env(list: &str) -> Result<Vec<RawTap>, ConfigError> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            let (name, context) = item.split_once('=').unwrap_or((item, item));
            let (name, context) = (name.trim(), context.trim());
            if name.is_empty() || context.is_empty() {
                return Err(ConfigError(format!(
                    "{ENV_TAP_CONTEXTS} entry '{item}' is not CONTEXT or NAME=CONTEXT; write it \
                     as tap-dev,tap-prod or dev=tap-dev-admin,prod=tap-prod-admin"
                )));
            }
            Ok(RawTap {
                name: Some(name.to_string()),
                context: Some(context.to_string()),
                kubeconfig: None,
            })
        })
        .collect()
}

fn read_api_token(
    from_env: Option<String>,
    file: Option<PathBuf>,
    base: &Path,
) -> Result<Secret, ConfigError> {
    if let Some(token) = from_env {
        return Ok(Secret::new(token.trim()));
    }
    let Some(file) = file else {
        return Err(ConfigError(format!(
            "no CSP API token; set env {ENV_API_TOKEN} or csp.api_token_file to a file that \
             holds it (never put the token itself in the TOML file)"
        )));
    };
    let path = base.join(file);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        ConfigError(format!(
            "cannot read csp.api_token_file {}: {e}; fix the path or set env {ENV_API_TOKEN}",
            path.display()
        ))
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(ConfigError(format!(
            "csp.api_token_file {} is empty; write the CSP API token into it",
            path.display()
        )));
    }
    Ok(Secret::new(token))
}

/// Accept `https://host[:port][/path]`, a bare host (as the Terraform provider's environment
/// variables hold it) or `http://` on a loopback host; refuse plain HTTP anywhere else.
pub fn normalize_url(value: &str, key: &str) -> Result<String, ConfigError> {
    let value = value.trim();
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("https://{value}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| {
        ConfigError(format!(
            "{key} = '{value}' is not a URL ({e}); write it as https://host"
        ))
    })?;
    let Some(host) = url.host_str() else {
        return Err(ConfigError(format!(
            "{key} = '{value}' has no host; write it as https://host"
        )));
    };
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" => {
            return Err(ConfigError(format!(
                "{key} = '{value}' uses plain http:// to a host that is not loopback; use https://"
            )));
        }
        other => {
            return Err(ConfigError(format!(
                "{key} = '{value}' has scheme '{other}'; use https://"
            )));
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError(format!(
            "{key} = '{value}' carries a query or fragment; give only scheme, host and path"
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const FULL: &str = r#"
        [csp]
        url = "http://127.0.0.1:8443"
        org_id = "org-1"
        [tmc]
        url = "http://127.0.0.1:8443/"
        [[tap]]
        name = "tap-dev"
        context = "tap-dev"
        kubeconfig = "kubeconfig"
    "#;

    #[test]
    fn reads_every_key_with_token_from_env_and_paths_relative_to_the_file() {
        let env = env_of(&[(ENV_API_TOKEN, " tok \n")]);
        let config = Config::from_toml(FULL, Path::new("/etc/tanzu"), &env).unwrap();
        assert_eq!(config.csp.url, "http://127.0.0.1:8443");
        assert_eq!(config.csp.org_id.as_deref(), Some("org-1"));
        assert_eq!(config.csp.api_token.expose(), "tok");
        assert_eq!(config.tmc.url, "http://127.0.0.1:8443");
        assert_eq!(config.tap[0].name, "tap-dev");
        assert_eq!(
            config.tap[0].kubeconfig.as_deref(),
            Some(Path::new("/etc/tanzu/kubeconfig"))
        );
        assert!(!format!("{config:?}").contains("tok\""));
    }

    #[test]
    fn environment_overrides_endpoints_and_accepts_bare_hosts() {
        let env = env_of(&[
            (ENV_API_TOKEN, "tok"),
            (ENV_CSP_ENDPOINT, "console.cloud.vmware.com"),
            (ENV_TMC_ENDPOINT, "myorg.tmc.cloud.vmware.com"),
        ]);
        let config = Config::from_toml(FULL, Path::new("."), &env).unwrap();
        assert_eq!(config.csp.url, "https://console.cloud.vmware.com");
        assert_eq!(config.tmc.url, "https://myorg.tmc.cloud.vmware.com");
    }

    #[test]
    fn a_missing_org_id_is_left_to_the_api_token() {
        // Issue 10: the token names its org (`POST .../api-tokens/details`).
        let env = env_of(&[(ENV_API_TOKEN, "tok")]);
        for org in ["", "org_id = \" \"\n"] {
            let text = format!("[csp]\n{org}[tmc]\nurl = \"https://x.tmc.cloud.vmware.com\"\n");
            let config = Config::from_toml(&text, Path::new("."), &env).unwrap();
            assert_eq!(config.csp.org_id, None);
        }
    }

    #[test]
    fn missing_token_names_both_ways_to_give_it() {
        let err = Config::from_toml(FULL, Path::new("."), &env_of(&[])).unwrap_err();
        assert!(err.0.contains(ENV_API_TOKEN) && err.0.contains("csp.api_token_file"));
    }

    #[test]
    fn missing_tmc_url_names_the_key_and_the_variable() {
        let env = env_of(&[(ENV_API_TOKEN, "tok")]);
        let err = Config::from_toml("[csp]\norg_id = \"o\"\n", Path::new("."), &env).unwrap_err();
        assert!(
            err.0.contains("tmc.url") && err.0.contains(ENV_TMC_ENDPOINT),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_refused_rather_than_ignored() {
        let env = env_of(&[(ENV_API_TOKEN, "tok")]);
        let text = FULL.replace("org_id", "orgid");
        let err = Config::from_toml(&text, Path::new("."), &env).unwrap_err();
        assert!(err.0.contains("orgid"), "{err}");
    }

    #[test]
    fn plain_http_is_refused_for_hosts_that_are_not_loopback() {
        assert!(normalize_url("http://example.com", "csp.url").is_err());
        assert!(normalize_url("http://10.0.0.1:80", "tmc.url").is_err());
        assert!(normalize_url("ftp://127.0.0.1", "tmc.url").is_err());
        assert!(normalize_url("http://localhost:1", "csp.url").is_ok());
        assert!(normalize_url("http://[::1]:1", "csp.url").is_ok());
        assert!(normalize_url("http://127.0.0.5:1/tmc", "csp.url").is_ok());
        assert_eq!(
            normalize_url("https://h.example/", "csp.url").unwrap(),
            "https://h.example"
        );
    }

    #[test]
    fn the_environment_alone_configures_everything_and_tap_contexts_replace_the_file() {
        let env = env_of(&[
            (ENV_API_TOKEN, "tok"),
            (ENV_CSP_ENDPOINT, "http://127.0.0.1:1"),
            (ENV_TMC_ENDPOINT, "http://127.0.0.1:1"),
            (ENV_ORG_ID, "org-env"),
            (ENV_TAP_CONTEXTS, "tap-dev, prod=tap-prod-admin,"),
        ]);
        let config = Config::from_toml("", Path::new("."), &env).unwrap();
        assert_eq!(config.csp.org_id.as_deref(), Some("org-env"));
        let taps: Vec<(&str, &str)> = config
            .tap
            .iter()
            .map(|t| (t.name.as_str(), t.context.as_str()))
            .collect();
        assert_eq!(taps, [("tap-dev", "tap-dev"), ("prod", "tap-prod-admin")]);
        assert!(config.tap.iter().all(|t| t.kubeconfig.is_none()));

        let from_file = Config::from_toml(FULL, Path::new("."), &env).unwrap();
        assert_eq!(
            from_file.csp.org_id.as_deref(),
            Some("org-1"),
            "the file's org_id wins"
        );
        assert_eq!(from_file.tap.len(), 2, "the variable replaces [[tap]]");
    }

    #[test]
    fn a_malformed_tap_contexts_entry_names_the_variable_and_the_syntax() {
        let env = env_of(&[(ENV_API_TOKEN, "tok"), (ENV_TAP_CONTEXTS, "dev=")]);
        let err = Config::from_toml(FULL, Path::new("."), &env).unwrap_err();
        assert!(
            err.0.contains(ENV_TAP_CONTEXTS) && err.0.contains("NAME=CONTEXT"),
            "{err}"
        );
    }

    #[test]
    fn tap_entries_need_name_and_context() {
        let env = env_of(&[(ENV_API_TOKEN, "tok")]);
        let text = FULL.replace("context = \"tap-dev\"", "");
        let err = Config::from_toml(&text, Path::new("."), &env).unwrap_err();
        assert!(
            err.0.contains("context") && err.0.contains("tap-dev"),
            "{err}"
        );
    }
}
