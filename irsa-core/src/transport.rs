//! The transport a request arrived over, as the connection layer saw it: what IAM's
//! `aws:SecureTransport` reports. The edge's connection layer puts a [`Transport`] into each
//! request's extensions; the handlers read it back with [`Transport::of`].

/// TLS (the HTTPS edge, or a CONNECT tunnel terminated by the harness) or plain HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    Tls,
    /// Also what a request whose connection layer set nothing counts as: a request the harness
    /// cannot show to have come over TLS is not reported as secure (fail closed).
    #[default]
    Plain,
}

impl Transport {
    /// The transport recorded in a request's extensions, [`Transport::Plain`] when none is.
    pub fn of(extensions: &http::Extensions) -> Self {
        extensions.get::<Self>().copied().unwrap_or_default()
    }

    /// `aws:SecureTransport`'s value: `"true"` over TLS, `"false"` otherwise (IAM User Guide,
    /// "AWS global condition context keys": "whether the request was sent using TLS").
    pub fn secure_transport(self) -> &'static str {
        match self {
            Transport::Tls => "true",
            Transport::Plain => "false",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_decides_and_its_absence_is_plain() {
        let mut extensions = http::Extensions::new();
        assert_eq!(Transport::of(&extensions), Transport::Plain);
        assert_eq!(Transport::of(&extensions).secure_transport(), "false");
        extensions.insert(Transport::Tls);
        assert_eq!(Transport::of(&extensions), Transport::Tls);
        assert_eq!(Transport::of(&extensions).secure_transport(), "true");
    }
}
