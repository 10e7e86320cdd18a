//! The verifier's one outbound client: https only, no private, loopback
//! or link-local targets (checked after DNS resolution), no redirects, 1 MiB, 5 s, cached.
//! Every test here stays on this machine: refused targets are loopback listeners that must
//! see no connection, and the rules that need a server use one on loopback with loopback
//! explicitly allowed.

mod common;

use axum::Router;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use credentialconnect::domain::verification::VerificationState;
use credentialconnect::verify::Verifier;
use credentialconnect::verify::contexts::Contexts;
use credentialconnect::verify::fetch::{FetchConfig, FetchError, Fetcher};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A listener that records whether anything connected (without accepting in the
/// background: a pending connection shows up on a non-blocking accept).
struct Witness(TcpListener);

impl Witness {
    fn new() -> Witness {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("non-blocking");
        Witness(listener)
    }

    fn port(&self) -> u16 {
        self.0.local_addr().expect("address").port()
    }

    fn was_contacted(&self) -> bool {
        self.0.accept().is_ok()
    }
}

/// The signed 1EdTech vector, re-pointed at a did:web verification method.
fn credential_with_did_web(did: &str) -> serde_json::Value {
    let mut credential =
        common::fixture_json("standards/examples/signed/ob30-ldp-test-vector-signed.json");
    credential["issuer"]["id"] = did.into();
    credential["proof"]["verificationMethod"] = format!("{did}#key-1").into();
    credential
}

#[tokio::test]
async fn a_did_web_issuer_on_a_loopback_port_causes_no_connection() {
    // Production rules: network on, loopback not allowed.
    let verifier = Verifier::new(
        Arc::new(Contexts::bundled()),
        FetchConfig::default(),
        Default::default(),
    );
    // The issue's own example (Redis listens there on these machines) …
    let report = verifier
        .verify(&credential_with_did_web("did:web:127.0.0.1%3A6379"), None)
        .await;
    assert_eq!(
        report.state,
        VerificationState::Attested,
        "{:?}",
        report.reasons
    );
    assert!(
        report.reason().contains("127.0.0.1 is a loopback address"),
        "{}",
        report.reason()
    );
    // … and a port we watch.
    let witness = Witness::new();
    let did = format!("did:web:127.0.0.1%3A{}", witness.port());
    let report = verifier.verify(&credential_with_did_web(&did), None).await;
    assert!(report.reason().contains("loopback"), "{}", report.reason());
    assert!(
        !witness.was_contacted(),
        "the verifier connected to a loopback port"
    );
}

#[tokio::test]
async fn names_that_resolve_to_loopback_are_refused_after_resolution() {
    let witness = Witness::new();
    let fetcher = Fetcher::new(FetchConfig::default());
    let error = fetcher
        .get(&format!(
            "https://localhost:{}/.well-known/did.json",
            witness.port()
        ))
        .await
        .expect_err("refused");
    // The log has the detail; the text people read does not say what the name resolved to.
    let detail = error.detail();
    assert!(detail.contains("loopback address"), "{detail}");
    let message = error.to_string();
    assert!(
        message.ends_with("could not connect to the host") && !message.contains("127.0.0.1"),
        "{message}"
    );
    assert!(!witness.was_contacted());
}

async fn local_server() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let app = Router::new()
        .route(
            "/doc",
            get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async { r#"{"id": "x"}"# }
            }),
        )
        .route("/moved", get(|| async { Redirect::temporary("/doc") }))
        .route("/big", get(|| async { "x".repeat(1024 * 1024 + 1) }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                "late".into_response()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    (format!("http://{address}"), hits)
}

fn loopback_allowed() -> Fetcher {
    Fetcher::new(FetchConfig {
        allow_loopback: true,
        timeout: Duration::from_millis(500),
        ..FetchConfig::default()
    })
}

#[tokio::test]
async fn documents_are_fetched_once_and_then_served_from_the_cache() {
    let (base, hits) = local_server().await;
    let fetcher = loopback_allowed();
    for _ in 0..3 {
        let body = fetcher.get(&format!("{base}/doc")).await.expect("fetched");
        assert_eq!(body.as_slice(), br#"{"id": "x"}"#);
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let (base, hits) = local_server().await;
    let error = loopback_allowed()
        .get(&format!("{base}/moved"))
        .await
        .expect_err("a redirect");
    assert!(
        matches!(error, FetchError::Redirect { status: 307, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("/doc"));
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the target was not requested"
    );
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_refused() {
    let (base, _) = local_server().await;
    let error = loopback_allowed()
        .get(&format!("{base}/big"))
        .await
        .expect_err("too large");
    assert!(
        matches!(
            error,
            FetchError::TooLarge {
                limit: 1_048_576,
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn slow_servers_time_out() {
    let (base, _) = local_server().await;
    let started = std::time::Instant::now();
    let error = loopback_allowed()
        .get(&format!("{base}/slow"))
        .await
        .expect_err("timed out");
    assert!(error.to_string().contains("timed out"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn plain_http_is_refused_even_to_a_public_name() {
    let error = Fetcher::new(FetchConfig::default())
        .get("http://example.com/did.json")
        .await
        .expect_err("http");
    assert!(matches!(error, FetchError::NotHttps(_)));
}
