//! A small wire client for the scenario runner: STS over the Query protocol and DynamoDB over
//! JSON 1.0, SigV4-signed, sent over real HTTP (or HTTPS, trusting only the state dir's local
//! CA) to the edge port. The end-to-end tests use the real AWS SDKs instead; this exists so
//! scenario files can call any operation by name.

use bytes::Bytes;
use http::{Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sigv4_verify::SecretKey;

#[derive(Debug, Clone)]
pub struct WireClient {
    endpoint: Uri,
    host: String,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// Temporary credentials from STS.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: irsa_core::SecretAccessKey,
    /// `None` for an IAM user's static keys.
    pub session_token: Option<irsa_core::SessionToken>,
    /// The assumed-role ARN, or the user's ARN.
    pub assumed_role_arn: String,
}

/// An AWS error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// `x-amzn-RequestId` of the answer, to find its audit record.
    pub request_id: Option<String>,
}

impl WireClient {
    /// A client of `endpoint`: `http://…`, or `https://…` trusting only `ca` (the state dir's
    /// local CA; a client given none refuses every certificate).
    pub fn new(
        endpoint: &str,
        ca: Option<&rustls::pki_types::CertificateDer<'static>>,
    ) -> anyhow::Result<Self> {
        let uri: Uri = endpoint.parse()?;
        let host = uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .ok_or_else(|| anyhow::anyhow!("endpoint `{endpoint}` has no host"))?;
        let mut roots = rustls::RootCertStore::empty();
        if let Some(ca) = ca {
            roots.add(ca.clone())?;
        }
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            endpoint: uri,
            host,
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    async fn post(
        &self,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> anyhow::Result<(u16, Option<String>, Vec<u8>)> {
        let mut builder = Request::post(self.endpoint.clone());
        for (k, v) in headers {
            builder = builder.header(k, v);
        }
        let response = self
            .client
            .request(builder.body(Full::new(Bytes::from(body)))?)
            .await?;
        let status = response.status().as_u16();
        let request_id = response
            .headers()
            .get("x-amzn-requestid")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.into_body().collect().await?.to_bytes().to_vec();
        let request_id =
            request_id.or_else(|| xml_text(&String::from_utf8_lossy(&body), "RequestId"));
        Ok((status, request_id, body))
    }

    /// `AssumeRoleWithWebIdentity`, unsigned, as every SDK sends it.
    pub async fn assume_role_with_web_identity(
        &self,
        role_arn: &str,
        session_name: &str,
        token: &str,
    ) -> anyhow::Result<Result<Credentials, AwsError>> {
        self.assume_role_with_web_identity_form(&[
            ("RoleArn", role_arn),
            ("RoleSessionName", session_name),
            ("WebIdentityToken", token),
        ])
        .await
    }

    /// `AssumeRoleWithWebIdentity` with these parameters (besides `Action` and `Version`).
    pub async fn assume_role_with_web_identity_form(
        &self,
        parameters: &[(&str, &str)],
    ) -> anyhow::Result<Result<Credentials, AwsError>> {
        let mut form = vec![
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
        ];
        form.extend_from_slice(parameters);
        let form = serde_urlencoded::to_string(form)?;
        let (status, request_id, body) = self
            .post(
                vec![(
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into(),
                )],
                form.into_bytes(),
            )
            .await?;
        let text = String::from_utf8_lossy(&body);
        if status != 200 {
            return Ok(Err(xml_error(status, &text, request_id)));
        }
        let field = |name: &str| {
            xml_text(&text, name).ok_or_else(|| anyhow::anyhow!("STS answer lacks `{name}`"))
        };
        Ok(Ok(Credentials {
            access_key_id: field("AccessKeyId")?,
            secret_access_key: irsa_core::SecretAccessKey::new(field("SecretAccessKey")?),
            session_token: Some(irsa_core::SessionToken::new(field("SessionToken")?)),
            assumed_role_arn: field("Arn")?,
        }))
    }

    /// An STS call (GetCallerIdentity), signed unless `credentials` is `None`.
    pub async fn sts_signed(
        &self,
        credentials: Option<&Credentials>,
        region: &str,
        action: &str,
        now: time::OffsetDateTime,
    ) -> anyhow::Result<Result<String, AwsError>> {
        let body = format!("Action={action}&Version=2011-06-15");
        let base = [
            ("host", self.host.as_str()),
            ("content-type", "application/x-www-form-urlencoded"),
        ];
        let headers = match credentials {
            Some(c) => self.signed_headers(&base, body.as_bytes(), c, region, "sts", now),
            None => unsigned(&base),
        };
        let (status, request_id, answer) = self.post(headers, body.into_bytes()).await?;
        let text = String::from_utf8_lossy(&answer).into_owned();
        Ok(if status == 200 {
            Ok(text)
        } else {
            Err(xml_error(status, &text, request_id))
        })
    }

    fn signed_headers(
        &self,
        base: &[(&str, &str)],
        body: &[u8],
        credentials: &Credentials,
        region: &str,
        service: &str,
        now: time::OffsetDateTime,
    ) -> Vec<(String, String)> {
        let signed = sigv4_verify::sign_request(
            "POST",
            "/",
            "",
            base,
            body,
            &credentials.access_key_id,
            &SecretKey::new(credentials.secret_access_key.expose().to_owned()),
            credentials.session_token.as_ref().map(|t| t.expose()),
            region,
            service,
            now,
        );
        base.iter()
            .filter(|(k, _)| *k != "host")
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .chain(signed)
            .collect()
    }

    /// A DynamoDB call by operation name with its JSON request, signed unless `credentials` is
    /// `None`.
    pub async fn dynamodb(
        &self,
        credentials: Option<&Credentials>,
        region: &str,
        operation: &str,
        request: &serde_json::Value,
        now: time::OffsetDateTime,
    ) -> anyhow::Result<Result<serde_json::Value, AwsError>> {
        let body = serde_json::to_vec(request)?;
        let target = format!("DynamoDB_20120810.{operation}");
        let base = [
            ("host", self.host.as_str()),
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", target.as_str()),
        ];
        let headers = match credentials {
            Some(c) => self.signed_headers(&base, &body, c, region, "dynamodb", now),
            None => unsigned(&base),
        };
        let (status, request_id, answer) = self.post(headers, body).await?;
        let json: serde_json::Value =
            serde_json::from_slice(&answer).unwrap_or(serde_json::Value::Null);
        if status == 200 {
            return Ok(Ok(json));
        }
        let code = json
            .get("__type")
            .and_then(|t| t.as_str())
            .map(|t| t.rsplit_once('#').map_or(t, |(_, c)| c).to_owned())
            .unwrap_or_else(|| format!("HTTP{status}"));
        let message = json
            .get("Message")
            .or_else(|| json.get("message"))
            .and_then(|m| m.as_str())
            .unwrap_or_default()
            .to_owned();
        Ok(Err(AwsError {
            status,
            code,
            message,
            request_id,
        }))
    }
}

/// The node role's credentials from instance metadata, as SDKs get them: IMDSv2 token
/// (`PUT /latest/api/token`), role name, then the role's credentials document.
pub async fn imds_credentials(endpoint: &str) -> anyhow::Result<Credentials> {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let base = endpoint.trim_end_matches('/');
    let call = |method: http::Method, path: &str, header: (&str, String)| {
        Request::builder()
            .method(method)
            .uri(format!("{base}{path}"))
            .header(header.0, header.1)
            .body(Full::new(Bytes::new()))
    };
    let read = |response: hyper::Response<hyper::body::Incoming>| async move {
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        let text = String::from_utf8_lossy(&body).into_owned();
        if !status.is_success() {
            anyhow::bail!("instance metadata answered {status}: {text}");
        }
        Ok::<String, anyhow::Error>(text)
    };
    let token = read(
        client
            .request(call(
                http::Method::PUT,
                "/latest/api/token",
                ("x-aws-ec2-metadata-token-ttl-seconds", "21600".into()),
            )?)
            .await?,
    )
    .await?;
    let path = "/latest/meta-data/iam/security-credentials/";
    let roles = read(
        client
            .request(call(
                http::Method::GET,
                path,
                ("x-aws-ec2-metadata-token", token.clone()),
            )?)
            .await?,
    )
    .await?;
    let role = roles
        .lines()
        .next()
        .ok_or_else(|| anyhow::anyhow!("instance metadata lists no role"))?;
    let document = read(
        client
            .request(call(
                http::Method::GET,
                &format!("{path}{role}"),
                ("x-aws-ec2-metadata-token", token),
            )?)
            .await?,
    )
    .await?;
    let json: serde_json::Value = serde_json::from_str(&document)?;
    let field = |name: &str| {
        json.get(name)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("instance metadata credentials lack `{name}`"))
    };
    Ok(Credentials {
        access_key_id: field("AccessKeyId")?,
        secret_access_key: irsa_core::SecretAccessKey::new(field("SecretAccessKey")?),
        session_token: Some(irsa_core::SessionToken::new(field("Token")?)),
        assumed_role_arn: format!("instance profile role {role}"),
    })
}

/// The headers of an unsigned request (`host` is set by the connection).
fn unsigned(base: &[(&str, &str)]) -> Vec<(String, String)> {
    base.iter()
        .filter(|(k, _)| *k != "host")
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn xml_error(status: u16, text: &str, request_id: Option<String>) -> AwsError {
    AwsError {
        status,
        code: xml_text(text, "Code").unwrap_or_else(|| format!("HTTP{status}")),
        message: xml_text(text, "Message").unwrap_or_default(),
        request_id,
    }
}

/// The text of the first `<name>…</name>` element, unescaped.
pub fn xml_text(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let len = xml.get(start..)?.find(&close)?;
    let raw = xml.get(start..start + len)?;
    Some(
        raw.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}
