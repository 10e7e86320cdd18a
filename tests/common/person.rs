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
    /// Posts a chooser page's form to `action` with every credential and skill it offers
    /// ticked; returns the page it leads to.
    pub async fn add_everything(&self, chooser: &Page, action: &str) -> Page {
        let mut form: Vec<(&str, String)> = vec![("csrf", chooser.csrf())];
        form.extend(
            chooser
                .values("credential")
                .into_iter()
                .map(|v| ("credential", v)),
        );
        form.extend(chooser.values("skill").into_iter().map(|v| ("skill", v)));
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.post(action, &form).await
    }

    /// Passes the check a package sent for another address asks for (the code mailed to
    /// that address) when `page` asks for it; the page to choose from.
    pub async fn confirm_recipient(&self, app: &TestApp, smtp: &SmtpServer, page: Page) -> Page {
        let Some(gate) = page.html.split("action=\"/claims/").nth(1) else {
            return page;
        };
        let gate = format!("/claims/{}", gate.split('"').next().expect("action"));
        let address = page
            .html
            .split("Sent for ")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .expect("the address it was sent for")
            .to_string();
        let asked = self.post(&gate, &[("csrf", &page.csrf())]).await;
        app.deliver_mail().await;
        let code = smtp.recipient_code(&address);
        let confirm = gate.replace("/code", "/confirm");
        self.post(&confirm, &[("csrf", &asked.csrf()), ("code", &code)])
            .await
    }

    pub fn new(app: &TestApp) -> Person {
        Person {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .expect("client"),
            base: app.base.clone(),
        }
    }

    /// A person whose browser does not follow redirects, so a test can read where a page
    /// sends them (to a partner's portal, to a wallet's landing page).
    pub fn staying(app: &TestApp) -> Person {
        Person {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: app.base.clone(),
        }
    }

    /// A person whose browser connects from another loopback address (`127.0.0.2`, …), as
    /// someone elsewhere on the internet would: the server counts its limits by address.
    pub fn at(app: &TestApp, address: &str) -> Person {
        let address: std::net::IpAddr = address.parse().expect("an IP address");
        Person {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .local_address(address)
                .build()
                .expect("client"),
            base: app.base.clone(),
        }
    }

    /// Logs in from the log-in page; returns the page it leads to.
    pub async fn log_in(&self, email: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        self.post(
            "/login",
            &[
                ("csrf", &form.csrf()),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    /// Opens a confirmation link and sends its page's form with the password chosen at
    /// sign-up; returns the page that leads to.
    pub async fn confirm(&self, link: &str, password: &str) -> Page {
        let page = self.get(link).await;
        assert_eq!(page.status, 200, "{}", page.html);
        let mut form = vec![("csrf", page.csrf()), ("password", password.to_string())];
        if let Some(switch_from) = value_of(&page.html, "switch_from") {
            form.push(("switch_from", switch_from));
        }
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.post(link, &form).await
    }

    /// Fills in the sign-up form on `start` and sends it; returns the confirmation link
    /// the SMTP server received (without opening it).
    pub async fn start_sign_up(
        &self,
        app: &TestApp,
        smtp: &SmtpServer,
        start: &str,
        email: &str,
        password: &str,
    ) -> String {
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
        message
            .link(&format!("{}/verify/", self.base))
            .expect("a confirmation link")
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
    /// message the SMTP server received; returns the page the confirmation leads to.
    pub async fn sign_up(
        &self,
        app: &TestApp,
        smtp: &SmtpServer,
        start: &str,
        email: &str,
        password: &str,
    ) -> Page {
        let link = self.start_sign_up(app, smtp, start, email, password).await;
        self.confirm(&link, password).await
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
        None => credentialconnect::services::partners::rotate_secret(
            &app.app,
            &credentialconnect::domain::audit::Actor::operator(),
            slug,
        )
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
    let landed = person.sign_up(app, smtp, link, email, PASSWORD).await;
    assert_eq!(landed.status, 200, "{}", landed.html);
    let chooser = person.confirm_recipient(app, smtp, landed).await;
    assert!(
        chooser.url.contains("/inbox/"),
        "the confirmed person lands on the package they signed up from: {}",
        chooser.url
    );
    assert!(
        chooser.has("Add selected to my SmartResume"),
        "{}",
        chooser.html
    );
    let resume = person.add_everything(&chooser, link).await;
    assert_eq!(resume.status, 200, "{}", resume.html);
    assert!(resume.url.contains("/resume"), "{}", resume.url);
    person
}

/// The id of the resume entry titled `title`, from the resume page.
pub fn entry_id(html: &str, title: &str) -> String {
    let heading = html
        .find(&format!("<h3>{title}</h3>"))
        .unwrap_or_else(|| panic!("no entry {title:?} in {html}"));
    let start = html[..heading].rfind("id=\"entry-").expect("an entry id") + "id=\"entry-".len();
    html[start..].split('"').next().expect("id").to_string()
}

/// Makes (or remakes) the person's share link from their resume page; returns it.
pub async fn make_share_link(person: &Person) -> String {
    let resume = person.get("/resume").await;
    let created = person
        .post("/resume/share", &[("csrf", &resume.csrf())])
        .await;
    assert_eq!(created.status, 200, "{}", created.html);
    assert!(
        created.has("You can see this link again on your resume"),
        "{}",
        created.html
    );
    let marker = "id=\"share-link\" type=\"text\" readonly value=\"";
    let start = created.html.find(marker).expect("the link") + marker.len();
    created.html[start..]
        .split('"')
        .next()
        .expect("link")
        .to_string()
}

/// Signs up for a viewer account from the shared resume `share` and confirms it from the
/// mail; returns the employer's browser and the page the confirmation leads to.
pub async fn sign_up_viewer(
    app: &TestApp,
    smtp: &SmtpServer,
    share: &str,
    email: &str,
) -> (Person, Page) {
    let employer = Person::new(app);
    let form = employer.get(&format!("{share}/signup")).await;
    assert_eq!(form.status, 200, "{}", form.html);
    let sent = employer
        .post(
            &format!("{share}/signup"),
            &[
                ("csrf", &form.csrf()),
                ("name", "Riley Chen"),
                ("organisation", "Acme Hiring"),
                ("email", email),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.html);
    assert!(sent.has("Check your email"), "{}", sent.html);
    app.deliver_mail().await;
    let link = smtp
        .last_to(email)
        .expect("a confirmation email")
        .link(&format!("{}/verify/", app.base))
        .expect("a confirmation link");
    let landed = employer.confirm(&link, PASSWORD).await;
    (employer, landed)
}
