//! A person's data, theirs to take and to erase: the download of everything held about them,
//! and the erasure of their account. Both are recorded in the audit log, in the same
//! transaction as what they record; the erasure's entry holds counts, never what was erased.

use super::App;
use crate::domain::audit::{Action, Actor, Subject};
use crate::store::personal_data::{self, Erased};
use crate::store::{StoreError, audit, users};
use serde_json::Value;

/// Everything held about the account as one JSON document (see `store::personal_data`),
/// including the audit log's entries about them and this export's own; `None` when there is
/// no such account.
pub async fn export(app: &App, actor: &Actor, user_id: &str) -> Result<Option<Value>, StoreError> {
    let (user, actor, now) = (user_id.to_string(), actor.clone(), app.clock.now_ms());
    app.store
        .write(move |conn| {
            if users::by_id(conn, &user)?.is_none() {
                return Ok(None);
            }
            audit::append(
                conn,
                &actor,
                Action::DataExported,
                Some(&Subject::new("account", &user)),
                None,
                now,
            )?;
            let entries = audit::about_account(conn, &user)?;
            personal_data::export(conn, &user, entries, now)
        })
        .await
}

/// The account of this address, for the operator's verbs.
pub async fn account_of(app: &App, email: &str) -> Result<Option<String>, StoreError> {
    let email = crate::domain::email::normalise(email);
    app.store
        .read(move |conn| Ok(users::by_email(conn, &email)?.map(|user| user.id)))
        .await
}

/// Erases the account and its personal data, all at once or not at all; `None` when there
/// is no such account (erased already).
pub async fn erase(app: &App, actor: &Actor, user_id: &str) -> Result<Option<Erased>, StoreError> {
    let (user, actor, now) = (user_id.to_string(), actor.clone(), app.clock.now_ms());
    app.store
        .write(move |conn| {
            let Some(erased) = personal_data::erase(conn, &user, now)? else {
                return Ok(None);
            };
            audit::append(
                conn,
                &actor,
                Action::AccountErased,
                Some(&Subject::new("account", &user)),
                Some(serde_json::to_value(&erased).unwrap_or(Value::Null)),
                now,
            )?;
            Ok(Some(erased))
        })
        .await
}
