//! The audit log: one JSON line per attempted change, written before the tool returns.
//!
//! Lines carry who asked (the MCP client's name), what was attempted and how it ended; never a
//! token or credential. The file is opened for append so several servers can share it, and each
//! line is written with one `write` so lines do not interleave.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::ports::System;

/// One attempted change.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord<'a> {
    pub tool: &'a str,
    /// The person or group the change is about.
    pub target: &'a str,
    pub system: System,
    /// What was attempted, in words: "remove USER alice@example.com from cluster.admin on cluster 'dev'".
    pub action: &'a str,
    /// `done`, `already_absent`, `failed`, `skipped`, `already_bound`, `invited` ...
    pub outcome: &'a str,
    /// Error message or other detail; empty when there is none.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub detail: &'a str,
    /// The MCP client that asked (its self-reported name and version).
    pub client: &'a str,
}

#[derive(Serialize)]
struct Line<'a> {
    time: String,
    #[serde(flatten)]
    record: &'a AuditRecord<'a>,
}

/// Where audit records go. `disabled()` drops them (no `--audit-log`).
pub struct AuditLog {
    file: Option<Mutex<File>>,
}

impl AuditLog {
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AuditLog {
            file: Some(Mutex::new(file)),
        })
    }

    pub fn disabled() -> AuditLog {
        AuditLog { file: None }
    }

    /// Append one record. A failure to write is logged and returned: callers report it, since
    /// an unaudited change is something an operator must hear about.
    pub fn record(&self, record: &AuditRecord<'_>) -> std::io::Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let time = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default();
        let mut line = serde_json::to_vec(&Line { time, record }).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut file = file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let written = file.write_all(&line).and_then(|()| file.flush());
        if let Err(e) = &written {
            tracing::error!(error = %e, tool = record.tool, "could not write the audit log");
        }
        written
    }
}
