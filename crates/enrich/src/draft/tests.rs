//! Tests of the draft check, named after the rule IDs, on PHARMA.md's own made-up
//! examples ("Brandix (exemplimab)", "Otheron"), in English and French.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use waterline_model::config::{LegalStatus, Product, ProductClass};

use super::*;

const TODAY: &str = "2026-11-22";

fn status(class: ProductClass, reimbursed: bool) -> LegalStatus {
    LegalStatus { class, reimbursed }
}

/// The workspace: Brandix (exemplimab), POM everywhere, reimbursed in France, launched in
/// January 2024; Doloxa (paracetamol), OTC and not reimbursed in France; PV on for
/// @acmehealth.
fn context() -> CheckContext {
    let brandix = Product {
        name: "Brandix".into(),
        inns: vec!["exemplimab".into()],
        aliases: vec![],
        status: BTreeMap::from([
            ("FR".into(), status(ProductClass::Pom, true)),
            ("GB".into(), status(ProductClass::Pom, false)),
            ("US".into(), status(ProductClass::Pom, false)),
            ("DE".into(), status(ProductClass::Pom, false)),
        ]),
        launched: Some("2024-01-15".into()),
    };
    let doloxa = Product {
        name: "Doloxa".into(),
        inns: vec!["paracétamol".into()],
        aliases: vec![],
        status: BTreeMap::from([("FR".into(), status(ProductClass::Otc, false))]),
        launched: Some("2026-09-01".into()),
    };
    CheckContext {
        products: vec![brandix, doloxa],
        pharmacovigilance: Some(PvContext {
            enabled: true,
            owned_accounts: ["acmehealth".to_owned()].into_iter().collect(),
        }),
        today: days_from_date(TODAY),
    }
}

fn draft(text: &str, countries: &[&str], audience: Audience) -> Draft {
    Draft {
        text: text.into(),
        countries: countries.iter().map(|c| (*c).to_owned()).collect(),
        audience: Some(audience),
        account: Some("@acmehealth".into()),
        ..Draft::default()
    }
}

fn run(draft: &Draft) -> DraftReport {
    let report = check(draft, &context());
    assert_spans_are_faithful(draft, &report);
    report
}

fn findings<'r>(report: &'r DraftReport, rule: &str) -> Vec<&'r Finding> {
    report.findings.iter().filter(|finding| finding.rule == rule).collect()
}

fn has(report: &DraftReport, rule: &str) -> bool {
    !findings(report, rule).is_empty()
}

fn reviews(report: &DraftReport, rule: &str) -> bool {
    report.needs_review.iter().any(|item| item.rule == rule)
}

fn assert_spans_are_faithful(draft: &Draft, report: &DraftReport) {
    for finding in &report.findings {
        let span = &finding.span;
        assert_eq!(draft.text.get(span.start..span.end), Some(span.text.as_str()), "{finding:?}");
    }
}

#[test]
fn c_01_pom_to_public_blocks() {
    let report =
        run(&draft("Ask your doctor about #Brandix for psoriasis!", &["GB"], Audience::Public));
    assert_eq!(report.status, Status::Block);
    let c01 = findings(&report, "C-01");
    assert_eq!(c01[0].span.text, "#Brandix");
    assert_eq!(c01[0].jurisdiction, "UK");
    assert_eq!(c01[0].severity, Severity::Block);
    // The compliant fix: a disease-awareness post with no product reference.
    let fixed = run(&draft(
        "Psoriasis affects daily life. Talk to your doctor about your options.",
        &["GB"],
        Audience::Public,
    ));
    assert_eq!(fixed.status, Status::Pass, "{fixed:#?}");
}

#[test]
fn c_01_branded_hashtag_and_product_link_count_and_eu_members_map_to_eu() {
    let report = run(&draft("Feeling great #BrandixWorks", &["DE"], Audience::Public));
    let c01 = findings(&report, "C-01");
    assert_eq!(c01[0].span.text, "#BrandixWorks");
    assert_eq!(c01[0].jurisdiction, "EU");
    let link = run(&draft("More at www.brandix.example/psoriasis", &["FR"], Audience::Public));
    assert!(has(&link, "C-01"));
    assert!(link.links.contains(&"www.brandix.example/psoriasis".to_owned()));
}

