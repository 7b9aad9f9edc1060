//! `waterline check-draft`: the compliance check of a draft post (or of every row of a
//! content plan) before publication, from `waterline_enrich::draft`, plus the advisory
//! reception forecast (PHARMA.md ENG-3, d.5): the draft's predicted engagement percentile
//! against the account's own history, from a small ridge regression on the own posts, and
//! its relevance to what the audience talks about. The forecast never changes the
//! compliance status. See `docs/adr/008-draft-check.md`.

use std::collections::HashMap;

use anyhow::{Context as _, Result, bail};
use serde::Serialize;
use waterline_enrich::draft::{CheckContext, Draft, DraftReport, Status, check, days_from_date};
use waterline_model::config::normalise_handle;

use crate::measure::Session;
use crate::workspace::Workspace;

/// Exit code of a draft that may be published after review (PASS, WARN).
pub const EXIT_PUBLISHABLE: u8 = 0;
/// Exit code of a draft that must not be published as it is (BLOCK, CANNOT_ASSESS, or a
/// plan row that could not be read).
pub const EXIT_NOT_PUBLISHABLE: u8 = 1;

/// The exit code for a status.
pub fn exit_code(status: Status) -> u8 {
    match status {
        Status::Pass | Status::Warn => EXIT_PUBLISHABLE,
        Status::Block | Status::CannotAssess => EXIT_NOT_PUBLISHABLE,
    }
}

/// Today in the workspace's time zone (UTC without one), as days since 1970-01-01.
fn today(workspace: Option<&Workspace>) -> Option<i64> {
    let now = chrono::Utc::now();
    let day = match workspace.and_then(|workspace| workspace.config.time_zone().ok()) {
        Some(zone) => now.with_timezone(&zone).format("%Y-%m-%d").to_string(),
        None => now.format("%Y-%m-%d").to_string(),
    };
    days_from_date(&day)
}

/// The check's context: the workspace's products, PV settings and accounts, and today.
pub fn check_context(workspace: Option<&Workspace>) -> CheckContext {
    let today = today(workspace);
    match workspace {
        Some(workspace) => CheckContext::from_config(&workspace.config, today),
        None => CheckContext { today, ..CheckContext::default() },
    }
}

pub fn forecast_outcome(model: &Result<ReceptionModel>, draft: &Draft) -> Result<Forecast, String> {
    match model {
        Ok(model) => Ok(model.predict(draft)),
        Err(error) => Err(format!("{error:#}")),
    }
}

/// The answer of `check-draft --json` (and of an HTTP endpoint): the compliance report,
/// flattened, beside the advisory forecast.
#[derive(Debug, Clone, Serialize)]
pub struct DraftCheck {
    /// The compliance report (status, findings, needs_review, cannot_assess, links, products).
    #[serde(flatten)]
    pub report: DraftReport,
    /// The advisory forecast, or `null`.
    pub forecast: Option<Forecast>,
    /// Why there is no forecast.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forecast_unavailable: Option<String>,
}

impl DraftCheck {
    /// The answer for a report and its forecast (or why there is none).
    pub fn new(report: DraftReport, forecast: Result<Forecast, String>) -> DraftCheck {
        match forecast {
            Ok(forecast) => {
                DraftCheck { report, forecast: Some(forecast), forecast_unavailable: None }
            }
            Err(reason) => {
                DraftCheck { report, forecast: None, forecast_unavailable: Some(reason) }
            }
        }
    }
}

/// Checks a draft with the workspace's products, PV settings and accounts (none without a
/// workspace) and adds the forecast from the session's own posts (none without one): what
/// an HTTP endpoint returns. Never fails: a forecast that cannot be made says why.
pub async fn check_with_forecast(
    workspace: Option<&Workspace>,
    session: Option<&Session>,
    draft: &Draft,
) -> DraftCheck {
    let report = check(draft, &check_context(workspace));
    let forecast = match session {
        Some(session) => forecast(session, draft).await.map_err(|error| format!("{error:#}")),
        None => Err("no workspace: the forecast needs the account's own posts".to_owned()),
    };
    DraftCheck::new(report, forecast)
}

