//! The deterministic synthetic scenario generator behind `waterline generate`.
//!
//! It writes a listening workspace for a fictional pharma brand, "Novaris Health" (a
//! cardiology product, Cardivex/telvisartan, and a diabetes product, Glucentra/
//! noragliflozin), three competitors and an audience of patients, carers and health
//! professionals writing in English and French on X, Mastodon, Bluesky and a little
//! Reddit, over the 180 days ending 2026-10-31T23:59:59Z:
//!
//! - `waterline.toml`: the workspace configuration (brand, accounts, competitors,
//!   products, seed topics, one KPI);
//! - `x.jsonl`, `mastodon.jsonl`, `bluesky.jsonl`, `reddit.jsonl`: the posts as
//!   Waterline's own JSONL (one [`Post`] per line, sorted by `created_at`, `side` left
//!   for the importer to derive);
//! - `truth.json`: what was planted (topic mixes, neglected topics, a negative spike,
//!   frosty and warm own posts, adverse-event mentions, share of voice, counts).
//!
//! The same seed and post count always give byte-identical files. Posts are streamed to
//! buffered writers one day at a time; only what `truth.json` needs is kept.

mod vocab;

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::io::{BufWriter, Write as _};
use std::path::PathBuf;

use anyhow::{Context as _, Result, anyhow, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, Zipf};
use serde::Serialize;
use waterline_model::config::CONFIG_FILE;
use waterline_model::{Counts, Post};

use vocab::{
    ACCESS, ADVERSE, ADVERSE_CYCLE, ANSWERS, ANSWERS_ACCESS, AUDIENCE, AUDIENCE_LINKS, CAREGIVER,
    CLOSERS, COMPARISON, COMPETITOR, CONDITIONS, DOCTORS, EMOJI, EVENTS, FIRST_NAMES, HASHTAGS,
    INSTANCES, LAST_NAMES, MEASURES, MONEY, NAME_EMOJI, OPENERS, OWN, PHARMACIES, QUESTIONS,
    RELATIVES, REPLY_OPENERS, SENTIMENT_NAMES, SHORT_REPLIES, SIDE_EFFECTS, SPIKE, SUBREDDITS_AREA,
    SUBREDDITS_FR, SUBREDDITS_GENERAL, SYMPTOMS, TOPICS, TRIALS,
};

/// What to generate and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    /// How many posts to write, over all platforms.
    pub posts: u64,
    /// The seed: the same seed and post count give byte-identical output.
    pub seed: u64,
    /// The directory to write into (created; it must not hold a `waterline.toml` yet).
    pub out: PathBuf,
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateSummary {
    /// How many posts were written.
    pub posts: u64,
    /// The files written: the configuration, one JSONL file per platform and `truth.json`.
    pub files: Vec<PathBuf>,
}

/// The name of the file listing what was planted.
pub const TRUTH_FILE: &str = "truth.json";

/// Generates the scenario described in the module documentation into `options.out`.
pub fn generate(options: &GenerateOptions) -> Result<GenerateSummary> {
    generate_scenario(options, false)
}

/// Generates the calm control scenario: the same kind of workspace with no planted spike
/// (its posts go to the usual traffic instead); `truth.json` says `"calm": true` and
/// `"spike": null`. Alert checks use it to show that ordinary traffic fires nothing.
pub fn generate_calm(options: &GenerateOptions) -> Result<GenerateSummary> {
    generate_scenario(options, true)
}

fn generate_scenario(options: &GenerateOptions, calm: bool) -> Result<GenerateSummary> {
    let out = &options.out;
    let config_path = out.join(CONFIG_FILE);
    if config_path.exists() {
        bail!(
            "{} already holds a {CONFIG_FILE}; refusing to overwrite a workspace (choose an empty directory)",
            out.display()
        );
    }
    fs_err::create_dir_all(out)?;
    fs_err::write(&config_path, CONFIG)?;
    let mut files = vec![config_path];
    let mut writers = Vec::with_capacity(PLATFORMS.len());
    for platform in PLATFORMS {
        let path = out.join(format!("{platform}.jsonl"));
        writers.push(BufWriter::with_capacity(1 << 20, fs_err::File::create(&path)?));
        files.push(path);
    }
    let mut generator = Generator::new(options.posts, options.seed, writers, calm)?;
    generator.run()?;
    let truth = generator.finish()?;
    let truth_path = out.join(TRUTH_FILE);
    let mut writer = BufWriter::new(fs_err::File::create(&truth_path)?);
    serde_json::to_writer_pretty(&mut writer, &truth).context("writing truth.json")?;
    writer.write_all(b"\n")?;
    writer.flush()?;
    files.push(truth_path);
    Ok(GenerateSummary { posts: options.posts, files })
}

// ---------------------------------------------------------------------------------------
// The scenario's fixed cast.

/// The last instant of the scenario: 2026-10-31T23:59:59Z.
const END_SECS: i64 = 1_793_491_199;
const SPAN_DAYS: i64 = 180;
/// 2026-05-05T00:00:00Z, a Tuesday.
const START_SECS: i64 = END_SECS + 1 - SPAN_DAYS * 86_400;
const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

const PLATFORMS: [&str; 4] = ["x", "mastodon", "bluesky", "reddit"];
const X: usize = 0;
const MASTODON: usize = 1;
const BLUESKY: usize = 2;
const REDDIT: usize = 3;
const LANGS: [&str; 2] = ["en", "fr"];
const EN: usize = 0;
const FR: usize = 1;
const SIDES: [&str; 3] = ["own", "competitor", "audience"];

const BRAND: &str = "Novaris Health";
/// The brand (index 0) and the competitors (1 to 3).
const COMPANIES: [&str; 4] = [BRAND, "Meridian Pharma", "Altavia Labs", "Kestrel Therapeutics"];

const CARDIOLOGY: usize = 0;
const DIABETES: usize = 1;

struct Drug {
    name: &'static str,
    /// INN in English and French.
    inn: [&'static str; 2],
    area: usize,
    /// Index into [`COMPANIES`].
    owner: usize,
    aliases: &'static [&'static str],
}

const DRUGS: [Drug; 5] = [
    Drug {
        name: "Cardivex",
        inn: ["telvisartan", "telvisartan"],
        area: CARDIOLOGY,
        owner: 0,
        aliases: &["cardivexe", "cardi-vex", "cardivec"],
    },
    Drug {
        name: "Glucentra",
        inn: ["noragliflozin", "noragliflozine"],
        area: DIABETES,
        owner: 0,
        aliases: &["glucentre", "gluchentra"],
    },
    Drug {
        name: "Glycora",
        inn: ["tolagliptin", "tolagliptine"],
        area: DIABETES,
        owner: 1,
        aliases: &[],
    },
    Drug {
        name: "Pressanor",
        inn: ["rilmisartan", "rilmisartan"],
        area: CARDIOLOGY,
        owner: 2,
        aliases: &[],
    },
    Drug {
        name: "Velmira",
        inn: ["velgludec", "velgludec"],
        area: DIABETES,
        owner: 3,
        aliases: &[],
    },
];
const CARDIVEX: usize = 0;
/// Each company's flagship product, by company index.
const FLAGSHIP: [usize; 4] = [CARDIVEX, 2, 3, 4];

struct Account {
    platform: usize,
    handle: &'static str,
    name: &'static str,
    id: &'static str,
    followers: u64,
    /// The account's language; `None` when it posts in both.
    lang: Option<usize>,
    /// Likes on a typical post.
    typical_likes: f64,
    /// Index into [`COMPANIES`].
    owner: usize,
}

const OWN_ACCOUNTS: [Account; 4] = [
    Account {
        platform: X,
        handle: "novarishealth",
        name: "Novaris Health",
        id: "1184467290113228801",
        followers: 48_200,
        lang: Some(EN),
        typical_likes: 85.0,
        owner: 0,
    },
    Account {
        platform: X,
        handle: "novarishealth_fr",
        name: "Novaris Health France",
        id: "1290075531264987137",
        followers: 12_900,
        lang: Some(FR),
        typical_likes: 32.0,
        owner: 0,
    },
    Account {
        platform: MASTODON,
        handle: "novaris@mastodon.social",
        name: "Novaris Health",
        id: "109352281776540211",
        followers: 3_100,
        lang: None,
        typical_likes: 14.0,
        owner: 0,
    },
    Account {
        platform: BLUESKY,
        handle: "novarishealth.bsky.social",
        name: "Novaris Health",
        id: "did:plc:novarishealthqz7mk5pw2da",
        followers: 7_400,
        lang: None,
        typical_likes: 45.0,
        owner: 0,
    },
];

const COMPETITOR_ACCOUNTS: [Account; 8] = [
    Account {
        platform: X,
        handle: "meridianpharma",
        name: "Meridian Pharma",
        id: "1021345678901234689",
        followers: 61_000,
        lang: Some(EN),
        typical_likes: 70.0,
        owner: 1,
    },
    Account {
        platform: BLUESKY,
        handle: "meridianpharma.bsky.social",
        name: "Meridian Pharma",
        id: "did:plc:meridianpharma4kq2x7vbnta",
        followers: 5_200,
        lang: None,
        typical_likes: 25.0,
        owner: 1,
    },
    Account {
        platform: X,
        handle: "altavialabs",
        name: "Altavia Labs",
        id: "1101938475610293761",
        followers: 22_000,
        lang: Some(EN),
        typical_likes: 30.0,
        owner: 2,
    },
    Account {
        platform: X,
        handle: "altavia_fr",
        name: "Altavia Labs France",
        id: "1187364509182736385",
        followers: 9_800,
        lang: Some(FR),
        typical_likes: 18.0,
        owner: 2,
    },
    Account {
        platform: MASTODON,
        handle: "altavia@mastodon.social",
        name: "Altavia Labs",
        id: "109411902837465102",
        followers: 1_900,
        lang: None,
        typical_likes: 8.0,
        owner: 2,
    },
    Account {
        platform: X,
        handle: "kestrel_tx",
        name: "Kestrel Therapeutics",
        id: "1310293847561029633",
        followers: 15_400,
        lang: Some(EN),
        typical_likes: 22.0,
        owner: 3,
    },
    Account {
        platform: BLUESKY,
        handle: "kestreltx.bsky.social",
        name: "Kestrel Therapeutics",
        id: "did:plc:kestreltx2m6w4r7yq3hdzsa",
        followers: 3_300,
        lang: None,
        typical_likes: 15.0,
        owner: 3,
    },
    Account {
        platform: MASTODON,
        handle: "kestrel@med-mastodon.com",
        name: "Kestrel Therapeutics",
        id: "109502746193847561",
        followers: 1_200,
        lang: None,
        typical_likes: 6.0,
        owner: 3,
    },
];

/// How often each competitor posts, relative to the others.
const COMPETITOR_WEIGHTS: [f64; 3] = [0.45, 0.33, 0.22];

