//! From the command line to [`HttpOptions`]: the HTTP flags of `tanzu-mcp serve` (flattened into
//! its arguments), the `--listen` syntax, the bearer secret read from the environment, and the
//! rule that a non-loopback address needs authentication or an explicit opt-out.
//!
//! Every error message names the flag that fixes it; the CLI prints it and exits 2.

use std::net::SocketAddr;

use super::HttpOptions;
use super::guard::BearerCredential;
use crate::secret::Secret;

/// The flags of `serve --transport http` beyond `--listen`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct HttpFlags {
    /// With --transport http: the environment variable holding a bearer secret that clients
    /// must send (`Authorization: Bearer ...`). Repeatable, one credential per variable; the
    /// variable's name labels the credential in the audit log, and a session answers only to
    /// the credential that opened it.
    #[arg(
        long,
        value_name = "VAR",
        env = "TANZU_MCP_AUTH_TOKEN_ENV",
        value_delimiter = ','
    )]
    pub auth_token_env: Vec<String>,
    /// With --transport http: serve a non-loopback --listen address without authentication.
    #[arg(
        long,
        env = "TANZU_MCP_INSECURE_NO_AUTH",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub insecure_no_auth: bool,
    /// With --transport http: also accept this Host header (host or host:port; repeatable or
    /// comma-separated).
    #[arg(
        long = "allowed-host",
        value_name = "HOST",
        env = "TANZU_MCP_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,
    /// With --transport http: also accept this browser Origin (scheme://host[:port|:*];
    /// repeatable).
    #[arg(
        long = "allowed-origin",
        value_name = "ORIGIN",
        env = "TANZU_MCP_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,
}

impl HttpFlags {
    /// The options for `--listen listen` and these flags, reading the bearer secret from the
    /// process environment.
    pub fn to_options(&self, listen: &str) -> Result<HttpOptions, String> {
        self.to_options_with_env(listen, |var| std::env::var(var).ok())
    }