// ---------------------------------------------------------------------------------------
// The reception forecast (ENG-3).
// ---------------------------------------------------------------------------------------

/// The features of PHARMA.md d.5 the forecast uses, in order.
pub const FEATURES: [&str; 12] = [
    "has_visual",
    "external_link",
    "hashtags",
    "length",
    "question",
    "call_to_action",
    "personal_story",
    "positive_affect",
    "negative_affect",
    "factual_number",
    "corporate_business_topic",
    "authority_figure",
];

const FEATURE_COUNT: usize = FEATURES.len();

/// The fewest own posts a forecast is fitted on.
pub const MIN_POSTS: usize = 20;
/// The most own posts (the latest) a forecast is fitted on.
const MAX_POSTS: usize = 5_000;
/// The most audience posts (the latest) relevance is measured against.
const MAX_AUDIENCE_POSTS: usize = 3_000;
/// Ridge penalty on standardised features.
const RIDGE_LAMBDA: f64 = 5.0;

const CALL_TO_ACTION: &[&str] = &[
    "learn more",
    "find out",
    "click",
    "visit",
    "sign up",
    "register",
    "join",
    "share",
    "tell us",
    "comment",
    "link in bio",
    "read more",
    "watch",
    "download",
    "découvrez",
    "inscrivez",
    "partagez",
    "rejoignez",
    "dites-nous",
    "rendez-vous",
    "en savoir plus",
    "lien en bio",
];
const PERSONAL: &[&str] = &[
    "i",
    "i'm",
    "i've",
    "my",
    "me",
    "we",
    "our",
    "je",
    "j'ai",
    "j",
    "mon",
    "ma",
    "mes",
    "nous",
    "nos",
    "notre",
    "story",
    "histoire",
    "témoignage",
    "diagnosed",
    "diagnostiquée",
    "diagnostiqué",
];
const CORPORATE: &[&str] = &[
    "shareholders",
    "shareholder",
    "revenue",
    "revenues",
    "quarter",
    "quarterly",
    "earnings",
    "acquisition",
    "ceo",
    "investors",
    "investor",
    "pipeline",
    "phase",
    "conference",
    "annual",
    "financial",
    "merger",
    "actionnaires",
    "chiffre",
    "trimestre",
    "résultats",
    "investisseurs",
    "acquisition",
    "congrès",
    "financiers",
];
const AUTHORITY: &[&str] = &[
    "dr",
    "doctor",
    "professor",
    "prof",
    "expert",
    "experts",
    "specialist",
    "médecin",
    "professeur",
    "pr",
    "spécialiste",
    "docteur",
];

/// Feature values of one text (before standardisation).
fn features(text: &str, has_visual: bool, stored_links: usize) -> [f64; FEATURE_COUNT] {
    let tokens = waterline_enrich::text::tokenize(waterline_enrich::analysed(text), None);
    let words: Vec<&str> = tokens.iter().map(|token| token.norm.as_str()).collect();
    let has_word = |list: &[&str]| words.iter().any(|word| list.contains(word));
    let lower = text.to_lowercase();
    let has_phrase = |list: &[&str]| {
        list.iter().any(|phrase| {
            if phrase.contains(' ') { lower.contains(phrase) } else { words.contains(phrase) }
        })
    };
    let links = waterline_enrich::draft::links(text);
    let urls = links.iter().filter(|link| !link.starts_with('#') && !link.starts_with('@')).count();
    let hashtags = links.iter().filter(|link| link.starts_with('#')).count();
    let probabilities = waterline_enrich::models::sentiment_for("und")
        .map_or([0.0, 1.0, 0.0], |model| model.predict_tokens(&tokens, "und").probabilities);
    let flag = |value: bool| if value { 1.0 } else { 0.0 };
    [
        flag(has_visual),
        flag(urls > 0 || stored_links > 0),
        hashtags.min(6) as f64,
        (1.0 + text.chars().count() as f64).ln(),
        flag(text.contains('?')),
        flag(has_phrase(CALL_TO_ACTION)),
        flag(has_word(PERSONAL)),
        f64::from(probabilities[2]),
        f64::from(probabilities[0]),
        flag(text.chars().any(|ch| ch.is_ascii_digit())),
        flag(has_word(CORPORATE)),
        flag(has_word(AUTHORITY)),
    ]
}

