//! Minting temporary credentials in AWS's shapes from caller-supplied entropy (pure: the shell
//! passes a CSPRNG; tests pass fixed bytes).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::secret::{SecretAccessKey, SessionToken};
use crate::world::base32_upper;

/// A source of random bytes. The shell implements it with the OS CSPRNG.
pub trait Entropy {
    fn fill(&mut self, buf: &mut [u8]);
}

impl<F: FnMut(&mut [u8])> Entropy for F {
    fn fill(&mut self, buf: &mut [u8]) {
        self(buf)
    }
}

#[derive(Debug, Clone)]
pub struct TemporaryCredentials {
    /// `ASIA` + 16 of `[A-Z2-7]`: alphanumeric, as DynamoDB Local requires.
    pub access_key_id: String,
    pub secret_access_key: SecretAccessKey,
    pub session_token: SessionToken,
}

pub fn mint_temporary(entropy: &mut dyn Entropy) -> TemporaryCredentials {
    let mut key = [0u8; 10];
    entropy.fill(&mut key);
    let mut secret = [0u8; 30];
    entropy.fill(&mut secret);
    let mut token = [0u8; 96];
    entropy.fill(&mut token);
    TemporaryCredentials {
        access_key_id: format!("ASIA{}", base32_upper(&key, 16)),
        // 40 characters of base64, like AWS secrets.
        secret_access_key: SecretAccessKey::new(STANDARD.encode(secret)),
        // Real tokens start `IQoJb3JpZ2luX2Vj` ("\x21\x0a\x09origin_ec"); ours are opaque too.
        session_token: SessionToken::new(format!("IQoJb3JpZ2lu{}", STANDARD.encode(token))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_have_aws_shapes() {
        let mut counter = 0u8;
        let mut entropy = |buf: &mut [u8]| {
            for b in buf {
                counter = counter.wrapping_add(37);
                *b = counter;
            }
        };
        let creds = mint_temporary(&mut entropy);
        assert_eq!(creds.access_key_id.len(), 20);
        assert!(creds.access_key_id.starts_with("ASIA"));
        assert!(
            creds
                .access_key_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric())
        );
        assert_eq!(creds.secret_access_key.expose().len(), 40);
        assert!(creds.session_token.expose().len() > 100);
    }
}
