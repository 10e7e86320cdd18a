//! The deployment's symmetric keys: 256 random bits each, in files beside the signing key
//! (`<signing key file>.<purpose>`, readable by the owner only), made on first use and never
//! stored in the database, so a copy of the database alone opens no resume and reads no
//! secret. Every instance must see the same files, as it must the signing key.
//!
//! - `.share-links`: share-link tokens are HMACs of a stored nonce under it (`sharing`);
//! - `.sealing`: secrets the service must send on somebody's behalf (a wallet's OAuth client
//!   secret) are sealed under it with ChaCha20-Poly1305 before they are stored.

use super::App;
use crate::store::StoreError;
use base64::Engine as _;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use std::path::PathBuf;

/// The key share-link tokens are derived under.
pub fn share_links(app: &App) -> Result<[u8; 32], StoreError> {
    key_file(app, "share-links", "share-link")
}

/// The key stored secrets are sealed under.
fn sealing(app: &App) -> Result<[u8; 32], StoreError> {
    key_file(app, "sealing", "sealing")
}

/// Marks the format of a sealed value, so that a later one can be told apart.
const SEALED_PREFIX: &str = "v1.";

/// Seals `secret` for storage. `context` names what it is the secret of (e.g. a wallet's
/// partner id): a sealed value copied to another row does not open there.
pub fn seal(app: &App, context: &str, secret: &str) -> Result<String, StoreError> {
    let key = aead_key(&sealing(app)?);
    let mut nonce = [0u8; NONCE_LEN];
    crate::secrets::fill_random(&mut nonce);
    let mut sealed = secret.as_bytes().to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(context.as_bytes()),
        &mut sealed,
    )
    .map_err(|_| StoreError::Other("sealing a secret failed".into()))?;
    let mut bytes = nonce.to_vec();
    bytes.extend_from_slice(&sealed);
    Ok(format!(
        "{SEALED_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// Opens what `seal` made for the same `context`.
pub fn open(app: &App, context: &str, sealed: &str) -> Result<String, StoreError> {
    let unreadable = || {
        StoreError::Other(
            "a sealed secret does not open: it was sealed under another key file, or changed"
                .into(),
        )
    };
    let bytes = sealed
        .strip_prefix(SEALED_PREFIX)
        .and_then(|text| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(text)
                .ok()
        })
        .filter(|bytes| bytes.len() > NONCE_LEN)
        .ok_or_else(unreadable)?;
    let (nonce, sealed) = bytes.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| unreadable())?;
    let mut sealed = sealed.to_vec();
    let key = aead_key(&sealing(app)?);
    let opened = key
        .open_in_place(nonce, Aad::from(context.as_bytes()), &mut sealed)
        .map_err(|_| unreadable())?;
    String::from_utf8(opened.to_vec()).map_err(|_| unreadable())
}

fn aead_key(bytes: &[u8; 32]) -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, bytes).expect("a 256-bit key"))
}

/// The key in `<signing key file>.<suffix>`, made if there is none.
fn key_file(app: &App, suffix: &str, what: &str) -> Result<[u8; 32], StoreError> {
    let mut path = app.signing_key.path().as_os_str().to_owned();
    path.push(".");
    path.push(suffix);
    let path = PathBuf::from(path);
    let unreadable = |e: std::io::Error| {
        StoreError::Other(format!("the {what} key file {}: {e}", path.display()))
    };
    let read = |text: &str| -> Result<[u8; 32], StoreError> {
        hex::decode(text.trim())
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or_else(|| {
                StoreError::Other(format!(
                    "the {what} key file {} does not hold 64 hex digits",
                    path.display()
                ))
            })
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => return read(&text),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(unreadable(e)),
        Err(_) => {}
    }
    let mut key = [0u8; 32];
    crate::secrets::fill_random(&mut key);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => {
            use std::io::Write as _;
            file.write_all(hex::encode(key).as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(unreadable)?;
            Ok(key)
        }
        // Another instance made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read(&std::fs::read_to_string(&path).map_err(unreadable)?)
        }
        Err(e) => Err(unreadable(e)),
    }
}
