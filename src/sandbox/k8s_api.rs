//! What every simulated Kubernetes endpoint shares: `Status` errors, list paging with `limit`
//! and `continue`, field and label selectors, and the server-side `Table` kubectl asks
//! for when it prints.
//!
//! Objects are k8s-openapi types, so their JSON is the API server's; Table and patch documents
//! have no k8s-openapi type and are plain JSON.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    ObjectMeta, Status, StatusCause, StatusDetails,
};
use k8s_openapi::jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

/// A resource type as errors and discovery name it.
#[derive(Debug, Clone, Copy)]
pub struct ResourceKind {
    pub plural: &'static str,
    pub group: &'static str,
    pub kind: &'static str,
}

impl ResourceKind {
    /// `clusterrolebindings.rbac.authorization.k8s.io`, or `namespaces` for the core group.
    fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

/// A failure answered as a Kubernetes `Status` object.
#[derive(Debug)]
pub struct KubeError {
    status: StatusCode,
    reason: &'static str,
    message: String,
    /// Boxed: errors travel in every `Result` of the handlers, and most carry no details.
    details: Option<Box<StatusDetails>>,
}

impl KubeError {
    pub(super) fn new(
        status: StatusCode,
        reason: &'static str,
        message: impl Into<String>,
    ) -> KubeError {
        KubeError {
            status,
            reason,
            message: message.into(),
            details: None,
        }
    }

    fn with_details(mut self, kind: &ResourceKind, name: &str) -> KubeError {
        self.details = Some(Box::new(StatusDetails {
            name: Some(name.to_string()),
            group: Some(kind.group.to_string()),
            kind: Some(kind.plural.to_string()),
            ..Default::default()
        }));
        self
    }

    pub fn unauthorized() -> KubeError {
        KubeError::new(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized")
    }

    pub fn not_found(kind: &ResourceKind, name: &str) -> KubeError {
        KubeError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{} \"{name}\" not found", kind.qualified()),
        )
        .with_details(kind, name)
    }

    /// The path names no resource this server knows.
    pub fn no_such_path() -> KubeError {
        KubeError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    pub fn already_exists(kind: &ResourceKind, name: &str) -> KubeError {
        KubeError::new(
            StatusCode::CONFLICT,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", kind.qualified()),
        )
        .with_details(kind, name)
    }

    pub fn conflict(kind: &ResourceKind, name: &str) -> KubeError {
        KubeError::new(
            StatusCode::CONFLICT,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; \
                 please apply your changes to the latest version and try again",
                kind.qualified()
            ),
        )
        .with_details(kind, name)
    }

    /// 422 with one cause per invalid field, as the API server's validation answers.
    pub fn invalid(kind: &ResourceKind, name: &str, causes: Vec<(String, String)>) -> KubeError {
        let summary: Vec<String> = causes.iter().map(|(f, m)| format!("{f}: {m}")).collect();
        let mut error = KubeError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            format!(
                "{} \"{name}\" is invalid: {}",
                kind.qualified_kind(),
                summary.join(", ")
            ),
        )
        .with_details(kind, name);
        if let Some(details) = error.details.as_mut() {
            details.kind = Some(kind.kind.to_string());
            details.causes = Some(
                causes
                    .into_iter()
                    .map(|(field, message)| StatusCause {
                        field: Some(field),
                        message: Some(message),
                        reason: Some("FieldValueInvalid".to_string()),
                    })
                    .collect(),
            );
        }
        error
    }

    pub fn bad_request(message: impl Into<String>) -> KubeError {
        KubeError::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    pub fn unsupported_media_type(content_type: &str) -> KubeError {
        KubeError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/merge-patch+json, application/strategic-merge-patch+json, application/json-patch+json (got {content_type:?})"
            ),
        )
    }

    pub fn gone(message: impl Into<String>) -> KubeError {
        KubeError::new(StatusCode::GONE, "Expired", message)
    }
}

impl IntoResponse for KubeError {
    fn into_response(self) -> Response {
        let body = Status {
            code: Some(i32::from(self.status.as_u16())),
            details: self.details.map(|d| *d),
            message: Some(self.message),
            reason: Some(self.reason.to_string()),
            status: Some("Failure".to_string()),
            ..Default::default()
        };
        (self.status, axum::Json(body)).into_response()
    }
}