#[test]
fn c_01_pom_to_us_public_is_not_c_01() {
    let report = run(&draft(
        "Brandix (exemplimab) for moderate-to-severe plaque psoriasis – may cause serious infections www.brandix.example/risk",
        &["US"],
        Audience::Public,
    ));
    assert!(!has(&report, "C-01"), "{report:#?}");
}

#[test]
fn c_02_reimbursed_to_french_public_blocks() {
    let mut draft = draft("Brandix (remboursé) soulage vos douleurs", &["FR"], Audience::Public);
    draft.products =
        vec![DraftProduct::parse_flag("Brandix=otc,reimbursed", &["FR".into()]).unwrap()];
    let report = run(&draft);
    assert_eq!(findings(&report, "C-02")[0].jurisdiction, "FR");
    assert_eq!(report.status, Status::Block);
}

fn doloxa_ad(extra: &str) -> Draft {
    draft(
        &format!("Doloxa (paracétamol) soulage vos maux de tête. {extra}"),
        &["FR"],
        Audience::Public,
    )
}

const FR_MENTIONS: &str = "Ceci est un médicament. Lire attentivement la notice. Demandez conseil à votre pharmacien. Si les symptômes persistent, consultez un médecin.";

#[test]
fn c_03_french_public_otc_without_visa_blocks() {
    let report = run(&doloxa_ad(FR_MENTIONS));
    assert!(has(&report, "C-03"), "{report:#?}");
    let mut with_visa = doloxa_ad(FR_MENTIONS);
    with_visa.visa = Some("Visa GP n° 26/11/60012345/GP/001".into());
    let report = run(&with_visa);
    assert!(!has(&report, "C-03"));
    assert!(!has(&report, "C-04"), "{report:#?}");
    assert_eq!(report.status, Status::Warn, "needs review (C-04 proper use, C-07, …) never passes");
}

#[test]
fn c_04_french_mandatory_mentions_missing_block() {
    let mut draft = doloxa_ad("");
    draft.visa = Some("GP-123".into());
    let report = run(&draft);
    let c04 = findings(&report, "C-04");
    assert!(c04.iter().any(|finding| finding.message.contains("notice")), "{c04:#?}");
    assert!(c04.iter().any(|finding| finding.message.contains("medicine")), "{c04:#?}");
    let without_inn = run(&Draft {
        visa: Some("GP-123".into()),
        ..draft_text(&format!("Doloxa soulage vos maux de tête. {FR_MENTIONS}"))
    });
    assert!(findings(&without_inn, "C-04").iter().any(|finding| finding.message.contains("INN")));
}

fn draft_text(text: &str) -> Draft {
    draft(text, &["FR"], Audience::Public)
}

#[test]
fn c_05_us_benefit_without_risk_blocks() {
    let report = run(&draft("Brandix: clear skin in 12 weeks! 🎉", &["US"], Audience::Public));
    let c05 = findings(&report, "C-05");
    assert_eq!(c05[0].severity, Severity::Block);
    assert_eq!(c05[0].jurisdiction, "US");
    assert!(c05[0].message.contains("most serious risks"));
    assert!(c05[0].message.contains("exemplimab"));
    let fixed = run(&draft(
        "Brandix (exemplimab) clears skin for moderate-to-severe plaque psoriasis – may cause serious infections www.brandix.example/risk",
        &["US"],
        Audience::Public,
    ));
    assert!(!has(&fixed, "C-05"), "{fixed:#?}");
    assert!(reviews(&fixed, "C-05"), "the label part is needs review, never passed");
}

#[test]
fn c_06_hcp_claim_without_safety_warns() {
    let report = run(&draft("Brandix cuts flares by 60%", &["GB"], Audience::Hcp));
    assert_eq!(findings(&report, "C-06")[0].severity, Severity::Warn);
    assert!(has(&report, "C-12"), "no reference");
    assert!(has(&report, "C-13"), "relative only");
    assert!(!has(&report, "C-01"), "HCPs may see POM promotion");
}

