//! Tool arguments checked against the tool's own input schema before the tool runs, so that a
//! model reads what to fix: the field path (`scope.name is required for kind tap_cluster`),
//! the accepted shape, and a refusal (not a silent clamp) for an out-of-range value. serde's
//! messages (`missing field 'name'`, `expected internally tagged enum ScopeRef`) say neither.
//!
//! Only the keywords our schemas use are checked: `$ref`, `type`, `const`, `enum`, `oneOf`,
//! `properties`, `required`, `additionalProperties: false`, `items`, `minimum`, `maximum`,
//! `minItems`, `maxItems`. Anything else passes here and is left to serde and the domain.

use serde_json::{Map, Value};

/// The first problem with `arguments` under `schema` (a tool's `inputSchema`), in words.
pub fn check(schema: &Map<String, Value>, arguments: &Map<String, Value>) -> Result<(), String> {
    let checker = Checker { root: schema };
    checker.value(
        schema,
        &Value::Object(arguments.clone()),
        &Path::root(),
        None,
    )
}

/// Where a value sits in the arguments: `scope.name`, `emails[2]`.
#[derive(Clone)]
struct Path(String);

impl Path {
    fn root() -> Path {
        Path(String::new())
    }

    fn field(&self, name: &str) -> Path {
        if self.0.is_empty() {
            Path(name.to_string())
        } else {
            Path(format!("{}.{name}", self.0))
        }
    }

    fn index(&self, index: usize) -> Path {
        Path(format!("{}[{index}]", self.0))
    }

    fn name(&self) -> &str {
        if self.0.is_empty() {
            "the arguments"
        } else {
            &self.0
        }
    }
}

struct Checker<'a> {
    root: &'a Map<String, Value>,
}

