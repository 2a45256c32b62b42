//! Lists answered as a JSON list or, when kubectl asks for it, as the server-side Table, and
//! the columns kubectl prints for bindings.

use axum::http::HeaderMap;
use axum::response::Response;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, ObjectMeta};
use k8s_openapi::{List, ListableResource, Metadata};
use serde::Serialize;
use serde_json::{Value, json};

use super::binding::Binding;
use super::ok;
use crate::sandbox::k8s_api::{Column, Page, age, table, wants_table};

/// A Table column; priority 1 columns show with `-o wide` only.
pub(super) const fn column(name: &'static str, description: &'static str, priority: u8) -> Column {
    Column {
        name,
        description,
        priority,
    }
}

pub(super) const BINDING_COLUMNS: &[Column] = &[
    column("Name", "Name must be unique within a namespace.", 0),
    column("Role", "RoleRef references a Role or ClusterRole.", 0),
    column("Age", "CreationTimestamp of the object.", 0),
    column("Users", "Users in the binding.", 1),
    column("Groups", "Groups in the binding.", 1),
    column("ServiceAccounts", "ServiceAccounts in the binding.", 1),
];

pub(super) fn binding_row<B: Binding>(binding: &B) -> Vec<Value> {
    let names = |kind: &str| -> String {
        binding
            .subjects()
            .iter()
            .filter(|s| s.kind == kind)
            .map(|s| match (&s.namespace, kind) {
                (Some(ns), "ServiceAccount") => format!("{ns}/{}", s.name),
                _ => s.name.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let role = binding.role_ref();
    vec![
        json!(binding.metadata().name.clone().unwrap_or_default()),
        json!(format!("{}/{}", role.kind, role.name)),
        json!(age(binding.metadata().creation_timestamp.as_ref())),
        json!(names("User")),
        json!(names("Group")),
        json!(names("ServiceAccount")),
    ]
}

/// A list answered as JSON list or, when kubectl asks for it, as a Table.
pub(super) fn list_response<T>(
    headers: &HeaderMap,
    page: Page<T>,
    revision: u64,
    columns: &[Column],
    row: impl Fn(&T) -> Vec<Value>,
) -> Response
where
    T: Serialize + ListableResource + Metadata<Ty = ObjectMeta>,
{
    let metadata = ListMeta {
        continue_: page.continue_,
        remaining_item_count: page.remaining,
        resource_version: Some(revision.to_string()),
        self_link: None,
    };
    if wants_table(headers) {
        let rows = page
            .items
            .iter()
            .map(|item| (row(item), item.metadata()))
            .collect();
        let list_meta = serde_json::to_value(&metadata).unwrap_or_else(|_| json!({}));
        return ok(&table(columns, rows, list_meta));
    }
    ok(&List {
        items: page.items,
        metadata,
    })
}
