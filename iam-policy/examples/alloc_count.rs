//! Heap allocations per decision for the benchmark's policies. Unlike timings this number is
//! deterministic, so it shows what a change did even on a loaded machine:
//! `cargo run -p iam-policy --example alloc_count --release`.

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

#[path = "../benches/common/policies.rs"]
mod policies;

use iam_policy::{PolicySet, evaluate};

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let request = policies::request();
    let seed = [policies::seed()];
    let fifty = [policies::fifty_statements()];
    for (name, policies) in [("seed policy", &seed), ("50 statements", &fifty)] {
        let set = PolicySet::identity(policies);
        // One decision first, so that what a process allocates once (a shared empty list)
        // is not counted as a cost of every decision.
        drop(evaluate(&set, &request));
        let before = dhat::HeapStats::get();
        let evaluation = evaluate(&set, &request);
        let after = dhat::HeapStats::get();
        assert!(evaluation.is_allowed());
        println!(
            "{name}: {} allocations, {} bytes per decision",
            after.total_blocks - before.total_blocks,
            after.total_bytes - before.total_bytes
        );
    }
}
