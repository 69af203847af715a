//! Read what the local environment needs from template.yaml, so local and cloud cannot drift:
//! the table's keys and indexes, the event bus, and each function's routes and event rules.
//!
//! CloudFormation short tags (`!Ref`, `!GetAtt`, `!Sub`) come out of serde_yaml as
//! `Value::Tagged`; the properties read here must be literal values (a tag there is an error).

use serde_json::Value as Json;
use serde_yaml::Value;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub table: TableDef,
    /// Logical id of the `AWS::Events::EventBus`.
    pub bus_logical_id: String,
    pub functions: Vec<FunctionDef>,
    /// Logical ids of the `AWS::S3::Bucket`s.
    pub buckets: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyElement {
    pub attribute_name: String,
    /// `HASH` or `RANGE`.
    pub key_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GsiDef {
    pub index_name: String,
    pub key_schema: Vec<KeyElement>,
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub projection_type: String,
    pub non_key_attributes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    pub logical_id: String,
    /// (name, type) pairs, type `S`, `N` or `B`.
    pub attribute_definitions: Vec<(String, String)>,
    pub key_schema: Vec<KeyElement>,
    pub global_secondary_indexes: Vec<GsiDef>,
    /// The TTL attribute, when TTL is enabled.
    pub ttl_attribute: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HttpRoute {
    /// Upper-case method (`GET`, `POST`, … or `ANY`).
    pub method: String,
    /// The route path with `{param}` segments.
    pub path: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventRule {
    /// The key under the function's `Events` (e.g. `OnCaseCreated`).
    pub event_name: String,
    /// The EventBridge pattern, as JSON. A `!Ref X` in it becomes the string [`ref_placeholder`]`(X)`,
    /// which the local resources replace with the local name of X (e.g. a bucket).
    pub pattern: Json,
    /// No `EventBusName`: the rule is on the account's default bus (where AWS services, e.g. S3,
    /// send their events).
    pub default_bus: bool,
}

/// The placeholder a `!Ref X` becomes inside an event pattern.
pub fn ref_placeholder(logical_id: &str) -> String {
    format!("${{Ref:{logical_id}}}")
}

/// Like [`yaml_to_json`], but `!Ref X` (only) becomes [`ref_placeholder`]`(X)`.
fn pattern_to_json(v: &Value) -> Result<Json, String> {
    Ok(match v {
        Value::Tagged(t) if t.tag == "!Ref" || t.tag == "Ref" => match &t.value {
            Value::String(id) => Json::String(ref_placeholder(id)),
            _ => return Err("!Ref must name a logical id".into()),
        },
        Value::Sequence(s) => Json::Array(s.iter().map(pattern_to_json).collect::<Result<_, _>>()?),
        Value::Mapping(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                out.insert(literal_str(k, "a mapping key")?, pattern_to_json(v)?);
            }
            Json::Object(out)
        }
        other => yaml_to_json(other)?,
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionDef {
    pub logical_id: String,
    pub http_routes: Vec<HttpRoute>,
    /// Routes with `Auth: {Authorizer: NONE}` (no JWT; e.g. the ENROL webhook, signed instead).
    pub public_routes: Vec<HttpRoute>,
    pub event_rules: Vec<EventRule>,
}

/// A route and the function that serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    pub path: String,
    pub function_logical_id: String,
    /// No authorizer on this route: the function authenticates the caller itself.
    pub public: bool,
}

/// The repository root (this crate lives in `infra/local`).
pub fn repo_root() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    p.canonicalize().unwrap_or(p)
}

/// `template.yaml` at the repository root, or `$TEMPLATE_PATH`.
pub fn default_path() -> PathBuf {
    std::env::var_os("TEMPLATE_PATH").map(PathBuf::from).unwrap_or_else(|| repo_root().join("template.yaml"))
}

/// Load and parse the repository's template.yaml.
pub fn load_default() -> Result<Template, String> {
    load(&default_path())
}

pub fn load(path: &Path) -> Result<Template, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The HttpApi's `CorsConfiguration`, as API Gateway applies it: the origins (a `!Ref` to a
/// parameter resolved through `params`), methods, headers and max age.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CorsDef {
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age: Option<u64>,
}

/// The first `AWS::Serverless::HttpApi`'s CORS configuration (`None` when it has none).
pub fn http_api_cors(text: &str, params: &std::collections::HashMap<String, String>) -> Result<Option<CorsDef>, String> {
    let doc: Value = serde_yaml::from_str(text).map_err(|e| format!("not YAML: {e}"))?;
    let Some(resources) = get(&doc, "Resources").and_then(Value::as_mapping) else { return Ok(None) };
    let Some(api) = resources.values().find(|r| get(r, "Type").and_then(Value::as_str) == Some("AWS::Serverless::HttpApi")) else {
        return Ok(None);
    };
    let Some(cors) = get(api, "Properties").and_then(|p| get(p, "CorsConfiguration")) else { return Ok(None) };
    let list = |name: &str| -> Result<Vec<String>, String> {
        let Some(seq) = get(cors, name) else { return Ok(vec![]) };
        let seq = seq.as_sequence().ok_or_else(|| format!("CorsConfiguration.{name} must be a list"))?;
        seq.iter()
            .map(|v| match v {
                Value::Tagged(t) if t.tag == "!Ref" || t.tag == "Ref" => {
                    let p = t.value.as_str().ok_or("!Ref must name a parameter")?;
                    params.get(p).cloned().ok_or_else(|| format!("CorsConfiguration.{name}: no local value for parameter {p}"))
                }
                other => literal_str(other, name),
            })
            .collect()
    };
    Ok(Some(CorsDef {
        allow_origins: list("AllowOrigins")?,
        allow_methods: list("AllowMethods")?,
        allow_headers: list("AllowHeaders")?,
        expose_headers: list("ExposeHeaders")?,
        max_age: get(cors, "MaxAge").and_then(Value::as_u64),
    }))
}

fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_mapping().and_then(|m| m.get(key))
}

fn literal_str(v: &Value, what: &str) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Tagged(t) => Err(format!("{what} must be a literal value, not {}", t.tag)),
        _ => Err(format!("{what} must be a string")),
    }
}

