//! Secret strings: redacted in `Debug`, never `Serialize`d, zeroized on drop, compared in
//! constant time. Nothing here may print its contents except through [`expose`](SecretAccessKey::expose).

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

macro_rules! secret_string {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Zeroize, ZeroizeOnDrop)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The secret text, for the few places that must send it on the wire or sign with it.
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// Constant-time equality with a candidate from the wire.
            pub fn matches(&self, candidate: &str) -> bool {
                self.0.as_bytes().ct_eq(candidate.as_bytes()).into()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

secret_string!(
    /// The secret half of an access key pair.
    SecretAccessKey
);
secret_string!(
    /// An STS session token (`X-Amz-Security-Token`).
    SessionToken
);
secret_string!(
    /// A projected service-account JWT, as a pod reads it from its token file.
    WebIdentityToken
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let s = SecretAccessKey::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        let t = SessionToken::new("IQoJb3JpZ2luX2VjEXAMPLE");
        let printed = format!("{s:?} {t:?}");
        assert!(!printed.contains("wJalr"));
        assert!(!printed.contains("IQoJ"));
        assert!(printed.contains("<redacted>"));
    }

    #[test]
    fn matches_compares_whole_value() {
        let t = SessionToken::new("abc");
        assert!(t.matches("abc"));
        assert!(!t.matches("ab"));
        assert!(!t.matches("abcd"));
    }
}
