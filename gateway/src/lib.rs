#![doc = include_str!("../README.md")]

pub mod classify;
pub mod error;
pub mod forward;
pub mod handler;
