use super::*;
use rcgen::SanType;
use std::net::IpAddr;

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "irsa-local-ca-{name}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_ca_parameters_are_a_function_of_key_time_and_serial() {
    let key = KeyPair::generate().unwrap();
    let a = ca_params(&key, at(1_800_000_000), [0xf7; 16]).unwrap();
    assert_eq!(a, ca_params(&key, at(1_800_000_000), [0xf7; 16]).unwrap());
    assert_eq!(a.not_before, at(1_800_000_000) - BACKDATE);
    assert_eq!(a.not_after, at(1_800_000_000) + CA_VALIDITY);
    let serial = a.serial_number.as_ref().unwrap().to_bytes();
    assert_eq!(
        serial.first().copied(),
        Some(0x77),
        "top bit cleared: positive"
    );
    assert!(matches!(a.is_ca, IsCa::Ca(_)));
    // Another key is another CA name.
    let other = ca_params(&KeyPair::generate().unwrap(), at(1_800_000_000), [0xf7; 16]);
    assert_ne!(a.distinguished_name, other.unwrap().distinguished_name);
}

#[test]
fn a_leaf_names_its_host_and_the_edge_leaf_also_the_loopback_addresses() {
    let leaf = leaf_params("sts.eu-west-1.amazonaws.com", at(1_800_000_000), [1; 16]).unwrap();
    assert_eq!(
        leaf.subject_alt_names,
        vec![SanType::DnsName(
            "sts.eu-west-1.amazonaws.com".try_into().unwrap()
        )]
    );
    assert_eq!(leaf.not_after, at(1_800_000_000) + LEAF_VALIDITY);
    assert_eq!(
        leaf.extended_key_usages,
        vec![ExtendedKeyUsagePurpose::ServerAuth]
    );
    let edge = leaf_params(EDGE_HOST, at(1_800_000_000), [2; 16]).unwrap();
    let sans = &edge.subject_alt_names;
    assert!(sans.contains(&SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST))));
    assert!(sans.contains(&SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST))));
}

#[test]
fn a_leaf_for_names_names_each_as_a_dns_name_or_an_ip_address() {
    let names = [
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "host.docker.internal".to_owned(),
        "fd00::5".to_owned(),
    ];
    let leaf = leaf_params_for_names(&names, at(1_800_000_000), [3; 16]).unwrap();
    assert_eq!(
        leaf.subject_alt_names,
        vec![
            SanType::DnsName("localhost".try_into().unwrap()),
            SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            SanType::DnsName("host.docker.internal".try_into().unwrap()),
            SanType::IpAddress("fd00::5".parse().unwrap()),
        ]
    );
    assert_eq!(
        leaf.extended_key_usages,
        vec![ExtendedKeyUsagePurpose::ServerAuth]
    );
    let (ca, _key) = LocalCa::generate(OffsetDateTime::now_utc()).unwrap();
    let issued = ca.leaf_for_names(&names).unwrap();
    for name in ["localhost", "127.0.0.1", "host.docker.internal", "fd00::5"] {
        verify_chain(ca.certificate_der(), &issued.cert[0], name);
    }
    assert_eq!(ca.leaves_issued(), 0, "not put in the per-host cache");
}

#[test]
fn the_ca_is_kept_across_opens_replaced_on_rotation_and_its_key_is_owner_only() {
    let dir = temp_dir("keep");
    let files = CaFiles::new(&dir);
    let now = OffsetDateTime::now_utc();
    let first = LocalCa::open(&files, false, now).unwrap();
    let again = LocalCa::open(&files, false, now).unwrap();
    assert_eq!(first.fingerprint(), again.fingerprint());
    assert_eq!(
        first.certificate_pem(),
        std::fs::read_to_string(files.certificate()).unwrap()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(files.key()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(files.trust_store().is_file());
    // A CA reloaded from its files signs leaves that chain to the certificate on disk.
    let leaf = again.leaf("dynamodb.eu-west-1.amazonaws.com").unwrap();
    assert_eq!(leaf.cert.len(), 2);
    assert_eq!(&leaf.cert[1], first.certificate_der());
    verify_chain(
        first.certificate_der(),
        &leaf.cert[0],
        "dynamodb.eu-west-1.amazonaws.com",
    );
    let rotated = LocalCa::open(&files, true, now).unwrap();
    assert_ne!(rotated.fingerprint(), first.fingerprint());
    assert_eq!(
        rotated.certificate_pem(),
        std::fs::read_to_string(files.certificate()).unwrap()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn leaves_are_cached_per_host() {
    let (ca, _key) = LocalCa::generate(OffsetDateTime::now_utc()).unwrap();
    let a = ca.leaf("sts.amazonaws.com").unwrap();
    let b = ca.leaf("STS.amazonaws.com").unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    ca.leaf(EDGE_HOST).unwrap();
    assert_eq!(ca.leaves_issued(), 2);
    verify_chain(ca.certificate_der(), &a.cert[0], "sts.amazonaws.com");
}

#[test]
fn debug_shows_the_fingerprint_and_no_key() {
    let (ca, key_pem) = LocalCa::generate(OffsetDateTime::now_utc()).unwrap();
    let shown = format!("{ca:?}");
    assert!(shown.contains(ca.fingerprint()));
    assert!(!shown.contains("PRIVATE KEY"));
    assert!(key_pem.contains("PRIVATE KEY"));
    let body: String = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(!shown.contains(&body[..20]));
}

#[test]
fn the_trust_store_is_pkcs12_holding_the_certificate() {
    let der = b"\x30\x03\x02\x01\x05";
    let p12 = trust_store_p12(der, "a");
    // PFX ::= SEQUENCE { version 3, ... }
    assert_eq!(p12[0], 0x30);
    assert!(p12.windows(3).any(|w| w == [0x02, 0x01, 0x03]));
    assert!(p12.windows(der.len()).any(|w| w == der));
    // friendlyName "a" as a BMPString.
    assert!(p12.windows(4).any(|w| w == [0x1e, 0x02, 0x00, b'a']));
    // Oracle's trusted key usage OID.
    let oracle = [
        0x06, 0x0c, 0x60, 0x86, 0x48, 0x01, 0x86, 0xf9, 0x66, 0xad, 0xca, 0x7b, 0x01, 0x01,
    ];
    assert!(p12.windows(oracle.len()).any(|w| w == oracle));
    assert_eq!(trust_store_p12(der, "a"), p12, "a function of its inputs");
}

/// Verify `leaf` for `host` against `ca` with rustls's WebPKI verifier, as a client would.
fn verify_chain(ca: &CertificateDer<'static>, leaf: &CertificateDer<'static>, host: &str) {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap();
    let name = rustls::pki_types::ServerName::try_from(host.to_owned()).unwrap();
    use rustls::client::danger::ServerCertVerifier as _;
    verifier
        .verify_server_cert(leaf, &[], &name, &[], rustls::pki_types::UnixTime::now())
        .unwrap();
}
