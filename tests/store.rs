//! The store itself, on both engines: a job that panics is rolled back alone and the store
//! keeps serving, constraint violations mean the same on both engines, the two engines'
//! migrations define the same schema, and rows written before a migration read back after it.

mod common;

use common::{Engine, TestApp};
use credentialconnect::store::{Conn, Store, StoreError, Value};
use std::collections::BTreeSet;

/// A table of the test's own, so the store's rules are exercised without any service.
async fn probe_table(store: &Store) {
    store
        .write(|conn| {
            conn.batch(
                "CREATE TABLE probe (
                    name TEXT PRIMARY KEY,
                    note TEXT NOT NULL,
                    code TEXT UNIQUE,
                    size BIGINT CHECK (size >= 0)
                )",
            )
        })
        .await
        .expect("the probe table");
}

fn insert(conn: &mut dyn Conn, name: &str) -> Result<u64, StoreError> {
    conn.execute(
        "INSERT INTO probe (name, note) VALUES ($1, $2)",
        &[Value::from(name), Value::from("kept")],
    )
}

async fn names(store: &Store) -> BTreeSet<String> {
    texts(store, "SELECT name FROM probe")
        .await
        .into_iter()
        .collect()
}

/// The first column of the rows `sql` reads (no parameters), as text.
async fn texts(store: &Store, sql: &'static str) -> Vec<String> {
    store
        .read(move |conn| {
            conn.query(sql, &[])?
                .iter()
                .map(|row| row.text(0))
                .collect()
        })
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

on_both_engines!(
    a_job_that_panics_is_rolled_back_alone_and_the_store_keeps_serving,
    |app: TestApp| async move {
        let store = app.app.store.clone();
        probe_table(&store).await;

        // Many writes at once, so that on SQLite the panicking job shares a commit with
        // others: they must be kept, and only its own work undone.
        let mut jobs = Vec::new();
        for i in 0..40 {
            let store = store.clone();
            jobs.push(tokio::spawn(async move {
                store
                    .write(move |conn| {
                        insert(conn, &format!("job {i:02}"))?;
                        if i == 20 {
                            insert(conn, "doomed")?;
                            panic!("a bug in a write job");
                        }
                        Ok(i)
                    })
                    .await
            }));
        }
        for (i, job) in jobs.into_iter().enumerate() {
            let outcome = job.await.expect("the caller's task does not panic");
            if i == 20 {
                match outcome {
                    Err(StoreError::Other(message)) => assert!(
                        message.contains("panicked") && message.contains("a bug in a write job"),
                        "{message}"
                    ),
                    other => panic!("the panicking job reports a bug: {other:?}"),
                }
            } else {
                assert_eq!(outcome.expect("the other jobs commit"), i);
            }
        }
        let kept = names(&store).await;
        assert!(
            !kept.contains("doomed"),
            "the panicking job's work is undone"
        );
        assert!(
            !kept.contains("job 20"),
            "the panicking job's work is undone"
        );
        assert_eq!(kept.len(), 39, "every other job is kept: {kept:?}");

        // The writer survives: later writes commit, again and again.
        for round in 0..3 {
            let outcome = store
                .write(|_conn| -> Result<(), StoreError> { panic!("another bug") })
                .await;
            assert!(matches!(outcome, Err(StoreError::Other(_))), "{outcome:?}");
            store
                .write(move |conn| insert(conn, &format!("after {round}")))
                .await
                .expect("a write after a panic commits");
        }
        assert_eq!(names(&store).await.len(), 42);

        // Reads that panic do not use up the readers either.
        for _ in 0..10 {
            let outcome = store
                .read(|_conn| -> Result<(), StoreError> { panic!("a bug in a read") })
                .await;
            assert!(matches!(outcome, Err(StoreError::Other(_))), "{outcome:?}");
        }
        assert_eq!(names(&store).await.len(), 42);

        let health = app
            .client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("healthz");
        assert_eq!(health.status(), 200);
    }
);

on_both_engines!(
    only_a_broken_uniqueness_rule_is_a_conflict,
    |app: TestApp| async move {
        let store = app.app.store.clone();
        probe_table(&store).await;
        store
            .write(|conn| {
                conn.execute(
                    "INSERT INTO probe (name, note, code) VALUES ($1, $2, $3)",
                    &[Value::from("a"), Value::from("first"), Value::from("c1")],
                )
            })
            .await
            .expect("the first row");

        let attempt = |sql: &'static str, params: Vec<Value>| {
            let store = store.clone();
            async move { store.write(move |conn| conn.execute(sql, &params)).await }
        };
        let primary_key = attempt(
            "INSERT INTO probe (name, note) VALUES ($1, $2)",
            vec!["a".into(), "again".into()],
        )
        .await;
        assert!(
            matches!(primary_key, Err(StoreError::Conflict(_))),
            "a taken primary key: {primary_key:?}"
        );
        let unique = attempt(
            "INSERT INTO probe (name, note, code) VALUES ($1, $2, $3)",
            vec!["b".into(), "second".into(), "c1".into()],
        )
        .await;
        assert!(
            matches!(unique, Err(StoreError::Conflict(_))),
            "a taken unique value: {unique:?}"
        );
        let not_null = attempt(
            "INSERT INTO probe (name, note) VALUES ($1, $2)",
            vec!["c".into(), Value::Null],
        )
        .await;
        assert!(
            matches!(not_null, Err(StoreError::Other(_))),
            "a missing value is a bug, not a conflict: {not_null:?}"
        );
        let check = attempt(
            "INSERT INTO probe (name, note, size) VALUES ($1, $2, $3)",
            vec!["d".into(), "negative".into(), Value::Int(-1)],
        )
        .await;
        assert!(
            matches!(check, Err(StoreError::Other(_))),
            "a broken check is a bug, not a conflict: {check:?}"
        );
        let foreign_key = attempt(
            "INSERT INTO package_credentials (package_id, credential_id, position, result) VALUES ($1, $2, $3, $4)",
            vec![
                "no such package".into(),
                "no such credential".into(),
                Value::Int(0),
                "created".into(),
            ],
        )
        .await;
        assert!(
            matches!(foreign_key, Err(StoreError::Other(_))),
            "a dangling reference is a bug, not a conflict: {foreign_key:?}"
        );
        assert_eq!(names(&store).await.len(), 1, "nothing was half written");
    }
);

