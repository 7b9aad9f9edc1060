//! Word lists of the draft check, English and French, written for this project from the
//! examples and rule texts of PHARMA.md section (c). Phrases are matched case-insensitively
//! on word boundaries; apostrophes and dashes are normalised before matching.

/// C-08: "safe" and its French equivalents.
pub(crate) const SAFE: &[&str] = &["safe", "sûr", "sûre", "sûrs", "sûres", "sans danger"];

/// C-08: words before "safe" that make it something else (`not safe`, `bien sûr`).
pub(crate) const SAFE_NOT_A_CLAIM_BEFORE: &[&str] =
    &["not", "never", "stay", "keep", "bien", "pas", "unsafe", "fail"];

/// C-08: words after "sûr" that make it "certain" (`sûr que`, `sûr de`).
pub(crate) const SAFE_NOT_A_CLAIM_AFTER: &[&str] = &["que", "de", "d'", "qu'"];

/// C-08: qualifications that make "safe" acceptable when they sit in the same sentence.
pub(crate) const SAFE_QUALIFIERS: &[&str] = &[
    "safety profile",
    "well-characterised",
    "well-characterized",
    "when used as directed",
    "used as directed",
    "as prescribed",
    "in clinical trials",
    "in clinical studies",
    "see pi",
    "see the pi",
    "prescribing information",
    "see leaflet",
    "see the leaflet",
    "side effects include",
    "profil de sécurité",
    "profil de tolérance",
    "selon les conditions",
    "dans les conditions",
    "lire la notice",
    "voir la notice",
    "voir le rcp",
];

/// C-09: claims of no adverse effect, toxicity, addiction or risk.
pub(crate) const NO_SIDE_EFFECTS: &[&str] = &[
    "no side effects",
    "no side effect",
    "no side-effects",
    "zero side effects",
    "without side effects",
    "without any side effects",
    "free of side effects",
    "free from side effects",
    "side-effect-free",
    "side-effect free",
    "side effect free",
    "side effect-free",
    "no adverse effects",
    "no adverse reactions",
    "no adverse events",
    "non-addictive",
    "nonaddictive",
    "not addictive",
    "no addiction",
    "no dependence",
    "non-toxic",
    "nontoxic",
    "no toxicity",
    "sans effets indésirables",
    "sans effet indésirable",
    "sans effets secondaires",
    "sans effet secondaire",
    "aucun effet secondaire",
    "aucun effet indésirable",
    "aucuns effets secondaires",
    "pas d'effets secondaires",
    "pas d'effet secondaire",
    "pas d'effets indésirables",
    "aucun risque",
    "non toxique",
    "sans toxicité",
    "sans accoutumance",
    "sans dépendance",
    "aucune dépendance",
    "aucune accoutumance",
];

/// C-10: absolute and superlative claims.
pub(crate) const SUPERLATIVES: &[&str] = &[
    "best",
    "most effective",
    "fastest",
    "#1",
    "no. 1",
    "no.1",
    "number one",
    "the only",
    "guaranteed",
    "guarantee",
    "100%",
    "100 %",
    "cure",
    "cures",
    "cured",
    "miracle",
    "breakthrough",
    "revolutionary",
    "risk-free",
    "risk free",
    "always works",
    "never fails",
    "le meilleur",
    "la meilleure",
    "les meilleurs",
    "les meilleures",
    "le plus efficace",
    "la plus efficace",
    "n°1",
    "n° 1",
    "numéro 1",
    "numéro un",
    "le seul",
    "la seule",
    "garanti",
    "garantie",
    "garantis",
    "guérit",
    "guérir",
    "guérison",
    "miraculeux",
    "révolutionnaire",
    "sans risque",
    "marche à tous les coups",
];

