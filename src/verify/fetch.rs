//! The one outbound HTTP client of verification (did:web documents, https verification
//! methods, status lists), also used to fetch a logo an operator names by URL; wallet pushes
//! use a client built under the same rules (`outbound_client`). Partners choose the URLs it
//! is asked to fetch, so it is built against server-side request forgery:
//! - https only (plain http only to loopback, and only when a test allows loopback);
//! - the host's addresses are checked **after** DNS resolution, inside the resolver reqwest
//!   connects with, so a name that resolves to a private, loopback, link-local or otherwise
//!   non-public address is never connected to (and DNS rebinding cannot slip past a check
//!   made earlier); IP-literal hosts, which bypass the resolver, are checked before sending;
//! - no redirects (a 3xx is an error naming where it pointed), no proxies;
//! - at most 1 MiB and 5 seconds per fetch;
//! - results are cached (successes for `cache_ttl`, failures briefly, so a dead host does not
//!   cost five seconds per upload).

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// When false, only pre-seeded responses are served (tests, offline CLI runs).
    pub network: bool,
    /// Tests only: allow loopback addresses (and plain http to them).
    pub allow_loopback: bool,
    pub timeout: Duration,
    pub max_bytes: usize,
    pub cache_ttl: Duration,
    pub failure_ttl: Duration,
    pub max_entries: usize,
    /// The `Accept` header sent: documents for the verifier, images for logos.
    pub accept: &'static str,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            network: true,
            allow_loopback: false,
            timeout: Duration::from_secs(5),
            max_bytes: 1024 * 1024,
            cache_ttl: Duration::from_secs(600),
            failure_ttl: Duration::from_secs(60),
            max_entries: 2048,
            accept: "application/did+json, application/ld+json, application/json",
        }
    }
}

impl FetchConfig {
    /// No network at all: only what is seeded.
    pub fn offline() -> FetchConfig {
        FetchConfig {
            network: false,
            ..FetchConfig::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("{0} is not a valid URL")]
    BadUrl(String),
    #[error("{0}: only https URLs are fetched")]
    NotHttps(String),
    #[error("{url}: {host} is a {kind} address; only public addresses are fetched")]
    Refused {
        url: String,
        host: String,
        kind: &'static str,
    },
    /// No answer from the host: its name did not resolve, or resolved only to addresses
    /// that are refused, or the connection failed or timed out. What people read (and
    /// partners, whose URLs these are) names only that much: that a name of the internal
    /// network resolves, and to what, must not be learnt by sending it. `detail` says
    /// what happened, for the log.
    #[error("{url}: {summary}")]
    Network {
        url: String,
        summary: &'static str,
        detail: String,
    },
    #[error("{url}: redirects are not followed (HTTP {status} to {location})")]
    Redirect {
        url: String,
        status: u16,
        location: String,
    },
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: the response is larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("{url}: outbound fetches are disabled here and nothing is cached for it")]
    Offline { url: String },
}

impl FetchError {
    /// Everything known about the failure, for the operator's log (the `Display` text is
    /// what people may read).
    pub fn detail(&self) -> String {
        match self {
            FetchError::Network { url, detail, .. } => format!("{url}: {detail}"),
            other => other.to_string(),
        }
    }
}

struct Entry {
    at: Instant,
    /// Seeded entries never expire.
    seeded: bool,
    result: Result<Arc<Vec<u8>>, FetchError>,
}

pub struct Fetcher {
    config: FetchConfig,
    client: Option<reqwest::Client>,
    cache: Mutex<HashMap<String, Entry>>,
}