/// The planned audience topic mix (before persona tilts), in [`TOPICS`] order.
const AUDIENCE_MIX: [f64; 12] =
    [0.15, 0.15, 0.16, 0.13, 0.03, 0.05, 0.09, 0.02, 0.08, 0.07, 0.06, 0.01];
/// Multipliers of [`AUDIENCE_MIX`] per persona: patient, carer, health professional.
const PERSONA_TILT: [[f64; 12]; 3] = [
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.3, 1.0, 1.0, 1.0],
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 4.0, 1.0, 1.0, 1.0],
    [1.0, 0.7, 0.9, 1.5, 2.5, 0.8, 0.6, 3.0, 0.0, 0.8, 0.4, 10.0],
];
/// The planned topic mix of the brand's original posts.
const OWN_MIX: [f64; 12] = [0.02, 0.0, 0.01, 0.02, 0.25, 0.12, 0.08, 0.30, 0.0, 0.0, 0.15, 0.05];
/// Engagement multipliers of the brand's posts per topic.
const OWN_TOPIC_ENGAGEMENT: [f64; 12] =
    [0.8, 1.0, 1.1, 0.9, 1.25, 0.9, 1.0, 0.75, 1.0, 1.0, 1.1, 0.7];
/// Audience sentiment per topic: negative, neutral, positive.
const SENTIMENT: [[f64; 3]; 12] = [
    [0.55, 0.33, 0.12],
    [0.60, 0.30, 0.10],
    [0.60, 0.30, 0.10],
    [0.15, 0.75, 0.10],
    [0.15, 0.50, 0.35],
    [0.25, 0.40, 0.35],
    [0.12, 0.48, 0.40],
    [0.20, 0.55, 0.25],
    [0.50, 0.30, 0.20],
    [0.35, 0.40, 0.25],
    [0.15, 0.60, 0.25],
    [0.15, 0.65, 0.20],
];
const NEGATIVE: usize = 0;
/// Audience platform mix per language.
const PLATFORM_MIX: [[f64; 4]; 2] = [[0.52, 0.14, 0.26, 0.08], [0.50, 0.29, 0.18, 0.03]];
/// The brand's (and competitors') platform mix: x, mastodon, bluesky.
const OWN_PLATFORM_MIX: [f64; 3] = [0.55, 0.20, 0.25];
/// Audience activity per UTC hour (Europe-centred).
const HOURS_AUDIENCE: [f64; 24] = [
    1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.5, 3.5, 4.0, 4.0, 4.0, 4.2, 4.2, 4.0, 4.0, 4.2, 4.5, 5.0,
    5.2, 5.0, 4.2, 3.0, 1.8,
];
/// Office hours (UTC) for brand and competitor accounts.
const HOURS_OFFICE: [f64; 24] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.2, 1.0, 3.0, 4.0, 4.0, 3.5, 3.0, 3.5, 4.0, 3.5, 2.5, 1.5, 0.6,
    0.3, 0.1, 0.0, 0.0, 0.0,
];
/// Day-of-week activity, Monday first.
const WEEKDAYS: [f64; 7] = [1.05, 1.05, 1.0, 1.0, 0.95, 0.75, 0.7];
/// Zipf exponent of audience activity.
const ZIPF_EXPONENT: f64 = 0.75;

// Rates.
const REPLY_TO_OWN: f64 = 0.065;
const REPLY_TO_AUDIENCE: f64 = 0.08;
const REPLY_TO_AUDIENCE_REDDIT: f64 = 0.45;
const QUESTION_RATE: f64 = 0.05;
const SPIKE_QUESTION_RATE: f64 = 0.12;
const ANSWER_RATE: f64 = 0.22;
const QUESTION_EXPIRY_MS: i64 = 72 * HOUR_MS;
const SPIKE_HOURS: i64 = 48;

const CONFIG: &str = r#"# Waterline workspace configuration for the synthetic "Novaris Health" scenario,
# written by `waterline generate` (truth.json lists what was planted in the posts).

brand = "Novaris Health"
time_zone = "Europe/Paris"

[accounts]
x = ["novarishealth", "novarishealth_fr"]
mastodon = ["novaris@mastodon.social"]
bluesky = ["novarishealth.bsky.social"]

[[competitors]]
name = "Meridian Pharma"
keywords = ["Meridian Pharma", "Glycora", "tolagliptin", "tolagliptine"]
accounts = { x = ["meridianpharma"], bluesky = ["meridianpharma.bsky.social"] }

[[competitors]]
name = "Altavia Labs"
keywords = ["Altavia Labs", "Pressanor", "rilmisartan"]
accounts = { x = ["altavialabs", "altavia_fr"], mastodon = ["altavia@mastodon.social"] }

[[competitors]]
name = "Kestrel Therapeutics"
keywords = ["Kestrel Therapeutics", "Velmira", "velgludec"]
accounts = { x = ["kestrel_tx"], bluesky = ["kestreltx.bsky.social"], mastodon = ["kestrel@med-mastodon.com"] }

[[products]]
name = "Cardivex"
inns = ["telvisartan"]
aliases = ["cardivexe", "cardi-vex", "cardivec"]
status = { FR = { class = "pom", reimbursed = true }, GB = { class = "pom", reimbursed = true }, BE = { class = "pom", reimbursed = true } }

[[products]]
name = "Glucentra"
inns = ["noragliflozin"]
aliases = ["noragliflozine", "glucentre", "gluchentra"]
status = { FR = { class = "pom", reimbursed = false }, GB = { class = "pom", reimbursed = true } }

[[topics]]
name = "side effects"
keywords = ["side effect", "side effects", "effet secondaire", "effets secondaires", "effets indésirables"]

[[topics]]
name = "price & reimbursement"
keywords = ["price", "reimbursed", "reimbursement", "insurance", "copay", "remboursé", "remboursement", "mutuelle", "reste à charge"]

[[topics]]
name = "access & shortage"
keywords = ["shortage", "out of stock", "in stock", "supply", "pénurie", "rupture", "introuvable", "approvisionnement"]

[[topics]]
name = "dosing questions"
keywords = ["dose", "dosing", "tablets", "titrate", "posologie", "dose", "comprimés"]

[[topics]]
name = "clinical trials"
keywords = ["trial", "phase 3", "endpoint", "enrolment", "essai", "inclusions"]

[[topics]]
name = "patient support"
keywords = ["support programme", "helpline", "support app", "programme d'accompagnement", "accompagnement"]

[[topics]]
name = "diet & lifestyle"
keywords = ["diet", "salt", "walking", "recipes", "diététique", "sans sel", "marche", "recettes"]

[[topics]]
name = "congress & corporate"
keywords = ["congress", "booth", "ESC Congress", "EASD", "congrès"]

[[topics]]
name = "caregiver burden"
keywords = ["carer", "carers", "looking after", "aidant", "aidants"]

[[topics]]
name = "competitor comparison"
keywords = ["switching from", "compared", "passer de", "préférais"]

[[topics]]
name = "disease awareness"
keywords = ["get checked", "know your numbers", "screened", "dépistage", "dépister"]

[[topics]]
name = "guidelines"
keywords = ["guidelines", "guidance", "recommendations", "recommandations", "recos"]

[[kpis]]
name = "Share of voice"
metric = "share_of_voice_mentions"
target = 0.75
by = "2027-06-30"

[[kpis]]
name = "First answer within 8 hours"
metric = "first_response_hours"
target = 8
by = "2027-03-31"
"#;

// ---------------------------------------------------------------------------------------
// Truth.

#[derive(Serialize)]
struct Truth {
    seed: u64,
    posts: u64,
    brand: &'static str,
    start: String,
    end: String,
    topic_mix: BTreeMap<&'static str, f64>,
    own_topic_mix: BTreeMap<&'static str, f64>,
    neglected_topics: Vec<&'static str>,
    /// True for the calm control scenario (no spike planted); absent otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    calm: bool,
    spike: Option<SpikeTruth>,
    frosty_posts: Vec<MarkedPost>,
    warm_posts: Vec<MarkedPost>,
    adverse_event_posts: Vec<AdversePost>,
    share_of_voice: BTreeMap<&'static str, u64>,
    share_of_voice_audience: BTreeMap<&'static str, u64>,
    languages: BTreeMap<&'static str, u64>,
    sides: BTreeMap<&'static str, u64>,
    platforms: BTreeMap<&'static str, u64>,
    audience_sentiment: BTreeMap<&'static str, u64>,
    audience_authors: u64,
    questions: QuestionsTruth,
    replies: RepliesTruth,
    notes: BTreeMap<&'static str, &'static str>,
}

#[derive(Serialize)]
struct SpikeTruth {
    start: String,
    end: String,
    topic: &'static str,
    platform_or_all: &'static str,
    sentiment: &'static str,
    product: &'static str,
    /// Extra posts planted in the window (on top of the usual traffic).
    posts: u64,
}

#[derive(Serialize)]
struct MarkedPost {
    platform: &'static str,
    id: String,
    account: &'static str,
}

#[derive(Serialize)]
struct AdversePost {
    platform: &'static str,
    id: String,
    category: &'static str,
    lang: &'static str,
}

#[derive(Serialize)]
struct QuestionsTruth {
    asked: u64,
    answered: u64,
    unanswered: u64,
    median_response_minutes: Option<u64>,
}

#[derive(Serialize)]
struct RepliesTruth {
    audience_to_own: u64,
    audience_to_audience: u64,
    own_to_audience: u64,
}

const NOTES: [(&str, &str); 6] = [
    (
        "topic_mix",
        "share of all audience posts per topic (replies, adverse-event posts and the spike included)",
    ),
    (
        "own_topic_mix",
        "share of the brand's original posts per topic (its replies to questions excluded)",
    ),
    (
        "neglected_topics",
        "topics with a planned audience share of at least 10% on which the brand plans at most a fifth of that share",
    ),
    (
        "share_of_voice",
        "posts of any side whose text names the company, one of its products or INNs (or a listed misspelling), or that @mention or reply to one of its accounts",
    ),
    (
        "frosty_posts",
        "brand posts with about 1% of their account's typical engagement; warm_posts have about 8 to 15 times it",
    ),
    (
        "spike",
        "extra negative posts about a Cardivex shortage, on every platform, on top of the usual traffic",
    ),
];

// ---------------------------------------------------------------------------------------
// The generator.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Own,
    Competitor,
    Audience,
    Spike,
}

#[derive(Clone, Copy)]
struct Slot {
    at: i64,
    seq: u64,
    kind: Kind,
}

/// A post that may be replied to (or a question that may be answered).
#[derive(Clone)]
struct Target {
    platform: usize,
    lang: usize,
    at: i64,
    id: String,
    handle: String,
    /// The id of the thread's root.
    conv: String,
    sub: &'static str,
    topic: usize,
    author_key: u64,
    /// Own posts: how strongly the audience is drawn to reply (0 for frosty posts).
    pull: f64,
}

