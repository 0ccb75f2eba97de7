//! Readiness of a DynamoDB Local endpoint: a `DynamoDB_20120810.ListTables` POST, polled until
//! it answers like DynamoDB (HTTP 200, or 400 with a JSON body, e.g. a gateway that wants a real
//! signature). Bounded by a deadline; never a fixed sleep.
//!
//! This module must not start or stop anything: the caller says, between polls, whether the
//! process it started is still alive.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// How long one probe may take before it counts as unanswered.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// The first and the longest pause between two probes.
const FIRST_PAUSE: Duration = Duration::from_millis(25);
const LONGEST_PAUSE: Duration = Duration::from_millis(250);

/// An access key id that DynamoDB Local accepts (letters and digits only). DynamoDB Local checks
/// no signature; with `-sharedDb` the key picks no separate database either.
const PROBE_ACCESS_KEY_ID: &str = "IRSAHARNESSPROBE";

/// Why an endpoint did not become ready.
#[derive(Debug, thiserror::Error)]
pub enum ReadyError {
    /// The endpoint is not an `http://host:port` URL.
    #[error("`{0}` is not an `http://host[:port]` url")]
    InvalidEndpoint(String),
    /// The deadline passed; `last` says what the last probe saw.
    #[error("no answer like dynamodb's within {}s (last probe: {last})", timeout.as_secs())]
    Timeout {
        /// The deadline that passed.
        timeout: Duration,
        /// What the last probe saw.
        last: ProbeOutcome,
    },
    /// The process serving the endpoint exited before it answered.
    #[error("the process exited before answering")]
    Exited {
        /// The process's last output lines, when known.
        output: String,
    },
}

/// What one probe saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// Connection refused, reset or timed out.
    NoAnswer(String),
    /// An HTTP answer that does not look like DynamoDB's.
    Unexpected {
        /// Its status.
        status: u16,
        /// Its body, cut to 200 characters.
        body: String,
    },
    /// DynamoDB answered.
    Ready {
        /// 200, or 400 with a JSON body.
        status: u16,
        /// The JSON body.
        body: serde_json::Value,
    },
}

impl std::fmt::Display for ProbeOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProbeOutcome::NoAnswer(why) => write!(f, "no answer: {why}"),
            ProbeOutcome::Unexpected { status, body } => write!(f, "http {status}: `{body}`"),
            ProbeOutcome::Ready { status, .. } => write!(f, "http {status} with json"),
        }
    }
}

/// Parses a DynamoDB endpoint: `http://host[:port][/]`.
pub fn parse_endpoint(endpoint: &str) -> Result<Uri, ReadyError> {
    let invalid = || ReadyError::InvalidEndpoint(endpoint.to_owned());
    let uri: Uri = endpoint.parse().map_err(|_| invalid())?;
    let plain_http = uri.scheme_str() == Some("http");
    let no_path = matches!(uri.path(), "" | "/") && uri.query().is_none();
    if plain_http && uri.host().is_some() && no_path {
        Ok(uri)
    } else {
        Err(invalid())
    }
}

/// Classifies an HTTP answer to the `ListTables` probe.
pub fn classify_answer(status: StatusCode, body: &[u8]) -> ProbeOutcome {
    let json = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .filter(serde_json::Value::is_object);
    match (status, json) {
        (StatusCode::OK | StatusCode::BAD_REQUEST, Some(body)) => ProbeOutcome::Ready {
            status: status.as_u16(),
            body,
        },
        _ => ProbeOutcome::Unexpected {
            status: status.as_u16(),
            body: String::from_utf8_lossy(body).chars().take(200).collect(),
        },
    }
}

/// Sends one `ListTables` request (with a syntactically valid but unverifiable SigV4
/// `Authorization` header, which DynamoDB Local accepts) and classifies the answer.
pub async fn probe_list_tables(endpoint: &Uri) -> ProbeOutcome {
    probe_with(&client(), endpoint).await
}

