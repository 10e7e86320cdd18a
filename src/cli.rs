//! The command line: `serve`, `demo`, the operator's verbs (`partner`, `marketplace`,
//! `mapping`, `alerts`, `audit`, `account`, `context`) and `verify` for partners debugging their signing. Output
//! meant for scripts is one JSON object per command.

use crate::config::{Config, Settings};
use crate::domain::audit::{Action, Actor, Filter};
use crate::domain::scopes::Scopes;
use crate::domain::sections::Section;
use crate::domain::verification::VerificationState;
use crate::services::App;
use crate::services::logos;
use crate::services::marketplaces::{self, MarketplaceRequest};
use crate::services::partners::{self as partner_admin, PartnerRequest};
use crate::services::personal_data;
use crate::services::verification;
use crate::services::wallet::{self, WalletChange};
use crate::store::{alerts, partners};
use crate::verify::contexts::Contexts;
use crate::verify::fetch::FetchConfig;
use crate::verify::input as verify_input;
use crate::verify::{FileReport, Outcome, Verifier};
use anyhow::{Context, anyhow};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(
    name = "credentialconnect",
    version,
    about = "CredentialConnect: credentials in, skills-first resumes out"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub settings: Settings,
}

impl Cli {
    /// The process's arguments over its `CC_` variables over the defaults; a blank variable
    /// counts as unset. Exits with clap's message on a bad value or `--help`.
    pub fn from_env_and_args() -> Cli {
        let matches = Settings::prepare(Cli::command()).get_matches();
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the service (settings: `credentialconnect --help` lists each with its CC_
    /// variable and default).
    Serve,
    /// Run the service on a local SQLite file with a demo partner, and print how to call it.
    Demo {
        /// The SQLite file to use.
        #[arg(long, default_value = "credentialconnect-demo.db")]
        database: String,
    },
    /// Manage partners (API clients).
    #[command(subcommand)]
    Partner(PartnerCommand),
    /// Route credential issuers to a marketplace's landing on the claim page.
    #[command(subcommand)]
    Marketplace(MarketplaceCommand),
    /// Map an achievementType to a resume section (moves waiting Unassigned credentials).
    Mapping {
        /// The achievementType, as partners send it.
        #[arg(long = "type")]
        achievement_type: String,
        /// The section: Education, Certification, Credentials, Experience, "Skills and Abilities",
        /// "Relevant Coursework", Activities, Licenses, "Professional Affiliations".
        #[arg(long)]
        section: String,
        /// Only for this partner (by slug); without it the rule applies to every partner.
        #[arg(long)]
        partner: Option<String>,
    },
    /// List open alerts (unknown achievement types, failed proofs, second claims, mail test
    /// mode held back) as JSON lines; with --acknowledge, close one (an unknown type is
    /// settled with `mapping` instead).
    Alerts {
        /// The id of the alert to acknowledge (recorded in the audit log).
        #[arg(long)]
        acknowledge: Option<String>,
    },
    /// Admin accounts for the web admin area (/admin).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Test mode's mail whitelist (CC_MAIL_TEST_MODE=1: only these addresses and domains
    /// get mail). CC_MAIL_WHITELIST adds its entries at each start.
    #[command(subcommand)]
    Whitelist(WhitelistCommand),
    /// Print the audit log as JSON Lines, oldest first (every administrative and
    /// security-relevant action: who, what, when, from where). Entries cannot be changed.
    Audit {
        /// Only this action (e.g. partner.secret_rotated, account.erased, claim.conflict).
        #[arg(long)]
        action: Option<String>,
        /// Only this actor (an account id, or an operator's login).
        #[arg(long)]
        actor: Option<String>,
        /// Only entries about this subject (a partner slug, an account id, a credential id).
        #[arg(long)]
        subject: Option<String>,
        /// Only entries at or after this time (RFC 3339, e.g. 2026-12-01T00:00:00Z).
        #[arg(long)]
        since: Option<String>,
        /// Only entries before this time (RFC 3339).
        #[arg(long)]
        until: Option<String>,
    },
    /// A person's data: everything held about them, or erasing their account.
    #[command(subcommand)]
    Account(AccountCommand),
    /// List the latest outgoing mail (sent, queued or suppressed in test mode) as JSON lines.
    Outbox {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Verify a credential file (OB 3.0 or CLR 2.0 JSON, a VC-JWT, or a baked PNG/SVG badge)
    /// and print each check; exits 0 only when the state is `verified`.
    Verify {
        /// The credential file.
        file: std::path::PathBuf,
        /// Print one JSON object: {"state", "reasons", "credentials": [{"checks", …}]}.
        #[arg(long)]
        json: bool,
        /// Make no network requests (did:web, https keys and status lists then cannot be
        /// resolved unless given with --document).
        #[arg(long)]
        offline: bool,
        /// Serve this file for this URL instead of fetching it (a DID document, key document
        /// or status list you have not published yet): URL=FILE, repeatable.
        #[arg(long = "document", value_name = "URL=FILE")]
        documents: Vec<String>,
        /// Use this JSON-LD context for this URL (as `context add` would): URL=FILE, repeatable.
        #[arg(long = "context", value_name = "URL=FILE")]
        contexts: Vec<String>,
    },
    /// JSON-LD contexts verification may use besides the bundled ones.
    #[command(subcommand)]
    Context(ContextCommand),
    /// The key this deployment signs resume credentials with (CC_SIGNING_KEY_FILE).
    #[command(subcommand)]
    SigningKey(SigningKeyCommand),
}

#[derive(Subcommand, Debug)]
pub enum WhitelistCommand {
    /// Print the entries, one per line.
    List,
    /// Add an address (person@example.org) or a domain (example.org).
    Add { entry: String },
    /// Remove an address or a domain.
    Remove { entry: String },
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Make the account of this address an admin (making the account if there is none) and
    /// print a one-time link (24 hours) that sets its password. Signing in then asks for a
    /// code from an authenticator app, set up on the first visit. Run again for a new link.
    Create {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum AccountCommand {
    /// Print everything held about the account with this email address as one JSON
    /// document (what the person downloads from /account). Recorded in the audit log.
    Export { email: String },
    /// Erase the account with this email address and its personal data (what the person
    /// does from /account). Only digests of the assertions it owned are kept. Recorded in
    /// the audit log, without personal data. Prints what was removed, in numbers.
    Erase {
        email: String,
        /// Confirms the erasure: it cannot be undone.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum SigningKeyCommand {
    /// Replace the key with a new one; resumes signed before keep verifying (the old public
    /// key stays in /.well-known/did.json). Prints {"did", "public_key"}.
    Rotate,
    /// Print the DID document /.well-known/did.json serves.
    Show,
}

#[derive(Subcommand, Debug)]
pub enum ContextCommand {
    /// Add (or replace) a context: proofs using it become checkable. Contexts are never
    /// fetched by the verifier; this is how a new one arrives.
    Add {
        url: String,
        file: std::path::PathBuf,
    },
    /// List bundled and added contexts as JSON lines.
    List,
    /// Remove an added context.
    Remove { url: String },
}

#[derive(Subcommand, Debug)]
pub enum PartnerCommand {
    /// Create a partner; prints {"client_id", "client_secret", …} once.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        slug: Option<String>,
        #[arg(long, default_value = "readonly replace delete")]
        scopes: String,
        /// The partner's assertion ids change between updates (identity is recipient id +
        /// achievement id).
        #[arg(long)]
        unstable_ids: bool,
        /// Treat proofs that cannot be checked as failed rather than attested.
        #[arg(long)]
        strict: bool,
        /// The logo shown on the partner's activation page (/find/SLUG): a PNG, JPEG, WebP or
        /// SVG file, or an https URL fetched once; at most 512 KB. Served from this site.
        #[arg(long, visible_alias = "logo-url", value_name = "FILE_OR_URL")]
        logo: Option<String>,
    },
    /// List partners as JSON lines.
    List,
    /// Issue a new client secret (old tokens stop working); prints it once.
    RotateSecret { slug: String },
    /// Disable a partner: its secret and tokens stop working; its data stays.
    Disable { slug: String },
    /// Change how a partner's uploads are read.
    Set {
        slug: String,
        #[arg(long)]
        strict: Option<bool>,
        #[arg(long)]
        unstable_ids: Option<bool>,
        /// What its tokens may do, e.g. "readonly replace delete"; its current tokens are
        /// revoked (they carry the old scopes).
        #[arg(long)]
        scopes: Option<String>,
        /// The logo shown on the partner's activation page (/find/SLUG): a file or an https
        /// URL fetched once (as `create --logo`); an empty value removes it.
        #[arg(long, visible_alias = "logo-url", value_name = "FILE_OR_URL")]
        logo: Option<String>,
        /// Where /import sends a person to fetch their credentials from this partner: an
        /// https URL, given `recipientToken` and `redirectURL` query parameters; an empty
        /// value removes it (and the partner from /import).
        #[arg(long)]
        pull_url: Option<String>,
        #[command(flatten)]
        wallet: WalletArgs,
    },
}

/// A wallet partner's settings: where "Share To My Wallet" pushes the signed resume, the
/// OAuth 2.0 client credentials for it, and where the person's browser goes afterwards.
/// The first four are given together (the secret also by `CC_WALLET_CLIENT_SECRET`, which
/// keeps it out of the process list); an empty --wallet-push-url removes the wallet.
#[derive(clap::Args, Debug, Default)]
pub struct WalletArgs {
    /// Where resume credentials are POSTed (OB 3.0 upsert style): https.
    #[arg(long, value_name = "URL")]
    wallet_push_url: Option<String>,
    /// The wallet's OAuth 2.0 token URL (client credentials grant): https.
    #[arg(long, value_name = "URL")]
    wallet_token_url: Option<String>,
    #[arg(long, value_name = "ID")]
    wallet_client_id: Option<String>,
    /// Stored sealed, never shown again.
    #[arg(
        long,
        value_name = "SECRET",
        env = "CC_WALLET_CLIENT_SECRET",
        hide_env_values = true
    )]
    wallet_client_secret: Option<String>,
    /// Where the browser goes once a push is queued: https.
    #[arg(long, value_name = "URL")]
    wallet_landing_url: Option<String>,
}

impl WalletArgs {
    /// The change asked for, if any: every part, or the removal.
    fn change(self) -> anyhow::Result<Option<WalletChange>> {
        let WalletArgs {
            wallet_push_url,
            wallet_token_url,
            wallet_client_id,
            wallet_client_secret,
            wallet_landing_url,
        } = self;
        if wallet_push_url
            .as_deref()
            .is_some_and(|u| u.trim().is_empty())
        {
            return Ok(Some(WalletChange::Remove));
        }
        match (
            wallet_push_url,
            wallet_token_url,
            wallet_client_id,
            wallet_client_secret,
            wallet_landing_url,
        ) {
            (None, None, None, _, None) => Ok(None),
            (
                Some(push_url),
                Some(token_url),
                Some(client_id),
                Some(client_secret),
                Some(landing_url),
            ) => Ok(Some(WalletChange::Set {
                push_url,
                token_url,
                client_id,
                client_secret,
                landing_url,
            })),
            _ => Err(anyhow!(
                "a wallet needs all of --wallet-push-url, --wallet-token-url, --wallet-client-id, --wallet-client-secret (or CC_WALLET_CLIENT_SECRET) and --wallet-landing-url; --wallet-push-url \"\" removes it"
            )),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum MarketplaceCommand {
    /// Route issuer ids to a marketplace, made when no marketplace has this name (then at
    /// least one --issuer is needed); with an existing name the issuer ids are added and the
    /// landing text or logo given replace its own. An issuer id routed to another
    /// marketplace is refused. Prints the marketplace as JSON.
    Add {
        /// The credential issuer id (`issuer.id`) to route; repeatable.
        #[arg(long = "issuer", value_name = "ID")]
        issuers: Vec<String>,
        #[arg(long)]
        name: String,
        /// A PNG, JPEG, WebP or SVG file, or an https URL fetched once; at most 512 KB. An
        /// empty value removes it.
        #[arg(long, value_name = "FILE_OR_URL")]
        logo: Option<String>,
        /// Plain text shown at sign-up on the claim page; a blank line starts a paragraph.
        /// An empty value removes it.
        #[arg(long, value_name = "TEXT")]
        landing: Option<String>,
    },
    /// List marketplaces with their issuer ids as JSON lines.
    List,
    /// Remove a marketplace (by id or name) with its routes and logo, or only the issuer ids
    /// given with --issuer.
    Remove {
        marketplace: String,
        #[arg(long = "issuer", value_name = "ID")]
        issuers: Vec<String>,
    },
}

/// Runs a command; the exit code is success unless the command says otherwise (`verify`).
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let settings = cli.settings;
    match cli.command {
        Command::Verify {
            file,
            json,
            offline,
            documents,
            contexts,
        } => {
            return verify(VerifyArgs {
                file,
                json,
                offline,
                documents,
                contexts,
                settings,
            })
            .await;
        }
        Command::Context(command) => context(open_app(settings).await?, command).await?,
        Command::SigningKey(command) => {
            let app = open_app(settings).await?;
            let printed = match command {
                SigningKeyCommand::Rotate => {
                    let public_key = crate::services::signing_key::rotate(
                        &app,
                        &crate::domain::audit::Actor::operator(),
                    )
                    .await?;
                    serde_json::json!({
                        "did": crate::services::signing_key::did(&app),
                        "public_key": public_key,
                        "key_file": app.signing_key.path().display().to_string(),
                    })
                }
                SigningKeyCommand::Show => crate::services::signing_key::document(&app).await?,
            };
            println!("{printed}");
        }
        Command::Serve => serve(open_app(settings).await?).await?,
        Command::Demo { database } => demo(settings, &database).await?,
        Command::Partner(command) => partner(open_app(settings).await?, command).await?,
        Command::Marketplace(command) => marketplace(open_app(settings).await?, command).await?,
        Command::Mapping {
            achievement_type,
            section,
            partner,
        } => {
            let app = open_app(settings).await?;
            let section: Section = section.parse().map_err(|e| anyhow!("{e}"))?;
            let moved = crate::services::mapping::assign(
                &app,
                &crate::domain::audit::Actor::operator(),
                partner.as_deref(),
                &achievement_type,
                section,
            )
            .await?;
            println!(
                "{}",
                serde_json::json!({"section": section.title(), "moved": moved})
            );
        }
        Command::Outbox { limit } => {
            let app = open_app(settings).await?;
            for entry in app
                .store
                .read(move |conn| crate::store::outbox::recent(conn, limit))
                .await?
            {
                println!(
                    "{}",
                    serde_json::json!({"to": entry.to, "subject": entry.subject, "state": entry.state, "attempts": entry.attempts, "last_error": entry.last_error, "created_at": crate::clock::rfc3339(entry.created_at)})
                );
            }
        }
        Command::Audit {
            action,
            actor,
            subject,
            since,
            until,
        } => {
            let filter = audit_filter(action, actor, subject, since, until)?;
            audit_log(open_app(settings).await?, filter).await?;
        }
        Command::Account(command) => account(open_app(settings).await?, command).await?,
        Command::Whitelist(command) => {
            let app = open_app(settings).await?;
            let actor = Actor::operator();
            match command {
                WhitelistCommand::List => {
                    for entry in crate::services::whitelist::list(&app).await? {
                        println!("{entry}");
                    }
                }
                WhitelistCommand::Add { entry } => {
                    let added = crate::services::whitelist::add(&app, &actor, &entry)
                        .await
                        .map_err(|e| anyhow!("{e}"))?;
                    println!("{}", serde_json::json!({ "entry": entry, "added": added }));
                }
                WhitelistCommand::Remove { entry } => {
                    let removed = crate::services::whitelist::remove(&app, &actor, &entry)
                        .await
                        .map_err(|e| anyhow!("{e}"))?;
                    if !removed {
                        return Err(anyhow!("{entry:?} is not on the whitelist"));
                    }
                    println!("{}", serde_json::json!({ "entry": entry, "removed": true }));
                }
            }
        }
        Command::Admin(AdminCommand::Create { email }) => {
            let app = open_app(settings).await?;
            let created = crate::services::admins::create(&app, &Actor::operator(), &email)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            println!("{}", serde_json::to_string(&created)?);
        }
        Command::Alerts {
            acknowledge: Some(id),
        } => {
            let app = open_app(settings).await?;
            if !crate::services::alerts::acknowledge(&app, &Actor::operator(), &id).await? {
                return Err(anyhow!("no open alert has the id {id:?}"));
            }
            println!("{}", serde_json::json!({ "acknowledged": id }));
        }
        Command::Alerts { acknowledge: None } => {
            let app = open_app(settings).await?;
            for alert in app.store.read(alerts::open).await? {
                println!(
                    "{}",
                    serde_json::json!({"id": alert.id, "kind": alert.kind, "subject": alert.subject, "message": alert.message, "created_at": crate::clock::rfc3339(alert.created_at)})
                );
            }
            for mail in crate::services::alerts::held_back_mail(&app, 1000).await? {
                println!(
                    "{}",
                    serde_json::json!({"id": mail.id, "kind": "mail_held_back", "subject": mail.to, "message": mail.subject, "created_at": crate::clock::rfc3339(mail.created_at)})
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn audit_filter(
    action: Option<String>,
    actor: Option<String>,
    subject: Option<String>,
    since: Option<String>,
    until: Option<String>,
) -> anyhow::Result<Filter> {
    let time = |flag: &str, text: Option<String>| -> anyhow::Result<Option<i64>> {
        text.map(|text| {
            chrono::DateTime::parse_from_rfc3339(&text)
                .map(|t| t.timestamp_millis())
                .map_err(|e| anyhow!("--{flag} {text:?}: give a time as RFC 3339, e.g. 2026-12-01T00:00:00Z ({e})"))
        })
        .transpose()
    };
    Ok(Filter {
        action: action
            .map(|name| {
                Action::parse(&name).ok_or_else(|| {
                    let known: Vec<_> = Action::ALL.iter().map(|a| a.as_str()).collect();
                    anyhow!(
                        "--action {name:?}: not an action the log records; one of {}",
                        known.join(", ")
                    )
                })
            })
            .transpose()?,
        actor,
        subject,
        since: time("since", since)?,
        until: time("until", until)?,
    })
}

/// Prints the audit log page by page, so a long log is never held in memory at once.
async fn audit_log(app: App, filter: Filter) -> anyhow::Result<()> {
    let mut after = None;
    loop {
        let page = crate::services::audit::entries(&app, filter.clone(), after, 1000).await?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = Some(last.id.clone());
        for entry in &page {
            println!("{}", serde_json::to_string(entry)?);
        }
    }
}

async fn account(app: App, command: AccountCommand) -> anyhow::Result<()> {
    let email = match &command {
        AccountCommand::Export { email } | AccountCommand::Erase { email, .. } => email.clone(),
    };
    let Some(user_id) = personal_data::account_of(&app, &email).await? else {
        return Err(anyhow!("no account has the address {email:?}"));
    };
    let actor = Actor::operator();
    match command {
        AccountCommand::Export { .. } => {
            let document = personal_data::export(&app, &actor, &user_id)
                .await?
                .ok_or_else(|| anyhow!("the account of {email:?} was erased meanwhile"))?;
            println!("{}", serde_json::to_string_pretty(&document)?);
        }
        AccountCommand::Erase { yes: false, .. } => {
            return Err(anyhow!(
                "erasing the account of {email:?} cannot be undone: run again with --yes to confirm"
            ));
        }
        AccountCommand::Erase { yes: true, .. } => {
            let erased = personal_data::erase(&app, &actor, &user_id)
                .await?
                .ok_or_else(|| anyhow!("the account of {email:?} was erased meanwhile"))?;
            println!("{}", serde_json::json!({ "erased": erased }));
        }
    }
    Ok(())
}

struct VerifyArgs {
    file: std::path::PathBuf,
    json: bool,
    offline: bool,
    documents: Vec<String>,
    contexts: Vec<String>,
    settings: Settings,
}

/// `credentialconnect verify FILE`: works without a database; when `CC_DATABASE_URL` is set
/// the contexts an operator added are used too.
async fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let units = verify_input::read(&bytes).map_err(|e| anyhow!("{}: {e}", args.file.display()))?;
    let fetch = if args.offline {
        FetchConfig::offline()
    } else {
        FetchConfig::default()
    };
    let contexts = Arc::new(Contexts::bundled());
    let mut added: Vec<(String, serde_json::Value)> = Vec::new();
    if std::env::var_os("CC_DATABASE_URL").is_some() {
        let app = open_app(args.settings).await?;
        added.extend(app.store.read(crate::store::contexts::all).await?);
    }
    for pair in &args.contexts {
        let (url, path) = split_pair(pair)?;
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
        added.push((url.to_string(), contexts.check_addition(url, &text)?));
    }
    contexts.set_added(added);
    let verifier = Verifier::new(contexts, fetch, crate::clock::Clock::default());
    for pair in &args.documents {
        let (url, path) = split_pair(pair)?;
        verifier.fetcher().seed(
            url,
            std::fs::read(path).with_context(|| format!("reading {path}"))?,
        );
    }
    let report = verifier.verify_units(&units).await;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", describe_report(&report));
    }
    Ok(if report.state == VerificationState::Verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn split_pair(pair: &str) -> anyhow::Result<(&str, &str)> {
    pair.rsplit_once('=')
        .filter(|(url, path)| !url.is_empty() && !path.is_empty())
        .ok_or_else(|| anyhow!("expected URL=FILE, got {pair:?}"))
}

/// The human-readable report: every check with its outcome, then the state.
fn describe_report(report: &FileReport) -> String {
    let mut out = String::new();
    for credential in &report.credentials {
        let title = if credential.pointer.is_empty() {
            "credential".to_string()
        } else {
            format!("nested credential {}", credential.pointer)
        };
        out.push_str(&format!(
            "{title} {} ({})\n",
            credential.id.as_deref().unwrap_or("(no id)"),
            credential.format
        ));
        for check in &credential.report.checks {
            let mark = match check.outcome {
                Outcome::Passed => "ok  ",
                Outcome::Failed => "FAIL",
                Outcome::Uncheckable => "??  ",
                Outcome::Skipped => "-   ",
            };
            out.push_str(&format!("  {mark} {:<28} {}\n", check.check, check.detail));
        }
        out.push_str(&format!(
            "  => {}: {}\n\n",
            credential.report.state,
            credential.report.reason()
        ));
    }
    out.push_str(&format!("state: {}\n", report.state));
    for reason in &report.reasons {
        out.push_str(&format!("  {reason}\n"));
    }
    out
}

async fn context(app: App, command: ContextCommand) -> anyhow::Result<()> {
    match command {
        ContextCommand::Add { url, file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            verification::add_context(&app, &url, &text).await?;
            println!("{}", serde_json::json!({"url": url, "added": true}));
        }
        ContextCommand::List => {
            for url in app.verifier.contexts().bundled_urls() {
                println!("{}", serde_json::json!({"url": url, "source": "bundled"}));
            }
            for (url, _) in app.store.read(crate::store::contexts::all).await? {
                println!("{}", serde_json::json!({"url": url, "source": "added"}));
            }
        }
        ContextCommand::Remove { url } => {
            let removed = verification::remove_context(&app, &url).await?;
            println!("{}", serde_json::json!({"url": url, "removed": removed}));
        }
    }
    Ok(())
}

async fn open_app(settings: Settings) -> anyhow::Result<App> {
    let config = Config::from_settings(settings).map_err(|e| anyhow!(e))?;
    App::open(config).await.context("opening the database")
}

async fn partner(app: App, command: PartnerCommand) -> anyhow::Result<()> {
    match command {
        PartnerCommand::Create {
            name,
            slug,
            scopes,
            unstable_ids,
            strict,
            logo,
        } => {
            let scopes = Scopes::parse(&scopes).map_err(|e| anyhow!(e))?;
            let logo = match logo {
                Some(source) => logos::load(&app, &source)
                    .await
                    .map_err(|e| anyhow!(e))?
                    .logo()
                    .cloned(),
                None => None,
            };
            let issued = partner_admin::create(
                &app,
                &crate::domain::audit::Actor::operator(),
                PartnerRequest {
                    name,
                    slug,
                    scopes,
                    unstable_ids,
                    strict,
                    logo,
                },
            )
            .await?;
            println!("{}", serde_json::to_string(&issued)?);
        }
        PartnerCommand::List => {
            let logos = logos::of_partners(&app).await?;
            for p in partner_admin::list(&app).await? {
                let logo = logos.get(&p.id).map(|logo| logo.path());
                // The wallet's client secret is never shown.
                let wallet = wallet::of_partner(&app, &p.id).await?.map(|w| {
                    serde_json::json!({"push_url": w.push_url, "token_url": w.token_url, "client_id": w.client_id, "landing_url": w.landing_url})
                });
                println!(
                    "{}",
                    serde_json::json!({"slug": p.slug, "name": p.name, "client_id": p.client_id, "scopes": p.scopes.to_string(), "unstable_ids": p.unstable_ids, "strict": p.strict, "disabled": p.disabled, "logo": logo, "pull_url": p.pull_url, "wallet": wallet})
                );
            }
        }
        PartnerCommand::RotateSecret { slug } => {
            let issued =
                partner_admin::rotate_secret(&app, &crate::domain::audit::Actor::operator(), &slug)
                    .await?;
            println!("{}", serde_json::to_string(&issued)?);
        }
        PartnerCommand::Disable { slug } => {
            partner_admin::disable(&app, &crate::domain::audit::Actor::operator(), &slug).await?;
            println!("{}", serde_json::json!({"slug": slug, "disabled": true}));
        }
        PartnerCommand::Set {
            slug,
            strict,
            unstable_ids,
            scopes,
            logo,
            pull_url,
            wallet,
        } => {
            // The pull URL and the wallet's parts are checked and the logo read and checked
            // before anything changes: a refused one changes nothing.
            if let Some(pull_url) = pull_url.as_deref().filter(|u| !u.trim().is_empty()) {
                partner_admin::parse_pull_url(pull_url, app.config.fetch.allow_loopback)?;
            }
            let wallet = wallet.change()?;
            let scopes = scopes
                .map(|text| Scopes::parse(&text).map_err(|e| anyhow!("--scopes: {e}")))
                .transpose()?;
            let logo = match logo {
                Some(source) => Some(logos::load(&app, &source).await.map_err(|e| anyhow!(e))?),
                None => None,
            };
            // Checked whole as it is stored, so it goes first.
            if let Some(change) = wallet {
                wallet::set(
                    &app,
                    &crate::domain::audit::Actor::operator(),
                    &slug,
                    change,
                )
                .await?;
            }
            partner_admin::set_options(
                &app,
                &crate::domain::audit::Actor::operator(),
                &slug,
                strict,
                unstable_ids,
                scopes,
            )
            .await?;
            if let Some(logo) = logo {
                partner_admin::set_logo(
                    &app,
                    &crate::domain::audit::Actor::operator(),
                    &slug,
                    logo,
                )
                .await?;
            }
            if let Some(pull_url) = pull_url {
                partner_admin::set_pull_url(
                    &app,
                    &crate::domain::audit::Actor::operator(),
                    &slug,
                    &pull_url,
                )
                .await?;
            }
            println!("{}", serde_json::json!({"slug": slug, "updated": true}));
        }
    }
    Ok(())
}

async fn marketplace(app: App, command: MarketplaceCommand) -> anyhow::Result<()> {
    match command {
        MarketplaceCommand::Add {
            issuers,
            name,
            logo,
            landing,
        } => {
            let logo = match logo {
                Some(source) => Some(logos::load(&app, &source).await.map_err(|e| anyhow!(e))?),
                None => None,
            };
            let added = marketplaces::add(
                &app,
                &crate::domain::audit::Actor::operator(),
                MarketplaceRequest {
                    name,
                    issuers,
                    landing,
                    logo,
                },
            )
            .await?;
            println!("{}", serde_json::to_string(&added)?);
        }
        MarketplaceCommand::List => {
            for listed in marketplaces::list(&app).await? {
                println!("{}", serde_json::to_string(&listed)?);
            }
        }
        MarketplaceCommand::Remove {
            marketplace,
            issuers,
        } => {
            let removed = marketplaces::remove(
                &app,
                &crate::domain::audit::Actor::operator(),
                &marketplace,
                &issuers,
            )
            .await?;
            println!("{}", serde_json::to_string(&removed)?);
        }
    }
    Ok(())
}

/// The demo: a local database, a partner called "Demo University" with a fresh secret, and
/// the curl commands to try it.
async fn demo(settings: Settings, database: &str) -> anyhow::Result<()> {
    let mut config = Config::from_settings(settings).map_err(|e| anyhow!(e))?;
    config.database =
        crate::store::Location::parse(&format!("sqlite://{database}")).map_err(|e| anyhow!(e))?;
    // Without a mail server, the demo's mail goes to its log, on this terminal: otherwise
    // it waits in the outbox and nobody who signs up can confirm their address.
    if config.mail.smtp_url.is_none() {
        config.mail.smtp_url = Some("log".into());
    }
    let app = App::open(config)
        .await
        .context("opening the demo database")?;
    let existing = app
        .store
        .read(|conn| partners::by_slug(conn, "demo"))
        .await?;
    let issued = match existing {
        Some(_) => {
            partner_admin::rotate_secret(&app, &crate::domain::audit::Actor::operator(), "demo")
                .await?
        }
        None => {
            partner_admin::create(
                &app,
                &crate::domain::audit::Actor::operator(),
                PartnerRequest {
                    name: "Demo University".into(),
                    slug: Some("demo".into()),
                    scopes: Scopes::all(),
                    unstable_ids: false,
                    strict: false,
                    logo: None,
                },
            )
            .await?
        }
    };
    let base = &app.config.public_url;
    println!(
        r#"
CredentialConnect demo on {base} (SQLite file {database})

Demo partner "Demo University"
  client_id:     {id}
  client_secret: {secret}

Get a token:
  curl -s -u '{id}:{secret}' -d grant_type=client_credentials {base}/api/v1/token

Upload the partner guide's three-course package (from a checkout of this repository):
  TOKEN=$(curl -s -u '{id}:{secret}' -d grant_type=client_credentials {base}/api/v1/token | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
  curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
       --data-binary @tests/fixtures/guide/three-courses.json {base}/api/v1/credentials

Then open the redirectUrl it returns to sign up. Without CC_SMTP_URL the demo writes its
emails (with the confirmation link) to this terminal. API reference: {base}/api/v1/docs
"#,
        id = issued.client_id,
        secret = issued.client_secret,
    );
    serve(app).await
}

/// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub async fn serve(app: App) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&app.config.bind)
        .await
        .with_context(|| format!("listening on {}", app.config.bind))?;
    tracing::info!(address = %app.config.bind, engine = app.store.engine_name(), "serving");
    crate::services::housekeeping::spawn(app.clone());
    spawn_activation_backfill(app.clone());
    crate::services::mail::spawn_worker(app.clone());
    crate::services::wallet::spawn_worker(app.clone());
    crate::services::ratelimit::spawn_exchange(app.clone());
    let service =
        crate::http::router(app).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving")
}

/// Gives packages stored before the activation page's lookup keys existed their keys, in
/// the background: the server answers meanwhile, and such packages become searchable as soon
/// as their batch is done.
fn spawn_activation_backfill(app: App) {
    tokio::spawn(async move {
        match crate::services::activation::index_existing(&app).await {
            Ok(0) => {}
            Ok(count) => tracing::info!(
                count,
                "activation page: lookup keys computed for packages stored before they existed"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "activation page: computing lookup keys for older packages failed; it is tried again at the next start")
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
