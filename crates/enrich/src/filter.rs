//! The relevance filter of a live source: which posts of an open stream to keep.
//!
//! With `filter = "none"` every post is kept. With `filter = "workspace"` a post is kept
//! when it names the brand, a product (name, INN, alias, or a misspelling within one edit,
//! as [`crate::entities`] matches them) or a competitor (name or keyword); when it is
//! written by, replies to or mentions a configured account (owned or competitor, on the
//! post's platform; `@` and case ignored); or when it matches one of the source's queries.
//!
//! The cheap checks come first (handles, then queries), and the text is tokenised once.

use std::collections::HashMap;

use waterline_model::{Config, Post};

use crate::entities::EntityMatcher;
use crate::query::{Haystack, Query, QueryError, same_handle};
use crate::text::{Kind, fold, tokenize};

/// Keeps the posts of a stream that concern the workspace.
pub struct RelevanceFilter {
    keep_all: bool,
    matcher: EntityMatcher,
    /// Platform (lower case) → folded handles without `@`, owned and competitor.
    accounts: HashMap<String, Vec<String>>,
    queries: Vec<Query>,
    terms: Vec<String>,
}

impl std::fmt::Debug for RelevanceFilter {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RelevanceFilter")
            .field("keep_all", &self.keep_all)
            .field("terms", &self.terms)
            .field("queries", &self.queries)
            .finish_non_exhaustive()
    }
}

fn handle_key(handle: &str) -> String {
    fold(handle.trim().trim_start_matches('@'))
}

impl RelevanceFilter {
    /// Builds the filter of a source: `filter` is `workspace` or `none`, `queries` its
    /// Boolean queries. A query that does not parse is an error naming it.
    pub fn new(
        config: &Config,
        filter: &str,
        queries: &[String],
    ) -> Result<RelevanceFilter, QueryError> {
        let keep_all = match filter.trim() {
            "workspace" => false,
            "none" => true,
            other => return Err(QueryError::UnknownFilter { filter: other.to_owned() }),
        };
        let queries = queries
            .iter()
            .map(|query| {
                Query::parse(query).map_err(|source| QueryError::InQuery {
                    query: query.clone(),
                    source: Box::new(source),
                })
            })
            .collect::<Result<Vec<Query>, QueryError>>()?;
        let mut accounts: HashMap<String, Vec<String>> = HashMap::new();
        let owned = config.accounts.iter();
        let competitors = config.competitors.iter().flat_map(|competitor| &competitor.accounts);
        for (platform, handles) in owned.chain(competitors) {
            let list = accounts.entry(platform.trim().to_lowercase()).or_default();
            for handle in handles {
                let key = handle_key(handle);
                if !key.is_empty() && !list.contains(&key) {
                    list.push(key);
                }
            }
        }
        Ok(RelevanceFilter {
            keep_all,
            matcher: EntityMatcher::new(config),
            accounts,
            queries,
            terms: workspace_terms(config),
        })
    }

    /// The workspace terms the filter keeps posts for (names, INNs, aliases, keywords,
    /// then `@handles`), each once, for display. Empty when the filter keeps everything.
    pub fn terms(&self) -> Vec<String> {
        if self.keep_all { Vec::new() } else { self.terms.clone() }
    }

    /// True when the post is kept.
    pub fn keeps(&self, post: &Post) -> bool {
        if self.keep_all {
            return true;
        }
        let platform_accounts = self.accounts.get(post.platform.as_str()).or_else(|| {
            // Platforms are configured in lower case; only allocate for others.
            if post.platform.chars().any(char::is_uppercase) {
                self.accounts.get(&post.platform.to_lowercase())
            } else {
                None
            }
        });
        let is_account = |handle: &str| {
            platform_accounts.is_some_and(|list| {
                let key = handle_key(handle);
                list.iter().any(|account| same_handle(account, &key))
            })
        };
        if post
            .author_handle
            .iter()
            .chain(&post.author_id)
            .chain(&post.reply_to_author)
            .chain(&post.mentions)
            .any(|handle| is_account(handle))
        {
            return true;
        }
        let text = crate::analysed(&post.text);
        let mut tokens = tokenize(text, None);
        if tokens.iter().any(|token| token.kind == Kind::Mention && is_account(&token.norm)) {
            return true;
        }
        if !self.queries.is_empty() {
            let haystack = Haystack::from_post(post, &tokens);
            if self.queries.iter().any(|query| query.matches_haystack(&haystack)) {
                return true;
            }
        }
        if self.matcher.is_empty() {
            return false;
        }
        // Handles were checked per platform above: the matcher sees names only.
        tokens.retain(|token| token.kind != Kind::Mention);
        !self.matcher.find(text, &tokens, &[], None).entities.is_empty()
    }
}

