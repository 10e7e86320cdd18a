//! Uploads into the holding area (docs/partner-api.md, "Uploads") and the partner's own reads,
//! replaces and deletes. Every record's proof is verified before the write; each upload is then one
//! write transaction: all of it is stored, or none.

use super::auth::Authenticated;
use super::turns::Turn;
use super::{App, millis, verification};
use crate::clock;
use crate::domain::activation;
use crate::domain::json_tree::Body;
use crate::domain::package::{self, Package, PartnerRules, Problem, RecordKind};
use crate::domain::verification::VerificationState;
use crate::secrets;
use crate::store::holding::{self, NewPackage, SaveResult, Submitted};
use crate::store::{Conn, StoreError, mapping, outbox, partners};
use serde::Serialize;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The body breaks the rules: every problem, by pointer.
    #[error("the package was not stored: {} problem(s)", .0.len())]
    Invalid(Vec<Problem>),
    /// The partner's earlier uploads are still being verified (`turns`): retry shortly.
    #[error("this partner's earlier uploads are still being read and verified")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The 200 body of an upload (docs/partner-api.md, "Uploads", Response).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// Always "success".
    pub status: &'static str,
    /// Opens the package's claim page; at least 256 bits, unguessable.
    pub identifier_token: String,
    pub redirect_url: String,
    /// Present when the recipient can find this package on the partner's activation page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation_url: Option<String>,
    pub expires_at: String,
    /// `inbox` when the package carried a `recipienttoken`: it went straight to the import
    /// inbox of the person who started the import, who chooses from it on the return page
    /// (`redirectURL`); the claim link (`redirectUrl`) is then needed by nobody. Absent
    /// for a package without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered: Option<Delivery>,
    pub credentials: Vec<CredentialReceipt>,
    pub skills: Vec<SkillReceipt>,
    pub warnings: Vec<Problem>,
}

/// Where an upload's package went besides the holding area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    /// To the import inbox of the person the recipient token names.
    Inbox,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CredentialReceipt {
    /// The assertion id as sent.
    pub id: String,
    /// "credential", or "clr" for a CLR itself (listed before the credentials it carries,
    /// with the state of its own proof).
    pub kind: &'static str,
    pub result: SaveResult,
    /// The resume section, or "Unassigned"; absent for a CLR, which is not shown itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    pub verification: VerificationState,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SkillReceipt {
    pub name: String,
    pub verified: bool,
}

/// Reads the partner's rules (overrides, strictness) for the package reader.
async fn rules_for(app: &App, auth: &Authenticated) -> Result<PartnerRules, StoreError> {
    let mapping = match app.caches.mapping.get(&auth.partner.id) {
        Some(rules) => rules,
        None => {
            let read_at = app.caches.mapping.generation();
            let partner_id = auth.partner.id.clone();
            let rules = app
                .store
                .read(move |conn| mapping::rules_for(conn, &partner_id))
                .await?;
            app.caches.mapping.put_unless_cleared_since(
                read_at,
                auth.partner.id.clone(),
                rules.clone(),
            );
            rules
        }
    };
    Ok(PartnerRules {
        unstable_ids: auth.partner.unstable_ids,
        strict: auth.partner.strict,
        mapping,
    })
}

/// Reads, validates and stores a package.
///
/// `turn` is the partner's turn at the CPU (`turns`), taken for a large body: held while the
/// package is read and verified, given back before the write. A package with proofs to
/// verify takes one if it has none.
pub async fn accept(
    app: &App,
    auth: &Authenticated,
    body: Body,
    turn: Option<Turn>,
) -> Result<Receipt, UploadError> {
    let rules = rules_for(app, auth).await?;
    let strict = rules.strict;
    let package = read(app, body, rules).await?;
    let turn = turn_to_verify(app, auth, &package, turn).await?;
    let package = verification::verify_package(app, package, strict).await?;
    drop(turn);
    store(app, auth, package).await
}

/// The partner's turn for verifying `package`, when it has proofs to verify.
async fn turn_to_verify(
    app: &App,
    auth: &Authenticated,
    package: &Package,
    turn: Option<Turn>,
) -> Result<Option<Turn>, UploadError> {
    if turn.is_some() || !package.records.iter().any(|r| r.needs_verifying()) {
        return Ok(turn);
    }
    match app.limiters.upload_turns.take(&auth.partner.id).await {
        Some(turn) => Ok(Some(turn)),
        None => Err(UploadError::Busy),
    }
}