pub type KubeResult<T> = Result<T, KubeError>;

/// The `Status` a successful DELETE answers.
pub fn deleted_status(kind: &ResourceKind, name: &str, uid: Option<String>) -> Status {
    Status {
        status: Some("Success".to_string()),
        details: Some(StatusDetails {
            name: Some(name.to_string()),
            group: Some(kind.group.to_string()),
            kind: Some(kind.plural.to_string()),
            uid,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Decode a JSON request body as `T`, answering 400 the API server's way.
pub fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> KubeResult<T> {
    serde_json::from_slice(body)
        .map_err(|e| KubeError::bad_request(format!("the request body could not be decoded: {e}")))
}

// ---------------------------------------------------------------------------------------------
// Lists

/// Query parameters of list and write calls.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestQuery {
    pub limit: Option<i64>,
    #[serde(rename = "continue")]
    pub continue_: Option<String>,
    pub field_selector: Option<String>,
    pub label_selector: Option<String>,
    pub dry_run: Option<String>,
    pub watch: Option<String>,
}

impl RequestQuery {
    pub fn is_dry_run(&self) -> bool {
        self.dry_run.as_deref() == Some("All")
    }
}

/// One page of a list: the items and the `continue` token, if more remain.
pub struct Page<T> {
    pub items: Vec<T>,
    pub continue_: Option<String>,
    pub remaining: Option<i64>,
}

/// Page through `objects` (a BTreeMap, so the order is stable) as the API server does: the
/// `continue` token encodes the key of the last item served and the revision the list began
/// at; a token from another list or a tampered one is refused with 400.
pub fn page<T: Clone>(
    objects: &BTreeMap<String, T>,
    key_prefix: &str,
    query: &RequestQuery,
    revision: u64,
    metadata: impl Fn(&T) -> &ObjectMeta,
) -> KubeResult<Page<T>> {
    if query
        .watch
        .as_deref()
        .is_some_and(|w| w == "true" || w == "1")
    {
        return Err(KubeError::bad_request(
            "watch is not supported by the tanzu-mcp sandbox",
        ));
    }
    let selectors = Selectors::parse(query)?;
    let after = match query.continue_.as_deref().filter(|c| !c.is_empty()) {
        Some(token) => Some(decode_continue(token, key_prefix)?),
        None => None,
    };
    let limit = match query.limit {
        Some(n) if n > 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
        _ => None,
    };
    let start = after.clone().unwrap_or_else(|| key_prefix.to_string());
    let mut matching = objects
        .range(start..)
        .take_while(|(key, _)| key.starts_with(key_prefix))
        .filter(|(key, _)| after.as_deref() != Some(key.as_str()))
        .filter(|(_, object)| selectors.matches(metadata(object)))
        .peekable();
    let mut items = Vec::new();
    let mut last_key = None;
    while let Some((key, object)) =
        matching.next_if(|_| limit.is_none_or(|limit| items.len() < limit))
    {
        items.push(object.clone());
        last_key = Some(key);
    }
    // No token on an exact last page: only when something is actually left.
    let remaining = matching.count();
    let continue_ = match (remaining > 0, last_key) {
        (true, Some(key)) => Some(encode_continue(key, revision)),
        _ => None,
    };
    let remaining = (continue_.is_some() && selectors.is_empty())
        .then(|| i64::try_from(remaining).unwrap_or(i64::MAX));
    Ok(Page {
        items,
        continue_,
        remaining,
    })
}

#[derive(serde::Serialize, Deserialize)]
struct ContinueToken {
    /// The revision of the list's first page (informational, like the real token's `rv`).
    rv: u64,
    /// The key of the last item served.
    start: String,
}

fn encode_continue(last_key: &str, revision: u64) -> String {
    let token = ContinueToken {
        rv: revision,
        start: last_key.to_string(),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).unwrap_or_default())
}

fn decode_continue(token: &str, key_prefix: &str) -> KubeResult<String> {
    let invalid = || KubeError::bad_request("continue key is not valid: illegal base64 data");
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let token: ContinueToken = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if !token.start.starts_with(key_prefix) {
        return Err(KubeError::bad_request(
            "continue key is not valid: it belongs to another list",
        ));
    }
    Ok(token.start)
}

/// The equality subset of field and label selectors (`a=b`, `a==b`, `a!=b`, comma-joined),
/// which is what kubectl and kube-rs send. Field selectors know `metadata.name` and
/// `metadata.namespace`, as the RBAC types do.
#[derive(Default)]
struct Selectors {
    fields: Vec<(String, String, bool)>,
    labels: Vec<(String, String, bool)>,
}

impl Selectors {
    fn parse(query: &RequestQuery) -> KubeResult<Selectors> {
        let parse_one = |s: &Option<String>,
                         what: &str|
         -> KubeResult<Vec<(String, String, bool)>> {
            let Some(s) = s.as_deref().filter(|s| !s.is_empty()) else {
                return Ok(Vec::new());
            };
            s.split(',')
                .map(|term| {
                    let (key, value, equal) = if let Some((k, v)) = term.split_once("!=") {
                        (k, v, false)
                    } else if let Some((k, v)) = term.split_once("==") {
                        (k, v, true)
                    } else if let Some((k, v)) = term.split_once('=') {
                        (k, v, true)
                    } else {
                        return Err(KubeError::bad_request(format!(
                            "unable to parse requirement: {what} {term:?} is not supported by the sandbox (use key=value)"
                        )));
                    };
                    Ok((key.trim().to_string(), value.trim().to_string(), equal))
                })
                .collect()
        };
        let fields = parse_one(&query.field_selector, "field selector")?;
        if let Some((field, _, _)) = fields
            .iter()
            .find(|(f, _, _)| f != "metadata.name" && f != "metadata.namespace")
        {
            return Err(KubeError::bad_request(format!(
                "field label not supported: {field}"
            )));
        }
        Ok(Selectors {
            fields,
            labels: parse_one(&query.label_selector, "label selector")?,
        })
    }

    fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.labels.is_empty()
    }

    fn matches(&self, meta: &ObjectMeta) -> bool {
        let fields_ok = self.fields.iter().all(|(field, value, equal)| {
            let actual = match field.as_str() {
                "metadata.name" => meta.name.as_deref(),
                _ => meta.namespace.as_deref(),
            };
            (actual.unwrap_or_default() == value) == *equal
        });
        let labels_ok = self.labels.iter().all(|(key, value, equal)| {
            let actual = meta.labels.as_ref().and_then(|l| l.get(key));
            (actual.map(String::as_str) == Some(value.as_str())) == *equal
        });
        fields_ok && labels_ok
    }
}

// ---------------------------------------------------------------------------------------------
// Tables (what `kubectl get` asks for)

/// Whether the client asked for a server-side `Table` (kubectl's `Accept: ...;as=Table;...`).
pub fn wants_table(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("as=Table"))
}