/// A schema as both engines can describe it: tables with their columns (name, whether
/// NULL is allowed, the kind of value), primary keys, and indexes (the table, the columns
/// in order, unique or not, partial or not; the name when the migration chose it).
#[derive(Debug, PartialEq, Eq, Default)]
struct Schema {
    columns: BTreeSet<String>,
    primary_keys: BTreeSet<String>,
    indexes: BTreeSet<String>,
}

/// The kind of value a declared type holds (the migrations differ in spelling only:
/// `INTEGER` on SQLite is `BIGINT` on PostgreSQL).
fn type_class(declared: &str) -> &'static str {
    let declared = declared.to_ascii_lowercase();
    if declared.contains("int") {
        "integer"
    } else if declared.contains("char") || declared.contains("text") || declared.contains("clob") {
        "text"
    } else if declared.contains("blob") || declared.contains("bytea") {
        "bytes"
    } else if declared.contains("bool") {
        "boolean"
    } else if declared.contains("real") || declared.contains("double") || declared.contains("float")
    {
        "real"
    } else {
        "other"
    }
}

async fn sqlite_schema(store: &Store) -> Schema {
    store
        .read(|conn| {
            let mut schema = Schema::default();
            let tables = conn.query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                &[],
            )?;
            for table in tables {
                let table = table.text(0)?;
                let mut primary_key = Vec::new();
                let columns = conn.query(
                    "SELECT name, type, \"notnull\", pk FROM pragma_table_info($1)",
                    &[Value::from(&table)],
                )?;
                for column in columns {
                    let (name, pk) = (column.text(0)?, column.int(3)?);
                    if pk > 0 {
                        primary_key.push((pk, name.clone()));
                    }
                    // A primary key column can never be NULL on PostgreSQL; SQLite allows it
                    // unless told, but the store never writes one.
                    let nullable = if column.flag(2)? || pk > 0 {
                        "not null"
                    } else {
                        "null"
                    };
                    schema.columns.insert(format!(
                        "{table}.{name} {} {nullable}",
                        type_class(&column.text(1)?)
                    ));
                }
                primary_key.sort();
                let primary_key: Vec<String> = primary_key.into_iter().map(|(_, n)| n).collect();
                if !primary_key.is_empty() {
                    schema
                        .primary_keys
                        .insert(format!("{table}({})", primary_key.join(", ")));
                }
                let indexes = conn.query(
                    "SELECT name, \"unique\", origin, partial FROM pragma_index_list($1)",
                    &[Value::from(&table)],
                )?;
                for index in indexes {
                    let (name, origin) = (index.text(0)?, index.text(2)?);
                    if origin == "pk" {
                        continue;
                    }
                    let columns: Vec<String> = conn
                        .query(
                            "SELECT name FROM pragma_index_xinfo($1) WHERE key = 1 ORDER BY seqno",
                            &[Value::from(&name)],
                        )?
                        .iter()
                        .map(|c| Ok(c.opt_text(0)?.unwrap_or_else(|| "(expression)".into())))
                        .collect::<Result<_, StoreError>>()?;
                    let named = if origin == "c" { name } else { String::new() };
                    schema.indexes.insert(format!(
                        "{table}({}) unique={} partial={} {named}",
                        columns.join(", "),
                        index.flag(1)?,
                        index.flag(3)?,
                    ));
                }
            }
            Ok(schema)
        })
        .await
        .expect("the SQLite schema")
}