fn req_str(v: &Value, key: &str, what: &str) -> Result<String, String> {
    let x = get(v, key).ok_or_else(|| format!("{what} has no {key}"))?;
    literal_str(x, &format!("{what}.{key}"))
}

fn seq<'a>(v: Option<&'a Value>, what: &str) -> Result<&'a [Value], String> {
    match v {
        None => Ok(&[]),
        Some(Value::Sequence(s)) => Ok(s),
        Some(_) => Err(format!("{what} must be a list")),
    }
}

/// Convert YAML to JSON; a CloudFormation tag becomes an error (patterns must be literal).
pub fn yaml_to_json(v: &Value) -> Result<Json, String> {
    Ok(match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => serde_json::to_value(n).map_err(|e| e.to_string())?,
        Value::String(s) => Json::String(s.clone()),
        Value::Sequence(s) => Json::Array(s.iter().map(yaml_to_json).collect::<Result<_, _>>()?),
        Value::Mapping(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                out.insert(literal_str(k, "a mapping key")?, yaml_to_json(v)?);
            }
            Json::Object(out)
        }
        Value::Tagged(t) => return Err(format!("unexpected {} in a value that must be literal", t.tag)),
    })
}

fn key_schema(v: Option<&Value>, what: &str) -> Result<Vec<KeyElement>, String> {
    seq(v, what)?
        .iter()
        .map(|k| Ok(KeyElement { attribute_name: req_str(k, "AttributeName", what)?, key_type: req_str(k, "KeyType", what)? }))
        .collect()
}

fn table_def(logical_id: &str, props: &Value) -> Result<TableDef, String> {
    let what = format!("{logical_id}.Properties");
    let attribute_definitions = seq(get(props, "AttributeDefinitions"), "AttributeDefinitions")?
        .iter()
        .map(|a| Ok((req_str(a, "AttributeName", &what)?, req_str(a, "AttributeType", &what)?)))
        .collect::<Result<Vec<_>, String>>()?;
    let key_schema_v = key_schema(get(props, "KeySchema"), &format!("{what}.KeySchema"))?;
    let mut gsis = Vec::new();
    for g in seq(get(props, "GlobalSecondaryIndexes"), "GlobalSecondaryIndexes")? {
        let name = req_str(g, "IndexName", &what)?;
        let proj = get(g, "Projection");
        let projection_type = match proj.and_then(|p| get(p, "ProjectionType")) {
            Some(p) => literal_str(p, "ProjectionType")?,
            None => "ALL".into(),
        };
        let non_key_attributes = seq(proj.and_then(|p| get(p, "NonKeyAttributes")), "NonKeyAttributes")?
            .iter()
            .map(|a| literal_str(a, "NonKeyAttributes"))
            .collect::<Result<Vec<_>, _>>()?;
        gsis.push(GsiDef {
            key_schema: key_schema(get(g, "KeySchema"), &format!("{name}.KeySchema"))?,
            index_name: name,
            projection_type,
            non_key_attributes,
        });
    }
    let ttl_attribute = match get(props, "TimeToLiveSpecification") {
        None => None,
        Some(t) => {
            let enabled = get(t, "Enabled").map(|e| literal_str(e, "TimeToLiveSpecification.Enabled")).transpose()?;
            if enabled.as_deref() == Some("true") {
                Some(req_str(t, "AttributeName", "TimeToLiveSpecification")?)
            } else {
                None
            }
        }
    };
    Ok(TableDef {
        logical_id: logical_id.into(),
        attribute_definitions,
        key_schema: key_schema_v,
        global_secondary_indexes: gsis,
        ttl_attribute,
    })
}

