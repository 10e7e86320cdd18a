//! Configuration: every setting is one clap argument ([`Settings`]) with its `CC_` variable,
//! its default and its help text, so `credentialconnect --help` lists them all and the
//! README's table is checked against them (`readme_lists_every_setting_with_its_default`).
//! Read once at start into a [`Config`], passed through the application state, never read
//! globally.

use crate::domain::package::Limits;
use crate::store::Location;
use crate::verify::fetch::FetchConfig;
use clap::{ArgAction, Args, CommandFactory, FromArgMatches, Parser};
use std::path::PathBuf;
use std::time::Duration;

/// The configuration the application runs with, made from [`Settings`]: each field's
/// variable is named beside it; its default and meaning are in `Settings`.
#[derive(Clone)]
pub struct Config {
    pub database: Location,
    /// Where to listen (`CC_BIND`).
    pub bind: String,
    /// The public base URL links are built from (`CC_PUBLIC_URL`), without a trailing slash.
    pub public_url: String,
    /// A token expires after this long without use (`CC_TOKEN_IDLE_SECONDS`).
    pub token_idle: Duration,
    /// …and after this long in any case (`CC_TOKEN_MAX_AGE_SECONDS`).
    pub token_max_age: Duration,
    /// How long a package's claim link stays valid (`CC_PACKAGE_TTL_DAYS`;
    /// `CC_PACKAGE_TTL_SECONDS` when set, for tests and soaks).
    pub package_ttl: Duration,
    /// What is purged, and when: see [`Housekeeping`].
    pub housekeeping: Housekeeping,
    /// Largest accepted request body (`CC_MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    pub limits: Limits,
    /// Serve `POST /bench/echo` for load benchmarks (`CC_BENCH_ECHO=1`).
    pub bench_echo: bool,
    /// Requests handled at once (`CC_MAX_IN_FLIGHT`; 0 = no limit).
    /// Past it a request waits for a turn for at most `max_queue_wait`, then gets 503.
    pub max_in_flight: usize,
    /// The longest a request waits for a turn before it is answered 503 (`CC_MAX_QUEUE_MS`; 0 = answer 503 at once).
    pub max_queue_wait: Duration,
    /// Token requests per client address per minute (`CC_TOKEN_RATE_PER_MINUTE`; 0 = no
    /// limit).
    pub token_rate_per_minute: u32,
    /// Token requests per client id per minute, from any address
    /// (`CC_TOKEN_RATE_PER_CLIENT_PER_MINUTE`; 0 = no limit).
    pub token_rate_per_client_per_minute: u32,
    /// Uploads per partner per minute (`CC_UPLOAD_RATE_PER_MINUTE`; 0 = no
    /// limit).
    pub upload_rate_per_minute: u32,
    /// Uploads per client address per minute, whatever the partner
    /// (`CC_UPLOAD_RATE_PER_ADDRESS_PER_MINUTE`; 0 = no limit).
    pub upload_rate_per_address_per_minute: u32,
    /// Searches on partners' activation pages per client address per minute
    /// (`CC_ACTIVATION_SEARCH_RATE_PER_MINUTE`; 0 = no limit).
    pub activation_search_rate_per_minute: u32,
    /// Searches for one identity (partner + email or student id) per hour
    /// (`CC_ACTIVATION_IDENTITY_RATE_PER_HOUR`; 0 = no limit): each search that matches
    /// mails the person, so this bounds the mail anyone can make them receive.
    pub activation_identity_rate_per_hour: u32,
    /// The verifier's outbound fetches (did:web, https keys, status lists):
    /// `CC_VERIFY_NETWORK=0` turns them off, `CC_VERIFY_CACHE_SECONDS` sets how
    /// long fetched documents are reused.
    pub fetch: FetchConfig,
    /// A stored verification older than this is checked again when the package is viewed
    /// (`CC_VERIFY_RECHECK_SECONDS`): revocations and expiry show up.
    pub verification_ttl: Duration,
    /// How long a wallet's token endpoint or push endpoint may take to answer before the
    /// attempt counts as failed and is retried (10 s; tests shorten it).
    pub wallet_timeout: Duration,
    pub mail: MailConfig,
    /// A session ends after this long without use (`CC_SESSION_IDLE_HOURS`).
    pub session_idle: Duration,
    /// The private key resume credentials are signed with (`CC_SIGNING_KEY_FILE`;
    /// by default beside the SQLite database, or in the working directory on PostgreSQL).
    /// Made on first start; never stored in the database.
    pub signing_key_file: std::path::PathBuf,
}

