//! Partner administration (the `partner` CLI verbs): create, list, rotate a secret, disable,
//! set options and the activation page's logo.

use super::App;
use super::logos::LogoChange;
use crate::domain::audit::{Action, Actor, Subject};
use crate::domain::logo::Logo;
use crate::domain::partner::Partner;
use crate::domain::scopes::Scopes;
use crate::secrets;
use crate::store::logos::Owner;
use crate::store::partners::{self, NewPartner};
use crate::store::{Conn, StoreError, audit};
use serde::Serialize;

/// A partner's credentials, shown once.
#[derive(Debug, Serialize)]
pub struct IssuedCredentials {
    pub client_id: String,
    pub client_secret: String,
    pub slug: String,
    pub name: String,
    pub scopes: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PartnerError {
    #[error("a partner with slug {0:?} already exists")]
    SlugTaken(String),
    #[error("no partner has slug {0:?}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What `partner create` asks for.
#[derive(Debug, Clone)]
pub struct PartnerRequest {
    pub name: String,
    pub slug: Option<String>,
    pub scopes: Scopes,
    pub unstable_ids: bool,
    pub strict: bool,
    /// The logo for the partner's activation page, checked (`services::logos::load`).
    pub logo: Option<Logo>,
}

pub async fn create(
    app: &App,
    actor: &Actor,
    request: PartnerRequest,
) -> Result<IssuedCredentials, PartnerError> {
    let name = request.name.trim().to_string();
    if name.is_empty() {
        return Err(PartnerError::Invalid("a partner needs a name".into()));
    }
    let slug = match request.slug {
        Some(slug) => validate_slug(&slug)?,
        None => slugify(&name)?,
    };
    if request.scopes.is_empty() {
        return Err(PartnerError::Invalid(
            "give the partner at least one scope".into(),
        ));
    }
    let client_id = secrets::new_secret("cc_client_")
        .chars()
        .take(32)
        .collect::<String>();
    let client_secret = secrets::new_secret("cc_secret_");
    let new = NewPartner {
        slug: slug.clone(),
        name: name.clone(),
        client_id: client_id.clone(),
        secret_hash: secrets::digest(&client_secret),
        scopes: request.scopes,
        unstable_ids: request.unstable_ids,
        strict: request.strict,
    };
    let now = app.clock.now_ms();
    let logo = request.logo;
    let actor = actor.clone();
    app.store
        .write(move |conn| {
            let partner = partners::insert(conn, &new, now)?;
            if let Some(logo) = &logo {
                crate::store::logos::set(conn, Owner::Partner, &partner.id, logo, now)?;
            }
            audit::append(
                conn,
                &actor,
                Action::PartnerCreated,
                Some(&Subject::new("partner", &new.slug)),
                Some(serde_json::json!({"name": new.name, "scopes": new.scopes.to_string()})),
                now,
            )?;
            Ok(partner)
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => PartnerError::SlugTaken(slug.clone()),
            other => other.into(),
        })?;
    Ok(IssuedCredentials {
        client_id,
        client_secret,
        slug,
        name,
        scopes: request.scopes.to_string(),
    })
}

pub async fn list(app: &App) -> Result<Vec<Partner>, PartnerError> {
    Ok(app.store.read(partners::list).await?)
}

/// A new secret for the partner; tokens issued under the old one stop working.
pub async fn rotate_secret(
    app: &App,
    actor: &Actor,
    slug: &str,
) -> Result<IssuedCredentials, PartnerError> {
    let client_secret = secrets::new_secret("cc_secret_");
    let hash = secrets::digest(&client_secret);
    let now = app.clock.now_ms();
    let (wanted, actor) = (slug.to_string(), actor.clone());
    let partner = app
        .store
        .write(move |conn| {
            if partners::rotate_secret(conn, &wanted, &hash, now)? {
                audit::append(
                    conn,
                    &actor,
                    Action::PartnerSecretRotated,
                    Some(&Subject::new("partner", &wanted)),
                    None,
                    now,
                )?;
            }
            partners::by_slug(conn, &wanted)
        })
        .await?
        .ok_or_else(|| PartnerError::NotFound(slug.to_string()))?;
    app.caches.tokens.clear();
    Ok(IssuedCredentials {
        client_id: partner.client_id,
        client_secret,
        slug: partner.slug,
        name: partner.name,
        scopes: partner.scopes.to_string(),
    })
}

pub async fn disable(app: &App, actor: &Actor, slug: &str) -> Result<(), PartnerError> {
    change_audited(
        app,
        actor,
        slug,
        Action::PartnerDisabled,
        None,
        |conn, slug, _| partners::disable(conn, slug),
    )
    .await?;
    app.caches.tokens.clear();
    Ok(())
}

pub async fn set_options(
    app: &App,
    actor: &Actor,
    slug: &str,
    strict: Option<bool>,
    unstable_ids: Option<bool>,
    scopes: Option<Scopes>,
) -> Result<(), PartnerError> {
    if scopes.as_ref().is_some_and(|s| s.is_empty()) {
        return Err(PartnerError::Invalid(
            "give the partner at least one scope".into(),
        ));
    }
    let detail = serde_json::json!({
        "strict": strict,
        "unstable_ids": unstable_ids,
        "scopes": scopes.as_ref().map(ToString::to_string),
    });
    change_audited(
        app,
        actor,
        slug,
        Action::PartnerChanged,
        Some(detail),
        move |conn, slug, _| {
            partners::set_options(conn, slug, strict, unstable_ids, scopes.as_ref())
        },
    )
    .await?;
    app.caches.tokens.clear();
    Ok(())
}

/// Sets (or removes) the logo of the partner's activation page.
pub async fn set_logo(
    app: &App,
    actor: &Actor,
    slug: &str,
    change: LogoChange,
) -> Result<(), PartnerError> {
    let logo = match &change {
        LogoChange::Remove => "removed",
        LogoChange::Set(_) => "set",
    };
    let detail = serde_json::json!({ "logo": logo });
    change_audited(
        app,
        actor,
        slug,
        Action::PartnerChanged,
        Some(detail),
        move |conn, slug, now| {
            let Some(partner) = partners::by_slug(conn, slug)? else {
                return Ok(false);
            };
            super::logos::apply(conn, Owner::Partner, &partner.id, &change, now)?;
            Ok(true)
        },
    )
    .await
}

/// Sets the partner's pull URL, which lists it on `/import`; an empty `pull_url` removes it
/// (and the partner from that page).
pub async fn set_pull_url(
    app: &App,
    actor: &Actor,
    slug: &str,
    pull_url: &str,
) -> Result<(), PartnerError> {
    let pull_url = match pull_url.trim() {
        "" => None,
        url => Some(parse_pull_url(url, app.config.fetch.allow_loopback)?),
    };
    let detail = serde_json::json!({ "pull_url": pull_url });
    change_audited(
        app,
        actor,
        slug,
        Action::PartnerChanged,
        Some(detail),
        move |conn, slug, _| partners::set_pull_url(conn, slug, pull_url.as_deref()),
    )
    .await
}

/// Makes one change to the partner `slug` and records it in the audit log, in one
/// transaction. `change` (given the slug and the time) answers whether the partner exists;
/// nothing is recorded when it does not, and the answer is `NotFound`.
async fn change_audited<F>(
    app: &App,
    actor: &Actor,
    slug: &str,
    action: Action,
    detail: Option<serde_json::Value>,
    change: F,
) -> Result<(), PartnerError>
where
    F: FnOnce(&mut dyn Conn, &str, i64) -> Result<bool, StoreError> + Send + 'static,
{
    let (wanted, actor, now) = (slug.to_string(), actor.clone(), app.clock.now_ms());
    let found = app
        .store
        .write(move |conn| {
            let found = change(conn, &wanted, now)?;
            if found {
                let subject = Subject::new("partner", &wanted);
                audit::append(conn, &actor, action, Some(&subject), detail, now)?;
            }
            Ok(found)
        })
        .await?;
    if found {
        Ok(())
    } else {
        Err(PartnerError::NotFound(slug.to_string()))
    }
}

/// A pull URL is an absolute https URL without credentials: the person's browser is sent
/// there with a recipient token in the query, which must not cross the network in clear.
pub fn parse_pull_url(raw: &str, allow_loopback: bool) -> Result<String, PartnerError> {
    parse_partner_url("pull URL", raw, allow_loopback)
}

/// A URL of a partner's that this service calls or sends people to (a pull URL, a wallet's
/// push, token and landing URLs): absolute, https, with a host, without a user name or
/// password or a #fragment, at most 2000 characters. Plain http is accepted only to this
/// machine (`localhost`, 127.0.0.0/8, `::1`) and only where outbound loopback is allowed
/// (`CC_OUTBOUND_ALLOW_LOOPBACK`, development and tests): a partner program run beside them.
/// `what` names the URL in the error.
pub fn parse_partner_url(
    what: &str,
    raw: &str,
    allow_loopback: bool,
) -> Result<String, PartnerError> {
    let invalid = |why: &str| PartnerError::Invalid(format!("{what} {raw:?}: {why}"));
    let url = url::Url::parse(raw.trim()).map_err(|e| invalid(&e.to_string()))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(invalid("it must name a host")),
    };
    match url.scheme() {
        "https" => {}
        "http" if allow_loopback && loopback => {}
        _ => {
            return Err(invalid(
                "it must start with https:// (what travels to it must not cross the network in clear)",
            ));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it must not carry a user name or password"));
    }
    if url.fragment().is_some() {
        return Err(invalid(
            "it must not have a #fragment (the query parameters are added before it)",
        ));
    }
    if url.as_str().len() > 2000 {
        return Err(invalid("it is longer than 2000 characters"));
    }
    Ok(url.to_string())
}

/// Slugs name a partner in URLs (`/find/{slug}`): lowercase letters, digits and dashes.
fn validate_slug(slug: &str) -> Result<String, PartnerError> {
    let ok = !slug.is_empty()
        && slug.len() <= 64
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(slug.to_string())
    } else {
        Err(PartnerError::Invalid(format!(
            "slug {slug:?} must be 1-64 lowercase letters, digits and inner dashes"
        )))
    }
}

fn slugify(name: &str) -> Result<String, PartnerError> {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(64).collect();
    validate_slug(slug.trim_end_matches('-'))
}

/// Everything the admin page shows about one partner.
pub struct Overview {
    pub partner: Partner,
    pub logo: Option<crate::domain::logo::LogoRef>,
    pub wallet: Option<crate::domain::wallet::Wallet>,
    /// Its own achievement type → section overrides.
    pub rules: Vec<crate::domain::sections::MappingRule>,
}

/// The partner with this slug, enabled or not.
pub async fn by_slug(app: &App, slug: &str) -> Result<Option<Partner>, StoreError> {
    let wanted = slug.to_string();
    app.store
        .read(move |conn| partners::by_slug(conn, &wanted))
        .await
}

pub async fn overview(app: &App, slug: &str) -> Result<Option<Overview>, StoreError> {
    let Some(partner) = by_slug(app, slug).await? else {
        return Ok(None);
    };
    let id = partner.id.clone();
    let rules = app
        .store
        .read(move |conn| crate::store::mapping::own_rules(conn, &id))
        .await?;
    Ok(Some(Overview {
        logo: super::logos::of_partner(app, &partner.id).await?,
        wallet: super::wallet::of_partner(app, &partner.id).await?,
        rules,
        partner,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_url_safe_slugs() {
        assert_eq!(
            slugify("Institution X — Registrar").expect("ok"),
            "institution-x-registrar"
        );
        assert!(slugify("!!!").is_err());
        assert!(validate_slug("Bad Slug").is_err());
    }

    #[test]
    fn pull_urls_are_https_and_plain_http_only_to_loopback_in_tests() {
        assert_eq!(
            parse_pull_url(" https://portal.instx.example/cc?lang=en ", false).expect("ok"),
            "https://portal.instx.example/cc?lang=en"
        );
        for bad in [
            "http://portal.instx.example/cc",
            "http://127.0.0.1:8081/pull",
            "ftp://portal.instx.example/",
            "javascript:alert(1)",
            "//portal.instx.example/cc",
            "https://user:pass@portal.instx.example/cc",
            "https://portal.instx.example/cc#start",
            "portal.instx.example/cc",
        ] {
            let refused = parse_pull_url(bad, false).expect_err(bad).to_string();
            assert!(refused.contains("pull URL"), "{refused}");
        }
        assert!(
            parse_pull_url("http://127.0.0.1:8081/pull", false)
                .expect_err("plain http")
                .to_string()
                .contains("https://")
        );
        for loopback in [
            "http://127.0.0.1:8081/pull",
            "http://localhost:8081/pull",
            "http://[::1]:8081/pull",
        ] {
            assert!(parse_pull_url(loopback, true).is_ok(), "{loopback}");
        }
        assert!(parse_pull_url("http://portal.instx.example/cc", true).is_err());
    }
}