/// One feature's part in a forecast.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureContribution {
    /// The feature (see [`FEATURES`]).
    pub name: String,
    /// Its value for the draft.
    pub value: f64,
    /// The fitted weight, in percentile points per standard deviation.
    pub weight: f64,
    /// Its contribution to the draft's percentile, in points (weight × standardised value).
    pub contribution: f64,
}

/// How close the draft is to what the audience talks about.
#[derive(Debug, Clone, Serialize)]
pub struct Relevance {
    /// Cosine similarity of the draft to the centroid of the audience posts (static word
    /// embeddings).
    pub similarity: f64,
    /// Share of audience posts less similar to their own centroid than the draft, ×100.
    pub percentile: f64,
    /// Audience posts compared.
    pub audience_posts: usize,
    /// Content words of the draft the audience uses most (by document frequency).
    pub shared_words: Vec<String>,
}

/// The advisory reception forecast of a draft (ENG-3): never overrides a compliance BLOCK.
#[derive(Debug, Clone, Serialize)]
pub struct Forecast {
    /// Always `true`: the forecast informs, the compliance status decides.
    pub advisory: bool,
    /// The account whose posts it was fitted on (`None`: every own account).
    pub account: Option<String>,
    /// Own posts it was fitted on.
    pub posts: usize,
    /// Engagement per post: interactions (likes, shares, replies, quotes) divided by this.
    pub denominator: String,
    /// Predicted engagement percentile of the draft among those posts (0–100).
    pub percentile: f64,
    /// In-sample R² of the fit.
    pub r2: f64,
    /// Five-fold cross-validated R² (how much to trust it).
    pub r2_cv: Option<f64>,
    /// `very low`, `low`, `moderate` or `fair`, from the cross-validated R².
    pub trust: String,
    /// The features, largest contribution first.
    pub features: Vec<FeatureContribution>,
    /// Relevance to the audience's topics.
    pub relevance: Option<Relevance>,
}

/// A ridge regression on standardised features.
#[derive(Debug, Clone)]
struct Ridge {
    means: [f64; FEATURE_COUNT],
    scales: [f64; FEATURE_COUNT],
    weights: [f64; FEATURE_COUNT],
    intercept: f64,
}

impl Ridge {
    fn fit(rows: &[[f64; FEATURE_COUNT]], targets: &[f64], lambda: f64) -> Option<Ridge> {
        let count = rows.len();
        if count == 0 || count != targets.len() {
            return None;
        }
        let n = count as f64;
        let mut means = [0.0; FEATURE_COUNT];
        let mut scales = [0.0; FEATURE_COUNT];
        for j in 0..FEATURE_COUNT {
            means[j] = rows.iter().map(|row| row[j]).sum::<f64>() / n;
            let variance = rows.iter().map(|row| (row[j] - means[j]).powi(2)).sum::<f64>() / n;
            // A constant feature gets no weight (scale 0).
            scales[j] = if variance > 1e-12 { variance.sqrt() } else { 0.0 };
        }
        let intercept = targets.iter().sum::<f64>() / n;
        let standardised: Vec<[f64; FEATURE_COUNT]> = rows
            .iter()
            .map(|row| {
                std::array::from_fn(|j| {
                    if scales[j] > 0.0 { (row[j] - means[j]) / scales[j] } else { 0.0 }
                })
            })
            .collect();
        let mut matrix = [[0.0; FEATURE_COUNT]; FEATURE_COUNT];
        let mut vector = [0.0; FEATURE_COUNT];
        for (row, target) in standardised.iter().zip(targets) {
            for a in 0..FEATURE_COUNT {
                vector[a] += row[a] * (target - intercept);
                for b in 0..FEATURE_COUNT {
                    matrix[a][b] += row[a] * row[b];
                }
            }
        }
        for (index, line) in matrix.iter_mut().enumerate() {
            line[index] += lambda;
        }
        let weights = solve(matrix, vector)?;
        Some(Ridge { means, scales, weights, intercept })
    }

