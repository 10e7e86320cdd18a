//! Configuration: defaults, then `CC_` environment variables. Validated once at start and
//! passed through the application state, never read globally.

use crate::domain::package::Limits;
use crate::store::Location;
use crate::verify::fetch::FetchConfig;
use std::time::Duration;

#[derive(Clone)]
pub struct Config {
    pub database: Location,
    /// Where to listen (`CC_BIND`).
    pub bind: String,
    /// The public base URL links are built from (`CC_PUBLIC_URL`), without a trailing slash.
    pub public_url: String,
    /// A token expires after this long without use (`CC_TOKEN_IDLE_SECONDS`, default 3600).
    pub token_idle: Duration,
    /// …and after this long in any case (`CC_TOKEN_MAX_AGE_SECONDS`, default 24 h).
    pub token_max_age: Duration,
    /// How long a package's claim link stays valid (`CC_PACKAGE_TTL_DAYS`, default 30;
    /// `CC_PACKAGE_TTL_SECONDS` when set, for tests and soaks).
    pub package_ttl: Duration,
    /// What is purged, and when: see [`Housekeeping`].
    pub housekeeping: Housekeeping,
    /// Largest accepted request body (`CC_MAX_BODY_BYTES`, default 5 MiB).
    pub max_body_bytes: usize,
    pub limits: Limits,
    /// Serve `POST /bench/echo` for load benchmarks (`CC_BENCH_ECHO=1`).
    pub bench_echo: bool,
    /// Requests handled at once (`CC_MAX_IN_FLIGHT`, default 32 per CPU core; 0 = no limit).
    /// Past it a request waits for a turn for at most `max_queue_wait`, then gets 503.
    pub max_in_flight: usize,
    /// The longest a request waits for a turn before it is answered 503 (`CC_MAX_QUEUE_MS`,
    /// default 500; 0 = answer 503 at once).
    pub max_queue_wait: Duration,
    /// Token requests per client address per minute (`CC_TOKEN_RATE_PER_MINUTE`, default
    /// 600; 0 = no limit).
    pub token_rate_per_minute: u32,
    /// Token requests per client id per minute, from any address
    /// (`CC_TOKEN_RATE_PER_CLIENT_PER_MINUTE`, default 600; 0 = no limit).
    pub token_rate_per_client_per_minute: u32,
    /// Uploads per partner per minute (`CC_UPLOAD_RATE_PER_MINUTE`, default 6000; 0 = no
    /// limit).
    pub upload_rate_per_minute: u32,
    /// Uploads per client address per minute, whatever the partner
    /// (`CC_UPLOAD_RATE_PER_ADDRESS_PER_MINUTE`, default 6000; 0 = no limit).
    pub upload_rate_per_address_per_minute: u32,
    /// Searches on partners' activation pages per client address per minute
    /// (`CC_FIND_RATE_PER_MINUTE`, default 10; 0 = no limit).
    pub find_rate_per_minute: u32,
    /// Searches for one identity (partner + email or student id) per hour
    /// (`CC_FIND_IDENTITY_RATE_PER_HOUR`, default 5; 0 = no limit): each search that matches
    /// mails the person, so this bounds the mail anyone can make them receive.
    pub find_identity_rate_per_hour: u32,
    /// The verifier's outbound fetches (did:web, https keys, status lists):
    /// `CC_VERIFY_NETWORK=0` turns them off, `CC_VERIFY_CACHE_SECONDS` (default 600) sets how
    /// long fetched documents are reused.
    pub fetch: FetchConfig,
    /// A stored verification older than this is checked again when the package is viewed
    /// (`CC_VERIFY_RECHECK_SECONDS`, default 3600): revocations and expiry show up.
    pub verification_ttl: Duration,
    pub mail: MailConfig,
    /// A session ends after this long without use (`CC_SESSION_IDLE_HOURS`, default 72).
    pub session_idle: Duration,
    /// The private key resume credentials are signed with (`CC_SIGNING_KEY_FILE`; default
    /// beside the SQLite database, or `credentialconnect.signing-key.json` in the working
    /// directory on PostgreSQL). Made on first start; never stored in the database.
    pub signing_key_file: std::path::PathBuf,
}

/// Purging what can no longer be used (expired claim links, tokens, sessions, email links)
/// and what is no longer needed (old delivered mail), once across all instances.
#[derive(Debug, Clone)]
pub struct Housekeeping {
    /// How often (`CC_PURGE_EVERY_SECONDS`, default 300; 0 = never).
    pub every: Duration,
    /// Sent and suppressed mail is kept this long (`CC_MAIL_RETENTION_DAYS`, default 30).
    pub mail_retention: Duration,
}

