//! The audit log's vocabulary: who acted ([`Actor`]), what they did ([`Action`]) and to what.
//! Entries are written in the same transaction as the action they record, so an action that
//! happened is always in the log and one that was rolled back never is.

use serde::Serialize;

/// Who did something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorKind,
    /// An account id (a person's or an admin's), or the operator's login name on the command
    /// line.
    pub id: String,
    /// Where the request came from, when it is recorded (see [`ActorKind::Person`]).
    pub address: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    /// Someone running `credentialconnect` on the server: they hold the database already.
    Operator,
    /// A person's account. Their address is not recorded: the log outlives an erased account
    /// and must not keep where its owner connected from.
    Person,
    /// An admin account on the admin pages, with the address it connected from.
    Admin,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Operator => "operator",
            ActorKind::Person => "person",
            ActorKind::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<ActorKind> {
        [ActorKind::Operator, ActorKind::Person, ActorKind::Admin]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

impl Actor {
    /// The operator running a CLI verb: named by the login the process runs under, from the
    /// machine itself.
    pub fn operator() -> Actor {
        let login = ["USER", "LOGNAME"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
            .unwrap_or_else(|| "unknown".into());
        Actor {
            kind: ActorKind::Operator,
            id: login.chars().take(64).collect(),
            address: Some("command line".into()),
        }
    }

    pub fn admin(user_id: &str, address: &str) -> Actor {
        Actor {
            kind: ActorKind::Admin,
            id: user_id.to_string(),
            address: Some(address.to_string()),
        }
    }

    pub fn person(user_id: &str) -> Actor {
        Actor {
            kind: ActorKind::Person,
            id: user_id.to_string(),
            address: None,
        }
    }
}

/// What was done. The names are stable: filters and exported JSON Lines use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    PartnerCreated,
    PartnerSecretRotated,
    PartnerDisabled,
    PartnerChanged,
    MappingAdded,
    MarketplaceChanged,
    MarketplaceRemoved,
    SigningKeyRotated,
    /// A second person tried to claim something already on another resume.
    ClaimConflict,
    /// A person downloaded everything held about them.
    DataExported,
    /// A person's account and personal data were erased.
    AccountErased,
    /// An admin account was made, or given a new set-password link.
    AdminCreated,
    /// An admin passed the second factor: a complete admin sign-in.
    AdminSignedIn,
    /// A wrong password for an admin account, or a wrong or replayed second factor.
    AdminSignInFailed,
    /// An admin set up their authenticator (and got recovery codes).
    AdminSecondFactorSetUp,
    /// An admin signed in with a recovery code.
    AdminRecoveryCodeUsed,
    /// An alert was acknowledged without a change.
    AlertAcknowledged,
    /// An address or domain was added to test mode's mail whitelist.
    WhitelistAdded,
    /// An address or domain was removed from it.
    WhitelistRemoved,
}

impl Action {
    pub const ALL: [Action; 19] = [
        Action::PartnerCreated,
        Action::PartnerSecretRotated,
        Action::PartnerDisabled,
        Action::PartnerChanged,
        Action::MappingAdded,
        Action::MarketplaceChanged,
        Action::MarketplaceRemoved,
        Action::SigningKeyRotated,
        Action::ClaimConflict,
        Action::DataExported,
        Action::AccountErased,
        Action::AdminCreated,
        Action::AdminSignedIn,
        Action::AdminSignInFailed,
        Action::AdminSecondFactorSetUp,
        Action::AdminRecoveryCodeUsed,
        Action::AlertAcknowledged,
        Action::WhitelistAdded,
        Action::WhitelistRemoved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::PartnerCreated => "partner.created",
            Action::PartnerSecretRotated => "partner.secret_rotated",
            Action::PartnerDisabled => "partner.disabled",
            Action::PartnerChanged => "partner.changed",
            Action::MappingAdded => "mapping.added",
            Action::MarketplaceChanged => "marketplace.changed",
            Action::MarketplaceRemoved => "marketplace.removed",
            Action::SigningKeyRotated => "signing_key.rotated",
            Action::ClaimConflict => "claim.conflict",
            Action::DataExported => "account.exported",
            Action::AccountErased => "account.erased",
            Action::AdminCreated => "admin.created",
            Action::AdminSignedIn => "admin.signed_in",
            Action::AdminSignInFailed => "admin.sign_in_failed",
            Action::AdminSecondFactorSetUp => "admin.second_factor_set_up",
            Action::AdminRecoveryCodeUsed => "admin.recovery_code_used",
            Action::AlertAcknowledged => "alert.acknowledged",
            Action::WhitelistAdded => "whitelist.added",
            Action::WhitelistRemoved => "whitelist.removed",
        }
    }

    pub fn parse(text: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// What an action was done to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// "partner", "account", "credential", "package", "marketplace", "mapping", "signing_key",
    /// "alert", "whitelist".
    pub kind: &'static str,
    pub id: String,
}

impl Subject {
    pub fn new(kind: &'static str, id: impl Into<String>) -> Subject {
        Subject {
            kind,
            id: id.into(),
        }
    }
}

/// One entry as stored and exported (one JSON Lines record each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub id: String,
    /// RFC 3339, UTC.
    pub at: String,
    pub actor_kind: String,
    pub actor: String,
    pub action: String,
    pub subject_kind: Option<String>,
    pub subject: Option<String>,
    pub address: Option<String>,
    /// What else the entry records (which settings changed, how many rows moved), as JSON.
    pub detail: Option<serde_json::Value>,
}

/// Which entries to list. Every part narrows; none lists everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub action: Option<Action>,
    pub actor: Option<String>,
    pub subject: Option<String>,
    /// Entries at or after this time (Unix milliseconds).
    pub since: Option<i64>,
    /// Entries before this time.
    pub until: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_reads_back_from_its_name() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(action));
        }
        assert_eq!(Action::parse("account.erase"), None);
    }

    #[test]
    fn a_person_is_recorded_without_an_address() {
        assert_eq!(Actor::person("u1").address, None);
        assert_eq!(Actor::operator().address.as_deref(), Some("command line"));
    }
}