struct Plan {
    calm: bool,
    posts: u64,
    own: u64,
    competitor: u64,
    audience: u64,
    spike: u64,
    spike_start: i64,
    adverse: u64,
    adverse_period: u64,
    marked: u64,
    marked_period: u64,
    authors: u64,
}

impl Plan {
    fn new(posts: u64, rng: &mut ChaCha8Rng, calm: bool) -> Plan {
        let n = posts as f64;
        let spike = if posts == 0 || calm {
            0
        } else {
            ((n * 0.003_627).round() as u64).max((posts / 25).min(6)).min(posts)
        };
        let own = ((n * 0.05).round() as u64).min(posts - spike);
        let competitor = ((n * 0.10).round() as u64).min(posts - spike - own);
        let audience = posts - spike - own - competitor;
        let adverse = if posts >= 200 { ((n * 0.002).round() as u64).max(3) } else { posts / 50 }
            .min(audience);
        let adverse_period = audience.checked_div(adverse).unwrap_or(0);
        let roots = own as f64 * if posts >= 5_000 { 0.75 } else { 0.6 };
        let marked = if posts >= 200 {
            ((roots / 60.0).round() as u64).clamp(1, 300)
        } else {
            u64::from(roots >= 3.0)
        };
        let marked_period = (roots as u64).checked_div(marked).map_or(0, |period| period.max(3));
        let spike_day = rng.random_range(100..150_i64);
        let spike_start = START_SECS * 1000 + spike_day * DAY_MS + 6 * HOUR_MS;
        Plan {
            calm,
            posts,
            own,
            competitor,
            audience,
            spike,
            spike_start,
            adverse,
            adverse_period,
            marked,
            marked_period,
            authors: (posts / 4).clamp(2_000, 400_000),
        }
    }
}

struct Pool {
    zipf: Zipf<f64>,
    size: u64,
}

/// An audience member, derived from `(platform, language, rank)` and the seed.
#[derive(Default)]
struct Author {
    key: u64,
    handle: String,
    name: String,
    id: String,
    followers: Option<u64>,
    persona: usize,
}

#[derive(Default)]
struct Tally {
    sides: [u64; 3],
    langs: [u64; 2],
    platforms: [u64; 4],
    audience_topics: [u64; 12],
    own_topics: [u64; 12],
    sentiment: [u64; 3],
    voice: [u64; 4],
    voice_audience: [u64; 4],
    frosty: Vec<MarkedPost>,
    warm: Vec<MarkedPost>,
    adverse: Vec<AdversePost>,
    asked: u64,
    answered: u64,
    expired: u64,
    delays: Vec<u64>,
    audience_to_own: u64,
    audience_to_audience: u64,
    own_to_audience: u64,
    authors: HashSet<u64>,
}

/// Who writes a post.
struct Who<'a> {
    handle: &'a str,
    name: &'a str,
    id: &'a str,
    followers: Option<u64>,
}

/// How a template is filled.
struct Ctx {
    lang: usize,
    drug: usize,
    other: usize,
    misspell: bool,
}

struct Generator {
    rng: ChaCha8Rng,
    seed: u64,
    salt: u64,
    plan: Plan,
    pools: Vec<Pool>,
    persona_mix: [[f64; 12]; 3],
    writers: Vec<BufWriter<fs_err::File>>,
    post: Post,
    author: Author,
    seq: [u64; 4],
    own_recent: VecDeque<Target>,
    audience_recent: Vec<VecDeque<Target>>,
    pending: VecDeque<Target>,
    audience_slot: u64,
    own_roots: u64,
    tally: Tally,
}

