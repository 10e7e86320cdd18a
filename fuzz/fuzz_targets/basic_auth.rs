//! HTTP Basic client credentials of the token endpoint (`basic_credentials` in
//! src/http/api/token.rs), on any header value.
//!
//! Invariants: it never panics; a client id and secret it reads are the form-decoded halves
//! of the base64 text around its first colon, with nothing dropped; and encoding them again
//! as RFC 6749 §2.3.1 says reads back the same pair.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use credentialconnect::http::api::token::basic_credentials;
use http::{HeaderMap, HeaderValue, header};
use libfuzzer_sys::fuzz_target;

fn read(value: HeaderValue) -> Option<(String, String)> {
    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, value);
    basic_credentials(&headers).ok().flatten()
}

/// application/x-www-form-urlencoded decoding of one value: `+` is a space, `%XX` a byte.
fn form_decode(part: &str) -> String {
    let spaced = part.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

fn form_encode(part: &str) -> String {
    url::form_urlencoded::byte_serialize(part.as_bytes()).collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let Some((id, secret)) = read(value) else {
        return;
    };
    // Where those came from.
    let text = String::from_utf8_lossy(data);
    let (_, encoded) = text.trim().split_once(' ').expect("a scheme and a value");
    let decoded = STANDARD.decode(encoded.trim()).expect("it decoded");
    let decoded = String::from_utf8(decoded).expect("it was UTF-8");
    let (raw_id, raw_secret) = decoded.split_once(':').expect("it had a colon");
    assert_eq!(id, form_decode(raw_id), "client id");
    assert_eq!(secret, form_decode(raw_secret), "client secret");
    // Round trip.
    let again = STANDARD.encode(format!("{}:{}", form_encode(&id), form_encode(&secret)));
    let header = HeaderValue::from_str(&format!("Basic {again}")).expect("ASCII");
    assert_eq!(read(header), Some((id, secret)));
});