async fn postgres_schema(store: &Store) -> Schema {
    store
        .read(|conn| {
            let mut schema = Schema::default();
            let columns = conn.query(
                "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text
                 FROM information_schema.columns WHERE table_schema = current_schema()",
                &[],
            )?;
            for column in columns {
                let nullable = if column.text(3)? == "YES" {
                    "null"
                } else {
                    "not null"
                };
                schema.columns.insert(format!(
                    "{}.{} {} {nullable}",
                    column.text(0)?,
                    column.text(1)?,
                    type_class(&column.text(2)?)
                ));
            }
            let indexes = conn.query(
                "SELECT t.relname::text, i.relname::text,
                        CASE WHEN ix.indisprimary THEN 1 ELSE 0 END,
                        CASE WHEN ix.indisunique THEN 1 ELSE 0 END,
                        CASE WHEN ix.indpred IS NULL THEN 0 ELSE 1 END,
                        CASE WHEN EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid) THEN 1 ELSE 0 END,
                        string_agg(COALESCE(a.attname::text, '(expression)'), ', ' ORDER BY k.ord)
                 FROM pg_index ix
                 JOIN pg_class i ON i.oid = ix.indexrelid
                 JOIN pg_class t ON t.oid = ix.indrelid
                 JOIN pg_namespace n ON n.oid = t.relnamespace
                 CROSS JOIN LATERAL unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                 LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                 WHERE n.nspname = current_schema() AND k.ord <= ix.indnkeyatts
                 GROUP BY t.relname, i.relname, ix.indisprimary, ix.indisunique, ix.indpred, ix.indexrelid",
                &[],
            )?;
            for index in indexes {
                let (table, name) = (index.text(0)?, index.text(1)?);
                let columns = index.text(6)?;
                if index.flag(2)? {
                    schema.primary_keys.insert(format!("{table}({columns})"));
                    continue;
                }
                let named = if index.flag(5)? { String::new() } else { name };
                schema.indexes.insert(format!(
                    "{table}({columns}) unique={} partial={} {named}",
                    index.flag(3)?,
                    index.flag(4)?,
                ));
            }
            Ok(schema)
        })
        .await
        .expect("the PostgreSQL schema")
}

