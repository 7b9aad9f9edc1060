//! Who may do what: roles, permissions, principals, tokens (stored as hashes) and the audit
//! log's writer. The HTTP server and the CLI both check and record through here.

use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use waterline_store::state::{AuditEntry, AuditedWrite, StateDb, TokenRow};

use crate::error::AppError;

/// A role a token carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Reads dashboards and reports, with authors pseudonymised.
    Viewer,
    /// Reads everything but the pharmacovigilance queue; queries, ingests, keeps baselines
    /// and milestones.
    Analyst,
    /// Reads everything and works the adverse-event queue (PHARMA.md AUD-*); no other writes.
    PvReviewer,
    /// Everything, including tokens and the audit log.
    Admin,
}

/// The roles, by name.
pub const ROLES: &[(&str, Role)] = &[
    ("viewer", Role::Viewer),
    ("analyst", Role::Analyst),
    ("pv-reviewer", Role::PvReviewer),
    ("admin", Role::Admin),
];

impl Role {
    /// Parses `viewer`, `analyst`, `pv-reviewer` or `admin`.
    pub fn parse(name: &str) -> Option<Role> {
        ROLES.iter().find(|(n, _)| *n == name).map(|(_, role)| *role)
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        ROLES.iter().find(|(_, r)| *r == self).map_or("viewer", |(n, _)| n)
    }
}

/// What a request may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Dashboards, reports, metric queries, posts (authors masked for viewers).
    Read,
    /// Authors' handles and texts unmasked.
    ReadAuthors,
    /// Ingest posts.
    Ingest,
    /// Create and delete baselines and milestones.
    Measure,
    /// The adverse-event queue and its actions.
    Pharmacovigilance,
    /// Acknowledge and resolve alerts.
    Alerts,
    /// Tokens and the audit log.
    Admin,
}

/// The permissions of a role (the anonymous loopback reader has `Read` only).
pub fn allows(role: Role, permission: Permission) -> bool {
    use Permission as P;
    match role {
        Role::Admin => true,
        Role::Analyst => {
            matches!(permission, P::Read | P::ReadAuthors | P::Ingest | P::Measure | P::Alerts)
        }
        Role::PvReviewer => {
            matches!(permission, P::Read | P::ReadAuthors | P::Pharmacovigilance | P::Alerts)
        }
        Role::Viewer => matches!(permission, P::Read),
    }
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// `token:ID (NAME)`, `local` (anonymous on loopback), or `cli:USER`.
    pub actor: String,
    /// The role; `None` for the anonymous loopback reader.
    pub role: Option<Role>,
    /// From where it acts: `cli`, the client's address, `system` (recorded in the audit
    /// log; empty when unknown).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub origin: String,
}

impl Principal {
    /// The anonymous reader on a loopback-bound server.
    pub fn local() -> Principal {
        Principal { actor: "local".into(), role: None, origin: String::new() }
    }

    /// A principal with a role.
    pub fn new(actor: impl Into<String>, role: Option<Role>) -> Principal {
        Principal { actor: actor.into(), role, origin: String::new() }
    }

    /// The same principal acting from `origin`.
    pub fn from_origin(mut self, origin: impl Into<String>) -> Principal {
        self.origin = origin.into();
        self
    }

    /// The server's own tasks (ingest recovery, live sources, scheduled work).
    pub fn system(task: &str) -> Principal {
        Principal::new(format!("system:{task}"), Some(Role::Admin)).from_origin("system")
    }

    /// Whether this principal may do it.
    pub fn may(&self, permission: Permission) -> bool {
        match self.role {
            Some(role) => allows(role, permission),
            // The anonymous reader on loopback reads as a viewer does (authors masked);
            // `waterline serve --anonymous-authors` unmasks them, in the server.
            None => matches!(permission, Permission::Read),
        }
    }

