//! Marketplaces (the `marketplace` CLI verbs): a talent marketplace whose issuer ids are
//! routed to it gets its own landing on the claim page — its logo and its text — at sign-up.
//!
//! `add` with the name of an existing marketplace adds the issuer ids given to it and
//! replaces its landing text or logo when given; an issuer id is routed to one marketplace at
//! most, and routing it to a second one is refused (nothing is stored) until it is removed
//! from the first.

use super::App;
use super::logos::LogoChange;
use crate::domain::audit::{Action, Actor, Subject};
use crate::domain::logo::LogoRef;
use crate::store::logos::{self, Owner};
use crate::store::marketplaces::{self, Marketplace};
use crate::store::{StoreError, audit};
use serde::Serialize;

/// The longest landing text, in characters: a few paragraphs.
pub const MAX_LANDING_CHARS: usize = 4000;
const MAX_NAME_CHARS: usize = 200;
const MAX_ISSUER_CHARS: usize = 2000;

#[derive(Debug, thiserror::Error)]
pub enum MarketplaceError {
    #[error("{0}")]
    Invalid(String),
    #[error("no marketplace has the id or name {0:?}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What `marketplace add` asks for.
#[derive(Debug, Clone, Default)]
pub struct MarketplaceRequest {
    pub name: String,
    pub issuers: Vec<String>,
    /// The landing text (plain text; blank lines part paragraphs); `Some("")` removes it,
    /// `None` leaves an existing marketplace's as it is.
    pub landing: Option<String>,
    /// `None` leaves an existing marketplace's logo as it is.
    pub logo: Option<LogoChange>,
}

/// A marketplace as `marketplace list` prints it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MarketplaceListing {
    pub id: String,
    pub name: String,
    pub issuers: Vec<String>,
    pub landing: Option<String>,
    /// The logo's path on this site (`/logos/{digest}.{ext}`).
    pub logo: Option<String>,
    /// Whether `add` made it (false: it added to an existing one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<bool>,
}

fn listing(
    conn: &mut dyn crate::store::Conn,
    marketplace: Marketplace,
) -> Result<MarketplaceListing, StoreError> {
    Ok(MarketplaceListing {
        issuers: marketplaces::issuers(conn, &marketplace.id)?,
        logo: logos::of(conn, Owner::Marketplace, &marketplace.id)?.map(|logo| logo.path()),
        id: marketplace.id,
        name: marketplace.name,
        landing: marketplace.landing,
        created: None,
    })
}

fn invalid(message: String) -> MarketplaceError {
    MarketplaceError::Invalid(message)
}

/// A name, trimmed: not empty, one line, at most 200 characters.
fn check_name(name: &str) -> Result<String, MarketplaceError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid(
            "--name: a marketplace needs a name; it is empty".into(),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid(format!(
            "--name {name:?}: a name is one line, without control characters"
        )));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(format!(
            "--name: a name has at most {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(name.to_string())
}

/// Issuer ids as credentials carry them (`issuer.id`, a URI): trimmed, no spaces, each once.
fn check_issuers(issuers: &[String]) -> Result<Vec<String>, MarketplaceError> {
    let mut checked: Vec<String> = Vec::new();
    for issuer in issuers {
        let issuer = issuer.trim();
        if issuer.is_empty() {
            return Err(invalid("--issuer: an issuer id is empty".into()));
        }
        if issuer.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid(format!(
                "--issuer {issuer:?}: an issuer id (a URI, as in the credential's issuer.id) has no spaces"
            )));
        }
        if issuer.chars().count() > MAX_ISSUER_CHARS {
            return Err(invalid(format!(
                "--issuer: an issuer id has at most {MAX_ISSUER_CHARS} characters"
            )));
        }
        if !checked.iter().any(|known| known == issuer) {
            checked.push(issuer.to_string());
        }
    }
    Ok(checked)
}

