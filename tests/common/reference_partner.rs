//! The reference partner's portal (`examples/reference_partner`) run beside the application
//! for a partner of the test app, for the tests of pull (use case 3). Included with `#[path]`
//! by the tests that use it.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the harness"
)]

#[path = "../../examples/reference_partner/portal.rs"]
pub mod portal;

use crate::common::{TestApp, fixture_json};
use credentialconnect::domain::audit::Actor;
use credentialconnect::services::partners::set_pull_url;

/// Creates partner `slug` named `name`, starts its portal (which sends the guide's
/// three-course package) on a free port of this machine, and registers the portal's `/pull`
/// as the partner's pull URL. The application must allow loopback fetches
/// (`config.fetch.allow_loopback`), since the portal speaks plain http on 127.0.0.1.
/// Returns the portal's base URL.
pub async fn start(app: &TestApp, slug: &str, name: &str) -> String {
    let partner = app.partner_with(slug, |p| p.name = name.into()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the portal");
    let portal_url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(portal::serve(
        listener,
        portal::Portal {
            service_url: app.base.clone(),
            client_id: partner.client_id,
            client_secret: partner.client_secret,
            package: fixture_json("guide/three-courses.json"),
            name: format!("{name} portal"),
        },
    ));
    set_pull_url(
        &app.app,
        &Actor::operator(),
        slug,
        &format!("{portal_url}/pull"),
    )
    .await
    .expect("a loopback pull URL is allowed in tests");
    portal_url
}