#[test]
fn c_07_off_label_is_needs_review_never_passed() {
    let mut draft = draft("Brandix also helps with anxiety", &["US"], Audience::Hcp);
    draft
        .text
        .push_str(" – may cause serious infections. Brandix (exemplimab) www.brandix.example/risk");
    let report = run(&draft);
    assert!(reviews(&report, "C-07"));
    assert_ne!(report.status, Status::Pass);
}

#[test]
fn c_08_safe_without_qualification_blocks() {
    for text in
        ["Brandix is safe for everyone", "Brandix est sûr pour tous", "Brandix, sans danger !"]
    {
        let report = run(&draft(text, &["US"], Audience::Hcp));
        let c08 = findings(&report, "C-08");
        assert_eq!(c08.len(), 1, "{text}: {report:#?}");
        assert_eq!(c08[0].severity, Severity::Block);
    }
    for text in [
        "Brandix has a well-characterised safety profile; see the PI for side effects",
        "Bien sûr, parlez-en à votre médecin",
        "Je suis sûr que vous avez des questions",
        "Brandix is safe when used as directed; see the leaflet.",
        "Never store medicines where they are not safe from children",
    ] {
        let report = run(&draft(text, &["US"], Audience::Hcp));
        let c08 = findings(&report, "C-08");
        assert!(c08.is_empty(), "{text}: {c08:?}");
    }
    let question = run(&draft("Is Brandix safe? Talk to your doctor.", &["GB"], Audience::Hcp));
    assert_eq!(findings(&question, "C-08")[0].severity, Severity::Warn);
}

#[test]
fn c_09_no_side_effects_blocks() {
    for text in [
        "Side-effect-free relief",
        "Un soulagement sans effets indésirables",
        "Aucun risque !",
        "Non-addictive relief",
    ] {
        let report = run(&draft(text, &["FR"], Audience::Hcp));
        assert_eq!(findings(&report, "C-09").len(), 1, "{text}");
        assert_eq!(report.status, Status::Block);
    }
}

#[test]
fn c_10_superlative_warns_and_blocks_in_french_public() {
    let report = run(&draft("The most effective psoriasis treatment", &["GB"], Audience::Hcp));
    assert_eq!(findings(&report, "C-10")[0].severity, Severity::Warn);
    let report = run(&draft("Le meilleur soin, garanti !", &["FR"], Audience::Public));
    let c10 = findings(&report, "C-10");
    assert_eq!(c10.len(), 2);
    assert!(c10.iter().all(|f| f.severity == Severity::Block && f.jurisdiction == "FR"));
    for text in
        ["There is no cure for psoriasis yet.", "Best wishes to all patients!", "Meilleurs vœux !"]
    {
        let report = run(&draft(text, &["FR"], Audience::Public));
        assert!(!has(&report, "C-10"), "{text}");
    }
}

#[test]
fn c_11_disparaging_cue_is_raised_with_its_span() {
    let report = run(&draft("Unlike useless Otheron, Brandix works.", &["GB"], Audience::Hcp));
    let c11 = findings(&report, "C-11");
    assert!(c11.iter().any(|f| f.severity == Severity::Block && f.span.text.contains("useless")));
    assert!(c11.iter().any(|f| f.span.text == "Unlike"));
}

#[test]
fn c_12_hcp_quantitative_claim_without_reference_blocks() {
    let report = run(&draft("Brandix works in 2 weeks", &["GB"], Audience::Hcp));
    assert_eq!(findings(&report, "C-12")[0].span.text, "2 weeks");
    let mut referenced = draft("Brandix works in 2 weeks", &["GB"], Audience::Hcp);
    referenced.references = vec!["Smith et al. 2024; SmPC 5.1".into()];
    assert!(!has(&run(&referenced), "C-12"));
    // A citation in the text is not an attached reference, but it is not a missing one.
    let cited = run(&draft("Brandix works in 2 weeks (Smith 2024).", &["GB"], Audience::Hcp));
    assert!(!has(&cited, "C-12"));
    assert!(
        cited.needs_review.iter().any(|item| item.rule == "C-12" && item.reason.contains("2024"))
    );
}

