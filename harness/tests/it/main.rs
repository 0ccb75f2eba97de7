//! The crate's one integration-test binary: each module is a former test file, linked once
//! instead of once per file (issue 12).

mod cli;
mod common;
mod control_cli;
mod curity_sim;
mod docker_files;
mod doctor;
mod imds;
mod inject;
mod library;
mod profile;
mod simulate;
mod tutorial;
mod user_policies;
mod webhook_tls;
