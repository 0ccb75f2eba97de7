//! Rendering of STS Query-protocol responses. Element order matters: the Rust SDK requires the
//! `<...Result>` element first and `ResponseMetadata` after it (wire-contracts §1.3).

use std::fmt::Write as _;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

pub const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Escape text for an XML element body: `&`, `<` and `>` only. Quotes need no escaping in
/// element text; whether AWS escapes them is not captured, and every XML parser reads both alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// A tiny writer for the fixed two-space-indented documents STS sends.
#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
    depth: usize,
}

impl XmlWriter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn open(&mut self, name: &str) -> &mut Self {
        self.indent();
        let _ = writeln!(self.out, "<{name}>");
        self.depth += 1;
        self
    }

    pub fn open_root(&mut self, name: &str) -> &mut Self {
        let _ = writeln!(self.out, "<{name} xmlns=\"{NAMESPACE}\">");
        self.depth += 1;
        self
    }

    /// The root element in another Query service's namespace (IAM's).
    pub fn open_root_ns(&mut self, name: &str, namespace: &str) -> &mut Self {
        let _ = writeln!(self.out, "<{name} xmlns=\"{namespace}\">");
        self.depth += 1;
        self
    }

    pub fn close(&mut self, name: &str) -> &mut Self {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        let _ = writeln!(self.out, "</{name}>");
        self
    }

    pub fn leaf(&mut self, name: &str, text: &str) -> &mut Self {
        self.indent();
        let _ = writeln!(self.out, "<{name}>{}</{name}>", escape(text));
        self
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// A Query-protocol response (STS's, IAM's): the XML `body` as `text/xml`, with the request id
/// the body names also in `x-amzn-RequestId`.
pub fn query_response(status: StatusCode, body: String, request_id: &str) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", id);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;\"'");
    }
}
