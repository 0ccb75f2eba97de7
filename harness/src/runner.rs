//! Running scenario files against a stack: each step acts as a pod, calls one operation over
//! the wire, and is compared with what the file expects.
//!
//! [`load`] reads and checks the files (nothing runs until every file is sound), [`execute`]
//! starts each world's stack and runs its steps, with [`credentials`] getting each actor's
//! credentials and [`client`] speaking the wire; [`report`] renders the results.

pub mod client;
pub mod credentials;
pub mod execute;
pub mod load;
pub mod report;

pub use execute::run;
pub use load::collect_files;
pub use report::Report;
