//! Decoding the Kubernetes protobuf bodies kubectl sends.
//!
//! kubectl's typed clients write built-in objects as `application/vnd.kubernetes.protobuf`
//! (`kubectl create clusterrolebinding ...` does), and a real API server accepts that. The
//! sandbox answers in JSON (kubectl also accepts it) and decodes just the messages RBAC writes
//! carry: the `k8s\0` + `runtime.Unknown` envelope, ClusterRoleBinding and RoleBinding (same
//! field numbers), ObjectMeta, Subject, RoleRef and DeleteOptions' preconditions. Field numbers
//! are those of `k8s.io/api/rbac/v1/generated.proto` and `apimachinery/.../meta/v1/generated.proto`.
//! Unknown fields are skipped, as protobuf requires.

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Preconditions};

pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";
const MAGIC: &[u8] = b"k8s\0";

/// Why a protobuf body could not be read.
#[derive(Debug)]
pub struct ProtoError(pub String);

type ProtoResult<T> = Result<T, ProtoError>;

fn error(what: &str) -> ProtoError {
    ProtoError(format!("invalid protobuf body: {what}"))
}

/// One field of a message: its number and its value.
enum Value<'a> {
    /// Length-delimited: strings and embedded messages, all the decoded fields are.
    Bytes(&'a [u8]),
    /// Varints and fixed 32/64-bit values, skipped: no decoded field uses them.
    Scalar,
}

/// Iterates over the fields of one encoded message.
struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    fn new(message: &'a [u8]) -> Fields<'a> {
        Fields { rest: message }
    }

    fn varint(&mut self) -> ProtoResult<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self
                .rest
                .split_first()
                .ok_or_else(|| error("truncated varint"))?;
            self.rest = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(error("varint too long"))
    }

    fn take(&mut self, n: usize) -> ProtoResult<&'a [u8]> {
        if n > self.rest.len() {
            return Err(error("truncated field"));
        }
        let (taken, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(taken)
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = ProtoResult<(u64, Value<'a>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let field = (|| {
            let key = self.varint()?;
            let number = key >> 3;
            let value = match key & 7 {
                0 => {
                    self.varint()?;
                    Value::Scalar
                }
                1 => {
                    self.take(8)?;
                    Value::Scalar
                }
                2 => {
                    let len = usize::try_from(self.varint()?).map_err(|_| error("length"))?;
                    Value::Bytes(self.take(len)?)
                }
                5 => {
                    self.take(4)?;
                    Value::Scalar
                }
                other => return Err(error(&format!("unsupported wire type {other}"))),
            };
            Ok((number, value))
        })();
        if field.is_err() {
            self.rest = &[];
        }
        Some(field)
    }
}

fn string(bytes: &[u8]) -> ProtoResult<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| error("string is not UTF-8"))
}

/// Go's encoder writes empty strings too; the JSON form omits them, so map "" to None.
fn optional(bytes: &[u8]) -> ProtoResult<Option<String>> {
    Ok(Some(string(bytes)?).filter(|s| !s.is_empty()))
}

/// The object inside the `k8s\0` envelope (`runtime.Unknown.raw`).
fn unwrap_envelope(body: &[u8]) -> ProtoResult<&[u8]> {
    let unknown = body
        .strip_prefix(MAGIC)
        .ok_or_else(|| error("missing k8s envelope"))?;
    for field in Fields::new(unknown) {
        if let (2, Value::Bytes(raw)) = field? {
            return Ok(raw);
        }
    }
    Err(error("envelope without an object"))
}

fn object_meta(message: &[u8]) -> ProtoResult<ObjectMeta> {
    let mut meta = ObjectMeta::default();
    for field in Fields::new(message) {
        match field? {
            (1, Value::Bytes(b)) => meta.name = optional(b)?,
            (2, Value::Bytes(b)) => meta.generate_name = optional(b)?,
            (3, Value::Bytes(b)) => meta.namespace = optional(b)?,
            (5, Value::Bytes(b)) => meta.uid = optional(b)?,
            (6, Value::Bytes(b)) => meta.resource_version = optional(b)?,
            (11, Value::Bytes(b)) => {
                let (k, v) = map_entry(b)?;
                meta.labels.get_or_insert_with(BTreeMap::new).insert(k, v);
            }
            (12, Value::Bytes(b)) => {
                let (k, v) = map_entry(b)?;
                meta.annotations
                    .get_or_insert_with(BTreeMap::new)
                    .insert(k, v);
            }
            _ => {}
        }
    }
    Ok(meta)
}

fn map_entry(message: &[u8]) -> ProtoResult<(String, String)> {
    let (mut key, mut value) = (String::new(), String::new());
    for field in Fields::new(message) {
        match field? {
            (1, Value::Bytes(b)) => key = string(b)?,
            (2, Value::Bytes(b)) => value = string(b)?,
            _ => {}
        }
    }
    Ok((key, value))
}

