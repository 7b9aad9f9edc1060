//! Author details from known accounts: follower counts (and handles) for posts whose
//! format lacks them, from accounts files and platform payloads.

use std::collections::HashMap;

use waterline_model::{Account, Post};

use crate::Enricher;

/// Known accounts, looked up by platform and id or handle.
#[derive(Debug, Clone, Default)]
pub struct AccountBook {
    by_id: HashMap<(String, String), Account>,
    by_handle: HashMap<(String, String), Account>,
}

impl AccountBook {
    /// Adds or replaces an account. An account with an empty platform applies to every platform.
    pub fn add(&mut self, account: &Account) {
        let platform = account.platform.to_lowercase();
        if let Some(id) = &account.id {
            self.by_id.insert((platform.clone(), id.clone()), account.clone());
        }
        if let Some(handle) = &account.handle {
            self.by_handle.insert((platform, handle.to_lowercase()), account.clone());
        }
    }

    /// True when no account is known.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty() && self.by_handle.is_empty()
    }

    /// The account of a post's author, if known.
    pub fn find(&self, post: &Post) -> Option<&Account> {
        let platform = post.platform.to_lowercase();
        for scope in [platform.as_str(), ""] {
            if let Some(id) = &post.author_id
                && let Some(account) = self.by_id.get(&(scope.to_owned(), id.clone()))
            {
                return Some(account);
            }
            if let Some(handle) = &post.author_handle
                && let Some(account) =
                    self.by_handle.get(&(scope.to_owned(), handle.to_lowercase()))
            {
                return Some(account);
            }
        }
        None
    }
}

/// Fills `author_followers`, `author_handle` and `author_name` where the post lacks them.
pub struct AccountsEnricher {
    book: AccountBook,
}

impl AccountsEnricher {
    /// Builds it over a book of accounts.
    pub fn new(book: AccountBook) -> AccountsEnricher {
        AccountsEnricher { book }
    }
}

impl Enricher for AccountsEnricher {
    fn name(&self) -> &'static str {
        "accounts"
    }

    fn version(&self) -> u32 {
        1
    }

    fn enrich(&self, post: &mut Post) {
        self.book.fill(post);
    }
}

impl AccountBook {
    /// Fills the author details a post lacks from its account, when known.
    pub fn fill(&self, post: &mut Post) {
        let Some(account) = self.find(post) else { return };
        if post.author_followers.is_none() {
            post.author_followers = account.followers;
        }
        if post.author_handle.is_none() {
            post.author_handle.clone_from(&account.handle);
        }
        if post.author_name.is_none() {
            post.author_name.clone_from(&account.name);
        }
    }
}
