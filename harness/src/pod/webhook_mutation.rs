//! The amazon-eks-pod-identity-webhook's mutation (web-identity mode), as a pure function on
//! Kubernetes types: which environment, volume and mount a pod of an annotated service account
//! gets. `irsa inject`, the AdmissionReview endpoint and `irsa exec` all use it, so what runs
//! locally is what EKS would inject. Owns no I/O and no YAML.
//!
//! Sources: aws/amazon-eks-pod-identity-webhook README and `pkg/handler/testdata/*.pod.yaml`
//! (the expected patches of its handler tests), summarised in wire-contracts.md §5.3. Marked
//! `UNSOURCED` below: what EKS's managed webhook is started with (region, regional STS).
//! Not modelled: the Pod Identity (container-credentials) mode, which the webhook picks for
//! service accounts listed in its `--watch-container-credentials-config` file.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{
    Container, EnvVar, PodSpec, ProjectedVolumeSource, ServiceAccountTokenProjection, Volume,
    VolumeMount, VolumeProjection,
};

pub const ROLE_ARN_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
pub const AUDIENCE_ANNOTATION: &str = "eks.amazonaws.com/audience";
pub const TOKEN_EXPIRATION_ANNOTATION: &str = "eks.amazonaws.com/token-expiration";
pub const STS_REGIONAL_ANNOTATION: &str = "eks.amazonaws.com/sts-regional-endpoints";
pub const SKIP_CONTAINERS_ANNOTATION: &str = "eks.amazonaws.com/skip-containers";

/// The projected volume's name (the README still calls it `aws-token`; the handler uses this).
pub const VOLUME_NAME: &str = "aws-iam-token";
/// `--token-mount-path`'s default.
pub const MOUNT_PATH: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount";
pub const WINDOWS_TOKEN_FILE: &str = r"C:\var\run\secrets\eks.amazonaws.com\serviceaccount\token";
/// `--token-audience`'s default.
pub const DEFAULT_AUDIENCE: &str = "sts.amazonaws.com";
/// `--token-expiration`'s default.
pub const DEFAULT_TOKEN_EXPIRATION: i64 = 86_400;
/// Shorter requests are raised to this.
pub const MIN_TOKEN_EXPIRATION: i64 = 600;

pub const ENV_ROLE_ARN: &str = "AWS_ROLE_ARN";
pub const ENV_TOKEN_FILE: &str = "AWS_WEB_IDENTITY_TOKEN_FILE";
pub const ENV_STS_REGIONAL: &str = "AWS_STS_REGIONAL_ENDPOINTS";
pub const ENV_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
pub const ENV_REGION: &str = "AWS_REGION";

/// The webhook's command-line configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    /// `--aws-default-region`: when set, `AWS_DEFAULT_REGION` and `AWS_REGION` are injected.
    pub region: Option<String>,
    /// `--sts-regional-endpoint`: inject `AWS_STS_REGIONAL_ENDPOINTS=regional` unless the
    /// service account's annotation says otherwise.
    pub regional_sts: bool,
    /// `--token-audience`.
    pub audience: String,
    /// `--token-expiration`.
    pub token_expiration: i64,
    /// `--token-mount-path`.
    pub mount_path: String,
}

impl WebhookConfig {
    /// The open-source webhook's flag defaults: no region, no regional STS variable.
    pub fn upstream_defaults() -> Self {
        WebhookConfig {
            region: None,
            regional_sts: false,
            audience: DEFAULT_AUDIENCE.to_owned(),
            token_expiration: DEFAULT_TOKEN_EXPIRATION,
            mount_path: MOUNT_PATH.to_owned(),
        }
    }

    /// EKS's managed webhook in a cluster of `region`. UNSOURCED: EKS does not publish its
    /// flags; that it sets the cluster's region and regional STS endpoints follows the EKS user
    /// guide's account of what pods receive (not fetched here) and the variables seen in EKS pods.
    pub fn eks(region: &str) -> Self {
        WebhookConfig {
            region: Some(region.to_owned()),
            regional_sts: true,
            ..Self::upstream_defaults()
        }
    }
}

