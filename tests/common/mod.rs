//! The test harness: the real application on a random port, on a fresh SQLite file or a
//! fresh PostgreSQL schema, with a clock tests can move forward.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the harness"
)]

pub mod chromium;
pub mod images;
pub mod issuer;
pub mod operators;
pub mod person;
pub mod process;
pub mod smtp;

use credentialconnect::config::Config;
use credentialconnect::domain::scopes::Scopes;
use credentialconnect::services::App;
use credentialconnect::services::partners::{self, IssuedCredentials, PartnerRequest};
use credentialconnect::store::Location;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, Copy)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests use: `CC_TEST_POSTGRES_URL`, or the local one.
pub fn postgres_url() -> String {
    std::env::var("CC_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Runs the body once per engine, as two tests.
#[macro_export]
macro_rules! on_both_engines {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::common::TestApp::spawn($crate::common::Engine::Sqlite).await;
                let _database = app.database_guard();
                ($body)(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app = $crate::common::TestApp::spawn($crate::common::Engine::Postgres).await;
                let _database = app.database_guard();
                ($body)(app).await;
            }
        }
    };
}

/// Runs the body once per engine, with an SMTP server the app sends its mail to.
#[macro_export]
macro_rules! with_mail_on_both_engines {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let (app, smtp) =
                    $crate::common::TestApp::spawn_with_mail($crate::common::Engine::Sqlite).await;
                let _database = app.database_guard();
                ($body)(app, smtp).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let (app, smtp) =
                    $crate::common::TestApp::spawn_with_mail($crate::common::Engine::Postgres)
                        .await;
                let _database = app.database_guard();
                ($body)(app, smtp).await;
            }
        }
    };
}

pub struct TestApp {
    pub app: App,
    pub base: String,
    pub client: reqwest::Client,
    database: Arc<Database>,
}

/// Keeps a test's database until the test ends. A test body that uses only some fields of
/// its `TestApp` captures only those, and the rest (the database) would be dropped, and with
/// it the schema or file, at the body's first await; the macros above hold one of these.
pub struct DatabaseGuard(#[allow(dead_code, reason = "held for its drop")] Arc<Database>);

enum Database {
    Sqlite(tempfile::TempDir),
    /// `keys` holds the deployment's signing-key file, which lives outside the database.
    Postgres {
        schema: String,
        keys: tempfile::TempDir,
    },
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Database::Postgres { schema, .. } = self {
            let schema = schema.clone();
            // Dropping happens inside the async runtime: use a thread of its own.
            let _ = std::thread::spawn(move || {
                if let Ok(mut client) = postgres::Client::connect(&postgres_url(), postgres::NoTls)
                {
                    let _ =
                        client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
                }
            })
            .join();
        }
    }
}

/// A fresh, empty database location.
fn fresh_database(engine: Engine) -> (Location, Database) {
    match engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let location = Location::Sqlite(dir.path().join("test.db"));
            (location, Database::Sqlite(dir))
        }
        Engine::Postgres => {
            let schema = format!("t_{}", credentialconnect::store::new_id());
            let url = postgres_url();
            let create = schema.clone();
            let created = std::thread::spawn(move || {
                let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
                client.batch_execute(&format!("CREATE SCHEMA {create}"))
            })
            .join()
            .expect("thread");
            if let Err(e) = created {
                panic!(
                    "PostgreSQL tests need a server at {} (set CC_TEST_POSTGRES_URL): {e}",
                    postgres_url()
                );
            }
            let separator = if postgres_url().contains('?') {
                '&'
            } else {
                '?'
            };
            let url = format!(
                "{}{separator}options=-c%20search_path%3D{schema}",
                postgres_url()
            );
            let keys = tempfile::tempdir().expect("temp dir");
            (Location::Postgres(url), Database::Postgres { schema, keys })
        }
    }
}

impl TestApp {
    pub async fn spawn(engine: Engine) -> TestApp {
        Self::spawn_with(engine, |_| {}).await
    }

    pub async fn spawn_with(engine: Engine, configure: impl FnOnce(&mut Config)) -> TestApp {
        let (location, database) = fresh_database(engine);
        Self::spawn_on(location, Arc::new(database), configure).await
    }