/// Purging what can no longer be used (expired claim links, tokens, sessions, email links)
/// and what is no longer needed (old delivered mail), once across all instances.
#[derive(Debug, Clone)]
pub struct Housekeeping {
    /// How often (`CC_PURGE_EVERY_SECONDS`; 0 = never).
    pub every: Duration,
    /// Sent and suppressed mail, and wallet pushes that have ended, are kept this long
    /// (`CC_MAIL_RETENTION_DAYS`).
    pub mail_retention: Duration,
    /// The recipient block (names, email, phone, address, ids) of a package nobody claimed
    /// is kept this long (`CC_UNCLAIMED_RETENTION_DAYS`).
    pub unclaimed_retention: Duration,
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
    /// `CC_MAIL_WHITELIST`: comma-separated addresses and domains, added at each start to the
    /// whitelist kept in the database (edited on `/admin/mail` and with `whitelist`).
    pub whitelist: Vec<String>,
}

/// Every setting, as the command line and the environment give it. Each field is one clap
/// argument: `--NAME` on the command line or its `CC_` variable, with its default and help
/// text here and nowhere else. A blank variable counts as unset ([`Settings::prepare`]).
/// A default clap cannot compute (it depends on another setting or on the machine) is
/// written `[default: …]` at the end of the help text, and the setting is an `Option`.
#[derive(Args, Clone, PartialEq)]
#[command(next_help_heading = "Settings (each also read from its CC_ variable)")]
pub struct Settings {
    /// The database: `sqlite://PATH` (`sqlite:///abs/path.db`; created if missing) or
    /// `postgres://…`.
    #[arg(
        long,
        env = "CC_DATABASE_URL",
        default_value = "sqlite://credentialconnect.db",
        hide_env_values = true
    )]
    pub database_url: String,
    /// The listen address.
    #[arg(long, env = "CC_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// The public base URL links are built from [default: http://$CC_BIND]
    #[arg(long, env = "CC_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// A token expires after this long without use.
    #[arg(long, env = "CC_TOKEN_IDLE_SECONDS", default_value = "3600")]
    pub token_idle_seconds: u64,
    /// The cap on a token's life, however much it is used.
    #[arg(long, env = "CC_TOKEN_MAX_AGE_SECONDS", default_value = "86400")]
    pub token_max_age_seconds: u64,
    /// How long a claim link stays valid, in days (CC_PACKAGE_TTL_SECONDS, when set, instead).
    #[arg(long, env = "CC_PACKAGE_TTL_DAYS", default_value = "30")]
    pub package_ttl_days: u64,
    /// How long a claim link stays valid, in seconds, instead of CC_PACKAGE_TTL_DAYS: for
    /// tests and soaks.
    #[arg(long, env = "CC_PACKAGE_TTL_SECONDS")]
    pub package_ttl_seconds: Option<u64>,
    /// How often expired claim links, tokens, sessions, email links and old delivered mail
    /// are purged, by one instance (0 = never).
    #[arg(long, env = "CC_PURGE_EVERY_SECONDS", default_value = "300")]
    pub purge_every_seconds: u64,
    /// Sent and suppressed mail, and wallet pushes that have ended, are kept this long.
    #[arg(long, env = "CC_MAIL_RETENTION_DAYS", default_value = "30")]
    pub mail_retention_days: u64,
    /// The personal data of a package nobody claimed (its recipient block) is kept this long.
    #[arg(long, env = "CC_UNCLAIMED_RETENTION_DAYS", default_value = "90")]
    pub unclaimed_retention_days: u64,
    /// The largest request body (413 past it).
    #[arg(long, env = "CC_MAX_BODY_BYTES", default_value = "5242880")]
    pub max_body_bytes: usize,
    /// The most credentials in one package.
    #[arg(long, env = "CC_MAX_CREDENTIALS", default_value = "500")]
    pub max_credentials: usize,
    /// The most alignments (skills) in one credential.
    #[arg(long, env = "CC_MAX_ALIGNMENTS", default_value = "200")]
    pub max_alignments: usize,
    /// Serve `POST /bench/echo` for load benchmarks (1 or true = on).
    #[arg(long, env = "CC_BENCH_ECHO", default_value = "0", action = ArgAction::Set,
          value_parser = switched_on)]
    pub bench_echo: bool,
    /// Requests handled at once; past it a request waits its turn (0 = no limit)
    /// [default: 32 per CPU core]
    #[arg(long, env = "CC_MAX_IN_FLIGHT")]
    pub max_in_flight: Option<usize>,
    /// The longest a request waits for a turn, in milliseconds; then 503 with
    /// `Retry-After: 1` (0 = 503 at once).
    #[arg(long, env = "CC_MAX_QUEUE_MS", default_value = "500")]
    pub max_queue_ms: u64,
    /// Token requests per client address per minute (429 `slow_down` past it; 0 = off).
    #[arg(long, env = "CC_TOKEN_RATE_PER_MINUTE", default_value = "600")]
    pub token_rate_per_minute: u32,
    /// Token requests per client id per minute, from any address (429 `slow_down`; 0 = off).
    #[arg(
        long,
        env = "CC_TOKEN_RATE_PER_CLIENT_PER_MINUTE",
        default_value = "600"
    )]
    pub token_rate_per_client_per_minute: u32,
    /// Uploads per partner per minute, a `PUT` replacement counting as one (429 past it;
    /// 0 = off).
    #[arg(long, env = "CC_UPLOAD_RATE_PER_MINUTE", default_value = "6000")]
    pub upload_rate_per_minute: u32,
    /// Uploads per client address per minute, whatever the partner (429; 0 = off).
    #[arg(
        long,
        env = "CC_UPLOAD_RATE_PER_ADDRESS_PER_MINUTE",
        default_value = "6000"
    )]
    pub upload_rate_per_address_per_minute: u32,
    /// Activation-page searches per client address per minute (429 past it; 0 = off)
    /// [default: 10]
    #[arg(long, env = "CC_ACTIVATION_SEARCH_RATE_PER_MINUTE")]
    pub activation_search_rate_per_minute: Option<u32>,
    /// Activation-page searches per partner + email address or student id per hour, which
    /// bounds the mail a person can be sent (429 past it; 0 = off) [default: 5]
    #[arg(long, env = "CC_ACTIVATION_IDENTITY_RATE_PER_HOUR")]
    pub activation_identity_rate_per_hour: Option<u32>,
    /// The former name of CC_ACTIVATION_SEARCH_RATE_PER_MINUTE, read when that is unset.
    /// Deprecated, so not listed: clap gives an argument one variable, and these two are
    /// `Option`s (their defaults written in the help text) so that the new name can win.
    #[arg(
        long = "find-rate-per-minute",
        env = "CC_FIND_RATE_PER_MINUTE",
        hide = true
    )]
    pub deprecated_find_rate_per_minute: Option<u32>,
    /// The former name of CC_ACTIVATION_IDENTITY_RATE_PER_HOUR, read when that is unset.
    #[arg(
        long = "find-identity-rate-per-hour",
        env = "CC_FIND_IDENTITY_RATE_PER_HOUR",
        hide = true
    )]
    pub deprecated_find_identity_rate_per_hour: Option<u32>,
    /// `smtp://host:587` (STARTTLS when offered, `?tls=required` to insist),
    /// `smtps://host:465`, `user:pass@` if needed. `log`: written to the log (development
    /// only). Unset: mail waits in the outbox (`demo` logs it).
    #[arg(long, env = "CC_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of every message.
    #[arg(
        long,
        env = "CC_MAIL_FROM",
        default_value = "CredentialConnect <no-reply@localhost>"
    )]
    pub mail_from: String,
    /// Test mode (1 or true = on): only CC_MAIL_WHITELIST's addresses and domains get mail;
    /// the rest is recorded as suppressed.
    #[arg(long, env = "CC_MAIL_TEST_MODE", default_value = "0", action = ArgAction::Set,
          value_parser = switched_on)]
    pub mail_test_mode: bool,
    /// The addresses and domains that get mail in test mode, comma-separated.
    #[arg(long, env = "CC_MAIL_WHITELIST", value_delimiter = ',')]
    pub mail_whitelist: Vec<String>,
    /// A sign-in ends after this long without use (30 days at most).
    #[arg(long, env = "CC_SESSION_IDLE_HOURS", default_value = "72")]
    pub session_idle_hours: u64,
    /// 0 or false stops the verifier fetching did:web documents, key documents and status
    /// lists (proofs needing them become `attested`).
    #[arg(long, env = "CC_VERIFY_NETWORK", default_value = "1", action = ArgAction::Set,
          value_parser = not_switched_off)]
    pub verify_network: bool,
    /// How long fetched documents are reused.
    #[arg(long, env = "CC_VERIFY_CACHE_SECONDS", default_value = "600")]
    pub verify_cache_seconds: u64,
    /// Development and tests only: outbound calls (verification fetches, logos, wallet
    /// pushes, pull URLs) may also go to loopback addresses, over plain http.
    #[arg(long, env = "CC_OUTBOUND_ALLOW_LOOPBACK", default_value = "0", action = ArgAction::Set,
          value_parser = switched_on)]
    pub outbound_allow_loopback: bool,
    /// A stored verification older than this is checked again when its package is viewed.
    #[arg(long, env = "CC_VERIFY_RECHECK_SECONDS", default_value = "3600")]
    pub verify_recheck_seconds: u64,
    /// The Ed25519 key resume credentials are signed with, made on first start (mode 0600),
    /// never stored in the database; beside it, FILE.share-links holds the share-link key
    /// and FILE.sealing the key wallet client secrets are sealed with
    /// [default: beside the SQLite file (NAME.signing-key.json);
    /// credentialconnect.signing-key.json on PostgreSQL]
    #[arg(long, env = "CC_SIGNING_KEY_FILE")]
    pub signing_key_file: Option<PathBuf>,
}

