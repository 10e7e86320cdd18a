//! The outbound fetch client's URL and address rules (src/verify/fetch.rs: `check_url`,
//! `non_public`) and the did:web URL builder (src/verify/keys.rs: `did_web_url`).
//!
//! Invariants: nothing panics; an accepted URL is https (or http to loopback when loopback
//! is allowed) and an accepted IP-literal host is public; the address rules treat an IPv6
//! address that carries an IPv4 address (mapped, compatible, NAT64, 6to4) at least as
//! strictly as that IPv4 address; the URL made from a did:web DID has exactly the DID's host
//! and no user, query or fragment.
#![no_main]

use credentialconnect::verify::fetch::{check_url, non_public};
use credentialconnect::verify::keys::did_web_url;
use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fuzz_target!(|data: &[u8]| {
    if data.len() >= 16 {
        let octets: [u8; 16] = data[..16].try_into().expect("16 bytes");
        check_embedded_ipv4(Ipv6Addr::from(octets));
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for allow_loopback in [false, true] {
        if let Ok(url) = check_url(text, allow_loopback) {
            let literal = match url.host() {
                Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
                Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
                Some(url::Host::Domain(_)) => None,
                None => panic!("accepted without a host: {url}"),
            };
            match url.scheme() {
                "https" => {}
                "http" => assert!(allow_loopback, "plain http accepted: {url}"),
                other => panic!("scheme {other} accepted: {url}"),
            }
            if let Some(ip) = literal {
                assert_eq!(non_public(ip, allow_loopback), None, "{url}");
            }
            if !allow_loopback {
                assert_eq!(url.scheme(), "https");
            }
        }
    }
    let did = format!("did:web:{text}");
    if let Ok(made) = did_web_url(&did) {
        let host = text.split(':').next().unwrap_or("");
        let host = percent_encoding::percent_decode_str(host)
            .decode_utf8()
            .expect("did_web_url decoded it");
        let Ok(url) = url::Url::parse(&made) else {
            return;
        };
        assert_eq!(url.scheme(), "https");
        assert!(
            url.username().is_empty() && url.password().is_none(),
            "{did} -> {url}"
        );
        assert!(
            url.query().is_none() && url.fragment().is_none(),
            "{did} -> {url}"
        );
        assert!(url.path().ends_with("/did.json"), "{did} -> {url}");
        // The host (and port) the URL reaches are the ones the DID names.
        let expected = url::Url::parse(&format!("https://{host}/")).expect("parsed above");
        assert_eq!(url.host(), expected.host(), "{did} -> {url}");
        assert_eq!(url.port(), expected.port(), "{did} -> {url}");
        assert_eq!(
            expected.path(),
            "/",
            "{did}: the host {host:?} carries a path"
        );
    }
});

/// An IPv6 address that carries an IPv4 one is refused whenever the IPv4 one is.
fn check_embedded_ipv4(v6: Ipv6Addr) {
    let s = v6.segments();
    let o = v6.octets();
    let embedded: Option<Ipv4Addr> = if s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0) {
        // IPv4-mapped ::ffff:a.b.c.d and IPv4-compatible ::a.b.c.d (not :: or ::1).
        (s[5] == 0xffff || s[6] != 0).then(|| Ipv4Addr::new(o[12], o[13], o[14], o[15]))
    } else if s[0] == 0x0064 && s[1] == 0xff9b {
        Some(Ipv4Addr::new(o[12], o[13], o[14], o[15]))
    } else if s[0] == 0x2002 {
        Some(Ipv4Addr::new(o[2], o[3], o[4], o[5]))
    } else {
        None
    };
    if let Some(v4) = embedded
        && non_public(IpAddr::V4(v4), false).is_some()
    {
        assert!(
            non_public(IpAddr::V6(v6), false).is_some(),
            "{v6} carries {v4} but counts as public"
        );
    }
}