#[test]
fn c_13_relative_risk_without_absolute_warns() {
    let report = run(&draft("Halves the risk of flares", &["GB"], Audience::Hcp));
    assert_eq!(findings(&report, "C-13")[0].severity, Severity::Warn);
    let report = run(&draft("Réduit le risque de poussées de 50 %", &["FR"], Audience::Hcp));
    assert!(has(&report, "C-13"));
    let report = run(&draft("Flares: 4% vs 8% (absolute); RRR 50%", &["GB"], Audience::Hcp));
    assert!(!has(&report, "C-13"));
}

#[test]
fn c_14_new_older_than_twelve_months_warns() {
    let report = run(&draft("New Brandix!", &["GB"], Audience::Hcp));
    assert_eq!(findings(&report, "C-14")[0].span.text, "New");
    let report = run(&draft("Nouveau : Doloxa (paracétamol)", &["FR"], Audience::Hcp));
    assert!(!has(&report, "C-14"), "launched two months ago");
}

#[test]
fn c_15_testimonial_cue_blocks_in_french_public() {
    let report = run(&draft("Grâce à Brandix, Julie est guérie !", &["FR"], Audience::Public));
    let c15 = findings(&report, "C-15");
    assert!(c15.iter().all(|f| f.severity == Severity::Block));
    assert!(c15.iter().any(|f| f.span.text == "est guérie"));
}

#[test]
fn c_17_natural_equals_safe_blocks() {
    let report = run(&draft("100 % naturel, donc sans danger", &["FR"], Audience::Public));
    assert_eq!(findings(&report, "C-17")[0].span.text, "naturel, donc sans danger");
    assert!(has(&report, "C-08"));
    assert!(has(&report, "C-10"));
}

#[test]
fn c_18_to_c_20_strong_cues_are_raised() {
    let report = run(&draft(
        "DM us your symptoms and we'll tell you if Brandix is right for you",
        &["GB"],
        Audience::Public,
    ));
    assert!(has(&report, "C-18"));
    let report =
        run(&draft("Even healthy people feel better on Brandix", &["GB"], Audience::Public));
    assert!(has(&report, "C-19"));
    let report = run(&draft("This will happen to you.", &["GB"], Audience::Public));
    assert!(has(&report, "C-20"));
}

#[test]
fn c_18_to_c_20_are_needs_review_for_public_product_posts() {
    let report = run(&draft("Brandix (exemplimab).", &["US"], Audience::Public));
    for rule in ["C-07", "C-15", "C-16", "C-18", "C-19", "C-20", "C-24"] {
        assert!(reviews(&report, rule), "{rule}");
    }
}

#[test]
fn c_21_authorisation_as_argument_warns() {
    let report = run(&draft("Autorisé par l'ANSM, donc efficace", &["FR"], Audience::Hcp));
    assert_eq!(findings(&report, "C-21")[0].span.text, "Autorisé par l'ANSM");
    let curly = run(&draft("Autorisé par l’ANSM", &["FR"], Audience::Hcp));
    assert!(has(&curly, "C-21"));
}

#[test]
fn c_22_ask_for_a_named_pom_blocks() {
    let report = run(&draft("Ask your doctor for Brandix", &["GB"], Audience::Hcp));
    let c22 = findings(&report, "C-22");
    assert_eq!(c22[0].severity, Severity::Block);
    assert_eq!(c22[0].span.text, "Ask your doctor for Brandix");
    let fixed = run(&draft("Ask your doctor about treatment options", &["GB"], Audience::Public));
    assert!(!has(&fixed, "C-22"));
    let french = run(&draft("Demandez Brandix à votre médecin !", &["FR"], Audience::Hcp));
    assert_eq!(findings(&french, "C-22")[0].span.text, "Demandez Brandix à votre médecin");
    let unknown = run(&draft("Ask your doctor about Zorvix", &["GB"], Audience::Public));
    assert_eq!(findings(&unknown, "C-22")[0].severity, Severity::Warn);
}

