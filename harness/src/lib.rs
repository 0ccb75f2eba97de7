#![doc = include_str!("../README.md")]

pub mod audit;
pub mod cache;
pub mod client;
pub mod clock;
pub mod control;
pub mod dynamodb_local;
pub mod edge;
pub mod kube_api;
pub mod python;
pub mod run;
pub mod simulate;
pub mod stack;
pub mod world_file;
