//! Pull (use case 3): a signed-in person picks a partner on `/import`; a recipient token
//! bound to (that person, that partner) is made and their browser is sent to the partner's
//! pull URL with it and the return address; the partner uploads with the token within the
//! hour (`uploads`), which delivers the package to the person's import inbox; the return
//! page lists what arrived from that partner, to choose from as in the inbox.

use super::App;
use crate::domain::offer::PackageContents;
use crate::domain::partner::Partner;
use crate::secrets;
use crate::store::partners;
use crate::store::resume;
use crate::store::{StoreError, holding};
use std::time::Duration;

/// How long a recipient token works. A partner may use it for several uploads in that time
/// (a person's courses and their degree may travel as separate packages); every one goes
/// to the same person's inbox, and after it the token is refused.
pub const RECIPIENT_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// The partners a person can import from: enabled, with a pull URL.
pub async fn partners(app: &App) -> Result<Vec<Partner>, StoreError> {
    app.store.read(partners::with_pull_url).await
}

/// Where the partner sends the person back to: always this deployment's own return page,
/// never an address taken from a request.
pub fn return_url(app: &App, slug: &str) -> String {
    format!("{}/import/return/{slug}", app.config.public_url)
}

/// Starts an import from the partner with this slug for `user_id`: stores a new recipient
/// token's digest and returns the address to send the person to (the pull URL, its own
/// query kept, with `recipientToken` and `redirectURL` added). `None` when no enabled
/// partner has this slug and a pull URL.
pub async fn start(app: &App, user_id: &str, slug: &str) -> Result<Option<String>, StoreError> {
    let token = secrets::new_secret("rt_");
    let token_hash = secrets::digest(&token);
    let now = app.clock.now_ms();
    let expires_at = now.saturating_add(super::millis(RECIPIENT_TOKEN_TTL));
    let (user, wanted) = (user_id.to_string(), slug.to_string());
    let pull_url = app
        .store
        .write(move |conn| {
            let Some(partner) = partners::by_slug(conn, &wanted)?.filter(|p| !p.disabled) else {
                return Ok(None);
            };
            let Some(pull_url) = partner.pull_url else {
                return Ok(None);
            };
            holding::insert_recipient_token(
                conn,
                &token_hash,
                &partner.id,
                &user,
                now,
                expires_at,
            )?;
            Ok(Some(pull_url))
        })
        .await?;
    let Some(pull_url) = pull_url else {
        return Ok(None);
    };
    pull_location(&pull_url, &token, &return_url(app, slug)).map(Some)
}

/// The pull URL with the token and the return address added to whatever query it has.
fn pull_location(pull_url: &str, token: &str, redirect: &str) -> Result<String, StoreError> {
    // Stored pull URLs were parsed when set (`partners::parse_pull_url`): one that no longer
    // parses is a bug, not the person's doing.
    let mut url = url::Url::parse(pull_url)
        .map_err(|e| StoreError::Other(format!("a stored pull URL does not parse: {e}")))?;
    url.query_pairs_mut()
        .append_pair("recipientToken", token)
        .append_pair("redirectURL", redirect);
    Ok(url.into())
}

/// What the return page shows: the partner, and the deliveries from it waiting in the
/// person's inbox (newest first).
pub struct Arrived {
    pub partner: Partner,
    pub packages: Vec<PackageContents>,
}

/// The person's inbox deliveries from the partner with this slug; `None` when no partner
/// has it.
pub async fn arrived(app: &App, user_id: &str, slug: &str) -> Result<Option<Arrived>, StoreError> {
    let (user, wanted) = (user_id.to_string(), slug.to_string());
    app.store
        .read(move |conn| {
            let Some(partner) = partners::by_slug(conn, &wanted)? else {
                return Ok(None);
            };
            let mut packages = Vec::new();
            for id in resume::inbox_from(conn, &user, &partner.id)? {
                if let Some(contents) = resume::package_contents(conn, &id, Some(&user))? {
                    packages.push(contents);
                }
            }
            Ok(Some(Arrived { partner, packages }))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pull_location_keeps_the_partners_query_and_adds_ours() {
        let location = pull_location(
            "https://portal.instx.example/cc?lang=en&x=a%20b",
            "rt_abc",
            "https://cc.example/import/return/instx",
        )
        .expect("a URL");
        let url = url::Url::parse(&location).expect("parses");
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(
            pairs,
            [
                ("lang".into(), "en".into()),
                ("x".into(), "a b".into()),
                ("recipientToken".into(), "rt_abc".into()),
                (
                    "redirectURL".into(),
                    "https://cc.example/import/return/instx".into()
                ),
            ]
        );
        assert_eq!(url.path(), "/cc");
    }
}