#[test]
fn c_23_links_tags_and_hashtags_are_listed_for_review() {
    let report = run(&draft(
        "Read more: https://bit.ly/3xYz (via @AcmeHealth) #psoriasis #1 mail me@example.com.",
        &["GB"],
        Audience::Public,
    ));
    assert_eq!(report.links, ["https://bit.ly/3xYz", "@AcmeHealth", "#psoriasis"]);
    assert!(reviews(&report, "C-23"));
}

#[test]
fn c_26_ae_statement_missing_on_uk_promotion_warns() {
    let report = run(&draft("Brandix (exemplimab): see the SmPC.", &["GB"], Audience::Hcp));
    assert_eq!(findings(&report, "C-26")[0].severity, Severity::Warn);
    let report = run(&draft(
        "Brandix (exemplimab): see the SmPC. Adverse events should be reported: yellowcard.mhra.gov.uk",
        &["GB"],
        Audience::Hcp,
    ));
    assert!(!has(&report, "C-26"));
}

#[test]
fn c_27_sponsored_without_disclosure_blocks() {
    let mut sponsored = draft("Loving my new skincare routine", &["GB"], Audience::Public);
    sponsored.sponsored = true;
    let report = run(&sponsored);
    assert_eq!(findings(&report, "C-27")[0].severity, Severity::Block);
    sponsored.text = "Paid partnership with Acme Health: loving my new skincare routine".into();
    assert!(!has(&run(&sponsored), "C-27"));
}

#[test]
fn cmp_0d_disclosure_at_the_end_blocks() {
    let report = run(&draft("Loving my new routine #ad", &["GB"], Audience::Public));
    let late = findings(&report, "CMP-0d");
    assert_eq!(late[0].span.text, "#ad");
    assert_eq!(report.status, Status::Block);
    for text in ["#ad Loving my new routine", "Hi all! Sponsored by Acme Health: my routine"] {
        let report = run(&draft(text, &["GB"], Audience::Public));
        assert!(!has(&report, "CMP-0d"), "{text}");
    }
}

#[test]
fn cmp_0e_influencer_scripts_are_checked_like_any_draft() {
    let mut script = draft("Brandix is safe for everyone, link in bio", &["GB"], Audience::Public);
    script.influencer = true;
    let report = run(&script);
    for rule in ["C-01", "C-08", "C-27"] {
        assert!(has(&report, rule), "{rule}");
    }
    assert!(reviews(&report, "CMP-0e"));
}

#[test]
fn cmp_0a_missing_metadata_cannot_assess() {
    let bare = Draft { text: "Talk to your doctor about your options.".into(), ..Draft::default() };
    let report = check(&bare, &CheckContext::default());
    assert_eq!(report.status, Status::CannotAssess);
    let missing: Vec<&str> = report.cannot_assess.iter().map(|c| c.missing.as_str()).collect();
    assert!(missing.iter().any(|m| m.starts_with("target countries")), "{missing:?}");
    assert!(missing.iter().any(|m| m.starts_with("audience")), "{missing:?}");
    // A product named in the text without status for a target country.
    let report = run(&draft("Doloxa (paracétamol)", &["FR", "GB"], Audience::Hcp));
    assert_eq!(report.status, Status::CannotAssess);
    assert!(report.cannot_assess.iter().any(|c| c.required && c.missing.contains("Doloxa in GB")));
    // A BLOCK found from the text alone still blocks.
    let bare = Draft { text: "No side effects!".into(), ..Draft::default() };
    assert_eq!(check(&bare, &CheckContext::default()).status, Status::Block);
    // A bad country code is missing metadata, not a panic.
    let report = run(&draft("Hello", &["France"], Audience::Public));
    assert_eq!(report.status, Status::CannotAssess);
}

