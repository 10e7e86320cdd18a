//! The operator's alerts, as the admin pages show and settle them: unknown achievement types
//! (with the credentials waiting as Unassigned; assigning a section adds the rule and moves
//! them, as `credentialconnect mapping` does), failed proofs, claims of something already on
//! another resume, and mail that test mode held back.

use super::App;
use crate::domain::audit::{Action, Actor, Subject};
use crate::domain::sections::Section;
use crate::store::alerts::{self, Alert};
use crate::store::outbox;
use crate::store::{StoreError, audit, partners};
use std::collections::HashMap;

/// An open alert with what the page says beside it.
#[derive(Debug, Clone)]
pub struct OpenAlert {
    pub alert: Alert,
    /// The partner's name, when the alert is about one partner.
    pub partner: Option<String>,
    /// For an unknown achievement type: how many credentials wait as Unassigned.
    pub waiting: Option<i64>,
    /// And the names of the first ten of them.
    pub waiting_names: Vec<String>,
}

pub async fn open(app: &App) -> Result<Vec<OpenAlert>, StoreError> {
    app.store
        .read(|conn| {
            let names: HashMap<String, String> = partners::list(conn)?
                .into_iter()
                .map(|p| (p.id, p.name))
                .collect();
            alerts::open(conn)?
                .into_iter()
                .map(|alert| {
                    let unknown_type = alert.kind == "unknown_achievement_type";
                    let partner = alert.partner_id.as_deref().unwrap_or("");
                    let waiting = unknown_type
                        .then(|| alerts::waiting_unassigned(conn, partner, &alert.subject))
                        .transpose()?;
                    let waiting_names = if unknown_type {
                        alerts::waiting_names(conn, partner, &alert.subject, 10)?
                    } else {
                        Vec::new()
                    };
                    Ok(OpenAlert {
                        partner: alert
                            .partner_id
                            .as_ref()
                            .and_then(|id| names.get(id).cloned()),
                        waiting,
                        waiting_names,
                        alert,
                    })
                })
                .collect()
        })
        .await
}

/// How many alerts are open, held-back mail included (for the admin navigation).
pub async fn count(app: &App) -> Result<usize, StoreError> {
    app.store
        .read(|conn| {
            let open = alerts::open_count(conn)? + outbox::suppressed_count(conn)?;
            Ok(usize::try_from(open).unwrap_or(0))
        })
        .await
}

/// Closes an alert, or a held-back message, without a change; false when it was not open.
pub async fn acknowledge(app: &App, actor: &Actor, id: &str) -> Result<bool, StoreError> {
    let (id, actor, now) = (id.to_string(), actor.clone(), app.clock.now_ms());
    app.store
        .write(move |conn| {
            let detail = match alerts::by_id(conn, &id)? {
                Some(alert) => {
                    alerts::acknowledge(conn, &id, now)?;
                    serde_json::json!({ "kind": alert.kind, "about": alert.subject })
                }
                None if outbox::acknowledge_suppressed(conn, &id, now)? => {
                    serde_json::json!({ "kind": "mail_held_back" })
                }
                None => return Ok(false),
            };
            audit::append(
                conn,
                &actor,
                Action::AlertAcknowledged,
                Some(&Subject::new("alert", &id)),
                Some(detail),
                now,
            )?;
            Ok(true)
        })
        .await
}

/// Why a section could not be assigned from an alert.
#[derive(Debug, thiserror::Error)]
pub enum AssignError {
    #[error("this alert is not open, or is not about an unknown achievement type")]
    NotAssignable,
    #[error(transparent)]
    Mapping(#[from] super::mapping::MappingError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Maps an unknown achievement type's alert to a section, for its partner: the rule is added,
/// the waiting credentials move, the alert closes. Returns how many credentials moved.
pub async fn assign(
    app: &App,
    actor: &Actor,
    id: &str,
    section: Section,
) -> Result<u64, AssignError> {
    let wanted = id.to_string();
    let found = app
        .store
        .read(move |conn| {
            let Some(alert) = alerts::by_id(conn, &wanted)? else {
                return Ok(None);
            };
            let slug = match &alert.partner_id {
                Some(id) => partners::list(conn)?
                    .into_iter()
                    .find(|p| &p.id == id)
                    .map(|p| p.slug),
                None => None,
            };
            Ok(Some((alert, slug)))
        })
        .await?;
    let Some((alert, slug)) = found.filter(|(a, _)| a.kind == "unknown_achievement_type") else {
        return Err(AssignError::NotAssignable);
    };
    Ok(super::mapping::assign(app, actor, slug.as_deref(), &alert.subject, section).await?)
}

/// Mail test mode held back (newest first, at most `limit`).
pub async fn held_back_mail(app: &App, limit: i64) -> Result<Vec<outbox::Entry>, StoreError> {
    app.store
        .read(move |conn| outbox::suppressed(conn, limit))
        .await
}
