//! Mapping achievement types to resume sections (the operator's assignment of an unknown
//! type, or a partner's override).

use super::App;
use crate::domain::audit::{Action, Actor, Subject};
use crate::domain::sections::Section;
use crate::store::{StoreError, audit, mapping, partners};

#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("no partner has slug {0:?}")]
    UnknownPartner(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Maps `achievement_type` to `section` for one partner (by slug) or for all; moves the
/// credentials waiting as Unassigned. Returns how many moved.
pub async fn assign(
    app: &App,
    actor: &Actor,
    partner: Option<&str>,
    achievement_type: &str,
    section: Section,
) -> Result<u64, MappingError> {
    let now = app.clock.now_ms();
    let (slug, achievement_type) = (partner.map(str::to_string), achievement_type.to_string());
    let actor = actor.clone();
    let moved = app
        .store
        .write(move |conn| {
            let partner_id = match &slug {
                None => String::new(),
                Some(slug) => match partners::by_slug(conn, slug)? {
                    Some(p) => p.id,
                    None => return Ok(Err(MappingError::UnknownPartner(slug.clone()))),
                },
            };
            let moved = mapping::assign(conn, &partner_id, &achievement_type, section, now)?;
            audit::append(
                conn,
                &actor,
                Action::MappingAdded,
                Some(&Subject::new("mapping", &achievement_type)),
                Some(serde_json::json!({
                    "partner": slug,
                    "section": section.title(),
                    "moved": moved,
                })),
                now,
            )?;
            Ok(Ok(moved))
        })
        .await??;
    app.caches.mapping.clear();
    Ok(moved)
}
