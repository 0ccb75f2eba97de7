//! The `admissionregistration.k8s.io/v1` `MutatingWebhookConfiguration` that registers
//! `irsa webhook --tls` with a real cluster's API server (kind, k3s), as `irsa webhook
//! --print-config` prints it. Pure: the endpoint, the CA certificate and the namespaces in, the
//! typed object (and its YAML) out.
//!
//! Shape: the amazon-eks-pod-identity-webhook project's own `deploy/mutatingwebhook.yaml`
//! (aws/amazon-eks-pod-identity-webhook, read at 3bf80a3): one webhook, `rules` for `CREATE` of
//! core `v1` `pods`, `failurePolicy: Ignore`, `sideEffects: None`, the `objectSelector` that skips
//! pods labelled `eks.amazonaws.com/skip-pod-identity-webhook`, `clientConfig.service` with path
//! `/mutate`. Field meanings from the Kubernetes API reference (`MutatingWebhook`,
//! `WebhookClientConfig`, as k8s-openapi 0.29 carries them for v1.34). Where this one differs,
//! and why:
//! * **Names.** `metadata.name` is [`CONFIGURATION_NAME`] and the webhook [`WEBHOOK_NAME`], not
//!   upstream's `pod-identity-webhook` / `pod-identity-webhook.amazonaws.com`, so applying it
//!   never replaces a real pod-identity webhook registered in the same cluster.
//! * **`admissionReviewVersions: ["v1", "v1beta1"]`** where upstream lists only `v1beta1`: the
//!   endpoint answers in the version it is sent (as upstream's handler does, copying the
//!   request's `apiVersion`), and an API server sends the first version it supports.
//! * **`caBundle`** is the state dir's local CA (base64 of its PEM, as the API type's byte
//!   string is written) instead of upstream's cert-manager `inject-ca-from` annotation.
//! * **`clientConfig.url`** is offered beside `service`: the harness runs outside the cluster,
//!   and the API reference allows a URL (`https://` only, no user info, query or fragment).
//! * **`namespaceSelector`** only when namespaces are named (upstream has none): pods of other
//!   namespaces then never wait on a webhook on a developer's machine. It matches the
//!   `kubernetes.io/metadata.name` label every namespace carries (Kubernetes ≥ 1.21).

use k8s_openapi::ByteString;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhook, MutatingWebhookConfiguration, RuleWithOperations, ServiceReference,
    WebhookClientConfig,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta,
};

/// `metadata.name` of the printed configuration.
pub const CONFIGURATION_NAME: &str = "irsa-harness-pod-identity-webhook";
/// The webhook's name (the API reference asks for a fully qualified one).
pub const WEBHOOK_NAME: &str = "pod-identity-webhook.irsa-harness.local";
/// The path upstream's webhook serves the AdmissionReview on (its `main.go` and deploy
/// manifest); `irsa webhook` answers on any path.
pub const MUTATE_PATH: &str = "/mutate";
/// The label that keeps a pod away from the webhook (upstream's `objectSelector`).
pub const SKIP_LABEL: &str = "eks.amazonaws.com/skip-pod-identity-webhook";
/// The label the API server sets on every namespace to its name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Where the API server calls the webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `clientConfig.url`: an `https://` URL the API server reaches (the harness on the host).
    Url(String),
    /// `clientConfig.service`: a Service in the cluster (for example one whose Endpoints name the
    /// host); the API server verifies the certificate for `NAME.NAMESPACE.svc`.
    Service {
        namespace: String,
        name: String,
        port: Option<u16>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error(
        "`{0}` is not a webhook URL the API server accepts: it must begin with `https://` and carry no user info, query or fragment"
    )]
    Url(String),
    #[error("`{0}` is not `NAMESPACE/NAME` or `NAMESPACE/NAME:PORT`")]
    Service(String),
}

impl Endpoint {
    /// A URL as the API reference allows it for `clientConfig.url`.
    pub fn url(url: &str) -> Result<Self, EndpointError> {
        let bad = || EndpointError::Url(url.to_owned());
        let rest = url.strip_prefix("https://").ok_or_else(bad)?;
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.is_empty() || authority.contains('@') || url.contains(['?', '#']) {
            return Err(bad());
        }
        Ok(Self::Url(url.to_owned()))
    }

    /// `NAMESPACE/NAME[:PORT]`.
    pub fn service(text: &str) -> Result<Self, EndpointError> {
        let bad = || EndpointError::Service(text.to_owned());
        let (namespace, rest) = text.split_once('/').ok_or_else(bad)?;
        let (name, port) = match rest.split_once(':') {
            Some((name, port)) => (name, Some(port.parse::<u16>().map_err(|_| bad())?)),
            None => (rest, None),
        };
        if namespace.is_empty() || name.is_empty() || name.contains('/') {
            return Err(bad());
        }
        Ok(Self::Service {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            port,
        })
    }

