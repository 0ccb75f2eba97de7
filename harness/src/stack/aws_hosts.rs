//! Which AWS host names the harness answers for behind its HTTPS proxy, and what it says about
//! the others. Pure: a `CONNECT` authority in, an [`AwsEndpoint`] or a [`Refusal`] out; and the
//! check AWS makes between a host and a request's SigV4 credential scope.
//!
//! Host shapes (AWS General Reference, "Service endpoints and quotas"; the SDKs' endpoint rule
//! sets): `sts.amazonaws.com` (global, signed for `us-east-1`), `sts.<region>.amazonaws.com`,
//! `dynamodb.<region>.amazonaws.com`, `<account>.ddb.<region>.amazonaws.com` (DynamoDB's
//! account-based endpoints), `streams.dynamodb.<region>.amazonaws.com`, `iam.amazonaws.com`
//! (global, `us-east-1`), `eks.<region>.amazonaws.com`; the same under the dual-stack suffix
//! `api.aws` and the China partition's `amazonaws.com.cn`.

use std::fmt;

/// The partitions' DNS suffixes the proxy recognises as AWS.
pub const AWS_SUFFIXES: &[&str] = &["amazonaws.com.cn", "amazonaws.com", "api.aws"];

/// The only port the proxy tunnels to: the AWS endpoints' HTTPS port.
pub const HTTPS_PORT: u16 = 443;

/// An emulated AWS service, as reached by host name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Sts,
    DynamoDb,
    DynamoDbStreams,
    Iam,
    Eks,
    /// A cluster's OIDC issuer: discovery document and JWKS, unsigned.
    Issuer,
}

impl Service {
    /// The service name of the SigV4 credential scope AWS expects at this host (DynamoDB
    /// Streams is signed as `dynamodb`); `None` for the unsigned issuers.
    pub fn signing_name(self) -> Option<&'static str> {
        match self {
            Service::Sts => Some("sts"),
            Service::DynamoDb | Service::DynamoDbStreams => Some("dynamodb"),
            Service::Iam => Some("iam"),
            Service::Eks => Some("eks"),
            Service::Issuer => None,
        }
    }
}

/// A host the proxy terminates TLS for, with what answers there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsEndpoint {
    pub host: String,
    pub service: Service,
    /// The region a signature for this host must be scoped to (`us-east-1` for the global
    /// endpoints); `None` for an issuer.
    pub signing_region: Option<String>,
}

/// Why a `CONNECT` is refused. Nothing refused is ever forwarded anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not `host:port`.
    Malformed { authority: String },
    /// A port other than 443.
    Port { host: String, port: u16 },
    /// Not an AWS host name (nor a cluster issuer of the world).
    NotAws { host: String },
    /// An AWS host of a service the harness does not emulate.
    NotEmulated { host: String },
}

/// What the harness answers for, named in every refusal.
pub const EMULATED: &str = "STS (sts.amazonaws.com, sts.<region>.amazonaws.com), DynamoDB \
(dynamodb.<region>.amazonaws.com, <account>.ddb.<region>.amazonaws.com, \
streams.dynamodb.<region>.amazonaws.com), IAM (iam.amazonaws.com), EKS \
(eks.<region>.amazonaws.com), the same under api.aws and amazonaws.com.cn, and the world's \
cluster issuers, on port 443";

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("irsa-harness proxy: refused ")?;
        match self {
            Refusal::Malformed { authority } => {
                write!(f, "CONNECT `{authority}`: not host:port")?;
            }
            Refusal::Port { host, port } => write!(f, "CONNECT to `{host}:{port}`: only port 443")?,
            Refusal::NotAws { host } => write!(f, "CONNECT to `{host}`: not an AWS host")?,
            Refusal::NotEmulated { host } => {
                write!(
                    f,
                    "CONNECT to `{host}`: an AWS service the harness does not emulate"
                )?;
            }
        }
        writeln!(
            f,
            ". Nothing is forwarded to the internet. The harness answers for {EMULATED}."
        )
    }
}

/// `host:port` of a `CONNECT` request line (`[v6]:port` included).
pub fn parse_authority(authority: &str) -> Result<(String, u16), Refusal> {
    let malformed = || Refusal::Malformed {
        authority: authority.to_owned(),
    };
    let (host, port) = authority.rsplit_once(':').ok_or_else(malformed)?;
    let port: u16 = port.parse().map_err(|_| malformed())?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(malformed());
    }
    Ok((host.to_ascii_lowercase(), port))
}

/// Decide a `CONNECT authority`: an emulated AWS endpoint (or one of `issuer_hosts`) on 443.
pub fn classify_connect(authority: &str, issuer_hosts: &[String]) -> Result<AwsEndpoint, Refusal> {
    let (host, port) = parse_authority(authority)?;
    if port != HTTPS_PORT {
        return Err(Refusal::Port { host, port });
    }
    classify_host(&host, issuer_hosts)
}