/// Makes ring the process's rustls crypto provider (reqwest is built without a default one,
/// so any HTTP client in the process, ours or a test's, needs this first). Idempotent.
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Fetcher {
    pub fn new(config: FetchConfig) -> Fetcher {
        install_crypto_provider();
        let client = if config.network {
            build_client(&config)
                .map_err(|e| tracing::error!(error = %e, "the verification HTTP client could not be built; fetches will fail"))
                .ok()
        } else {
            None
        };
        Fetcher {
            config,
            client,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// Serves `body` for `url` from now on without fetching (tests, benchmarks, and
    /// documents an operator pins).
    pub fn seed(&self, url: &str, body: impl Into<Vec<u8>>) {
        self.lock().insert(
            url.to_string(),
            Entry {
                at: Instant::now(),
                seeded: true,
                result: Ok(Arc::new(body.into())),
            },
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // The cache holds plain data; a panic elsewhere cannot leave it inconsistent.
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The body at `url`, from the cache or fetched under the rules above.
    pub async fn get(&self, url: &str) -> Result<Arc<Vec<u8>>, FetchError> {
        if let Some(entry) = self.lock().get(url) {
            let ttl = if entry.result.is_ok() {
                self.config.cache_ttl
            } else {
                self.config.failure_ttl
            };
            if entry.seeded || entry.at.elapsed() < ttl {
                return entry.result.clone();
            }
        }
        let result = self.fetch(url).await;
        let mut cache = self.lock();
        if cache.len() >= self.config.max_entries {
            cache.retain(|_, e| e.seeded);
        }
        cache.insert(
            url.to_string(),
            Entry {
                at: Instant::now(),
                seeded: false,
                result: result.clone(),
            },
        );
        result
    }

    async fn fetch(&self, url: &str) -> Result<Arc<Vec<u8>>, FetchError> {
        let parsed = check_url(url, self.config.allow_loopback)?;
        let Some(client) = &self.client else {
            return Err(FetchError::Offline {
                url: url.to_string(),
            });
        };
        let network = |e: reqwest::Error| {
            let error = FetchError::Network {
                url: url.to_string(),
                summary: if e.is_timeout() {
                    "timed out"
                } else {
                    "could not connect to the host"
                },
                detail: describe(&e),
            };
            tracing::warn!(detail = %error.detail(), "a verification fetch failed");
            error
        };
        let mut response = client
            .get(parsed)
            .header("accept", self.config.accept)
            .send()
            .await
            .map_err(network)?;
        let status = response.status();
        if status.is_redirection() {
            return Err(FetchError::Redirect {
                url: url.to_string(),
                status: status.as_u16(),
                location: response
                    .headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok())
                    .unwrap_or("nowhere")
                    .to_string(),
            });
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        let limit = self.config.max_bytes;
        let too_large = || FetchError::TooLarge {
            url: url.to_string(),
            limit,
        };
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(network)? {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Arc::new(body))
    }
}

/// Parses `url` and applies the rules that can be checked before any connection: the scheme
/// and, for IP-literal hosts, the address (named hosts are checked by the resolver after
/// resolution). What the fetch client would send a request to, or why it refuses.
pub fn check_url(url: &str, allow_loopback: bool) -> Result<url::Url, FetchError> {
    let parsed = url::Url::parse(url).map_err(|_| FetchError::BadUrl(url.to_string()))?;
    check_target(&parsed, allow_loopback)?;
    Ok(parsed)
}

fn check_target(url: &url::Url, allow_loopback: bool) -> Result<(), FetchError> {
    let host = url.host_str().unwrap_or("").to_string();
    let literal: Option<IpAddr> = match url.host() {
        Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        Some(url::Host::Domain(_)) => None,
        None => return Err(FetchError::BadUrl(url.to_string())),
    };
    let loopback_host = literal.is_some_and(|ip| ip.is_loopback()) || host == "localhost";
    match url.scheme() {
        "https" => {}
        "http" if allow_loopback && loopback_host => {}
        _ => return Err(FetchError::NotHttps(url.to_string())),
    }
    if let Some(ip) = literal
        && let Some(kind) = non_public(ip, allow_loopback)
    {
        return Err(FetchError::Refused {
            url: url.to_string(),
            host,
            kind,
        });
    }
    Ok(())
}

/// Why an address may not be fetched from, or `None` when it is public.
pub fn non_public(ip: IpAddr, allow_loopback: bool) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4, allow_loopback),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return non_public_v4(v4, allow_loopback);
            }
            non_public_v6(v6, allow_loopback)
        }
    }
}