    fn standardise(&self, row: &[f64; FEATURE_COUNT]) -> [f64; FEATURE_COUNT] {
        std::array::from_fn(|j| {
            if self.scales[j] > 0.0 { (row[j] - self.means[j]) / self.scales[j] } else { 0.0 }
        })
    }

    fn predict(&self, row: &[f64; FEATURE_COUNT]) -> f64 {
        let z = self.standardise(row);
        self.intercept + z.iter().zip(&self.weights).map(|(z, w)| z * w).sum::<f64>()
    }
}

/// Solves `matrix · x = vector` by Gaussian elimination with partial pivoting.
fn solve(
    mut matrix: [[f64; FEATURE_COUNT]; FEATURE_COUNT],
    mut vector: [f64; FEATURE_COUNT],
) -> Option<[f64; FEATURE_COUNT]> {
    for column in 0..FEATURE_COUNT {
        let pivot = (column..FEATURE_COUNT)
            .max_by(|&a, &b| matrix[a][column].abs().total_cmp(&matrix[b][column].abs()))?;
        if matrix[pivot][column].abs() < 1e-12 {
            return None;
        }
        matrix.swap(column, pivot);
        vector.swap(column, pivot);
        for row in column + 1..FEATURE_COUNT {
            let factor = matrix[row][column] / matrix[column][column];
            let pivot_row = matrix[column];
            for (cell, pivot_cell) in matrix[row].iter_mut().zip(pivot_row).skip(column) {
                *cell -= factor * pivot_cell;
            }
            vector[row] -= factor * vector[column];
        }
    }
    let mut solution = [0.0; FEATURE_COUNT];
    for row in (0..FEATURE_COUNT).rev() {
        let known: f64 = (row + 1..FEATURE_COUNT).map(|k| matrix[row][k] * solution[k]).sum();
        solution[row] = (vector[row] - known) / matrix[row][row];
    }
    solution.iter().all(|value| value.is_finite()).then_some(solution)
}

/// R² of predictions against targets.
fn r_squared(predictions: &[f64], targets: &[f64]) -> f64 {
    let n = targets.len().max(1) as f64;
    let mean = targets.iter().sum::<f64>() / n;
    let total: f64 = targets.iter().map(|t| (t - mean).powi(2)).sum();
    let residual: f64 = predictions.iter().zip(targets).map(|(p, t)| (t - p).powi(2)).sum();
    if total <= 0.0 { 0.0 } else { 1.0 - residual / total }
}

/// Percentile ranks (0–100, ties share the middle rank).
fn percentile_ranks(values: &[f64]) -> Vec<f64> {
    let n = values.len() as f64;
    values
        .iter()
        .map(|value| {
            let below = values.iter().filter(|other| *other < value).count() as f64;
            let equal = values.iter().filter(|other| *other == value).count() as f64;
            (below + 0.5 * equal) / n * 100.0
        })
        .collect()
}

/// The audience side of relevance: its centroid and its own similarities.
#[derive(Debug, Clone)]
struct AudienceProfile {
    centroid: Vec<f32>,
    similarities: Vec<f64>,
    document_frequency: HashMap<String, usize>,
}

impl AudienceProfile {
    fn build(texts: &[String]) -> Option<AudienceProfile> {
        let table = waterline_enrich::models::embeddings()?;
        let mut vectors = Vec::new();
        let mut document_frequency: HashMap<String, usize> = HashMap::new();
        let mut buffer = Vec::new();
        for text in texts {
            let tokens = waterline_enrich::text::tokenize(waterline_enrich::analysed(text), None);
            let mut seen = std::collections::HashSet::new();
            for word in content_words(&tokens) {
                if seen.insert(word.clone()) {
                    *document_frequency.entry(word).or_default() += 1;
                }
            }
            if table.embed_tokens(&tokens, &mut buffer) > 0 {
                vectors.push(buffer.clone());
            }
        }
        let first = vectors.first()?;
        let mut centroid = vec![0f32; first.len()];
        for vector in &vectors {
            for (slot, value) in centroid.iter_mut().zip(vector) {
                *slot += value;
            }
        }
        let norm = centroid.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm == 0.0 {
            return None;
        }
        centroid.iter_mut().for_each(|v| *v /= norm);
        let similarities = vectors.iter().map(|vector| cosine(vector, &centroid)).collect();
        Some(AudienceProfile { centroid, similarities, document_frequency })
    }

