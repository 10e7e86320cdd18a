//! The reference wallet (`examples/reference_wallet`) run beside the application, for the
//! tests that push resumes to a wallet. Included with `#[path]` by the tests that use it.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the harness"
)]

#[path = "../../examples/reference_wallet/wallet.rs"]
pub mod wallet;

use crate::common::TestApp;
use credentialconnect::services::wallet::{self as pushes, WalletChange};
use credentialconnect::verify::Verifier;
use std::net::SocketAddr;
use std::sync::Arc;

pub const CLIENT_ID: &str = "credentialconnect";
pub const CLIENT_SECRET: &str = "s3cret-of-the-wallet";

/// The reference wallet, running on this machine.
pub struct RunningWallet {
    pub held: Arc<wallet::Held>,
    pub address: SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

impl RunningWallet {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Stops the wallet, as if its process were killed; its address is free once this returns.
    pub async fn kill(self) {
        self.server.abort();
        let _ = self.server.await;
    }
}

/// A verifier that resolves this deployment's did:web to its published DID document, as a
/// wallet on the internet would over https.
pub async fn verifier_trusting(app: &TestApp) -> Arc<Verifier> {
    let verifier = Verifier::offline();
    let document = app
        .client
        .get(app.url("/.well-known/did.json"))
        .send()
        .await
        .expect("did.json")
        .bytes()
        .await
        .expect("body");
    let did = credentialconnect::services::signing_key::did(&app.app);
    verifier.fetcher().seed(
        &credentialconnect::verify::keys::did_web_url(&did).expect("a did:web"),
        document.to_vec(),
    );
    Arc::new(verifier)
}

/// Starts the reference wallet (on `address`, to restart one, or a new port) holding `held`.
pub async fn start_wallet(
    verifier: Arc<Verifier>,
    held: Arc<wallet::Held>,
    address: Option<SocketAddr>,
) -> RunningWallet {
    let listener = tokio::net::TcpListener::bind(address.unwrap_or(([127, 0, 0, 1], 0).into()))
        .await
        .expect("bind the wallet");
    let address = listener.local_addr().expect("address");
    let wallet = wallet::Wallet {
        name: "Reference Wallet".into(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        verifier,
        held: Arc::clone(&held),
    };
    let server = tokio::spawn(async move {
        let _ = wallet::serve(listener, wallet).await;
    });
    RunningWallet {
        held,
        address,
        server,
    }
}

/// Makes partner `slug` a wallet whose token and push URLs are `token_url` and `push_url`.
pub async fn connect(
    app: &TestApp,
    slug: &str,
    token_url: String,
    push_url: String,
    landing: String,
) {
    app.partner(slug).await;
    pushes::set(
        &app.app,
        &credentialconnect::domain::audit::Actor::operator(),
        slug,
        WalletChange::Set {
            push_url,
            token_url,
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            landing_url: landing,
        },
    )
    .await
    .expect("set the wallet");
}

/// Starts the reference wallet, trusting this app's signing key, and connects it as partner
/// `refwallet`.
pub async fn start_connected(app: &TestApp) -> RunningWallet {
    let running = start_wallet(verifier_trusting(app).await, Arc::default(), None).await;
    connect_reference(app, &running).await;
    running
}

/// Connects the reference wallet as partner `refwallet`.
pub async fn connect_reference(app: &TestApp, running: &RunningWallet) {
    connect(
        app,
        "refwallet",
        running.url("/token"),
        running.url("/credentials"),
        running.url("/landing"),
    )
    .await;
}