fn non_public_v4(ip: Ipv4Addr, allow_loopback: bool) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        return (!allow_loopback).then_some("loopback");
    }
    if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if a == 0 || ip.is_broadcast() || ip.is_unspecified() {
        Some("unspecified")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared (carrier-grade NAT)")
    } else if ip.is_multicast() || a >= 240 {
        Some("multicast or reserved")
    } else if (a, b, c) == (192, 0, 0)
        || (a == 198 && (18..20).contains(&b))
        || ip.is_documentation()
    {
        Some("special-purpose")
    } else {
        None
    }
}

fn non_public_v6(ip: Ipv6Addr, allow_loopback: bool) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        return (!allow_loopback).then_some("loopback");
    }
    if ip.is_unspecified() {
        Some("unspecified")
    } else if (first & 0xfe00) == 0xfc00 {
        Some("private (unique local)")
    } else if (first & 0xffc0) == 0xfe80 {
        Some("link-local")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if first == 0x2001 && ip.segments()[1] == 0x0db8 {
        Some("special-purpose")
    } else if first == 0x0064 && ip.segments()[1] == 0xff9b {
        // NAT64 can reach IPv4 private space.
        Some("special-purpose (NAT64)")
    } else if ip.segments()[..6] == [0; 6] {
        // IPv4-compatible (::a.b.c.d, deprecated): it carries an IPv4 address too.
        Some("reserved (IPv4-compatible)")
    } else if first == 0x2002 {
        // 6to4 carries an IPv4 address in its second and third groups: as strict as that.
        let [_, _, a, b, c, d, ..] = ip.octets();
        non_public_v4(Ipv4Addr::new(a, b, c, d), false)
    } else if first == 0x2001 && ip.segments()[1] == 0 {
        Some("special-purpose (Teredo)")
    } else if (first & 0xffc0) == 0xfec0 {
        Some("site-local (deprecated)")
    } else {
        None
    }
}

/// Why the resolver gave a connection no address: every address of the host is one we do
/// not connect to. A caller can tell this (a refusal that no retry will change) from a
/// network failure with [`refused_as_non_public`].
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves to {ip}, a {kind} address; only public addresses are fetched")]
pub struct NonPublicAddress {
    host: String,
    ip: IpAddr,
    kind: &'static str,
}

