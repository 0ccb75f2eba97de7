//! The harness's local certificate authority: one per state dir, the CA a user (or a pod's
//! trust store) trusts once, so SDKs that only ever go to `https://*.amazonaws.com` can meet
//! the harness through its HTTPS proxy, and SDKs given an endpoint can use HTTPS on the edge.
//!
//! Owns: the CA's files under `DIR/ca/` (certificate `ca.pem`, private key `ca-key.pem` written
//! owner-only, a PKCS#12 trust store `truststore.p12` for the JVM), generated once and kept
//! across restarts until `irsa up --rotate-ca`; the leaf certificates it issues per host name on
//! first use and caches in memory; and the rustls certificate resolver that picks a leaf by SNI.
//! The private keys are never logged, printed or put into an error (`Debug` shows the CA's
//! fingerprint only).
//!
//! Pure parts take their inputs: [`ca_params`] and [`leaf_params`] take the key, the time and the
//! serial number (key generation itself draws from aws-lc-rs's generator, which
//! rcgen does not let a caller replace); [`trust_store_p12`] is a function of the certificate.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, anyhow};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PublicKeyData as _, SerialNumber,
};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

/// The CA is valid this long from its creation (a user trusts it once).
const CA_VALIDITY: time::Duration = time::Duration::days(3650);
/// A leaf is valid this long; leaves live in memory only, so a restart issues new ones.
const LEAF_VALIDITY: time::Duration = time::Duration::days(365);
/// Certificates start this far in the past: a client whose clock runs behind (or an SDK under
/// libfaketime, a little back) still accepts them.
const BACKDATE: time::Duration = time::Duration::days(2);
/// The name the HTTPS edge answers to when the client sends no SNI (an IP address).
pub const EDGE_HOST: &str = "localhost";

/// Where a state dir keeps its CA.
#[derive(Debug, Clone)]
pub struct CaFiles {
    dir: PathBuf,
}

impl CaFiles {
    pub fn new(state_dir: &Path) -> Self {
        Self {
            dir: state_dir.join("ca"),
        }
    }

    /// `DIR/ca/ca.pem`: the CA certificate to trust (`AWS_CA_BUNDLE`, `NODE_EXTRA_CA_CERTS`,
    /// `SSL_CERT_FILE`, a Pod's mounted CA).
    pub fn certificate(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// `DIR/ca/ca-key.pem`: the CA's private key, owner-only.
    pub fn key(&self) -> PathBuf {
        self.dir.join("ca-key.pem")
    }

    /// `DIR/ca/truststore.p12`: the CA as a PKCS#12 trust store, for
    /// `-Djavax.net.ssl.trustStore`.
    pub fn trust_store(&self) -> PathBuf {
        self.dir.join("truststore.p12")
    }
}

/// The CA and the leaves it has issued.
pub struct LocalCa {
    issuer: Issuer<'static, KeyPair>,
    certificate: CertificateDer<'static>,
    certificate_pem: String,
    fingerprint: String,
    provider: Arc<CryptoProvider>,
    leaves: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

impl std::fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCa")
            .field("sha256", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// The CA's parameters: fixed words and a label derived from its public key in the subject, so
/// two state dirs' CAs are told apart in a trust store and the issuer is rebuilt exactly from
/// the key on load; valid from `now` (back-dated) for ten years.
pub fn ca_params(
    key: &KeyPair,
    now: OffsetDateTime,
    serial: [u8; 16],
) -> Result<CertificateParams, rcgen::Error> {
    let label = hex::encode(&Sha256::digest(key.der_bytes())[..6]);
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params
        .distinguished_name
        .push(DnType::CommonName, format!("irsa-harness local CA {label}"));
    params
        .distinguished_name
        .push(DnType::OrganizationName, "irsa-harness");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = now - BACKDATE;
    params.not_after = now + CA_VALIDITY;
    params.serial_number = Some(positive_serial(serial));
    Ok(params)
}

/// A server certificate's parameters for `host` (a DNS name; the edge's name also covers
/// `127.0.0.1` and `::1`), valid from `now` (back-dated) for a year.
pub fn leaf_params(
    host: &str,
    now: OffsetDateTime,
    serial: [u8; 16],
) -> Result<CertificateParams, rcgen::Error> {
    let mut names = vec![host.to_owned()];
    if host == EDGE_HOST {
        names.push(Ipv4Addr::LOCALHOST.to_string());
        names.push(Ipv6Addr::LOCALHOST.to_string());
    }
    leaf_params_for_names(&names, now, serial)
}

/// A server certificate's parameters naming every one of `names` (each an IP address if it
/// parses as one, otherwise a DNS name), the first also as its common name; valid from `now`
/// (back-dated) for a year. One certificate for a server reached at several names and
/// addresses, such as the webhook an API server calls.
pub fn leaf_params_for_names(
    names: &[String],
    now: OffsetDateTime,
    serial: [u8; 16],
) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(names.to_vec())?;
    if let Some(first) = names.first() {
        params.distinguished_name.push(DnType::CommonName, first);
    }
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.not_before = now - BACKDATE;
    params.not_after = now + LEAF_VALIDITY;
    params.serial_number = Some(positive_serial(serial));
    Ok(params)
}

/// A serial number from random bytes, its top bit cleared (RFC 5280: a positive integer).
fn positive_serial(mut bytes: [u8; 16]) -> SerialNumber {
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    SerialNumber::from_slice(&bytes)
}

fn random_serial() -> [u8; 16] {
    *uuid::Uuid::new_v4().as_bytes()
}

impl LocalCa {
    /// A new CA (key drawn now), in memory; [`LocalCa::open`] is what keeps one per state dir.
    pub fn generate(now: OffsetDateTime) -> anyhow::Result<(Self, String)> {
        let key = KeyPair::generate().context("generating the local CA's key")?;
        let certificate = ca_params(&key, now, random_serial())
            .and_then(|params| params.self_signed(&key))
            .context("issuing the local CA")?;
        let key_pem = key.serialize_pem();
        Ok((Self::from_parts(key, certificate.pem())?, key_pem))
    }

