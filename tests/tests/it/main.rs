//! The crate's one integration-test binary: each module is a former test file, linked once
//! instead of once per file (issue 12). `no_secrets_in_logs` stays a binary of its own
//! (`tests/no_secrets_in_logs.rs`): it installs the process-wide log subscriber and reads every
//! session the logs name as one of its own stack's.

mod boto3_workload;
mod botocore_model;
mod clock_and_keys;
mod clusters;
mod e2e;
mod https_proxy;
mod interop;
mod leading_keys;
mod private_ca;
mod resource_policies;
mod session_policies;
mod sts_errors;
mod test_layout;
mod token_refresh;
mod token_request;