/// What the webhook resolved for one pod from its service account and its own annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub role_arn: String,
    pub audience: String,
    pub regional_sts: bool,
    pub token_expiration: i64,
}

/// The identity for a pod of a service account with these annotations, or `None` when the
/// service account has no role annotation (the webhook then leaves the pod alone).
pub fn identity(
    service_account: &BTreeMap<String, String>,
    pod: &BTreeMap<String, String>,
    config: &WebhookConfig,
) -> Option<Identity> {
    let role_arn = service_account.get(ROLE_ARN_ANNOTATION)?.clone();
    let audience = service_account
        .get(AUDIENCE_ANNOTATION)
        .cloned()
        .unwrap_or_else(|| config.audience.clone());
    let regional_sts = service_account
        .get(STS_REGIONAL_ANNOTATION)
        .and_then(|v| parse_go_bool(v))
        .unwrap_or(config.regional_sts);
    // The pod's annotation wins over the service account's; a bad integer falls back to the
    // default; values under 600 are raised to 600; there is no upper clamp.
    let token_expiration = pod
        .get(TOKEN_EXPIRATION_ANNOTATION)
        .or_else(|| service_account.get(TOKEN_EXPIRATION_ANNOTATION))
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(config.token_expiration)
        .max(MIN_TOKEN_EXPIRATION);
    Some(Identity {
        role_arn,
        audience,
        regional_sts,
        token_expiration,
    })
}

/// Go's `strconv.ParseBool`.
pub fn parse_go_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The token file path the webhook writes into the environment for this pod.
pub fn token_file(spec: &PodSpec, config: &WebhookConfig) -> String {
    let windows = spec.node_selector.as_ref().is_some_and(|sel| {
        ["kubernetes.io/os", "beta.kubernetes.io/os"]
            .iter()
            .any(|k| sel.get(*k).is_some_and(|v| v == "windows"))
    });
    if windows {
        WINDOWS_TOKEN_FILE.to_owned()
    } else {
        format!("{}/token", config.mount_path.trim_end_matches('/'))
    }
}

/// What [`mutate`] changed, for building the JSONPatch the webhook answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mutation {
    pub volume_added: bool,
    pub containers_changed: bool,
    pub init_containers_changed: bool,
}

/// Apply the webhook's mutation to a pod spec.
pub fn mutate(
    spec: &mut PodSpec,
    pod_annotations: &BTreeMap<String, String>,
    identity: &Identity,
    config: &WebhookConfig,
) -> Mutation {
    let skip: BTreeSet<&str> = pod_annotations
        .get(SKIP_CONTAINERS_ANNOTATION)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let token_file = token_file(spec, config);
    let mut mutation = Mutation::default();
    for container in &mut spec.containers {
        if !skip.contains(container.name.as_str()) {
            mutation.containers_changed |=
                mutate_container(container, identity, config, &token_file);
        }
    }
    if let Some(init) = spec.init_containers.as_mut() {
        for container in init {
            if !skip.contains(container.name.as_str()) {
                mutation.init_containers_changed |=
                    mutate_container(container, identity, config, &token_file);
            }
        }
    }
    let volumes = spec.volumes.get_or_insert_with(Vec::new);
    if !volumes.iter().any(|v| v.name == VOLUME_NAME) {
        volumes.insert(0, token_volume(identity));
        mutation.volume_added = true;
    }
    mutation
}

/// The projected service-account token volume.
pub fn token_volume(identity: &Identity) -> Volume {
    Volume {
        name: VOLUME_NAME.to_owned(),
        projected: Some(ProjectedVolumeSource {
            sources: Some(vec![VolumeProjection {
                service_account_token: Some(ServiceAccountTokenProjection {
                    audience: Some(identity.audience.clone()),
                    expiration_seconds: Some(identity.token_expiration),
                    path: "token".to_owned(),
                }),
                ..VolumeProjection::default()
            }]),
            ..ProjectedVolumeSource::default()
        }),
        ..Volume::default()
    }
}