    /// Another instance of the service on this one's database (its own caches and limits),
    /// as a second server process would be.
    pub async fn second_instance(&self) -> TestApp {
        let location = self.app.config.database.clone();
        Self::spawn_on(location, Arc::clone(&self.database), |_| {}).await
    }

    async fn spawn_on(
        location: Location,
        database: Arc<Database>,
        configure: impl FnOnce(&mut Config),
    ) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let mut config = Config::new(location);
        if let Database::Postgres { keys, .. } = database.as_ref() {
            config.signing_key_file = keys.path().join("signing-key.json");
        }
        config.bind = address.to_string();
        config.public_url = format!("http://{address}");
        // Tests never reach the internet: the verifier serves only what a test seeds.
        config.fetch = credentialconnect::verify::fetch::FetchConfig::offline();
        configure(&mut config);
        let app = App::open(config).await.expect("open the app");
        let router = credentialconnect::http::router(app.clone());
        tokio::spawn(async move {
            let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, service).await.expect("serve");
        });
        TestApp {
            app,
            base: format!("http://{address}"),
            client: client(),
            database,
        }
    }

    pub fn database_guard(&self) -> DatabaseGuard {
        DatabaseGuard(self.database.clone())
    }

    /// The app with a real SMTP server for its mail.
    pub async fn spawn_with_mail(engine: Engine) -> (TestApp, smtp::SmtpServer) {
        Self::spawn_with_mail_and(engine, |_| {}).await
    }

    /// The app with a real SMTP server for its mail, configured further by `configure`.
    pub async fn spawn_with_mail_and(
        engine: Engine,
        configure: impl FnOnce(&mut Config),
    ) -> (TestApp, smtp::SmtpServer) {
        let smtp = smtp::SmtpServer::start().await;
        let url = smtp.url();
        let app = Self::spawn_with(engine, |config| {
            config.mail.smtp_url = Some(url);
            configure(config);
        })
        .await;
        (app, smtp)
    }

    /// Delivers the outbox now (what the background worker does every few seconds).
    pub async fn deliver_mail(&self) -> usize {
        credentialconnect::services::mail::deliver_due(&self.app)
            .await
            .expect("deliver")
    }

    /// How many rows `table` holds.
    pub async fn rows_in(&self, table: &'static str) -> i64 {
        self.app
            .store
            .read(move |conn| {
                conn.query_one(&format!("SELECT count(*) FROM {table}"), &[])?
                    .int(0)
            })
            .await
            .expect("count")
    }

    /// The operator's open alerts.
    pub async fn open_alerts(&self) -> Vec<credentialconnect::store::alerts::Alert> {
        self.app
            .store
            .read(credentialconnect::store::alerts::open)
            .await
            .expect("alerts")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The id of the account with this address (it must exist).
    pub async fn user_id(&self, email: &str) -> String {
        let email = credentialconnect::domain::email::normalise(email);
        self.app
            .store
            .read(move |conn| credentialconnect::store::users::by_email(conn, &email))
            .await
            .expect("read")
            .expect("the account")
            .id
    }

    /// The id of the partner with this slug (it must exist).
    pub async fn partner_id(&self, slug: &str) -> String {
        let slug = slug.to_string();
        self.app
            .store
            .read(move |conn| credentialconnect::store::partners::by_slug(conn, &slug))
            .await
            .expect("read")
            .expect("the partner")
            .id
    }

    /// A partner holding every scope.
    pub async fn partner(&self, slug: &str) -> IssuedCredentials {
        self.partner_with(slug, |_| {}).await
    }

    pub async fn partner_with(
        &self,
        slug: &str,
        adjust: impl FnOnce(&mut PartnerRequest),
    ) -> IssuedCredentials {
        let mut request = PartnerRequest {
            name: format!("Partner {slug}"),
            slug: Some(slug.to_string()),
            scopes: Scopes::all(),
            unstable_ids: false,
            strict: false,
            logo: None,
        };
        adjust(&mut request);
        partners::create(
            &self.app,
            &credentialconnect::domain::audit::Actor::operator(),
            request,
        )
        .await
        .expect("create partner")
    }

    /// A request to the token endpoint with `partner`'s client credentials (HTTP Basic); the
    /// caller adds the body.
    pub fn token_request(&self, partner: &IssuedCredentials) -> reqwest::RequestBuilder {
        self.client
            .post(self.url("/api/v1/token"))
            .basic_auth(&partner.client_id, Some(&partner.client_secret))
    }

    /// A token for `partner` with `scope` (all its scopes when `None`).
    pub async fn token(&self, partner: &IssuedCredentials, scope: Option<&str>) -> String {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let response = self
            .token_request(partner)
            .form(&form)
            .send()
            .await
            .expect("token request");
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("json");
        body["access_token"].as_str().expect("token").to_string()
    }

    /// Posts a JSON body (raw bytes, as a partner would) to the upload endpoint.
    pub async fn upload(&self, token: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/credentials"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("upload request")
    }

    /// The partner's read of one submission (`GET /api/v1/credentials/{id}`); `id` goes into
    /// the path as given, so an id with reserved characters comes percent-encoded.
    pub async fn submission(&self, token: &str, id: &str) -> reqwest::Response {
        self.client
            .get(self.url(&format!("/api/v1/credentials/{id}")))
            .bearer_auth(token)
            .send()
            .await
            .expect("read request")
    }

    /// How many credentials the partner of `token` has submitted (the listing's
    /// `X-Total-Count`).
    pub async fn submitted_count(&self, token: &str) -> String {
        let listing = self
            .client
            .get(self.url("/api/v1/credentials?limit=1"))
            .bearer_auth(token)
            .send()
            .await
            .expect("list");
        listing.headers()["x-total-count"]
            .to_str()
            .expect("a count")
            .to_string()
    }

    pub async fn snapshot(&self) -> Vec<String> {
        self.app.store.snapshot().await.expect("snapshot")
    }
}