#[test]
fn cmp_0a_products_from_flags_without_a_workspace() {
    let mut flagged = draft("Try Zorvix today", &["GB"], Audience::Public);
    flagged.products = vec![DraftProduct::parse_flag("Zorvix=pom", &["UK".into()]).unwrap()];
    let report = check(&flagged, &CheckContext::default());
    assert!(has(&report, "C-01"));
    assert!(DraftProduct::parse_flag("Zorvix", &[]).is_err());
    assert!(DraftProduct::parse_flag("Zorvix=maybe", &[]).is_err());
    assert!(DraftProduct::parse_flag("=pom", &[]).is_err());
}

#[test]
fn cmp_0b_every_finding_cites_rule_jurisdiction_span_fix() {
    let texts = [
        "Ask your doctor about #Brandix for psoriasis!",
        "Brandix is safe for everyone",
        "Side-effect-free relief, the most effective, 100 % naturel, donc sans danger",
        "Unlike useless Otheron, Brandix cuts flares by 60% in 2 weeks. New!",
        "Autorisé par l'ANSM. Grâce à Brandix, Julie est guérie ! #ad",
        "",
    ];
    for text in texts {
        for (countries, audience) in
            [(&["FR"][..], Audience::Public), (&["GB", "US"][..], Audience::Hcp)]
        {
            let mut draft = draft(text, countries, audience);
            draft.sponsored = true;
            draft.account = Some("someone_else".into());
            let report = run(&draft);
            assert!(!report.findings.is_empty());
            for finding in &report.findings {
                assert!(finding.rule.starts_with("C-") || finding.rule.starts_with("CMP-"));
                assert!(!finding.jurisdiction.is_empty(), "{finding:?}");
                assert!(!finding.fix.is_empty() && !finding.message.is_empty(), "{finding:?}");
                assert!(!finding.span.text.is_empty() || text.is_empty(), "{finding:?}");
            }
        }
    }
}

#[test]
fn cmp_0c_pv_monitoring_on_the_target_account() {
    let text = "Psoriasis affects daily life. Talk to your doctor about your options.";
    let owned = draft(text, &["GB"], Audience::Public);
    assert_eq!(run(&owned).status, Status::Pass);
    let mut elsewhere = owned.clone();
    elsewhere.account = Some("someone_else".into());
    let report = run(&elsewhere);
    assert_eq!(findings(&report, "CMP-0c")[0].severity, Severity::Block);
    let mut off = context();
    if let Some(pv) = off.pharmacovigilance.as_mut() {
        pv.enabled = false;
    }
    assert!(has(&check(&owned, &off), "CMP-0c"));
    // No workspace, or no account: cannot be verified, so never PASS.
    let report = check(&owned, &CheckContext::default());
    assert_eq!(report.status, Status::Warn);
    assert!(report.cannot_assess.iter().any(|c| c.rule == "CMP-0c" && !c.required));
    let mut no_account = owned.clone();
    no_account.account = None;
    assert_eq!(run(&no_account).status, Status::Warn);
}

#[test]
fn config_products_named_in_the_text_get_their_status_from_the_config() {
    let report = run(&draft("Le exemplimab, c'est pour bientôt", &["FR"], Audience::Public));
    assert_eq!(report.products, ["Brandix"]);
    assert!(has(&report, "C-01"));
    assert!(has(&report, "C-02"));
}