    fn relevance(&self, text: &str) -> Option<Relevance> {
        let table = waterline_enrich::models::embeddings()?;
        let tokens = waterline_enrich::text::tokenize(waterline_enrich::analysed(text), None);
        let mut vector = Vec::new();
        if table.embed_tokens(&tokens, &mut vector) == 0 {
            return None;
        }
        let similarity = cosine(&vector, &self.centroid);
        let below = self.similarities.iter().filter(|other| **other < similarity).count();
        let mut shared: Vec<(usize, String)> = content_words(&tokens)
            .into_iter()
            .filter_map(|word| self.document_frequency.get(&word).map(|count| (*count, word)))
            .collect();
        shared.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        shared.dedup_by(|a, b| a.1 == b.1);
        Some(Relevance {
            similarity: round(similarity, 3),
            percentile: round(below as f64 / self.similarities.len().max(1) as f64 * 100.0, 1),
            audience_posts: self.similarities.len(),
            shared_words: shared.into_iter().take(5).map(|(_, word)| word).collect(),
        })
    }
}

fn content_words(tokens: &[waterline_enrich::text::Token]) -> Vec<String> {
    waterline_enrich::text::content_words(tokens)
        .map(|token| token.norm.clone())
        .filter(|word| word.chars().count() >= 3 && !waterline_enrich::words::STOP_WORDS.any(word))
        .collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norms =
        a.iter().map(|x| x * x).sum::<f32>().sqrt() * b.iter().map(|y| y * y).sum::<f32>().sqrt();
    if norms == 0.0 { 0.0 } else { f64::from(dot / norms) }
}

fn round(value: f64, digits: i32) -> f64 {
    let factor = 10f64.powi(digits);
    (value * factor).round() / factor
}

/// The forecast model of one workspace (and account): fitted once, applied to any draft.
#[derive(Debug, Clone)]
pub struct ReceptionModel {
    ridge: Ridge,
    account: Option<String>,
    posts: usize,
    denominator: String,
    r2: f64,
    r2_cv: Option<f64>,
    audience: Option<AudienceProfile>,
}

/// A number of a JSON row (nulls are 0).
fn number(row: &serde_json::Value, key: &str) -> f64 {
    row.get(key).and_then(serde_json::Value::as_f64).unwrap_or(0.0)
}