/// Landing text: line ends made `\n`, trimmed; empty means none.
fn check_landing(landing: &str) -> Result<Option<String>, MarketplaceError> {
    let text = landing.replace("\r\n", "\n").replace('\r', "\n");
    let text = text.trim();
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(invalid(
            "--landing: the text has control characters; give plain text".into(),
        ));
    }
    if text.chars().count() > MAX_LANDING_CHARS {
        return Err(invalid(format!(
            "--landing: the text has {} characters; at most {MAX_LANDING_CHARS}",
            text.chars().count()
        )));
    }
    Ok((!text.is_empty()).then(|| text.to_string()))
}

/// Makes a marketplace, or adds to the one with this name: every issuer id is routed to it,
/// the landing text and logo set when given. All or nothing.
pub async fn add(
    app: &App,
    actor: &Actor,
    request: MarketplaceRequest,
) -> Result<MarketplaceListing, MarketplaceError> {
    let name = check_name(&request.name)?;
    let issuers = check_issuers(&request.issuers)?;
    let landing = request.landing.as_deref().map(check_landing).transpose()?;
    let logo = request.logo;
    let now = app.clock.now_ms();
    let actor = actor.clone();
    app.store
        .write(move |conn| {
            let existing = marketplaces::by_name(conn, &name)?;
            if existing.is_none() && issuers.is_empty() {
                return Ok(Err(invalid(format!(
                    "--issuer: give the new marketplace {name:?} at least one issuer id to route to it"
                ))));
            }
            let mut to_route = Vec::new();
            for issuer in &issuers {
                match marketplaces::routed_to(conn, issuer)? {
                    Some(other) if existing.as_ref().is_none_or(|m| m.id != other.id) => {
                        return Ok(Err(invalid(format!(
                            "--issuer {issuer}: it is already routed to the marketplace {:?}; an issuer id goes to one marketplace (remove it there first: marketplace remove {:?} --issuer {issuer})",
                            other.name, other.name
                        ))));
                    }
                    Some(_) => {}
                    None => to_route.push(issuer),
                }
            }
            let created = existing.is_none();
            let marketplace = match existing {
                Some(marketplace) => marketplace,
                None => marketplaces::insert(conn, &name, None, now)?,
            };
            if let Some(landing) = &landing {
                marketplaces::set_landing(conn, &marketplace.id, landing.as_deref())?;
            }
            for issuer in to_route {
                marketplaces::route(conn, &marketplace.id, issuer, now)?;
            }
            if let Some(change) = &logo {
                super::logos::apply(conn, Owner::Marketplace, &marketplace.id, change, now)?;
            }
            let id = marketplace.id.clone();
            let stored = marketplaces::find(conn, &id)?
                .ok_or_else(|| StoreError::Other("the marketplace just written".into()))?;
            let mut listed = listing(conn, stored)?;
            listed.created = Some(created);
            audit::append(
                conn,
                &actor,
                Action::MarketplaceChanged,
                Some(&Subject::new("marketplace", &listed.name)),
                Some(serde_json::json!({
                    "created": created,
                    "issuers_added": issuers,
                    "landing": landing.as_ref().map(|l| if l.is_some() { "set" } else { "removed" }),
                    "logo": logo.as_ref().map(|l| if l.logo().is_some() { "set" } else { "removed" }),
                })),
                now,
            )?;
            Ok(Ok(listed))
        })
        .await
        .map_err(|error| match error {
            // Another `add` took the name or an issuer id between our reads and writes.
            StoreError::Conflict(_) => invalid(
                "another change to the marketplaces was made at the same time; run the command again".into(),
            ),
            other => other.into(),
        })?
}

