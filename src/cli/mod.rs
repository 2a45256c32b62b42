//! What the `tanzu-mcp` binary does, behind its command line: each command as a function,
//! and the one failure type whose exit code the binary returns (0 ok, 2 usage or
//! configuration, 1 anything else).
//!
//! - [`backend`]: the systems to serve, from a configuration or an in-process sandbox.
//! - [`commands`]: `serve`, `sandbox`, `tools`, `call` and `check`.

pub mod backend;
pub mod commands;

/// A failed command: the exit code and a message that names the fix.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    /// Usage or configuration: exit 2.
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }

    /// Anything else: exit 1.
    pub fn other(message: impl Into<String>) -> Self {
        Failure {
            code: 1,
            message: message.into(),
        }
    }
}

pub type CliResult = Result<(), Failure>;

/// Logs go to stderr (over stdio, stdout belongs to the MCP protocol); `TANZU_MCP_LOG` sets
/// the filter, else `default_level`. rmcp logs whole protocol messages (confirmation tokens, request states, session
/// ids among them) below warn: it stays at warn unless the filter names `rmcp` on purpose.
/// Every line goes through [`EscapingStderr`], so no field can forge a line.
pub fn init_tracing(default_level: &str) {
    use tracing_subscriber::EnvFilter;
    let asked = std::env::var("TANZU_MCP_LOG").unwrap_or_else(|_| default_level.to_string());
    let directives = if asked.contains("rmcp") {
        asked
    } else {
        format!("{asked},rmcp=warn")
    };
    let filter =
        EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info,rmcp=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| EscapingStderr)
        .with_ansi(false)
        .init();
}

/// Stderr that escapes control, bidi and invisible characters in each log line (the formatter
/// writes one event per `write`, ending in its one newline): a scope name holding "\n" cannot
/// start a forged line, nor an ESC sequence repaint a terminal.
pub struct EscapingStderr;

impl std::io::Write for EscapingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let (body, newline) = match buf.strip_suffix(b"\n") {
            Some(body) => (body, true),
            None => (buf, false),
        };
        let mut line = escape_line(body);
        if newline {
            line.push('\n');
        }
        std::io::stderr().lock().write_all(line.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// `bytes` with every control, bidi-override and zero-width character escaped.
pub fn escape_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control()
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}') =>
            {
                out.push_str(&format!("\\u{{{:04x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape_line;

    #[test]
    fn control_bidi_and_invisible_characters_are_escaped_and_nothing_else_changes() {
        assert_eq!(
            escape_line("scope=a\n2026-12-01T00:00:00Z  INFO forged".as_bytes()),
            "scope=a\\n2026-12-01T00:00:00Z  INFO forged"
        );
        assert_eq!(escape_line(b"a\rb\tc\x1b[2J"), "a\\rb\\tc\\u{001b}[2J");
        assert_eq!(
            escape_line("x\u{202e}y\u{200b}z".as_bytes()),
            "x\\u{202e}y\\u{200b}z"
        );
        assert_eq!(escape_line("plain é ü 日本".as_bytes()), "plain é ü 日本");
    }
}