    /// The CA of `files`: loaded when both its certificate and key exist (and `rotate` is
    /// false), otherwise generated and written (the key owner-only, before any byte of it is
    /// written), with its trust store.
    pub fn open(files: &CaFiles, rotate: bool, now: OffsetDateTime) -> anyhow::Result<Self> {
        let (cert_file, key_file) = (files.certificate(), files.key());
        if !rotate && cert_file.is_file() && key_file.is_file() {
            let cert_pem = std::fs::read_to_string(&cert_file)
                .with_context(|| format!("reading `{}`", cert_file.display()))?;
            let key_pem = std::fs::read_to_string(&key_file)
                .with_context(|| format!("reading the local CA's key `{}`", key_file.display()))?;
            let key = KeyPair::from_pem(&key_pem).map_err(|_| {
                anyhow!(
                    "`{}` is not a private key in PEM (replace the CA with `irsa up --rotate-ca`)",
                    key_file.display()
                )
            })?;
            let ca = Self::from_parts(key, cert_pem)?;
            if !files.trust_store().is_file() {
                ca.write_trust_store(files)?;
            }
            return Ok(ca);
        }
        let (ca, key_pem) = Self::generate(now)?;
        std::fs::create_dir_all(&files.dir)
            .with_context(|| format!("creating `{}`", files.dir.display()))?;
        write_owner_only(&key_file, key_pem.as_bytes())?;
        std::fs::write(&cert_file, &ca.certificate_pem)
            .with_context(|| format!("writing `{}`", cert_file.display()))?;
        ca.write_trust_store(files)?;
        Ok(ca)
    }

    fn from_parts(key: KeyPair, certificate_pem: String) -> anyhow::Result<Self> {
        let certificate = pem_certificate(&certificate_pem)?;
        // The issuer needs the subject, key identifier method and key usages, all rebuilt from
        // the key; the validity and serial of these parameters are not used.
        let params = ca_params(&key, OffsetDateTime::now_utc(), [1; 16])?;
        let fingerprint = hex::encode(Sha256::digest(certificate.as_ref()));
        Ok(Self {
            issuer: Issuer::new(params, key),
            certificate,
            certificate_pem,
            fingerprint,
            provider: Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
            leaves: Mutex::new(HashMap::new()),
        })
    }