impl ReceptionModel {
    /// Fits the model on the own posts (of `account` when it has at least [`MIN_POSTS`]
    /// original posts, else of every own account) and reads the latest audience posts.
    pub async fn fit(session: &Session, account: Option<&str>) -> Result<ReceptionModel> {
        let own = waterline_analytics::to_json(
            &session
                .analytics
                .query(&format!(
                    "SELECT text, author_handle, media_count, coalesce(cardinality(links), 0) AS link_count, \
                     likes, shares, replies, quotes, views, author_followers \
                     FROM posts WHERE side = 'own' AND reply_to IS NULL AND repost_of IS NULL \
                     ORDER BY created_at DESC LIMIT {MAX_POSTS}"
                ))
                .await?,
        )?;
        let rows = own.as_array().cloned().unwrap_or_default();
        let wanted = account.map(normalise_handle);
        let of_account: Vec<&serde_json::Value> = rows
            .iter()
            .filter(|row| {
                let handle = row
                    .get("author_handle")
                    .and_then(serde_json::Value::as_str)
                    .map(normalise_handle);
                wanted.is_some() && handle == wanted
            })
            .collect();
        let (rows, account): (Vec<&serde_json::Value>, Option<String>) =
            if of_account.len() >= MIN_POSTS {
                (of_account, wanted)
            } else {
                (rows.iter().collect(), None)
            };
        if rows.len() < MIN_POSTS {
            bail!(
                "{} own original posts stored; the forecast needs at least {MIN_POSTS}",
                rows.len()
            );
        }
        // One denominator for every post (PHARMA.md d.2: say which).
        let with_followers =
            rows.iter().filter(|row| number(row, "author_followers") > 0.0).count();
        let with_views = rows.iter().filter(|row| number(row, "views") > 0.0).count();
        let (denominator, key) = if with_followers * 10 >= rows.len() * 8 {
            ("1,000 followers", Some("author_followers"))
        } else if with_views * 10 >= rows.len() * 8 {
            ("view", Some("views"))
        } else {
            ("post (no reach, view or follower counts)", None)
        };
        let mut inputs = Vec::new();
        let mut rates = Vec::new();
        for row in rows {
            let interactions = ["likes", "shares", "replies", "quotes"]
                .iter()
                .map(|key| number(row, key))
                .sum::<f64>();
            let rate = match key {
                Some(key) if number(row, key) > 0.0 => {
                    let scale = if key == "author_followers" { 1_000.0 } else { 1.0 };
                    interactions / (number(row, key) / scale)
                }
                Some(_) => continue,
                None => interactions,
            };
            let text = row.get("text").and_then(serde_json::Value::as_str).unwrap_or_default();
            inputs.push(features(
                text,
                number(row, "media_count") > 0.0,
                number(row, "link_count") as usize,
            ));
            rates.push(rate);
        }
        if inputs.len() < MIN_POSTS {
            bail!(
                "{} own posts with a {denominator} count; the forecast needs at least {MIN_POSTS}",
                inputs.len()
            );
        }
        let targets = percentile_ranks(&rates);
        let ridge = Ridge::fit(&inputs, &targets, RIDGE_LAMBDA)
            .context("the regression has no solution")?;
        let in_sample: Vec<f64> = inputs.iter().map(|row| ridge.predict(row)).collect();
        let r2 = r_squared(&in_sample, &targets);
        let r2_cv = cross_validated_r2(&inputs, &targets);
        let audience = session
            .analytics
            .query(&format!(
                "SELECT text FROM posts WHERE side = 'audience' ORDER BY created_at DESC LIMIT {MAX_AUDIENCE_POSTS}"
            ))
            .await
            .ok()
            .and_then(|batches| waterline_analytics::to_json(&batches).ok())
            .and_then(|value| {
                let texts: Vec<String> = value
                    .as_array()?
                    .iter()
                    .filter_map(|row| row.get("text").and_then(serde_json::Value::as_str).map(str::to_owned))
                    .collect();
                AudienceProfile::build(&texts)
            });
        Ok(ReceptionModel {
            ridge,
            account,
            posts: inputs.len(),
            denominator: denominator.to_owned(),
            r2,
            r2_cv,
            audience,
        })
    }

    /// The forecast of a draft.
    pub fn predict(&self, draft: &Draft) -> Forecast {
        let values = features(&draft.text, draft.media.is_some(), 0);
        let standardised = self.ridge.standardise(&values);
        let percentile = self.ridge.predict(&values).clamp(0.0, 100.0);
        let mut contributions: Vec<FeatureContribution> = FEATURES
            .iter()
            .enumerate()
            .map(|(index, name)| FeatureContribution {
                name: (*name).to_owned(),
                value: round(values[index], 3),
                weight: round(self.ridge.weights[index], 3),
                contribution: round(self.ridge.weights[index] * standardised[index], 2),
            })
            .collect();
        contributions.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
        let trust = match self.r2_cv {
            Some(r2) if r2 >= 0.3 => "fair",
            Some(r2) if r2 >= 0.15 => "moderate",
            Some(r2) if r2 >= 0.05 => "low",
            _ => "very low",
        };
        Forecast {
            advisory: true,
            account: self.account.clone(),
            posts: self.posts,
            denominator: self.denominator.clone(),
            percentile: round(percentile, 1),
            r2: round(self.r2, 3),
            r2_cv: self.r2_cv.map(|r2| round(r2, 3)),
            trust: trust.to_owned(),
            features: contributions,
            relevance: self.audience.as_ref().and_then(|audience| audience.relevance(&draft.text)),
        }
    }
}

