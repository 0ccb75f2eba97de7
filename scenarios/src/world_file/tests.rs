//! World files as users write them, read from the bundled catalog and from text.

use std::path::{Path, PathBuf};

use irsa_core::world::IssuerCa;

use super::*;

fn read(path: &Path) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

fn load(path: &Path) -> Result<WorldFile, WorldFileError> {
    parse(&read(path).unwrap(), path, &read)
}

/// A world from text alone (its `*_file` documents, if any, read from disk).
fn world_of(text: &str, file: &Path) -> Result<World, WorldFileError> {
    parse(text, file, &read).map(|w| w.world)
}

fn bundled() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("worlds/curity.yaml")
}

#[test]
fn the_bundled_world_loads() {
    let world = load(&bundled()).unwrap().world;
    assert_eq!(world.account, "111122223333");
    assert_eq!(world.region, "eu-west-1");
    assert_eq!(
        world.oidc_providers.len(),
        1,
        "only the associated cluster registers a provider"
    );
    assert_eq!(
        world.oidc_providers[0].arn,
        "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E"
    );
    let role = world
        .role_by_arn("arn:aws:iam::111122223333:role/curity-dynamodb")
        .unwrap();
    assert_eq!(role.policies.len(), 1);
    assert_eq!(role.policies[0].name, "dynamo-iam-policy");
    assert_eq!(
        role.managed_policy_arns
            .get("dynamo-iam-policy")
            .map(String::as_str),
        Some("arn:aws:iam::111122223333:policy/dynamo-iam-policy")
    );
    let sa = world.service_account("curity", "dynamo-sa").unwrap();
    assert_eq!(sa.cluster, "curity-dynamo-irsa");
    // The second cluster's issuer is derived from account, region and name.
    let derived = world.cluster("unassociated-cluster").unwrap();
    assert!(
        derived
            .issuer
            .starts_with("https://oidc.eks.eu-west-1.amazonaws.com/id/")
    );
    // The eleven Curity tables of its DynamoDB plugin, and `other-table`.
    assert_eq!(world.tables.len(), 12);
}

#[test]
fn every_problem_is_reported_at_once_with_file_and_path() {
    let text = r#"
account: "1234"
regoin: eu-west-1
clusters:
  - name: a
  - name: b
    issuer: http://not-https.example
    issuer_ca: self-signed
service_accounts:
  - metadata: {name: sa, namespace: ns, annotations: {eks.amazonaws.com/role-arn: x}}
policies:
  - name: p
    document: {Version: "2012-10-17", Statement: [{Effect: allow, Action: "s3:*", Resource: "*"}]}
  - name: q
    document_file: does-not-exist.json
roles:
  - name: r
    trust_policy: {Version: "2012-10-17", Statement: [{Effect: Allow, Principal: {Federated: x}, Action: "sts:AssumeRoleWithWebIdentity"}]}
    managed_policies: [nope]
    max_session_duration: 60
tables:
  - {TableName: t}
"#;
    let err = world_of(text, Path::new("w.yaml")).unwrap_err();
    let located: Vec<String> = err.problems.iter().map(|p| p.path.clone()).collect();
    for expected in [
        "/account",
        "/regoin",
        "/clusters/1/issuer",
        "/clusters/1/issuer_ca",
        "/service_accounts/0/cluster",
        "/policies/0/document",
        "/policies/1/document_file",
        "/roles/0/managed_policies/0",
        "/roles/0/max_session_duration",
        "/tables/0/KeySchema",
        "/tables/0/AttributeDefinitions",
    ] {
        assert!(
            located.iter().any(|p| p == expected),
            "no problem at {expected}: {located:?}"
        );
    }
    let text = err.to_string();
    assert!(
        text.contains("w.yaml: /regoin: unknown field `regoin`"),
        "{text}"
    );
    assert!(
        text.contains("w.yaml: /roles/0/managed_policies/0: no policy named `nope`"),
        "{text}"
    );
}

#[test]
fn a_cluster_issuer_is_certified_by_a_public_ca_unless_it_says_private() {
    let text = r#"
clusters:
  - {name: eks}
  - {name: kops, issuer: "https://oidc.private.example/kops", issuer_ca: private}
"#;
    let world = world_of(text, Path::new("w.yaml")).unwrap();
    assert_eq!(world.cluster("eks").unwrap().issuer_ca, IssuerCa::Public);
    assert_eq!(world.cluster("kops").unwrap().issuer_ca, IssuerCa::Private);
}

