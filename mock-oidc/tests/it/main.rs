//! The crate's one integration-test binary: each module is a former test file, linked once
//! instead of once per file (issue 12).

mod https;
