//! Verification as a use case: checking the records of an upload before they are stored,
//! checking stored credentials again when a package or a shared resume is viewed (cached for
//! `verification_ttl`), and the contexts an operator adds.

use super::{App, millis};
use crate::domain::package::{Package, RecordKind};
use crate::domain::verification::{self, VerificationState};
use crate::store::{StoreError, contexts, holding};
use crate::verify::Report;
use crate::verify::budget::WorkBudget;
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How often the operator-added contexts are re-read from the database (so a context added
/// on one instance reaches the others).
const CONTEXTS_REFRESH_MS: i64 = 30_000;

/// How long one upload may spend verifying. Each fetch is capped at 5 s, but a package of
/// 500 credentials naming 500 different hosts must not hold a request for 40 minutes: what
/// is not checked in time is `attested` (and `failed` for strict partners), saying why.
const PACKAGE_BUDGET: Duration = Duration::from_secs(20);

/// How long a page view may spend checking again: someone is waiting for the page, and what
/// is not re-checked in time keeps its stored state until the next view.
const RECHECK_BUDGET: Duration = Duration::from_secs(5);

/// Verifies every record of a package (outer CLR and nested credentials alike) and settles
/// each one's state, applying the partner's `strict` setting. The work runs on the blocking
/// pool under the package's [`WorkBudget`], so a package built to be slow to check holds one
/// blocking thread for a bounded time and never an async worker (which would stall every
/// other request on it).
pub async fn verify_package(
    app: &App,
    package: Package,
    strict: bool,
) -> Result<Package, StoreError> {
    refresh_contexts_if_stale(app).await?;
    if !package.records.iter().any(|r| r.needs_verifying()) {
        // Nothing to check, only each record's no-proof state to settle: done here, as
        // a hop to the blocking pool and back cost more than the settling (and, under load,
        // a thread switch each way).
        let mut package = package;
        verify_records(app, &mut package, strict).await;
        return Ok(package);
    }
    let app = app.clone();
    off_the_workers(async move {
        let mut package = package;
        verify_records(&app, &mut package, strict).await;
        package
    })
    .await
}

/// Runs `work` on the blocking pool with a fresh package budget in force.
async fn off_the_workers<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
) -> Result<T, StoreError> {
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || runtime.block_on(WorkBudget::per_package().scope(work)))
        .await
        .map_err(|e| StoreError::Other(format!("verification stopped: {e}")))
}

async fn verify_records(app: &App, package: &mut Package, strict: bool) {
    let deadline = tokio::time::Instant::now() + PACKAGE_BUDGET;
    for index in 0..package.records.len() {
        let record = &package.records[index];
        if !record.needs_verifying() {
            let report = Report::no_proof();
            package.settle(
                index,
                verification::decide(report.state, report.reason(), strict),
            );
            continue;
        }
        // The text was written from the parsed body, so it parses.
        let document: Value = serde_json::from_str(&package.document(index)).unwrap_or_default();
        let verifying = app.verifier.verify(&document, record.jws.as_deref());
        let (state, reason) = match tokio::time::timeout_at(deadline, verifying).await {
            Ok(report) => (report.state, report.reason()),
            Err(_) => (
                VerificationState::Attested,
                format!(
                    "not checked: verifying this upload took longer than {} s (slow key or status-list servers); it is checked again when the package is viewed later",
                    PACKAGE_BUDGET.as_secs()
                ),
            ),
        };
        package.settle(index, verification::decide(state, reason, strict));
    }
    distrust_what_failed_clrs_carry(package);
}

/// A CLR whose own proof fails was changed after signing, and its proof covers everything
/// it carries, the subject's names included: the credentials inside it may be genuine
/// ones wrapped into a forged transcript, so none of them is shown as verified.
fn distrust_what_failed_clrs_carry(package: &mut Package) {
    let failed: Vec<(String, String)> = package
        .records
        .iter()
        .filter(|r| r.kind == RecordKind::Clr && r.verification.state == VerificationState::Failed)
        .map(|r| {
            (
                r.key.clone(),
                r.assertion_id.clone().unwrap_or_else(|| r.key.clone()),
            )
        })
        .collect();
    if failed.is_empty() {
        return;
    }
    for index in 0..package.records.len() {
        let record = &package.records[index];
        let Some((_, clr)) = failed
            .iter()
            .find(|(key, _)| record.parent_key.as_deref() == Some(key.as_str()))
        else {
            continue;
        };
        if record.verification.state == VerificationState::Failed {
            continue;
        }
        let reason = format!(
            "carried by the CLR {clr}, whose own proof failed: nothing it carries is shown as verified (this credential's own check: {}: {})",
            record.verification.state, record.verification.reason
        );
        package.settle(
            index,
            verification::Verification {
                state: VerificationState::Failed,
                reason,
            },
        );
    }
}

/// Checks again the package's credentials whose verification is older than
/// `verification_ttl`, so a revocation or expiry since upload shows up.
pub async fn recheck_package(app: &App, package_id: &str) -> Result<(), StoreError> {
    let before = stale_before(app);
    let package = package_id.to_string();
    let stale = app
        .store
        .read(move |conn| holding::stale_verifications(conn, &package, before))
        .await?;
    recheck(app, stale).await
}