fn function_def(logical_id: &str, props: Option<&Value>) -> Result<FunctionDef, String> {
    let mut f = FunctionDef { logical_id: logical_id.into(), http_routes: Vec::new(), public_routes: Vec::new(), event_rules: Vec::new() };
    let Some(events) = props.and_then(|p| get(p, "Events")).and_then(Value::as_mapping) else {
        return Ok(f);
    };
    for (name, ev) in events {
        let name = literal_str(name, "an event name")?;
        let what = format!("{logical_id}.Events.{name}");
        let kind = req_str(ev, "Type", &what)?;
        let p = get(ev, "Properties");
        match kind.as_str() {
            "HttpApi" => {
                let p = p.ok_or_else(|| format!("{what} has no Properties"))?;
                let route = HttpRoute { method: req_str(p, "Method", &what)?.to_ascii_uppercase(), path: req_str(p, "Path", &what)? };
                let authorizer = get(p, "Auth").and_then(|a| get(a, "Authorizer")).and_then(|v| yaml_to_json(v).ok());
                if authorizer.as_ref().and_then(|v| v.as_str()) == Some("NONE") {
                    f.public_routes.push(route.clone());
                }
                f.http_routes.push(route);
            }
            "EventBridgeRule" => {
                let pattern = p.and_then(|p| get(p, "Pattern")).ok_or_else(|| format!("{what} has no Pattern"))?;
                let default_bus = p.and_then(|p| get(p, "EventBusName")).is_none();
                f.event_rules.push(EventRule {
                    event_name: name,
                    pattern: pattern_to_json(pattern).map_err(|e| format!("{what}: {e}"))?,
                    default_bus,
                });
            }
            // Schedules, S3 events, … are triggered by commands locally.
            _ => {}
        }
    }
    Ok(f)
}

pub fn parse(text: &str) -> Result<Template, String> {
    let doc: Value = serde_yaml::from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
    let resources = get(&doc, "Resources").and_then(Value::as_mapping).ok_or("the template has no Resources")?;
    let mut table = None;
    let mut bus = None;
    let mut functions = Vec::new();
    let mut buckets = Vec::new();
    for (id, res) in resources {
        let id = literal_str(id, "a logical id")?;
        let kind = get(res, "Type").and_then(Value::as_str).unwrap_or_default();
        match kind {
            "AWS::DynamoDB::Table" => {
                if table.is_some() {
                    return Err("more than one AWS::DynamoDB::Table (the local environment expects one)".into());
                }
                let props = get(res, "Properties").ok_or_else(|| format!("{id} has no Properties"))?;
                table = Some(table_def(&id, props)?);
            }
            "AWS::Events::EventBus" => {
                if bus.is_some() {
                    return Err("more than one AWS::Events::EventBus (the local environment expects one)".into());
                }
                bus = Some(id);
            }
            "AWS::Serverless::Function" => functions.push(function_def(&id, get(res, "Properties"))?),
            // the portal's bucket is served from portal/dist locally (infra/local/src/portal.rs)
            "AWS::S3::Bucket" if id.starts_with("Portal") => {}
            "AWS::S3::Bucket" => buckets.push(id),
            _ => {}
        }
    }
    Ok(Template {
        table: table.ok_or("the template has no AWS::DynamoDB::Table")?,
        bus_logical_id: bus.ok_or("the template has no AWS::Events::EventBus")?,
        functions,
        buckets,
    })
}

