//! What tests of the operators' side share: an authenticator app's codes for an admin's
//! second factor, the forms on admin pages, and the audit log's entries.

use super::TestApp;
use credentialconnect::domain::audit::{Action, Entry, Filter};
use totp_rs::{Algorithm, Secret, TOTP};

/// The authenticator key the second factor's set-up page shows.
pub fn totp_key(html: &str) -> Vec<u8> {
    let marker = "<code class=\"secret\">";
    let start = html.find(marker).expect("the key is shown") + marker.len();
    let key = html[start..].split('<').next().expect("key").to_string();
    Secret::Encoded(key).to_bytes().expect("base32")
}

/// The code an authenticator app shows at the app's time.
pub fn totp_code(app: &TestApp, key: &[u8]) -> String {
    let totp = TOTP::new_unchecked(Algorithm::SHA1, 6, 1, 30, key.to_vec(), None, String::new());
    totp.generate(u64::try_from(app.app.clock.now_ms() / 1000).expect("time"))
}

/// The first form on the page posting to `/admin/alerts/…` whose action ends with `suffix`.
pub fn alert_form(html: &str, suffix: &str) -> String {
    let action = html
        .split("action=\"/admin/alerts/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|action| action.ends_with(suffix))
        .unwrap_or_else(|| panic!("no alert form ending {suffix} in {html}"));
    format!("/admin/alerts/{action}")
}

/// The audit log's entries of one action, oldest first.
pub async fn logged(app: &TestApp, action: Action) -> Vec<Entry> {
    let filter = Filter {
        action: Some(action),
        ..Filter::default()
    };
    credentialconnect::services::audit::entries(&app.app, filter, None, 100)
        .await
        .expect("audit")
}

/// A token request with these client credentials: its status (a rotated secret is refused).
pub async fn token_status(app: &TestApp, id: &str, secret: &str) -> u16 {
    super::client()
        .post(app.url("/api/v1/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token")
        .status()
        .as_u16()
}