    /// `Ok` or the right error (401 for the anonymous, 403 for a token).
    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        if self.may(permission) {
            return Ok(());
        }
        let what = serde_json::to_value(permission)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        match self.role {
            None => Err(AppError::new(
                "unauthorized",
                format!(
                    "`{what}` needs a token: send `Authorization: Bearer TOKEN` (waterline token create)"
                ),
            )),
            Some(role) => Err(AppError::new(
                "forbidden",
                format!("the role `{}` does not allow `{what}`", role.name()),
            )),
        }
    }

    /// The role's name for the audit log.
    pub fn role_name(&self) -> &'static str {
        self.role.map_or("anonymous", Role::name)
    }
}

/// The operating-system user running this process (from the system's user database,
/// not from the environment).
pub fn os_user() -> String {
    whoami::username().unwrap_or_else(|_| "unknown".to_owned())
}

/// The actor of a command run at the terminal: `cli:OSUSER`; a name the person declares
/// with `WATERLINE_USER` (a shared account, a reviewer's initials) follows after `as`, and
/// never replaces the operating-system user.
pub fn cli_actor() -> String {
    let user = os_user();
    match std::env::var("WATERLINE_USER").ok().map(|name| name.trim().to_owned()) {
        Some(name) if !name.is_empty() && name != user => {
            let name: String = name.chars().filter(|c| !c.is_control()).take(100).collect();
            format!("cli:{user} as {name}")
        }
        _ => format!("cli:{user}"),
    }
}

/// The SHA-256 of a token, in hex.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new token (shown once) and its record; nothing stored yet.
fn new_token(name: &str, role: Role, created_by: &str) -> (String, TokenRow) {
    let mut secret = [0u8; 24];
    rand::rng().fill_bytes(&mut secret);
    let token = format!("wl_{}", hex::encode(secret));
    let id = format!("tok_{}", &hash(&token)[..10]);
    let row = TokenRow {
        id,
        name: name.to_owned(),
        role: role.name().to_owned(),
        created_at: chrono::Utc::now().timestamp_millis(),
        created_by: created_by.to_owned(),
        revoked_at: None,
    };
    (token, row)
}

/// The audit row of an action by `principal`, stamped now.
pub fn entry(
    principal: &Principal,
    action: &str,
    target: &str,
    detail: &serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        at: chrono::Utc::now().timestamp_millis(),
        actor: principal.actor.clone(),
        role: principal.role_name().to_owned(),
        action: action.to_owned(),
        target: target.to_owned(),
        detail: detail.to_string(),
        origin: principal.origin.clone(),
    }
}

/// Appends to the audit log (for actions whose effect is not a state-database write: a
/// read of PV data, a denied attempt, an import committed to the posts table).
pub async fn audit(
    state: &StateDb,
    principal: &Principal,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    state.audit(&entry(principal, action, target, &detail)).await?;
    Ok(())
}

/// A token just issued: the secret (shown once) and its stored record.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    /// The secret, shown once.
    pub token: String,
    /// What is stored (the hash is not in it).
    pub record: TokenRow,
}

/// Issues a token with a role (`viewer`, `analyst`, `pv-reviewer` or `admin`) as an admin,
/// and logs it in the audit log. The CLI and the API both issue through here.
pub async fn issue_token(
    state: &StateDb,
    principal: &Principal,
    name: &str,
    role: &str,
) -> Result<IssuedToken, AppError> {
    principal.require(Permission::Admin)?;
    crate::limits::check_name(name, "name")?;
    let Some(role) = Role::parse(role) else {
        return Err(AppError::bad_request(format!(
            "`{role}` is not a role: viewer, analyst, pv-reviewer or admin"
        )));
    };
    let (token, record) = new_token(name, role, &principal.actor);
    let detail = serde_json::json!({"name": record.name, "role": record.role});
    // The token and its audit row commit together.
    state
        .write_audited(
            AuditedWrite::AddToken { row: &record, token_hash: &hash(&token) },
            &entry(principal, "token.create", &record.id, &detail),
        )
        .await?;
    Ok(IssuedToken { token, record })
}