/// The variables the webhook appends to a container with no AWS variables, in its order.
pub fn injected_env(
    identity: &Identity,
    config: &WebhookConfig,
    token_file: &str,
) -> Vec<(String, String)> {
    let mut env = Vec::new();
    if identity.regional_sts {
        env.push((ENV_STS_REGIONAL.to_owned(), "regional".to_owned()));
    }
    if let Some(region) = &config.region {
        env.push((ENV_DEFAULT_REGION.to_owned(), region.clone()));
        env.push((ENV_REGION.to_owned(), region.clone()));
    }
    env.push((ENV_ROLE_ARN.to_owned(), identity.role_arn.clone()));
    env.push((ENV_TOKEN_FILE.to_owned(), token_file.to_owned()));
    env
}

/// Append what is missing; a container that set one of a group keeps its own values for the
/// whole group. A container that needed nothing is left exactly as it was (no mount either).
fn mutate_container(
    container: &mut Container,
    identity: &Identity,
    config: &WebhookConfig,
    token_file: &str,
) -> bool {
    let present: BTreeSet<String> = container
        .env
        .iter()
        .flatten()
        .map(|e| e.name.clone())
        .collect();
    let has = |name: &str| present.contains(name);
    let mut added: Vec<(String, String)> = Vec::new();
    for (name, value) in injected_env(identity, config, token_file) {
        let group_present = match name.as_str() {
            ENV_STS_REGIONAL => has(ENV_STS_REGIONAL),
            ENV_DEFAULT_REGION | ENV_REGION => has(ENV_DEFAULT_REGION) || has(ENV_REGION),
            _ => has(ENV_ROLE_ARN) || has(ENV_TOKEN_FILE),
        };
        if !group_present {
            added.push((name, value));
        }
    }
    if added.is_empty() {
        return false;
    }
    let env = container.env.get_or_insert_with(Vec::new);
    for (name, value) in added {
        env.push(EnvVar {
            name,
            value: Some(value),
            value_from: None,
        });
    }
    let mounts = container.volume_mounts.get_or_insert_with(Vec::new);
    if !mounts.iter().any(|m| m.name == VOLUME_NAME) {
        mounts.push(VolumeMount {
            name: VOLUME_NAME.to_owned(),
            read_only: Some(true),
            mount_path: config.mount_path.clone(),
            ..VolumeMount::default()
        });
    }
    true
}

