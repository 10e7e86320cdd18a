//! The `credentialconnect` binary: parses the command line and runs it.

use credentialconnect::cli::{Cli, run};

// glibc's allocator spends much of a loaded server's time contending between threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `RUST_LOG` (default `info`), with the libraries that would log SQL parameters, headers or
/// message bodies (and so tokens and personal data) held at `info` whatever is asked.
fn log_filter() -> tracing_subscriber::EnvFilter {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    [
        "tokio_postgres=info",
        "postgres=info",
        "hyper=info",
        "hyper_util=info",
        "h2=info",
        "rustls=info",
        "lettre=info",
        "reqwest=info",
    ]
    .iter()
    .filter_map(|directive| directive.parse().ok())
    .fold(filter, |filter, directive| filter.add_directive(directive))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(log_filter())
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::from_env_and_args()).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