/// A column of a `Table`.
pub struct Column {
    pub name: &'static str,
    pub description: &'static str,
    /// 0 is shown by default; 1 only with `-o wide`.
    pub priority: u8,
}

/// A `meta.k8s.io/v1` Table whose rows carry each object's metadata (kubectl reads the
/// namespace column of `-A` from there).
pub fn table(columns: &[Column], rows: Vec<(Vec<Value>, &ObjectMeta)>, list_meta: Value) -> Value {
    let column_definitions: Vec<Value> = columns
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "type": "string",
                "format": if c.name == "Name" { "name" } else { "" },
                "description": c.description,
                "priority": c.priority,
            })
        })
        .collect();
    let rows: Vec<Value> = rows
        .into_iter()
        .map(|(cells, meta)| {
            json!({
                "cells": cells,
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": meta,
                },
            })
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": column_definitions,
        "rows": rows,
    })
}

/// kubectl's short age format: `45s`, `12m`, `5h`, `3d`, `2y`.
pub fn age(created: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>) -> String {
    let Some(created) = created else {
        return "<unknown>".to_string();
    };
    let seconds = Timestamp::now().as_second() - created.0.as_second();
    match seconds.max(0) {
        s if s < 120 => format!("{s}s"),
        s if s < 3600 * 2 => format!("{}m", s / 60),
        s if s < 86_400 * 2 => format!("{}h", s / 3600),
        s if s < 86_400 * 365 * 2 => format!("{}d", s / 86_400),
        s => format!("{}y", s / (86_400 * 365)),
    }
}
