//! One decision for the seed's policy (`dynamodb:*` on `table/curity-*`) and one for a
//! 50-statement policy with conditions. Goals (issue 3): under 1 µs and under 20 µs. Results
//! are in the crate README; nothing asserts on timing.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use iam_policy::{PolicySet, evaluate};

#[path = "common/policies.rs"]
mod policies;
use policies::{fifty_statements, request, seed};

fn bench(c: &mut Criterion) {
    let seed = [seed()];
    let request = request();
    let set = PolicySet::identity(&seed);
    assert!(evaluate(&set, &request).is_allowed());
    c.bench_function("evaluate/seed_policy", |b| {
        b.iter(|| evaluate(black_box(&set), black_box(&request)))
    });

    let fifty = [fifty_statements()];
    let set = PolicySet::identity(&fifty);
    assert!(evaluate(&set, &request).is_allowed());
    c.bench_function("evaluate/50_statements_with_conditions", |b| {
        b.iter(|| evaluate(black_box(&set), black_box(&request)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
