//! Reading the evaluation and training sets: PsyTAR's sentence CSV, the ADE corpus v2, and
//! labelled TSV files (`label<TAB>text`, the format of `testdata/pv/`). Bad rows are skipped,
//! never a panic.

/// One labelled sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labelled {
    /// The text.
    pub text: String,
    /// PV-relevant (an ADR sentence in PsyTAR).
    pub positive: bool,
    /// A group for cross-validation (PsyTAR: the drug; otherwise empty).
    pub group: String,
    /// The expected categories (TSV files), when given.
    pub categories: Vec<String>,
    /// The training class (`model::CLASSES`): 0 for positives; PsyTAR's negatives by their
    /// label (withdrawal, efficacy, inefficacy, disease or symptom), the others `OTHER`.
    pub kind: usize,
    /// The language (ISO 639-1), when known (`# lang: fr` lines in TSV files).
    pub language: String,
}

/// The written training examples (`testdata/pv/train.tsv`), compiled in so that training
/// needs no path and is the same everywhere.
pub const WRITTEN_TRAIN: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/pv/train.tsv"));

/// Parses CSV records (RFC 4180: quoted fields, doubled quotes, newlines in quotes).
pub fn csv_records(content: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = content.chars().peekable();
    let mut any = false;
    while let Some(ch) = chars.next() {
        any = true;
        if quoted {
            if ch == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                field.push(ch);
            }
            continue;
        }
        match ch {
            '"' => quoted = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                any = false;
            }
            _ => field.push(ch),
        }
    }
    if any {
        record.push(field);
        records.push(record);
    }
    records
}

/// PsyTAR's `sentence_labeling.csv`: text column `sentences`, `ADR` 1 for positive, blank or
/// 0 otherwise; the group is the drug (`drug_id` before the dot). Empty rows and spreadsheet
/// formulas (cells starting with `=`) are skipped.
pub fn psytar(content: &str) -> Result<Vec<Labelled>, String> {
    let records = csv_records(content.trim_start_matches('\u{feff}'));
    let Some(header) = records.first() else { return Err("empty file".into()) };
    let column = |name: &str| header.iter().position(|cell| cell.trim() == name);
    let text_at = column("sentences").ok_or("no `sentences` column")?;
    let adr_at = column("ADR").ok_or("no `ADR` column")?;
    let drug_at = column("drug_id");
    let mut out = Vec::new();
    for record in records.iter().skip(1) {
        let text = record.get(text_at).map_or("", |cell| cell.trim());
        if text.is_empty() || text.starts_with('=') {
            continue;
        }
        let adr = record.get(adr_at).map_or("", |cell| cell.trim());
        if adr.starts_with('=') {
            continue;
        }
        let positive = adr.parse::<f64>().is_ok_and(|value| value >= 1.0);
        let group = drug_at
            .and_then(|at| record.get(at))
            .map(|cell| cell.split('.').next().unwrap_or_default().trim().to_lowercase())
            .unwrap_or_default();
        let flag = |name: &str| {
            column(name)
                .and_then(|at| record.get(at))
                .is_some_and(|cell| cell.trim().parse::<f64>().is_ok_and(|value| value >= 1.0))
        };
        let kind = if positive {
            0
        } else if flag("WD") {
            1
        } else if flag("EF") {
            2
        } else if flag("INF") {
            3
        } else if flag("SSI") || flag("DI") {
            4
        } else {
            super::model::OTHER
        };
        out.push(Labelled {
            text: text.to_owned(),
            positive,
            group,
            categories: Vec::new(),
            kind,
            language: "en".into(),
        });
    }
    Ok(out)
}

/// The ADE corpus v2: `DRUG-AE.rel` positives (the sentence is the second `|` field,
/// repeated sentences once) and `ADE-NEG.txt` negatives (`id NEG text`).
pub fn ade(relations: &str, negatives: &str) -> Vec<Labelled> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for line in relations.lines() {
        let Some(text) = line.split('|').nth(1).map(str::trim) else { continue };
        if !text.is_empty() && seen.insert(text.to_owned()) {
            out.push(Labelled {
                text: text.to_owned(),
                positive: true,
                group: String::new(),
                categories: Vec::new(),
                kind: 0,
                language: "en".into(),
            });
        }
    }
    for line in negatives.lines() {
        let Some((_, text)) = line.split_once(" NEG ") else { continue };
        let text = text.trim();
        if !text.is_empty() && seen.insert(text.to_owned()) {
            out.push(Labelled {
                text: text.to_owned(),
                positive: false,
                group: String::new(),
                categories: Vec::new(),
                kind: super::model::OTHER,
                language: "en".into(),
            });
        }
    }
    out
}

/// A labelled TSV: `label<TAB>text`, where the label is `0`, `1`, or a comma-separated list
/// of category codes (`AE,SAE`: positive with those categories; `NEG`: negative). Lines that
/// are empty or start with `#` are comments; `# lang: fr` sets the language of the lines after it.
pub fn labelled_tsv(content: &str) -> Vec<Labelled> {
    let mut out = Vec::new();
    let mut language = String::new();
    for line in content.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(code) = line.strip_prefix("# lang:") {
            language = code.trim().to_owned();
            continue;
        }
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((label, text)) = line.split_once('\t') else { continue };
        let label = label.trim();
        let (positive, categories) = match label {
            "0" | "NEG" => (false, Vec::new()),
            "1" => (true, Vec::new()),
            codes => (true, codes.split(',').map(|code| code.trim().to_owned()).collect()),
        };
        out.push(Labelled {
            text: text.trim().to_owned(),
            positive,
            group: String::new(),
            categories,
            kind: if positive { 0 } else { super::model::OTHER },
            language: language.clone(),
        });
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn csv_psytar_and_tsv_rows() {
        let content = "id,drug_id,sentences,ADR\n1,zoloft.1,\"Hi, \"\"there\"\"\",1\n2,zoloft.1,,1\n3,lexapro.2,=SUM(A1),\n4,lexapro.2,Fine.,\n5,x.1,ok,=SUM(D1:D4)\n";
        let rows = psytar(content).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].text, "Hi, \"there\"");
        assert!(rows[0].positive);
        assert_eq!(rows[0].group, "zoloft");
        assert!(!rows[1].positive);
        assert!(psytar("").is_err());
        let tsv = labelled_tsv("# comment\nAE,SAE\tI was hospitalised.\nNEG\tFine.\nbroken line\n");
        assert_eq!(tsv.len(), 2);
        assert_eq!(tsv[0].categories, ["AE", "SAE"]);
        assert!(!tsv[1].positive);
        let ade = ade("1|A drug caused rash.|rash\n2|A drug caused rash.|rash\n", "3 NEG Fine.\n");
        assert_eq!(ade.len(), 2);
    }
}
