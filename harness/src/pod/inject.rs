//! `irsa inject` and the AdmissionReview endpoint: find the pods in Kubernetes manifests (Pods
//! and the pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and
//! CronJobs), look up their service accounts (world file or ServiceAccount objects in the same
//! manifest), and apply [`crate::pod::webhook_mutation::mutate`]. Translation only; the decisions live in
//! `webhook_mutation`.
//!
//! The real webhook mutates Pods at admission; mutating a workload's pod template here shows
//! what each of its pods will get.

use std::collections::BTreeMap;

use base64::Engine as _;
use irsa_core::World;
use k8s_openapi::api::core::v1::PodSpec;
use serde_json::{Value, json};

use crate::pod::webhook_mutation::{self, WebhookConfig};

/// Service-account annotations by `(namespace, name)`.
#[derive(Debug, Clone, Default)]
pub struct ServiceAccounts {
    by_name: BTreeMap<(String, String), BTreeMap<String, String>>,
}

impl ServiceAccounts {
    pub fn from_world(world: &World) -> Self {
        let mut accounts = Self::default();
        for sa in &world.service_accounts {
            accounts.by_name.insert(
                (sa.namespace.clone(), sa.name.clone()),
                sa.annotations.clone(),
            );
        }
        accounts
    }

    /// Add (or replace with) the `ServiceAccount` objects among these documents.
    pub fn add_manifest_objects(&mut self, documents: &[Value]) {
        for doc in documents.iter().filter(|d| d["kind"] == "ServiceAccount") {
            let Some(name) = doc["metadata"]["name"].as_str() else {
                continue;
            };
            let namespace = doc["metadata"]["namespace"].as_str().unwrap_or("default");
            let annotations = doc["metadata"]["annotations"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                        .collect()
                })
                .unwrap_or_default();
            self.by_name
                .insert((namespace.to_owned(), name.to_owned()), annotations);
        }
    }

    pub fn get(&self, namespace: &str, name: &str) -> Option<&BTreeMap<String, String>> {
        self.by_name.get(&(namespace.to_owned(), name.to_owned()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InjectError {
    #[error("the manifest is not valid YAML: {0}")]
    Yaml(String),
    #[error("document {index} (`{kind}` `{name}`): its pod spec is not a valid PodSpec: {reason}")]
    PodSpec {
        index: usize,
        kind: String,
        name: String,
        reason: String,
    },
    #[error("cannot write the manifest back as YAML: {0}")]
    Render(String),
}

/// One pod (or pod template) found and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodNote {
    pub document: usize,
    pub kind: String,
    pub name: String,
    pub namespace: String,
    pub service_account: String,
    /// `None` when the webhook would leave it alone, with the reason in `reason`.
    pub role_arn: Option<String>,
    pub reason: Option<String>,
}

/// The pod spec inside a document of this kind, as a JSON pointer.
pub fn pod_spec_pointer(kind: &str) -> Option<(&'static str, &'static str)> {
    // (pod spec, pod metadata)
    match kind {
        "Pod" => Some(("/spec", "/metadata")),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => Some(("/spec/template/spec", "/spec/template/metadata")),
        "CronJob" => Some((
            "/spec/jobTemplate/spec/template/spec",
            "/spec/jobTemplate/spec/template/metadata",
        )),
        _ => None,
    }
}

fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// Mutate every pod and pod template in these documents in place.
pub fn inject_documents(
    documents: &mut [Value],
    accounts: &ServiceAccounts,
    config: &WebhookConfig,
) -> Result<Vec<PodNote>, InjectError> {
    let mut notes = Vec::new();
    for (index, doc) in documents.iter_mut().enumerate() {
        let kind = doc["kind"].as_str().unwrap_or_default().to_owned();
        let Some((spec_ptr, meta_ptr)) = pod_spec_pointer(&kind) else {
            continue;
        };
        let name = doc["metadata"]["name"]
            .as_str()
            .unwrap_or("<unnamed>")
            .to_owned();
        let namespace = doc["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_owned();
        let pod_annotations = string_map(doc.pointer(&format!("{meta_ptr}/annotations")));
        let Some(spec_value) = doc.pointer_mut(spec_ptr) else {
            continue;
        };
        let mut spec: PodSpec =
            serde_json::from_value(spec_value.clone()).map_err(|e| InjectError::PodSpec {
                index,
                kind: kind.clone(),
                name: name.clone(),
                reason: e.to_string(),
            })?;
        let service_account = spec
            .service_account_name
            .clone()
            .unwrap_or_else(|| "default".to_owned());
        let mut note = PodNote {
            document: index,
            kind: kind.clone(),
            name,
            namespace: namespace.clone(),
            service_account: service_account.clone(),
            role_arn: None,
            reason: None,
        };
        match accounts.get(&namespace, &service_account) {
            None => {
                note.reason = Some(format!(
                    "service account `{namespace}/{service_account}` is not in the world file or the manifest; left unchanged"
                ));
            }
            Some(sa) => match webhook_mutation::identity(sa, &pod_annotations, config) {
                None => {
                    note.reason = Some(format!(
                        "service account `{namespace}/{service_account}` has no `{}` annotation; the webhook leaves the pod alone",
                        webhook_mutation::ROLE_ARN_ANNOTATION
                    ));
                }
                Some(identity) => {
                    webhook_mutation::mutate(&mut spec, &pod_annotations, &identity, config);
                    *spec_value = merge_spec(spec_value, &spec)?;
                    note.role_arn = Some(identity.role_arn);
                }
            },
        }
        notes.push(note);
    }
    Ok(notes)
}

/// The typed spec written back over the original, keeping any field the typed model does not
/// know (so a newer manifest's fields survive).
fn merge_spec(original: &Value, spec: &PodSpec) -> Result<Value, InjectError> {
    let typed = serde_json::to_value(spec).map_err(|e| InjectError::Render(e.to_string()))?;
    let mut merged = original.clone();
    if let (Some(out), Some(new)) = (merged.as_object_mut(), typed.as_object()) {
        for key in ["containers", "initContainers", "volumes"] {
            if let Some(v) = new.get(key) {
                out.insert(key.to_owned(), v.clone());
            }
        }
    }
    Ok(merged)
}

/// Parse a multi-document YAML manifest (empty documents dropped).
pub fn parse_manifest(text: &str) -> Result<Vec<Value>, InjectError> {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(text).map_err(|e| InjectError::Yaml(e.to_string()))?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// Render documents as multi-document YAML.
pub fn render_manifest(documents: &[Value]) -> Result<String, InjectError> {
    let mut out = String::new();
    for (i, doc) in documents.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        let text = serde_saphyr::to_string(doc).map_err(|e| InjectError::Render(e.to_string()))?;
        out.push_str(&text);
        if !text.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

/// `irsa inject`: the manifest as the webhook would admit its pods.
pub fn inject_manifest(
    text: &str,
    world: Option<&World>,
    config: &WebhookConfig,
) -> Result<(String, Vec<PodNote>), InjectError> {
    let mut documents = parse_manifest(text)?;
    let mut accounts = world.map(ServiceAccounts::from_world).unwrap_or_default();
    accounts.add_manifest_objects(&documents);
    let notes = inject_documents(&mut documents, &accounts, config)?;
    Ok((render_manifest(&documents)?, notes))
}

/// The AdmissionReview versions the endpoint speaks; it answers in the one it was sent (as
/// upstream's handler does, copying the request's `apiVersion` and `kind`), `v1` when the
/// request names neither.
pub const ADMISSION_REVIEW_VERSIONS: [&str; 2] =
    ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"];

/// Answer an `admission.k8s.io/v1` (or `v1beta1`) AdmissionReview for a Pod CREATE with the
/// webhook's JSONPatch (base64). Anything that is not a Pod, or a pod whose service account has
/// no role, is allowed unpatched. A pod whose spec cannot be read is answered as upstream's
/// `MutatePod` answers an object it cannot unmarshal: `allowed` false, the reason in
/// `status.message` (the API server then refuses the pod; `failurePolicy: Ignore` covers only a
/// webhook that cannot be called).
pub fn admission_review(
    review: &Value,
    accounts: &ServiceAccounts,
    config: &WebhookConfig,
) -> Value {
    let request = &review["request"];
    let uid = request["uid"].clone();
    let api_version = review["apiVersion"]
        .as_str()
        .filter(|v| ADMISSION_REVIEW_VERSIONS.contains(v))
        .unwrap_or(ADMISSION_REVIEW_VERSIONS[0]);
    let reply = |allowed: bool, extra: Value| -> Value {
        let mut response = json!({"uid": uid, "allowed": allowed});
        if let (Some(r), Some(e)) = (response.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                r.insert(k.clone(), v.clone());
            }
        }
        json!({
            "apiVersion": api_version,
            "kind": "AdmissionReview",
            "response": response,
        })
    };
    let answer = |extra: Value| reply(true, extra);
    if request["kind"]["kind"] != "Pod" {
        return answer(json!({}));
    }
    let pod = &request["object"];
    let namespace = request["namespace"]
        .as_str()
        .or_else(|| pod["metadata"]["namespace"].as_str())
        .unwrap_or("default");
    let pod_annotations = string_map(pod.pointer("/metadata/annotations"));
    let mut spec: PodSpec = match serde_json::from_value(pod["spec"].clone()) {
        Ok(spec) => spec,
        Err(e) => {
            return reply(
                false,
                json!({"status": {"message": format!("pod spec unreadable: {e}")}}),
            );
        }
    };
    let sa_name = spec
        .service_account_name
        .clone()
        .unwrap_or_else(|| "default".to_owned());
    let Some(identity) = accounts
        .get(namespace, &sa_name)
        .and_then(|sa| webhook_mutation::identity(sa, &pod_annotations, config))
    else {
        return answer(json!({}));
    };
    let had_volumes = spec.volumes.as_ref().is_some_and(|v| !v.is_empty());
    let had_init = spec.init_containers.is_some();
    let mutation = webhook_mutation::mutate(&mut spec, &pod_annotations, &identity, config);
    let mut patch = Vec::new();
    if mutation.volume_added {
        let volume =
            serde_json::to_value(webhook_mutation::token_volume(&identity)).unwrap_or(Value::Null);
        if had_volumes {
            patch.push(json!({"op": "add", "path": "/spec/volumes/0", "value": volume}));
        } else {
            patch.push(json!({"op": "add", "path": "/spec/volumes", "value": [volume]}));
        }
    }
    let typed = serde_json::to_value(&spec).unwrap_or(Value::Null);
    patch.push(json!({"op": "add", "path": "/spec/containers", "value": typed["containers"]}));
    if had_init {
        patch.push(
            json!({"op": "add", "path": "/spec/initContainers", "value": typed["initContainers"]}),
        );
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(Value::Array(patch).to_string());
    answer(json!({"patchType": "JSONPatch", "patch": encoded}))
}

/// The webhook's HTTP face: `POST` any path (upstream serves `/mutate`) with an AdmissionReview,
/// JSON in and out. An API server calls webhooks over HTTPS only: `irsa webhook --tls` serves
/// this router behind the local CA's certificate (`crate::cli::webhook`).
pub fn admission_router(accounts: ServiceAccounts, config: WebhookConfig) -> axum::Router {
    use axum::Json;
    use axum::routing::post;
    let state = std::sync::Arc::new((accounts, config));
    axum::Router::new().fallback(post(move |Json(review): Json<Value>| {
        let state = std::sync::Arc::clone(&state);
        async move { Json(admission_review(&review, &state.0, &state.1)) }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
apiVersion: v1
kind: ServiceAccount
metadata:
  name: dynamo-sa
  namespace: curity
  annotations:
    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/curity-dynamodb
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: curity
  namespace: curity
spec:
  template:
    metadata:
      annotations:
        eks.amazonaws.com/token-expiration: "3600"
    spec:
      serviceAccountName: dynamo-sa
      containers:
        - name: idsvr
          image: curity/idsvr
          ports: [{containerPort: 8443}]
---
apiVersion: v1
kind: Pod
metadata:
  name: plain
  namespace: curity
spec:
  containers:
    - name: app
      image: busybox
"#;

    #[test]
    fn injects_deployment_templates_from_manifest_service_accounts() {
        let config = WebhookConfig::eks("eu-west-1");
        let (out, notes) = inject_manifest(MANIFEST, None, &config).expect("inject");
        let docs = parse_manifest(&out).expect("output parses");
        assert_eq!(docs.len(), 3);
        let spec = &docs[1]["spec"]["template"]["spec"];
        let env: Vec<(&str, &str)> = spec["containers"][0]["env"]
            .as_array()
            .expect("env")
            .iter()
            .map(|e| {
                (
                    e["name"].as_str().unwrap_or_default(),
                    e["value"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            env,
            [
                ("AWS_STS_REGIONAL_ENDPOINTS", "regional"),
                ("AWS_DEFAULT_REGION", "eu-west-1"),
                ("AWS_REGION", "eu-west-1"),
                (
                    "AWS_ROLE_ARN",
                    "arn:aws:iam::111122223333:role/curity-dynamodb"
                ),
                (
                    "AWS_WEB_IDENTITY_TOKEN_FILE",
                    "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
                ),
            ]
        );
        assert_eq!(
            spec["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"],
            3600
        );
        // Fields the mutation does not own are kept.
        assert_eq!(spec["containers"][0]["ports"][0]["containerPort"], 8443);
        // The pod on the `default` service account is untouched, with the reason noted.
        assert_eq!(
            docs[2],
            parse_manifest(MANIFEST).expect("input")[2],
            "pod without an annotated service account changed"
        );
        assert!(notes[1].role_arn.is_none());
        assert!(
            notes[1]
                .reason
                .as_deref()
                .is_some_and(|r| r.contains("curity/default"))
        );
    }

    #[test]
    fn admission_review_answers_with_the_webhooks_patch_shape() {
        let config = WebhookConfig::upstream_defaults();
        let mut accounts = ServiceAccounts::default();
        accounts.add_manifest_objects(&parse_manifest(MANIFEST).expect("manifest"));
        let review = json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
                "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "namespace": "curity",
                "operation": "CREATE",
                "object": {
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": "p"},
                    "spec": {"serviceAccountName": "dynamo-sa",
                             "containers": [{"name": "app", "image": "amazonlinux"}]}
                }
            }
        });
        let answer = admission_review(&review, &accounts, &config);
        assert_eq!(answer["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(answer["kind"], "AdmissionReview");
        let response = &answer["response"];
        assert_eq!(response["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
        assert_eq!(response["allowed"], true);
        assert_eq!(response["patchType"], "JSONPatch");
        let patch: Value = serde_json::from_slice(
            &base64::engine::general_purpose::STANDARD
                .decode(response["patch"].as_str().expect("patch"))
                .expect("base64"),
        )
        .expect("json patch");
        // rawPodWithoutVolumes's expected patch.
        assert_eq!(
            patch,
            json!([
                {"op":"add","path":"/spec/volumes","value":[{"name":"aws-iam-token","projected":{"sources":[{"serviceAccountToken":{"audience":"sts.amazonaws.com","expirationSeconds":86400,"path":"token"}}]}}]},
                {"op":"add","path":"/spec/containers","value":[{"env":[{"name":"AWS_ROLE_ARN","value":"arn:aws:iam::111122223333:role/curity-dynamodb"},{"name":"AWS_WEB_IDENTITY_TOKEN_FILE","value":"/var/run/secrets/eks.amazonaws.com/serviceaccount/token"}],"image":"amazonlinux","name":"app","volumeMounts":[{"mountPath":"/var/run/secrets/eks.amazonaws.com/serviceaccount","name":"aws-iam-token","readOnly":true}]}]}
            ])
        );

        // Sent as v1beta1, answered as v1beta1 with the same patch.
        let mut beta = review.clone();
        beta["apiVersion"] = json!("admission.k8s.io/v1beta1");
        let answer_beta = admission_review(&beta, &accounts, &config);
        assert_eq!(answer_beta["apiVersion"], "admission.k8s.io/v1beta1");
        assert_eq!(answer_beta["response"], answer["response"]);

        // A pod spec that is not a PodSpec: refused with the reason, as upstream answers an
        // object it cannot unmarshal.
        let mut broken = review.clone();
        broken["request"]["object"]["spec"]["containers"] = json!("not a list");
        let refused = admission_review(&broken, &accounts, &config);
        assert_eq!(refused["response"]["allowed"], false);
        assert_eq!(
            refused["response"]["uid"],
            "705ab4f5-6393-11e8-b7cc-42010a800002"
        );
        assert!(
            refused["response"]["status"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("pod spec unreadable")),
            "{refused}"
        );

        // A pod of an unannotated service account: allowed, no patch.
        let mut other = review.clone();
        other["request"]["object"]["spec"]["serviceAccountName"] = json!("default");
        let answer = admission_review(&other, &accounts, &config);
        assert_eq!(answer["response"]["allowed"], true);
        assert!(answer["response"].get("patch").is_none());
    }

    #[tokio::test]
    async fn admission_endpoint_answers_over_http() {
        use tower::ServiceExt as _;
        let mut accounts = ServiceAccounts::default();
        accounts.add_manifest_objects(&parse_manifest(MANIFEST).expect("manifest"));
        let app = admission_router(accounts, WebhookConfig::eks("eu-west-1"));
        let review = json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "u-1",
                "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "namespace": "curity",
                "operation": "CREATE",
                "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                           "spec": {"serviceAccountName": "dynamo-sa",
                                    "containers": [{"name": "app", "image": "busybox"}]}}
            }
        });
        let request = axum::http::Request::post("/mutate")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(review.to_string()))
            .expect("request");
        let response = app.oneshot(request).await.expect("response");
        assert_eq!(response.status(), axum::http::StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        let answer: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(answer["response"]["uid"], "u-1");
        assert_eq!(answer["response"]["patchType"], "JSONPatch");
    }
}