/// `CC_BENCH_ECHO`, `CC_MAIL_TEST_MODE`: on only when asked for by name.
fn switched_on(value: &str) -> Result<bool, std::convert::Infallible> {
    Ok(value == "1" || value == "true")
}

/// `CC_VERIFY_NETWORK`: on unless turned off by name.
fn not_switched_off(value: &str) -> Result<bool, std::convert::Infallible> {
    Ok(!(value == "0" || value == "false"))
}

/// For reading settings alone (tests, [`Settings::defaults`]).
#[derive(Parser)]
struct SettingsOnly {
    #[command(flatten)]
    settings: Settings,
}

impl Settings {
    /// Every default, whatever the environment says: what `Config::new` starts from.
    pub fn defaults() -> Settings {
        let command = SettingsOnly::command().mut_args(|arg| arg.env(None::<&'static str>));
        let matches = command
            .try_get_matches_from(["credentialconnect"])
            .expect("the defaults parse");
        SettingsOnly::from_arg_matches(&matches)
            .expect("the defaults parse")
            .settings
    }

    /// Prepares a command that has `Settings` among its arguments: each value is named after
    /// its variable (`--token-idle-seconds <CC_TOKEN_IDLE_SECONDS>`, in `--help` and in the
    /// error a bad value gets), and a blank `CC_` variable counts as unset (as it always
    /// has) rather than as an empty value a number cannot be read from.
    pub fn prepare(command: clap::Command) -> clap::Command {
        command.mut_args(|arg| {
            let Some(name) = arg
                .get_env()
                .map(|name| name.to_string_lossy().into_owned())
            else {
                return arg;
            };
            let blank =
                std::env::var_os(&name).is_some_and(|v| v.to_string_lossy().trim().is_empty());
            let arg = arg.value_name(name);
            if blank {
                arg.env(None::<&'static str>)
            } else {
                arg
            }
        })
    }

    /// Settings from the environment alone (no arguments), as `serve` reads them.
    pub fn from_env() -> Result<Settings, String> {
        let matches = Settings::prepare(SettingsOnly::command())
            .try_get_matches_from(["credentialconnect"])
            .map_err(|e| e.to_string())?;
        SettingsOnly::from_arg_matches(&matches)
            .map(|only| only.settings)
            .map_err(|e| e.to_string())
    }
}

/// A setting as `--help` and the README describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Documented {
    /// The `CC_` variable.
    pub variable: String,
    /// The default as `--help` shows it: clap's default value, or the `[default: …]` the help
    /// text ends with when clap cannot compute it; `unset` when there is none.
    pub default: String,
}

impl Settings {
    /// Every setting's variable and default, in the order `--help` lists them (a hidden,
    /// deprecated name is not a setting of its own).
    pub fn documented() -> Vec<Documented> {
        SettingsOnly::command()
            .get_arguments()
            .filter(|arg| !arg.is_hide_set())
            .filter_map(|arg| {
                let variable = arg.get_env()?.to_string_lossy().into_owned();
                let defaults: Vec<String> = arg
                    .get_default_values()
                    .iter()
                    .map(|v| v.to_string_lossy().into_owned())
                    .collect();
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                let written = help
                    .rsplit_once("[default: ")
                    .and_then(|(_, rest)| rest.strip_suffix(']'))
                    .map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "));
                let default = if !defaults.is_empty() {
                    defaults.join(",")
                } else {
                    written.unwrap_or_else(|| "unset".to_string())
                };
                Some(Documented { variable, default })
            })
            .collect()
    }
}

/// The database URL may carry a password, the SMTP URL a user and password: neither is shown.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &database_engine(&self.database_url))
            .field("bind", &self.bind)
            .field("public_url", &self.public_url)
            .field("token_idle_seconds", &self.token_idle_seconds)
            .field("token_max_age_seconds", &self.token_max_age_seconds)
            .field("package_ttl_days", &self.package_ttl_days)
            .field("package_ttl_seconds", &self.package_ttl_seconds)
            .field("purge_every_seconds", &self.purge_every_seconds)
            .field("mail_retention_days", &self.mail_retention_days)
            .field("unclaimed_retention_days", &self.unclaimed_retention_days)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_credentials", &self.max_credentials)
            .field("max_alignments", &self.max_alignments)
            .field("bench_echo", &self.bench_echo)
            .field("max_in_flight", &self.max_in_flight)
            .field("max_queue_ms", &self.max_queue_ms)
            .field("token_rate_per_minute", &self.token_rate_per_minute)
            .field(
                "token_rate_per_client_per_minute",
                &self.token_rate_per_client_per_minute,
            )
            .field("upload_rate_per_minute", &self.upload_rate_per_minute)
            .field(
                "upload_rate_per_address_per_minute",
                &self.upload_rate_per_address_per_minute,
            )
            .field(
                "activation_search_rate_per_minute",
                &self.activation_search_rate_per_minute,
            )
            .field(
                "activation_identity_rate_per_hour",
                &self.activation_identity_rate_per_hour,
            )
            .field(
                "deprecated_find_rate_per_minute",
                &self.deprecated_find_rate_per_minute,
            )
            .field(
                "deprecated_find_identity_rate_per_hour",
                &self.deprecated_find_identity_rate_per_hour,
            )
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "configured"))
            .field("mail_from", &self.mail_from)
            .field("mail_test_mode", &self.mail_test_mode)
            .field("mail_whitelist", &self.mail_whitelist)
            .field("session_idle_hours", &self.session_idle_hours)
            .field("verify_network", &self.verify_network)
            .field("verify_cache_seconds", &self.verify_cache_seconds)
            .field("outbound_allow_loopback", &self.outbound_allow_loopback)
            .field("verify_recheck_seconds", &self.verify_recheck_seconds)
            .field("signing_key_file", &self.signing_key_file)
            .finish()
    }
}