    fn to_options_with_env(
        &self,
        listen: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<HttpOptions, String> {
        let listen = parse_listen(listen)?;
        let mut credentials: Vec<BearerCredential> = Vec::new();
        for var in &self.auth_token_env {
            let secret = auth_token_from(var, env(var))?;
            if credentials.iter().any(|c| c.secret == secret) {
                return Err(format!(
                    "--auth-token-env {var}: holds the same secret as another --auth-token-env; give each client its own"
                ));
            }
            credentials.push(BearerCredential {
                label: var.clone(),
                secret,
            });
        }
        check_listen_policy(listen, !credentials.is_empty(), self.insecure_no_auth)?;
        let mut options = HttpOptions::new(listen);
        options.credentials = credentials;
        options.insecure_no_auth = self.insecure_no_auth;
        options
            .allowed_hosts
            .extend(self.allowed_hosts.iter().cloned());
        options
            .allowed_origins
            .extend(self.allowed_origins.iter().cloned());
        Ok(options)
    }
}

/// Parses a `--listen` value: `IP:PORT`, `[IPv6]:PORT`, or `localhost:PORT` (taken as
/// 127.0.0.1, never resolved, so it cannot silently bind a public address).
pub fn parse_listen(value: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = value.parse() {
        return Ok(addr);
    }
    if let Some(port) = value.strip_prefix("localhost:")
        && let Ok(port) = port.parse::<u16>()
    {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    Err(format!(
        "--listen {value:?}: expected IP:PORT such as 127.0.0.1:8080 or [::1]:8080"
    ))
}

/// Refuses to serve a non-loopback address without authentication unless the operator said so.
/// The message names both ways out.
pub fn check_listen_policy(
    addr: SocketAddr,
    auth_configured: bool,
    insecure_no_auth: bool,
) -> Result<(), String> {
    if addr.ip().is_loopback() || auth_configured || insecure_no_auth {
        return Ok(());
    }
    Err(format!(
        "refusing to serve MCP on non-loopback address {addr} without authentication: \
         pass --auth-token-env VAR naming an environment variable that holds a bearer secret, \
         or --insecure-no-auth to accept the risk"
    ))
}

/// Reads the bearer secret from the environment variable `var` (as named by `--auth-token-env`).
/// The error names the variable, never the value.
pub fn auth_token_from_env(var: &str) -> Result<Secret, String> {
    auth_token_from(var, std::env::var(var).ok())
}

fn auth_token_from(var: &str, value: Option<String>) -> Result<Secret, String> {
    match value {
        Some(value) if !value.trim().is_empty() => Ok(Secret::new(value.trim())),
        Some(_) => Err(format!(
            "--auth-token-env {var}: the environment variable is empty; put the bearer secret in it"
        )),
        None => Err(format!(
            "--auth-token-env {var}: the environment variable is not set; export it with the \
             bearer secret"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(auth_token_env: Option<&str>, insecure_no_auth: bool) -> HttpFlags {
        HttpFlags {
            auth_token_env: auth_token_env.into_iter().map(String::from).collect(),
            insecure_no_auth,
            ..HttpFlags::default()
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn listen_accepts_ip_ipv6_and_localhost() {
        assert_eq!(
            parse_listen("127.0.0.1:8080"),
            Ok("127.0.0.1:8080".parse().expect("valid"))
        );
        assert_eq!(
            parse_listen("[::1]:8080"),
            Ok("[::1]:8080".parse().expect("valid"))
        );
        assert_eq!(
            parse_listen("localhost:9000"),
            Ok("127.0.0.1:9000".parse().expect("valid"))
        );
        let error = parse_listen("example.com:80").expect_err("host names are not resolved");
        assert!(error.contains("--listen"), "{error}");
    }

    #[test]
    fn non_loopback_listen_without_auth_names_both_flags() {
        let error = flags(None, false)
            .to_options_with_env("0.0.0.0:8080", no_env)
            .expect_err("must refuse");
        assert!(error.contains("--auth-token-env"), "{error}");
        assert!(error.contains("--insecure-no-auth"), "{error}");
    }

    #[test]
    fn non_loopback_listen_with_a_token_from_the_environment_is_served() {
        let options = flags(Some("MCP_TOKEN"), false)
            .to_options_with_env("0.0.0.0:8080", |var| {
                (var == "MCP_TOKEN").then(|| "s3cret\n".to_string())
            })
            .expect("a token makes it safe");
        assert_eq!(options.credentials.len(), 1);
        assert_eq!(options.credentials[0].label, "MCP_TOKEN");
    }

    #[test]
    fn non_loopback_listen_with_insecure_no_auth_is_served_without_a_token() {
        let options = flags(None, true)
            .to_options_with_env("192.0.2.10:8080", no_env)
            .expect("explicit opt-out");
        assert!(options.credentials.is_empty());
        assert!(
            options
                .allowed_hosts
                .iter()
                .any(|host| host == "192.0.2.10")
        );
    }

    #[test]
    fn missing_or_empty_token_variable_is_named_and_the_value_never_shown() {
        let missing = flags(Some("MCP_TOKEN"), false)
            .to_options_with_env("127.0.0.1:8080", no_env)
            .expect_err("unset variable");
        assert!(
            missing.contains("MCP_TOKEN") && missing.contains("not set"),
            "{missing}"
        );
        let empty = flags(Some("MCP_TOKEN"), false)
            .to_options_with_env("127.0.0.1:8080", |_| Some("  ".into()))
            .expect_err("empty variable");
        assert!(
            empty.contains("MCP_TOKEN") && empty.contains("empty"),
            "{empty}"
        );
    }

    #[test]
    fn each_token_variable_is_one_credential_labelled_by_its_name_and_secrets_differ() {
        let two = HttpFlags {
            auth_token_env: vec!["CI_TOKEN".into(), "IDE_TOKEN".into()],
            ..HttpFlags::default()
        };
        let options = two
            .to_options_with_env("127.0.0.1:8080", |var| Some(format!("secret-of-{var}")))
            .expect("two credentials");
        let labels: Vec<&str> = options
            .credentials
            .iter()
            .map(|c| c.label.as_str())
            .collect();
        assert_eq!(labels, ["CI_TOKEN", "IDE_TOKEN"]);
        let same = two
            .to_options_with_env("127.0.0.1:8080", |_| Some("shared".into()))
            .expect_err("one secret twice cannot tell clients apart");
        assert!(
            same.contains("IDE_TOKEN") && !same.contains("shared"),
            "{same}"
        );
    }

    #[test]
    fn extra_hosts_and_origins_are_added_to_the_loopback_defaults() {
        let options = HttpFlags {
            allowed_hosts: vec!["mcp.example.com".into()],
            allowed_origins: vec!["https://ide.example.com".into()],
            ..HttpFlags::default()
        }
        .to_options_with_env("127.0.0.1:8080", no_env)
        .expect("valid");
        assert!(options.allowed_hosts.iter().any(|h| h == "localhost"));
        assert!(options.allowed_hosts.iter().any(|h| h == "mcp.example.com"));
        assert!(
            options
                .allowed_origins
                .iter()
                .any(|o| o == "https://ide.example.com")
        );
    }
}
