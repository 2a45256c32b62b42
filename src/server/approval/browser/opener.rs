//! Opening an approval page in the person's browser: `--approval-browser CMD` (the URL is its
//! last argument), else the platform's opener (`open`, `start`, `xdg-open` when there is a
//! display). The opener's output is discarded: it may echo the URL, and the URL must not reach
//! the server's log.

use std::process::Stdio;

/// How pages are opened.
#[derive(Debug, Clone)]
pub struct Opener {
    /// The program and its leading arguments; `None`: no browser can be opened here.
    command: Option<Vec<String>>,
}

impl Opener {
    /// `--approval-browser CMD` when given (split on whitespace, no shell), else the system's.
    pub fn new(configured: Option<&str>) -> Self {
        let command = match configured {
            Some(cmd) => Some(cmd.split_whitespace().map(String::from).collect::<Vec<_>>())
                .filter(|words| !words.is_empty()),
            None => system_opener(),
        };
        Opener { command }
    }

    /// A browser can (probably) be opened.
    pub fn available(&self) -> bool {
        self.command.is_some()
    }

    /// Start the opener with `url`; errors never contain the URL.
    pub fn open(&self, url: &str) -> Result<(), String> {
        let Some(words) = &self.command else {
            return Err("no browser can be opened here".into());
        };
        let mut command = tokio::process::Command::new(&words[0]);
        command
            .args(&words[1..])
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = command
            .spawn()
            .map_err(|e| format!("could not start the browser opener {:?}: {e}", words[0]))?;
        let program = words[0].clone();
        // Reap it; an opener that fails is worth a warning (without the URL).
        tokio::spawn(async move {
            match child.wait().await {
                Ok(status) if status.success() => {}
                Ok(status) => tracing::warn!(%program, %status, "the browser opener failed"),
                Err(error) => tracing::warn!(%program, %error, "the browser opener failed"),
            }
        });
        Ok(())
    }
}

fn system_opener() -> Option<Vec<String>> {
    if cfg!(target_os = "macos") {
        return Some(vec!["open".into()]);
    }
    if cfg!(windows) {
        // `start`'s first quoted argument is a window title.
        return Some(["cmd", "/C", "start", ""].map(String::from).to_vec());
    }
    // Without a display, xdg-open would fall back to a text browser on our own terminal.
    let display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()));
    (display && on_path("xdg-open")).then(|| vec!["xdg-open".into()])
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_command_is_split_and_an_empty_one_opens_nothing() {
        assert!(Opener::new(Some("my-browser --new-window")).available());
        assert!(!Opener::new(Some("   ")).available());
        assert!(Opener::new(Some("   ")).open("http://x").is_err());
    }
}