impl Generator {
    fn new(
        posts: u64,
        seed: u64,
        writers: Vec<BufWriter<fs_err::File>>,
        calm: bool,
    ) -> Result<Generator> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let plan = Plan::new(posts, &mut rng, calm);
        // One pool of authors per (platform, language), in `pool_index` order.
        let pools = (0..PLATFORMS.len() * LANGS.len())
            .map(|index| {
                let (platform, lang) = (index / LANGS.len(), index % LANGS.len());
                let share = if lang == EN { 0.6 } else { 0.4 } * PLATFORM_MIX[lang][platform];
                let size = ((plan.authors as f64 * share) as u64).max(20);
                let zipf = Zipf::new(size as f64, ZIPF_EXPONENT)
                    .map_err(|error| anyhow!("audience pool: {error}"))?;
                Ok(Pool { zipf, size })
            })
            .collect::<Result<Vec<Pool>>>()?;
        let mut persona_mix = [[0.0; 12]; 3];
        for (persona, mix) in persona_mix.iter_mut().enumerate() {
            for (topic, weight) in mix.iter_mut().enumerate() {
                *weight = AUDIENCE_MIX[topic] * PERSONA_TILT[persona][topic];
            }
        }
        Ok(Generator {
            rng,
            seed,
            salt: mix64(seed ^ 0x5741_5445_524c_494e),
            plan,
            pools,
            persona_mix,
            writers,
            post: Post::new(PLATFORMS[X], String::new(), DateTime::<Utc>::UNIX_EPOCH),
            author: Author::default(),
            seq: [0; 4],
            own_recent: VecDeque::new(),
            audience_recent: (0..8).map(|_| VecDeque::new()).collect(),
            pending: VecDeque::new(),
            audience_slot: 0,
            own_roots: 0,
            tally: Tally::default(),
        })
    }

    fn run(&mut self) -> Result<()> {
        let plan = &self.plan;
        let regular = plan.own + plan.competitor + plan.audience;
        let (mut own_left, mut competitor_left, mut audience_left) =
            (plan.own, plan.competitor, plan.audience);
        let spike_start = plan.spike_start;
        let spike_count = plan.spike;

        // Volume per day: weekday rhythm, a slow upward trend and some noise.
        let mut weights = Vec::with_capacity(SPAN_DAYS as usize);
        for day in 0..SPAN_DAYS {
            let noise: f64 = self.rng.sample(StandardNormal);
            let weekday = WEEKDAYS[((day + 1) % 7) as usize];
            weights.push(
                weekday * (1.0 + 0.25 * day as f64 / SPAN_DAYS as f64) * (0.12 * noise).exp(),
            );
        }
        let per_day = apportion(regular, &weights);

        let mut spike_times: Vec<i64> = (0..spike_count)
            .map(|_| spike_start + self.rng.random_range(0..SPIKE_HOURS * HOUR_MS))
            .collect();
        spike_times.sort_unstable();
        let mut next_spike = 0;

        let mut slots: Vec<Slot> = Vec::new();
        let mut seq = 0_u64;
        for (day, count) in per_day.iter().enumerate() {
            let day_start = START_SECS * 1000 + day as i64 * DAY_MS;
            let day_end = day_start + DAY_MS;
            slots.clear();
            for _ in 0..*count {
                let left = own_left + competitor_left + audience_left;
                let draw = self.rng.random_range(0..left.max(1));
                let kind = if draw < own_left {
                    own_left -= 1;
                    Kind::Own
                } else if draw < own_left + competitor_left {
                    competitor_left -= 1;
                    Kind::Competitor
                } else {
                    audience_left = audience_left.saturating_sub(1);
                    Kind::Audience
                };
                let hours = if kind == Kind::Audience { &HOURS_AUDIENCE } else { &HOURS_OFFICE };
                let hour = pick_weighted(&mut self.rng, hours) as i64;
                let at = day_start + hour * HOUR_MS + self.rng.random_range(0..HOUR_MS);
                slots.push(Slot { at, seq, kind });
                seq += 1;
            }
            while next_spike < spike_times.len() && spike_times[next_spike] < day_end {
                slots.push(Slot { at: spike_times[next_spike], seq, kind: Kind::Spike });
                seq += 1;
                next_spike += 1;
            }
            slots.sort_unstable_by_key(|slot| (slot.at, slot.seq));
            for slot in &slots {
                match slot.kind {
                    Kind::Own => self.own(slot.at)?,
                    Kind::Competitor => self.competitor(slot.at)?,
                    Kind::Audience => self.audience(slot.at)?,
                    Kind::Spike => self.spike(slot.at)?,
                }
            }
        }
        for writer in &mut self.writers {
            writer.flush()?;
        }
        Ok(())
    }

    // --- own posts -------------------------------------------------------------------

    fn own(&mut self, at: i64) -> Result<()> {
        if !self.pending.is_empty()
            && self.rng.random::<f64>() < ANSWER_RATE
            && let Some(question) = self.take_question(at)
        {
            return self.own_answer(at, question);
        }
        self.own_root(at)
    }

    fn own_root(&mut self, at: i64) -> Result<()> {
        let index = self.own_roots;
        self.own_roots += 1;
        let plan = &self.plan;
        let (frosty, warm) = if plan.marked_period > 0 {
            let phase = index % plan.marked_period;
            (
                phase == plan.marked_period / 3 && (self.tally.frosty.len() as u64) < plan.marked,
                phase == 2 * plan.marked_period / 3 && (self.tally.warm.len() as u64) < plan.marked,
            )
        } else {
            (false, false)
        };
        let platform = [X, MASTODON, BLUESKY][pick_weighted(&mut self.rng, &OWN_PLATFORM_MIX)];
        let lang = self.language();
        let account = own_account(platform, lang);
        let mut topic = pick_weighted(&mut self.rng, &OWN_MIX);
        if OWN[topic][lang].is_empty() {
            topic = 7;
        }
        let drug = usize::from(self.rng.random::<f64>() >= 0.55);
        start_post(
            &mut self.post,
            &mut self.seq,
            platform,
            lang,
            at,
            &account_who(account),
            "",
            None,
        )?;
        let mut mentions = [false; 4];
        let ctx = Ctx { lang, drug, other: partner(drug), misspell: false };
        let template = pick(&mut self.rng, OWN[topic][lang]);
        render(&mut self.rng, &mut self.post.text, template, &ctx, &mut mentions);
        let tags = if self.rng.random::<f64>() < 0.3 { 2 } else { 1 };
        self.hashtags(HASHTAGS[topic][lang], tags);
        if self.rng.random::<f64>() < 0.45 {
            let n = self.rng.random_range(1000..9999);
            let link = format!("https://www.novarishealth.com/{}/news/{n}", LANGS[lang]);
            self.add_link(link);
        }
        if self.rng.random::<f64>() < 0.35 {
            self.post.media_count = 1;
        }
        let factor = if frosty {
            0.012
        } else if warm {
            self.rng.random_range(8.0..15.0)
        } else {
            1.0
        } * OWN_TOPIC_ENGAGEMENT[topic];
        self.post.counts = office_counts(
            &mut self.rng,
            platform,
            account.typical_likes,
            account.followers,
            factor,
        );
        self.write(platform)?;
        self.record(0, lang, platform, &mentions);
        self.tally.own_topics[topic] += 1;
        let marked = || MarkedPost {
            platform: PLATFORMS[platform],
            id: self.post.id.clone(),
            account: account.handle,
        };
        if frosty {
            self.tally.frosty.push(marked());
        } else if warm {
            self.tally.warm.push(marked());
        }
        let pull = if frosty {
            0.0
        } else if warm {
            12.0
        } else {
            1.0
        };
        let target = self.target(platform, lang, at, account.handle, None, "", topic, 0, pull);
        push_capped(&mut self.own_recent, target, 64);
        Ok(())
    }

    fn own_answer(&mut self, at: i64, question: Target) -> Result<()> {
        let account = own_account(question.platform, question.lang);
        let lang = question.lang;
        let platform = question.platform;
        start_post(
            &mut self.post,
            &mut self.seq,
            platform,
            lang,
            at,
            &account_who(account),
            "",
            Some(&question.conv),
        )?;
        self.set_reply(&question);
        if platform != BLUESKY {
            self.post.text.push('@');
            self.post.text.push_str(&question.handle);
            self.post.text.push(' ');
            self.post.mentions.push(question.handle.clone());
        }
        let texts = if question.topic == ACCESS { &ANSWERS_ACCESS } else { &ANSWERS };
        let template = pick(&mut self.rng, texts[lang]);
        let drug = if question.topic == ACCESS { CARDIVEX } else { self.rng.random_range(0..2) };
        let mut mentions = [false; 4];
        let ctx = Ctx { lang, drug, other: partner(drug), misspell: false };
        render(&mut self.rng, &mut self.post.text, template, &ctx, &mut mentions);
        let likes = self.rng.random_range(0..4);
        let views = self.rng.random_range(40..400);
        self.post.counts =
            by_platform(platform, likes, 0, u64::from(self.rng.random::<f64>() < 0.2), 0, views);
        self.write(platform)?;
        self.record(0, lang, platform, &mentions);
        self.tally.answered += 1;
        self.tally.own_to_audience += 1;
        self.tally.delays.push(((at - question.at) / MINUTE_MS) as u64);
        Ok(())
    }

    fn take_question(&mut self, now: i64) -> Option<Target> {
        while let Some(front) = self.pending.front() {
            if now - front.at > QUESTION_EXPIRY_MS {
                self.pending.pop_front();
                self.tally.expired += 1;
            } else {
                break;
            }
        }
        let ready = self.pending.partition_point(|question| now - question.at >= 10 * MINUTE_MS);
        if ready == 0 {
            return None;
        }
        let index = if self.rng.random::<f64>() < 0.65 {
            ready - 1 - self.rng.random_range(0..ready.min(3))
        } else {
            self.rng.random_range(0..ready)
        };
        self.pending.remove(index)
    }

    // --- competitors -----------------------------------------------------------------

    fn competitor(&mut self, at: i64) -> Result<()> {
        let company = 1 + pick_weighted(&mut self.rng, &COMPETITOR_WEIGHTS);
        let accounts: Vec<&Account> =
            COMPETITOR_ACCOUNTS.iter().filter(|account| account.owner == company).collect();
        let account = accounts[self.rng.random_range(0..accounts.len())];
        let lang = match account.lang {
            Some(lang) => lang,
            None => usize::from(self.rng.random::<f64>() >= 0.65),
        };
        let platform = account.platform;
        start_post(
            &mut self.post,
            &mut self.seq,
            platform,
            lang,
            at,
            &account_who(account),
            "",
            None,
        )?;
        let choices = COMPETITOR[lang];
        let (topic, template) = choices[self.rng.random_range(0..choices.len())];
        let drug = FLAGSHIP[company];
        let mut mentions = [false; 4];
        let ctx = Ctx { lang, drug, other: partner(drug), misspell: false };
        render(&mut self.rng, &mut self.post.text, template, &ctx, &mut mentions);
        if self.rng.random::<f64>() < 0.5 {
            self.hashtags(HASHTAGS[topic][lang], 1);
        }
        if self.rng.random::<f64>() < 0.4 {
            let n = self.rng.random_range(100..999);
            let site = account.handle.split(['@', '.', '_']).next().unwrap_or("news");
            self.add_link(format!("https://www.{site}.com/news/{n}"));
        }
        if self.rng.random::<f64>() < 0.3 {
            self.post.media_count = 1;
        }
        self.post.counts =
            office_counts(&mut self.rng, platform, account.typical_likes, account.followers, 1.0);
        self.write(platform)?;
        self.record(1, lang, platform, &mentions);
        Ok(())
    }

    // --- audience --------------------------------------------------------------------

    fn audience(&mut self, at: i64) -> Result<()> {
        let slot = self.audience_slot;
        self.audience_slot += 1;
        let plan = &self.plan;
        if plan.adverse_period > 0
            && slot % plan.adverse_period == plan.adverse_period / 2
            && (self.tally.adverse.len() as u64) < plan.adverse
        {
            return self.adverse(at);
        }
        let lang = self.language();
        let platform = pick_weighted(&mut self.rng, &PLATFORM_MIX[lang]);
        let draw = self.rng.random::<f64>();
        if draw < REPLY_TO_OWN
            && let Some(target) = self.pick_own_target(at)
        {
            return self.reply_to_own(at, target);
        }
        let rate = if platform == REDDIT { REPLY_TO_AUDIENCE_REDDIT } else { REPLY_TO_AUDIENCE };
        if draw >= REPLY_TO_OWN
            && draw < REPLY_TO_OWN + rate
            && let Some(target) = self.pick_audience_target(at, platform, lang)
        {
            return self.reply_to_audience(at, target);
        }
        self.audience_root(at, lang, platform)
    }

    fn audience_root(&mut self, at: i64, lang: usize, platform: usize) -> Result<()> {
        self.draw_author(platform, lang, None);
        let persona = self.author.persona;
        let topic = pick_weighted(&mut self.rng, &self.persona_mix[persona]);
        let sentiment = pick_weighted(&mut self.rng, &SENTIMENT[topic]);
        let question = platform != REDDIT
            && !QUESTIONS[topic][lang].is_empty()
            && self.rng.random::<f64>() < QUESTION_RATE;
        let (drug, other) = if question {
            let drug = self.rng.random_range(0..2);
            (drug, partner(drug))
        } else {
            self.audience_drug(topic)
        };
        let sub = self.subreddit(platform, lang, topic, drug);
        self.start_audience_post(platform, lang, at, sub, None)?;
        let mut mentions = [false; 4];
        let ctx = Ctx { lang, drug, other, misspell: self.rng.random::<f64>() < 0.05 };
        if question {
            self.mention_brand(platform, lang, true, &mut mentions);
            let template = pick(&mut self.rng, QUESTIONS[topic][lang]);
            render(&mut self.rng, &mut self.post.text, template, &ctx, &mut mentions);
        } else {
            self.audience_body(topic, sentiment, &ctx, &mut mentions);
            if platform != REDDIT && self.rng.random::<f64>() < 0.05 {
                self.mention_brand(platform, lang, false, &mut mentions);
            }
        }
        self.audience_extras(topic, sentiment, lang);
        self.post.counts = audience_counts(&mut self.rng, platform, self.author.followers, 0.0);
        self.write(platform)?;
        self.record(2, lang, platform, &mentions);
        self.record_audience(topic, sentiment);
        let handle = self.author.handle.clone();
        let target =
            self.target(platform, lang, at, &handle, None, sub, topic, self.author.key, 1.0);
        if question {
            self.tally.asked += 1;
            self.pending.push_back(target.clone());
        }
        push_capped(&mut self.audience_recent[pool_index(platform, lang)], target, 48);
        Ok(())
    }

    fn reply_to_own(&mut self, at: i64, target: Target) -> Result<()> {
        let (platform, lang) = (target.platform, target.lang);
        self.draw_author(platform, lang, None);
        let topic = pick_weighted(&mut self.rng, &self.persona_mix[self.author.persona]);
        let sentiment = pick_weighted(&mut self.rng, &SENTIMENT[topic]);
        let (drug, other) = self.audience_drug(topic);
        self.start_audience_post(platform, lang, at, "", Some(&target.conv))?;
        self.set_reply(&target);
        // A reply to an owned post addresses the brand on every platform (Bluesky replies
        // just do not repeat the handle in the text).
        let mut mentions = [true, false, false, false];
        if platform != BLUESKY {
            self.post.text.push('@');
            self.post.text.push_str(&target.handle);
            self.post.text.push(' ');
            self.post.mentions.push(target.handle.clone());
        }
        if self.rng.random::<f64>() < 0.4 {
            let opener = pick(&mut self.rng, REPLY_OPENERS[lang]);
            self.post.text.push_str(opener);
        }
        let ctx = Ctx { lang, drug, other, misspell: self.rng.random::<f64>() < 0.05 };
        self.audience_body(topic, sentiment, &ctx, &mut mentions);
        self.audience_extras(topic, sentiment, lang);
        self.post.counts = audience_counts(&mut self.rng, platform, self.author.followers, -0.7);
        self.write(platform)?;
        self.record(2, lang, platform, &mentions);
        self.record_audience(topic, sentiment);
        self.tally.audience_to_own += 1;
        Ok(())
    }

    fn reply_to_audience(&mut self, at: i64, target: Target) -> Result<()> {
        let (platform, lang) = (target.platform, target.lang);
        self.draw_author(platform, lang, Some(target.author_key));
        let topic = target.topic;
        let sentiment = pick_weighted(&mut self.rng, &SENTIMENT[topic]);
        let (drug, other) = self.audience_drug(topic);
        self.start_audience_post(platform, lang, at, target.sub, Some(&target.conv))?;
        self.set_reply(&target);
        let mut mentions = [false; 4];
        if platform == X || platform == MASTODON {
            self.post.text.push('@');
            self.post.text.push_str(&target.handle);
            self.post.text.push(' ');
            self.post.mentions.push(target.handle.clone());
        }
        if self.rng.random::<f64>() < 0.55 {
            let text = pick(&mut self.rng, SHORT_REPLIES[lang]);
            self.post.text.push_str(text);
        } else {
            let ctx = Ctx { lang, drug, other, misspell: self.rng.random::<f64>() < 0.05 };
            self.audience_body(topic, sentiment, &ctx, &mut mentions);
        }
        self.post.counts = audience_counts(&mut self.rng, platform, self.author.followers, -1.0);
        self.write(platform)?;
        self.record(2, lang, platform, &mentions);
        self.record_audience(topic, sentiment);
        self.tally.audience_to_audience += 1;
        Ok(())
    }

    fn adverse(&mut self, at: i64) -> Result<()> {
        let lang = self.language();
        let platform = pick_weighted(&mut self.rng, &PLATFORM_MIX[lang]);
        self.draw_author(platform, lang, None);
        let category = ADVERSE_CYCLE[self.tally.adverse.len() % ADVERSE_CYCLE.len()];
        let (name, texts) = ADVERSE[category];
        let drug = self.rng.random_range(0..2);
        let sub = self.subreddit(platform, lang, SIDE_EFFECTS, drug);
        self.start_audience_post(platform, lang, at, sub, None)?;
        let mut mentions = [false; 4];
        let ctx =
            Ctx { lang, drug, other: partner(drug), misspell: self.rng.random::<f64>() < 0.05 };
        let template = pick(&mut self.rng, texts[lang]);
        render(&mut self.rng, &mut self.post.text, template, &ctx, &mut mentions);
        if platform != REDDIT && self.rng.random::<f64>() < 0.1 {
            self.mention_brand(platform, lang, false, &mut mentions);
        }
        self.post.counts = audience_counts(&mut self.rng, platform, self.author.followers, -0.3);
        self.write(platform)?;
        self.record(2, lang, platform, &mentions);
        self.record_audience(SIDE_EFFECTS, NEGATIVE);
        self.tally.adverse.push(AdversePost {
            platform: PLATFORMS[platform],
            id: self.post.id.clone(),
            category: name,
            lang: LANGS[lang],
        });
        Ok(())
    }

    fn spike(&mut self, at: i64) -> Result<()> {
        let lang = self.language();
        let platform = pick_weighted(&mut self.rng, &PLATFORM_MIX[lang]);
        self.draw_author(platform, lang, None);
        let sub = self.subreddit(platform, lang, ACCESS, CARDIVEX);
        self.start_audience_post(platform, lang, at, sub, None)?;
        let mut mentions = [false; 4];
        let question = platform != REDDIT && self.rng.random::<f64>() < SPIKE_QUESTION_RATE;
        if question {
            self.mention_brand(platform, lang, true, &mut mentions);
        }
        let ctx = Ctx { lang, drug: CARDIVEX, other: partner(CARDIVEX), misspell: false };
        let template = pick(&mut self.rng, SPIKE[lang]);
        render(&mut self.rng, &mut self.post.text, template, &ctx, &mut mentions);
        if !question && platform != REDDIT && self.rng.random::<f64>() < 0.2 {
            self.mention_brand(platform, lang, false, &mut mentions);
        }
        if platform != REDDIT && self.rng.random::<f64>() < 0.4 {
            self.hashtags(HASHTAGS[ACCESS][lang], 1);
        }
        if self.rng.random::<f64>() < 0.2 {
            let emoji = pick(&mut self.rng, EMOJI[NEGATIVE]);
            self.post.text.push(' ');
            self.post.text.push_str(emoji);
        }
        self.post.counts = audience_counts(&mut self.rng, platform, self.author.followers, 0.3);
        self.write(platform)?;
        self.record(2, lang, platform, &mentions);
        self.record_audience(ACCESS, NEGATIVE);
        let handle = self.author.handle.clone();
        let target =
            self.target(platform, lang, at, &handle, None, sub, ACCESS, self.author.key, 1.0);
        if question {
            self.tally.asked += 1;
            self.pending.push_back(target.clone());
        }
        push_capped(&mut self.audience_recent[pool_index(platform, lang)], target, 48);
        Ok(())
    }

    // --- pieces ----------------------------------------------------------------------

    fn language(&mut self) -> usize {
        usize::from(self.rng.random::<f64>() >= 0.6)
    }

    /// Picks an audience member by Zipf rank (avoiding `not`, a reply's parent).
    fn draw_author(&mut self, platform: usize, lang: usize, not: Option<u64>) {
        let pool = &self.pools[pool_index(platform, lang)];
        let mut rank = (pool.zipf.sample(&mut self.rng) as u64).clamp(1, pool.size);
        if not == Some(author_key(platform, lang, rank)) {
            rank = if rank < pool.size { rank + 1 } else { 1 };
        }
        fill_author(&mut self.author, self.salt, platform, lang, rank);
    }

    fn start_audience_post(
        &mut self,
        platform: usize,
        lang: usize,
        at: i64,
        sub: &str,
        root: Option<&str>,
    ) -> Result<()> {
        let who = Who {
            handle: &self.author.handle,
            name: &self.author.name,
            id: &self.author.id,
            followers: self.author.followers,
        };
        start_post(&mut self.post, &mut self.seq, platform, lang, at, &who, sub, root)
    }

    fn audience_drug(&mut self, topic: usize) -> (usize, usize) {
        if topic == COMPARISON {
            let drug = self.rng.random_range(0..2);
            let other = if DRUGS[drug].area == CARDIOLOGY {
                3
            } else if self.rng.random::<f64>() < 0.5 {
                2
            } else {
                4
            };
            return (drug, other);
        }
        let draw = self.rng.random::<f64>();
        let drug = match draw {
            d if d < 0.35 => 0,
            d if d < 0.70 => 1,
            d if d < 0.82 => 2,
            d if d < 0.92 => 3,
            _ => 4,
        };
        (drug, partner(drug))
    }

    fn subreddit(
        &mut self,
        platform: usize,
        lang: usize,
        topic: usize,
        drug: usize,
    ) -> &'static str {
        if platform != REDDIT {
            return "";
        }
        if lang == FR {
            return pick(&mut self.rng, SUBREDDITS_FR);
        }
        if topic == CAREGIVER {
            return "caregivers";
        }
        if self.rng.random::<f64>() < 0.6 {
            pick(&mut self.rng, SUBREDDITS_AREA[DRUGS[drug].area])
        } else {
            pick(&mut self.rng, SUBREDDITS_GENERAL)
        }
    }

    fn audience_body(
        &mut self,
        topic: usize,
        sentiment: usize,
        ctx: &Ctx,
        mentions: &mut [bool; 4],
    ) {
        let lang = ctx.lang;
        if self.rng.random::<f64>() < 0.06 {
            let opener = pick(&mut self.rng, OPENERS[lang]);
            self.post.text.push_str(opener);
        }
        let texts = &AUDIENCE[topic];
        let by_sentiment = [&texts.neg, &texts.neu, &texts.pos][sentiment];
        let mut choices = by_sentiment[lang];
        if choices.is_empty() {
            choices = texts.neu[lang];
        }
        let template = pick(&mut self.rng, choices);
        render(&mut self.rng, &mut self.post.text, template, ctx, mentions);
        if self.rng.random::<f64>() < 0.08 {
            let closer = pick(&mut self.rng, CLOSERS[lang]);
            self.post.text.push_str(closer);
        }
    }

    fn audience_extras(&mut self, topic: usize, sentiment: usize, lang: usize) {
        if self.rng.random::<f64>() < 0.12 {
            let emoji = pick(&mut self.rng, EMOJI[sentiment]);
            self.post.text.push(' ');
            self.post.text.push_str(emoji);
        }
        if self.post.platform != PLATFORMS[REDDIT] && self.rng.random::<f64>() < 0.22 {
            let count = if self.rng.random::<f64>() < 0.2 { 2 } else { 1 };
            self.hashtags(HASHTAGS[topic][lang], count);
        }
        if self.rng.random::<f64>() < 0.05 {
            let base = pick(&mut self.rng, AUDIENCE_LINKS[lang]);
            let n = self.rng.random_range(10_000..99_999);
            self.add_link(format!("{base}{n}"));
        }
        if self.rng.random::<f64>() < 0.05 {
            self.post.media_count = 1;
        }
    }

    /// Writes `@handle` of the brand's account on `platform` (at the start of a question,
    /// at the end otherwise).
    fn mention_brand(
        &mut self,
        platform: usize,
        lang: usize,
        leading: bool,
        mentions: &mut [bool; 4],
    ) {
        let handle = own_account(platform, lang).handle;
        if leading {
            self.post.text.push('@');
            self.post.text.push_str(handle);
            self.post.text.push(' ');
        } else {
            self.post.text.push_str(if self.rng.random::<f64>() < 0.5 { " cc @" } else { " @" });
            self.post.text.push_str(handle);
        }
        self.post.mentions.push(handle.to_owned());
        mentions[0] = true;
    }

    fn hashtags(&mut self, tags: &'static [&'static str], count: usize) {
        if tags.is_empty() {
            return;
        }
        let first = self.rng.random_range(0..tags.len());
        for offset in 0..count.min(tags.len()) {
            let tag = tags[(first + offset) % tags.len()];
            self.post.text.push_str(" #");
            self.post.text.push_str(tag);
            self.post.hashtags.push(tag.to_owned());
        }
    }

    fn add_link(&mut self, link: String) {
        self.post.text.push(' ');
        self.post.text.push_str(&link);
        self.post.links.push(link);
    }

    fn set_reply(&mut self, target: &Target) {
        set_opt(&mut self.post.reply_to, &target.id);
        set_opt(&mut self.post.reply_to_author, &target.handle);
        set_opt(&mut self.post.conversation_id, &target.conv);
    }

    #[allow(clippy::too_many_arguments)]
    fn target(
        &self,
        platform: usize,
        lang: usize,
        at: i64,
        handle: &str,
        conv: Option<&str>,
        sub: &'static str,
        topic: usize,
        author_key: u64,
        pull: f64,
    ) -> Target {
        Target {
            platform,
            lang,
            at,
            id: self.post.id.clone(),
            handle: handle.to_owned(),
            conv: conv.unwrap_or(&self.post.id).to_owned(),
            sub,
            topic,
            author_key,
            pull,
        }
    }

    fn pick_own_target(&mut self, now: i64) -> Option<Target> {
        let weight = |target: &Target| {
            let age = now - target.at;
            if !(MINUTE_MS..=48 * HOUR_MS).contains(&age) {
                return 0.0;
            }
            target.pull * (-(age as f64) / (8.0 * HOUR_MS as f64)).exp()
        };
        let total: f64 = self.own_recent.iter().map(weight).sum();
        if total <= 0.0 {
            return None;
        }
        let mut draw = self.rng.random::<f64>() * total;
        for target in &self.own_recent {
            let w = weight(target);
            if draw < w {
                return Some(target.clone());
            }
            draw -= w;
        }
        self.own_recent.iter().rev().find(|target| weight(target) > 0.0).cloned()
    }

    fn pick_audience_target(&mut self, now: i64, platform: usize, lang: usize) -> Option<Target> {
        let horizon = if platform == REDDIT { 72 * HOUR_MS } else { 24 * HOUR_MS };
        let ring = &self.audience_recent[pool_index(platform, lang)];
        let eligible = |target: &&Target| (30_000..=horizon).contains(&(now - target.at));
        let count = ring.iter().filter(eligible).count();
        if count == 0 {
            return None;
        }
        let chosen = self.rng.random_range(0..count);
        ring.iter().filter(eligible).nth(chosen).cloned()
    }

    fn write(&mut self, platform: usize) -> Result<()> {
        let writer = &mut self.writers[platform];
        serde_json::to_writer(&mut *writer, &self.post).context("writing a post")?;
        writer.write_all(b"\n")?;
        Ok(())
    }

    fn record(&mut self, side: usize, lang: usize, platform: usize, mentions: &[bool; 4]) {
        let tally = &mut self.tally;
        tally.sides[side] += 1;
        tally.langs[lang] += 1;
        tally.platforms[platform] += 1;
        for (company, mentioned) in mentions.iter().enumerate() {
            if *mentioned {
                tally.voice[company] += 1;
                if side == 2 {
                    tally.voice_audience[company] += 1;
                }
            }
        }
        if side == 2 {
            tally.authors.insert(self.author.key);
        }
    }

    fn record_audience(&mut self, topic: usize, sentiment: usize) {
        self.tally.audience_topics[topic] += 1;
        self.tally.sentiment[sentiment] += 1;
    }

    fn finish(mut self) -> Result<Truth> {
        let tally = &mut self.tally;
        let unanswered = tally.expired + self.pending.len() as u64;
        tally.delays.sort_unstable();
        let median = tally.delays.get(tally.delays.len() / 2).copied();
        let audience_total: u64 = tally.audience_topics.iter().sum();
        let own_total: u64 = tally.own_topics.iter().sum();
        let mix = |counts: &[u64; 12], total: u64| -> BTreeMap<&'static str, f64> {
            TOPICS.iter().zip(counts).map(|(topic, count)| (*topic, share(*count, total))).collect()
        };
        let neglected = TOPICS
            .iter()
            .enumerate()
            .filter(|(topic, _)| {
                AUDIENCE_MIX[*topic] >= 0.10 && OWN_MIX[*topic] <= 0.2 * AUDIENCE_MIX[*topic]
            })
            .map(|(_, name)| *name)
            .collect();
        let by_name = |names: &[&'static str], counts: &[u64]| -> BTreeMap<&'static str, u64> {
            names.iter().copied().zip(counts.iter().copied()).collect()
        };
        let timestamp = |millis: i64| -> Result<String> {
            DateTime::from_timestamp_millis(millis)
                .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true))
                .ok_or_else(|| anyhow!("timestamp out of range"))
        };
        let plan = &self.plan;
        let spike = if plan.calm {
            None
        } else {
            Some(SpikeTruth {
                start: timestamp(plan.spike_start)?,
                end: timestamp(plan.spike_start + SPIKE_HOURS * HOUR_MS)?,
                topic: TOPICS[ACCESS],
                platform_or_all: "all",
                sentiment: "negative",
                product: DRUGS[CARDIVEX].name,
                posts: plan.spike,
            })
        };
        Ok(Truth {
            seed: self.seed,
            posts: plan.posts,
            brand: BRAND,
            start: timestamp(START_SECS * 1000)?,
            end: timestamp(END_SECS * 1000)?,
            topic_mix: mix(&tally.audience_topics, audience_total),
            own_topic_mix: mix(&tally.own_topics, own_total),
            neglected_topics: neglected,
            calm: plan.calm,
            spike,
            frosty_posts: std::mem::take(&mut tally.frosty),
            warm_posts: std::mem::take(&mut tally.warm),
            adverse_event_posts: std::mem::take(&mut tally.adverse),
            share_of_voice: by_name(&COMPANIES, &tally.voice),
            share_of_voice_audience: by_name(&COMPANIES, &tally.voice_audience),
            languages: by_name(&LANGS, &tally.langs),
            sides: by_name(&SIDES, &tally.sides),
            platforms: by_name(&PLATFORMS, &tally.platforms),
            audience_sentiment: by_name(&SENTIMENT_NAMES, &tally.sentiment),
            audience_authors: tally.authors.len() as u64,
            questions: QuestionsTruth {
                asked: tally.asked,
                answered: tally.answered,
                unanswered,
                median_response_minutes: median,
            },
            replies: RepliesTruth {
                audience_to_own: tally.audience_to_own,
                audience_to_audience: tally.audience_to_audience,
                own_to_audience: tally.own_to_audience,
            },
            notes: NOTES.into_iter().collect(),
        })
    }
}