fn workspace_terms(config: &Config) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    let mut push = |term: &str| {
        let term = term.trim();
        if !term.is_empty() && !terms.iter().any(|seen| fold(seen) == fold(term)) {
            terms.push(term.to_owned());
        }
    };
    push(&config.brand);
    for product in &config.products {
        push(&product.name);
        product.inns.iter().chain(&product.aliases).for_each(|term| push(term));
    }
    for competitor in &config.competitors {
        push(&competitor.name);
        competitor.keywords.iter().for_each(|term| push(term));
    }
    let owned = config.accounts.values();
    let competitors = config.competitors.iter().flat_map(|competitor| competitor.accounts.values());
    for handle in owned.chain(competitors).flatten() {
        push(&format!("@{}", handle.trim().trim_start_matches('@')));
    }
    terms
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn config() -> Config {
        Config::parse(waterline_model::config::EXAMPLE).unwrap()
    }

    fn workspace(queries: &[&str]) -> RelevanceFilter {
        let queries: Vec<String> = queries.iter().map(|query| (*query).to_owned()).collect();
        RelevanceFilter::new(&config(), "workspace", &queries).unwrap()
    }

    fn post(platform: &str, text: &str) -> Post {
        let mut post = Post::new(platform, "1", Utc::now());
        post.text = text.to_owned();
        post
    }

    #[test]
    fn keeps_names_products_misspellings_and_competitors() {
        let filter = workspace(&[]);
        assert!(filter.keeps(&post("bluesky", "Acme Health never answers")));
        assert!(filter.keeps(&post("bluesky", "mon CARDIOZEN est en rupture")));
        assert!(filter.keeps(&post("bluesky", "le zénopril me fatigue")));
        assert!(filter.keeps(&post("bluesky", "cardio-zen or not")));
        assert!(filter.keeps(&post("bluesky", "cardiozne is what my doctor said")));
        assert!(filter.keeps(&post("bluesky", "switched to Rivalex")));
        assert!(filter.keeps(&post("bluesky", "Medicor stock is up")));
        assert!(filter.keeps(&post("bluesky", "#Cardiozen")));
    }

    #[test]
    fn drops_unrelated_posts() {
        let filter = workspace(&[]);
        assert!(!filter.keeps(&post("bluesky", "what a lovely day at the beach")));
        assert!(!filter.keeps(&post("bluesky", "cardiology appointment tomorrow")));
        assert!(!filter.keeps(&post("bluesky", "acmehealthy people")));
        assert!(!filter.keeps(&post("bluesky", "")));
    }

    #[test]
    fn keeps_posts_by_to_and_about_accounts_per_platform() {
        let filter = workspace(&[]);
        let mut by = post("x", "hello world");
        by.author_handle = Some("@AcmeHealth_FR".into());
        assert!(filter.keeps(&by));
        let mut reply = post("x", "thanks");
        reply.reply_to_author = Some("Medicor_Official".into());
        assert!(filter.keeps(&reply));
        assert!(filter.keeps(&post("x", "hey @rivalis what's up")));
        let mut mentions = post("bluesky", "hey there");
        mentions.mentions = vec!["rivalis.bsky.social".into()];
        assert!(filter.keeps(&mentions));
        let mut mastodon = post("mastodon", "hi");
        mastodon.author_handle = Some("acmehealth".into());
        assert!(filter.keeps(&mastodon));
        // The handles are per platform: `medicor_official` is only configured on x.
        assert!(!filter.keeps(&post("bluesky", "hey @medicor_official")));
        let mut elsewhere = post("bluesky", "hello world");
        elsewhere.author_handle = Some("acmehealth_fr".into());
        assert!(!filter.keeps(&elsewhere));
    }

    #[test]
    fn none_keeps_everything() {
        let filter = RelevanceFilter::new(&config(), "none", &[]).unwrap();
        assert!(filter.keeps(&post("bluesky", "what a lovely day at the beach")));
        assert!(filter.keeps(&post("bluesky", "")));
        assert!(filter.terms().is_empty());
    }

    #[test]
    fn queries_add_matches() {
        let filter = workspace(&["(ozempic OR semaglutide) AND NOT price", "#GLP1"]);
        assert!(filter.keeps(&post("bluesky", "l'Ozempic me donne la nausée")));
        assert!(!filter.keeps(&post("bluesky", "ozempic price is up again")));
        assert!(filter.keeps(&post("bluesky", "the #GLP1 craze")));
        assert!(filter.keeps(&post("bluesky", "ozempic price vs Cardiozen")), "still a product");
        assert!(!workspace(&[]).keeps(&post("bluesky", "l'Ozempic me donne la nausée")));
    }

    #[test]
    fn a_bad_query_is_an_error_naming_it() {
        let queries = vec!["ozempic".to_owned(), "ozempic AND NOT".to_owned()];
        let error = RelevanceFilter::new(&config(), "workspace", &queries).unwrap_err();
        assert_eq!(
            error.to_string(),
            "query `ozempic AND NOT`: expected a term after NOT at character 13"
        );
        let error = RelevanceFilter::new(&config(), "everything", &[]).unwrap_err();
        assert!(error.to_string().contains("everything"));
    }

    #[test]
    fn terms_list_the_workspace() {
        let terms = workspace(&[]).terms();
        assert_eq!(&terms[..4], ["Acme Health", "Cardiozen", "zenopril", "cardiozene"]);
        assert!(terms.contains(&"Rivalis".to_owned()));
        assert!(!terms.contains(&"rivalis".to_owned()), "each term once");
        assert!(terms.contains(&"@acmehealth_fr".to_owned()));
        assert!(terms.contains(&"@medicor_official".to_owned()));
    }

    /// Throughput on one core, by hand:
    /// `cargo test -p waterline-enrich --release filter_throughput -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, run by hand"]
    #[allow(clippy::print_stdout)]
    fn filter_throughput() {
        let filter = workspace(&["(ozempic OR semaglutide) AND NOT price", "\"side effect*\""]);
        let texts = [
            "just got back from the beach, the weather was absolutely wonderful today",
            "Nouvelle vidéo sur ma chaîne ! Abonnez-vous et partagez avec vos amis 🙏",
            "@someone I completely disagree with your take on the election results tbh",
            "lol this is the funniest thing I've seen all week https://example.com/x",
            "Mon médecin m'a prescrit du cardiozne, quelqu'un a des effets secondaires ?",
            "Reading a wonderful book about the history of medicine and pharmacology",
            "#MondayMotivation keep going, everybody deserves a second chance 💪",
            "ozempic shortage again, pharmacies in my town are completely out",
            "",
            "Rivalex or something else? asking for a friend who has hypertension",
        ];
        let posts: Vec<Post> = (0..20_000)
            .map(|index| {
                let mut post = post("bluesky", texts[index % texts.len()]);
                post.author_handle = Some(format!("user{index}.bsky.social"));
                post
            })
            .collect();
        let started = std::time::Instant::now();
        let mut kept = 0;
        for _ in 0..5 {
            kept += posts.iter().filter(|post| filter.keeps(post)).count();
        }
        let seconds = started.elapsed().as_secs_f64();
        let total = posts.len() * 5;
        println!(
            "filter_throughput: {total} posts in {seconds:.3} s = {:.0} posts/s (kept {kept})",
            total as f64 / seconds
        );
    }
}
