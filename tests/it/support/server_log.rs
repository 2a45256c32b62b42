//! The stderr of a process a test spawns, kept in a temp file and printed only when that test
//! fails: a passing run prints no server logs, a failing one shows what the server said.

use std::process::Stdio;

use tempfile::NamedTempFile;

/// Owns the captured stderr of one child; on drop during a panic it prints it.
pub struct ServerLog {
    name: String,
    file: NamedTempFile,
}

impl ServerLog {
    pub fn new(name: &str) -> Self {
        ServerLog {
            name: name.to_string(),
            file: NamedTempFile::new().expect("a temp file for the server's stderr"),
        }
    }

    /// The child's stderr: it writes through its own handle, this guard reads the file back.
    pub fn stdio(&self) -> Stdio {
        Stdio::from(
            self.file
                .as_file()
                .try_clone()
                .expect("a second handle on the log file"),
        )
    }

    /// What the child wrote so far. Read through a fresh handle: the child's shares its offset.
    pub fn text(&self) -> String {
        std::fs::read_to_string(self.file.path()).unwrap_or_default()
    }
}

impl Drop for ServerLog {
    fn drop(&mut self) {
        // `eprintln!` goes through libtest's capture: it is shown with the failing test only.
        if std::thread::panicking() {
            eprintln!(
                "----- stderr of {} -----\n{}----- end of {} -----",
                self.name,
                self.text(),
                self.name
            );
        }
    }
}