impl Checker<'_> {
    /// `#/$defs/Name` resolved against the tool's schema; anything else as it is.
    fn resolve<'s>(&'s self, schema: &'s Map<String, Value>) -> &'s Map<String, Value> {
        let target = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .and_then(|name| self.root.get("$defs")?.get(name)?.as_object());
        target.unwrap_or(schema)
    }

    /// `kind`: the discriminator value of the `oneOf` branch being checked, for messages.
    fn value(
        &self,
        schema: &Map<String, Value>,
        value: &Value,
        path: &Path,
        kind: Option<&str>,
    ) -> Result<(), String> {
        let schema = self.resolve(schema);
        if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
            return self.one_of(branches, value, path);
        }
        if let Some(expected) = schema.get("const")
            && value != expected
        {
            return Err(format!("{} must be {expected}, got {value}", path.name()));
        }
        if let Some(choices) = schema.get("enum").and_then(Value::as_array)
            && !choices.contains(value)
        {
            return Err(format!(
                "{} must be one of {}, got {value}",
                path.name(),
                list(choices)
            ));
        }
        if let Some(kind_name) = schema.get("type").and_then(Value::as_str)
            && !has_type(value, kind_name)
        {
            return Err(format!(
                "{} must be {}, got {}",
                path.name(),
                self.shape(schema),
                describe(value)
            ));
        }
        self.range(schema, value, path)?;
        match value {
            Value::Object(fields) => self.object(schema, fields, path, kind),
            Value::Array(items) => {
                if let Some(item_schema) = schema.get("items").and_then(Value::as_object) {
                    for (index, item) in items.iter().enumerate() {
                        self.value(item_schema, item, &path.index(index), None)?;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn range(&self, schema: &Map<String, Value>, value: &Value, path: &Path) -> Result<(), String> {
        if let Some(number) = value.as_f64() {
            if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
                && number > max
            {
                return Err(format!(
                    "{} must be at most {max} (got {value}); it is refused rather than lowered",
                    path.name()
                ));
            }
            if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
                && number < min
            {
                return Err(format!(
                    "{} must be at least {min} (got {value})",
                    path.name()
                ));
            }
        }
        if let Value::Array(items) = value {
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
                && items.len() as u64 > max
            {
                return Err(format!(
                    "{} takes at most {max} items (got {}); split the call",
                    path.name(),
                    items.len()
                ));
            }
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
                && (items.len() as u64) < min
            {
                return Err(format!("{} needs at least {min} item(s)", path.name()));
            }
        }
        Ok(())
    }

    fn object(
        &self,
        schema: &Map<String, Value>,
        fields: &Map<String, Value>,
        path: &Path,
        kind: Option<&str>,
    ) -> Result<(), String> {
        let empty = Map::new();
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let for_kind = kind.map(|k| format!(" for kind {k}")).unwrap_or_default();
        let required = schema.get("required").and_then(Value::as_array);
        for name in required.into_iter().flatten().filter_map(Value::as_str) {
            if fields.get(name).is_none_or(Value::is_null) {
                return Err(format!(
                    "{} is required{for_kind}; {} takes {}",
                    path.field(name).name(),
                    path.name(),
                    self.shape(schema)
                ));
            }
        }
        let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
        for (name, value) in fields {
            match properties.get(name).and_then(Value::as_object) {
                // An explicit null for an optional field means "not given", as serde reads it.
                Some(_) if value.is_null() => {}
                Some(field_schema) => self.value(field_schema, value, &path.field(name), None)?,
                None if closed => {
                    return Err(format!(
                        "{} is not a field{for_kind}; {} takes {}",
                        path.field(name).name(),
                        path.name(),
                        self.shape(schema)
                    ));
                }
                None => {}
            }
        }
        Ok(())
    }

    /// A `oneOf`: of strings (an enum with descriptions), or of objects told apart by a
    /// constant `kind`, whose branch is then checked for the precise message.
    fn one_of(&self, branches: &[Value], value: &Value, path: &Path) -> Result<(), String> {
        let branches: Vec<&Map<String, Value>> = branches
            .iter()
            .filter_map(Value::as_object)
            .map(|b| self.resolve(b))
            .collect();
        if branches
            .iter()
            .any(|b| self.value(b, value, path, None).is_ok())
        {
            return Ok(());
        }
        let kinds: Vec<&Value> = branches
            .iter()
            .filter_map(|b| b.get("properties")?.get("kind")?.get("const"))
            .collect();
        if kinds.len() != branches.len() || kinds.is_empty() {
            let choices: Vec<String> = branches.iter().map(|b| self.shape(b)).collect();
            return Err(format!(
                "{} must be one of {}, got {}",
                path.name(),
                choices.join(", "),
                describe(value)
            ));
        }
        let kind_list = list(&kinds.iter().copied().cloned().collect::<Vec<_>>());
        let Value::Object(fields) = value else {
            let example = branches.last().map(|b| self.shape(b)).unwrap_or_default();
            return Err(format!(
                "{} must be an object with a \"kind\" (one of {kind_list}) and that kind's \
                 fields, such as {example}; got {}",
                path.name(),
                describe(value)
            ));
        };
        let Some(kind) = fields.get("kind") else {
            return Err(format!(
                "{} is required: one of {kind_list}",
                path.field("kind").name()
            ));
        };
        match branches.iter().zip(&kinds).find(|(_, k)| **k == kind) {
            Some((branch, k)) => self.value(branch, value, path, k.as_str()),
            None => Err(format!(
                "{} must be one of {kind_list}, got {kind}",
                path.field("kind").name()
            )),
        }
    }

    /// A one-line picture of what a schema accepts: `{"kind": "tap_cluster", "name": string,
    /// "namespace"?: string}`.
    fn shape(&self, schema: &Map<String, Value>) -> String {
        let schema = self.resolve(schema);
        if let Some(value) = schema.get("const") {
            return value.to_string();
        }
        if let Some(choices) = schema.get("enum").and_then(Value::as_array) {
            return format!("one of {}", list(choices));
        }
        if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
            let shapes: Vec<String> = branches
                .iter()
                .filter_map(Value::as_object)
                .map(|b| self.shape(b))
                .collect();
            return shapes.join(" | ");
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("object") => {
                let empty = Map::new();
                let properties = schema
                    .get("properties")
                    .and_then(Value::as_object)
                    .unwrap_or(&empty);
                let required: Vec<&str> = schema
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let fields: Vec<String> = properties
                    .iter()
                    .map(|(name, field)| {
                        let optional = if required.contains(&name.as_str()) {
                            ""
                        } else {
                            "?"
                        };
                        let field = field.as_object().map(|f| self.shape(f)).unwrap_or_default();
                        format!("\"{name}\"{optional}: {field}")
                    })
                    .collect();
                format!("{{{}}}", fields.join(", "))
            }
            Some("array") => {
                let item = schema
                    .get("items")
                    .and_then(Value::as_object)
                    .map(|i| self.shape(i))
                    .unwrap_or_else(|| "value".into());
                format!("an array of {item}")
            }
            Some(other) => other.to_string(),
            None => "a value".to_string(),
        }
    }
}

fn has_type(value: &Value, kind: &str) -> bool {
    match kind {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "null" => value.is_null(),
        _ => true,
    }
}

/// `"tap-dev" (a string)`, for "got ..." in messages.
fn describe(value: &Value) -> String {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    let text = value.to_string();
    if text.len() > 60 {
        kind.to_string()
    } else {
        format!("{text} ({kind})")
    }
}

fn list(values: &[Value]) -> String {
    values
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema_of(tool: &str) -> Map<String, Value> {
        let tool = crate::server::TanzuMcp::all_tools()
            .get(tool)
            .cloned()
            .expect("tool exists");
        (*tool.input_schema).clone()
    }

    fn problem(tool: &str, arguments: Value) -> String {
        check(&schema_of(tool), arguments.as_object().unwrap()).unwrap_err()
    }

    #[test]
    fn a_missing_field_of_a_kind_names_its_path_the_kind_and_the_shape() {
        let text = problem(
            "bind_role",
            json!({"email": "a@b.c", "role": "edit", "scope": {"kind": "tap_cluster"}}),
        );
        assert!(
            text.starts_with("scope.name is required for kind tap_cluster"),
            "{text}"
        );
        assert!(text.contains("\"namespace\"?: string"), "{text}");
    }

    #[test]
    fn a_string_where_a_scope_belongs_gets_the_kinds_and_an_example() {
        let text = problem(
            "bind_role",
            json!({"email": "a@b.c", "role": "edit", "scope": "tap-dev"}),
        );
        assert!(text.starts_with("scope must be an object"), "{text}");
        assert!(text.contains("\"tap_cluster\"") && text.contains("\"cluster_group\""));
        let unknown = problem(
            "bind_role",
            json!({"role": "edit", "scope": {"kind": "galaxy", "name": "x"}}),
        );
        assert!(
            unknown.starts_with("scope.kind must be one of"),
            "{unknown}"
        );
    }

    #[test]
    fn out_of_range_values_are_refused_not_clamped() {
        let text = problem("list_members", json!({"limit": 1000}));
        assert!(text.contains("limit must be at most 500"), "{text}");
        assert!(problem("list_members", json!({"limit": 0})).contains("at least 1"));
        assert!(problem("list_members", json!({"limit": "ten"})).contains("integer"));
    }

    #[test]
    fn unknown_fields_enums_and_types_name_the_field() {
        let text = problem("get_user_access", json!({"email": "a@b.c", "mail": 1}));
        assert!(text.starts_with("mail is not a field"), "{text}");
        let text = problem("list_members", json!({"status": "GONE"}));
        assert!(
            text.contains("status must be one of \"ACTIVE\", \"INVITED\""),
            "{text}"
        );
        let text = problem("invite_user", json!({"emails": ["a@b.c", 3]}));
        assert!(text.starts_with("emails[1] must be string"), "{text}");
        assert!(problem("get_user_access", json!({})).starts_with("email is required"));
    }

    #[test]
    fn good_arguments_pass_and_optional_nulls_are_not_given() {
        let ok = [
            ("get_user_access", json!({"email": "a@b.c"})),
            (
                "list_members",
                json!({"limit": 500, "status": "INVITED", "cursor": null}),
            ),
            (
                "bind_role",
                json!({"group": "devs", "role": "app-editor",
                       "scope": {"kind": "tap_cluster", "name": "tap-dev", "namespace": "apps"}}),
            ),
            (
                "bind_role",
                json!({"email": "a@b.c", "role": "cluster.edit",
                       "scope": {"kind": "cluster", "name": "prod-1"}}),
            ),
            (
                "bind_role",
                json!({"email": "a@b.c", "role": "organization.view", "scope": {"kind": "organization"}}),
            ),
            (
                "revoke_all_access",
                json!({"email": "a@b.c", "keep_membership": true}),
            ),
        ];
        for (tool, arguments) in ok {
            let schema = schema_of(tool);
            assert_eq!(
                check(&schema, arguments.as_object().unwrap()),
                Ok(()),
                "{tool}"
            );
        }
    }
}