    /// The port a URL names (443 when it names none); `None` for a Service, whose port is the
    /// Service's, not necessarily the webhook's.
    pub fn url_port(&self) -> Option<u16> {
        let Self::Url(url) = self else {
            return None;
        };
        let rest = url.strip_prefix("https://").unwrap_or(url);
        let authority = rest.split('/').next().unwrap_or_default();
        let after_host = match authority.strip_prefix('[') {
            Some(bracketed) => bracketed.split_once(']').map_or("", |(_, rest)| rest),
            None => authority.rsplit_once(':').map_or("", |(_, port)| port),
        };
        let port = after_host.trim_start_matches(':');
        Some(if port.is_empty() {
            443
        } else {
            port.parse().unwrap_or(443)
        })
    }

    /// The host the API server checks the certificate against: the URL's host (without
    /// brackets or port), or the Service's `NAME.NAMESPACE.svc`.
    pub fn verified_host(&self) -> String {
        match self {
            Self::Url(url) => {
                let rest = url.strip_prefix("https://").unwrap_or(url);
                let authority = rest.split('/').next().unwrap_or_default();
                if let Some(bracketed) = authority.strip_prefix('[') {
                    bracketed.split(']').next().unwrap_or_default().to_owned()
                } else {
                    authority
                        .rsplit_once(':')
                        .map_or(authority, |(host, _)| host)
                        .to_owned()
                }
            }
            Self::Service {
                namespace, name, ..
            } => format!("{name}.{namespace}.svc"),
        }
    }
}

/// The configuration registering one webhook at `endpoint` whose certificate chains to
/// `ca_pem`, for pods of `namespaces` (all namespaces when empty).
pub fn webhook_configuration(
    endpoint: &Endpoint,
    ca_pem: &str,
    namespaces: &[String],
) -> MutatingWebhookConfiguration {
    let (url, service) = match endpoint {
        Endpoint::Url(url) => (Some(url.clone()), None),
        Endpoint::Service {
            namespace,
            name,
            port,
        } => (
            None,
            Some(ServiceReference {
                name: name.clone(),
                namespace: namespace.clone(),
                path: Some(MUTATE_PATH.to_owned()),
                port: port.map(i32::from),
            }),
        ),
    };
    let namespace_selector = (!namespaces.is_empty()).then(|| LabelSelector {
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: NAMESPACE_NAME_LABEL.to_owned(),
            operator: "In".to_owned(),
            values: Some(namespaces.to_vec()),
        }]),
        match_labels: None,
    });
    MutatingWebhookConfiguration {
        metadata: ObjectMeta {
            name: Some(CONFIGURATION_NAME.to_owned()),
            ..ObjectMeta::default()
        },
        webhooks: Some(vec![MutatingWebhook {
            name: WEBHOOK_NAME.to_owned(),
            failure_policy: Some("Ignore".to_owned()),
            client_config: WebhookClientConfig {
                ca_bundle: Some(ByteString(ca_pem.as_bytes().to_vec())),
                service,
                url,
            },
            object_selector: Some(LabelSelector {
                match_expressions: Some(vec![LabelSelectorRequirement {
                    key: SKIP_LABEL.to_owned(),
                    operator: "DoesNotExist".to_owned(),
                    values: Some(Vec::new()),
                }]),
                match_labels: None,
            }),
            namespace_selector,
            rules: Some(vec![RuleWithOperations {
                operations: Some(vec!["CREATE".to_owned()]),
                api_groups: Some(vec![String::new()]),
                api_versions: Some(vec!["v1".to_owned()]),
                resources: Some(vec!["pods".to_owned()]),
                scope: None,
            }]),
            side_effects: "None".to_owned(),
            admission_review_versions: vec!["v1".to_owned(), "v1beta1".to_owned()],
            ..MutatingWebhook::default()
        }]),
    }
}

