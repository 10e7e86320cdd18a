//! CredentialConnect: partners push Open Badges 3.0 and CLR 2.0 credentials; job seekers
//! claim them into a skills-first resume.
//!
//! Layers, each depending only on those below: `http` → `services` → `domain` + `store`.

pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod export;
pub mod forms;
pub mod http;
pub mod secrets;
pub mod services;
pub mod store;
pub mod verify;