/// Decide a host name (lower case): what answers there, or why nothing does.
pub fn classify_host(host: &str, issuer_hosts: &[String]) -> Result<AwsEndpoint, Refusal> {
    let endpoint = |service, signing_region: Option<&str>| AwsEndpoint {
        host: host.to_owned(),
        service,
        signing_region: signing_region.map(str::to_owned),
    };
    if issuer_hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return Ok(endpoint(Service::Issuer, None));
    }
    let Some(prefix) = AWS_SUFFIXES
        .iter()
        .find_map(|suffix| host.strip_suffix(suffix)?.strip_suffix('.'))
    else {
        return Err(Refusal::NotAws {
            host: host.to_owned(),
        });
    };
    let labels: Vec<&str> = prefix.split('.').collect();
    let found = match labels.as_slice() {
        ["sts"] => Some((Service::Sts, "us-east-1")),
        ["iam"] => Some((Service::Iam, "us-east-1")),
        ["sts", region] if is_region(region) => Some((Service::Sts, *region)),
        ["dynamodb", region] if is_region(region) => Some((Service::DynamoDb, *region)),
        [account, "ddb", region] if is_account(account) && is_region(region) => {
            Some((Service::DynamoDb, *region))
        }
        ["streams", "dynamodb", region] if is_region(region) => {
            Some((Service::DynamoDbStreams, *region))
        }
        ["eks", region] if is_region(region) => Some((Service::Eks, *region)),
        _ => None,
    };
    found
        .map(|(service, region)| endpoint(service, Some(region)))
        .ok_or_else(|| Refusal::NotEmulated {
            host: host.to_owned(),
        })
}