/// Polls `endpoint` until it answers like DynamoDB, `timeout` passes, or `alive` reports that the
/// serving process has exited (it returns that process's last output).
pub async fn wait_ready(
    endpoint: &Uri,
    timeout: Duration,
    mut alive: impl FnMut() -> Result<(), String>,
) -> Result<serde_json::Value, ReadyError> {
    let client = client();
    let deadline = Instant::now() + timeout;
    let mut pause = FIRST_PAUSE;
    loop {
        let outcome = probe_with(&client, endpoint).await;
        if let ProbeOutcome::Ready { body, .. } = outcome {
            return Ok(body);
        }
        alive().map_err(|output| ReadyError::Exited { output })?;
        let now = Instant::now();
        if now >= deadline {
            return Err(ReadyError::Timeout {
                timeout,
                last: outcome,
            });
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

fn client() -> Client<HttpConnector, Full<Bytes>> {
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(PROBE_TIMEOUT));
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(connector)
}

async fn probe_with(client: &Client<HttpConnector, Full<Bytes>>, endpoint: &Uri) -> ProbeOutcome {
    let date = time::OffsetDateTime::now_utc();
    let amz_date = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        date.year(),
        u8::from(date.month()),
        date.day(),
        date.hour(),
        date.minute(),
        date.second()
    );
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={PROBE_ACCESS_KEY_ID}/{}/us-east-1/dynamodb/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={}",
        &amz_date[..8],
        "0".repeat(64)
    );
    let request = Request::builder()
        .method(Method::POST)
        .uri(endpoint.clone())
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", "DynamoDB_20120810.ListTables")
        .header("x-amz-date", amz_date)
        .header("authorization", authorization)
        .body(Full::new(Bytes::from_static(b"{}")));
    let request = match request {
        Ok(r) => r,
        Err(e) => return ProbeOutcome::NoAnswer(e.to_string()),
    };
    let exchange = async {
        let response = client.request(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok::<_, String>(classify_answer(status, &body))
    };
    match tokio::time::timeout(PROBE_TIMEOUT, exchange).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(why)) => ProbeOutcome::NoAnswer(why),
        Err(_) => ProbeOutcome::NoAnswer(format!(
            "no response within {}ms",
            PROBE_TIMEOUT.as_millis()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_http_endpoints_only() {
        for ok in [
            "http://127.0.0.1:8000",
            "http://localhost:8000/",
            "http://ddb",
        ] {
            assert!(parse_endpoint(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://127.0.0.1:8000",
            "127.0.0.1:8000",
            "http://h:1/path",
            "http://h:1/?q=1",
            "",
        ] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn list_tables_200_and_dynamodb_400_count_as_ready() {
        assert!(matches!(
            classify_answer(StatusCode::OK, br#"{"TableNames":[]}"#),
            ProbeOutcome::Ready { status: 200, .. }
        ));
        let missing_auth = br#"{"__type":"com.amazonaws.dynamodb.v20120810#MissingAuthenticationToken","Message":"x"}"#;
        assert!(matches!(
            classify_answer(StatusCode::BAD_REQUEST, missing_auth),
            ProbeOutcome::Ready { status: 400, .. }
        ));
    }

    #[test]
    fn other_answers_are_not_ready() {
        for (status, body) in [
            (StatusCode::BAD_REQUEST, &b"<html>bad</html>"[..]),
            (StatusCode::NOT_FOUND, br#"{"a":1}"#),
            (StatusCode::OK, b"[]"),
            (StatusCode::SERVICE_UNAVAILABLE, b""),
        ] {
            assert!(
                matches!(
                    classify_answer(status, body),
                    ProbeOutcome::Unexpected { .. }
                ),
                "{status}"
            );
        }
    }

    #[tokio::test]
    async fn times_out_against_a_closed_port_without_hanging() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let uri = parse_endpoint(&format!("http://127.0.0.1:{port}")).unwrap();
        let started = Instant::now();
        let r = wait_ready(&uri, Duration::from_millis(300), || Ok(())).await;
        assert!(matches!(
            r,
            Err(ReadyError::Timeout {
                last: ProbeOutcome::NoAnswer(_),
                ..
            })
        ));
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[tokio::test]
    async fn stops_polling_when_the_process_exits() {
        let uri = parse_endpoint("http://127.0.0.1:9").unwrap();
        let r = wait_ready(&uri, Duration::from_secs(30), || Err("boom".into())).await;
        assert!(matches!(r, Err(ReadyError::Exited { output }) if output == "boom"));
    }
}