// ---------------------------------------------------------------------------------------
// Free helpers.

fn pool_index(platform: usize, lang: usize) -> usize {
    platform * 2 + lang
}

fn author_key(platform: usize, lang: usize, rank: u64) -> u64 {
    ((platform as u64) << 40) | ((lang as u64) << 39) | rank
}

/// The product a competing product is compared with (and vice versa).
fn partner(drug: usize) -> usize {
    match drug {
        0 => 3,
        1 => 2,
        2 | 4 => 1,
        _ => 0,
    }
}

fn own_account(platform: usize, lang: usize) -> &'static Account {
    match platform {
        X if lang == FR => &OWN_ACCOUNTS[1],
        MASTODON => &OWN_ACCOUNTS[2],
        BLUESKY => &OWN_ACCOUNTS[3],
        _ => &OWN_ACCOUNTS[0],
    }
}

fn account_who(account: &Account) -> Who<'static> {
    // `Account`s live in constants, so their strings are `'static`.
    Who {
        handle: account.handle,
        name: account.name,
        id: account.id,
        followers: Some(account.followers),
    }
}

/// Derives an audience member from its pool rank. Handles are unique per platform: the
/// numeric suffix is a bijection of the rank, and French handles carry a separator that
/// English ones never do.
fn fill_author(author: &mut Author, salt: u64, platform: usize, lang: usize, rank: u64) {
    let key = author_key(platform, lang, rank);
    let h1 = mix64(key ^ salt);
    let h2 = mix64(h1 ^ 0x243f_6a88_85a3_08d3);
    let h3 = mix64(h2 ^ 0x1319_8a2e_0370_7344);
    author.key = key;
    let persona_draw = unit(h2);
    author.persona = if persona_draw < 0.70 {
        0
    } else if persona_draw < 0.88 {
        1
    } else {
        2
    };
    let firsts = FIRST_NAMES[lang];
    let lasts = LAST_NAMES[lang];
    let first = firsts[(h2 % firsts.len() as u64) as usize];
    let last = lasts[((h2 >> 20) % lasts.len() as u64) as usize];
    let pool_offset = mix64(salt ^ (pool_index(platform, lang) as u64 + 1)) % 1_000_000;
    let suffix = (rank * 7919 + pool_offset) % 1_000_000;
    let separator = match (lang, platform) {
        (EN, _) => "",
        (_, BLUESKY) => "-",
        _ => "_",
    };
    let handle = &mut author.handle;
    handle.clear();
    if author.persona == 2 {
        handle.push_str("dr");
    }
    let _ = write!(handle, "{}{separator}{}{suffix}", first.1, last.1);
    match platform {
        MASTODON => {
            handle.push('@');
            handle.push_str(INSTANCES[lang][((h3 >> 8) % INSTANCES[lang].len() as u64) as usize]);
        }
        BLUESKY => handle.push_str(".bsky.social"),
        _ => {}
    }
    let name = &mut author.name;
    name.clear();
    if author.persona == 2 {
        let _ = write!(name, "Dr {} {}", first.0, last.0);
    } else {
        match h3 % 10 {
            0..=5 => {
                let _ = write!(name, "{} {}", first.0, last.0);
            }
            6 | 7 => {
                let initial = last.0.chars().next().unwrap_or('X');
                let _ = write!(name, "{} {initial}.", first.0);
            }
            8 => name.push_str(first.0),
            _ => {
                let emoji = NAME_EMOJI[((h3 >> 16) % NAME_EMOJI.len() as u64) as usize];
                let _ = write!(name, "{} {emoji}", first.0);
            }
        }
    }
    let id = &mut author.id;
    id.clear();
    match platform {
        X => {
            let _ = write!(id, "{h1}");
        }
        MASTODON => {
            let _ = write!(id, "{}", h1 >> 8);
        }
        BLUESKY => {
            id.push_str("did:plc:");
            push_base32(id, h1, 13);
            push_base32(id, h2, 11);
        }
        _ => {
            id.push_str("t2_");
            push_base36(id, h1 >> 24);
        }
    }
    author.followers = if platform == REDDIT {
        None
    } else {
        let (mu, sigma) = match author.persona {
            0 => (160_f64.ln(), 1.25),
            1 => (140_f64.ln(), 1.2),
            _ => (700_f64.ln(), 1.35),
        };
        let z = (-2.0 * unit(h3).ln()).sqrt() * (std::f64::consts::TAU * unit(mix64(h3))).cos();
        Some(((mu + sigma * z).exp() as u64).min(2_500_000))
    };
}