/// Five-fold cross-validated R² (`None` with too few posts per fold).
fn cross_validated_r2(inputs: &[[f64; FEATURE_COUNT]], targets: &[f64]) -> Option<f64> {
    const FOLDS: usize = 5;
    if inputs.len() < FOLDS * 4 {
        return None;
    }
    let mut predictions = vec![0.0; inputs.len()];
    for fold in 0..FOLDS {
        let (train_x, train_y): (Vec<_>, Vec<_>) = inputs
            .iter()
            .zip(targets)
            .enumerate()
            .filter(|(index, _)| index % FOLDS != fold)
            .map(|(_, (x, y))| (*x, *y))
            .unzip();
        let ridge = Ridge::fit(&train_x, &train_y, RIDGE_LAMBDA)?;
        for (index, input) in inputs.iter().enumerate().filter(|(index, _)| index % FOLDS == fold) {
            predictions[index] = ridge.predict(input);
        }
    }
    Some(r_squared(&predictions, targets))
}

/// The advisory reception forecast of a draft in a workspace (ENG-3), for the server: fits
/// on the own posts of the draft's account (or of every own account) and predicts.
pub async fn forecast(session: &Session, draft: &Draft) -> Result<Forecast> {
    let model = ReceptionModel::fit(session, draft.account.as_deref()).await?;
    Ok(model.predict(draft))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synthetic(count: usize) -> (Vec<[f64; FEATURE_COUNT]>, Vec<f64>) {
        let inputs: Vec<[f64; FEATURE_COUNT]> = (0..count)
            .map(|i| {
                std::array::from_fn(|j| {
                    if j == 0 { (i % 2) as f64 } else { ((i * (j + 3)) % 7) as f64 }
                })
            })
            .collect();
        let targets = inputs.iter().map(|row| 30.0 + 40.0 * row[0]).collect();
        (inputs, targets)
    }

    #[test]
    fn ridge_recovers_a_visual_effect_and_reports_a_high_r2() {
        let (inputs, targets) = synthetic(60);
        let ridge = Ridge::fit(&inputs, &targets, RIDGE_LAMBDA).unwrap();
        assert!(ridge.weights[0] > 15.0, "{:?}", ridge.weights);
        let predictions: Vec<f64> = inputs.iter().map(|row| ridge.predict(row)).collect();
        assert!(r_squared(&predictions, &targets) > 0.9);
        assert!(cross_validated_r2(&inputs, &targets).unwrap() > 0.8);
    }

    #[test]
    fn percentile_ranks_share_ties() {
        assert_eq!(percentile_ranks(&[1.0, 2.0, 2.0, 3.0]), [12.5, 50.0, 50.0, 87.5]);
    }

    #[test]
    fn features_read_the_text() {
        let values =
            features("Join us? Learn more at https://acme.example #health #care 12%", true, 0);
        assert_eq!(values[0], 1.0);
        assert_eq!(values[1], 1.0);
        assert_eq!(values[2], 2.0);
        assert_eq!(values[4], 1.0);
        assert_eq!(values[5], 1.0);
        assert_eq!(values[9], 1.0);
    }

    #[test]
    fn eng_3_forecast_never_overrides_block() {
        let (inputs, targets) = synthetic(60);
        let model = ReceptionModel {
            ridge: Ridge::fit(&inputs, &targets, RIDGE_LAMBDA).unwrap(),
            account: None,
            posts: 60,
            denominator: "post".into(),
            r2: 0.9,
            r2_cv: Some(0.9),
            audience: None,
        };
        let draft = Draft {
            text: "Brandix has no side effects! Learn more?".into(),
            countries: vec!["GB".into()],
            audience: Some(waterline_enrich::draft::Audience::Public),
            media: Some(waterline_enrich::draft::Media::Video),
            ..Draft::default()
        };
        let report = check(&draft, &CheckContext::default());
        let forecast = model.predict(&draft);
        assert!(forecast.percentile > 50.0, "a visual draft scores high here");
        let output = DraftCheck::new(report.clone(), Ok(forecast));
        let json = serde_json::to_value(&output).unwrap();
        assert_eq!(json["status"], "BLOCK");
        assert_eq!(json["forecast"]["advisory"], true);
        assert_eq!(exit_code(report.status), EXIT_NOT_PUBLISHABLE);
    }
}
