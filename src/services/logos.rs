//! Logos the operator uploads (`partner … --logo`, `marketplace add … --logo`): read from a
//! file or fetched once from an https URL through the SSRF-safe client, checked
//! (`domain::logo`), stored in the database and served from our origin (`/logos/…`), so no
//! page links an image on another host.

use super::App;
use crate::domain::logo::LogoRef;
use crate::domain::logo::{Logo, MAX_LOGO_BYTES, too_large};
use crate::store::StoreError;
use crate::store::logos::{self, Owner, StoredLogo};
use crate::verify::fetch::{FetchConfig, Fetcher, check_url};
use std::io::Read;
use std::time::Duration;

/// What `--logo` asks for: a logo to set, or (an empty value) none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoChange {
    Set(Logo),
    Remove,
}

impl LogoChange {
    pub fn logo(&self) -> Option<&Logo> {
        match self {
            LogoChange::Set(logo) => Some(logo),
            LogoChange::Remove => None,
        }
    }
}

/// Reads and checks the logo `source` names: a URL (`https://…`) is fetched once, anything
/// else is a file path; an empty value means "no logo". The error names the source and what
/// is wrong with it.
pub async fn load(app: &App, source: &str) -> Result<LogoChange, String> {
    let source = source.trim();
    if source.is_empty() {
        return Ok(LogoChange::Remove);
    }
    let bytes = if is_url(source) {
        fetch(app, source).await?
    } else {
        let path = std::path::PathBuf::from(source);
        tokio::task::spawn_blocking(move || read_file(&path))
            .await
            .map_err(|e| format!("reading the logo failed: {e}"))?
            .map_err(|why| format!("logo file {source}: {why}"))?
    };
    Logo::check(bytes)
        .map(LogoChange::Set)
        .map_err(|why| format!("logo {source}: {why}"))
}

/// A source with a scheme (`https://`, `http://`, `ftp://`…) is a URL; the rest are paths.
fn is_url(source: &str) -> bool {
    source.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
    })
}

/// Reads a logo file: its size is checked first, so a 50 MB file is refused without being
/// read, and no more than the limit (plus one byte, to notice a file that grew) is read.
fn read_file(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let metadata = file.metadata().map_err(|e| e.to_string())?;
    if !metadata.is_file() {
        return Err("it is not a file".into());
    }
    if metadata.len() > MAX_LOGO_BYTES as u64 {
        return Err(too_large(metadata.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(MAX_LOGO_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(format!(
            "it grew while it was read; a logo may be at most 512 KB ({MAX_LOGO_BYTES} bytes)"
        ));
    }
    Ok(bytes)
}

/// Fetches a logo once, under the verifier's rules (https only, public addresses only, no
/// redirects, 5 s) with a cap of 512 KB, checked against Content-Length and while reading.
/// `CC_VERIFY_NETWORK=0` turns this off too: such a deployment makes no outbound requests.
async fn fetch(app: &App, url: &str) -> Result<Vec<u8>, String> {
    let allow_loopback = app.config.fetch.allow_loopback;
    check_url(url, allow_loopback).map_err(|e| format!("logo URL {e}"))?;
    let fetcher = Fetcher::new(FetchConfig {
        network: app.config.fetch.network,
        allow_loopback,
        timeout: app.config.fetch.timeout,
        max_bytes: MAX_LOGO_BYTES,
        cache_ttl: Duration::ZERO,
        failure_ttl: Duration::ZERO,
        max_entries: 1,
        accept: "image/png, image/jpeg, image/webp, image/svg+xml",
    });
    let body = fetcher.get(url).await.map_err(|e| {
        // The operator typed this URL: what happened, in full (the verifier's shorter text is
        // for partners, who must not learn how internal names resolve).
        format!("logo URL {}", e.detail())
    })?;
    Ok(body.as_ref().clone())
}

/// Sets or removes `owner`'s logo, inside the caller's transaction.
pub fn apply(
    conn: &mut dyn crate::store::Conn,
    owner: Owner,
    owner_id: &str,
    change: &LogoChange,
    now: i64,
) -> Result<(), StoreError> {
    match change {
        LogoChange::Set(logo) => logos::set(conn, owner, owner_id, logo, now),
        LogoChange::Remove => logos::remove(conn, owner, owner_id).map(|_| ()),
    }
}

/// The logo served at `/logos/{digest}.{ext}`, if any is stored under that digest.
pub async fn by_digest(app: &App, digest: &str) -> Result<Option<StoredLogo>, StoreError> {
    let digest = digest.to_string();
    app.store
        .read(move |conn| logos::by_digest(conn, &digest))
        .await
}

/// A partner's logo, if it has one.
pub async fn of_partner(app: &App, partner_id: &str) -> Result<Option<LogoRef>, StoreError> {
    let id = partner_id.to_string();
    app.store
        .read(move |conn| logos::of(conn, Owner::Partner, &id))
        .await
}

/// Every partner's logo, by partner id (pages that list partners).
pub async fn of_partners(
    app: &App,
) -> Result<std::collections::HashMap<String, LogoRef>, StoreError> {
    app.store.read(logos::of_partners).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_with_a_scheme_are_urls_the_rest_are_files() {
        assert!(is_url("https://cdn.example/logo.png"));
        assert!(is_url("http://cdn.example/logo.png"));
        assert!(is_url("ftp://cdn.example/logo.png"));
        assert!(!is_url("logo.png"));
        assert!(!is_url("/srv/logos/bob.svg"));
        assert!(!is_url("./odd name://.png"));
    }

    #[test]
    fn a_file_over_the_limit_is_refused_by_its_size_without_being_read() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("huge.png");
        let file = std::fs::File::create(&path).expect("create");
        // Sparse: 50 MB on paper, nothing on disk, and nothing read.
        file.set_len(50 * 1024 * 1024).expect("size");
        let error = read_file(&path).expect_err("too large");
        assert!(error.starts_with("it is 50.0 MB"), "{error}");
        assert!(read_file(dir.path()).is_err(), "a directory is not a logo");
    }
}