fn migration_files(engine: &str) -> BTreeSet<String> {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/store/migrations")
        .join(engine);
    std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .map(|entry| {
            entry
                .expect("a folder entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

fn differences(what: &str, sqlite: &BTreeSet<String>, postgres: &BTreeSet<String>) -> String {
    let only_sqlite: Vec<&String> = sqlite.difference(postgres).collect();
    let only_postgres: Vec<&String> = postgres.difference(sqlite).collect();
    if only_sqlite.is_empty() && only_postgres.is_empty() {
        return String::new();
    }
    format!(
        "{what}:\n  only on SQLite: {only_sqlite:#?}\n  only on PostgreSQL: {only_postgres:#?}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_engines_migrations_define_the_same_schema() {
    let sqlite_files = migration_files("sqlite");
    let postgres_files = migration_files("postgres");
    assert_eq!(
        differences("migration files", &sqlite_files, &postgres_files),
        "",
        "each migration exists for both engines"
    );
    let listed = include_str!("../src/store/migrations.rs");
    for file in &sqlite_files {
        for engine in ["sqlite", "postgres"] {
            assert!(
                listed.contains(&format!("\"migrations/{engine}/{file}\"")),
                "migrations/{engine}/{file} is not applied by src/store/migrations.rs"
            );
        }
    }

    let sqlite = TestApp::spawn(Engine::Sqlite).await;
    let _sqlite_database = sqlite.database_guard();
    let postgres = TestApp::spawn(Engine::Postgres).await;
    let _postgres_database = postgres.database_guard();
    let sqlite = sqlite_schema(&sqlite.app.store).await;
    let postgres = postgres_schema(&postgres.app.store).await;
    assert!(
        sqlite.columns.len() > 50,
        "the schema was read: {sqlite:#?}"
    );
    let report = [
        differences("columns", &sqlite.columns, &postgres.columns),
        differences("primary keys", &sqlite.primary_keys, &postgres.primary_keys),
        differences("indexes", &sqlite.indexes, &postgres.indexes),
    ]
    .concat();
    assert_eq!(
        report, "",
        "the two migration folders define different schemas"
    );
}

/// `/healthz` answers for the whole store, writes included: while another process holds
/// SQLite's write lock, reads still work but no write can commit, and the check says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_fails_while_the_database_takes_no_writes() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let _database = app.database_guard();
    let health = || async {
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("healthz")
            .status()
    };
    assert_eq!(health().await, 200);

    let credentialconnect::store::Location::Sqlite(path) = app.app.config.database.clone() else {
        unreachable!("a SQLite app")
    };
    let (locked, lock) = tokio::sync::oneshot::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let other = rusqlite::Connection::open(path).expect("another connection");
        other
            .execute_batch("BEGIN IMMEDIATE")
            .expect("the write lock");
        let _ = locked.send(());
        let _ = released.recv();
        other.execute_batch("ROLLBACK").expect("release the lock");
    });
    lock.await.expect("the lock is held");
    assert!(
        names_of_partners(&app.app.store).await.is_ok(),
        "reads still work"
    );
    assert_eq!(health().await, 503, "no write can commit");
    release.send(()).expect("release");
    holder.join().expect("the lock holder");
    assert_eq!(health().await, 200, "healthy again once writes commit");
}

async fn names_of_partners(store: &Store) -> Result<usize, StoreError> {
    store
        .read(|conn| Ok(conn.query("SELECT slug FROM partners", &[])?.len()))
        .await
}

on_both_engines!(
    sections_stored_before_they_had_keys_read_back_after_the_migration,
    |app: TestApp| async move {
        use credentialconnect::domain::sections::Section;
        use credentialconnect::store::{mapping, resume, users};

        let partner = app.partner("school").await;
        let token = app.token(&partner, None).await;
        let uploaded = app
            .upload(&token, common::fixture("guide/three-courses.json"))
            .await;
        assert!(uploaded.status().is_success(), "the upload");
        let now = app.app.clock.now_ms();
        let store = app.app.store.clone();
        let user_id = store
            .write(move |conn| {
                let user_id = users::insert(
                    conn,
                    "jamie@example.com",
                    "not a hash",
                    &credentialconnect::domain::account::Profile::default(),
                    now,
                )?;
                let entry = credentialconnect::domain::resume::OwnEntry {
                    section: Section::RelevantCoursework,
                    title: "Night classes".into(),
                    organisation: None,
                    start: None,
                    end: None,
                    description: None,
                };
                resume::add_own_entry(conn, &user_id, &entry, now)?;
                mapping::assign(conn, "", "Hobby", Section::SkillsAndAbilities, now)?;
                Ok(user_id)
            })
            .await
            .expect("the rows");

        // What this version reads back.
        let read = |store: Store, user_id: String| async move {
            store
                .read(move |conn| {
                    let package = conn.query("SELECT id FROM packages", &[])?[0].text(0)?;
                    let offered = resume::package_contents(conn, &package, None)?
                        .expect("the package")
                        .credentials
                        .iter()
                        .map(|credential| credential.section)
                        .collect::<Vec<_>>();
                    let own = resume::entries(conn, &user_id)?
                        .iter()
                        .map(|entry| entry.section)
                        .collect::<Vec<_>>();
                    let rules = mapping::rules_for(conn, "")?
                        .iter()
                        .map(|rule| rule.section)
                        .collect::<Vec<_>>();
                    Ok((offered, own, rules))
                })
                .await
                .expect("read back")
        };
        let before = read(store.clone(), user_id.clone()).await;
        assert_eq!(before.1, [Section::RelevantCoursework]);
        assert_eq!(before.2, [Section::SkillsAndAbilities]);
        assert!(!before.0.is_empty());

        // The rows as versions before the keys wrote them (the variant's Debug text), and
        // the database as it was before the migration that converts them.
        store
            .write(|conn| {
                for table in ["credentials", "mapping_rules", "resume_entries"] {
                    for section in Section::PLACEABLE.into_iter().chain([Section::Unassigned]) {
                        conn.execute(
                            &format!("UPDATE {table} SET section = $1 WHERE section = $2"),
                            &[
                                Value::from(format!("{section:?}").as_str()),
                                Value::from(section.key()),
                            ],
                        )?;
                    }
                }
                let old: i64 = conn.query(
                    "SELECT COUNT(*) FROM resume_entries WHERE section = 'RelevantCoursework'",
                    &[],
                )?[0]
                    .int(0)?;
                assert_eq!(old, 1, "the old spelling is in place");
                conn.execute("DELETE FROM schema_migrations WHERE version = 10", &[])
            })
            .await
            .expect("the old rows");

        let migrated = Store::open(&app.app.config.database)
            .await
            .expect("the store opens and migrates");
        assert_eq!(read(migrated.clone(), user_id).await, before);
        let stored = texts(
            &migrated,
            "SELECT section FROM credentials UNION SELECT section FROM mapping_rules
             UNION SELECT section FROM resume_entries",
        )
        .await;
        for key in stored {
            assert!(
                Section::from_key(&key).is_some(),
                "{key:?} is a section key"
            );
        }
    }
);

on_both_engines!(
    a_logo_url_stored_before_logos_were_served_here_becomes_an_alert_and_nothing_is_fetched,
    |app: TestApp| async move {
        app.partner("instx").await;
        app.partner("plain").await;
        // The database as version 12 left it: a partner's logo as a URL, no logo tables.
        app.app
            .store
            .write(|conn| {
                conn.batch(
                    "DROP TABLE marketplace_issuers; DROP TABLE marketplaces; DROP TABLE logos;
                     ALTER TABLE partners ADD COLUMN logo_url TEXT;",
                )?;
                conn.execute(
                    "UPDATE partners SET logo_url = 'https://cdn.instx.example/logo.png' WHERE slug = 'instx'",
                    &[],
                )?;
                conn.execute("DELETE FROM schema_migrations WHERE version = 13", &[])
            })
            .await
            .expect("the old schema");

        let migrated = Store::open(&app.app.config.database)
            .await
            .expect("the store opens and migrates");
        let alerts = migrated
            .read(credentialconnect::store::alerts::open)
            .await
            .expect("alerts");
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].kind, "logo_url_dropped");
        assert_eq!(alerts[0].subject, "https://cdn.instx.example/logo.png");
        assert!(
            alerts[0].message.contains(
                "credentialconnect partner set instx --logo https://cdn.instx.example/logo.png"
            ),
            "{}",
            alerts[0].message
        );
        let gone = migrated
            .read(|conn| conn.query("SELECT logo_url FROM partners", &[]).map(|_| ()))
            .await;
        assert!(gone.is_err(), "the column is dropped");
        assert_eq!(
            names_of_partners(&migrated).await.expect("partners"),
            2,
            "the partners stay"
        );
    }
);

