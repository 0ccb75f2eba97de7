//! The classifier takes untrusted bytes (the `X-Amz-Target` header and the JSON body): whatever
//! it is given, it must answer `Ok` or `Err`, never panic. The first line of the input is the
//! target (prefixed with a real one half of the time, so operations are reached), the rest is
//! the body.
#![no_main]

use gateway::body::RequestBody;
use gateway::classify::{Target, classify, leading_keys};
use libfuzzer_sys::fuzz_target;

const OPERATIONS: &[&str] = &[
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "TransactGetItems",
    "ExecuteStatement",
    "BatchExecuteStatement",
    "ExecuteTransaction",
    "CreateTable",
    "DescribeTable",
];

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let target = match head.as_bytes().first() {
        Some(b) if b % 2 == 0 => {
            let op = OPERATIONS[usize::from(*b) % OPERATIONS.len()];
            format!("DynamoDB_20120810.{op}")
        }
        _ => head.into_owned(),
    };
    let body = RequestBody::new(body.to_vec().into());
    let _ = classify(
        &target,
        &body,
        Target {
            region: "eu-west-1",
            account: "111122223333",
        },
    );
    if let (Some(op), Ok(request)) = (target.strip_prefix("DynamoDB_20120810."), body.object()) {
        let _ = leading_keys(op, request, "pk");
    }
});