/// Whether `error` (or one of its causes) is the resolver refusing a non-public address.
pub fn refused_as_non_public(error: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if cause.is::<NonPublicAddress>() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// Resolves with the system resolver, then keeps only addresses we may connect to.
struct PublicOnly {
    allow_loopback: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_loopback = self.allow_loopback;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| match non_public(addr.ip(), allow_loopback) {
                    None => true,
                    Some(kind) => {
                        refused = Some((addr.ip(), kind));
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let refusal: Box<dyn std::error::Error + Send + Sync> = match refused {
                    Some((ip, kind)) => Box::new(NonPublicAddress { host, ip, kind }),
                    None => format!("{host} does not resolve").into(),
                };
                return Err(refusal);
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

fn build_client(config: &FetchConfig) -> Result<reqwest::Client, String> {
    outbound_client(
        config.allow_loopback,
        config.timeout,
        concat!("CredentialConnect-verifier/", env!("CARGO_PKG_VERSION")),
    )
}

/// A client under the rules above (https only, public addresses checked after resolution,
/// no redirects, no proxies, `timeout` per request), for every outbound call the service
/// makes: verification fetches, logos, and the pushes to wallets (`services::wallet`).
pub fn outbound_client(
    allow_loopback: bool,
    timeout: Duration,
    user_agent: &'static str,
) -> Result<reqwest::Client, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .https_only(!allow_loopback)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(user_agent)
        .dns_resolver(PublicOnly { allow_loopback })
        .build()
        .map_err(|e| e.to_string())
}

/// reqwest's error with its causes (the resolver's refusal is a cause), for the log.
pub fn describe(error: &reqwest::Error) -> String {
    let mut message = if error.is_timeout() {
        "timed out".to_string()
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_addresses_are_named() {
        let cases = [
            ("127.0.0.1", Some("loopback")),
            ("10.1.2.3", Some("private")),
            ("172.16.0.1", Some("private")),
            ("192.168.1.1", Some("private")),
            ("169.254.169.254", Some("link-local")),
            ("100.64.0.1", Some("shared (carrier-grade NAT)")),
            ("0.0.0.0", Some("unspecified")),
            ("::1", Some("loopback")),
            ("fd00::1", Some("private (unique local)")),
            ("fe80::1", Some("link-local")),
            ("::ffff:10.0.0.1", Some("private")),
            ("::10.0.0.1", Some("reserved (IPv4-compatible)")),
            ("::127.0.0.1", Some("reserved (IPv4-compatible)")),
            ("2002:a00:1::1", Some("private")),
            ("2002:7f00:1::1", Some("loopback")),
            ("2002:a9fe:a9fe::1", Some("link-local")),
            ("2002:5db8:d70e::1", None),
            (
                "2001:0:4136:e378:8000:63bf:3fff:fdd2",
                Some("special-purpose (Teredo)"),
            ),
            ("fec0::1", Some("site-local (deprecated)")),
            ("93.184.215.14", None),
            ("2606:4700::1111", None),
        ];
        for (ip, expected) in cases {
            let ip: IpAddr = ip.parse().expect("ip");
            assert_eq!(non_public(ip, false), expected, "{ip}");
        }
        assert_eq!(non_public("127.0.0.1".parse().expect("ip"), true), None);
    }

    #[tokio::test]
    async fn what_a_name_resolves_to_is_in_the_detail_and_not_in_the_message() {
        let fetcher = Fetcher::new(FetchConfig::default());
        let error = fetcher
            .get("https://localhost:9/.well-known/did.json")
            .await
            .expect_err("refused");
        let message = error.to_string();
        assert_eq!(
            message,
            "https://localhost:9/.well-known/did.json: could not connect to the host"
        );
        let detail = error.detail();
        assert!(
            detail.contains("resolves to") && detail.contains("loopback"),
            "{detail}"
        );
    }

    #[tokio::test]
    async fn ip_literals_schemes_and_offline_mode_are_refused_before_any_connection() {
        let fetcher = Fetcher::new(FetchConfig::default());
        let refused = fetcher
            .get("https://127.0.0.1:6379/.well-known/did.json")
            .await
            .expect_err("loopback");
        assert!(
            matches!(
                refused,
                FetchError::Refused {
                    kind: "loopback",
                    ..
                }
            ),
            "{refused}"
        );
        let metadata = fetcher
            .get("https://169.254.169.254/latest/meta-data")
            .await
            .expect_err("link-local");
        assert!(matches!(
            metadata,
            FetchError::Refused {
                kind: "link-local",
                ..
            }
        ));
        assert!(matches!(
            fetcher.get("http://example.com/x").await,
            Err(FetchError::NotHttps(_))
        ));
        let offline = Fetcher::new(FetchConfig::offline());
        assert!(matches!(
            offline.get("https://example.com/x").await,
            Err(FetchError::Offline { .. })
        ));
        offline.seed("https://example.com/x", b"{}".to_vec());
        assert_eq!(
            offline
                .get("https://example.com/x")
                .await
                .expect("seeded")
                .as_slice(),
            b"{}"
        );
    }
}
