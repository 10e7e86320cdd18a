//! The deployment's own signing key: what signs the resume credentials this service issues.
//!
//! The private key is an Ed25519 key kept in a file outside the database
//! (`CC_SIGNING_KEY_FILE`, readable by the service's user only), made on first start and
//! replaced by `credentialconnect signing-key rotate`. Its public half is registered in the
//! database, and the DID document (`/.well-known/did.json`, the `did:web` of the public
//! host) lists every key ever registered: a resume signed before a rotation keeps
//! verifying, and instances that each hold their own key file all verify.
//!
//! Each key is also its own `did:key`, which the DID document names in `alsoKnownAs`: a
//! verifier that cannot fetch the did:web document can still check the signature with the
//! key the verification method's fragment carries.

use super::App;
use crate::domain::audit::{Action, Actor, Subject};
use crate::store::{StoreError, audit, signing_keys};
use crate::verify::data_integrity;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde_json::{Value, json};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// Multicodec prefixes (multicodec table): ed25519-pub and ed25519-priv.
const ED25519_PUBLIC: [u8; 2] = [0xed, 0x01];
const ED25519_PRIVATE: [u8; 2] = [0x80, 0x26];

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("the signing key file {path}: {message}")]
    KeyFile { path: String, message: String },
    #[error("the credential could not be canonicalised for signing: {0}")]
    Canonical(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The key file, read again whenever it changes on disk (a rotation by the CLI reaches a
/// running server without a restart).
pub struct DeploymentKey {
    path: PathBuf,
    loaded: Mutex<Option<Loaded>>,
}

#[derive(Clone)]
struct Loaded {
    modified: Option<(SystemTime, u64)>,
    key: SigningKey,
}

impl DeploymentKey {
    pub fn new(path: PathBuf) -> DeploymentKey {
        DeploymentKey {
            path,
            loaded: Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, message: impl std::fmt::Display) -> SigningError {
        SigningError::KeyFile {
            path: self.path.display().to_string(),
            message: message.to_string(),
        }
    }

    /// The current key: the file's, made first when there is none. Returns whether the key
    /// changed since the last call (so its public half needs registering).
    fn current(&self) -> Result<(SigningKey, bool), SigningError> {
        // The file's modification time and, on Unix, its inode: a rotation renames a new file
        // into place, which a timestamp alone can miss when both fall in one clock tick.
        let modified = |path: &Path| {
            let metadata = std::fs::metadata(path).ok()?;
            #[cfg(unix)]
            let inode = std::os::unix::fs::MetadataExt::ino(&metadata);
            #[cfg(not(unix))]
            let inode = 0;
            Some((metadata.modified().ok()?, inode))
        };
        let mut loaded = self
            .loaded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let on_disk = modified(&self.path);
        if let Some(current) = loaded.as_ref()
            && on_disk.is_some()
            && current.modified == on_disk
        {
            return Ok((current.key.clone(), false));
        }
        let key = match std::fs::read_to_string(&self.path) {
            Ok(text) => parse_key_file(&text).map_err(|e| self.error(e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = new_key();
                match self.write(&key, false) {
                    Ok(()) => key,
                    // Another instance made it first: use theirs.
                    Err(_) if self.path.exists() => {
                        let text =
                            std::fs::read_to_string(&self.path).map_err(|e| self.error(e))?;
                        parse_key_file(&text).map_err(|e| self.error(e))?
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(self.error(e)),
        };
        let changed = loaded
            .as_ref()
            .is_none_or(|l| l.key.verifying_key() != key.verifying_key());
        *loaded = Some(Loaded {
            modified: modified(&self.path),
            key: key.clone(),
        });
        Ok((key, changed))
    }

    /// Writes `key` as the key file: complete or not at all (a temporary file, then a link
    /// or rename), readable by the owner only. `replace` false never overwrites a file.
    fn write(&self, key: &SigningKey, replace: bool) -> Result<(), SigningError> {
        let directory = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let temporary = directory.join(format!(
            ".{}.{}.tmp",
            self.path
                .file_name()
                .map_or("signing-key".into(), |n| n.to_string_lossy()),
            crate::store::new_id()
        ));
        let result = (|| {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&temporary)?;
            file.write_all(key_file(key).as_bytes())?;
            file.sync_all()?;
            if replace {
                std::fs::rename(&temporary, &self.path)
            } else {
                std::fs::hard_link(&temporary, &self.path)
            }
        })();
        let _ = std::fs::remove_file(&temporary);
        result.map_err(|e| self.error(e))
    }
}

fn new_key() -> SigningKey {
    let mut seed = [0u8; 32];
    crate::secrets::fill_random(&mut seed);
    SigningKey::from_bytes(&seed)
}

/// The key file: a Multikey with its secret part, as JSON.
fn key_file(key: &SigningKey) -> String {
    let mut secret = ED25519_PRIVATE.to_vec();
    secret.extend_from_slice(key.as_bytes());
    let file = json!({
        "type": "Multikey",
        "publicKeyMultibase": public_multibase(&key.verifying_key()),
        "secretKeyMultibase": format!("z{}", bs58::encode(secret).into_string()),
        "created": crate::clock::rfc3339(crate::clock::system_now_ms()),
    });
    format!("{file:#}\n")
}

fn parse_key_file(text: &str) -> Result<SigningKey, String> {
    let file: Value = serde_json::from_str(text).map_err(|e| format!("is not JSON: {e}"))?;
    let secret = file
        .get("secretKeyMultibase")
        .and_then(Value::as_str)
        .and_then(|s| s.strip_prefix('z'))
        .ok_or("has no secretKeyMultibase (base58btc, starting with 'z')")?;
    let bytes = bs58::decode(secret)
        .into_vec()
        .map_err(|e| format!("secretKeyMultibase is not base58btc: {e}"))?;
    let seed: [u8; 32] = bytes
        .strip_prefix(&ED25519_PRIVATE)
        .and_then(|rest| rest.try_into().ok())
        .ok_or("secretKeyMultibase is not an Ed25519 private multikey")?;
    let key = SigningKey::from_bytes(&seed);
    if file.get("publicKeyMultibase").and_then(Value::as_str)
        != Some(public_multibase(&key.verifying_key()).as_str())
    {
        return Err("publicKeyMultibase does not belong to the secret key".into());
    }
    Ok(key)
}

/// An Ed25519 public key as a multibase multikey (`z6Mk…`).
pub fn public_multibase(key: &VerifyingKey) -> String {
    let mut bytes = ED25519_PUBLIC.to_vec();
    bytes.extend_from_slice(key.as_bytes());
    format!("z{}", bs58::encode(bytes).into_string())
}

/// The `did:web` of the public URL's host (and port): its DID document is served at
/// `/.well-known/did.json`.
pub fn did_web(public_url: &str) -> String {
    let parsed = url::Url::parse(public_url).ok();
    let host = parsed
        .as_ref()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "localhost".into());
    match parsed.and_then(|u| u.port()) {
        Some(port) => format!("did:web:{host}%3A{port}"),
        None => format!("did:web:{host}"),
    }
}

/// The DID document: every registered key as a Multikey verification method, each one
/// authorised for `assertionMethod`; the current key's did:key as the alternative form.
pub fn did_document(did: &str, public_keys: &[String], current: &str) -> Value {
    let methods: Vec<Value> = public_keys
        .iter()
        .map(|key| {
            json!({
                "id": format!("{did}#{key}"),
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": key,
            })
        })
        .collect();
    let ids: Vec<Value> = public_keys
        .iter()
        .map(|key| Value::String(format!("{did}#{key}")))
        .collect();
    json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "alsoKnownAs": [format!("did:key:{current}")],
        "verificationMethod": methods,
        "assertionMethod": ids,
    })
}

/// Makes sure the key exists and its public half is registered (at start).
pub async fn ensure(app: &App) -> Result<(), SigningError> {
    let (key, _) = app.signing_key.current()?;
    register(app, &key).await
}

async fn register(app: &App, key: &SigningKey) -> Result<(), SigningError> {
    let public = public_multibase(&key.verifying_key());
    let now = app.clock.now_ms();
    app.store
        .write(move |conn| signing_keys::register(conn, &public, now))
        .await?;
    Ok(())
}

/// Replaces the key file with a new key and registers it; the old public key stays in the
/// DID document. Returns the new public key.
pub async fn rotate(app: &App, actor: &Actor) -> Result<String, SigningError> {
    let key = new_key();
    app.signing_key.write(&key, true)?;
    let public = public_multibase(&key.verifying_key());
    let (registered, actor, now) = (public.clone(), actor.clone(), app.clock.now_ms());
    app.store
        .write(move |conn| {
            signing_keys::register(conn, &registered, now)?;
            audit::append(
                conn,
                &actor,
                Action::SigningKeyRotated,
                Some(&Subject::new("signing_key", &registered)),
                None,
                now,
            )
        })
        .await?;
    Ok(public)
}

/// This deployment's DID.
pub fn did(app: &App) -> String {
    did_web(&app.config.public_url)
}

/// The DID document as `/.well-known/did.json` serves it.
pub async fn document(app: &App) -> Result<Value, SigningError> {
    let (key, changed) = app.signing_key.current()?;
    if changed {
        register(app, &key).await?;
    }
    let keys = app.store.read(signing_keys::all).await?;
    Ok(did_document(
        &did(app),
        &keys,
        &public_multibase(&key.verifying_key()),
    ))
}

/// Signs `credential` with the current key: a `DataIntegrityProof` with the
/// `eddsa-rdfc-2022` cryptosuite, its verification method the key in the DID document.
pub async fn sign(app: &App, mut credential: Value) -> Result<Value, SigningError> {
    let (key, changed) = app.signing_key.current()?;
    if changed {
        register(app, &key).await?;
    }
    let method = format!("{}#{}", did(app), public_multibase(&key.verifying_key()));
    let proof = json!({
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": crate::clock::rfc3339(app.clock.now_ms()),
        "verificationMethod": method,
        "proofPurpose": "assertionMethod",
    });
    let verifier = app.verifier.clone();
    tokio::task::spawn_blocking(move || {
        let Value::Object(options) = proof else {
            unreachable!("a JSON object literal")
        };
        let data = data_integrity::hash_data(&verifier, &options, &credential)
            .map_err(|e| SigningError::Canonical(e.to_string()))?;
        let mut proof = options;
        proof.insert(
            "proofValue".into(),
            format!(
                "z{}",
                bs58::encode(key.sign(&data).to_bytes()).into_string()
            )
            .into(),
        );
        credential["proof"] = Value::Object(proof);
        Ok(credential)
    })
    .await
    .map_err(|e| SigningError::Canonical(format!("the signing task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_round_trips_and_refuses_a_mismatched_public_key() {
        let key = new_key();
        let text = key_file(&key);
        let read = parse_key_file(&text).expect("reads back");
        assert_eq!(read.verifying_key(), key.verifying_key());
        let other = public_multibase(&new_key().verifying_key());
        let mut file: Value = serde_json::from_str(&text).expect("json");
        file["publicKeyMultibase"] = other.into();
        assert!(parse_key_file(&file.to_string()).is_err());
    }

    #[test]
    fn did_web_names_the_host_and_port() {
        assert_eq!(
            did_web("https://resumes.example.org"),
            "did:web:resumes.example.org"
        );
        assert_eq!(did_web("http://127.0.0.1:8080"), "did:web:127.0.0.1%3A8080");
    }

    #[test]
    fn the_key_file_is_made_once_and_private() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("key.json");
        let first = DeploymentKey::new(path.clone());
        let (key, changed) = first.current().expect("made");
        assert!(changed);
        let second = DeploymentKey::new(path.clone());
        let (again, _) = second.current().expect("read");
        assert_eq!(key.verifying_key(), again.verifying_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(
                mode & 0o077,
                0,
                "the key file is readable by its owner only"
            );
        }
        let rotated = new_key();
        first.write(&rotated, true).expect("rotated");
        let (now, changed) = second.current().expect("read again");
        assert!(changed);
        assert_eq!(now.verifying_key(), rotated.verifying_key());
    }
}
