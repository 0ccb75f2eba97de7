//! What TLS costs a pod's DynamoDB call: the same GetItem from the Rust SDK over plain HTTP to
//! the edge, over HTTPS to the edge (the local CA trusted), and to
//! `dynamodb.eu-west-1.amazonaws.com` through the edge's HTTPS proxy, measured side by side in
//! interleaved rounds (the machine is shared and noisy: only ratios measured in one run mean
//! anything). Each client keeps its connection alive, so TLS is set up once per client and
//! every later call pays only record encryption, as a long-running workload does.
//!
//!   cargo bench -p irsa-tests --bench transport [-- --rounds N --calls M]
//!
//! Prints each path's p50 and p90 and their ratio to plain HTTP's p50, and the median over the
//! rounds of each round's own ratio (each round measures the paths within a second of each
//! other, so a change in the machine's load between rounds cancels out of it).

use std::time::{Duration, Instant};

use irsa_tests::tls::{http_client, pod_vars};
use irsa_tests::{pod_config_loader, s, world_path};

const POD: (&str, &str) = ("curity", "dynamo-sa");
const TABLE: &str = "curity-accounts";

fn flag(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds = flag(&args, "--rounds", 10);
    let calls = flag(&args, "--calls", 200);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(rounds, calls));
}

async fn run(rounds: usize, calls: usize) {
    let world = irsa_harness::world_file::load(&world_path("../../tests/interop/world.yaml"))
        .expect("the interop world loads")
        .world;
    let stack = irsa_tests::start_world_stack(world, "bench-transport").await;
    let https = stack.https_endpoint();
    let configs = [
        (
            "plain HTTP",
            pod_config_loader(
                stack.state_dir(),
                pod_vars(&stack, POD, Some(stack.endpoint())),
            )
            .load()
            .await,
        ),
        (
            "HTTPS edge",
            pod_config_loader(stack.state_dir(), pod_vars(&stack, POD, Some(&https)))
                .http_client(http_client(&stack, false))
                .load()
                .await,
        ),
        (
            "HTTPS proxy",
            pod_config_loader(stack.state_dir(), pod_vars(&stack, POD, None))
                .http_client(http_client(&stack, true))
                .load()
                .await,
        ),
    ];
    let clients: Vec<(&str, aws_sdk_dynamodb::Client)> = configs
        .iter()
        .map(|(label, config)| (*label, aws_sdk_dynamodb::Client::new(config)))
        .collect();
    clients[0]
        .1
        .put_item()
        .table_name(TABLE)
        .item("pk", s("un#bench"))
        .item("accountId", s("ai#bench"))
        .send()
        .await
        .expect("the pod may write its table");
    // Warm-up: credentials fetched, connections (and TLS sessions) open, caches filled.
    for (label, client) in &clients {
        for _ in 0..50 {
            get_item(client)
                .await
                .unwrap_or_else(|e| panic!("{label}: {e}"));
        }
    }
    let mut latencies: Vec<Vec<Duration>> = vec![Vec::with_capacity(rounds * calls); clients.len()];
    let mut round_ratios: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); clients.len()];
    for round in 0..rounds {
        // Rotate which path goes first, so no path always runs on the freshest caches.
        for k in 0..clients.len() {
            let i = (round + k) % clients.len();
            let (label, client) = &clients[i];
            for _ in 0..calls {
                let start = Instant::now();
                get_item(client)
                    .await
                    .unwrap_or_else(|e| panic!("{label}: {e}"));
                latencies[i].push(start.elapsed());
            }
        }
        let round_p50 = |i: usize| {
            let mut this_round = latencies[i][round * calls..].to_vec();
            this_round.sort();
            percentile(&this_round, 0.5).as_secs_f64()
        };
        let plain = round_p50(0);
        for (i, ratios) in round_ratios.iter_mut().enumerate() {
            ratios.push(round_p50(i) / plain);
        }
    }
    let mut p50_plain = Duration::ZERO;
    println!(
        "GetItem from the Rust SDK, {rounds} interleaved rounds of {calls} calls per path, one keep-alive connection each"
    );
    println!(
        "{:<12} {:>10} {:>10} {:>14} {:>22}",
        "path", "p50", "p90", "p50 / plain", "median round's ratio"
    );
    for (i, (label, _)) in clients.iter().enumerate() {
        let mut sorted = latencies[i].clone();
        sorted.sort();
        let (p50, p90) = (percentile(&sorted, 0.5), percentile(&sorted, 0.9));
        if i == 0 {
            p50_plain = p50;
        }
        let mut ratios = round_ratios[i].clone();
        ratios.sort_by(f64::total_cmp);
        println!(
            "{label:<12} {:>8.3}ms {:>8.3}ms {:>14.3} {:>22.3}",
            p50.as_secs_f64() * 1e3,
            p90.as_secs_f64() * 1e3,
            p50.as_secs_f64() / p50_plain.as_secs_f64(),
            ratios[ratios.len() / 2]
        );
    }
    stack.shutdown().await;
}

async fn get_item(client: &aws_sdk_dynamodb::Client) -> Result<(), String> {
    client
        .get_item()
        .table_name(TABLE)
        .key("pk", s("un#bench"))
        .send()
        .await
        .map(|output| {
            debug_assert!(output.item().is_some());
        })
        .map_err(|e| format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))
}