/// Reads the package, a large body on the blocking pool: reading is linear in the body and
/// stops at the first limit crossed, but a 5 MiB body still takes a while, and an async
/// worker held that long holds up every request queued behind it.
async fn read(app: &App, body: Body, rules: PartnerRules) -> Result<Package, UploadError> {
    let limits = app.config.limits;
    if body.borrow_owner().len() <= READ_IN_PLACE {
        return package::read_body(body, &rules, limits).map_err(UploadError::Invalid);
    }
    tokio::task::spawn_blocking(move || package::read_body(body, &rules, limits))
        .await
        .map_err(|e| StoreError::Other(format!("reading the package stopped: {e}")))?
        .map_err(UploadError::Invalid)
}

/// Bodies up to this size are parsed and read on the async worker that received them: a
/// few courses take microseconds, less than the two thread switches of a hop to the
/// blocking pool and back. Larger ones go to the blocking pool.
pub const READ_IN_PLACE: usize = 16 * 1024;

/// `PUT /credentials/{id}`: the body is one credential whose id must be the one in the path.
pub async fn replace(
    app: &App,
    auth: &Authenticated,
    id: &str,
    body: Body,
    turn: Option<Turn>,
) -> Result<Option<Receipt>, UploadError> {
    let rules = rules_for(app, auth).await?;
    let strict = rules.strict;
    let package = read(app, body, rules).await?;
    let top: Vec<_> = package
        .records
        .iter()
        .filter(|r| r.parent_key.is_none())
        .collect();
    let [record] = top.as_slice() else {
        return Err(UploadError::Invalid(vec![Problem {
            pointer: String::new(),
            message: format!(
                "PUT replaces one credential; the body carries {}",
                top.len()
            ),
        }]));
    };
    if record.assertion_id.as_deref() != Some(id) {
        return Err(UploadError::Invalid(vec![Problem {
            pointer: "/id".into(),
            message: format!(
                "the credential's id {:?} differs from the id in the URL {id:?}",
                record.assertion_id.as_deref().unwrap_or("")
            ),
        }]));
    }
    let (partner_id, wanted) = (auth.partner.id.clone(), id.to_string());
    let exists = app
        .store
        .read(move |conn| holding::key_of(conn, &partner_id, &wanted))
        .await?;
    if exists.is_none() {
        return Ok(None);
    }
    let turn = turn_to_verify(app, auth, &package, turn).await?;
    let package = verification::verify_package(app, package, strict).await?;
    drop(turn);
    store(app, auth, package).await.map(Some)
}

async fn store(app: &App, auth: &Authenticated, package: Package) -> Result<Receipt, UploadError> {
    let package_id = crate::store::new_id();
    let recipient_json = serde_json::to_string(&package.recipient).unwrap_or_else(|_| "{}".into());
    let (identifier_token, token_hash) = secrets::claim_token(&package_id);
    let now = app.clock.now_ms();
    let expires_at = now.saturating_add(millis(app.config.package_ttl));
    let partner_id = auth.partner.id.clone();
    let access_token_hash = auth.token_hash.clone();
    let slide = auth.needs_touch;
    let recipient_token_hash = package.recipient_token.as_deref().map(secrets::digest);
    let (email_key, student_key) = activation::recipient_keys(&partner_id, &package.recipient);
    let job = Arc::new(SaveJob {
        package,
        package_id,
        partner_id,
        token_hash,
        recipient_json,
        documents: std::sync::OnceLock::new(),
        recipient_token_hash,
        email_key,
        student_key,
        access_token_hash,
        slide,
        now,
        expires_at,
        partner_name: auth.partner.name.clone(),
        public_url: app.config.public_url.clone(),
    });
    // Copies of one new package sent at once (a partner retrying at once) race to insert the
    // same assertion; the loser's transaction breaks a unique rule and is rolled back whole.
    // Run again, it finds its twin's rows and updates them (or leaves them unchanged). Two
    // packages sharing credentials may meet in a deadlock instead (on PostgreSQL, whose
    // transactions write in the package's order, `StoreError::Deadlock`): the one undone
    // likewise runs again.
    let mut attempt = 1;
    let saved = loop {
        match save(app, &job).await {
            Err(StoreError::Conflict(rule) | StoreError::Deadlock(rule))
                if attempt < SAVE_ATTEMPTS =>
            {
                tracing::debug!(%rule, attempt, "a simultaneous upload wrote the same credentials first; saving again");
                attempt += 1;
            }
            outcome => break outcome?.map_err(|problem| UploadError::Invalid(vec![problem]))?,
        }
    };
    let package = &job.package;
    app.caches
        .stored_records
        .remember(&job.partner_id, job.record_fingerprints());
    if slide {
        super::auth::touched(app, auth, now);
    }
    Ok(receipt(
        app,
        auth,
        identifier_token,
        expires_at,
        package,
        &saved,
    ))
}

