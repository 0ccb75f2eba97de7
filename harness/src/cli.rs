//! The `irsa` commands that are more than a call into the library: their `clap` argument types
//! and `run_*` entry points. No module outside this folder (and `main.rs`) depends on `clap`.

pub mod control;
pub mod curity_sim;
pub mod doctor;
pub mod inject;
pub mod simulate;
pub mod webhook;
pub mod webhook_config;
