//! The verification work one request may cause, shared by all the credentials it carries.
//!
//! Each document's canonicalization is capped on its own (`canonical`), but a package of 500
//! credentials — or one credential with thousands of proofs, each canonicalizing the document
//! again — would multiply that cap. A [`WorkBudget`] is the package's total: RDF statements
//! canonicalized, and n-degree hashing steps (RDFC-1.0's expensive part, which only crafted
//! "poison" graphs need in quantity). Past it, the remaining proofs are `attested` ("not
//! checked"), never wrongly `failed`, and the request ends quickly.
//!
//! The budget travels with the verifying task (a task-local), so the proof suites need no
//! extra parameter: `canonical::canonical_nquads` charges the budget in force, if any.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Statements (quads) one package may canonicalize in all: a 5 MiB package of ordinary
/// credentials makes well under half of this, counting each proof's two documents.
pub const PACKAGE_STATEMENTS: usize = 400_000;

/// What one canonicalization costs besides its statements, so that thousands of tiny
/// documents (a credential with thousands of proofs) cannot pass for free.
pub const STATEMENTS_PER_DOCUMENT: usize = 64;

/// N-degree hashing steps one package may spend beyond each document's first few: enough
/// for a couple of documents at the per-document cap.
pub const PACKAGE_HASHING_STEPS: usize = 8_000;

tokio::task_local! {
    static CURRENT: Arc<WorkBudget>;
}

/// Why a proof was not checked: the request's share of the work is spent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not checked: this upload has used up its share of canonicalization work ({0}); it is checked again when the package is viewed later"
)]
pub struct OverBudget(pub String);

/// What is left of one request's verification work.
#[derive(Debug)]
pub struct WorkBudget {
    statements: AtomicUsize,
    hashing_steps: AtomicUsize,
    /// Some document was refused for want of budget.
    refused: AtomicBool,
}

impl WorkBudget {
    /// A package's budget.
    pub fn per_package() -> Arc<WorkBudget> {
        WorkBudget::new(PACKAGE_STATEMENTS, PACKAGE_HASHING_STEPS)
    }

    pub fn new(statements: usize, hashing_steps: usize) -> Arc<WorkBudget> {
        Arc::new(WorkBudget {
            statements: AtomicUsize::new(statements),
            hashing_steps: AtomicUsize::new(hashing_steps),
            refused: AtomicBool::new(false),
        })
    }

    /// Runs `work` with this budget in force: every canonicalization inside it is charged.
    pub async fn scope<F: Future>(self: Arc<Self>, work: F) -> F::Output {
        CURRENT.scope(self, work).await
    }

    /// The budget in force for the current task, if any (none: per-document caps only).
    pub fn current() -> Option<Arc<WorkBudget>> {
        CURRENT.try_with(Arc::clone).ok()
    }

    /// Charges one document of `statements` quads; refused when the package has too few
    /// left (what is left stays for smaller documents).
    pub fn charge_document(&self, statements: usize) -> Result<(), OverBudget> {
        let cost = statements.saturating_add(STATEMENTS_PER_DOCUMENT);
        self.statements
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(cost)
            })
            .map(|_| ())
            .map_err(|_| self.refuse(statements_spent()))
    }

    /// Whether another document could still be charged (checked before expanding one).
    pub fn has_statements_left(&self) -> Result<(), OverBudget> {
        if self.statements.load(Ordering::Relaxed) >= STATEMENTS_PER_DOCUMENT {
            Ok(())
        } else {
            Err(self.refuse(statements_spent()))
        }
    }

    /// Takes up to `wanted` n-degree hashing steps; 0 when none are left.
    pub fn grant_hashing_steps(&self, wanted: usize) -> usize {
        let mut granted = 0;
        let _ = self
            .hashing_steps
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                granted = left.min(wanted);
                Some(left - granted)
            });
        granted
    }

    /// Refuses a document that needed more hashing than the package had left.
    pub fn hashing_spent(&self) -> OverBudget {
        self.refuse(OverBudget(format!(
            "{PACKAGE_HASHING_STEPS} n-degree hashing steps per package, which only graphs of many alike blank nodes need"
        )))
    }

    /// Whether some document went unchecked for want of budget.
    pub fn refused_any(&self) -> bool {
        self.refused.load(Ordering::Relaxed)
    }

    fn refuse(&self, why: OverBudget) -> OverBudget {
        self.refused.store(true, Ordering::Relaxed);
        why
    }
}

fn statements_spent() -> OverBudget {
    OverBudget(format!(
        "{PACKAGE_STATEMENTS} RDF statements per package, counting {STATEMENTS_PER_DOCUMENT} for each document"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_charged_until_the_statements_run_out() {
        let budget = WorkBudget::new(2 * (100 + STATEMENTS_PER_DOCUMENT), 0);
        assert!(budget.charge_document(100).is_ok());
        assert!(budget.charge_document(100).is_ok());
        assert!(!budget.refused_any());
        assert!(budget.has_statements_left().is_err());
        assert!(budget.charge_document(0).is_err());
        assert!(budget.refused_any());
    }

    #[test]
    fn hashing_steps_are_granted_until_none_are_left() {
        let budget = WorkBudget::new(0, 5_000);
        assert_eq!(budget.grant_hashing_steps(4_000), 4_000);
        assert_eq!(budget.grant_hashing_steps(4_000), 1_000);
        assert_eq!(budget.grant_hashing_steps(4_000), 0);
    }

    #[tokio::test]
    async fn the_budget_is_in_force_only_inside_its_scope() {
        assert!(WorkBudget::current().is_none());
        let budget = WorkBudget::new(1, 2);
        let inside = Arc::clone(&budget)
            .scope(async { WorkBudget::current().is_some() })
            .await;
        assert!(inside);
        assert!(WorkBudget::current().is_none());
    }
}