/// `us-east-1`, `eu-west-1`, `cn-north-1`, `us-gov-west-1`, `ap-southeast-5`: letters and
/// hyphens, then a hyphen and a number.
fn is_region(label: &str) -> bool {
    let Some((name, number)) = label.rsplit_once('-') else {
        return false;
    };
    !name.is_empty()
        && name.contains('-')
        && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

fn is_account(label: &str) -> bool {
    label.len() == 12 && label.bytes().all(|b| b.is_ascii_digit())
}

/// How a signed request's credential scope disagrees with the host it was sent to, as AWS
/// checks before the signature itself. `Display` is AWS's text, from
/// [`sigv4_verify::WrongScope`]: "Credential should be scoped to a valid region, not
/// 'us-east-2'. " (DynamoDB, `InvalidSignatureException`, seen in 3mcloud/falcano#47 and
/// aws/aws-sdk-js#4002; STS and IAM, `SignatureDoesNotMatch`, cognitect-labs/aws-api#27 and
/// JuliaCloud/AWS.jl#565) and "Credential should be scoped to correct service: 'dynamodb'. ".
pub fn scope_disagreement(
    endpoint: &AwsEndpoint,
    scope_region: &str,
    scope_service: &str,
) -> Option<sigv4_verify::WrongScope> {
    let expected_service = endpoint.service.signing_name()?;
    let region = endpoint
        .signing_region
        .as_deref()
        .filter(|expected| *expected != scope_region)
        .map(|_| scope_region.to_owned());
    let service = (scope_service != expected_service).then(|| expected_service.to_owned());
    (region.is_some() || service.is_some()).then_some(sigv4_verify::WrongScope {
        region,
        expected_service: service,
        terminator: None,
        date: None,
    })
}

/// `(region, service)` of a request's `Authorization: AWS4-HMAC-SHA256 Credential=…` scope.
pub fn credential_scope(headers: &http::HeaderMap) -> Option<(&str, &str)> {
    let auth = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let credential = auth.split("Credential=").nth(1)?;
    let scope = credential.split([',', ' ']).next()?;
    let mut parts = scope.split('/');
    let (_akid, _date) = (parts.next()?, parts.next()?);
    Some((parts.next()?, parts.next()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(authority: &str) -> Result<AwsEndpoint, Refusal> {
        classify_connect(authority, &["oidc.eks.eu-west-1.amazonaws.com".to_owned()])
    }

    #[test]
    fn the_emulated_hosts_and_their_signing_regions() {
        let cases = [
            ("sts.amazonaws.com:443", Service::Sts, Some("us-east-1")),
            (
                "sts.eu-west-1.amazonaws.com:443",
                Service::Sts,
                Some("eu-west-1"),
            ),
            (
                "STS.EU-WEST-1.AMAZONAWS.COM:443",
                Service::Sts,
                Some("eu-west-1"),
            ),
            ("sts.eu-west-1.api.aws:443", Service::Sts, Some("eu-west-1")),
            (
                "sts.cn-north-1.amazonaws.com.cn:443",
                Service::Sts,
                Some("cn-north-1"),
            ),
            (
                "dynamodb.eu-west-1.amazonaws.com:443",
                Service::DynamoDb,
                Some("eu-west-1"),
            ),
            (
                "123456789012.ddb.eu-west-1.amazonaws.com:443",
                Service::DynamoDb,
                Some("eu-west-1"),
            ),
            (
                "streams.dynamodb.us-gov-west-1.amazonaws.com:443",
                Service::DynamoDbStreams,
                Some("us-gov-west-1"),
            ),
            ("iam.amazonaws.com:443", Service::Iam, Some("us-east-1")),
            (
                "eks.ap-southeast-2.amazonaws.com:443",
                Service::Eks,
                Some("ap-southeast-2"),
            ),
            (
                "oidc.eks.eu-west-1.amazonaws.com:443",
                Service::Issuer,
                None,
            ),
        ];
        for (authority, service, region) in cases {
            let endpoint = classify(authority).unwrap();
            assert_eq!(endpoint.service, service, "{authority}");
            assert_eq!(endpoint.signing_region.as_deref(), region, "{authority}");
        }
    }

    #[test]
    fn other_hosts_ports_and_services_are_refused_naming_what_is_emulated() {
        assert_eq!(
            classify("example.com:443"),
            Err(Refusal::NotAws {
                host: "example.com".into()
            })
        );
        // A look-alike is not AWS.
        assert!(matches!(
            classify("sts.amazonaws.com.evil.test:443"),
            Err(Refusal::NotAws { .. })
        ));
        assert!(matches!(
            classify("notamazonaws.com:443"),
            Err(Refusal::NotAws { .. })
        ));
        assert_eq!(
            classify("s3.eu-west-1.amazonaws.com:443"),
            Err(Refusal::NotEmulated {
                host: "s3.eu-west-1.amazonaws.com".into()
            })
        );
        assert!(matches!(
            classify("dynamodb.notaregion.amazonaws.com:443"),
            Err(Refusal::NotEmulated { .. })
        ));
        assert!(matches!(
            classify("1234.ddb.eu-west-1.amazonaws.com:443"),
            Err(Refusal::NotEmulated { .. })
        ));
        assert_eq!(
            classify("sts.amazonaws.com:80"),
            Err(Refusal::Port {
                host: "sts.amazonaws.com".into(),
                port: 80
            })
        );
        assert!(matches!(
            classify("sts.amazonaws.com"),
            Err(Refusal::Malformed { .. })
        ));
        assert!(matches!(classify(":443"), Err(Refusal::Malformed { .. })));
        let text = classify("example.com:443").unwrap_err().to_string();
        assert!(
            text.starts_with(
                "irsa-harness proxy: refused CONNECT to `example.com`: not an AWS host."
            ),
            "{text}"
        );
        assert!(
            text.contains("Nothing is forwarded to the internet"),
            "{text}"
        );
        assert!(text.contains("sts.<region>.amazonaws.com"), "{text}");
    }

    #[test]
    fn the_scope_must_name_the_hosts_region_and_service_as_aws_answers() {
        let sts = classify("sts.eu-west-1.amazonaws.com:443").unwrap();
        assert_eq!(scope_disagreement(&sts, "eu-west-1", "sts"), None);
        let wrong = scope_disagreement(&sts, "us-east-2", "sts").unwrap();
        assert_eq!(
            wrong.to_string(),
            "Credential should be scoped to a valid region, not 'us-east-2'."
        );
        let global = classify("sts.amazonaws.com:443").unwrap();
        assert!(scope_disagreement(&global, "ap-southeast-2", "sts").is_some());
        let ddb = classify("dynamodb.eu-west-1.amazonaws.com:443").unwrap();
        let wrong = scope_disagreement(&ddb, "eu-west-1", "sts").unwrap();
        assert_eq!(
            wrong.to_string(),
            "Credential should be scoped to correct service: 'dynamodb'."
        );
        let streams = classify("streams.dynamodb.eu-west-1.amazonaws.com:443").unwrap();
        assert_eq!(scope_disagreement(&streams, "eu-west-1", "dynamodb"), None);
        let issuer = classify("oidc.eks.eu-west-1.amazonaws.com:443").unwrap();
        assert_eq!(scope_disagreement(&issuer, "us-east-2", "sts"), None);
    }

    #[test]
    fn the_credential_scope_is_read_from_the_authorization_header() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(credential_scope(&headers), None);
        headers.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261202/eu-west-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00",
            ),
        );
        assert_eq!(credential_scope(&headers), Some(("eu-west-1", "dynamodb")));
    }
}
