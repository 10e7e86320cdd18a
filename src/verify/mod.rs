//! Verifying credentials' proofs (issue #3, API.md §9).
pub mod canonical;
pub mod contexts;
pub mod jsonld;
