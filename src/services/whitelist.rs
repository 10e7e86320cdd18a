//! Test mode's mail whitelist, kept in the database so it can be edited while the service
//! runs (on `/admin/mail` and with `credentialconnect whitelist`); `CC_MAIL_WHITELIST` adds
//! its entries at each start.

use super::App;
use crate::domain::audit::{Action, Actor, Subject};
use crate::domain::email;
use crate::store::{StoreError, audit, whitelist};

#[derive(Debug, thiserror::Error)]
pub enum WhitelistError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn list(app: &App) -> Result<Vec<String>, StoreError> {
    app.store.read(whitelist::list).await
}

/// Whether mail to `address` may go out now: always outside test mode.
pub async fn allows(app: &App, address: &str) -> Result<bool, StoreError> {
    if !app.config.mail.test_mode {
        return Ok(true);
    }
    Ok(email::whitelisted(&list(app).await?, address))
}

/// Adds the configured entries (at start); an entry that is not an address or a domain is
/// skipped with a warning rather than stopping the service.
pub async fn seed(app: &App) -> Result<(), StoreError> {
    let entries: Vec<String> = app
        .config
        .mail
        .whitelist
        .iter()
        .filter_map(|typed| match email::whitelist_entry(typed) {
            Ok(entry) => Some(entry),
            Err(why) => {
                tracing::warn!(%why, "CC_MAIL_WHITELIST: entry skipped");
                None
            }
        })
        .collect();
    if entries.is_empty() {
        return Ok(());
    }
    let now = app.clock.now_ms();
    app.store
        .write(move |conn| {
            for entry in &entries {
                whitelist::add(conn, entry, now)?;
            }
            Ok(())
        })
        .await
}

/// Adds an entry (recorded in the audit log); false when it was listed already.
pub async fn add(app: &App, actor: &Actor, typed: &str) -> Result<bool, WhitelistError> {
    let entry = email::whitelist_entry(typed).map_err(WhitelistError::Invalid)?;
    change(app, actor, entry, true).await
}

/// Removes an entry (recorded in the audit log); false when it was not listed.
pub async fn remove(app: &App, actor: &Actor, typed: &str) -> Result<bool, WhitelistError> {
    let entry = email::whitelist_entry(typed).map_err(WhitelistError::Invalid)?;
    change(app, actor, entry, false).await
}

async fn change(
    app: &App,
    actor: &Actor,
    entry: String,
    add: bool,
) -> Result<bool, WhitelistError> {
    let (actor, now) = (actor.clone(), app.clock.now_ms());
    Ok(app
        .store
        .write(move |conn| {
            let changed = if add {
                whitelist::add(conn, &entry, now)?
            } else {
                whitelist::remove(conn, &entry)?
            };
            if changed {
                let action = if add {
                    Action::WhitelistAdded
                } else {
                    Action::WhitelistRemoved
                };
                audit::append(
                    conn,
                    &actor,
                    action,
                    Some(&Subject::new("whitelist", &entry)),
                    None,
                    now,
                )?;
            }
            Ok(changed)
        })
        .await?)
}