    fn write_trust_store(&self, files: &CaFiles) -> anyhow::Result<()> {
        let path = files.trust_store();
        std::fs::write(
            &path,
            trust_store_p12(&self.certificate, "irsa-harness-local-ca"),
        )
        .with_context(|| format!("writing `{}`", path.display()))
    }

    /// The CA certificate, PEM.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The CA certificate, DER.
    pub fn certificate_der(&self) -> &CertificateDer<'static> {
        &self.certificate
    }

    /// SHA-256 of the CA certificate, lower-case hex (what `irsa up` prints so a user can check
    /// what they trust).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The leaf for `host` with its chain (leaf, CA), issued on first use and cached.
    pub fn leaf(&self, host: &str) -> anyhow::Result<Arc<CertifiedKey>> {
        let host = host.to_ascii_lowercase();
        let mut leaves = self
            .leaves
            .lock()
            .map_err(|_| anyhow!("the leaf cache was poisoned"))?;
        if let Some(found) = leaves.get(&host) {
            return Ok(Arc::clone(found));
        }
        let params = leaf_params(&host, OffsetDateTime::now_utc(), random_serial())
            .with_context(|| format!("issuing a certificate for `{host}`"))?;
        let certified = self.issue(params, &host)?;
        leaves.insert(host, Arc::clone(&certified));
        Ok(certified)
    }

    /// A new leaf naming all of `names` (see [`leaf_params_for_names`]) with its chain (leaf,
    /// CA); not cached: its holder keeps it.
    pub fn leaf_for_names(&self, names: &[String]) -> anyhow::Result<Arc<CertifiedKey>> {
        let shown = names.join(", ");
        let params = leaf_params_for_names(names, OffsetDateTime::now_utc(), random_serial())
            .with_context(|| format!("issuing a certificate for `{shown}`"))?;
        self.issue(params, &shown)
    }

    /// Sign `params` with the CA under a fresh key; `shown` names it in errors.
    fn issue(&self, params: CertificateParams, shown: &str) -> anyhow::Result<Arc<CertifiedKey>> {
        let key = KeyPair::generate().context("generating a leaf key")?;
        let leaf = params
            .signed_by(&key, &self.issuer)
            .with_context(|| format!("issuing a certificate for `{shown}`"))?;
        let signing_key = self
            .provider
            .key_provider
            .load_private_key(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
                key.serialize_der(),
            )))
            .context("loading a leaf key")?;
        Ok(Arc::new(CertifiedKey::new(
            vec![leaf.der().clone(), self.certificate.clone()],
            signing_key,
        )))
    }

    /// How many leaves were issued (one per distinct host).
    pub fn leaves_issued(&self) -> usize {
        self.leaves.lock().map_or(0, |leaves| leaves.len())
    }

    /// The TLS server configuration of the edge and of the proxy's tunnels: HTTP/1.1, the
    /// aws-lc-rs provider named explicitly, a leaf chosen by SNI through `accept_host` (the
    /// edge's own `localhost` leaf, also valid for `127.0.0.1`, without SNI or for a name
    /// `accept_host` refuses).
    pub fn server_config(
        self: &Arc<Self>,
        accept_host: Arc<dyn Fn(&str) -> bool + Send + Sync>,
    ) -> anyhow::Result<Arc<rustls::ServerConfig>> {
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(LeafResolver {
                ca: Arc::clone(self),
                accept_host,
            }));
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// A TLS server configuration that always presents `leaf` (whatever the SNI, or none), for
    /// a server with one certificate naming all its addresses: HTTP/1.1, the aws-lc-rs
    /// provider.
    pub fn single_leaf_server_config(
        &self,
        leaf: Arc<CertifiedKey>,
    ) -> anyhow::Result<Arc<rustls::ServerConfig>> {
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(OneLeaf(leaf)));
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// Always the same leaf.
#[derive(Debug)]
struct OneLeaf(Arc<CertifiedKey>);

impl ResolvesServerCert for OneLeaf {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }
}

/// Picks the leaf for the client's SNI.
struct LeafResolver {
    ca: Arc<LocalCa>,
    accept_host: Arc<dyn Fn(&str) -> bool + Send + Sync>,
}

impl std::fmt::Debug for LeafResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeafResolver").finish_non_exhaustive()
    }
}