/// C-10: common phrases that contain a superlative and claim nothing.
pub(crate) const SUPERLATIVE_EXCEPTIONS: &[&str] = &[
    "best wishes",
    "best regards",
    "all the best",
    "best practice",
    "best practices",
    "do your best",
    "doing our best",
    "best of luck",
    "meilleurs vœux",
    "meilleurs voeux",
    "meilleures salutations",
    "bonne pratique",
];

/// C-17: "natural" words.
pub(crate) const NATURAL: &[&str] = &[
    "natural",
    "all-natural",
    "plant-based",
    "herbal",
    "naturel",
    "naturelle",
    "naturels",
    "naturelles",
    "à base de plantes",
];

/// C-17: safety or efficacy claimed in the same sentence as "natural".
pub(crate) const NATURAL_CLAIMS: &[&str] = &[
    "safe",
    "harmless",
    "gentle",
    "no side effects",
    "side-effect free",
    "so it works",
    "sans danger",
    "sûr",
    "sûre",
    "sans risque",
    "inoffensif",
    "inoffensive",
    "sans effets",
    "donc efficace",
    "aucun risque",
];

/// C-21: the marketing authorisation used as an argument.
pub(crate) const AUTHORISATION: &[&str] = &[
    "autorisé par l'ansm",
    "autorisée par l'ansm",
    "approuvé par l'ansm",
    "approuvée par l'ansm",
    "validé par l'ansm",
    "validée par l'ansm",
    "agréé par l'ansm",
    "autorisé par les autorités",
    "autorisée par les autorités",
    "approuvé par les autorités",
    "approuvé par la has",
    "approved by the ansm",
    "approved by ansm",
    "approved by the authorities",
    "authorised by the authorities",
    "authorized by the authorities",
];

/// C-22: calls to ask a prescriber for something; the next word says what.
pub(crate) const ASK_DOCTOR: &[&str] = &[
    "ask your doctor for",
    "ask your doctor about",
    "ask your gp for",
    "ask your gp about",
    "ask your physician for",
    "ask your physician about",
    "ask your dermatologist for",
    "ask your dermatologist about",
    "talk to your doctor about",
    "speak to your doctor about",
    "demandez à votre médecin",
    "demandez à votre médecin de vous prescrire",
    "parlez à votre médecin de",
];

/// C-22, French word order: the verb before the product…
pub(crate) const ASK_DOCTOR_FR_BEFORE: &[&str] =
    &["demandez", "réclamez", "parlez de", "parlez du"];

/// …and the prescriber after it.
pub(crate) const ASK_DOCTOR_FR_AFTER: &[&str] =
    &["à votre médecin", "à votre dermatologue", "à votre généraliste", "à votre docteur"];

/// C-22: words after "ask your doctor about" that are not a product.
pub(crate) const ASK_DOCTOR_GENERIC: &[&str] = &[
    "your",
    "the",
    "a",
    "an",
    "treatment",
    "treatments",
    "options",
    "it",
    "this",
    "votre",
    "vos",
    "les",
    "un",
    "une",
    "des",
    "le",
    "la",
    "options",
    "traitement",
    "traitements",
];

/// C-13: relative-risk wording.
pub(crate) const RELATIVE_RISK: &[&str] = &[
    "relative risk",
    "risk reduction",
    "reduces the risk",
    "reduces risk",
    "reduced the risk",
    "cuts the risk",
    "cuts risk",
    "lowers the risk",
    "lowers risk",
    "halves the risk",
    "halves risk",
    "halved the risk",
    "risk by",
    "cuts flares by",
    "reduces flares by",
    "fewer flares",
    "réduit le risque",
    "diminue le risque",
    "divise par deux le risque",
    "divise le risque",
    "risque relatif",
    "réduction du risque",
    "réduit de moitié",
];

/// C-13: signs that the absolute risk is given too.
pub(crate) const ABSOLUTE_RISK: &[&str] =
    &["absolute", "absolu", "absolue", " vs ", "versus", "compared with", "contre", "vs."];

