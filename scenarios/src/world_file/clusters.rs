//! `clusters:`, `oidc_providers:` and `service_accounts:` of a world file.

use std::collections::{BTreeMap, BTreeSet};

use irsa_core::world::{
    Cluster, IssuerCa, OidcProvider, STS_AUDIENCE, ServiceAccount, default_issuer,
};
use serde_json::{Map, Value};

use super::fields::{Resolver, child, index, kind};

impl Resolver<'_> {
    /// `clusters:`, and the IAM OIDC provider of each one associated (the default).
    pub(super) fn clusters(
        &mut self,
        root: &Map<String, Value>,
        account: &str,
        region: &str,
    ) -> (Vec<Cluster>, Vec<OidcProvider>) {
        let mut clusters = Vec::new();
        let mut providers = Vec::new();
        for (i, c) in self.list(root, "clusters", "").iter().enumerate() {
            let path = index("/clusters", i);
            let Some(m) = self.mapping(
                c,
                &path,
                &[
                    "name",
                    "issuer",
                    "issuer_ca",
                    "associate_oidc_provider",
                    "client_ids",
                ],
            ) else {
                continue;
            };
            let Some(name) = self.string(m, "name", &path, true) else {
                continue;
            };
            if clusters.iter().any(|c: &Cluster| c.name == name) {
                self.problem(
                    &child(&path, "name"),
                    format!("cluster `{name}` is defined twice"),
                );
            }
            let issuer = self
                .string(m, "issuer", &path, false)
                .unwrap_or_else(|| default_issuer(account, region, &name));
            if !issuer.starts_with("https://") {
                self.problem(
                    &child(&path, "issuer"),
                    format!(
                        "`{issuer}` must be an https:// URL, as IAM requires of OIDC providers"
                    ),
                );
            }
            if self.boolean(m, "associate_oidc_provider", &path, true) {
                let client_ids = self
                    .strings(m, "client_ids", &path)
                    .unwrap_or_else(|| vec![STS_AUDIENCE.to_owned()]);
                providers.push(OidcProvider::new(account, &issuer, client_ids));
            }
            let issuer_ca = match self.string(m, "issuer_ca", &path, false).as_deref() {
                None | Some("public") => IssuerCa::Public,
                Some("private") => IssuerCa::Private,
                Some(other) => {
                    self.problem(
                        &child(&path, "issuer_ca"),
                        format!("`{other}` is not an issuer CA: use `public` (a CA AWS trusts, as EKS's issuers use; the default) or `private` (a CA the harness generates; STS then checks the IAM provider's thumbprints)"),
                    );
                    IssuerCa::Public
                }
            };
            clusters.push(Cluster {
                name,
                issuer,
                issuer_ca,
            });
        }
        (clusters, providers)
    }

    /// `oidc_providers:`: providers registered beside the clusters' own.
    pub(super) fn oidc_providers(
        &mut self,
        root: &Map<String, Value>,
        account: &str,
        providers: &mut Vec<OidcProvider>,
    ) {
        for (i, p) in self.list(root, "oidc_providers", "").iter().enumerate() {
            let path = index("/oidc_providers", i);
            let Some(m) = self.mapping(p, &path, &["url", "client_ids", "thumbprints"]) else {
                continue;
            };
            let Some(url) = self.string(m, "url", &path, true) else {
                continue;
            };
            let client_ids = self.strings(m, "client_ids", &path).unwrap_or_default();
            let mut provider = OidcProvider::new(account, &url, client_ids);
            provider.thumbprints = self.strings(m, "thumbprints", &path).unwrap_or_default();
            if providers
                .iter()
                .any(|p: &OidcProvider| p.url == provider.url)
            {
                self.problem(
                    &child(&path, "url"),
                    format!("provider `{url}` is already registered"),
                );
            }
            providers.push(provider);
        }
    }

    /// `service_accounts:`, each in one cluster of `clusters`.
    pub(super) fn service_accounts(
        &mut self,
        root: &Map<String, Value>,
        clusters: &[Cluster],
    ) -> Vec<ServiceAccount> {
        let mut service_accounts: Vec<ServiceAccount> = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, s) in self.list(root, "service_accounts", "").iter().enumerate() {
            let path = index("/service_accounts", i);
            let Some(sa) = self.service_account(s, &path, clusters) else {
                continue;
            };
            if !seen.insert((sa.cluster.clone(), sa.namespace.clone(), sa.name.clone())) {
                self.problem(
                    &child(&path, "metadata"),
                    format!(
                        "service account `{}/{}` is defined twice",
                        sa.namespace, sa.name
                    ),
                );
            }
            service_accounts.push(sa);
        }
        service_accounts
    }

    /// One entry of `service_accounts:` (a Kubernetes ServiceAccount object and its cluster).
    fn service_account(
        &mut self,
        s: &Value,
        path: &str,
        clusters: &[Cluster],
    ) -> Option<ServiceAccount> {
        let m = self.mapping(
            s,
            path,
            &[
                "apiVersion",
                "kind",
                "metadata",
                "cluster",
                "automountServiceAccountToken",
            ],
        )?;
        if let Some(kind_value) = self.string(m, "kind", path, false)
            && kind_value != "ServiceAccount"
        {
            self.problem(
                &child(path, "kind"),
                format!("expected `ServiceAccount`, got `{kind_value}`"),
            );
        }
        let meta_path = child(path, "metadata");
        let Some(meta_value) = m.get("metadata") else {
            self.problem(&meta_path, "`metadata` is required");
            return None;
        };
        let meta = self.mapping(
            meta_value,
            &meta_path,
            &["name", "namespace", "annotations", "labels", "uid"],
        )?;
        let name = self.string(meta, "name", &meta_path, true)?;
        let namespace = self
            .string(meta, "namespace", &meta_path, false)
            .unwrap_or_else(|| "default".to_owned());
        let mut annotations = BTreeMap::new();
        match meta.get("annotations") {
            None | Some(Value::Null) => {}
            Some(Value::Object(a)) => {
                for (k, v) in a {
                    match v {
                        Value::String(s) => {
                            annotations.insert(k.clone(), s.clone());
                        }
                        other => self.problem(
                            &child(&child(&meta_path, "annotations"), k),
                            format!("annotation values are strings, got {}", kind(other)),
                        ),
                    }
                }
            }
            Some(other) => self.problem(
                &child(&meta_path, "annotations"),
                format!("expected a mapping, got {}", kind(other)),
            ),
        }
        let cluster = match self.string(m, "cluster", path, false) {
            Some(c) => {
                if !clusters.iter().any(|k| k.name == c) {
                    self.problem(
                        &child(path, "cluster"),
                        format!("no cluster named `{c}` under `clusters`"),
                    );
                }
                c
            }
            None => {
                match clusters {
                    [only] => only.name.clone(),
                    [] => {
                        self.problem(
                            path,
                            "a service account needs a cluster, and `clusters` is empty",
                        );
                        return None;
                    }
                    _ => {
                        self.problem(&child(path, "cluster"), "several clusters are defined: say which one this service account lives in");
                        return None;
                    }
                }
            }
        };
        Some(ServiceAccount {
            namespace,
            name,
            annotations,
            cluster,
        })
    }
}