/// A database URL without what may follow the scheme of a PostgreSQL URL (user, password,
/// host); a SQLite URL is a file path and is shown whole.
fn database_engine(url: &str) -> String {
    if url.starts_with("sqlite:") {
        url.to_string()
    } else {
        match url.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://…"),
            None => "…".to_string(),
        }
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
            .field("limits", &self.limits)
            .field("bench_echo", &self.bench_echo)
            .field("max_in_flight", &self.max_in_flight)
            .field("max_queue_wait", &self.max_queue_wait)
            .field("token_rate_per_minute", &self.token_rate_per_minute)
            .field(
                "token_rate_per_client_per_minute",
                &self.token_rate_per_client_per_minute,
            )
            .field("upload_rate_per_minute", &self.upload_rate_per_minute)
            .field(
                "upload_rate_per_address_per_minute",
                &self.upload_rate_per_address_per_minute,
            )
            .field(
                "activation_search_rate_per_minute",
                &self.activation_search_rate_per_minute,
            )
            .field(
                "activation_identity_rate_per_hour",
                &self.activation_identity_rate_per_hour,
            )
            .field("fetch", &self.fetch)
            .field("verification_ttl", &self.verification_ttl)
            .field("wallet_timeout", &self.wallet_timeout)
            .field("smtp", &self.mail.smtp_url.as_ref().map(|_| "configured"))
            .field("mail_from", &self.mail.from)
            .field("mail_test_mode", &self.mail.test_mode)
            .field("mail_whitelist", &self.mail.whitelist)
            .field("session_idle", &self.session_idle)
            .field("signing_key_file", &self.signing_key_file)
            .finish()
    }
}