/// C-14: "new".
pub(crate) const NEW: &[&str] =
    &["new", "nouveau", "nouvel", "nouvelle", "nouveaux", "nouvelles", "brand-new"];

/// C-26: AE-reporting statements (US MedWatch; UK Yellow Card).
pub(crate) const AE_STATEMENT_US: &[&str] =
    &["medwatch", "1-800-fda-1088", "800-fda-1088", "fda.gov/medwatch"];
pub(crate) const AE_STATEMENT_UK: &[&str] = &[
    "yellow card",
    "yellowcard",
    "adverse events should be reported",
    "report side effects",
    "reporting side effects",
];

/// C-27 / CMP-0d: disclosure of company involvement.
pub(crate) const DISCLOSURE: &[&str] = &[
    "#ad",
    "ad:",
    "[ad]",
    "(ad)",
    "#sponsored",
    "sponsored",
    "sponsored by",
    "paid partnership",
    "paid promotion",
    "in partnership with",
    "advertisement",
    "#partner",
    "#pub",
    "publicité",
    "sponsorisé",
    "sponsorisée",
    "#sponsorisé",
    "partenariat",
    "#partenariat",
    "partenariat rémunéré",
    "collaboration commerciale",
    "en partenariat avec",
    "#collab",
];

/// Where a disclosure counts as "at the start" (bytes from the first non-space character).
pub(crate) const DISCLOSURE_START_BYTES: usize = 50;

/// The most words before a disclosure that still counts as "at the start".
pub(crate) const DISCLOSURE_START_WORDS: usize = 2;

/// C-05, C-06: benefit and efficacy claims.
pub(crate) const BENEFIT: &[&str] = &[
    "relief",
    "life back",
    "feel better",
    "feels better",
    "no more",
    "clear",
    "clears",
    "cleared",
    "get back to",
    "relieve",
    "relieves",
    "clear skin",
    "clearer skin",
    "works",
    "work fast",
    "helps",
    "treats",
    "effective",
    "efficacy",
    "improves",
    "improved",
    "improvement",
    "reduces",
    "reduced",
    "cuts",
    "fewer",
    "heals",
    "results",
    "response rate",
    "remission",
    "prevents",
    "soulage",
    "soulager",
    "soulagement",
    "efficace",
    "efficacité",
    "agit",
    "traite",
    "réduit",
    "améliore",
    "amélioration",
    "guérit",
    "prévient",
    "résultats",
];

/// C-05, C-06: risk and safety information.
pub(crate) const RISK_INFO: &[&str] = &[
    "may cause",
    "can cause",
    "side effects",
    "side effect",
    "adverse",
    "serious infections",
    "risk of",
    "risks",
    "warning",
    "warnings",
    "contraindicated",
    "contraindications",
    "safety information",
    "boxed warning",
    "peut provoquer",
    "peut entraîner",
    "effets indésirables",
    "effets secondaires",
    "mises en garde",
    "précautions",
    "contre-indications",
    "contre-indiqué",
    "informations de sécurité",
];

/// C-06: a prescribing-information link or mention.
pub(crate) const PRESCRIBING_INFO: &[&str] = &[
    "prescribing information",
    "smpc",
    "spc",
    "summary of product characteristics",
    "full pi",
    "pi:",
    "rcp",
    "mentions légales",
    "mentions obligatoires",
    "résumé des caractéristiques",
];

/// C-12: clinical claims (besides numbers with units).
pub(crate) const CLINICAL_CLAIM: &[&str] = &[
    "clinically proven",
    "clinically shown",
    "proven to",
    "studies show",
    "in clinical trials",
    "in a study",
    "cliniquement prouvé",
    "cliniquement démontré",
    "études montrent",
    "prouvé",
];

/// C-12: units that make a number a quantitative claim.
pub(crate) const QUANTITY_UNITS: &[&str] = &[
    "%", "percent", "week", "weeks", "day", "days", "month", "months", "hour", "hours", "times",
    "fold", "x", "patients", "semaine", "semaines", "jour", "jours", "mois", "heures", "fois",
];

