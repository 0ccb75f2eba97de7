//! A web-identity token is untrusted text: splitting it, base64url-decoding and JSON-parsing its
//! header and claims (`irsa_core::token::peek`) must answer `Ok` or `Err`, never panic. Half the
//! inputs are assembled as three base64url parts from the fuzz bytes, so the JSON layer is
//! reached.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let token = match data.first() {
        Some(b) if b % 2 == 0 => {
            let rest = &data[1..];
            let cut = rest.iter().position(|b| *b == 0).unwrap_or(rest.len());
            let (header, claims) = rest.split_at(cut);
            format!(
                "{}.{}.c2ln",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(claims.get(1..).unwrap_or_default())
            )
        }
        _ => String::from_utf8_lossy(data).into_owned(),
    };
    let _ = irsa_core::token::peek(&token);
});