/// Runs the upload's write: on PostgreSQL first as one statement, which stores the usual
/// package (new or unchanged records) in one round trip — the lean one for a package this
/// process stored lately as it is (`holding::known_package_at_once`), else the whole one
/// (`holding::package_at_once`). Anything else, and every upload on SQLite, is a
/// transaction of simple statements.
async fn save(
    app: &App,
    job: &Arc<SaveJob>,
) -> Result<Result<Vec<holding::Saved>, Problem>, StoreError> {
    let one_statement = app.store.writes_in_one_statement() && job.recipient_token_hash.is_none();
    let touch = job.slide.then_some(job.access_token_hash.as_str());
    let known = app
        .caches
        .stored_records
        .all_known(&job.partner_id, job.record_fingerprints());
    // Should the records have changed since (another instance, a delete), the lean
    // statement writes nothing and the whole one is sent.
    if one_statement
        && known
        && let Some(saved) = at_once(
            app,
            job,
            holding::known_package_at_once(&job.new_package(None), touch),
        )
        .await?
    {
        return Ok(Ok(saved));
    }
    // The documents are serialised once, here, on the request's worker: the writer (SQLite's
    // only one) has better things to do. The whole statement sends them, and the
    // transaction that follows it, should it write nothing, stores the same ones. A package
    // this process stored lately as it is (a partner's retry) needs none on SQLite: its
    // records are unchanged, and one that changed meanwhile is serialised by the transaction.
    if one_statement || !known {
        job.documents.get_or_init(|| {
            (0..job.package.records.len())
                .map(|i| job.package.document(i).into_owned())
                .collect()
        });
    }
    if one_statement {
        let whole = holding::package_at_once(&job.new_package(None), touch);
        if let Some(saved) = at_once(app, job, whole).await? {
            return Ok(Ok(saved));
        }
    }
    let this = Arc::clone(job);
    app.store.write_repeatable(move |conn| this.run(conn)).await
}

/// Sends an upload's one statement, if there is one: what it stored, or `None`.
async fn at_once(
    app: &App,
    job: &SaveJob,
    statement: Option<crate::store::Statement>,
) -> Result<Option<Vec<holding::Saved>>, StoreError> {
    let Some(statement) = statement else {
        return Ok(None);
    };
    let rows = app.store.write_one(statement).await?;
    holding::saved_at_once(&rows, job.package.records.len())
}

/// How many times an upload's transaction is tried when a simultaneous upload breaks a
/// unique rule first (each retry finds the other's rows, so two suffice; the rest is margin).
const SAVE_ATTEMPTS: u32 = 4;

/// One upload's write transaction, runnable again after a conflict.
struct SaveJob {
    package: Package,
    package_id: String,
    partner_id: String,
    token_hash: String,
    recipient_json: String,
    /// Each record's document, serialised before the transaction path's first write.
    documents: std::sync::OnceLock<Vec<String>>,
    recipient_token_hash: Option<String>,
    email_key: Option<String>,
    student_key: Option<String>,
    access_token_hash: String,
    slide: bool,
    now: i64,
    expires_at: i64,
    /// For the mail that tells a person a delivery is waiting in their inbox.
    partner_name: String,
    public_url: String,
}

impl SaveJob {
    /// Each record's assertion key and fingerprint.
    fn record_fingerprints(&self) -> impl Iterator<Item = (&str, &str)> {
        self.package
            .records
            .iter()
            .map(|r| (r.key.as_str(), r.fingerprint.as_str()))
    }

    fn new_package<'a>(&'a self, inbox_user_id: Option<&'a str>) -> NewPackage<'a> {
        NewPackage {
            documents: self.documents.get().map_or(&[], Vec::as_slice),
            id: &self.package_id,
            partner_id: &self.partner_id,
            token_hash: &self.token_hash,
            package: &self.package,
            recipient_json: &self.recipient_json,
            inbox_user_id,
            activation_keys: (self.email_key.as_deref(), self.student_key.as_deref()),
            now: self.now,
            expires_at: self.expires_at,
        }
    }

    fn run(&self, conn: &mut dyn Conn) -> Result<Result<Vec<holding::Saved>, Problem>, StoreError> {
        let (partner_id, now) = (&self.partner_id, self.now);
        let inbox_user = match &self.recipient_token_hash {
            // A package for a recipient someone already claimed goes to their inbox
            // (use case 2).
            None => match self.package.recipient.id.as_deref() {
                Some(recipient) => crate::store::resume::linked_user(conn, partner_id, recipient)?,
                None => None,
            },
            Some(hash) => match holding::recipient_token_user(conn, hash, partner_id, now)? {
                Some(user) => Some(user),
                None => return Ok(Err(Problem {
                    pointer: "/recipienttoken".into(),
                    message: "unknown or expired recipient token: it must be one this service gave this partner (the recipientToken of a person's visit to its pull URL) and is valid for one hour".into(),
                })),
            },
        };
        let saved = holding::save_package(conn, &self.new_package(inbox_user.as_deref()))?;
        if self.slide {
            partners::touch_token(conn, &self.access_token_hash, now)?;
        }
        let news = saved.iter().any(|s| s.result != SaveResult::Unchanged);
        if let Some(user) = inbox_user.as_deref()
            && self.recipient_token_hash.is_none()
            && news
        {
            self.tell_of_delivery(conn, user)?;
        }
        Ok(Ok(saved))
    }