/// The configuration as YAML (`kubectl apply -f -`).
pub fn render(configuration: &MutatingWebhookConfiguration) -> Result<String, String> {
    let value = serde_json::to_value(configuration).map_err(|e| e.to_string())?;
    serde_saphyr::to_string(&value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    #[test]
    fn the_configuration_has_upstreams_shape_with_the_ca_and_url() {
        let endpoint = Endpoint::url("https://172.17.0.1:8443/mutate").unwrap();
        let config = webhook_configuration(&endpoint, PEM, &[]);
        let value = serde_json::to_value(&config).unwrap();
        assert_eq!(
            value["apiVersion"], "admissionregistration.k8s.io/v1",
            "{value}"
        );
        assert_eq!(value["kind"], "MutatingWebhookConfiguration");
        assert_eq!(
            value["metadata"],
            serde_json::json!({"name": CONFIGURATION_NAME})
        );
        let hook = &value["webhooks"][0];
        assert_eq!(value["webhooks"].as_array().map(Vec::len), Some(1));
        assert_eq!(hook["name"], WEBHOOK_NAME);
        assert_eq!(hook["failurePolicy"], "Ignore");
        assert_eq!(hook["sideEffects"], "None");
        assert_eq!(
            hook["admissionReviewVersions"],
            serde_json::json!(["v1", "v1beta1"])
        );
        assert_eq!(
            hook["rules"],
            serde_json::json!([{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}])
        );
        assert_eq!(
            hook["objectSelector"],
            serde_json::json!({"matchExpressions": [{"key": "eks.amazonaws.com/skip-pod-identity-webhook", "operator": "DoesNotExist", "values": []}]})
        );
        assert!(hook.get("namespaceSelector").is_none());
        assert_eq!(
            hook["clientConfig"]["url"],
            "https://172.17.0.1:8443/mutate"
        );
        assert!(hook["clientConfig"].get("service").is_none());
        let bundle = base64::engine::general_purpose::STANDARD
            .decode(hook["clientConfig"]["caBundle"].as_str().unwrap())
            .unwrap();
        assert_eq!(bundle, PEM.as_bytes());
    }

    #[test]
    fn a_service_endpoint_and_namespaces_select_as_the_api_expects() {
        let endpoint = Endpoint::service("irsa/pod-identity:9443").unwrap();
        assert_eq!(endpoint.verified_host(), "pod-identity.irsa.svc");
        let config = webhook_configuration(&endpoint, PEM, &["curity".to_owned()]);
        let value = serde_json::to_value(&config).unwrap();
        let hook = &value["webhooks"][0];
        assert_eq!(
            hook["clientConfig"]["service"],
            serde_json::json!({"name": "pod-identity", "namespace": "irsa", "path": "/mutate", "port": 9443})
        );
        assert!(hook["clientConfig"].get("url").is_none());
        assert_eq!(
            hook["namespaceSelector"],
            serde_json::json!({"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["curity"]}]})
        );
        let default_port = Endpoint::service("irsa/pod-identity").unwrap();
        let value = serde_json::to_value(webhook_configuration(&default_port, PEM, &[])).unwrap();
        assert!(
            value["webhooks"][0]["clientConfig"]["service"]
                .get("port")
                .is_none(),
            "the API's default, 443"
        );
    }

    #[test]
    fn urls_and_services_the_api_server_would_refuse_are_refused() {
        for bad in [
            "http://127.0.0.1:8443/mutate",
            "https://user:pw@127.0.0.1/mutate",
            "https://127.0.0.1/mutate?x=1",
            "https://127.0.0.1/mutate#f",
            "https:///mutate",
        ] {
            assert_eq!(
                Endpoint::url(bad),
                Err(EndpointError::Url(bad.to_owned())),
                "{bad}"
            );
        }
        for bad in ["name", "/name", "ns/", "ns/name:port", "ns/name:70000"] {
            assert!(Endpoint::service(bad).is_err(), "{bad}");
        }
        let hosts = [
            ("https://127.0.0.1:8443/mutate", "127.0.0.1"),
            (
                "https://host.docker.internal/mutate",
                "host.docker.internal",
            ),
            ("https://[fd00::5]:8443/mutate", "fd00::5"),
        ];
        for (url, host) in hosts {
            assert_eq!(Endpoint::url(url).unwrap().verified_host(), host);
        }
        let ports = [
            ("https://127.0.0.1:8443/mutate", Some(8443)),
            ("https://host.docker.internal/mutate", Some(443)),
            ("https://[fd00::5]:9443/mutate", Some(9443)),
            ("https://[fd00::5]/mutate", Some(443)),
        ];
        for (url, port) in ports {
            assert_eq!(Endpoint::url(url).unwrap().url_port(), port, "{url}");
        }
        assert_eq!(Endpoint::service("a/b:1").unwrap().url_port(), None);
    }

    #[test]
    fn the_yaml_reads_back_as_the_same_object() {
        let config = webhook_configuration(
            &Endpoint::url("https://127.0.0.1:8443/mutate").unwrap(),
            PEM,
            &["a".to_owned(), "b".to_owned()],
        );
        let yaml = render(&config).unwrap();
        let back: MutatingWebhookConfiguration = serde_saphyr::from_str(&yaml).unwrap();
        assert_eq!(back, config);
    }
}
