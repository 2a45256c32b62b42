//! The audit trail: one record per attempted change, through the [`AuditSink`] port, and
//! [`AuditLog`], the sink that appends JSON lines to a file.
//!
//! What is audited, and when, is decided by the change lifecycle (`access::change`), never by a
//! tool handler: an `intent` record, written and flushed before an action is made (no record, no
//! action), then its `outcome` record. Records carry who asked (the MCP client's name and, over
//! authenticated HTTP, the label of the credential it presented) and what was attempted and how
//! it ended; never a token or credential. The file is opened for append so several servers can
//! share it, and each line is written with one `write` so lines do not interleave.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::ports::System;

/// Whether a record announces an action or tells how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// About to be attempted: written before the action, which is not made if this fails.
    Intent,
    /// How it ended (`outcome` says).
    Outcome,
}

/// One attempted change.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord<'a> {
    pub phase: Phase,
    pub tool: &'a str,
    /// The person or group the change is about.
    pub target: &'a str,
    pub system: System,
    /// What was attempted, in words: "cluster 'dev' role cluster.admin: remove USER alice@...".
    pub action: &'a str,
    /// `done`, `already_absent`, `already_present`, `failed`, `skipped`; `intended` in an
    /// intent record.
    pub outcome: &'a str,
    /// Error message or other detail; empty when there is none.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub detail: &'a str,
    /// The MCP client that asked (its self-reported name and version).
    pub client: &'a str,
    /// The label of the HTTP bearer credential the request came with (never the secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<&'a str>,
}

/// A human's answer to an approval asked outside the MCP client (the browser page): who
/// approved, through what, and (in the line's `time`) when. Never the page's address or token.
#[derive(Debug, Clone, Serialize)]
pub struct ApprovalRecord<'a> {
    pub tool: &'a str,
    pub target: &'a str,
    /// `approved`, `declined` or `refused` (the email typed back did not match).
    pub approval: &'a str,
    /// The digest of the plan the human saw.
    pub plan_digest: &'a str,
    /// Where the human answered: "browser page on 127.0.0.1", "browser page on the HTTP listener".
    pub approved_via: &'a str,
    /// The MCP client whose call asked.
    pub client: &'a str,
    /// The label of the credential that reached the page, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<&'a str>,
}

/// A record could not be written.
#[derive(Debug, thiserror::Error)]
#[error("the audit log {path} could not be written: {source}")]
pub struct AuditError {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

/// Where audit records go.
pub trait AuditSink: Send + Sync {
    fn record(&self, record: &AuditRecord<'_>) -> Result<(), AuditError>;
}

/// Who asked for a change, as the audit trail names them.
#[derive(Debug, Clone, Default)]
pub struct Requester {
    /// The MCP client's self-reported name and version.
    pub client: String,
    /// The label of the HTTP bearer credential it presented, when HTTP auth is on.
    pub credential: Option<String>,
}

#[derive(Serialize)]
struct Line<'a, R> {
    time: String,
    #[serde(flatten)]
    record: &'a R,
}

/// Appends JSON lines to a file; `disabled()` drops them (no `--audit-log`).
pub struct AuditLog {
    file: Option<(PathBuf, Mutex<File>)>,
}

impl AuditLog {
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AuditLog {
            file: Some((path.to_path_buf(), Mutex::new(file))),
        })
    }

    pub fn disabled() -> AuditLog {
        AuditLog { file: None }
    }
}

impl AuditLog {
    /// Append a human's answer to a browser approval.
    pub fn record_approval(&self, record: &ApprovalRecord<'_>) -> Result<(), AuditError> {
        self.append(record, record.tool)
    }

    fn append<R: Serialize>(&self, record: &R, tool: &str) -> Result<(), AuditError> {
        let Some((path, file)) = &self.file else {
            return Ok(());
        };
        let failed = |source| AuditError {
            path: path.display().to_string(),
            source,
        };
        let time = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default();
        let mut line = serde_json::to_vec(&Line { time, record })
            .map_err(|e| failed(std::io::Error::other(e)))?;
        line.push(b'\n');
        let mut file = file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let written = file.write_all(&line).and_then(|()| file.flush());
        if let Err(e) = &written {
            tracing::error!(error = %e, tool, "could not write the audit log");
        }
        written.map_err(failed)
    }
}

impl AuditSink for AuditLog {
    /// Append one record. A failure to write is logged and returned: an unaudited change is
    /// something an operator must hear about.
    fn record(&self, record: &AuditRecord<'_>) -> Result<(), AuditError> {
        self.append(record, record.tool)
    }
}