impl ResolvesServerCert for LeafResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let host = hello
            .server_name()
            .filter(|name| (self.accept_host)(name))
            .unwrap_or(EDGE_HOST);
        match self.ca.leaf(host) {
            Ok(leaf) => Some(leaf),
            Err(e) => {
                tracing::warn!(host, error = %e, "could not issue a leaf certificate");
                None
            }
        }
    }
}

fn pem_certificate(pem: &str) -> anyhow::Result<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject as _;
    CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| anyhow!("the local CA certificate is not PEM: {e}"))
}

/// Create `path` with mode 0600 (on Unix) and write `bytes`; an existing file is replaced.
fn write_owner_only(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating `{}`", path.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("writing `{}`", path.display()))
}

/// A PKCS#12 trust store (RFC 7292) holding `certificate` as a trusted certificate entry named
/// `alias`, as Java's `keytool -importcert` writes one, but without encryption or MAC: it holds
/// only public data, and the JVM reads such a store with no `javax.net.ssl.trustStorePassword`.
/// The certificate bag carries `friendlyName` and Oracle's trusted-key-usage attribute
/// (`2.16.840.1.113894.746875.1.1` = `anyExtendedKeyUsage`), without which the JDK does not
/// load a certificate bag as a trusted entry.
///
/// Decision: written here (with yasna, already in the build through rcgen) instead of the
/// `p12-keystore` crate, which does not write stores without encryption ("Non-encrypted stores
/// are not supported", its README) and would add a password-based encryption stack for
/// nothing secret.
pub fn trust_store_p12(certificate: &[u8], alias: &str) -> Vec<u8> {
    const DATA: &[u64] = &[1, 2, 840, 113_549, 1, 7, 1];
    const CERT_BAG: &[u64] = &[1, 2, 840, 113_549, 1, 12, 10, 1, 3];
    const X509_CERTIFICATE: &[u64] = &[1, 2, 840, 113_549, 1, 9, 22, 1];
    const FRIENDLY_NAME: &[u64] = &[1, 2, 840, 113_549, 1, 9, 20];
    const ORACLE_TRUSTED_KEY_USAGE: &[u64] = &[2, 16, 840, 1, 113_894, 746_875, 1, 1];
    const ANY_EXTENDED_KEY_USAGE: &[u64] = &[2, 5, 29, 37, 0];
    use yasna::models::ObjectIdentifier;
    let oid = |components: &[u64]| ObjectIdentifier::from_slice(components);

    let safe_contents = yasna::construct_der(|w| {
        w.write_sequence_of(|w| {
            w.next().write_sequence(|w| {
                w.next().write_oid(&oid(CERT_BAG));
                w.next().write_tagged(yasna::Tag::context(0), |w| {
                    w.write_sequence(|w| {
                        w.next().write_oid(&oid(X509_CERTIFICATE));
                        w.next().write_tagged(yasna::Tag::context(0), |w| {
                            w.write_bytes(certificate);
                        });
                    });
                });
                w.next().write_set_of(|w| {
                    w.next().write_sequence(|w| {
                        w.next().write_oid(&oid(FRIENDLY_NAME));
                        w.next().write_set_of(|w| w.next().write_bmp_string(alias));
                    });
                    w.next().write_sequence(|w| {
                        w.next().write_oid(&oid(ORACLE_TRUSTED_KEY_USAGE));
                        w.next()
                            .write_set_of(|w| w.next().write_oid(&oid(ANY_EXTENDED_KEY_USAGE)));
                    });
                });
            });
        });
    });
    let authenticated_safe = yasna::construct_der(|w| {
        w.write_sequence_of(|w| {
            w.next().write_sequence(|w| {
                w.next().write_oid(&oid(DATA));
                w.next().write_tagged(yasna::Tag::context(0), |w| {
                    w.write_bytes(&safe_contents);
                });
            });
        });
    });
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_u8(3);
            w.next().write_sequence(|w| {
                w.next().write_oid(&oid(DATA));
                w.next().write_tagged(yasna::Tag::context(0), |w| {
                    w.write_bytes(&authenticated_safe);
                });
            });
        });
    })
}

#[cfg(test)]
mod tests;