fn subject(message: &[u8]) -> ProtoResult<Subject> {
    let mut subject = Subject::default();
    for field in Fields::new(message) {
        match field? {
            (1, Value::Bytes(b)) => subject.kind = string(b)?,
            (2, Value::Bytes(b)) => subject.api_group = optional(b)?,
            (3, Value::Bytes(b)) => subject.name = string(b)?,
            (4, Value::Bytes(b)) => subject.namespace = optional(b)?,
            _ => {}
        }
    }
    Ok(subject)
}

fn role_ref(message: &[u8]) -> ProtoResult<RoleRef> {
    let mut role_ref = RoleRef::default();
    for field in Fields::new(message) {
        match field? {
            (1, Value::Bytes(b)) => role_ref.api_group = string(b)?,
            (2, Value::Bytes(b)) => role_ref.kind = string(b)?,
            (3, Value::Bytes(b)) => role_ref.name = string(b)?,
            _ => {}
        }
    }
    Ok(role_ref)
}

/// metadata (1), subjects (2), roleRef (3): the same for both binding kinds.
fn binding_parts(body: &[u8]) -> ProtoResult<(ObjectMeta, Option<Vec<Subject>>, RoleRef)> {
    let message = unwrap_envelope(body)?;
    let mut meta = ObjectMeta::default();
    let mut subjects: Option<Vec<Subject>> = None;
    let mut role = RoleRef::default();
    for field in Fields::new(message) {
        match field? {
            (1, Value::Bytes(b)) => meta = object_meta(b)?,
            (2, Value::Bytes(b)) => subjects.get_or_insert_with(Vec::new).push(subject(b)?),
            (3, Value::Bytes(b)) => role = role_ref(b)?,
            _ => {}
        }
    }
    Ok((meta, subjects, role))
}

/// Types a protobuf request body can be decoded into.
pub trait FromProto: Sized {
    fn from_proto(body: &[u8]) -> ProtoResult<Self>;
}

impl FromProto for ClusterRoleBinding {
    fn from_proto(body: &[u8]) -> ProtoResult<Self> {
        let (metadata, subjects, role_ref) = binding_parts(body)?;
        Ok(ClusterRoleBinding {
            metadata,
            subjects,
            role_ref,
        })
    }
}

impl FromProto for RoleBinding {
    fn from_proto(body: &[u8]) -> ProtoResult<Self> {
        let (metadata, subjects, role_ref) = binding_parts(body)?;
        Ok(RoleBinding {
            metadata,
            subjects,
            role_ref,
        })
    }
}

/// DeleteOptions (preconditions is field 2; uid 1 and resourceVersion 2 inside it).
pub fn delete_preconditions(body: &[u8]) -> ProtoResult<Option<Preconditions>> {
    let message = unwrap_envelope(body)?;
    for field in Fields::new(message) {
        if let (2, Value::Bytes(b)) = field? {
            let mut pre = Preconditions::default();
            for inner in Fields::new(b) {
                match inner? {
                    (1, Value::Bytes(v)) => pre.uid = optional(v)?,
                    (2, Value::Bytes(v)) => pre.resource_version = optional(v)?,
                    _ => {}
                }
            }
            return Ok(Some(pre));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(number: u64, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![u8::try_from((number << 3) | 2).unwrap_or_default()];
        out.push(u8::try_from(bytes.len()).unwrap_or_default());
        out.extend_from_slice(bytes);
        out
    }

    #[test]
    fn decodes_a_cluster_role_binding_in_its_envelope() {
        let meta = field(1, b"x");
        let user = [
            field(1, b"User"),
            field(2, b"rbac.authorization.k8s.io"),
            field(3, b"a"),
        ]
        .concat();
        let role = [
            field(1, b"rbac.authorization.k8s.io"),
            field(2, b"ClusterRole"),
            field(3, b"view"),
        ]
        .concat();
        let object = [field(1, &meta), field(2, &user), field(3, &role)].concat();
        let type_meta = [
            field(1, b"rbac.authorization.k8s.io/v1"),
            field(2, b"ClusterRoleBinding"),
        ]
        .concat();
        let body = [MAGIC.to_vec(), field(1, &type_meta), field(2, &object)].concat();

        let binding = ClusterRoleBinding::from_proto(&body).expect("decodes");
        assert_eq!(binding.metadata.name.as_deref(), Some("x"));
        assert_eq!(binding.role_ref.name, "view");
        let subjects = binding.subjects.expect("subjects");
        assert_eq!(
            (subjects[0].kind.as_str(), subjects[0].name.as_str()),
            ("User", "a")
        );
    }

    #[test]
    fn refuses_truncated_bodies() {
        let body = [MAGIC.to_vec(), vec![0x12, 0x40, 0x0a]].concat();
        assert!(ClusterRoleBinding::from_proto(&body).is_err());
        assert!(ClusterRoleBinding::from_proto(b"{}").is_err());
    }
}