/// Revokes a live token as an admin, and logs it in the audit log.
pub async fn revoke(state: &StateDb, principal: &Principal, id: &str) -> Result<(), AppError> {
    principal.require(Permission::Admin)?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    let revoked = state
        .write_audited(
            AuditedWrite::RevokeToken { id, now_ms },
            &entry(principal, "token.revoke", id, &serde_json::json!({})),
        )
        .await?;
    if !revoked {
        return Err(AppError::not_found(format!("no live token `{id}` (token list)")));
    }
    Ok(())
}

/// Every token (live and revoked), for an admin.
pub async fn tokens(state: &StateDb, principal: &Principal) -> Result<Vec<TokenRow>, AppError> {
    principal.require(Permission::Admin)?;
    Ok(state.tokens().await?)
}

/// The latest entries of the audit log, newest first, for an admin.
pub async fn audit_entries(
    state: &StateDb,
    principal: &Principal,
    limit: i64,
) -> Result<Vec<AuditEntry>, AppError> {
    principal.require(Permission::Admin)?;
    Ok(state.audit_log(limit.clamp(1, 10_000)).await?)
}

/// What `waterline audit verify` found: each chain's report, and whether all are intact.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// True when no chain has a problem.
    pub intact: bool,
    /// One report per chain (the audit log, the PV event log).
    pub chains: Vec<waterline_store::chain::ChainReport>,
    /// Where heads were found recorded outside the state database.
    pub anchors: Vec<String>,
}

/// Verifies the audit log's and the PV event log's hash chains against themselves, the
/// heads file beside the state database and the heads the posts table's commits recorded
/// (ADR 018): any deletion, insertion or edit is reported, even after the database's own
/// triggers were dropped.
pub async fn verify(workspace: &crate::workspace::Workspace) -> Result<Verification, AppError> {
    let data_dir = workspace.data_dir();
    let store = waterline_store::Store::open(&data_dir).await?;
    let anchors = store.chain_anchors().await?;
    let chains = store.state().verify_chains(&anchors).await?;
    Ok(Verification {
        intact: chains.iter().all(waterline_store::chain::ChainReport::intact),
        anchors: anchors.iter().map(|(place, _)| place.clone()).collect(),
        chains,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn admin() -> Principal {
        Principal::new("test:admin", Some(Role::Admin))
    }

    #[tokio::test]
    async fn tokens_are_issued_revoked_and_audited_by_an_admin_only() {
        let state = StateDb::in_memory().await.unwrap();
        let issued = issue_token(&state, &admin(), "desk", "analyst").await.unwrap();
        assert!(issued.token.starts_with("wl_"));
        assert_eq!(issued.record.role, "analyst");
        // Only the hash is stored: the token finds its record through it.
        let found = state.token_by_hash(&hash(&issued.token)).await.unwrap().unwrap();
        assert_eq!(found.id, issued.record.id);

        let analyst = Principal::new("token:x", Some(Role::Analyst));
        let denied = issue_token(&state, &analyst, "mine", "admin").await.unwrap_err();
        assert_eq!(denied.kind, ErrorKind::Forbidden);
        let anonymous = Principal::local();
        assert_eq!(tokens(&state, &anonymous).await.unwrap_err().kind, ErrorKind::Unauthorized);
        let bad_role = issue_token(&state, &admin(), "x", "owner").await.unwrap_err();
        assert_eq!(bad_role.kind, ErrorKind::BadRequest);

        revoke(&state, &admin(), &issued.record.id).await.unwrap();
        let again = revoke(&state, &admin(), &issued.record.id).await.unwrap_err();
        assert_eq!(again.kind, ErrorKind::NotFound);

        let entries = audit_entries(&state, &admin(), 10).await.unwrap();
        let actions: Vec<&str> = entries.iter().map(|entry| entry.action.as_str()).collect();
        assert_eq!(actions, ["token.revoke", "token.create"]);
        assert!(entries.iter().all(|entry| entry.actor == "test:admin"));
    }
}
