//! Schema migrations, one SQL file per engine and version, applied in order at start-up
//! inside one transaction (PostgreSQL instances take an advisory lock first).

use super::{Conn, StoreError, params};

#[derive(Debug, Clone, Copy)]
pub(super) enum Engine {
    Sqlite,
    Postgres,
}

/// (version, SQLite script, PostgreSQL script). The two differ only in types. Each version
/// is applied if it has not been, so one that lands after a later one still runs.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        include_str!("migrations/sqlite/0001_partner_api.sql"),
        include_str!("migrations/postgres/0001_partner_api.sql"),
    ),
    (
        2,
        include_str!("migrations/sqlite/0002_job_seekers.sql"),
        include_str!("migrations/postgres/0002_job_seekers.sql"),
    ),
    (
        3,
        include_str!("migrations/sqlite/0003_verification.sql"),
        include_str!("migrations/postgres/0003_verification.sql"),
    ),
    (
        4,
        include_str!("migrations/sqlite/0004_sharing.sql"),
        include_str!("migrations/postgres/0004_sharing.sql"),
    ),
    (
        5,
        include_str!("migrations/sqlite/0005_housekeeping.sql"),
        include_str!("migrations/postgres/0005_housekeeping.sql"),
    ),
    (
        6,
        include_str!("migrations/sqlite/0006_activation.sql"),
        include_str!("migrations/postgres/0006_activation.sql"),
    ),
    (
        7,
        include_str!("migrations/sqlite/0007_known_devices.sql"),
        include_str!("migrations/postgres/0007_known_devices.sql"),
    ),
    (
        8,
        include_str!("migrations/sqlite/0008_name_languages.sql"),
        include_str!("migrations/postgres/0008_name_languages.sql"),
    ),
    (
        9,
        include_str!("migrations/sqlite/0009_export.sql"),
        include_str!("migrations/postgres/0009_export.sql"),
    ),
    (
        10,
        include_str!("migrations/sqlite/0010_section_keys.sql"),
        include_str!("migrations/postgres/0010_section_keys.sql"),
    ),
    (
        11,
        include_str!("migrations/sqlite/0011_activation_names.sql"),
        include_str!("migrations/postgres/0011_activation_names.sql"),
    ),
    (
        12,
        include_str!("migrations/sqlite/0012_pull.sql"),
        include_str!("migrations/postgres/0012_pull.sql"),
    ),
    (
        13,
        include_str!("migrations/sqlite/0013_logos_marketplaces.sql"),
        include_str!("migrations/postgres/0013_logos_marketplaces.sql"),
    ),
    (
        14,
        include_str!("migrations/sqlite/0014_recipient_confirmations.sql"),
        include_str!("migrations/postgres/0014_recipient_confirmations.sql"),
    ),
    (
        15,
        include_str!("migrations/sqlite/0015_shared_rate_limits.sql"),
        include_str!("migrations/postgres/0015_shared_rate_limits.sql"),
    ),
    (
        16,
        include_str!("migrations/sqlite/0016_wallet_push.sql"),
        include_str!("migrations/postgres/0016_wallet_push.sql"),
    ),
    (
        17,
        include_str!("migrations/sqlite/0017_viewers.sql"),
        include_str!("migrations/postgres/0017_viewers.sql"),
    ),
    (
        18,
        include_str!("migrations/sqlite/0018_audit_erasure.sql"),
        include_str!("migrations/postgres/0018_audit_erasure.sql"),
    ),
    (
        19,
        include_str!("migrations/sqlite/0019_upload_lookup.sql"),
        include_str!("migrations/postgres/0019_upload_lookup.sql"),
    ),
    (
        20,
        include_str!("migrations/sqlite/0020_admins.sql"),
        include_str!("migrations/postgres/0020_admins.sql"),
    ),
    (
        21,
        include_str!("migrations/sqlite/0021_unassigned_index.sql"),
        include_str!("migrations/postgres/0021_unassigned_index.sql"),
    ),
    (
        22,
        include_str!("migrations/sqlite/0022_assertion_id_index.sql"),
        include_str!("migrations/postgres/0022_assertion_id_index.sql"),
    ),
    (
        23,
        include_str!("migrations/sqlite/0023_unused_recipient_index.sql"),
        include_str!("migrations/postgres/0023_unused_recipient_index.sql"),
    ),
    (
        24,
        include_str!("migrations/sqlite/0024_links_to_their_package.sql"),
        include_str!("migrations/postgres/0024_links_to_their_package.sql"),
    ),
    (
        25,
        include_str!("migrations/sqlite/0025_identifiers_compare_as_bytes.sql"),
        include_str!("migrations/postgres/0025_identifiers_compare_as_bytes.sql"),
    ),
];

/// Every table, for snapshots.
pub(super) const TABLES: &[&str] = &[
    "partners",
    "access_tokens",
    "mapping_rules",
    "packages",
    "credentials",
    "package_credentials",
    "skills",
    "recipient_tokens",
    "alerts",
    "users",
    "sessions",
    "email_tokens",
    "recipient_links",
    "resume_entries",
    "resume_skills",
    "email_outbox",
    "jsonld_contexts",
    "resume_shares",
    "background_jobs",
    "activation_backfill",
    "activation_links",
    "activation_searches",
    "known_devices",
    "signing_keys",
    "recipient_confirmations",
    "rate_limit_counts",
    "logos",
    "marketplaces",
    "marketplace_issuers",
    "partner_wallets",
    "wallet_pushes",
    "share_view_days",
    "share_viewer_opens",
    "audit_log",
    "erased_assertions",
    "admins",
    "admin_recovery_codes",
    "mail_whitelist",
];

pub(super) fn run(conn: &mut dyn Conn, engine: Engine) -> Result<(), StoreError> {
    conn.batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )?;
    let applied: Vec<i64> = conn
        .query("SELECT version FROM schema_migrations", &[])?
        .iter()
        .map(|row| row.int(0))
        .collect::<Result<_, _>>()?;
    for (version, sqlite, postgres) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        conn.batch(match engine {
            Engine::Sqlite => sqlite,
            Engine::Postgres => postgres,
        })?;
        conn.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            params![*version, crate::clock::system_now_ms()],
        )?;
    }
    Ok(())
}
