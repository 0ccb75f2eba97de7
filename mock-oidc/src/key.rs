//! RSA signing keys of a cluster issuer, with the `kid` kube-apiserver would derive.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use irsa_core::token::RsaJwk;
use jsonwebtoken::EncodingKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::EncodePublicKey;
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};

#[derive(Clone)]
pub struct SigningKey {
    pub(crate) encoding: EncodingKey,
    jwk: RsaJwk,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.jwk.kid)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("could not generate an RSA key")]
    Generate(#[source] rsa::Error),
    #[error("could not encode the RSA key")]
    Encode,
}

impl SigningKey {
    /// A fresh 2048-bit RSA key.
    pub fn generate() -> Result<Self, KeyError> {
        let mut rng = rand::rng();
        let private = rsa::PrivateKey::new(&mut rng, 2048).map_err(KeyError::Generate)?;
        Self::from_private(&private)
    }

    pub fn from_private(private: &rsa::PrivateKey) -> Result<Self, KeyError> {
        let public = private.to_public_key();
        let spki = public.to_public_key_der().map_err(|_| KeyError::Encode)?;
        // kube-apiserver: kid = base64url(sha256(DER-encoded PKIX public key)).
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(spki.as_bytes()));
        let der = private.to_pkcs1_der().map_err(|_| KeyError::Encode)?;
        Ok(Self {
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            jwk: RsaJwk {
                kid,
                n: URL_SAFE_NO_PAD.encode(public.n().to_be_bytes()),
                e: URL_SAFE_NO_PAD.encode(public.e().to_be_bytes()),
            },
        })
    }

    pub fn kid(&self) -> &str {
        &self.jwk.kid
    }

    pub fn jwk(&self) -> &RsaJwk {
        &self.jwk
    }
}