/// Every marketplace with its issuer ids, by name.
pub async fn list(app: &App) -> Result<Vec<MarketplaceListing>, MarketplaceError> {
    Ok(app
        .store
        .read(|conn| {
            marketplaces::list(conn)?
                .into_iter()
                .map(|marketplace| listing(conn, marketplace))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?)
}

/// What `remove` did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Removed {
    pub id: String,
    pub name: String,
    /// The routes removed; the marketplace itself is removed when no `--issuer` was given.
    pub issuers: Vec<String>,
    pub marketplace_removed: bool,
}

/// Removes a marketplace (by id or name) with its routes and logo, or, with `issuers`, only
/// those routes (each must be routed to it; otherwise nothing is removed).
pub async fn remove(
    app: &App,
    actor: &Actor,
    id_or_name: &str,
    issuers: &[String],
) -> Result<Removed, MarketplaceError> {
    let wanted = id_or_name.trim().to_string();
    let only = check_issuers(issuers)?;
    let (actor, now) = (actor.clone(), app.clock.now_ms());
    app.store
        .write(move |conn| {
            let Some(marketplace) = marketplaces::find(conn, &wanted)? else {
                return Ok(Err(MarketplaceError::NotFound(wanted)));
            };
            let routed = marketplaces::issuers(conn, &marketplace.id)?;
            if let Some(stray) = only.iter().find(|issuer| !routed.contains(issuer)) {
                return Ok(Err(invalid(format!(
                    "--issuer {stray}: it is not routed to the marketplace {:?}",
                    marketplace.name
                ))));
            }
            let whole = only.is_empty();
            if whole {
                marketplaces::delete(conn, &marketplace.id)?;
            } else {
                for issuer in &only {
                    marketplaces::unroute(conn, &marketplace.id, issuer)?;
                }
            }
            let removed = Removed {
                id: marketplace.id,
                name: marketplace.name,
                issuers: if whole { routed } else { only },
                marketplace_removed: whole,
            };
            audit::append(
                conn,
                &actor,
                Action::MarketplaceRemoved,
                Some(&Subject::new("marketplace", &removed.name)),
                Some(serde_json::json!({
                    "issuers": removed.issuers,
                    "marketplace_removed": whole,
                })),
                now,
            )?;
            Ok(Ok(removed))
        })
        .await?
}

/// A marketplace's landing as pages show it: its name, its text in paragraphs (a blank line
/// parts them; a single line end stays one) and its logo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandingView {
    pub name: String,
    pub paragraphs: Vec<String>,
    pub logo: Option<LogoRef>,
}

impl LandingView {
    pub fn of(landing: crate::domain::marketplace::Landing) -> LandingView {
        LandingView {
            paragraphs: landing.text.as_deref().map(paragraphs).unwrap_or_default(),
            name: landing.name,
            logo: landing.logo,
        }
    }
}

/// Plain text in paragraphs: blank lines (spaces allowed) part them.
pub fn paragraphs(text: &str) -> Vec<String> {
    let mut paragraphs = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(current.join("\n"));
                current.clear();
            }
        } else {
            current.push(line.trim_end());
        }
    }
    if !current.is_empty() {
        paragraphs.push(current.join("\n"));
    }
    paragraphs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_lines_part_paragraphs_and_single_line_ends_stay() {
        assert_eq!(
            paragraphs("Welcome to Bob.\nWe place talent.\n\n  \nSign up <now> & see.\n"),
            vec![
                "Welcome to Bob.\nWe place talent.".to_string(),
                "Sign up <now> & see.".to_string()
            ]
        );
        assert!(paragraphs("").is_empty());
    }

    #[test]
    fn names_issuers_and_landings_are_checked() {
        assert_eq!(check_name("  Bob  ").expect("ok"), "Bob");
        for bad in ["", "   ", "Bob\nAlice"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            check_issuers(&["did:web:bob.example".into(), " did:web:bob.example ".into()])
                .expect("ok"),
            vec!["did:web:bob.example".to_string()],
            "each issuer id once"
        );
        assert!(check_issuers(&[" ".into()]).is_err());
        assert!(check_issuers(&["https://a b".into()]).is_err());
        assert_eq!(check_landing(" \r\n ").expect("ok"), None);
        assert_eq!(
            check_landing("One.\r\n\r\nTwo.").expect("ok").as_deref(),
            Some("One.\n\nTwo.")
        );
        assert!(check_landing(&"x".repeat(MAX_LANDING_CHARS + 1)).is_err());
    }
}