/// The Bitstring status list the 1EdTech examples point at (a fixture; never fetched).
pub const TESTLIST_URL: &str = "https://raw.githubusercontent.com/1EdTech/digital-credentials-public-validator/refs/heads/main/inspector-vc/src/test/resources/ob30/bit-string-list/testlist";

/// Seeds a verifier's fetch cache with what the 1EdTech examples' issuers would publish
/// (`verification/published.json`) and the examples' status list: no network is used.
pub fn publish_issuer_documents(verifier: &credentialconnect::verify::Verifier) {
    let published = fixture_json("verification/published.json");
    for (url, document) in published.as_object().expect("a map of URL to document") {
        verifier.fetcher().seed(url, document.to_string());
    }
    verifier.fetcher().seed(
        TESTLIST_URL,
        fixture("standards/examples/ob30/bit-string-list/testlist"),
    );
}

/// An HTTP client for tests (after installing the TLS crypto provider reqwest needs).
pub fn client() -> reqwest::Client {
    credentialconnect::verify::fetch::install_crypto_provider();
    reqwest::Client::new()
}

/// The project's test fixtures directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(path)).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

pub fn fixture_json(path: &str) -> Value {
    serde_json::from_slice(&fixture(path)).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

/// Asserts `body` is a valid 1EdTech Imsx_StatusInfo (our `errors` array aside) and
/// returns its description.
pub fn assert_imsx(body: &Value) -> String {
    static SCHEMA: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    let validator = SCHEMA.get_or_init(|| {
        let schema = fixture_json("standards/schemas/imsx_statusinfo.json");
        jsonschema::options()
            .build(&schema)
            .expect("the Imsx schema compiles")
    });
    let mut rest = body.clone();
    if let Some(object) = rest.as_object_mut() {
        object.remove("errors");
    }
    let problems: Vec<String> = validator
        .iter_errors(&rest)
        .map(|e| e.to_string())
        .collect();
    assert!(
        problems.is_empty(),
        "not an Imsx_StatusInfo: {problems:?} in {body}"
    );
    assert_eq!(body["imsx_codeMajor"], "failure");
    body["imsx_description"]
        .as_str()
        .expect("a description")
        .to_string()
}

/// Sends a response through Imsx validation; returns (status, body).
pub async fn imsx_error(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or("").to_string())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "error content-type {content_type:?}"
    );
    let body: Value = response.json().await.expect("json error body");
    assert_imsx(&body);
    (status, body)
}
