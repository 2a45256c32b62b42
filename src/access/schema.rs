//! JSON-schema shaping shared by argument types: these schemas are the model's manual, and
//! some clients reject what schemars emits for `Option<T>` (`"type": ["string", "null"]`,
//! `"default": null`).

/// For an optional argument declared as `#[serde(default)]` and
/// `#[schemars(with = "T", transform = optional)]`: the schema of plain `T`, not required,
/// with no `null` default.
pub fn optional(schema: &mut schemars::Schema) {
    schema.remove("default");
}
