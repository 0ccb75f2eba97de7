//! The IAM operations against a world: results, world changes and IAM's error codes.

use irsa_core::token::{IssuerTls, JwksSource};
use irsa_core::world::World;

use super::*;

fn world() -> World {
    World::empty("111122223333".into(), "eu-west-1".into())
}

fn form(pairs: &[(&str, &str)]) -> Query {
    Query::parse(serde_urlencoded::to_string(pairs).unwrap().as_bytes())
}

fn run(w: &mut World, pairs: &[(&str, &str)]) -> Result<Option<Xml>, IamError> {
    let q = form(pairs);
    let operation: IamOperation = q.get("Action").unwrap().parse()?;
    authorization(w, operation, &q)?;
    execute(
        w,
        operation,
        &q,
        1_800_000_000,
        &irsa_core::token::NoIssuers,
    )
}

const ISSUER: &str = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC";
const PROVIDER_ARN: &str =
    "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC";
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#;
const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:*:table/curity-*"}]}"#;

#[test]
fn a_provider_is_created_once_with_its_thumbprints_and_client_ids() {
    let mut w = world();
    let out = run(
        &mut w,
        &[
            ("Action", "CreateOpenIDConnectProvider"),
            ("Url", ISSUER),
            ("ClientIDList.member.1", "sts.amazonaws.com"),
            (
                "ThumbprintList.member.1",
                "9E99A48A9960B14926BB7F3B02E22DA2B0AB7280",
            ),
        ],
    )
    .unwrap();
    assert_eq!(
        out,
        Some(Xml::Node(
            "CreateOpenIDConnectProviderResult",
            vec![leaf("OpenIDConnectProviderArn", PROVIDER_ARN)]
        ))
    );
    assert_eq!(
        w.oidc_providers[0].thumbprints,
        vec!["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]
    );
    assert!(w.provider_for_issuer(ISSUER).is_some());
    let again = run(
        &mut w,
        &[("Action", "CreateOpenIDConnectProvider"), ("Url", ISSUER)],
    )
    .unwrap_err();
    assert_eq!(
        (again.code(), again.status().as_u16()),
        ("EntityAlreadyExists", 409)
    );
    assert_eq!(
        again.to_string(),
        format!("Provider with url {ISSUER} already exists.")
    );
}

#[test]
fn an_omitted_thumbprint_is_retrieved_from_a_private_ca_issuer_only() {
    struct PrivateIssuer;
    impl JwksSource for PrivateIssuer {
        fn jwks(&self, _: &str) -> Option<Vec<irsa_core::token::RsaJwk>> {
            None
        }
        fn tls(&self, issuer: &str) -> Option<IssuerTls> {
            (issuer == "https://oidc.private.example/c1").then(|| IssuerTls::PrivateCa {
                thumbprint: "00112233445566778899aabbccddeeff00112233".into(),
            })
        }
    }
    let create = |w: &mut World, url: &str, extra: &[(&str, &str)]| {
        let mut pairs = vec![("Action", "CreateOpenIDConnectProvider"), ("Url", url)];
        pairs.extend_from_slice(extra);
        let q = form(&pairs);
        execute(
            w,
            IamOperation::CreateOpenIDConnectProvider,
            &q,
            1,
            &PrivateIssuer,
        )
        .unwrap();
    };
    let mut w = world();
    create(&mut w, "https://oidc.private.example/c1", &[]);
    assert_eq!(
        w.oidc_providers[0].thumbprints,
        vec!["00112233445566778899aabbccddeeff00112233"]
    );
    // Given thumbprints are kept as given, even when they do not match.
    let mut w = world();
    create(
        &mut w,
        "https://oidc.private.example/c1",
        &[(
            "ThumbprintList.member.1",
            "ffffffffffffffffffffffffffffffffffffffff",
        )],
    );
    assert_eq!(
        w.oidc_providers[0].thumbprints,
        vec!["ffffffffffffffffffffffffffffffffffffffff"]
    );
    // A public-CA issuer: AWS would store its CA's thumbprint, which the harness lacks.
    let mut w = world();
    create(&mut w, ISSUER, &[]);
    assert!(w.oidc_providers[0].thumbprints.is_empty());
}

#[test]
fn a_missing_provider_is_no_such_entity() {
    let e = run(
        &mut world(),
        &[
            ("Action", "GetOpenIDConnectProvider"),
            ("OpenIDConnectProviderArn", PROVIDER_ARN),
        ],
    )
    .unwrap_err();
    assert_eq!((e.code(), e.status().as_u16()), ("NoSuchEntity", 404));
}

#[test]
fn a_role_is_created_attached_and_cannot_be_deleted_while_attached() {
    let mut w = world();
    run(
        &mut w,
        &[
            ("Action", "CreatePolicy"),
            ("PolicyName", "dynamo-iam-policy"),
            ("PolicyDocument", POLICY),
        ],
    )
    .unwrap();
    run(
        &mut w,
        &[
            ("Action", "CreateRole"),
            ("RoleName", "curity-dynamodb"),
            ("AssumeRolePolicyDocument", TRUST),
        ],
    )
    .unwrap();
    run(
        &mut w,
        &[
            ("Action", "AttachRolePolicy"),
            ("RoleName", "curity-dynamodb"),
            (
                "PolicyArn",
                "arn:aws:iam::111122223333:policy/dynamo-iam-policy",
            ),
        ],
    )
    .unwrap();
    let role = &w.roles["curity-dynamodb"];
    assert_eq!(role.policies.len(), 1);
    assert_eq!(
        role.managed_policy_arns["dynamo-iam-policy"],
        "arn:aws:iam::111122223333:policy/dynamo-iam-policy"
    );
    let e = run(
        &mut w,
        &[("Action", "DeleteRole"), ("RoleName", "curity-dynamodb")],
    )
    .unwrap_err();
    assert_eq!((e.code(), e.status().as_u16()), ("DeleteConflict", 409));
    run(
        &mut w,
        &[
            ("Action", "DetachRolePolicy"),
            ("RoleName", "curity-dynamodb"),
            (
                "PolicyArn",
                "arn:aws:iam::111122223333:policy/dynamo-iam-policy",
            ),
        ],
    )
    .unwrap();
    assert!(w.roles["curity-dynamodb"].policies.is_empty());
    run(
        &mut w,
        &[("Action", "DeleteRole"), ("RoleName", "curity-dynamodb")],
    )
    .unwrap();
    let e = run(
        &mut w,
        &[("Action", "GetRole"), ("RoleName", "curity-dynamodb")],
    )
    .unwrap_err();
    assert_eq!(
        (e.code(), e.status().as_u16(), e.to_string().as_str()),
        (
            "NoSuchEntity",
            404,
            "The role with name curity-dynamodb cannot be found."
        )
    );
}

#[test]
fn inline_policies_are_kept_verbatim_and_returned_url_encoded() {
    let mut w = world();
    run(
        &mut w,
        &[
            ("Action", "CreateRole"),
            ("RoleName", "r"),
            ("AssumeRolePolicyDocument", TRUST),
        ],
    )
    .unwrap();
    run(
        &mut w,
        &[
            ("Action", "PutRolePolicy"),
            ("RoleName", "r"),
            ("PolicyName", "inline"),
            ("PolicyDocument", POLICY),
        ],
    )
    .unwrap();
    assert_eq!(w.roles["r"].policies.len(), 1);
    let out = run(
        &mut w,
        &[
            ("Action", "GetRolePolicy"),
            ("RoleName", "r"),
            ("PolicyName", "inline"),
        ],
    )
    .unwrap()
    .unwrap();
    let Xml::Node(_, children) = out else {
        panic!()
    };
    assert_eq!(children[0], leaf("PolicyDocument", url_encode(POLICY)));
    assert!(url_encode(POLICY).starts_with("%7B%22Version%22%3A%222012-10-17%22"));
}

#[test]
fn malformed_and_invalid_inputs_get_iams_codes() {
    let mut w = world();
    let e = run(
        &mut w,
        &[
            ("Action", "CreateRole"),
            ("RoleName", "r"),
            ("AssumeRolePolicyDocument", "{not json"),
        ],
    )
    .unwrap_err();
    assert_eq!(
        (e.code(), e.status().as_u16(), e.to_string().as_str()),
        (
            "MalformedPolicyDocument",
            400,
            "This policy contains invalid Json"
        )
    );
    let e = run(
        &mut w,
        &[
            ("Action", "CreatePolicy"),
            ("PolicyName", "p"),
            ("PolicyDocument", TRUST),
        ],
    )
    .unwrap_err();
    assert_eq!(
        (e.code(), e.to_string().as_str()),
        (
            "MalformedPolicyDocument",
            "Policy document should not specify a principal."
        )
    );
    let e = run(
        &mut w,
        &[
            ("Action", "CreateRole"),
            ("RoleName", "r"),
            ("AssumeRolePolicyDocument", POLICY),
        ],
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "Has prohibited field Resource");
    let e = run(
        &mut w,
        &[("Action", "CreateRole"), ("RoleName", "bad:name")],
    )
    .unwrap_err();
    assert_eq!(e.code(), "ValidationError");
    assert_eq!(
        e.to_string(),
        "2 validation errors detected: Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null; Value 'bad:name' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"
    );
    let e = run(
        &mut w,
        &[
            ("Action", "CreateOpenIDConnectProvider"),
            ("Url", ISSUER),
            ("ThumbprintList.member.1", "zz"),
        ],
    )
    .unwrap_err();
    assert_eq!(e.code(), "ValidationError");
    let e = run(&mut w, &[("Action", "CreateUser")]).unwrap_err();
    assert_eq!(e.code(), "InvalidAction");
}

#[test]
fn update_role_changes_the_maximum_session_duration_within_bounds() {
    let mut w = world();
    run(
        &mut w,
        &[
            ("Action", "CreateRole"),
            ("RoleName", "r"),
            ("AssumeRolePolicyDocument", TRUST),
        ],
    )
    .unwrap();
    run(
        &mut w,
        &[
            ("Action", "UpdateRole"),
            ("RoleName", "r"),
            ("MaxSessionDuration", "7200"),
        ],
    )
    .unwrap();
    assert_eq!(w.roles["r"].max_session_duration, 7200);
    let e = run(
        &mut w,
        &[
            ("Action", "UpdateRole"),
            ("RoleName", "r"),
            ("MaxSessionDuration", "60"),
        ],
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "1 validation error detected: Value '60' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600"
    );
}

#[test]
fn authorization_names_the_resource_iam_documents() {
    let w = world();
    let q = form(&[
        ("Action", "CreateRole"),
        ("RoleName", "r"),
        ("Path", "/team/"),
        ("AssumeRolePolicyDocument", TRUST),
    ]);
    let a = authorization(&w, IamOperation::CreateRole, &q).unwrap();
    assert_eq!(a.action, "iam:CreateRole");
    assert_eq!(a.resource, "arn:aws:iam::111122223333:role/team/r");
    let q = form(&[("Action", "ListOpenIDConnectProviders")]);
    assert_eq!(
        authorization(&w, IamOperation::ListOpenIDConnectProviders, &q)
            .unwrap()
            .resource,
        "*"
    );
}