/// Resets the scratch post for a new post: identity, author, time, language and URL.
#[allow(clippy::too_many_arguments)]
fn start_post(
    post: &mut Post,
    seq: &mut [u64; 4],
    platform: usize,
    lang: usize,
    at: i64,
    who: &Who<'_>,
    sub: &str,
    root: Option<&str>,
) -> Result<()> {
    let n = seq[platform];
    seq[platform] += 1;
    post.platform.clear();
    post.platform.push_str(PLATFORMS[platform]);
    post.created_at =
        DateTime::from_timestamp_millis(at).ok_or_else(|| anyhow!("timestamp out of range"))?;
    post.id.clear();
    let millis = at as u64;
    match platform {
        X => {
            let since_epoch = millis.saturating_sub(1_288_834_974_657);
            let _ = write!(post.id, "{}", (since_epoch << 22) | (n & 0x3f_ffff));
        }
        MASTODON => {
            let _ = write!(post.id, "{}", (millis << 16) | (n & 0xffff));
        }
        BLUESKY => {
            post.id.push_str("at://");
            post.id.push_str(who.id);
            post.id.push_str("/app.bsky.feed.post/");
            push_base32(&mut post.id, ((millis * 1000 + n % 1000) << 10) | (n & 0x3ff), 13);
        }
        _ => push_base36(&mut post.id, 1_500_000_000 + n),
    }
    set_opt(&mut post.author_id, who.id);
    set_opt(&mut post.author_handle, who.handle);
    set_opt(&mut post.author_name, who.name);
    post.author_followers = who.followers;
    set_opt(&mut post.lang, LANGS[lang]);
    let url = post.url.get_or_insert_with(String::new);
    url.clear();
    match platform {
        X => {
            let _ = write!(url, "https://x.com/{}/status/{}", who.handle, post.id);
        }
        MASTODON => {
            let (local, instance) =
                who.handle.split_once('@').unwrap_or((who.handle, "mastodon.social"));
            let _ = write!(url, "https://{instance}/@{local}/{}", post.id);
        }
        BLUESKY => {
            let tid = post.id.rsplit('/').next().unwrap_or_default();
            let _ = write!(url, "https://bsky.app/profile/{}/post/{tid}", who.handle);
        }
        _ => match root {
            Some(root) => {
                let _ = write!(
                    url,
                    "https://www.reddit.com/r/{sub}/comments/{root}/comment/{}/",
                    post.id
                );
            }
            None => {
                let _ = write!(url, "https://www.reddit.com/r/{sub}/comments/{}/", post.id);
            }
        },
    }
    post.text.clear();
    post.reply_to = None;
    post.reply_to_author = None;
    post.quote_of = None;
    post.repost_of = None;
    post.conversation_id = None;
    post.hashtags.clear();
    post.mentions.clear();
    post.links.clear();
    post.media_count = 0;
    post.counts = Counts::default();
    post.observed_at = None;
    post.side = None;
    Ok(())
}

