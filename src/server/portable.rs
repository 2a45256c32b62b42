//! Tool schemas and results every MCP client accepts. schemars writes `Option<T>` as
//! `"type": ["string", "null"]` or `anyOf: [T, {"type": "null"}]`, and integers with formats
//! such as `uint` that no JSON Schema draft defines; some clients refuse both (the Inspector's
//! `--strict` warns on each). So an optional field is written as plain `T`, left out of
//! `required`, and left out of results when it has no value (instead of `null`), and only the
//! formats of JSON Schema 2020-12 are kept.

use rmcp::model::{CallToolResult, ContentBlock, JsonObject};
use serde_json::{Map, Value};

/// The `format` values JSON Schema 2020-12 defines; any other is dropped.
pub const KNOWN_FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

/// `schema` without nullable types and unknown formats.
pub fn schema(schema: &JsonObject) -> JsonObject {
    let mut value = Value::Object(schema.clone());
    clean(&mut value);
    match value {
        Value::Object(map) => map,
        _ => schema.clone(),
    }
}

/// An output schema as [`schema`], without descriptions: they are about half of `tools/list`,
/// a model reads them on every session, and the tool's description and the results' own field
/// names already say what each field is. Input schemas keep theirs: the model needs them to
/// call the tool.
pub fn output_schema(output: &JsonObject) -> JsonObject {
    let mut value = Value::Object(schema(output));
    strip_descriptions(&mut value, false);
    match value {
        Value::Object(map) => map,
        _ => schema(output),
    }
}

/// `names`: `value` is a map from names to schemas (`properties`, `$defs`), whose keys are
/// never keywords.
fn strip_descriptions(value: &mut Value, names: bool) {
    match value {
        Value::Object(map) => {
            if !names && map.get("description").is_some_and(Value::is_string) {
                map.remove("description");
            }
            for (key, child) in map.iter_mut() {
                let child_names =
                    !names && matches!(key.as_str(), "properties" | "$defs" | "definitions");
                strip_descriptions(child, child_names);
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| strip_descriptions(item, false)),
        _ => {}
    }
}

fn clean(value: &mut Value) {
    match value {
        Value::Object(map) => {
            unnull(map);
            if let Some(Value::Object(properties)) = map.get_mut("properties") {
                let mut optional = Vec::new();
                for (name, property) in properties.iter_mut() {
                    if let Value::Object(p) = property
                        && unnull(p)
                    {
                        optional.push(name.clone());
                    }
                }
                // A field that can be absent is not required.
                if let Some(Value::Array(required)) = map.get_mut("required") {
                    required.retain(|r| !optional.iter().any(|o| Some(o.as_str()) == r.as_str()));
                }
            }
            if map
                .get("format")
                .and_then(Value::as_str)
                .is_some_and(|f| !KNOWN_FORMATS.contains(&f))
            {
                map.remove("format");
            }
            for child in map.values_mut() {
                clean(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(clean),
        _ => {}
    }
}

/// Drop `null` from this schema's type (`["T", "null"]` becomes `"T"`, `anyOf: [X, null]`
/// becomes `X`) and `"default": null`. True when the schema allowed null.
fn unnull(map: &mut Map<String, Value>) -> bool {
    let mut was_nullable = false;
    if let Some(Value::Array(types)) = map.get("type") {
        let kept: Vec<Value> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .cloned()
            .collect();
        if kept.len() < types.len() {
            was_nullable = true;
            let kept = match <[Value; 1]>::try_from(kept) {
                Ok([one]) => one,
                Err(many) => Value::Array(many),
            };
            map.insert("type".into(), kept);
        }
    }
    for key in ["anyOf", "oneOf"] {
        let Some(Value::Array(branches)) = map.get(key) else {
            continue;
        };
        let is_null = |b: &Value| b.get("type").and_then(Value::as_str) == Some("null");
        if !branches.iter().any(is_null) {
            continue;
        }
        was_nullable = true;
        let mut rest: Vec<Value> = branches.iter().filter(|b| !is_null(b)).cloned().collect();
        if rest.len() == 1 {
            // `{anyOf: [X, null], description}` becomes X with the outer keys (description).
            map.remove(key);
            if let Value::Object(only) = rest.remove(0) {
                for (k, v) in only {
                    map.entry(k).or_insert(v);
                }
            }
        } else {
            map.insert(key.into(), Value::Array(rest));
        }
    }
    if map.get("default") == Some(&Value::Null) {
        map.remove("default");
        was_nullable = true;
    }
    was_nullable
}

/// A result whose structured content has no `null` fields (absent instead), as the cleaned
/// output schema promises; the text copy follows.
pub fn result(mut result: CallToolResult) -> CallToolResult {
    let Some(structured) = result.structured_content.as_mut() else {
        return result;
    };
    let before = structured.clone();
    drop_nulls(structured);
    if *structured != before {
        let after = serde_json::to_string(structured).unwrap_or_default();
        for block in result.content.iter_mut() {
            let same = block
                .as_text()
                .and_then(|t| serde_json::from_str::<Value>(&t.text).ok())
                .is_some_and(|text| text == before);
            if same {
                *block = ContentBlock::text(after.clone());
            }
        }
    }
    result
}

fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cleaned(value: Value) -> Value {
        Value::Object(schema(value.as_object().unwrap()))
    }

    #[test]
    fn output_schemas_lose_descriptions_but_not_fields_named_description() {
        let out = Value::Object(output_schema(
            json!({
                "description": "top",
                "type": "object",
                "properties": {
                    "description": {"type": "string", "description": "a field so named"},
                    "items": {"type": "array", "items": {"description": "x", "type": "string"}}
                },
                "$defs": {"D": {"description": "d", "type": "string"}}
            })
            .as_object()
            .unwrap(),
        ));
        assert_eq!(
            out,
            json!({
                "type": "object",
                "properties": {
                    "description": {"type": "string"},
                    "items": {"type": "array", "items": {"type": "string"}}
                },
                "$defs": {"D": {"type": "string"}}
            })
        );
    }

    #[test]
    fn nullable_types_become_plain_and_optional_and_unknown_formats_go() {
        let out = cleaned(json!({
            "type": "object",
            "properties": {
                "a": {"type": ["string", "null"]},
                "b": {"anyOf": [{"$ref": "#/$defs/B"}, {"type": "null"}], "description": "d"},
                "n": {"type": "integer", "format": "uint", "minimum": 0},
                "t": {"type": "string", "format": "date-time"}
            },
            "required": ["a", "b", "n"]
        }));
        assert_eq!(out["properties"]["a"], json!({"type": "string"}));
        assert_eq!(
            out["properties"]["b"],
            json!({"$ref": "#/$defs/B", "description": "d"})
        );
        assert_eq!(
            out["properties"]["n"],
            json!({"type": "integer", "minimum": 0})
        );
        assert_eq!(out["properties"]["t"]["format"], "date-time");
        assert_eq!(out["required"], json!(["n"]));
    }

    #[test]
    fn results_leave_out_null_fields_in_both_copies() {
        let value = json!({"a": null, "b": [{"c": null, "d": 1}]});
        let original = CallToolResult::structured(value);
        let out = result(original);
        assert_eq!(out.structured_content, Some(json!({"b": [{"d": 1}]})));
        assert_eq!(
            out.content[0].as_text().map(|t| t.text.as_str()),
            Some(r#"{"b":[{"d":1}]}"#)
        );
    }
}