/// An upload on PostgreSQL finds the records it names with one probe of the unique
/// (partner_id, assertion_key) index each, in the plan PostgreSQL keeps for the statement
/// (the generic plan, made once per connection). That plan is made while the tables are as
/// they are then: were it a scan of all of the partner's credentials while they were few,
/// fresh uploads would slow down more with every one stored, until someone ran ANALYZE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_finds_stored_records_by_their_unique_index_in_any_plan() {
    let app = TestApp::spawn(Engine::Postgres).await;
    let _database = app.database_guard();
    use credentialconnect::store::holding::{
        SAVE_AT_ONCE, SAVE_AT_ONCE_SLIDING, SAVE_AT_ONCE_WITH_SKILLS,
        SAVE_AT_ONCE_WITH_SKILLS_SLIDING, SAVE_KNOWN_AT_ONCE, SAVE_KNOWN_AT_ONCE_SLIDING,
    };
    // The package row, then the records' 23 columns (or, in the lean statement, the records'
    // keys as JSON), then the skills as JSON, then the token whose window slides.
    let head = (
        "text, text, text, text, text, bigint, bigint, text, text".to_string(),
        "'k', 'p', 't', '{}', 'r', 1, 2, NULL, NULL".to_string(),
    );
    let with = |(types, values): &(String, String), more: (&str, &str)| {
        (
            format!("{types}, {}", more.0),
            format!("{values}, {}", more.1),
        )
    };
    let columns = vec!["text[]"; 23].join(", ");
    let column_values = vec!["'{}'"; 23].join(", ");
    let whole = with(&head, (&columns, &column_values));
    let with_skills = with(&whole, ("text", "'[]'"));
    let known = with(&head, ("text", "'[]'"));
    let token = ("text", "'t'");
    let statements = [
        (SAVE_AT_ONCE, whole.clone()),
        (SAVE_AT_ONCE_SLIDING, with(&whole, token)),
        (SAVE_AT_ONCE_WITH_SKILLS, with_skills.clone()),
        (SAVE_AT_ONCE_WITH_SKILLS_SLIDING, with(&with_skills, token)),
        (SAVE_KNOWN_AT_ONCE, known.clone()),
        (SAVE_KNOWN_AT_ONCE_SLIDING, with(&known, token)),
    ];
    for (statement, (types, values)) in statements {
        let plan = app
            .app
            .store
            .read(move |conn| {
                conn.batch("SET LOCAL plan_cache_mode = force_generic_plan")?;
                conn.batch(&format!("PREPARE save_at_once ({types}) AS {statement}"))?;
                let rows = conn.query(
                    &format!("EXPLAIN (COSTS OFF) EXECUTE save_at_once({values})"),
                    &[],
                )?;
                conn.batch("DEALLOCATE save_at_once")?;
                rows.iter()
                    .map(|row| row.text(0))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await
            .expect("the plan")
            .join("\n");
        let reads: Vec<&str> = plan
            .lines()
            .map(str::trim)
            .filter(|line| line.contains("Scan") && line.contains(" on credentials"))
            .collect();
        assert_eq!(
            reads,
            ["->  Index Scan using credentials_partner_id_assertion_key_key on credentials"],
            "the stored records are read by any other way:\n{plan}"
        );
        assert!(
            plan.contains("Index Cond: ((partner_id = $2) AND (assertion_key = u.key))")
                || plan.contains("Index Cond: ((partner_id = $2) AND (assertion_key = r.key))"),
            "the probe uses both columns:\n{plan}"
        );
    }
}

/// On PostgreSQL every identifier (a column named `id`, `…_id`, `…_hash`, `…_key` or
/// `digest`, and every text column of a primary key) compares as bytes (collation "C"),
/// whatever collation the database was created with, as every text column does on SQLite.
/// Compared by a language's rules, every probe of their indexes calls the locale library (rows
/// with two such indexes took a third longer to insert under ICU's English), their indexes'
/// order follows that library's rules, which an operating system upgrade may change (leaving
/// the indexes out of order until rebuilt), and ids sort differently on the two engines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identifiers_compare_as_bytes_on_postgres_whatever_the_database_collation() {
    let app = TestApp::spawn(Engine::Postgres).await;
    let _database = app.database_guard();
    let compared_by_language = app
        .app
        .store
        .read(|conn| {
            conn.query(
                "SELECT c.table_name || '.' || c.column_name || ' ' || COALESCE(c.collation_name, 'the database''s')
                 FROM information_schema.columns c
                 WHERE c.table_schema = current_schema() AND c.data_type = 'text'
                   AND c.table_name <> 'schema_migrations'
                   AND (c.column_name ~ '^(id|digest)$|_(id|hash|key)$'
                        OR EXISTS (
                            SELECT 1 FROM information_schema.key_column_usage k
                            JOIN information_schema.table_constraints t
                              ON t.constraint_name = k.constraint_name AND t.table_schema = k.table_schema
                            WHERE t.constraint_type = 'PRIMARY KEY' AND k.table_schema = c.table_schema
                              AND k.table_name = c.table_name AND k.column_name = c.column_name))
                   AND c.collation_name IS DISTINCT FROM 'C'
                 ORDER BY 1",
                &[],
            )?
            .iter()
            .map(|row| row.text(0))
            .collect::<Result<Vec<_>, _>>()
        })
        .await
        .expect("the columns");
    assert_eq!(
        compared_by_language,
        Vec::<String>::new(),
        "identifiers compared by the rules of a language"
    );
}