/// Fills a template (see [`vocab`]) into `out`, noting which companies it names, and
/// capitalises its first letter.
fn render(
    rng: &mut ChaCha8Rng,
    out: &mut String,
    template: &str,
    ctx: &Ctx,
    mentions: &mut [bool; 4],
) {
    let start = out.len();
    let lang = ctx.lang;
    let drug = &DRUGS[ctx.drug];
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        let bytes = tail.as_bytes();
        if bytes.len() < 3 || bytes[2] != b'}' {
            out.push('{');
            rest = &tail[1..];
            continue;
        }
        rest = &tail[3..];
        match bytes[1] {
            b'P' => {
                if ctx.misspell && !drug.aliases.is_empty() {
                    out.push_str(pick(rng, drug.aliases));
                } else {
                    out.push_str(drug.name);
                }
                mentions[drug.owner] = true;
            }
            b'I' => {
                out.push_str(drug.inn[lang]);
                mentions[drug.owner] = true;
            }
            b'C' => {
                let other = &DRUGS[ctx.other];
                out.push_str(other.name);
                mentions[other.owner] = true;
            }
            b'K' => {
                out.push_str(COMPANIES[drug.owner]);
                mentions[drug.owner] = true;
            }
            b'B' => {
                out.push_str(BRAND);
                mentions[0] = true;
            }
            b'D' => out.push_str(pick(rng, CONDITIONS[drug.area][lang])),
            b'V' => out.push_str(MEASURES[drug.area][lang]),
            b'S' => out.push_str(pick(rng, SYMPTOMS[lang])),
            b'R' => out.push_str(pick(rng, RELATIVES[lang])),
            b'H' => out.push_str(pick(rng, DOCTORS[lang])),
            b'Y' => out.push_str(pick(rng, PHARMACIES[lang])),
            b'E' => out.push_str(pick(rng, EVENTS[lang])),
            b'T' => out.push_str(pick(rng, TRIALS[drug.area])),
            b'M' => out.push_str(pick(rng, MONEY[lang])),
            b'N' => {
                let _ = write!(out, "{}", rng.random_range(2..10));
            }
            _ => out.push_str(&tail[..3]),
        }
    }
    out.push_str(rest);
    if let Some(first) = out[start..].chars().next()
        && first.is_lowercase()
    {
        let upper: String = first.to_uppercase().collect();
        out.replace_range(start..start + first.len_utf8(), &upper);
    }
}

/// Engagement of a brand or competitor post: the account's typical level times `factor`.
fn office_counts(
    rng: &mut ChaCha8Rng,
    platform: usize,
    typical: f64,
    followers: u64,
    factor: f64,
) -> Counts {
    let z: f64 = rng.sample(StandardNormal);
    let level = typical * factor * (0.5 * z - 0.125).exp();
    let likes = level.round() as u64;
    let shares = (level * rng.random_range(0.12..0.30)).round() as u64;
    let replies = (level * rng.random_range(0.03..0.12)).round() as u64;
    let quotes = (level * rng.random_range(0.005..0.04)).round() as u64;
    let views = (level * rng.random_range(70.0..130.0)
        + followers as f64 * rng.random_range(0.002..0.006))
    .round() as u64;
    by_platform(platform, likes, shares, replies, quotes, views)
}

/// Heavy-tailed audience engagement: lognormal around a level set by the follower count,
/// with the occasional viral post (Pareto). `shift` moves the level (replies get less).
fn audience_counts(
    rng: &mut ChaCha8Rng,
    platform: usize,
    followers: Option<u64>,
    shift: f64,
) -> Counts {
    let base_followers = followers.unwrap_or(200) as f64;
    let z: f64 = rng.sample(StandardNormal);
    let mut level = (0.42 * (1.0 + base_followers).ln() - 1.0 + shift + 1.1 * z).exp() - 0.8;
    if rng.random::<f64>() < 0.002 {
        let u: f64 = rng.random_range(f64::EPSILON..1.0);
        level = level.max(1.0) * 20.0 * u.powf(-1.0 / 1.3);
    }
    let level = level.max(0.0);
    let likes = level.floor() as u64;
    let shares = (level * rng.random_range(0.03..0.3)).floor() as u64;
    let replies = (level * rng.random_range(0.05..0.35)).floor() as u64
        + u64::from(rng.random::<f64>() < 0.25);
    let quotes = (shares as f64 * rng.random_range(0.0..0.25)).floor() as u64;
    let views = (level * rng.random_range(25.0..90.0)
        + base_followers * rng.random_range(0.05..0.4))
    .round() as u64
        + rng.random_range(3..40);
    let likes = if platform == REDDIT { likes + 1 } else { likes };
    by_platform(platform, likes, shares, replies, quotes, views)
}

/// Keeps only the counts each platform reports: views on X only, no quotes on Mastodon,
/// score and comments on Reddit.
fn by_platform(
    platform: usize,
    likes: u64,
    shares: u64,
    replies: u64,
    quotes: u64,
    views: u64,
) -> Counts {
    match platform {
        X => Counts {
            likes: Some(likes),
            shares: Some(shares),
            replies: Some(replies),
            quotes: Some(quotes),
            views: Some(views),
        },
        MASTODON => Counts {
            likes: Some(likes),
            shares: Some(shares),
            replies: Some(replies),
            quotes: None,
            views: None,
        },
        BLUESKY => Counts {
            likes: Some(likes),
            shares: Some(shares),
            replies: Some(replies),
            quotes: Some(quotes),
            views: None,
        },
        _ => Counts {
            likes: Some(likes),
            shares: None,
            replies: Some(replies),
            quotes: None,
            views: None,
        },
    }
}

/// Splits `total` over `weights` (largest remainder; ties go to the earlier index).
fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    if weights.is_empty() || sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights.iter().map(|weight| total as f64 * weight / sum).collect();
    let mut counts: Vec<u64> = exact.iter().map(|value| value.floor() as u64).collect();
    let assigned: u64 = counts.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|a, b| {
        let fa = exact[*a] - exact[*a].floor();
        let fb = exact[*b] - exact[*b].floor();
        fb.total_cmp(&fa).then(a.cmp(b))
    });
    let mut missing = total.saturating_sub(assigned);
    let mut index = 0;
    while missing > 0 {
        counts[order[index % order.len()]] += 1;
        missing -= 1;
        index += 1;
    }
    counts
}

fn pick_weighted(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut draw = rng.random::<f64>() * total;
    for (index, weight) in weights.iter().enumerate() {
        if draw < *weight {
            return index;
        }
        draw -= weight;
    }
    // Rounding: the last index with weight.
    weights.iter().rposition(|weight| *weight > 0.0).unwrap_or(0)
}

fn pick<T: Copy + Default>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    if items.is_empty() { T::default() } else { items[rng.random_range(0..items.len())] }
}

fn push_capped(ring: &mut VecDeque<Target>, target: Target, cap: usize) {
    if ring.len() == cap {
        ring.pop_front();
    }
    ring.push_back(target);
}

fn set_opt(slot: &mut Option<String>, value: &str) {
    let text = slot.get_or_insert_with(String::new);
    text.clear();
    text.push_str(value);
}

fn share(count: u64, total: u64) -> f64 {
    if total == 0 { 0.0 } else { (count as f64 / total as f64 * 10_000.0).round() / 10_000.0 }
}

/// SplitMix64's finaliser: a bijection of `u64`.
fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A uniform number in (0, 1) from a hash.
fn unit(hash: u64) -> f64 {
    ((hash >> 11) as f64 + 0.5) / (1_u64 << 53) as f64
}

/// Appends `chars` characters of base32-sortable (the AT Protocol TID alphabet), most
/// significant first.
fn push_base32(out: &mut String, value: u64, chars: u32) {
    const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";
    for index in (0..chars).rev() {
        let shift = index * 5;
        let digit = if shift >= 64 { 0 } else { (value >> shift) & 31 };
        out.push(char::from(ALPHABET[digit as usize]));
    }
}