impl Template {
    /// Every HTTP route with its function.
    pub fn routes(&self) -> Vec<Route> {
        self.functions
            .iter()
            .flat_map(|f| {
                f.http_routes.iter().map(move |r| Route {
                    method: r.method.clone(),
                    path: r.path.clone(),
                    function_logical_id: f.logical_id.clone(),
                    public: f.public_routes.contains(r),
                })
            })
            .collect()
    }

    pub fn function(&self, logical_id: &str) -> Option<&FunctionDef> {
        self.functions.iter().find(|f| f.logical_id == logical_id)
    }
}

/// The (METHOD, path) pairs of an OpenAPI 3 document.
pub fn openapi_routes(text: &str) -> Result<Vec<HttpRoute>, String> {
    const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    let doc: Value = serde_yaml::from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
    let paths = get(&doc, "paths").and_then(Value::as_mapping).ok_or("the document has no paths")?;
    let mut out = Vec::new();
    for (path, item) in paths {
        let path = literal_str(path, "a path")?;
        for m in METHODS {
            if get(item, m).is_some() {
                out.push(HttpRoute { method: m.to_ascii_uppercase(), path: path.clone() });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn real() -> Template {
        load(&repo_root().join("template.yaml")).expect("template.yaml parses")
    }

    #[test]
    fn reads_the_table_from_the_real_template() {
        let t = real();
        let table = &t.table;
        assert_eq!(table.key_schema[0], KeyElement { attribute_name: "PK".into(), key_type: "HASH".into() });
        assert_eq!(table.key_schema[1], KeyElement { attribute_name: "SK".into(), key_type: "RANGE".into() });
        assert_eq!(table.ttl_attribute.as_deref(), Some("expiresAt"));
        // the adapter's declarative schema (cms_aws::schema) and the template describe the same
        // indexes, with the same key attributes
        use cms_aws::schema::Index;
        let keys = |g: &GsiDef| -> (String, String, String) {
            let of = |t: &str| g.key_schema.iter().find(|k| k.key_type == t).map(|k| k.attribute_name.clone()).unwrap_or_default();
            (g.index_name.clone(), of("HASH"), of("RANGE"))
        };
        let in_template: BTreeSet<(String, String, String)> = table.global_secondary_indexes.iter().map(keys).collect();
        let in_schema: BTreeSet<(String, String, String)> =
            Index::ALL.iter().map(|i| (i.name.to_string(), i.pk.to_string(), i.sk.to_string())).collect();
        assert_eq!(in_template, in_schema, "template.yaml's indexes and cms_aws::schema::Index::ALL differ");
        // every key attribute is defined, and every definition is used by a key (CloudFormation requires both)
        let defined: BTreeSet<&str> = table.attribute_definitions.iter().map(|(n, _)| n.as_str()).collect();
        let used: BTreeSet<&str> = table
            .key_schema
            .iter()
            .chain(table.global_secondary_indexes.iter().flat_map(|g| g.key_schema.iter()))
            .map(|k| k.attribute_name.as_str())
            .collect();
        assert_eq!(defined, used);
    }

    #[test]
    fn reads_functions_routes_and_rules() {
        let t = real();
        assert!(!t.bus_logical_id.is_empty());
        let submit = t.function("SubmitReferralFunction").expect("SubmitReferralFunction");
        assert!(submit.http_routes.contains(&HttpRoute { method: "POST".into(), path: "/referrals".into() }));
        let allocate = t.function("AllocateFunction").expect("AllocateFunction");
        assert!(allocate.http_routes.is_empty());
        let rule = allocate.event_rules.first().expect("AllocateFunction has an EventBridge rule");
        assert_eq!(rule.pattern["source"], serde_json::json!(["attendance.cases"]));
        assert_eq!(rule.pattern["detail-type"], serde_json::json!(["CaseCreated"]));
        // no route is served by two functions
        let routes = t.routes();
        let unique: BTreeSet<(String, String)> = routes.iter().map(|r| (r.method.clone(), r.path.clone())).collect();
        assert_eq!(unique.len(), routes.len(), "a route appears twice in template.yaml");
    }

    #[test]
    fn openapi_routes_match_the_template() {
        let spec = std::fs::read_to_string(repo_root().join("docs/openapi.yaml")).expect("docs/openapi.yaml");
        let spec: BTreeSet<(String, String)> = openapi_routes(&spec).unwrap().into_iter().map(|r| (r.method, r.path)).collect();
        let tpl: BTreeSet<(String, String)> = real().routes().into_iter().map(|r| (r.method, r.path)).collect();
        let only_spec: Vec<_> = spec.difference(&tpl).collect();
        let only_tpl: Vec<_> = tpl.difference(&spec).collect();
        assert!(
            only_spec.is_empty() && only_tpl.is_empty(),
            "docs/openapi.yaml and template.yaml disagree.\n  only in openapi.yaml: {only_spec:?}\n  only in template.yaml: {only_tpl:?}"
        );
    }

    #[test]
    fn cors_lets_the_portal_use_every_route_and_documented_header() {
        let text = std::fs::read_to_string(repo_root().join("template.yaml")).expect("template.yaml");
        let doc: Value = serde_yaml::from_str(&text).expect("YAML");
        let cors = get(&doc, "Resources")
            .and_then(|r| get(r, "HttpApi"))
            .and_then(|a| get(a, "Properties"))
            .and_then(|p| get(p, "CorsConfiguration"))
            .expect("HttpApi has a CorsConfiguration");
        let list = |name: &str| -> BTreeSet<String> {
            get(cors, name)
                .and_then(Value::as_sequence)
                .unwrap_or_else(|| panic!("CorsConfiguration.{name} is a list"))
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_ascii_lowercase)
                .collect()
        };
        let methods = list("AllowMethods");
        for r in real().routes() {
            assert!(methods.contains(&r.method.to_ascii_lowercase()), "CORS AllowMethods lacks {} (route {})", r.method, r.path);
        }
        let allowed = list("AllowHeaders");
        for h in ["authorization", "content-type", "if-match", "idempotency-key"] {
            assert!(allowed.contains(h), "CORS AllowHeaders lacks {h}");
        }
        let exposed = list("ExposeHeaders");
        for h in ["etag", "location", "content-disposition"] {
            assert!(exposed.contains(h), "CORS ExposeHeaders lacks {h}");
        }
        // the only origin: the PortalBaseUrl parameter
        let origins = get(cors, "AllowOrigins").and_then(Value::as_sequence).expect("AllowOrigins");
        assert_eq!(origins.len(), 1);
        match &origins[0] {
            Value::Tagged(t) => {
                assert_eq!(t.tag.to_string(), "!Ref");
                assert_eq!(t.value.as_str(), Some("PortalBaseUrl"));
            }
            other => panic!("AllowOrigins must be !Ref PortalBaseUrl, not {other:?}"),
        }
    }

    #[test]
    fn the_local_gateway_reads_cors_from_the_template() {
        let text = std::fs::read_to_string(repo_root().join("template.yaml")).unwrap();
        let params = std::collections::HashMap::from([("PortalBaseUrl".to_string(), "http://127.0.0.1:3000".to_string())]);
        let c = http_api_cors(&text, &params).unwrap().expect("CorsConfiguration");
        assert_eq!(c.allow_origins, vec!["http://127.0.0.1:3000"]);
        assert!(c.allow_headers.iter().any(|h| h == "If-Match"));
        assert!(c.expose_headers.iter().any(|h| h == "ETag"));
        assert_eq!(c.max_age, Some(600));
        // the parameter must have a local value
        assert!(http_api_cors(&text, &Default::default()).unwrap_err().contains("PortalBaseUrl"));
    }

    #[test]
    fn tags_are_handled() {
        let t = parse(
            r#"
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-t"
      AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]
      KeySchema: [{AttributeName: PK, KeyType: HASH}]
  B:
    Type: AWS::Events::EventBus
    Properties: {Name: !Ref Stage}
  F:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Get: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: "/x/{id}", Method: get}}
        On: {Type: EventBridgeRule, Properties: {EventBusName: !Ref B, Pattern: {source: [a]}}}
"#,
        )
        .unwrap();
        assert_eq!(t.bus_logical_id, "B");
        assert_eq!(t.table.ttl_attribute, None);
        assert_eq!(t.routes()[0].method, "GET");
        assert_eq!(t.functions[0].event_rules[0].pattern, serde_json::json!({"source": ["a"]}));
        // a tag where a literal is needed is refused with a clear message
        let err = parse("Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      KeySchema: [{AttributeName: !Ref X, KeyType: HASH}]\n").unwrap_err();
        assert!(err.contains("literal"), "{err}");
    }
}
