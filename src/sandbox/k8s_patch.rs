//! Kubernetes PATCH bodies: JSON merge patch (also for strategic merge: RBAC types declare no
//! patch strategies) and JSON patch (RFC 6902), applied to an object's JSON.

use axum::http::StatusCode;
use serde_json::Value;

use super::k8s_api::{KubeError, KubeResult, decode};

/// Apply a PATCH body to `current` according to its content type.
pub fn apply_patch(current: Value, content_type: &str, body: &[u8]) -> KubeResult<Value> {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    match media {
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
            // RBAC types declare no patch strategies, so a strategic merge is a merge patch.
            let patch: Value = decode(body)?;
            let mut target = current;
            merge_patch(&mut target, &patch);
            Ok(target)
        }
        "application/json-patch+json" => {
            let ops: Vec<Value> = decode(body)?;
            let mut target = current;
            for op in &ops {
                json_patch_op(&mut target, op)?;
            }
            Ok(target)
        }
        other => Err(KubeError::unsupported_media_type(other)),
    }
}

/// RFC 7386.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(map) = target {
        for (key, value) in patch {
            if value.is_null() {
                map.remove(key);
            } else {
                merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// One RFC 6902 operation: add, remove, replace and test (what clients use on bindings).
fn json_patch_op(target: &mut Value, op: &Value) -> KubeResult<()> {
    let kind = op["op"].as_str().unwrap_or_default();
    let path = op["path"]
        .as_str()
        .ok_or_else(|| KubeError::bad_request("json patch operation without a path"))?;
    let failed = |why: &str| {
        KubeError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            format!(
                "the server rejected our request due to an error in our request: {kind} {path}: {why}"
            ),
        )
    };
    let (parent_path, last) = match path.rfind('/') {
        Some(i) => (&path[..i], unescape_pointer(&path[i + 1..])),
        None => return Err(failed("invalid JSON pointer")),
    };
    match kind {
        "test" => {
            let actual = target.pointer(path).ok_or_else(|| failed("no such path"))?;
            if *actual == op["value"] {
                Ok(())
            } else {
                Err(failed("test failed"))
            }
        }
        "replace" => {
            let slot = target
                .pointer_mut(path)
                .ok_or_else(|| failed("no such path"))?;
            *slot = op["value"].clone();
            Ok(())
        }
        "remove" => {
            let parent = target
                .pointer_mut(parent_path)
                .ok_or_else(|| failed("no such path"))?;
            match parent {
                Value::Object(map) => map
                    .remove(&last)
                    .map(|_| ())
                    .ok_or_else(|| failed("no such key")),
                Value::Array(items) => {
                    let index: usize = last.parse().map_err(|_| failed("bad index"))?;
                    if index < items.len() {
                        items.remove(index);
                        Ok(())
                    } else {
                        Err(failed("index out of range"))
                    }
                }
                _ => Err(failed("parent is not a container")),
            }
        }
        "add" => {
            let parent = target
                .pointer_mut(parent_path)
                .ok_or_else(|| failed("no such path"))?;
            let value = op["value"].clone();
            match parent {
                Value::Object(map) => {
                    map.insert(last, value);
                    Ok(())
                }
                Value::Array(items) if last == "-" => {
                    items.push(value);
                    Ok(())
                }
                Value::Array(items) => {
                    let index: usize = last.parse().map_err(|_| failed("bad index"))?;
                    if index <= items.len() {
                        items.insert(index, value);
                        Ok(())
                    } else {
                        Err(failed("index out of range"))
                    }
                }
                _ => Err(failed("parent is not a container")),
            }
        }
        _ => Err(KubeError::bad_request(format!(
            "json patch operation {kind:?} is not supported by the sandbox"
        ))),
    }
}

fn unescape_pointer(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}