fn push_base36(out: &mut String, mut value: u64) {
    const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut digits = [0_u8; 13];
    let mut len = 0;
    loop {
        digits[len] = ALPHABET[(value % 36) as usize];
        len += 1;
        value /= 36;
        if value == 0 {
            break;
        }
    }
    for digit in digits[..len].iter().rev() {
        out.push(char::from(*digit));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;

    use waterline_model::{Config, Side};

    use super::*;

    fn run(posts: u64, seed: u64) -> (tempfile::TempDir, PathBuf, GenerateSummary) {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("workspace");
        let summary = generate(&GenerateOptions { posts, seed, out: out.clone() }).unwrap();
        (dir, out, summary)
    }

    fn posts_of(out: &Path) -> Vec<Post> {
        let mut posts = Vec::new();
        for platform in PLATFORMS {
            let text = fs_err::read_to_string(out.join(format!("{platform}.jsonl"))).unwrap();
            for line in text.lines() {
                let post: Post = serde_json::from_str(line)
                    .unwrap_or_else(|error| panic!("{platform}: {error}: {line}"));
                assert_eq!(post.platform, platform);
                posts.push(post);
            }
        }
        posts
    }

    fn truth_of(out: &Path) -> serde_json::Value {
        serde_json::from_str(&fs_err::read_to_string(out.join(TRUTH_FILE)).unwrap()).unwrap()
    }

    #[test]
    fn a_calm_scenario_plants_no_spike_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("calm");
        let options = GenerateOptions { posts: 3_000, seed: 42, out: out.clone() };
        let summary = generate_calm(&options).unwrap();
        assert_eq!(summary.posts, 3_000);
        assert_eq!(posts_of(&out).len(), 3_000);
        let truth = truth_of(&out);
        assert_eq!(truth["calm"], true);
        assert!(truth["spike"].is_null());
        assert_eq!(truth["posts"], 3_000);
        // The default scenario does not mention calm at all (its files are unchanged).
        let (_dir, spiky, _) = run(3_000, 42);
        let truth = truth_of(&spiky);
        assert!(truth.get("calm").is_none());
        assert!(truth["spike"]["posts"].as_u64().unwrap() > 0);
    }

    #[test]
    fn same_seed_gives_identical_files() {
        let (_a, first, summary) = run(3_000, 42);
        let (_b, second, _) = run(3_000, 42);
        let (_c, other, _) = run(3_000, 43);
        assert_eq!(summary.files.len(), 6);
        let mut differs = false;
        for file in &summary.files {
            let name = file.file_name().unwrap();
            let bytes = fs_err::read(first.join(name)).unwrap();
            assert_eq!(bytes, fs_err::read(second.join(name)).unwrap(), "{name:?} differs");
            differs |= bytes != fs_err::read(other.join(name)).unwrap();
        }
        assert!(differs, "another seed gives other posts");
    }

    #[test]
    fn config_parses_and_resolves_sides() {
        let (_dir, out, _) = run(10, 1);
        let config =
            Config::parse(&fs_err::read_to_string(out.join(CONFIG_FILE)).unwrap()).unwrap();
        assert_eq!(config.brand, BRAND);
        assert_eq!(config.competitors.len(), 3);
        assert_eq!(config.products.len(), 2);
        let names: Vec<&str> = config.topics.iter().map(|topic| topic.name.as_str()).collect();
        assert_eq!(names, TOPICS);
        let resolver = config.side_resolver();
        for account in &OWN_ACCOUNTS {
            assert_eq!(
                resolver.side(PLATFORMS[account.platform], Some(account.handle), None),
                Side::Own
            );
        }
        for account in &COMPETITOR_ACCOUNTS {
            let side = resolver.side(PLATFORMS[account.platform], Some(account.handle), None);
            assert_eq!(side, Side::Competitor, "{}", account.handle);
            let keywords = &config.competitors[account.owner - 1].keywords;
            assert!(keywords.iter().any(|keyword| keyword == COMPANIES[account.owner]));
        }
        for (index, drug) in DRUGS.iter().enumerate() {
            if drug.owner == 0 {
                assert_eq!(config.products[index].name, drug.name);
            } else {
                let keywords = &config.competitors[drug.owner - 1].keywords;
                assert!(keywords.iter().any(|keyword| keyword == drug.name));
                assert!(keywords.iter().any(|keyword| keyword == drug.inn[EN]));
            }
        }
    }

    #[test]
    fn refuses_an_existing_workspace() {
        let (_dir, out, _) = run(5, 1);
        let error = generate(&GenerateOptions { posts: 5, seed: 1, out }).unwrap_err();
        assert!(error.to_string().contains(CONFIG_FILE), "{error}");
    }

    #[test]
    fn posts_are_valid_and_match_the_truth() {
        let posts_wanted = 20_000;
        let (_dir, out, summary) = run(posts_wanted, 7);
        assert_eq!(summary.posts, posts_wanted);
        let posts = posts_of(&out);
        let truth = truth_of(&out);
        assert_eq!(posts.len() as u64, posts_wanted);
        let config = Config::parse(CONFIG).unwrap();
        let resolver = config.side_resolver();
        let start = DateTime::from_timestamp(START_SECS, 0).unwrap();
        let end = DateTime::from_timestamp(END_SECS, 0).unwrap();

        let mut by_key: HashMap<(String, String), &Post> = HashMap::new();
        let mut sides: HashMap<Side, u64> = HashMap::new();
        let mut english = 0;
        for pair in posts.windows(2) {
            if pair[0].platform == pair[1].platform {
                assert!(pair[0].created_at <= pair[1].created_at, "sorted by time");
            }
        }
        for post in &posts {
            assert!(post.created_at >= start && post.created_at <= end);
            assert!(
                by_key.insert((post.platform.clone(), post.id.clone()), post).is_none(),
                "unique id"
            );
            assert!(post.side.is_none() && post.observed_at.is_none());
            assert!(post.author_id.is_some() && post.author_handle.is_some() && post.url.is_some());
            assert!(!post.text.is_empty());
            assert!(!post.text.contains('{'), "unfilled template: {}", post.text);
            assert_eq!(post.counts.views.is_some(), post.platform == "x");
            assert!(post.counts.likes.is_some());
            let side = resolver.side(&post.platform, post.author_handle.as_deref(), None);
            *sides.entry(side).or_default() += 1;
            english += u64::from(post.lang.as_deref() == Some("en"));
            if post.platform == "bluesky" {
                assert!(post.id.starts_with("at://did:plc:"), "{}", post.id);
            }
        }
        for post in &posts {
            if let Some(parent) = &post.reply_to {
                let parent = by_key[&(post.platform.clone(), parent.clone())];
                assert!(parent.created_at < post.created_at);
                assert_eq!(post.reply_to_author.as_deref(), parent.author_handle.as_deref());
                assert!(post.conversation_id.is_some());
            }
        }
        let n = posts_wanted as f64;
        let own = sides[&Side::Own];
        let competitor = sides[&Side::Competitor];
        let audience = sides[&Side::Audience];
        assert_eq!(truth["sides"]["own"], own);
        assert_eq!(truth["sides"]["competitor"], competitor);
        assert_eq!(truth["sides"]["audience"], audience);
        assert!((own as f64 / n - 0.05).abs() < 0.005);
        assert!((competitor as f64 / n - 0.10).abs() < 0.005);
        assert_eq!(truth["languages"]["en"], english);
        assert!((english as f64 / n - 0.6).abs() < 0.03, "english share {}", english as f64 / n);

        // Planted posts exist, and frosty/warm posts stand out from their account.
        let find = |entry: &serde_json::Value| -> &Post {
            let key = (
                entry["platform"].as_str().unwrap().to_owned(),
                entry["id"].as_str().unwrap().to_owned(),
            );
            by_key.get(&key).copied().unwrap_or_else(|| panic!("missing {key:?}"))
        };
        let median_likes = |handle: &str| -> u64 {
            let mut likes: Vec<u64> = posts
                .iter()
                .filter(|post| {
                    post.author_handle.as_deref() == Some(handle) && post.reply_to.is_none()
                })
                .map(|post| post.counts.likes.unwrap())
                .collect();
            likes.sort_unstable();
            likes[likes.len() / 2]
        };
        let frosty = truth["frosty_posts"].as_array().unwrap();
        let warm = truth["warm_posts"].as_array().unwrap();
        assert!(!frosty.is_empty() && !warm.is_empty());
        for entry in frosty {
            let post = find(entry);
            let handle = post.author_handle.as_deref().unwrap();
            assert_eq!(resolver.side(&post.platform, Some(handle), None), Side::Own);
            assert!(post.counts.likes.unwrap() * 5 < median_likes(handle).max(1), "{}", post.id);
        }
        for entry in warm {
            let post = find(entry);
            let handle = post.author_handle.as_deref().unwrap();
            assert!(post.counts.likes.unwrap() > 3 * median_likes(handle), "{}", post.id);
        }
        let adverse = truth["adverse_event_posts"].as_array().unwrap();
        assert_eq!(adverse.len(), 40);
        for entry in adverse {
            let post = find(entry);
            let text = post.text.to_lowercase();
            let names_product = DRUGS[..2].iter().any(|drug| {
                text.contains(&drug.name.to_lowercase())
                    || drug.inn.iter().any(|inn| text.contains(inn))
                    || drug.aliases.iter().any(|alias| text.contains(alias))
            });
            assert!(names_product, "{}", post.text);
            assert_eq!(
                resolver.side(&post.platform, post.author_handle.as_deref(), None),
                Side::Audience
            );
        }
        let categories: HashSet<&str> =
            adverse.iter().map(|entry| entry["category"].as_str().unwrap()).collect();
        assert_eq!(categories.len(), ADVERSE.len());

        // The spike: shortage talk about Cardivex jumps in its window.
        let spike_start: DateTime<Utc> = truth["spike"]["start"].as_str().unwrap().parse().unwrap();
        let spike_end: DateTime<Utc> = truth["spike"]["end"].as_str().unwrap().parse().unwrap();
        let words = [
            "shortage",
            "stock",
            "anywhere",
            "nobody can get",
            "won't be back",
            "no pharmacy",
            "out of",
            "rupture",
            "pénurie",
            "introuvable",
            "nulle part",
            "ne reviendra pas",
            "aucune pharmacie",
        ];
        let shortage_between = |from: DateTime<Utc>, to: DateTime<Utc>| {
            posts
                .iter()
                .filter(|post| post.created_at >= from && post.created_at < to)
                .filter(|post| {
                    let text = post.text.to_lowercase();
                    (text.contains("cardivex") || text.contains("telvisartan"))
                        && words.iter().any(|word| text.contains(word))
                })
                .count()
        };
        let window = spike_end - spike_start;
        let during = shortage_between(spike_start, spike_end);
        let before = shortage_between(spike_start - window, spike_start);
        assert!(during as u64 >= truth["spike"]["posts"].as_u64().unwrap());
        assert!(during > 3 * before.max(1), "spike {during} vs {before} before");

        // Share of voice: the brand leads, every competitor is talked about.
        let voice = &truth["share_of_voice"];
        for company in &COMPANIES[1..] {
            assert!(voice[*company].as_u64().unwrap() > 0);
            assert!(voice[BRAND].as_u64().unwrap() > voice[*company].as_u64().unwrap());
        }
        let neglected: Vec<&str> = truth["neglected_topics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert_eq!(
            neglected,
            ["side effects", "price & reimbursement", "access & shortage", "dosing questions"]
        );
        for topic in &neglected {
            assert!(truth["own_topic_mix"][*topic].as_f64().unwrap() < 0.05);
            assert!(truth["topic_mix"][*topic].as_f64().unwrap() > 0.1);
        }
        let questions = &truth["questions"];
        assert!(questions["answered"].as_u64().unwrap() > 0);
        assert!(questions["unanswered"].as_u64().unwrap() > 0);
        assert!(truth["replies"]["audience_to_own"].as_u64().unwrap() > 0);
        let authors = truth["audience_authors"].as_u64().unwrap();
        assert!(authors > 1_000 && authors < audience, "{authors} authors");
    }

    #[test]
    fn tiny_runs_work() {
        for posts in [0, 1, 2, 10, 50, 120, 199, 200, 201, 500] {
            for seed in 0..6 {
                let (_dir, out, _) = run(posts, seed);
                assert_eq!(posts_of(&out).len() as u64, posts, "{posts} posts, seed {seed}");
                let truth = truth_of(&out);
                assert_eq!(truth["posts"], posts);
                if posts >= 200 {
                    assert!(
                        !truth["frosty_posts"].as_array().unwrap().is_empty(),
                        "{posts}/{seed}"
                    );
                    assert!(!truth["warm_posts"].as_array().unwrap().is_empty(), "{posts}/{seed}");
                    assert!(truth["adverse_event_posts"].as_array().unwrap().len() >= 3);
                    assert!(truth["spike"]["posts"].as_u64().unwrap() > 0);
                }
            }
        }
    }

    #[test]
    fn helpers() {
        assert_eq!(apportion(10, &[1.0, 1.0, 1.0]), vec![4, 3, 3]);
        assert_eq!(apportion(0, &[1.0, 2.0]), vec![0, 0]);
        let mut text = String::new();
        push_base36(&mut text, 0);
        push_base36(&mut text, 36);
        assert_eq!(text, "010");
        text.clear();
        push_base32(&mut text, 0, 13);
        assert_eq!(text, "2222222222222");
        let handles: HashSet<String> = (1..5_000)
            .map(|rank| {
                let mut author = Author::default();
                fill_author(&mut author, 99, X, FR, rank);
                author.handle
            })
            .collect();
        assert_eq!(handles.len(), 4_999);
    }
}
