//! The gateway's operation list is botocore's: every operation of the DynamoDB and DynamoDB
//! Streams models in the pinned botocore (the venv the tests install) is in
//! `gateway/tests/data/dynamodb-operations.txt`, which the gateway's classifier test requires to
//! classify, and nothing else is. A botocore bump that adds an operation fails here until the
//! list (and so the classifier) is updated.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

const LIST_MODEL: &str = r#"
import botocore.session
s = botocore.session.get_session()
for service, prefix in (("dynamodb", "DynamoDB_20120810"), ("dynamodbstreams", "DynamoDBStreams_20120810")):
    for op in s.get_service_model(service).operation_names:
        print(prefix + "." + op)
"#;

#[test]
fn the_classified_operation_list_is_exactly_botocores() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tools = runtime
        .block_on(irsa_harness::backend::python::ensure_python_tools())
        .expect("a venv with botocore from PyPI");
    let out = Command::new(&tools.python)
        .args(["-c", LIST_MODEL])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let from_model: BTreeSet<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let list_path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../gateway/tests/data/dynamodb-operations.txt");
    let listed: BTreeSet<String> = std::fs::read_to_string(&list_path)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let missing: Vec<_> = from_model.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&from_model).collect();
    assert!(
        missing.is_empty(),
        "operations in botocore's model the gateway does not list: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "operations listed that botocore's model does not have: {extra:?}"
    );
    assert!(from_model.len() > 60, "{from_model:?}");
}