/// C-04: the French mandatory mentions of public OTC advertising (CSP R.5122-3).
pub(crate) const FR_LEAFLET: &[&str] =
    &["lire attentivement la notice", "lisez attentivement la notice", "lire la notice"];
pub(crate) const FR_PHARMACIST: &[&str] = &[
    "demandez conseil à votre pharmacien",
    "demandez l'avis de votre pharmacien",
    "conseil de votre pharmacien",
];
pub(crate) const FR_PERSIST: &[&str] = &[
    "si les symptômes persistent, consultez un médecin",
    "si les symptômes persistent consultez un médecin",
    "si les symptômes persistent",
];
pub(crate) const FR_MEDICINE: &[&str] = &["médicament", "ceci est un médicament"];

/// C-11: comparison with another product.
pub(crate) const COMPARATIVE: &[&str] = &[
    "unlike",
    "better than",
    "superior to",
    "more effective than",
    "works better than",
    "compared to",
    "as good as",
    "as effective as",
    "switch from",
    "contrairement à",
    "meilleur que",
    "mieux que",
    "supérieur à",
    "plus efficace que",
    "aussi efficace que",
    "équivalent à",
];

/// C-11: disparagement.
pub(crate) const DISPARAGING: &[&str] = &[
    "useless",
    "worthless",
    "outdated",
    "old-fashioned",
    "ineffective",
    "inutile",
    "inefficace",
    "dépassé",
    "nul",
];

/// C-15: testimonials, cure attestations, endorsements, strong enough alone.
pub(crate) const TESTIMONIAL: &[&str] = &[
    "i was cured",
    "is cured",
    "cured me",
    "changed my life",
    "doctors recommend",
    "recommended by doctors",
    "dermatologists recommend",
    "est guérie",
    "est guéri",
    "j'ai guéri",
    "m'a guéri",
    "m'a guérie",
    "les médecins recommandent",
    "recommandé par les médecins",
    "témoignage",
    "attestation de guérison",
];

/// C-15: testimonial cues that count only in a sentence naming the product.
pub(crate) const TESTIMONIAL_WEAK: &[&str] =
    &["thanks to", "my story", "recommended by", "grâce à", "recommandé par"];

/// C-16: content aimed at children.
pub(crate) const CHILDREN: &[&str] =
    &["kids", "for children", "boys and girls", "mascot", "enfants", "pour les petits", "mascotte"];

/// C-18: self-diagnosis, consultation unnecessary, diagnosis by message.
pub(crate) const SELF_DIAGNOSIS: &[&str] = &[
    "dm us your symptoms",
    "send us your symptoms",
    "tell you if",
    "no need to see a doctor",
    "no need for a doctor",
    "skip the doctor",
    "without seeing a doctor",
    "diagnose yourself",
    "self-diagnose",
    "envoyez-nous vos symptômes",
    "pas besoin de consulter",
    "pas besoin de médecin",
    "sans consulter",
    "diagnostiquez-vous",
];

/// C-19: normal health improved by use or harmed by non-use.
pub(crate) const NORMAL_HEALTH: &[&str] = &[
    "even healthy people",
    "healthy people feel better",
    "even if you feel fine",
    "même en bonne santé",
    "même si vous allez bien",
    "les personnes en bonne santé",
];

/// C-20: frightening imagery or exaggerated mechanism.
pub(crate) const FRIGHTENING: &[&str] = &[
    "this will happen to you",
    "could happen to you",
    "don't let this happen",
    "cela vous arrivera",
    "ça pourrait vous arriver",
];

/// C-25: correction of third-party misinformation.
pub(crate) const CORRECTION: &[&str] = &[
    "misinformation",
    "myth",
    "not true",
    "isn't accurate",
    "is not accurate",
    "fake news",
    "actually",
    "désinformation",
    "c'est faux",
    "idée reçue",
];