impl Config {
    /// The defaults ([`Settings::defaults`]) on a database, for tests, benchmarks and tools
    /// that build a configuration in code and then change what they need.
    pub fn new(database: Location) -> Config {
        Config::on(database, Settings::defaults())
    }

    /// The configuration settings describe: the database URL is checked here.
    pub fn from_settings(settings: Settings) -> Result<Config, String> {
        let database = Location::parse(&settings.database_url)?;
        Ok(Config::on(database, settings))
    }

    /// `CC_*` variables over the defaults (no command-line arguments).
    pub fn from_env() -> Result<Config, String> {
        Config::from_settings(Settings::from_env()?)
    }

    fn on(database: Location, settings: Settings) -> Config {
        let signing_key_file = settings
            .signing_key_file
            .unwrap_or_else(|| match &database {
                Location::Sqlite(path) => path.with_extension("signing-key.json"),
                Location::Postgres(_) => "credentialconnect.signing-key.json".into(),
            });
        let package_ttl = match settings.package_ttl_seconds {
            Some(seconds) => Duration::from_secs(seconds),
            None => days(settings.package_ttl_days),
        };
        Config {
            signing_key_file,
            database,
            public_url: match settings.public_url {
                Some(url) => url.trim_end_matches('/').to_string(),
                None => format!("http://{}", settings.bind),
            },
            bind: settings.bind,
            token_idle: Duration::from_secs(settings.token_idle_seconds),
            token_max_age: Duration::from_secs(settings.token_max_age_seconds),
            package_ttl,
            housekeeping: Housekeeping {
                every: Duration::from_secs(settings.purge_every_seconds),
                mail_retention: days(settings.mail_retention_days),
                unclaimed_retention: days(settings.unclaimed_retention_days),
            },
            max_body_bytes: settings.max_body_bytes,
            limits: Limits {
                max_credentials: settings.max_credentials,
                max_alignments: settings.max_alignments,
            },
            bench_echo: settings.bench_echo,
            max_in_flight: settings.max_in_flight.unwrap_or_else(default_max_in_flight),
            max_queue_wait: Duration::from_millis(settings.max_queue_ms),
            token_rate_per_minute: settings.token_rate_per_minute,
            token_rate_per_client_per_minute: settings.token_rate_per_client_per_minute,
            upload_rate_per_minute: settings.upload_rate_per_minute,
            upload_rate_per_address_per_minute: settings.upload_rate_per_address_per_minute,
            activation_search_rate_per_minute: settings
                .activation_search_rate_per_minute
                .or(settings.deprecated_find_rate_per_minute)
                .unwrap_or(ACTIVATION_SEARCH_RATE_PER_MINUTE),
            activation_identity_rate_per_hour: settings
                .activation_identity_rate_per_hour
                .or(settings.deprecated_find_identity_rate_per_hour)
                .unwrap_or(ACTIVATION_IDENTITY_RATE_PER_HOUR),
            mail: MailConfig {
                smtp_url: settings.smtp_url,
                from: settings.mail_from,
                test_mode: settings.mail_test_mode,
                whitelist: settings
                    .mail_whitelist
                    .into_iter()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
            },
            session_idle: Duration::from_secs(settings.session_idle_hours.saturating_mul(3600)),
            fetch: FetchConfig {
                network: settings.verify_network,
                cache_ttl: Duration::from_secs(settings.verify_cache_seconds),
                allow_loopback: settings.outbound_allow_loopback,
                ..FetchConfig::default()
            },
            wallet_timeout: WALLET_TIMEOUT,
            verification_ttl: Duration::from_secs(settings.verify_recheck_seconds),
        }
    }
}