/// PostgreSQL plans an upload's statement once per connection and then runs that plan (the
/// one checked above). Left to its default it makes a plan for each execution's values
/// whenever the plan for any values looks costlier, as it does for this statement with
/// these values (it assumes each array parameter holds ten rows) and did for every fresh
/// upload on a new database: planning was then a third of the database's time per upload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_statement_is_planned_once_per_connection() {
    let app = TestApp::spawn(Engine::Postgres).await;
    let _database = app.database_guard();
    use credentialconnect::store::holding::SAVE_AT_ONCE;
    const RUNS: i64 = 8;
    let (generic, custom) = app
        .app
        .store
        .write(|conn| {
            // A package of no records (its 23 columns empty arrays): the statement looks
            // everything up and writes nothing.
            let none: Option<&str> = None;
            let mut params =
                credentialconnect::param_vec!["k", "p", "t", "{}", "r", 1, 2, none, none];
            params.extend((0..23).map(|_| Value::TextList(Vec::new())));
            for _ in 0..RUNS {
                conn.query(SAVE_AT_ONCE, &params)?;
            }
            let plans = conn.query_one(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
                &[Value::from(SAVE_AT_ONCE)],
            )?;
            Ok((plans.int(0)?, plans.int(1)?))
        })
        .await
        .expect("the statement runs");
    assert_eq!(
        (generic, custom),
        (RUNS, 0),
        "runs of the kept plan and plans made for one run's values"
    );
}

on_both_engines!(
    a_read_sees_one_state_of_the_database_throughout,
    |app: TestApp| async move {
        // A page reads several things at once (a package and its credentials, a resume and
        // its count): a write committed between two of its queries must not show in one and
        // not the other.
        let store = app.app.store.clone();
        let (between, go_on) = (
            std::sync::mpsc::channel::<()>(),
            std::sync::mpsc::channel::<()>(),
        );
        let (reached, wait) = (between.0, go_on.1);
        let reader = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .read(move |conn| {
                        let before = conn.query("SELECT slug FROM partners", &[])?.len();
                        let _ = reached.send(());
                        let _ = wait.recv();
                        let after = conn.query("SELECT slug FROM partners", &[])?.len();
                        Ok((before, after))
                    })
                    .await
            }
        });
        between.1.recv().expect("the read began");
        app.partner("between").await;
        go_on.0.send(()).expect("the read goes on");
        let (before, after) = reader.await.expect("reader").expect("read");
        assert_eq!(before, after, "the partner written between the queries");
        assert_eq!(
            names_of_partners(&store).await.expect("partners"),
            before + 1,
            "a new read sees it"
        );
    }
);

/// A list of texts, NULLs among them (a column of a package written at once), binds to PostgreSQL's
/// `text[]` and to nothing else: a list where one value is expected, or one value where a
/// list is, is an error of the statement, not a panic of the driver; SQLite has no arrays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_binds_to_an_array_parameter_only() {
    let app = TestApp::spawn(Engine::Postgres).await;
    let _database = app.database_guard();
    let query = |store: Store, sql: &'static str, value: Value| async move {
        store.read(move |conn| conn.query(sql, &[value])).await
    };
    let store = app.app.store.clone();
    let list = Value::TextList(vec![Some("a".into()), None]);
    let rows = query(
        store.clone(),
        "SELECT array_length($1::text[], 1)::bigint, ($1::text[])[1], ($1::text[])[2]",
        list.clone(),
    )
    .await
    .expect("a list for a text[] parameter");
    assert_eq!(rows[0].int(0).expect("its length"), 2);
    assert_eq!(
        rows[0].0[1..],
        [Value::from("a"), Value::Null],
        "its elements"
    );
    let list_for_text = query(
        store.clone(),
        "SELECT length($1::text)::bigint",
        list.clone(),
    )
    .await;
    assert!(
        matches!(list_for_text, Err(StoreError::Other(_))),
        "{list_for_text:?}"
    );
    let text_for_list = query(
        store,
        "SELECT array_length($1::text[], 1)::bigint",
        Value::from("a"),
    )
    .await;
    assert!(
        matches!(text_for_list, Err(StoreError::Other(_))),
        "{text_for_list:?}"
    );

    let sqlite = TestApp::spawn(Engine::Sqlite).await;
    let on_sqlite = query(sqlite.app.store.clone(), "SELECT length($1)", list).await;
    assert!(
        matches!(on_sqlite, Err(StoreError::Other(_))),
        "{on_sqlite:?}"
    );
}