#[test]
fn context_from_config_reads_owned_accounts_channels_and_pv() {
    let config = waterline_model::Config::parse(
        r#"
brand = "Acme Health"
[accounts]
x = ["@AcmeHealth"]
[pharmacovigilance]
enabled = false
[[pharmacovigilance.channels]]
name = "Patient forum"
kind = "forum"
platform = "forum"
handle = "acme-forum"
[[products]]
name = "Brandix"
inns = ["exemplimab"]
status = { UK = { class = "pom" } }
"#,
    )
    .unwrap();
    let context = CheckContext::from_config(&config, days_from_date(TODAY));
    let pv = context.pharmacovigilance.as_ref().unwrap();
    assert!(!pv.enabled);
    assert!(pv.owned_accounts.contains("acmehealth") && pv.owned_accounts.contains("acme-forum"));
    let mut forum = draft("Exemplimab: ask us anything", &["GB"], Audience::Hcp);
    forum.account = Some("acme-forum".into());
    let report = check(&forum, &context);
    assert_eq!(report.products, ["Brandix"], "UK in the config is GB in the draft");
    assert!(report.cannot_assess.iter().all(|item| item.rule != "CMP-0a"), "{report:#?}");
    assert!(findings(&report, "CMP-0c")[0].message.contains("screening is off"));
}

#[test]
fn sentences_tolerate_any_position() {
    let folded = Folded::new("Écoutez. Brandix 2.5 mg! Fin");
    for position in 0..=folded.text.len() + 3 {
        let (start, end) = folded.sentence(position);
        assert!(start <= end && end <= folded.text.len());
    }
    assert_eq!(folded.slice(folded.sentence(12)), " brandix 2.5 mg");
}

#[test]
fn dates_count_days() {
    assert_eq!(days_from_date("1970-01-01"), Some(0));
    assert_eq!(days_from_date("2000-03-01"), Some(11_017));
    assert_eq!(days_from_date("2026-13-01"), None);
    assert_eq!(days_from_date("soon"), None);
}

#[test]
fn bad_input_never_panics() {
    let huge = "safe ".repeat(50_000);
    let odd = "\u{0}\u{fffd}İİİ #\u{10ffff} @ # 100%".to_owned();
    for text in ["", " ", "#", "@", "%", "100", "İstanbul is safe", &huge, &odd, "sûr", "a\r\nb"]
    {
        let report = run(&draft(text, &["FR", "GB", "US", "JP", "zz"], Audience::Public));
        assert!(report.findings.len() < 200);
    }
}

proptest::proptest! {
    #[test]
    fn any_text_gives_a_report_with_faithful_spans(text in "\\PC{0,200}") {
        let report = run(&draft(&text, &["FR", "US"], Audience::Public));
        proptest::prop_assert!(report.findings.iter().all(|f| f.span.end <= text.len()));
    }
}

#[test]
fn c_16_content_for_children_is_raised_and_otherwise_needs_review() {
    let report = run(&draft("Meet our new mascot, made for kids!", &["GB"], Audience::Public));
    let c16 = findings(&report, "C-16");
    assert_eq!(c16[0].span.text, "mascot");
    assert_eq!(c16[0].severity, Severity::Warn);
    let plain = run(&draft("Brandix (exemplimab).", &["GB"], Audience::Public));
    assert!(reviews(&plain, "C-16"));
}

#[test]
fn c_19_normal_health_claims_block() {
    let report =
        run(&draft("Even healthy people feel better on Brandix", &["FR"], Audience::Public));
    assert_eq!(findings(&report, "C-19")[0].severity, Severity::Block);
    let french = run(&draft("Même en bonne santé, Brandix vous aide", &["FR"], Audience::Public));
    assert!(has(&french, "C-19"));
}

#[test]
fn c_24_product_posts_to_the_public_need_interactivity_review() {
    let public = run(&draft("Brandix (exemplimab).", &["GB"], Audience::Public));
    assert!(reviews(&public, "C-24"));
    let hcp = run(&draft("Brandix (exemplimab).", &["GB"], Audience::Hcp));
    assert!(!reviews(&hcp, "C-24"));
}

#[test]
fn c_25_corrections_of_misinformation_warn_with_their_span() {
    let report = run(&draft(
        "The claim that Brandix cures psoriasis is not true; it is approved for plaque psoriasis.",
        &["US"],
        Audience::Public,
    ));
    let c25 = findings(&report, "C-25");
    assert_eq!(c25[0].severity, Severity::Warn);
    assert_eq!(c25[0].span.text, "not true");
    assert!(c25[0].jurisdiction.contains("US"), "{}", c25[0].jurisdiction);
}
