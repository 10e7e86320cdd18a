//! A reference partner for pull (use case 3): a small university portal that, when
//! CredentialConnect sends a person to its pull URL, uploads a package for that person with
//! the recipient token it was given and sends them back.
//!
//! ```sh
//! credentialconnect partner create --name "Reference University" --slug refuni
//! cargo run --example reference_partner -- --service-url https://cc.example \
//!     --client-id "$CLIENT_ID" --client-secret "$CLIENT_SECRET" --bind 127.0.0.1:8090
//! credentialconnect partner set refuni --pull-url https://portal.example/pull
//! ```
//!
//! CredentialConnect accepts only an https pull URL: put the portal behind a TLS proxy
//! (`--bind` is where the proxy forwards to).

#[path = "reference_partner/portal.rs"]
mod portal;

use anyhow::Context;
use clap::Parser;

/// The partner guide's three-course package, sent when no --package is given.
const GUIDE_PACKAGE: &str = include_str!("../tests/fixtures/guide/three-courses.json");

#[derive(Parser)]
#[command(
    name = "reference_partner",
    about = "A reference partner portal for CredentialConnect's pull: uploads a package with the recipient token it is given, then redirects back"
)]
struct Args {
    /// CredentialConnect's base URL (its CC_PUBLIC_URL); redirectURL must be under it.
    #[arg(long, env = "CC_PARTNER_SERVICE_URL")]
    service_url: String,
    /// The partner's client id (from `credentialconnect partner create`).
    #[arg(long, env = "CC_PARTNER_CLIENT_ID")]
    client_id: String,
    /// The partner's client secret.
    #[arg(long, env = "CC_PARTNER_CLIENT_SECRET", hide_env_values = true)]
    client_secret: String,
    /// Where the portal listens; its pull URL is /pull there.
    #[arg(long, default_value = "127.0.0.1:8090")]
    bind: String,
    /// The package to send (JSON, as POST /api/v1/credentials takes it); by default the
    /// partner guide's three courses.
    #[arg(long)]
    package: Option<std::path::PathBuf>,
    /// The portal's name on its pages.
    #[arg(long, default_value = "Reference University")]
    name: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let package = match &args.package {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        }
        None => GUIDE_PACKAGE.to_string(),
    };
    let package = serde_json::from_str(&package).context("the package is not JSON")?;
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .with_context(|| format!("listening on {}", args.bind))?;
    let address = listener.local_addr()?;
    println!(
        "{} listening on http://{address}; its pull URL is http://{address}/pull",
        args.name
    );
    portal::serve(
        listener,
        portal::Portal {
            service_url: args.service_url,
            client_id: args.client_id,
            client_secret: args.client_secret,
            package,
            name: args.name,
        },
    )
    .await
    .context("serving")
}