// A partner's GET and DELETE of one credential find it by its assertion id with index
// probes only, on both engines and in the plan PostgreSQL keeps: through the unique key
// where the identity key is the assertion id (partners with stable ids), through the
// assertion-id index, which holds only the other credentials, otherwise.
on_both_engines!(
    a_credential_is_found_by_its_assertion_id_through_indexes_only,
    |app: TestApp| async move {
        use credentialconnect::store::{Location, holding::LATEST_ID_BY_ASSERTION_ID};
        let sql = LATEST_ID_BY_ASSERTION_ID;
        let postgres = matches!(app.app.config.database, Location::Postgres(_));
        let plan = app
            .app
            .store
            .read(move |conn| {
                let lines: Result<Vec<String>, StoreError> = if postgres {
                    conn.batch("SET LOCAL plan_cache_mode = force_generic_plan")?;
                    conn.batch(&format!("PREPARE by_assertion_id (text, text) AS {sql}"))?;
                    let rows =
                        conn.query("EXPLAIN (COSTS OFF) EXECUTE by_assertion_id('p', 'a')", &[])?;
                    conn.batch("DEALLOCATE by_assertion_id")?;
                    rows.iter().map(|row| row.text(0)).collect()
                } else {
                    let rows = conn.query(
                        &format!("EXPLAIN QUERY PLAN {sql}"),
                        &[Value::from("p"), Value::from("a")],
                    )?;
                    rows.iter().map(|row| row.text(3)).collect()
                };
                lines.map(|lines| lines.join("\n"))
            })
            .await
            .expect("the plan");
        // SQLite names the unique constraint's index itself.
        let unique_key = if postgres {
            "credentials_partner_id_assertion_key_key"
        } else {
            "sqlite_autoindex_credentials_2"
        };
        for index in [unique_key, "credentials_by_assertion_id"] {
            assert!(plan.contains(index), "{index} is not used:\n{plan}");
        }
        assert!(
            !plan.contains("Seq Scan") && !plan.contains("SCAN credentials"),
            "a scan of the table:\n{plan}"
        );
    }
);

// Partners are retired by disabling them, never deleted: what they sent stays attributed
// to them (on PostgreSQL no foreign key checks that any more; the database refuses the
// deletion instead).
on_both_engines!(a_partner_is_never_deleted, |app: TestApp| async move {
    let partner = app.partner("school").await;
    let token = app.token(&partner, None).await;
    let sent = app
        .upload(&token, common::fixture("guide/three-courses.json"))
        .await;
    assert_eq!(sent.status(), 200);
    app.partner("quiet").await;
    for slug in ["school", "quiet"] {
        let refused = app
            .app
            .store
            .write(move |conn| {
                conn.execute("DELETE FROM partners WHERE slug = $1", &[Value::from(slug)])
            })
            .await
            .expect_err("the deletion is refused");
        assert!(
            refused.to_string().contains("disable it instead"),
            "{refused}"
        );
    }
    assert_eq!(
        names_of_partners(&app.app.store).await.expect("partners"),
        2
    );
});

// A package's links are removed before the package (expiry, erasure): a package that still
// lists credentials is not deleted (on PostgreSQL no foreign key checks each link's package
// any more; the database refuses the deletion instead), and deleting its links first lets it go.
on_both_engines!(
    a_package_is_deleted_only_after_its_links,
    |app: TestApp| async move {
        let partner = app.partner("school").await;
        let token = app.token(&partner, None).await;
        let sent = app
            .upload(&token, common::fixture("guide/three-courses.json"))
            .await;
        assert_eq!(sent.status(), 200);
        let package = app
            .app
            .store
            .read(|conn| conn.query_one("SELECT id FROM packages", &[])?.text(0))
            .await
            .expect("the package");
        let id = package.clone();
        let refused = app
            .app
            .store
            .write(move |conn| {
                conn.execute("DELETE FROM packages WHERE id = $1", &[Value::from(id)])
            })
            .await
            .expect_err("the deletion is refused");
        // PostgreSQL's trigger, or SQLite's foreign key.
        let message = refused.to_string();
        assert!(
            message.contains("still lists credentials")
                || message.contains("FOREIGN KEY constraint failed"),
            "{message}"
        );
        assert_eq!(app.rows_in("packages").await, 1);
        assert_eq!(app.rows_in("package_credentials").await, 3);

        let deleted = app
            .app
            .store
            .write(move |conn| {
                conn.execute(
                    "DELETE FROM package_credentials WHERE package_id = $1",
                    &[Value::from(package.as_str())],
                )?;
                conn.execute(
                    "DELETE FROM packages WHERE id = $1",
                    &[Value::from(package)],
                )
            })
            .await
            .expect("the package goes after its links");
        assert_eq!(deleted, 1);
        assert_eq!(app.rows_in("packages").await, 0);
    }
);