#[test]
fn a_role_annotation_naming_no_role_is_not_an_error() {
    let text = r#"
clusters: [{name: c}]
service_accounts:
  - metadata: {name: sa, namespace: ns, annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::123456789012:role/typo"}}
"#;
    let world = world_of(text, Path::new("w.yaml")).unwrap();
    assert_eq!(world.account, "123456789012");
    assert_eq!(world.region, "us-east-1");
    assert_eq!(
        world.service_accounts[0].role_arn(),
        Some("arn:aws:iam::123456789012:role/typo")
    );
}

#[test]
fn users_get_keys_and_policies_and_admin_exists_by_default() {
    let text = r#"
policies:
  - name: p
    document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "iam:Get*", Resource: "*"}]}
users:
  - name: given
    access_keys: [{id: AKIAGIVENKEY00000001, secret: s3cr3t}]
    managed_policies: [p]
  - name: derived
"#;
    let world = world_of(text, Path::new("w.yaml")).unwrap();
    let given = &world.users["given"];
    assert_eq!(given.arn, "arn:aws:iam::123456789012:user/given");
    assert_eq!(given.access_keys[0].id, "AKIAGIVENKEY00000001");
    assert_eq!(
        given.managed_policy_arns["p"],
        "arn:aws:iam::123456789012:policy/p"
    );
    assert!(world.users["derived"].access_keys[0].id.starts_with("AKIA"));
    let admin = &world.users[ADMIN_USER];
    assert_eq!(admin.policies.len(), 1);
    assert!(world.user_by_access_key(&admin.access_keys[0].id).is_some());
    assert_eq!(world.managed_policies.len(), 1);

    let err = world_of(
            "users:\n  - name: x\n    access_keys: [{id: ASIANOTSTATIC0000001, secret: s}]\n    managed_policies: [nope]\n",
            Path::new("w.yaml"),
        )
        .unwrap_err();
    let located: Vec<&str> = err.problems.iter().map(|p| p.path.as_str()).collect();
    assert!(
        located.contains(&"/users/0/access_keys/0/id"),
        "{located:?}"
    );
    assert!(
        located.contains(&"/users/0/managed_policies/0"),
        "{located:?}"
    );
}

#[test]
fn yaml_syntax_errors_name_the_file() {
    let err = world_of("clusters: [", Path::new("broken.yaml")).unwrap_err();
    assert!(
        err.to_string().contains("broken.yaml: /: not valid YAML"),
        "{err}"
    );
}

#[test]
fn node_role_section_is_checked() {
    let node = |extra: &str| {
        format!(
            "roles:\n  - name: eks-node\n    trust_policy: {{Version: \"2012-10-17\", Statement: [{{Effect: Allow, Principal: {{Service: ec2.amazonaws.com}}, Action: \"sts:AssumeRole\"}}]}}\nnode_role: {{role: eks-node{extra}}}\n"
        )
    };
    let file = parse(&node(", hop_limit: 1"), Path::new("w.yaml"), &read).unwrap();
    assert_eq!(
        file.node_role,
        Some(NodeRole {
            role: "eks-node".into(),
            instance_id: DEFAULT_INSTANCE_ID.into(),
            hop_limit: 1,
            tokens_required: true,
        })
    );
    let missing = parse("node_role: {role: nope}\n", Path::new("w.yaml"), &read).unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("/node_role/role: no role `nope`"),
        "{missing}"
    );
    let bad = parse(&node(", http_tokens: maybe"), Path::new("w.yaml"), &read).unwrap_err();
    assert!(bad.to_string().contains("/node_role/http_tokens"), "{bad}");
    let unknown = parse(&node(", hops: 2"), Path::new("w.yaml"), &read).unwrap_err();
    assert!(
        unknown
            .to_string()
            .contains("/node_role/hops: unknown field"),
        "{unknown}"
    );
    assert_eq!(
        parse("roles: []\n", Path::new("w.yaml"), &read)
            .unwrap()
            .node_role,
        None
    );
}

#[test]
fn world_files_are_told_from_scenarios() {
    assert!(is_world_file("account: \"111122223333\"\nroles: []\n"));
    assert!(is_world_file(include_str!("../../worlds/curity.yaml")));
    assert!(!is_world_file("name: s\nworld: w.yaml\nsteps: []\n"));
    // A scenario with a typo is still a scenario: its problems are reported.
    assert!(!is_world_file("name: s\nwrld: w.yaml\nsteps: []\n"));
    assert!(!is_world_file("roles: []\nsteps: []\n"));
    assert!(!is_world_file(""));
    assert!(!is_world_file("clusters: ["));
}