/// Checks again the credentials a person owns whose verification is older than
/// `verification_ttl` (when their shared resume is viewed).
pub async fn recheck_owned(app: &App, user_id: &str) -> Result<(), StoreError> {
    let before = stale_before(app);
    let user = user_id.to_string();
    let stale = app
        .store
        .read(move |conn| holding::stale_verifications_of_owner(conn, &user, before))
        .await?;
    recheck(app, stale).await
}

fn stale_before(app: &App) -> i64 {
    app.clock
        .now_ms()
        .saturating_sub(millis(app.config.verification_ttl))
}

/// Verifies `stale` again and stores the results. A credential that newly fails raises an
/// alert and stops vouching for its skills.
async fn recheck(app: &App, stale: Vec<holding::StaleVerification>) -> Result<(), StoreError> {
    if stale.is_empty() {
        return Ok(());
    }
    refresh_contexts_if_stale(app).await?;
    let now = app.clock.now_ms();
    let deadline = tokio::time::Instant::now() + RECHECK_BUDGET;
    let verifier = Arc::clone(&app.verifier);
    // Like uploads, off the async workers and within one package's work budget.
    let updates = off_the_workers(async move {
        let budget = WorkBudget::current();
        let mut updates = Vec::with_capacity(stale.len());
        for item in stale {
            let Ok(document) = serde_json::from_str::<Value>(&item.document) else {
                continue;
            };
            // Past the budget, the stored state stands until the next view.
            let verifying = verifier.verify(&document, item.jws.as_deref());
            let Ok(report) = tokio::time::timeout_at(deadline, verifying).await else {
                break;
            };
            // Once the work budget refuses a document, what it left unchecked keeps its
            // stored state too.
            if budget.as_ref().is_some_and(|b| b.refused_any()) {
                break;
            }
            let decided = verification::decide(report.state, report.reason(), item.strict);
            updates.push((item, decided));
        }
        updates
    })
    .await?;
    app.store
        .write(move |conn| {
            for (item, decided) in &updates {
                record_check(conn, item, decided, now)?;
            }
            Ok(())
        })
        .await
}

/// Stores the outcome of checking `item` again. A credential that newly fails raises an
/// alert and stops vouching for its skills.
pub fn record_check(
    conn: &mut dyn crate::store::Conn,
    item: &holding::StaleVerification,
    decided: &verification::Verification,
    now: i64,
) -> Result<(), StoreError> {
    holding::set_verification(conn, &item.id, decided, now)?;
    if decided.state == VerificationState::Failed && item.state != VerificationState::Failed {
        crate::store::alerts::raise(
            conn,
            "verification_failed",
            Some(&item.partner_id),
            &item.subject,
            &decided.reason,
            now,
        )?;
    }
    Ok(())
}

/// Checks one stored credential now, whatever its last check (a viewer account opening
/// its details sees every check as of this moment): the verifier's whole report, or `None`
/// when checking took longer than a page view may wait. Nothing is stored here.
pub async fn check_now(
    app: &App,
    item: &holding::StaleVerification,
) -> Result<Option<Report>, StoreError> {
    refresh_contexts_if_stale(app).await?;
    let Ok(document) = serde_json::from_str::<Value>(&item.document) else {
        return Ok(None);
    };
    let jws = item.jws.clone();
    let verifier = Arc::clone(&app.verifier);
    let deadline = tokio::time::Instant::now() + RECHECK_BUDGET;
    off_the_workers(async move {
        let verifying = verifier.verify(&document, jws.as_deref());
        tokio::time::timeout_at(deadline, verifying).await.ok()
    })
    .await
}

/// Re-reads the operator-added contexts.
pub async fn refresh_contexts(app: &App) -> Result<(), StoreError> {
    let added = app.store.read(contexts::all).await?;
    app.verifier.contexts().set_added(added);
    app.contexts_loaded_at
        .store(app.clock.now_ms(), Ordering::Relaxed);
    Ok(())
}

async fn refresh_contexts_if_stale(app: &App) -> Result<(), StoreError> {
    let loaded = app.contexts_loaded_at.load(Ordering::Relaxed);
    if app.clock.now_ms().saturating_sub(loaded) > CONTEXTS_REFRESH_MS {
        refresh_contexts(app).await?;
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum ContextAdminError {
    #[error(transparent)]
    Invalid(#[from] crate::verify::contexts::ContextError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Adds (or replaces) an operator's context.
pub async fn add_context(app: &App, url: &str, document: &str) -> Result<(), ContextAdminError> {
    let parsed = app.verifier.contexts().check_addition(url, document)?;
    let (url, now) = (url.to_string(), app.clock.now_ms());
    app.store
        .write(move |conn| contexts::put(conn, &url, &parsed, now))
        .await?;
    refresh_contexts(app).await?;
    Ok(())
}

pub async fn remove_context(app: &App, url: &str) -> Result<bool, StoreError> {
    let url = url.to_string();
    let removed = app
        .store
        .write(move |conn| contexts::remove(conn, &url))
        .await?;
    refresh_contexts(app).await?;
    Ok(removed)
}