/// On PostgreSQL, writes of one statement each (uploads, tokens) that wait for a connection
/// at the same time go together, one transaction for all of them. Should one of them fail,
/// the others are written all the same, again together (one failure does not cost each of
/// them a transaction of its own), and each writer hears its own answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_statement_writes_that_wait_together_go_together_and_are_answered_alone() {
    let app = TestApp::spawn(Engine::Postgres).await;
    let _database = app.database_guard();
    let store = app.app.store.clone();
    probe_table(&store).await;
    store
        .write(|conn| insert(conn, "taken"))
        .await
        .expect("a name to take again");

    for (round, group) in [
        ["a1", "a2", "a3", "a4", "a5"],
        ["b1", "b2", "taken", "b4", "b5"],
    ]
    .into_iter()
    .enumerate()
    {
        // Every connection busy, so that the writes below wait for one together.
        let held = HeldConnections::take(&store).await;
        let writes: Vec<_> = group
            .iter()
            .map(|name| {
                let store = store.clone();
                let statement = credentialconnect::store::Statement {
                    sql: "INSERT INTO probe (name, note) VALUES ($1, 'together') \
                          RETURNING txid_current()::bigint"
                        .into(),
                    params: vec![Value::from(*name)],
                    lock_order: None,
                };
                tokio::spawn(async move { store.write_one(statement).await })
            })
            .collect();
        // Let every write reach the queue before a connection is free.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        held.release().await;
        let mut transactions = BTreeSet::new();
        for (name, write) in group.iter().zip(writes) {
            let answer = write.await.expect("writer");
            if *name == "taken" {
                assert!(
                    matches!(answer, Err(StoreError::Conflict(_))),
                    "the name taken before: {answer:?}"
                );
            } else {
                let rows = answer.unwrap_or_else(|e| panic!("{name}: {e}"));
                transactions.insert(rows[0].int(0).expect("its transaction"));
            }
        }
        let stored = names(&store).await;
        for name in group {
            assert!(stored.contains(name), "round {round}: {name} is stored");
        }
        if round == 0 {
            assert_eq!(transactions.len(), 1, "the five went as one transaction");
        } else {
            assert_eq!(
                transactions.len(),
                1,
                "after the failure the four went again as one transaction"
            );
        }
    }
}

/// Every connection of a PostgreSQL store's pool, held by jobs that wait to be let go, so
/// that the one-statement writes queued meanwhile wait for a connection together.
struct HeldConnections {
    releases: Vec<std::sync::mpsc::Sender<()>>,
    holders: Vec<tokio::task::JoinHandle<Result<(), StoreError>>>,
}

impl HeldConnections {
    async fn take(store: &Store) -> HeldConnections {
        let (holding, held) = std::sync::mpsc::channel();
        let mut releases = Vec::new();
        let mut holders = Vec::new();
        for _ in 0..credentialconnect::store::POSTGRES_CONNECTIONS {
            let (release, released) = std::sync::mpsc::channel::<()>();
            let holding = holding.clone();
            releases.push(release);
            let store = store.clone();
            holders.push(tokio::spawn(async move {
                store
                    .write(move |conn| {
                        conn.query("SELECT 1", &[])?;
                        let _ = holding.send(());
                        let _ = released.recv();
                        Ok(())
                    })
                    .await
            }));
        }
        for _ in 0..credentialconnect::store::POSTGRES_CONNECTIONS {
            held.recv().expect("a connection held");
        }
        HeldConnections { releases, holders }
    }

    async fn release(self) {
        drop(self.releases);
        for holder in self.holders {
            holder.await.expect("holder").expect("held a connection");
        }
    }
}

/// On PostgreSQL, two groups of one-statement writes that change the same rows (a partner's
/// package sent twice at once, its two copies waiting in different groups) change them in
/// one order: one group waits for the other. In the order they arrived, each would hold a
/// row the other wants next, until PostgreSQL broke the deadlock a second later and sent
/// every statement of one group again alone (a partner's retries stalled by a second each).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_that_change_the_same_rows_change_them_in_one_order() {
    let app = TestApp::spawn(Engine::Postgres).await;
    let _database = app.database_guard();
    let store = app.app.store.clone();
    probe_table(&store).await;
    for name in ["x", "y"] {
        store
            .write(move |conn| insert(conn, name))
            .await
            .expect("a row to change");
    }
    let change = |name: &str| credentialconnect::store::Statement {
        sql: "UPDATE probe SET note = note || '+' WHERE name = $1 RETURNING txid_current()::bigint"
            .into(),
        params: vec![Value::from(name)],
        lock_order: Some(name.to_string()),
    };
    // Statements of their own in between, each taking a moment, so that both groups hold
    // their first row before either asks for its last.
    let other = |name: String| credentialconnect::store::Statement {
        sql: "INSERT INTO probe (name, note) SELECT $1, 'other' FROM pg_sleep(0.05) \
              RETURNING txid_current()::bigint"
            .into(),
        params: vec![Value::from(name)],
        lock_order: None,
    };
    let group = |first: &str, last: &str, round: usize| {
        let mut statements = vec![change(first)];
        statements.extend((0..6).map(|i| other(format!("other-{round}-{i}"))));
        statements.push(change(last));
        statements
    };
    let mut statements = group("x", "y", 1);
    statements.extend(group("y", "x", 2));

    let held = HeldConnections::take(&store).await;
    let mut writes = Vec::new();
    for statement in statements {
        let store = store.clone();
        writes.push(tokio::spawn(
            async move { store.write_one(statement).await },
        ));
        // Queued in this order: the first eight make the first group, the rest the second.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    held.release().await;

    let mut transactions = BTreeSet::new();
    for write in writes {
        let rows = write.await.expect("writer").expect("written");
        transactions.insert(rows[0].int(0).expect("its transaction"));
    }
    assert_eq!(
        transactions.len(),
        2,
        "each group went as one transaction; none was broken up by a deadlock"
    );
    let notes = texts(
        &store,
        "SELECT note FROM probe WHERE name IN ('x', 'y') ORDER BY name",
    )
    .await;
    assert_eq!(
        notes,
        ["kept++", "kept++"],
        "each row changed once by each group"
    );
}
