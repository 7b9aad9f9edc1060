//! Access: API tokens with roles, stored as SHA-256 hashes only; an anonymous reader on
//! loopback; the permissions each role has. Decisions in `docs/adr/006-server.md`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
pub use waterline_app::access::{Permission, Principal, ROLES, Role, allows, audit, hash};
use waterline_store::state::StateDb;

use crate::error::ApiError;

/// The token a request carries: `Authorization: Bearer …` (the scheme in any case, as
/// RFC 9110 says), or the `waterline_token` cookie the login page sets.
pub fn token_of(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers.get(axum::http::header::AUTHORIZATION) {
        let text = value.to_str().unwrap_or_default().trim();
        let (scheme, token) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        // Any other scheme (Basic…) or a blank token is a token that cannot be valid: the
        // request is refused, never read as anonymous.
        let token = token.trim();
        return Some(if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() {
            token.to_owned()
        } else {
            String::new()
        });
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
        let principal = state.token_by_hash(&key).await?.map(|row| {
            Principal::new(format!("token:{} ({})", row.id, row.name), Role::parse(&row.role))
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
        // The scheme is case-insensitive; another scheme is a token that matches nothing.
        headers.insert("authorization", "bearer  wl_abc ".parse().unwrap());
        assert_eq!(token_of(&headers).as_deref(), Some("wl_abc"));
        headers.insert("authorization", "BEARER wl_abc".parse().unwrap());
        assert_eq!(token_of(&headers).as_deref(), Some("wl_abc"));
        headers.insert("authorization", "Basic d2w6YWJj".parse().unwrap());
        assert_eq!(token_of(&headers).as_deref(), Some(""));
        let mut headers = HeaderMap::new();
        headers.insert("cookie", "a=b; waterline_token=wl_xyz".parse().unwrap());
        assert_eq!(token_of(&headers).as_deref(), Some("wl_xyz"));
        assert_eq!(hash("x").len(), 64);
    }
}