    /// Mails the person a package went to (use case 2: their recipient id is linked to them),
    /// once, in the package's own transaction. A pull (recipient token) is not mailed: the
    /// person is on the import page waiting for it. Nor is a package that changed nothing (a
    /// partner's retry). Test mode applies when the mail is sent.
    fn tell_of_delivery(&self, conn: &mut dyn Conn, user_id: &str) -> Result<(), StoreError> {
        let Some(user) = crate::store::users::by_id(conn, user_id)? else {
            return Ok(());
        };
        let (partner, base) = (&self.partner_name, &self.public_url);
        outbox::enqueue(
            conn,
            &user.email,
            &format!("New credentials from {partner} are waiting for you"),
            &format!(
                "{partner} sent credentials for your SmartResume. They wait in your import inbox until you choose which to add:\n{base}/inbox/{}\n\nNothing is added to your resume until you choose.",
                self.package_id
            ),
            None,
            self.now,
        )
    }
}

fn receipt(
    app: &App,
    auth: &Authenticated,
    identifier_token: String,
    expires_at: i64,
    package: &Package,
    saved: &[holding::Saved],
) -> Receipt {
    let base = &app.config.public_url;
    let mut credentials = Vec::new();
    let mut skills = Vec::new();
    for outcome in saved {
        let record = &package.records[outcome.record_index];
        skills.extend(record.skills.iter().map(|s| SkillReceipt {
            name: s.name.to_string(),
            verified: s.verified,
        }));
        if matches!(record.kind, RecordKind::Credential | RecordKind::Clr) {
            credentials.push(CredentialReceipt {
                id: record
                    .assertion_id
                    .clone()
                    .unwrap_or_else(|| record.key.clone()),
                kind: record.kind.as_str(),
                result: outcome.result,
                section: match record.kind {
                    RecordKind::Clr => None,
                    _ => Some(
                        record
                            .section
                            .map(|s| s.title().to_string())
                            .unwrap_or_default(),
                    ),
                },
                verification: record.verification.state,
            });
        }
    }
    Receipt {
        status: "success",
        redirect_url: format!("{base}/createmyresume/{identifier_token}"),
        identifier_token,
        activation_url: package
            .recipient
            .is_searchable()
            .then(|| format!("{base}/find/{}", auth.partner.slug)),
        expires_at: clock::rfc3339(expires_at),
        // A token that names nobody (unknown, expired, another partner's) refused the
        // upload before this: a package with one was delivered.
        delivered: package.recipient_token.is_some().then_some(Delivery::Inbox),
        credentials,
        skills,
        warnings: package.warnings.clone(),
    }
}

/// One page of this partner's submissions and the total count.
pub async fn list(
    app: &App,
    auth: &Authenticated,
    limit: i64,
    offset: i64,
) -> Result<(i64, Vec<Submitted>), StoreError> {
    let partner_id = auth.partner.id.clone();
    app.store
        .read(move |conn| holding::list_submitted(conn, &partner_id, limit, offset))
        .await
}

pub async fn find(
    app: &App,
    auth: &Authenticated,
    id: &str,
) -> Result<Option<Submitted>, StoreError> {
    let (partner_id, wanted) = (auth.partner.id.clone(), id.to_string());
    app.store
        .read(move |conn| holding::find_submitted(conn, &partner_id, &wanted))
        .await
}

/// Deletes (revokes) a submission; false when this partner has none with that id.
pub async fn delete(app: &App, auth: &Authenticated, id: &str) -> Result<bool, StoreError> {
    let (partner_id, wanted) = (auth.partner.id.clone(), id.to_string());
    let token_hash = auth.token_hash.clone();
    let now = app.clock.now_ms();
    let slide = auth.needs_touch;
    let deleted = app
        .store
        .write(move |conn| {
            let deleted = holding::delete(conn, &partner_id, &wanted, now)?;
            if deleted && slide {
                partners::touch_token(conn, &token_hash, now)?;
            }
            Ok(deleted)
        })
        .await?;
    if deleted && slide {
        super::auth::touched(app, auth, now);
    }
    Ok(deleted)
}
