//! Access: API tokens with roles, stored as SHA-256 hashes only; an anonymous reader on
//! loopback; the permissions each role has. Decisions in `docs/adr/006-server.md`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use waterline_store::state::{AuditEntry, StateDb, TokenRow};

use crate::error::ApiError;

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

/// The permissions of a role (the anonymous loopback reader has `Read` and `ReadAuthors`).
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
}

impl Principal {
    /// The anonymous reader on a loopback-bound server.
    pub fn local() -> Principal {
        Principal { actor: "local".into(), role: None }
    }

    /// Whether this principal may do it.
    pub fn may(&self, permission: Permission) -> bool {
        match self.role {
            Some(role) => allows(role, permission),
            None => matches!(permission, Permission::Read | Permission::ReadAuthors),
        }
    }

    /// `Ok` or the right error (401 for the anonymous, 403 for a token).
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.may(permission) {
            return Ok(());
        }
        let what = serde_json::to_value(permission)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        match self.role {
            None => Err(ApiError::new(
                "unauthorized",
                format!(
                    "`{what}` needs a token: send `Authorization: Bearer TOKEN` (waterline token create)"
                ),
            )),
            Some(role) => Err(ApiError::new(
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

/// The SHA-256 of a token, in hex.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates a token: stores its hash and returns the token (shown once) and its record.
pub async fn create_token(
    state: &StateDb,
    name: &str,
    role: Role,
    created_by: &str,
) -> Result<(String, TokenRow), ApiError> {
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
    state.add_token(&row, &hash(&token)).await?;
    Ok((token, row))
}

/// Appends to the audit log.
pub async fn audit(
    state: &StateDb,
    principal: &Principal,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    state
        .audit(&AuditEntry {
            at: chrono::Utc::now().timestamp_millis(),
            actor: principal.actor.clone(),
            role: principal.role_name().to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            detail: detail.to_string(),
        })
        .await?;
    Ok(())
}

/// The token a request carries: `Authorization: Bearer …`, or the `waterline_token` cookie
/// the login page sets.
pub fn token_of(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers.get(axum::http::header::AUTHORIZATION)
        && let Ok(text) = value.to_str()
        && let Some(token) = text.strip_prefix("Bearer ")
    {
        return Some(token.trim().to_owned());
    }
    let cookies = headers.get(axum::http::header::COOKIE)?.to_str().ok()?;
    cookies.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == COOKIE && !value.is_empty()).then(|| value.to_owned())
    })
}

/// The login cookie's name.
pub const COOKIE: &str = "waterline_token";

/// Verified tokens, kept a few seconds so 200 clients do not queue on the state database;
/// revocations through the server clear it at once, others within [`CACHE_SECONDS`].
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, (Instant, Option<Principal>)>>,
}

/// How long a verified token is trusted without asking the state database again.
pub const CACHE_SECONDS: u64 = 10;

impl TokenCache {
    /// The principal of a token (`None` for an unknown or revoked one).
    pub async fn verify(
        &self,
        state: &StateDb,
        token: &str,
    ) -> Result<Option<Principal>, ApiError> {
        let key = hash(token);
        if let Ok(entries) = self.entries.lock()
            && let Some((at, principal)) = entries.get(&key)
            && at.elapsed() < Duration::from_secs(CACHE_SECONDS)
        {
            return Ok(principal.clone());
        }
        let principal = state.token_by_hash(&key).await?.map(|row| Principal {
            actor: format!("token:{} ({})", row.id, row.name),
            role: Role::parse(&row.role),
        });
        let principal = principal.filter(|p| p.role.is_some());
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() > 10_000 {
                entries.clear();
            }
            entries.insert(key, (Instant::now(), principal.clone()));
        }
        Ok(principal)
    }

    /// Forgets every verified token.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_limit_what_each_token_does() {
        assert!(allows(Role::Viewer, Permission::Read));
        assert!(!allows(Role::Viewer, Permission::ReadAuthors));
        assert!(!allows(Role::Viewer, Permission::Ingest));
        assert!(allows(Role::Analyst, Permission::Measure));
        assert!(!allows(Role::Analyst, Permission::Pharmacovigilance));
        assert!(allows(Role::PvReviewer, Permission::Pharmacovigilance));
        assert!(!allows(Role::PvReviewer, Permission::Ingest));
        assert!(allows(Role::Admin, Permission::Admin));
        assert!(Principal::local().may(Permission::Read));
        assert!(!Principal::local().may(Permission::Ingest));
        for (name, role) in ROLES {
            assert_eq!(Role::parse(name), Some(*role));
            assert_eq!(role.name(), *name);
        }
    }

    #[test]
    fn tokens_come_from_the_header_or_the_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer wl_abc".parse().unwrap());
        assert_eq!(token_of(&headers).as_deref(), Some("wl_abc"));
        let mut headers = HeaderMap::new();
        headers.insert("cookie", "a=b; waterline_token=wl_xyz".parse().unwrap());
        assert_eq!(token_of(&headers).as_deref(), Some("wl_xyz"));
        assert_eq!(hash("x").len(), 64);
    }
}
