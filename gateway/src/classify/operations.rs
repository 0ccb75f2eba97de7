//! The operation names the gateway knows: every operation of botocore's DynamoDB and DynamoDB
//! Streams 2012-08-10 models (one list, in `irsa_core::dynamodb_operations`). A target naming
//! anything else is `UnknownOperation`.

pub(super) use irsa_core::dynamodb_operations::{DYNAMODB_OPERATIONS, STREAMS_OPERATIONS};