impl Default for Housekeeping {
    fn default() -> Self {
        Housekeeping {
            every: Duration::from_secs(300),
            mail_retention: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// Outbound email.
#[derive(Clone, Default)]
pub struct MailConfig {
    /// `CC_SMTP_URL`: `smtp://host:port` (STARTTLS when offered; `?tls=required` to insist),
    /// `smtps://host:465`, with `user:password@` if the server wants it. `log` writes messages
    /// to the server log instead (development only: links in them are secrets). Unset: mail
    /// waits in the outbox.
    pub smtp_url: Option<String>,
    /// `CC_MAIL_FROM`.
    pub from: String,
    /// `CC_MAIL_TEST_MODE=1`: only whitelisted addresses get mail; the rest is recorded as
    /// suppressed.
    pub test_mode: bool,
    /// `CC_MAIL_WHITELIST`: comma-separated addresses and domains.
    pub whitelist: Vec<String>,
}

impl MailConfig {
    /// Whether mail to `address` may go out.
    pub fn allows(&self, address: &str) -> bool {
        if !self.test_mode {
            return true;
        }
        let address = address.trim().to_ascii_lowercase();
        let domain = address.rsplit('@').next().unwrap_or("");
        self.whitelist.iter().any(|entry| {
            let entry = entry.trim().to_ascii_lowercase();
            entry == address || entry.trim_start_matches('@') == domain
        })
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The database URL may carry a password: show the engine only.
        let database = match &self.database {
            Location::Sqlite(path) => format!("sqlite://{}", path.display()),
            Location::Postgres(_) => "postgres://…".to_string(),
        };
        f.debug_struct("Config")
            .field("database", &database)
            .field("bind", &self.bind)
            .field("public_url", &self.public_url)
            .field("token_idle", &self.token_idle)
            .field("token_max_age", &self.token_max_age)
            .field("package_ttl", &self.package_ttl)
            .field("housekeeping", &self.housekeeping)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("smtp", &self.mail.smtp_url.as_ref().map(|_| "configured"))
            .field("mail_test_mode", &self.mail.test_mode)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Defaults for a database, suitable for tests and the demo.
    pub fn new(database: Location) -> Config {
        let bind = "127.0.0.1:8080".to_string();
        let signing_key_file = match &database {
            Location::Sqlite(path) => path.with_extension("signing-key.json"),
            Location::Postgres(_) => "credentialconnect.signing-key.json".into(),
        };
        Config {
            signing_key_file,
            database,
            public_url: format!("http://{bind}"),
            bind,
            token_idle: Duration::from_secs(3600),
            token_max_age: Duration::from_secs(24 * 3600),
            package_ttl: Duration::from_secs(30 * 24 * 3600),
            housekeeping: Housekeeping::default(),
            max_body_bytes: 5 * 1024 * 1024,
            limits: Limits::default(),
            bench_echo: false,
            max_in_flight: default_max_in_flight(),
            max_queue_wait: Duration::from_millis(500),
            token_rate_per_minute: 600,
            token_rate_per_client_per_minute: 600,
            upload_rate_per_minute: 6000,
            upload_rate_per_address_per_minute: 6000,
            find_rate_per_minute: 10,
            find_identity_rate_per_hour: 5,
            mail: MailConfig {
                smtp_url: None,
                from: "CredentialConnect <no-reply@localhost>".into(),
                test_mode: false,
                whitelist: Vec::new(),
            },
            session_idle: Duration::from_secs(72 * 3600),
            fetch: FetchConfig::default(),
            verification_ttl: Duration::from_secs(3600),
        }
    }

    /// Reads `CC_*` variables over the defaults.
    pub fn from_env() -> Result<Config, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let url = var("CC_DATABASE_URL").unwrap_or_else(|| "sqlite://credentialconnect.db".into());
        let mut config = Config::new(Location::parse(&url)?);
        if let Some(bind) = var("CC_BIND") {
            config.public_url = format!("http://{bind}");
            config.bind = bind;
        }
        if let Some(url) = var("CC_PUBLIC_URL") {
            config.public_url = url.trim_end_matches('/').to_string();
        }
        let number = |name: &str, default: u64| -> Result<u64, String> {
            var(name).map_or(Ok(default), |v| {
                v.parse()
                    .map_err(|_| format!("{name} must be a whole number, got {v:?}"))
            })
        };
        config.token_idle = Duration::from_secs(number("CC_TOKEN_IDLE_SECONDS", 3600)?);
        config.token_max_age = Duration::from_secs(number("CC_TOKEN_MAX_AGE_SECONDS", 24 * 3600)?);
        config.package_ttl = Duration::from_secs(number("CC_PACKAGE_TTL_DAYS", 30)? * 24 * 3600);
        if var("CC_PACKAGE_TTL_SECONDS").is_some() {
            config.package_ttl = Duration::from_secs(number("CC_PACKAGE_TTL_SECONDS", 0)?);
        }
        config.housekeeping.every = Duration::from_secs(number("CC_PURGE_EVERY_SECONDS", 300)?);
        config.housekeeping.mail_retention =
            Duration::from_secs(number("CC_MAIL_RETENTION_DAYS", 30)? * 24 * 3600);
        config.max_body_bytes = usize::try_from(number("CC_MAX_BODY_BYTES", 5 * 1024 * 1024)?)
            .map_err(|e| e.to_string())?;
        config.limits.max_credentials =
            usize::try_from(number("CC_MAX_CREDENTIALS", 500)?).map_err(|e| e.to_string())?;
        config.limits.max_alignments =
            usize::try_from(number("CC_MAX_ALIGNMENTS", 200)?).map_err(|e| e.to_string())?;
        config.bench_echo = var("CC_BENCH_ECHO").is_some_and(|v| v == "1" || v == "true");
        config.max_in_flight =
            usize::try_from(number("CC_MAX_IN_FLIGHT", default_max_in_flight() as u64)?)
                .map_err(|e| e.to_string())?;
        config.max_queue_wait = Duration::from_millis(number("CC_MAX_QUEUE_MS", 500)?);
        config.token_rate_per_minute =
            u32::try_from(number("CC_TOKEN_RATE_PER_MINUTE", 600)?).map_err(|e| e.to_string())?;
        config.token_rate_per_client_per_minute =
            u32::try_from(number("CC_TOKEN_RATE_PER_CLIENT_PER_MINUTE", 600)?)
                .map_err(|e| e.to_string())?;
        config.upload_rate_per_minute =
            u32::try_from(number("CC_UPLOAD_RATE_PER_MINUTE", 6000)?).map_err(|e| e.to_string())?;
        config.upload_rate_per_address_per_minute =
            u32::try_from(number("CC_UPLOAD_RATE_PER_ADDRESS_PER_MINUTE", 6000)?)
                .map_err(|e| e.to_string())?;
        config.find_rate_per_minute =
            u32::try_from(number("CC_FIND_RATE_PER_MINUTE", 10)?).map_err(|e| e.to_string())?;
        config.find_identity_rate_per_hour =
            u32::try_from(number("CC_FIND_IDENTITY_RATE_PER_HOUR", 5)?)
                .map_err(|e| e.to_string())?;
        config.mail.smtp_url = var("CC_SMTP_URL");
        if let Some(from) = var("CC_MAIL_FROM") {
            config.mail.from = from;
        }
        config.mail.test_mode = var("CC_MAIL_TEST_MODE").is_some_and(|v| v == "1" || v == "true");
        config.mail.whitelist = var("CC_MAIL_WHITELIST")
            .map(|list| {
                list.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        config.session_idle = Duration::from_secs(number("CC_SESSION_IDLE_HOURS", 72)? * 3600);
        if let Some(path) = var("CC_SIGNING_KEY_FILE") {
            config.signing_key_file = path.into();
        }
        config.fetch.network = !var("CC_VERIFY_NETWORK").is_some_and(|v| v == "0" || v == "false");
        config.fetch.cache_ttl = Duration::from_secs(number("CC_VERIFY_CACHE_SECONDS", 600)?);
        config.verification_ttl = Duration::from_secs(number("CC_VERIFY_RECHECK_SECONDS", 3600)?);
        Ok(config)
    }
}

/// 32 requests in flight per CPU core: enough to keep the SQLite writer's batches full, few
/// enough that the requests admitted are served quickly on a small machine.
fn default_max_in_flight() -> usize {
    32 * std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_shows_no_password() {
        let mut config = Config::new(Location::Postgres(
            "postgres://cc:db-secret-1@db.example:5432/cc".into(),
        ));
        config.mail.smtp_url = Some("smtps://mailer:smtp-secret-2@mail.example:465".into());
        let shown = format!("{config:?}");
        assert!(shown.contains("postgres://…"), "{shown}");
        assert!(shown.contains("configured"), "{shown}");
        for secret in ["db-secret-1", "smtp-secret-2", "mailer", "db.example"] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
    }

    #[test]
    fn test_mode_lets_only_whitelisted_addresses_and_domains_through() {
        let mail = MailConfig {
            test_mode: true,
            whitelist: vec!["institutionx.edu".into(), "Joel4582B@yahoo.com".into()],
            ..MailConfig::default()
        };
        assert!(mail.allows("jsmith@institutionx.edu"));
        assert!(mail.allows("joel4582b@yahoo.com"));
        assert!(!mail.allows("someone@yahoo.com"));
        assert!(MailConfig::default().allows("anyone@anywhere.example"));
    }
}