/// How long a wallet may take to answer one request: a wallet slower than 10 s has failed
/// that attempt, which is retried (README, "Wallet push").
const WALLET_TIMEOUT: Duration = Duration::from_secs(10);

/// The defaults of the activation page's limits, as their help texts give them.
const ACTIVATION_SEARCH_RATE_PER_MINUTE: u32 = 10;
const ACTIVATION_IDENTITY_RATE_PER_HOUR: u32 = 5;

fn days(days: u64) -> Duration {
    Duration::from_secs(days.saturating_mul(24 * 3600))
}

/// 32 requests in flight per CPU core: enough to keep the SQLite writer's batches full, few
/// enough that the requests admitted are served quickly on a small machine.
fn default_max_in_flight() -> usize {
    32 * std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings from these arguments alone, whatever the environment says.
    fn parse(args: &[&str]) -> Settings {
        let command = SettingsOnly::command().mut_args(|arg| arg.env(None::<&'static str>));
        let matches = command
            .try_get_matches_from(std::iter::once("credentialconnect").chain(args.iter().copied()))
            .expect("parses");
        SettingsOnly::from_arg_matches(&matches)
            .expect("parses")
            .settings
    }

    #[test]
    fn the_defaults_are_the_documented_ones() {
        let config = Config::new(Location::Sqlite("cc.db".into()));
        assert_eq!(config.bind, "127.0.0.1:8080");
        assert_eq!(config.public_url, "http://127.0.0.1:8080");
        assert_eq!(config.token_idle, Duration::from_secs(3600));
        assert_eq!(config.token_max_age, Duration::from_secs(24 * 3600));
        assert_eq!(config.package_ttl, Duration::from_secs(30 * 24 * 3600));
        assert_eq!(config.housekeeping.every, Duration::from_secs(300));
        assert_eq!(
            config.housekeeping.mail_retention,
            Duration::from_secs(30 * 24 * 3600)
        );
        assert_eq!(
            config.housekeeping.unclaimed_retention,
            Duration::from_secs(90 * 24 * 3600)
        );
        assert_eq!(config.max_body_bytes, 5 * 1024 * 1024);
        // The domain's own defaults (its unit tests use them) are the service's.
        assert_eq!(
            config.limits.max_credentials,
            Limits::default().max_credentials
        );
        assert_eq!(
            config.limits.max_alignments,
            Limits::default().max_alignments
        );
        assert_eq!(config.limits.max_credentials, 500);
        assert_eq!(config.limits.max_alignments, 200);
        assert!(!config.bench_echo);
        assert_eq!(config.max_in_flight, default_max_in_flight());
        assert_eq!(config.max_queue_wait, Duration::from_millis(500));
        assert_eq!(config.token_rate_per_minute, 600);
        assert_eq!(config.token_rate_per_client_per_minute, 600);
        assert_eq!(config.upload_rate_per_minute, 6000);
        assert_eq!(config.upload_rate_per_address_per_minute, 6000);
        assert_eq!(config.activation_search_rate_per_minute, 10);
        assert_eq!(config.activation_identity_rate_per_hour, 5);
        assert_eq!(config.mail.smtp_url, None);
        assert_eq!(config.mail.from, "CredentialConnect <no-reply@localhost>");
        assert!(!config.mail.test_mode);
        assert!(config.mail.whitelist.is_empty());
        assert_eq!(config.session_idle, Duration::from_secs(72 * 3600));
        assert!(config.fetch.network);
        assert_eq!(config.fetch.cache_ttl, FetchConfig::default().cache_ttl);
        assert_eq!(config.fetch.cache_ttl, Duration::from_secs(600));
        assert_eq!(config.verification_ttl, Duration::from_secs(3600));
        assert_eq!(
            config.signing_key_file,
            PathBuf::from("cc.signing-key.json")
        );
        let on_postgres = Config::new(Location::Postgres("postgres://db/cc".into()));
        assert_eq!(
            on_postgres.signing_key_file,
            PathBuf::from("credentialconnect.signing-key.json")
        );
    }

    #[test]
    fn package_ttl_seconds_when_given_replaces_the_days() {
        let days = Config::from_settings(parse(&["--package-ttl-days", "2"])).expect("valid");
        assert_eq!(days.package_ttl, Duration::from_secs(2 * 24 * 3600));
        let seconds = Config::from_settings(parse(&[
            "--package-ttl-days",
            "2",
            "--package-ttl-seconds",
            "5",
        ]))
        .expect("valid");
        assert_eq!(seconds.package_ttl, Duration::from_secs(5));
    }

    #[test]
    fn settings_that_depend_on_others_follow_them() {
        let config = Config::from_settings(parse(&[
            "--database-url",
            "sqlite:///var/lib/cc/main.db",
            "--bind",
            "0.0.0.0:9000",
        ]))
        .expect("valid");
        assert_eq!(config.public_url, "http://0.0.0.0:9000");
        assert_eq!(
            config.signing_key_file,
            PathBuf::from("/var/lib/cc/main.signing-key.json")
        );
        let config = Config::from_settings(parse(&[
            "--public-url",
            "https://cc.example/",
            "--mail-whitelist",
            "a@b.example, c.example,,",
            "--verify-network",
            "false",
            "--mail-test-mode",
            "1",
        ]))
        .expect("valid");
        assert_eq!(config.public_url, "https://cc.example");
        assert_eq!(config.mail.whitelist, ["a@b.example", "c.example"]);
        assert!(!config.fetch.network);
        assert!(config.mail.test_mode);
    }

    #[test]
    fn the_activation_limits_former_names_still_work_and_the_new_ones_win() {
        let config = Config::from_settings(parse(&[
            "--find-rate-per-minute",
            "7",
            "--find-identity-rate-per-hour",
            "2",
        ]))
        .expect("valid");
        assert_eq!(config.activation_search_rate_per_minute, 7);
        assert_eq!(config.activation_identity_rate_per_hour, 2);
        let config = Config::from_settings(parse(&[
            "--find-rate-per-minute",
            "7",
            "--activation-search-rate-per-minute",
            "3",
            "--find-identity-rate-per-hour",
            "2",
            "--activation-identity-rate-per-hour",
            "0",
        ]))
        .expect("valid");
        assert_eq!(config.activation_search_rate_per_minute, 3);
        assert_eq!(config.activation_identity_rate_per_hour, 0);
        // The former names are read, not listed.
        let variables: Vec<String> = Settings::documented()
            .into_iter()
            .map(|setting| setting.variable)
            .collect();
        assert!(variables.contains(&"CC_ACTIVATION_SEARCH_RATE_PER_MINUTE".to_string()));
        assert!(
            !variables
                .iter()
                .any(|variable| variable.starts_with("CC_FIND_"))
        );
    }

    #[test]
    fn a_database_url_naming_no_engine_is_refused() {
        let error = Config::from_settings(parse(&["--database-url", "mysql://db/cc"]))
            .expect_err("refused");
        assert!(error.contains("sqlite://PATH or postgres://"), "{error}");
    }

    #[test]
    fn settings_debug_output_shows_no_password() {
        let settings = parse(&[
            "--database-url",
            "postgres://cc:db-secret-1@db.example:5432/cc",
            "--smtp-url",
            "smtps://mailer:smtp-secret-2@mail.example:465",
        ]);
        let shown = format!("{settings:?}");
        assert!(shown.contains("postgres://…"), "{shown}");
        for secret in ["db-secret-1", "smtp-secret-2", "mailer", "db.example"] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
    }

    /// The README's table of settings: (variable, default) per row, backticks removed.
    fn readme_settings() -> Vec<(String, String)> {
        let readme = include_str!("../README.md");
        let mut lines = readme
            .lines()
            .skip_while(|line| line.trim() != "| variable | default | meaning |")
            .skip(2);
        let mut rows = Vec::new();
        for line in lines.by_ref().take_while(|line| line.starts_with('|')) {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
            let clean = |cell: &str| cell.replace('`', "").trim().to_string();
            rows.push((clean(cells[0]), clean(cells[1])));
        }
        assert!(
            !rows.is_empty(),
            "README has a | variable | default | meaning | table"
        );
        rows
    }

    #[test]
    fn readme_lists_every_setting_with_its_default() {
        let readme = readme_settings();
        let settings = Settings::documented();
        for setting in &settings {
            let Some((_, written)) = readme.iter().find(|(name, _)| *name == setting.variable)
            else {
                panic!("{} is not in the README's table", setting.variable);
            };
            // The README may add a remark in brackets after the default.
            assert!(
                *written == setting.default
                    || written.starts_with(&format!("{} (", setting.default)),
                "README gives {} the default {written:?}, --help {:?}",
                setting.variable,
                setting.default
            );
        }
        for (name, _) in &readme {
            assert!(
                settings.iter().any(|s| s.variable == *name),
                "the README's {name} is no setting"
            );
        }
        assert_eq!(
            readme.len(),
            settings.len(),
            "each setting once in the README"
        );
    }

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
}