/// The environment a container of this pod ends up with for the names the webhook manages
/// (plain values only), in order.
pub fn container_env(container: &Container) -> Vec<(String, String)> {
    container
        .env
        .iter()
        .flatten()
        .filter_map(|e| e.value.clone().map(|v| (e.name.clone(), v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotations(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const ROLE: &str = "arn:aws:iam::111122223333:role/s3-reader";

    fn sa() -> BTreeMap<String, String> {
        annotations(&[(ROLE_ARN_ANNOTATION, ROLE)])
    }

    fn container(name: &str, env: &[(&str, &str)]) -> Container {
        Container {
            name: name.to_owned(),
            image: Some("amazonlinux".to_owned()),
            env: if env.is_empty() {
                None
            } else {
                Some(
                    env.iter()
                        .map(|(k, v)| EnvVar {
                            name: (*k).to_owned(),
                            value: Some((*v).to_owned()),
                            value_from: None,
                        })
                        .collect(),
                )
            },
            ..Container::default()
        }
    }

    fn names(c: &Container) -> Vec<(String, String)> {
        container_env(c)
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn no_role_annotation_means_no_mutation() {
        let config = WebhookConfig::eks("eu-west-1");
        assert_eq!(identity(&BTreeMap::new(), &BTreeMap::new(), &config), None);
    }

    // rawPodWithoutVolumes: upstream defaults inject only the role and the token file.
    #[test]
    fn upstream_defaults_inject_role_and_token_file_volume_and_mount() {
        let config = WebhookConfig::upstream_defaults();
        let id = identity(&sa(), &BTreeMap::new(), &config).expect("identity");
        let mut spec = PodSpec {
            containers: vec![container("app", &[])],
            ..PodSpec::default()
        };
        let m = mutate(&mut spec, &BTreeMap::new(), &id, &config);
        assert!(m.volume_added && m.containers_changed && !m.init_containers_changed);
        assert_eq!(
            names(&spec.containers[0]),
            pairs(&[
                (ENV_ROLE_ARN, ROLE),
                (
                    ENV_TOKEN_FILE,
                    "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
                )
            ])
        );
        let mounts = spec.containers[0].volume_mounts.as_ref().expect("mounts");
        assert_eq!(mounts[0].name, "aws-iam-token");
        assert_eq!(mounts[0].read_only, Some(true));
        assert_eq!(
            mounts[0].mount_path,
            "/var/run/secrets/eks.amazonaws.com/serviceaccount"
        );
        let volume = &spec.volumes.as_ref().expect("volumes")[0];
        let json = serde_json::to_value(volume).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"name":"aws-iam-token","projected":{"sources":[{"serviceAccountToken":{"audience":"sts.amazonaws.com","expirationSeconds":86400,"path":"token"}}]}})
        );
    }

    // rawPodNeedsSTS: the order is STS, region pair, role pair.
    #[test]
    fn regional_sts_and_region_come_first_in_the_webhooks_order() {
        let config = WebhookConfig {
            region: Some("cn-north-1".into()),
            regional_sts: true,
            ..WebhookConfig::upstream_defaults()
        };
        let id = identity(&sa(), &BTreeMap::new(), &config).expect("identity");
        let mut spec = PodSpec {
            containers: vec![container("app", &[])],
            ..PodSpec::default()
        };
        mutate(&mut spec, &BTreeMap::new(), &id, &config);
        let got: Vec<String> = names(&spec.containers[0])
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            got,
            [
                ENV_STS_REGIONAL,
                ENV_DEFAULT_REGION,
                ENV_REGION,
                ENV_ROLE_ARN,
                ENV_TOKEN_FILE
            ]
        );
    }

    // rawPodHasAll: a container with every variable is left exactly as it was; the volume is
    // still added to the pod.
    #[test]
    fn container_with_everything_is_left_alone() {
        let config = WebhookConfig {
            region: Some("cn-north-1".into()),
            regional_sts: true,
            ..WebhookConfig::upstream_defaults()
        };
        let id = identity(&sa(), &BTreeMap::new(), &config).expect("identity");
        let original = container(
            "app",
            &[
                (ENV_REGION, "cn-northwest-1"),
                (ENV_STS_REGIONAL, "regional"),
                (ENV_ROLE_ARN, "arn:aws-cn:iam::111122223333:role/s3-reader"),
            ],
        );
        let mut spec = PodSpec {
            containers: vec![original.clone()],
            ..PodSpec::default()
        };
        let m = mutate(&mut spec, &BTreeMap::new(), &id, &config);
        assert_eq!(spec.containers[0], original);
        assert!(!m.containers_changed);
        assert!(m.volume_added);
    }

    // rawPodSkip: a skipped container untouched; a container with its own AWS_ROLE_ARN keeps
    // it, gets no token file, but gets the region and the mount.
    #[test]
    fn skip_containers_and_own_role_arn_are_respected() {
        let config = WebhookConfig {
            region: Some("us-west-2".into()),
            ..WebhookConfig::upstream_defaults()
        };
        let id = identity(&sa(), &BTreeMap::new(), &config).expect("identity");
        let pod = annotations(&[(SKIP_CONTAINERS_ANNOTATION, "sidecar")]);
        let mut spec = PodSpec {
            containers: vec![
                container("sidecar", &[]),
                container("app", &[(ENV_ROLE_ARN, "already-defined")]),
            ],
            ..PodSpec::default()
        };
        mutate(&mut spec, &pod, &id, &config);
        assert_eq!(spec.containers[0], container("sidecar", &[]));
        assert_eq!(
            names(&spec.containers[1]),
            pairs(&[
                (ENV_ROLE_ARN, "already-defined"),
                (ENV_DEFAULT_REGION, "us-west-2"),
                (ENV_REGION, "us-west-2")
            ])
        );
        assert!(spec.containers[1].volume_mounts.is_some());
    }

    // rawPodWithInitContainer: init containers (and native sidecars) are mutated too.
    #[test]
    fn init_containers_are_mutated() {
        let config = WebhookConfig::eks("seattle");
        let id = identity(&sa(), &BTreeMap::new(), &config).expect("identity");
        let mut spec = PodSpec {
            containers: vec![container("app", &[])],
            init_containers: Some(vec![container("init", &[])]),
            ..PodSpec::default()
        };
        let m = mutate(&mut spec, &BTreeMap::new(), &id, &config);
        assert!(m.init_containers_changed);
        let init = &spec.init_containers.as_ref().expect("init")[0];
        assert_eq!(names(init), names(&spec.containers[0]));
    }

    // rawPodWithVolumes / rawPodHasVolumeMount: the volume goes first; an existing volume or
    // mount of that name is kept.
    #[test]
    fn volume_is_prepended_and_existing_ones_kept() {
        let config = WebhookConfig::upstream_defaults();
        let id = identity(&sa(), &BTreeMap::new(), &config).expect("identity");
        let mut spec = PodSpec {
            containers: vec![container("app", &[])],
            volumes: Some(vec![Volume {
                name: "my-volume".into(),
                ..Volume::default()
            }]),
            ..PodSpec::default()
        };
        mutate(&mut spec, &BTreeMap::new(), &id, &config);
        let volumes = spec.volumes.as_ref().expect("volumes");
        assert_eq!(volumes[0].name, "aws-iam-token");
        assert_eq!(volumes[1].name, "my-volume");

        let own_mount = VolumeMount {
            name: VOLUME_NAME.into(),
            mount_path: "/path/to/token".into(),
            ..VolumeMount::default()
        };
        let mut c = container("app", &[]);
        c.volume_mounts = Some(vec![own_mount.clone()]);
        let mut spec = PodSpec {
            containers: vec![c],
            volumes: Some(vec![Volume {
                name: VOLUME_NAME.into(),
                ..Volume::default()
            }]),
            ..PodSpec::default()
        };
        let m = mutate(&mut spec, &BTreeMap::new(), &id, &config);
        assert!(!m.volume_added);
        assert_eq!(
            spec.containers[0].volume_mounts.as_deref(),
            Some(&[own_mount][..])
        );
        assert_eq!(spec.volumes.as_ref().map(Vec::len), Some(1));
    }

    #[test]
    fn annotations_set_audience_expiration_and_sts() {
        let config = WebhookConfig::eks("eu-west-1");
        let sa = annotations(&[
            (ROLE_ARN_ANNOTATION, ROLE),
            (AUDIENCE_ANNOTATION, "my-aud"),
            (TOKEN_EXPIRATION_ANNOTATION, "10000"),
            (STS_REGIONAL_ANNOTATION, "false"),
        ]);
        let id = identity(&sa, &BTreeMap::new(), &config).expect("identity");
        assert_eq!(id.audience, "my-aud");
        assert_eq!(id.token_expiration, 10_000);
        assert!(!id.regional_sts);
        // The pod's expiration wins; under 600 is raised to 600.
        let pod = annotations(&[(TOKEN_EXPIRATION_ANNOTATION, "100")]);
        assert_eq!(
            identity(&sa, &pod, &config).map(|i| i.token_expiration),
            Some(600)
        );
        // A bad integer falls back to the default; a bad bool to the flag.
        let bad = annotations(&[
            (ROLE_ARN_ANNOTATION, ROLE),
            (TOKEN_EXPIRATION_ANNOTATION, "soon"),
            (STS_REGIONAL_ANNOTATION, "yes"),
        ]);
        let id = identity(&bad, &BTreeMap::new(), &config).expect("identity");
        assert_eq!(id.token_expiration, 86_400);
        assert!(id.regional_sts);
    }

    #[test]
    fn windows_pods_get_the_windows_token_path() {
        let config = WebhookConfig::upstream_defaults();
        let spec = PodSpec {
            node_selector: Some(annotations(&[("kubernetes.io/os", "windows")])),
            ..PodSpec::default()
        };
        assert_eq!(token_file(&spec, &config), WINDOWS_TOKEN_FILE);
        let beta = PodSpec {
            node_selector: Some(annotations(&[("beta.kubernetes.io/os", "windows")])),
            ..PodSpec::default()
        };
        assert_eq!(token_file(&beta, &config), WINDOWS_TOKEN_FILE);
    }
}
