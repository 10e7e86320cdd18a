//! A reference wallet for CredentialConnect's wallet push (use case 4): it issues OAuth tokens
//! to CredentialConnect, verifies every resume credential pushed to it with CredentialConnect's
//! verifier, and keeps the ones that verify.
//!
//! ```sh
//! cargo run --example reference_wallet -- --client-id cc --client-secret "$SECRET" --bind 127.0.0.1:8091
//! credentialconnect partner create --name "Reference Wallet" --slug refwallet
//! credentialconnect partner set refwallet --wallet-push-url https://wallet.example/credentials \
//!     --wallet-token-url https://wallet.example/token --wallet-client-id cc \
//!     --wallet-client-secret "$SECRET" --wallet-landing-url https://wallet.example/landing
//! ```
//!
//! CredentialConnect calls only https URLs (put the wallet behind a TLS proxy; `--bind` is
//! where the proxy forwards to), except to loopback when `CC_OUTBOUND_ALLOW_LOOPBACK=1`, for
//! development. The wallet resolves the resume's `did:web` issuer over https; for a
//! deployment not served over https, give its DID document with `--did-document`.

#[path = "reference_wallet/wallet.rs"]
mod wallet;

use anyhow::Context;
use clap::Parser;
use credentialconnect::verify::Verifier;
use credentialconnect::verify::contexts::Contexts;
use credentialconnect::verify::fetch::FetchConfig;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "reference_wallet",
    about = "A reference wallet for CredentialConnect's wallet push: OAuth tokens, verified upserts"
)]
struct Args {
    /// The client id CredentialConnect authenticates with.
    #[arg(long, env = "WALLET_CLIENT_ID")]
    client_id: String,
    /// Its client secret.
    #[arg(long, env = "WALLET_CLIENT_SECRET", hide_env_values = true)]
    client_secret: String,
    /// Where the wallet listens: /token, /credentials and /landing there.
    #[arg(long, default_value = "127.0.0.1:8091")]
    bind: String,
    /// URL=FILE: serve FILE as the document at URL instead of fetching it (a did:web
    /// document, for a deployment not served over https); repeatable.
    #[arg(long = "did-document", value_name = "URL=FILE")]
    documents: Vec<String>,
    /// The wallet's name, on its landing page.
    #[arg(long, default_value = "Reference Wallet")]
    name: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    credentialconnect::verify::fetch::install_crypto_provider();
    let verifier = Verifier::new(
        Arc::new(Contexts::bundled()),
        FetchConfig::default(),
        credentialconnect::clock::Clock::default(),
    );
    for document in &args.documents {
        let (url, file) = document
            .split_once('=')
            .context("--did-document takes URL=FILE")?;
        let body = std::fs::read(file).with_context(|| format!("reading {file}"))?;
        verifier.fetcher().seed(url, body);
    }
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .with_context(|| format!("listening on {}", args.bind))?;
    let address = listener.local_addr()?;
    println!(
        "{} listening on http://{address}: token URL http://{address}/token, push URL http://{address}/credentials, landing URL http://{address}/landing",
        args.name
    );
    wallet::serve(
        listener,
        wallet::Wallet {
            name: args.name,
            client_id: args.client_id,
            client_secret: args.client_secret,
            verifier: Arc::new(verifier),
            held: Arc::default(),
        },
    )
    .await
    .context("serving")
}
