//! A person with a browser-like HTTP client (cookies kept, redirects followed), for the web
//! pages. The real-browser tests are in `browser.rs`; these drive the same forms over HTTP.

use super::TestApp;
use super::smtp::SmtpServer;
use serde_json::Value;

/// The password the tests' people choose.
pub const PASSWORD: &str = "correct horse battery";

pub struct Person {
    pub client: reqwest::Client,
    pub base: String,
}

/// A page as fetched: status, final URL after redirects, HTML.
pub struct Page {
    pub status: u16,
    pub url: String,
    pub html: String,
}

impl Page {
    /// The value of the first hidden `csrf` input.
    pub fn csrf(&self) -> String {
        value_of(&self.html, "csrf").unwrap_or_default()
    }

    /// Every `value` of inputs named `name` (checkboxes).
    pub fn values(&self, name: &str) -> Vec<String> {
        let marker = format!("name=\"{name}\" value=\"");
        self.html
            .match_indices(&marker)
            .filter_map(|(at, _)| {
                let rest = &self.html[at + marker.len()..];
                rest.find('"').map(|end| rest[..end].to_string())
            })
            .collect()
    }

    pub fn has(&self, text: &str) -> bool {
        self.html.contains(text)
    }
}

fn value_of(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

impl Person {
    pub fn new(app: &TestApp) -> Person {
        Person {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .expect("client"),
            base: app.base.clone(),
        }
    }

    fn absolute(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        let response = self
            .client
            .get(self.absolute(path))
            .send()
            .await
            .expect("GET");
        page(response).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let response = self
            .client
            .post(self.absolute(path))
            .form(form)
            .send()
            .await
            .expect("POST");
        page(response).await
    }

    /// Signs up (from `start`, a page with the sign-up form) and confirms the email from the
    /// message the SMTP server received; returns the page the confirmation link leads to.
    pub async fn sign_up(
        &self,
        app: &TestApp,
        smtp: &SmtpServer,
        start: &str,
        email: &str,
        password: &str,
    ) -> Page {
        let form_page = self.get(start).await;
        assert_eq!(form_page.status, 200, "{}", form_page.html);
        let claim = value_of(&form_page.html, "claim");
        let mut fields = vec![
            ("csrf", form_page.csrf()),
            ("given_name", "Jamie".to_string()),
            ("family_name", "Smith".to_string()),
            ("email", email.to_string()),
            ("password", password.to_string()),
        ];
        if let Some(claim) = claim {
            fields.push(("claim", claim));
        }
        let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let sent = self.post("/signup", &form).await;
        assert_eq!(sent.status, 200, "{}", sent.html);
        assert!(sent.has("Check your email"));
        app.deliver_mail().await;
        let message = smtp.last_to(email).expect("a confirmation email");
        let link = message
            .link(&format!("{}/verify/", self.base))
            .expect("a confirmation link");
        self.get(&link).await
    }
}

async fn page(response: reqwest::Response) -> Page {
    Page {
        status: response.status().as_u16(),
        url: response.url().to_string(),
        html: response.text().await.expect("html"),
    }
}

/// A partner uploads a package; returns its claim link.
pub async fn upload(app: &TestApp, slug: &str, body: impl Into<reqwest::Body>) -> String {
    let partner = match app
        .app
        .store
        .read({
            let slug = slug.to_string();
            move |c| credentialconnect::store::partners::by_slug(c, &slug)
        })
        .await
        .expect("read")
    {
        Some(_) => None,
        None => Some(app.partner(slug).await),
    };
    let credentials = match partner {
        Some(p) => p,
        None => credentialconnect::services::partners::rotate_secret(&app.app, slug)
            .await
            .expect("rotate"),
    };
    let token = app.token(&credentials, None).await;
    let response: Value = app.upload(&token, body).await.json().await.expect("json");
    response["redirectUrl"]
        .as_str()
        .unwrap_or_else(|| panic!("upload refused: {response}"))
        .to_string()
}

/// Signs a new person up through a claim link and adds everything; returns them on their resume.
pub async fn claim_everything(app: &TestApp, smtp: &SmtpServer, link: &str, email: &str) -> Person {
    let person = Person::new(app);
    let chooser = person.sign_up(app, smtp, link, email, PASSWORD).await;
    assert_eq!(chooser.status, 200, "{}", chooser.html);
    assert!(
        chooser.url.ends_with("/inbox"),
        "the package waits in the new account's inbox: {}",
        chooser.url
    );
    assert!(
        chooser.has("Add selected to my SmartResume"),
        "{}",
        chooser.html
    );
    let mut form: Vec<(&str, String)> = vec![("csrf", chooser.csrf())];
    form.extend(
        chooser
            .values("credential")
            .into_iter()
            .map(|v| ("credential", v)),
    );
    form.extend(chooser.values("skill").into_iter().map(|v| ("skill", v)));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let resume = person.post(link, &form).await;
    assert_eq!(resume.status, 200, "{}", resume.html);
    assert!(resume.url.contains("/resume"), "{}", resume.url);
    person
}
