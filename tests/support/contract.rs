//! docs/openapi.yaml is the contract: every response an integration test receives is checked
//! against the operation it called — the status must be documented for that operation, and the
//! body must match the schema documented for that status and content type. A mismatch fails the
//! test that made the call (see [`crate::TestEnv::call_full`]).
//!
//! OpenAPI 3.0 schemas are JSON Schema with a few differences; they are turned into draft 7 here:
//! `nullable: true` becomes "or null", `#/components/schemas/X` becomes `#/definitions/X`.

use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

pub struct Contract {
    doc: Value,
    definitions: Value,
    validators: Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>,
}

/// The contract, read once per test binary.
pub fn contract() -> &'static Contract {
    static C: OnceLock<Contract> = OnceLock::new();
    C.get_or_init(|| {
        let path = cms_local::template::repo_root().join("docs/openapi.yaml");
        let text = std::fs::read_to_string(&path).expect("docs/openapi.yaml readable");
        let doc: Value = serde_yaml::from_str(&text).expect("docs/openapi.yaml parses");
        let schemas = doc.pointer("/components/schemas").cloned().unwrap_or(json!({}));
        Contract { definitions: to_json_schema(&schemas), doc, validators: Mutex::new(HashMap::new()) }
    })
}

/// OpenAPI 3.0 schema → JSON Schema draft 7.
fn to_json_schema(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, val) in m {
                match k.as_str() {
                    "$ref" => {
                        let r = val.as_str().unwrap_or_default().replace("#/components/schemas/", "#/definitions/");
                        out.insert(k.clone(), json!(r));
                    }
                    "nullable" | "example" | "examples" | "discriminator" | "xml" | "externalDocs" | "deprecated" | "readOnly"
                    | "writeOnly" => {}
                    // property names are data, not keywords
                    "properties" => {
                        let props = val.as_object().map(|p| p.iter().map(|(n, s)| (n.clone(), to_json_schema(s))).collect::<Map<_, _>>());
                        out.insert(k.clone(), Value::Object(props.unwrap_or_default()));
                    }
                    _ => {
                        out.insert(k.clone(), to_json_schema(val));
                    }
                }
            }
            if m.get("nullable") == Some(&Value::Bool(true)) {
                json!({ "anyOf": [Value::Object(out), {"type": "null"}] })
            } else {
                Value::Object(out)
            }
        }
        Value::Array(a) => Value::Array(a.iter().map(to_json_schema).collect()),
        other => other.clone(),
    }
}

impl Contract {
    /// The OpenAPI response object for this operation and status (following a `$ref` to
    /// `#/components/responses`), or `None` when the status is not documented.
    fn response(&self, method: &str, route: &str, status: u16) -> Option<Value> {
        let op = self.doc.get("paths")?.get(route)?.get(method.to_lowercase())?;
        let responses = op.get("responses")?;
        let r = responses.get(status.to_string()).or_else(|| responses.get("default"))?;
        match r.get("$ref").and_then(Value::as_str) {
            Some(rf) => {
                let name = rf.strip_prefix("#/components/responses/")?;
                self.doc.pointer(&format!("/components/responses/{name}")).cloned()
            }
            None => Some(r.clone()),
        }
    }

    fn validator(&self, key: &str, schema: &Value) -> std::sync::Arc<jsonschema::Validator> {
        let mut cache = self.validators.lock().expect("validator cache");
        if let Some(v) = cache.get(key) {
            return v.clone();
        }
        let root = json!({ "definitions": self.definitions, "allOf": [to_json_schema(schema)] });
        let v = std::sync::Arc::new(
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft7)
                .build(&root)
                .unwrap_or_else(|e| panic!("docs/openapi.yaml: the schema for {key} does not compile: {e}")),
        );
        cache.insert(key.to_string(), v.clone());
        v
    }

    /// Every way this response breaks the contract (empty when it keeps it).
    pub fn check(&self, method: &str, route: &str, status: u16, content_type: &str, body: &str) -> Vec<String> {
        let Some(resp) = self.response(method, route, status) else {
            return vec![format!("{method} {route} answered {status}, which docs/openapi.yaml does not document for it")];
        };
        let media = content_type.split(';').next().unwrap_or_default().trim();
        let content = resp.get("content");
        if body.trim().is_empty() {
            return Vec::new();
        }
        let Some(content) = content else {
            return vec![format!("{method} {route} {status}: a body was returned where none is documented")];
        };
        let Some(schema) = content.get(media).and_then(|c| c.get("schema")) else {
            let documented: Vec<&String> = content.as_object().map(|o| o.keys().collect()).unwrap_or_default();
            return vec![format!("{method} {route} {status}: content type {media:?} is not documented ({documented:?})")];
        };
        // a JSON media type's body is JSON; any other (text/csv) is the string it is
        let instance: Value = if media.ends_with("json") {
            match serde_json::from_str(body) {
                Ok(v) => v,
                Err(e) => return vec![format!("{method} {route} {status}: the body is not JSON: {e}")],
            }
        } else {
            Value::String(body.to_string())
        };
        let key = format!("{method} {route} {status} {media}");
        let v = self.validator(&key, schema);
        v.iter_errors(&instance).map(|e| format!("{key}: {} at {}", e, e.instance_path())).collect()
    }
}
