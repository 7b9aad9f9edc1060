//! Vocabulary and text templates of the synthetic scenario, in English (index 0) and
//! French (index 1).
//!
//! Placeholders, replaced by `render`: `{P}` product name, `{I}` its INN, `{C}` a
//! competing product, `{K}` the company that makes `{P}`, `{B}` the brand, `{D}` the
//! condition, `{V}` the measure the product acts on, `{S}` a symptom, `{R}` a relative,
//! `{H}` a health professional, `{Y}` a pharmacy, `{E}` a congress, `{T}` a trial name,
//! `{M}` an amount of money, `{N}` a small number.
//!
//! No template outside `{P}`, `{I}`, `{C}`, `{K}` and `{B}` names the brand or a
//! competitor, so the planted share of voice is exact.

/// Texts per language: `[english, french]`.
pub(super) type Texts = [&'static [&'static str]; 2];

/// The topics, in index order. These names are also the seed topics of the configuration.
pub(super) const TOPICS: [&str; 12] = [
    "side effects",
    "price & reimbursement",
    "access & shortage",
    "dosing questions",
    "clinical trials",
    "patient support",
    "diet & lifestyle",
    "congress & corporate",
    "caregiver burden",
    "competitor comparison",
    "disease awareness",
    "guidelines",
];

/// Topic indices used by the generator.
pub(super) const SIDE_EFFECTS: usize = 0;
pub(super) const ACCESS: usize = 2;
pub(super) const CAREGIVER: usize = 8;
pub(super) const COMPARISON: usize = 9;

/// Audience texts of one topic, by sentiment.
pub(super) struct AudienceTopic {
    pub(super) neg: Texts,
    pub(super) neu: Texts,
    pub(super) pos: Texts,
}

/// What the audience says, per topic (same order as [`TOPICS`]).
pub(super) const AUDIENCE: [AudienceTopic; 12] = [
    // side effects (general talk, never a first-hand adverse event)
    AudienceTopic {
        neg: [
            &[
                "Why does nobody talk about the side effects of {D} meds? The leaflet for {P} is longer than my arm",
                "Read the {I} leaflet last night. The list of possible side effects is terrifying",
                "Side effects are the reason so many people quit their {D} treatment. Doctors need to listen",
                "Every forum thread about {P} turns into a side effects horror show. Hard to know what to believe",
                "The way side effects get brushed off in {D} care is honestly infuriating",
            ],
            &[
                "Pourquoi personne ne parle des effets secondaires des traitements contre {D} ? La notice de {P} fait peur",
                "J'ai lu la notice de {I} hier soir. La liste des effets indésirables est effrayante",
                "Les effets secondaires, c'est la première raison d'arrêt des traitements. Il faut écouter les patients",
                "Chaque discussion sur {P} tourne au catalogue d'effets secondaires, difficile de savoir quoi croire",
            ],
        ],
        neu: [
            &[
                "Does anyone know whether the side effects of {P} usually settle after the first few weeks?",
                "Is it normal to be warned about so many side effects with {I}? Starting next week",
                "Useful summary of common side effects of {D} treatments and when to call your doctor",
                "Question for pharmacists: is {I} better tolerated than the older treatments for {D}?",
                "How do you tell a side effect from just a bad week? Genuine question",
            ],
            &[
                "Quelqu'un sait si les effets secondaires de {P} passent après quelques semaines ?",
                "Est-ce que {I} est mieux toléré que les anciens traitements contre {D} ?",
                "Bon récap sur les effets indésirables fréquents des traitements contre {D} et quand consulter",
                "Question aux pharmaciens : les effets secondaires de {P}, c'est fréquent ou pas ?",
            ],
        ],
        pos: [
            &[
                "Good reminder from {H}: most side effects of {D} meds are mild and temporary",
                "{N} months on {P} and honestly no side effects worth mentioning. Everyone is different though",
                "Really clear video on side effects and how to report them, worth sharing",
            ],
            &[
                "{H} m'a rassuré : la plupart des effets secondaires sont légers et passagers",
                "Ça fait {N} mois sous {P} et franchement rien à signaler côté effets secondaires",
                "Super vidéo sur les effets indésirables et comment les déclarer, à partager",
            ],
        ],
    },
    // price & reimbursement
    AudienceTopic {
        neg: [
            &[
                "Paid {M} for a month of {P} after the formulary change. How is anyone supposed to afford this?",
                "Insurance just refused to cover {P} again. Third appeal this year",
                "The price of {I} is a scandal. Same molecule costs a fraction abroad",
                "Can't keep paying {M} a month for {P}. Going back to the old pills",
                "Reimbursement for {P} cut with zero warning. Patients with {D} are not a cash machine",
            ],
            &[
                "{M} de reste à charge pour {P}, c'est pas possible. Et on nous parle d'accès aux soins",
                "Le déremboursement de {P} va faire très mal à beaucoup de patients",
                "Pourquoi {I} coûte si cher en France alors que c'est moins cher ailleurs ?",
                "La mutuelle ne prend plus en charge {P}. Je fais comment moi ?",
                "Encore {M} ce mois-ci pour {P}. Se soigner devient un luxe",
            ],
        ],
        neu: [
            &[
                "Is {P} covered by the NHS or is it private prescription only?",
                "Does anyone know if there's a cheaper generic of {I} yet?",
                "Comparing out-of-pocket costs for {D} meds this year, thread below",
                "Is there a copay card for {P} or is that only in the US?",
            ],
            &[
                "Quelqu'un sait si {P} est remboursé à 65 % ou à 100 % en ALD ?",
                "Il existe un générique de {I} ou pas encore ?",
                "Comparatif du reste à charge des traitements contre {D} cette année, thread",
                "La mutuelle rembourse {P} chez vous ? Chez moi c'est flou",
            ],
        ],
        pos: [
            &[
                "Finally got {P} approved by my insurer, only {M} copay now",
                "Good news: {P} is now reimbursed, saves me {M} a month",
                "Pharmacist found me a cheaper option for {I}. Legend",
            ],
            &[
                "Bonne nouvelle, {P} est enfin remboursé. {M} d'économie par mois",
                "Pris en charge à 100 % en ALD, {P} ne me coûte plus rien",
                "Ma pharmacienne m'a trouvé une solution moins chère pour {I}, merci à elle",
            ],
        ],
    },
    // access & shortage
    AudienceTopic {
        neg: [
            &[
                "Third pharmacy today and still no {P}. What is going on with supply?",
                "Pharmacist says {P} is out of stock until further notice. Great, just great",
                "Shortage of {I} again. I have {N} days of tablets left",
                "Why is it so hard to get {P} in this country? Every month the same fight",
                "Tried {Y} and two others, no {P} anywhere. This can't keep happening",
            ],
            &[
                "Troisième pharmacie aujourd'hui et toujours pas de {P}. C'est quoi le problème ?",
                "Rupture de {P} à {Y}, aucune date de retour. On fait comment ?",
                "Encore une pénurie de {I}. Il me reste {N} jours de traitement",
                "Marre de faire le tour des pharmacies pour trouver {P}",
                "{P} introuvable depuis deux semaines. C'est inadmissible",
            ],
        ],
        neu: [
            &[
                "Is anyone else having trouble finding {P} at the moment?",
                "Any update on {I} supply? Nobody at {Y} can tell me when it's back",
                "Tip: call {Y} before going, stock of {P} seems patchy this month",
                "Does {Y} have {P} in stock near you? Asking for {R}",
            ],
            &[
                "Quelqu'un arrive à trouver {P} en ce moment ?",
                "Des nouvelles de l'approvisionnement en {I} ? Personne ne sait rien à {Y}",
                "Astuce : appelez avant de vous déplacer, le stock de {P} est irrégulier ce mois-ci",
                "Vous trouvez {P} dans votre pharmacie ? C'est pour {R}",
            ],
        ],
        pos: [
            &[
                "Finally found {P} at {Y} after a week of searching. Relief",
                "{Y} had {P} in stock today, looks like supply is back",
            ],
            &[
                "Enfin trouvé {P} à {Y} après une semaine de recherche. Ouf",
                "{P} est de retour en pharmacie, bonne nouvelle",
            ],
        ],
    },
    // dosing questions
    AudienceTopic {
        neg: [
            &[
                "Nobody explained how to titrate {P}. Had to figure it out from a forum",
                "The dosing instructions for {I} are confusing, three different answers from three professionals",
            ],
            &[
                "Personne ne m'a expliqué comment augmenter les doses de {P}. Merci les forums",
                "Trois professionnels, trois réponses différentes sur la posologie de {I}. Génial",
            ],
        ],
        neu: [
            &[
                "Should {P} be taken in the morning or at night? Leaflet isn't clear",
                "Missed my {I} dose yesterday, do I double up today or just carry on?",
                "{H} wants to move me to the higher dose of {P}. Anyone done that?",
                "Can you take {P} with food or does it need an empty stomach?",
                "Is it ok to split {P} tablets? They're huge",
                "How long before {I} starts working on {D}?",
                "Anyone take {P} alongside a statin? Any issue with timing the dose?",
            ],
            &[
                "On prend {P} le matin ou le soir ? La notice n'est pas claire",
                "J'ai oublié ma dose de {I} hier, je double aujourd'hui ou pas ?",
                "{H} veut augmenter la dose de {P}. Quelqu'un a déjà fait ça ?",
                "Peut-on couper les comprimés de {P} en deux ?",
                "{P} pendant ou en dehors des repas ? Je trouve des infos contradictoires",
                "Au bout de combien de temps {I} fait effet ?",
            ],
        ],
        pos: [
            &[
                "Great explainer from {H} on how to take {P}, finally makes sense",
                "Pill organiser plus phone alarm and I haven't missed a dose of {P} in {N} weeks",
            ],
            &[
                "Super explication de {H} sur la prise de {P}, enfin clair",
                "Pilulier plus alarme sur le téléphone : pas un oubli de {P} depuis {N} semaines",
            ],
        ],
    },
    // clinical trials
    AudienceTopic {
        neg: [
            &[
                "Another trial sponsored by the manufacturer. I'll wait for independent data on {P}",
                "Why are older patients always excluded from {D} trials?",
            ],
            &[
                "Encore un essai financé par le labo. J'attends des données indépendantes sur {P}",
                "Pourquoi les patients âgés sont toujours exclus des essais sur {D} ?",
            ],
        ],
        neu: [
            &[
                "New data on {I} presented today, anyone read the full paper?",
                "Recruiting: a trial of {I} in {D}, details in the registry",
                "{T} results are out. What does it actually mean for patients?",
            ],
            &[
                "Nouvelles données sur {I} présentées aujourd'hui, quelqu'un a lu l'article ?",
                "Essai {T} : qu'est-ce que ça change concrètement pour les patients ?",
                "Un essai recrute des patients sous {I}, infos sur le registre",
            ],
        ],
        pos: [
            &[
                "Impressive {T} results for {P}. Hope it translates to real life",
                "Encouraging trial data on {I}, fingers crossed for approval",
            ],
            &[
                "Résultats encourageants de l'essai {T} pour {P}",
                "Les données de l'essai sur {I} donnent de l'espoir",
            ],
        ],
    },
    // patient support
    AudienceTopic {
        neg: [
            &[
                "Called the {P} support line twice, nobody ever calls back",
                "The patient programme for {P} is just marketing, zero real help",
            ],
            &[
                "Numéro d'accompagnement {P} : 20 minutes d'attente pour rien",
                "Le programme patients de {P}, c'est du marketing, aucune aide réelle",
            ],
        ],
        neu: [
            &[
                "Does the {P} patient programme include a free blood pressure monitor?",
                "Anyone tried the support app that comes with {P}?",
                "How do you sign up for the {P} support programme? Asking for {R}",
            ],
            &[
                "Quelqu'un utilise l'appli d'accompagnement de {P} ?",
                "Comment on s'inscrit au programme d'accompagnement de {P} ? C'est pour {R}",
            ],
        ],
        pos: [
            &[
                "Signed up to the {P} support programme, the reminders app actually helps",
                "The nurse from the {P} helpline was genuinely lovely and called back within a day",
            ],
            &[
                "Le programme d'accompagnement {P} est vraiment utile, l'infirmière rappelle chaque mois",
                "L'appli de suivi de {P} m'aide vraiment à ne rien oublier",
            ],
        ],
    },
    // diet & lifestyle
    AudienceTopic {
        neg: [
            &[
                "Every bit of diet advice for {D} contradicts the last one. Exhausting",
                "Told to just eat less salt and walk more like that fixes everything",
            ],
            &[
                "Chaque conseil diététique contredit le précédent, épuisant",
                "On me dit de manger moins salé et de marcher, comme si ça réglait tout",
            ],
        ],
        neu: [
            &[
                "Best low-salt recipes that actually taste of something? Asking for {R}",
                "Any tips for managing {D} during the holidays?",
                "Does intermittent fasting make sense with {D}? Seen mixed opinions",
            ],
            &[
                "Des idées de recettes sans sel qui ont du goût ? C'est pour {R}",
                "Comment vous gérez {D} pendant les fêtes ?",
                "Le jeûne intermittent avec {D}, bonne ou mauvaise idée ?",
            ],
        ],
        pos: [
            &[
                "Three months of walking every day and my {V} is the best in years",
                "Swapped fizzy drinks for water, down 4 kg. Small steps",
                "Cooked a full week of low-salt meals and nobody at home noticed",
            ],
            &[
                "Trois mois de marche tous les jours et {V} n'a jamais été aussi bonne",
                "Fini les sodas, moins 4 kg. Petit à petit",
                "Une semaine de repas sans sel et personne à la maison n'a remarqué",
            ],
        ],
    },
    // congress & corporate
    AudienceTopic {
        neg: [
            &[
                "Pharma congress parties while patients struggle. Same every year",
                "{B} keeps posting congress photos. Patients would rather hear about supply",
            ],
            &[
                "Les soirées de congrès des labos pendant que les patients galèrent. Comme chaque année",
                "{B} poste des photos de congrès. Les patients aimeraient surtout des nouvelles des stocks",
            ],
        ],
        neu: [
            &[
                "Following {E} from home, lots on {D} this year",
                "{B} announced new data at {E}. Waiting for the details",
            ],
            &[
                "Je suis {E} à distance, beaucoup de choses sur {D} cette année",
                "{B} a présenté de nouvelles données à {E}. On attend les détails",
            ],
        ],
        pos: [
            &[
                "Great session at {E} on {D}, thanks to all the speakers",
                "Nice to see patient voices on stage at {E} this year",
            ],
            &[
                "Très bonne session à {E} sur {D}, merci aux orateurs",
                "Contente de voir des patients sur scène à {E} cette année",
            ],
        ],
    },
    // caregiver burden
    AudienceTopic {
        neg: [
            &[
                "Managing {R}'s pills, appointments and readings on top of a full-time job. I'm exhausted",
                "Nobody ever asks how the carers are doing",
                "Spent my whole day off chasing prescriptions for {R}. Again",
            ],
            &[
                "Gérer les médicaments et les rendez-vous de {R} en plus du boulot, je suis à bout",
                "Personne ne demande jamais comment vont les aidants",
                "Encore une journée de congé passée à courir après les ordonnances de {R}",
            ],
        ],
        neu: [
            &[
                "Tips for keeping track of {R}'s medication? Pill boxes aren't cutting it",
                "Any carers' groups you'd recommend? Looking after {R} since the diagnosis",
            ],
            &[
                "Des astuces pour suivre les traitements de {R} ?",
                "Vous connaissez des groupes d'aidants ? Je m'occupe de {R} depuis le diagnostic",
            ],
        ],
        pos: [
            &[
                "Small win: {R} remembered all their tablets this week without me",
                "Found a brilliant local carers' group. Feeling less alone",
            ],
            &[
                "Petite victoire : {R} a pris tous ses comprimés cette semaine sans rappel",
                "Trouvé un groupe d'aidants près de chez moi. Je me sens moins seule",
            ],
        ],
    },
    // competitor comparison
    AudienceTopic {
        neg: [
            &[
                "Moved from {C} to {P} and honestly I preferred the old one",
                "{P} costs double what {C} does for the same result",
            ],
            &[
                "Je suis passé de {C} à {P} et je regrette",
                "{P} coûte deux fois plus cher que {C} pour le même résultat",
            ],
        ],
        neu: [
            &[
                "Switching from {C} to {P}, anyone done it? Any difference?",
                "{P} vs {C} for {D}: what did your doctor recommend?",
                "Has anyone compared {P} and {C} side by side?",
            ],
            &[
                "Passer de {C} à {P}, quelqu'un a essayé ?",
                "{P} ou {C} contre {D} ? Votre médecin vous a conseillé quoi ?",
            ],
        ],
        pos: [
            &["{P} suits me far better than {C} did", "After {C}, {P} has been a real improvement"],
            &[
                "Je supporte beaucoup mieux {P} que {C}",
                "Après {C}, {P} a vraiment changé les choses",
            ],
        ],
    },
    // disease awareness
    AudienceTopic {
        neg: [
            &[
                "Diagnosed with {D} after years of being told it was stress",
                "Why did it take a stroke scare for anyone to check my blood pressure?",
            ],
            &[
                "Diagnostiqué après des années à m'entendre dire que c'était le stress",
                "Il a fallu un malaise pour qu'on prenne enfin ma tension",
            ],
        ],
        neu: [
            &[
                "1 in 3 adults has high blood pressure and most don't know it. Get checked",
                "Reminder: know the early signs of {D}",
            ],
            &[
                "Un adulte sur trois a de l'hypertension sans le savoir. Faites-vous dépister",
                "Rappel : connaître les premiers signes, ça peut tout changer",
            ],
        ],
        pos: [
            &[
                "Got my blood pressure checked at the pharmacy today, takes 2 minutes. Do it",
                "Proud of {R} for finally getting screened",
            ],
            &[
                "Dépistage de la tension en pharmacie aujourd'hui, 2 minutes. Faites-le",
                "Fière de {R} qui a enfin accepté le dépistage",
            ],
        ],
    },
    // guidelines
    AudienceTopic {
        neg: [
            &[
                "Guidelines keep moving faster than formularies. I can't prescribe {P} locally",
                "New guidance, same lack of resources to apply it",
            ],
            &[
                "Les recos changent plus vite que les formulaires hospitaliers, impossible de prescrire {P}",
                "Nouvelles recommandations, toujours pas les moyens de les appliquer",
            ],
        ],
        neu: [
            &[
                "New guidance puts {I} earlier in the pathway for {D}. Thoughts from colleagues?",
                "Updated recommendations on {D}, summary thread",
            ],
            &[
                "Nouvelles recos sur la prise en charge, résumé en thread",
                "Les recommandations placent {I} plus tôt dans la prise en charge, avis des confrères ?",
            ],
        ],
        pos: [
            &["Helpful update from the society on managing {D}, clear algorithm"],
            &["Mise à jour très claire des recommandations, enfin un algorithme lisible"],
        ],
    },
];

/// What the brand posts, per topic (empty where it never posts about the topic).
pub(super) const OWN: [Texts; 12] = [
    [
        &[
            "Your safety matters. If you think you have a side effect, talk to your doctor or pharmacist and report it",
        ],
        &[
            "Votre sécurité compte. En cas d'effet indésirable, parlez-en à votre médecin ou pharmacien et déclarez-le",
        ],
    ],
    [&[], &[]],
    [
        &[
            "Update on {P} availability: supply is improving and we are working with pharmacies to close the gaps",
        ],
        &[
            "Point sur la disponibilité de {P} : l'approvisionnement s'améliore, nous travaillons avec les pharmacies",
        ],
    ],
    [
        &[
            "Reminder: always take {P} exactly as your doctor prescribed. Questions? Ask your pharmacist",
        ],
        &[
            "Rappel : prenez toujours {P} comme votre médecin l'a prescrit. Une question ? Demandez à votre pharmacien",
        ],
    ],
    [
        &[
            "Topline results from {T}: {I} met its primary endpoint in {D}",
            "Enrolment is now open for {T}, evaluating {I} in adults with {D}",
            "New phase 3 data for {P} published today. Thank you to every patient and investigator involved",
            "{T} completed enrolment ahead of schedule. Thank you to the sites and participants",
        ],
        &[
            "Premiers résultats de l'essai {T} : {I} atteint son critère principal",
            "Les inclusions sont ouvertes dans l'essai {T}, qui évalue {I}",
            "Nouvelles données de phase 3 pour {P} publiées aujourd'hui. Merci aux patients et investigateurs",
        ],
    ],
    [
        &[
            "Living with {D}? Our patient support programme offers nurse calls and a reminders app",
            "Our {P} support programme now includes home delivery in more regions",
        ],
        &[
            "Vous vivez avec {D} ? Notre programme d'accompagnement propose des appels infirmiers et une appli de rappels",
            "Le programme d'accompagnement {P} s'étend à de nouvelles régions",
        ],
    ],
    [
        &[
            "5 simple ways to cut salt this week, from our dietitians",
            "A 20-minute walk a day makes a difference. Small steps, big impact",
        ],
        &[
            "5 astuces simples pour manger moins salé cette semaine, par nos diététiciens",
            "20 minutes de marche par jour, ça compte. Petits pas, grands effets",
        ],
    ],
    [
        &[
            "We're at {E} this week sharing new science in {D}. Come and see us at our booth",
            "Today at {E}: our team presents {N} abstracts on {I}",
            "{B} is proud to support the patient village at {E}",
            "{B} opens a new manufacturing site to strengthen supply in Europe",
            "Meet the team behind {P} at {E}",
            "{B} named one of the top employers in healthcare this year",
        ],
        &[
            "Retrouvez-nous à {E} cette semaine pour nos dernières données sur {D}",
            "Aujourd'hui à {E} : notre équipe présente {N} communications sur {I}",
            "{B} est fier de soutenir l'espace patients de {E}",
            "{B} inaugure un nouveau site de production en Europe",
        ],
    ],
    [&[], &[]],
    [&[], &[]],
    [
        &[
            "1 in 3 adults lives with high blood pressure and many don't know it. Know your numbers",
            "Today is a good day to get your blood sugar checked. Early diagnosis matters",
        ],
        &[
            "Un adulte sur trois vit avec une hypertension, souvent sans le savoir. Faites-vous dépister",
            "Le dépistage précoce du diabète change tout. Parlez-en à votre médecin",
        ],
    ],
    [
        &["Our medical team summarises the new guidelines in {D} (for healthcare professionals)"],
        &[
            "Notre équipe médicale résume les nouvelles recommandations (réservé aux professionnels de santé)",
        ],
    ],
];

/// Questions addressed to the brand, per topic (only some topics have them).
pub(super) const QUESTIONS: [Texts; 12] = [
    [
        &[
            "where can I find the full list of side effects of {P}?",
            "is fatigue a known side effect of {I}? Asking before I start",
        ],
        &[
            "où trouver la liste complète des effets secondaires de {P} ?",
            "la fatigue fait partie des effets indésirables connus de {I} ?",
        ],
    ],
    [
        &["why is {P} not reimbursed anymore?", "is there any help with the cost of {P}?"],
        &["pourquoi {P} n'est plus remboursé ?", "une aide est prévue pour le coût de {P} ?"],
    ],
    [
        &[
            "when will {P} be back in stock? Pharmacies have nothing",
            "is there a shortage of {P}? Nobody can tell me anything",
        ],
        &[
            "quand est-ce que {P} revient en pharmacie ? Rien nulle part",
            "il y a une rupture de {P} ? Personne ne sait me répondre",
        ],
    ],
    [
        &[
            "can {P} be taken with grapefruit juice?",
            "what should I do if I miss a dose of {P}?",
            "is it safe to crush {P} tablets for {R}?",
        ],
        &[
            "peut-on prendre {P} avec du jus de pamplemousse ?",
            "que faire si j'oublie une prise de {P} ?",
            "on peut écraser les comprimés de {P} pour {R} ?",
        ],
    ],
    [&[], &[]],
    [
        &[
            "how do I sign up for the {P} support programme?",
            "your support app keeps crashing, any fix?",
        ],
        &[
            "comment s'inscrire au programme d'accompagnement de {P} ?",
            "votre appli de suivi plante sans arrêt, une solution ?",
        ],
    ],
    [&[], &[]],
    [&[], &[]],
    [&[], &[]],
    [&[], &[]],
    [&[], &[]],
    [&[], &[]],
];

/// The brand's answers to questions.
pub(super) const ANSWERS: Texts = [
    &[
        "Thanks for reaching out. We can't give medical advice here, so please speak to your doctor or pharmacist, or contact our Medical Information team",
        "Hi, thanks for your message. Please send us a DM so our team can help",
        "Thank you for your question. For information about {P}, please contact our Medical Information service",
        "We're sorry to hear this. Please talk to your healthcare professional; you can also reach our team by DM",
    ],
    &[
        "Merci pour votre message. Nous ne pouvons pas donner de conseil médical ici : parlez-en à votre médecin ou pharmacien, ou contactez notre information médicale",
        "Bonjour, merci de nous écrire en message privé pour que notre équipe puisse vous aider",
        "Merci pour votre question. Pour toute information sur {P}, contactez notre service d'information médicale",
    ],
];

/// The brand's answers to questions about availability.
pub(super) const ANSWERS_ACCESS: Texts = [
    &[
        "We're aware of supply constraints on {P} and are working to restore availability as quickly as possible. Your pharmacist can advise on options",
        "Sorry for the difficulty. Supply of {P} is recovering; please check with your pharmacist, who can order it",
    ],
    &[
        "Nous avons connaissance de tensions d'approvisionnement sur {P} et travaillons à un retour rapide. Votre pharmacien peut vous conseiller",
        "Désolés pour la gêne. L'approvisionnement de {P} se rétablit ; votre pharmacien peut le commander",
    ],
];

/// What competitors post: `(topic index, template)`.
pub(super) const COMPETITOR: [&[(usize, &str)]; 2] = [
    &[
        (7, "{K} presents new data for {P} at {E}"),
        (7, "Visit {K} at {E} to learn more about our work in {D}"),
        (4, "{K} completes enrolment in a phase 3 study of {I}"),
        (4, "New real-world evidence for {P} in {D} published today"),
        (5, "Living with {D}? Learn about the support available to people taking {P}"),
        (10, "Know the signs of {D}. Early diagnosis matters"),
        (6, "Healthy habits for people living with {D}: our top tips"),
    ],
    &[
        (7, "{K} présente de nouvelles données sur {P} à {E}"),
        (4, "{K} termine les inclusions de son étude de phase 3 sur {I}"),
        (5, "Vous vivez avec {D} ? Découvrez l'accompagnement proposé aux patients sous {P}"),
        (10, "Connaître les signes, c'est agir tôt. Parlez-en à votre médecin"),
        (6, "Nos conseils pour bien vivre avec {D} au quotidien"),
    ],
];

/// Adverse-event and special-situation categories with their templates (all name `{P}` or `{I}`).
pub(super) const ADVERSE: [(&str, Texts); 5] = [
    (
        "adverse_event",
        [
            &[
                "Since starting {P} I get {S}. Is that normal?",
                "{N} weeks on {P} and I keep getting {S}. Going back to {H} tomorrow",
                "Anyone else get {S} with {I}? Started it last month",
                "Stopped {P} because I had {S} every single day",
                "Ever since {H} put me on {I} I've had {S}",
            ],
            &[
                "J'ai {S} depuis que je prends {P}",
                "Depuis que je suis sous {I}, j'ai {S}. C'est normal ?",
                "{N} semaines sous {P} et toujours {S}. Je retourne voir {H}",
                "Quelqu'un d'autre a {S} avec {I} ?",
                "J'ai arrêté {P}, j'avais {S} tous les jours",
            ],
        ],
    ),
    (
        "pregnancy",
        [
            &[
                "Just found out I'm pregnant and I'm on {P}. Do I stop? Can't reach {H} until Monday",
                "Is {I} safe while breastfeeding? Nobody seems to know",
                "Took {P} for the first {N} weeks of my pregnancy before I knew. Terrified",
            ],
            &[
                "Je viens d'apprendre que je suis enceinte et je prends {P}. J'arrête ?",
                "{I} et allaitement, c'est compatible ? Personne ne sait me répondre",
                "J'ai pris {P} pendant les {N} premières semaines de grossesse sans le savoir, je suis inquiète",
            ],
        ],
    ),
    (
        "overdose",
        [
            &[
                "Accidentally took a double dose of {P} this morning, feeling shaky. Should I go to A&E?",
                "{R} took {N} of my {P} tablets by mistake, on the phone to 111 now",
                "Took too many {I} tablets last night, heart racing",
            ],
            &[
                "J'ai pris une double dose de {P} ce matin par erreur, je tremble. Urgences ?",
                "{R} a avalé {N} comprimés de {P} par erreur, on appelle le 15",
                "Trop de comprimés de {I} hier soir, le cœur qui s'emballe",
            ],
        ],
    ),
    (
        "medication_error",
        [
            &[
                "Pharmacy gave me {P} 20 mg instead of 10 mg and I've been taking it for a week",
                "Mixed up {R}'s {P} with my own pills this morning",
            ],
            &[
                "La pharmacie m'a donné {P} 20 mg au lieu de 10 mg, je le prends depuis une semaine",
                "J'ai confondu le {P} de {R} avec mes comprimés ce matin",
            ],
        ],
    ),
    (
        "lack_of_efficacy",
        [
            &[
                "{N} months on {P} and my {V} hasn't budged. Is it even working?",
                "{I} just stopped working for me, my {V} is back up",
            ],
            &["{N} mois sous {P} et aucun effet sur {V}", "{I} ne fait plus effet, {V} remonte"],
        ],
    ),
];

/// The order in which adverse-event categories are planted (indices into [`ADVERSE`]).
pub(super) const ADVERSE_CYCLE: [usize; 10] = [0, 1, 0, 2, 0, 3, 0, 4, 0, 0];

/// The negative spike: anger about a shortage of one product.
pub(super) const SPIKE: Texts = [
    &[
        "No {P} anywhere. {N} pharmacies called. This is dangerous",
        "The {P} shortage is getting ridiculous, people with {D} can't just stop",
        "Just been told {P} won't be back for weeks. What are patients supposed to do?",
        "Pharmacist says there's a national shortage of {I}. Thanks for warning us, not",
        "Rationing my {P} because nobody can get it. Absolutely shameful",
        "Is {B} going to say anything about the {P} shortage or just keep posting congress selfies?",
        "Out of {P} tomorrow and no pharmacy has it. Panicking",
        "Entire city is out of {I}. How does this happen in 2026?",
    ],
    &[
        "Plus de {P} nulle part. {N} pharmacies appelées. C'est dangereux",
        "La rupture de {P} devient n'importe quoi, on ne peut pas arrêter un traitement comme ça",
        "On vient de me dire que {P} ne reviendra pas avant des semaines. On fait comment ?",
        "Pénurie nationale de {I} selon ma pharmacienne. Merci de prévenir...",
        "Je rationne mon {P} parce qu'il est introuvable. Honteux",
        "{B} va communiquer sur la rupture de {P} ou juste poster des photos de congrès ?",
        "Plus de {P} demain et aucune pharmacie n'en a. Je panique",
        "Toute la ville en rupture de {I}. Comment c'est possible en 2026 ?",
    ],
];

/// Short replies between audience members.
pub(super) const SHORT_REPLIES: Texts = [
    &[
        "Same here.",
        "Same happened to me last month",
        "Have you asked your pharmacist?",
        "Hang in there ❤️",
        "Talk to your doctor before changing anything",
        "This. Exactly this.",
        "Thanks for sharing, really helpful",
        "Did they give you a date?",
        "Sending strength",
        "Mine settled after a few weeks, for what it's worth",
        "Following, I'd like to know too",
    ],
    &[
        "Pareil pour moi.",
        "Idem le mois dernier",
        "Tu as demandé à ton pharmacien ?",
        "Courage ❤️",
        "Parles-en à ton médecin avant de changer quoi que ce soit",
        "Exactement ça.",
        "Merci pour le partage",
        "Ils t'ont donné une date ?",
        "Bon courage",
        "Je suis, ça m'intéresse aussi",
    ],
];

/// Openers of audience replies to the brand's posts.
pub(super) const REPLY_OPENERS: Texts = [
    &[
        "Nice announcement. Meanwhile: ",
        "Great. Now about the real issue: ",
        "Congrats, but honestly: ",
        "Question for you: ",
    ],
    &[
        "Belle annonce. En attendant : ",
        "Très bien. Maintenant, le vrai sujet : ",
        "Bravo, mais franchement : ",
        "Une question : ",
    ],
];

/// Casual openers of audience posts.
pub(super) const OPENERS: Texts = [
    &["PSA: ", "Random thought: ", "Real talk: ", "So. ", "Update: "],
    &["Info : ", "Petite pensée : ", "Franchement : ", "Bon. ", "Mise à jour : "],
];

/// Casual closers of audience posts.
pub(super) const CLOSERS: Texts = [
    &[" Anyone else?", " Thoughts?", " Just me?", " 🤷", " Rant over."],
    &[" Je suis la seule ?", " Des avis ?", " Voilà voilà.", " 🤷", " Fin du coup de gueule."],
];

/// Sentiment names, by index: negative, neutral, positive.
pub(super) const SENTIMENT_NAMES: [&str; 3] = ["negative", "neutral", "positive"];

/// Emoji by sentiment: negative, neutral, positive.
pub(super) const EMOJI: [&[&str]; 3] =
    [&["😡", "😤", "😞", "🙄", "😩"], &["🤔", "💊", "👀", "🩺"], &["🙏", "💪", "😊", "👍", "❤️"]];

/// Hashtags (without `#`) per topic.
pub(super) const HASHTAGS: [Texts; 12] = [
    [
        &["SideEffects", "PatientSafety", "MedTwitter"],
        &["EffetsSecondaires", "Pharmacovigilance", "Santé"],
    ],
    [&["DrugPrices", "HealthcareCosts", "NHS"], &["Remboursement", "Sécu", "PrixDesMédicaments"]],
    [
        &["DrugShortage", "MedicineShortage", "Pharmacy"],
        &["Pénurie", "RuptureDeStock", "Pharmacie"],
    ],
    [&["AskAPharmacist", "Medication", "T2D"], &["Posologie", "Pharmacien", "DT2"]],
    [
        &["ClinicalTrials", "Research", "Cardiology"],
        &["EssaisCliniques", "Recherche", "Cardiologie"],
    ],
    [
        &["PatientSupport", "LivingWithDiabetes", "HeartHealth"],
        &["Accompagnement", "Patients", "Diabète"],
    ],
    [&["HealthyEating", "LowSalt", "Walking"], &["Alimentation", "SansSel", "ActivitéPhysique"]],
    [&["ESC2026", "EASD2026", "Pharma"], &["ESC2026", "EASD2026", "Congrès"]],
    [&["Carers", "CaregiverLife", "CarersWeek"], &["Aidants", "ProcheAidant", "Aidance"]],
    [&["T2D", "Hypertension", "Meds"], &["DT2", "Hypertension", "Traitement"]],
    [
        &["WorldDiabetesDay", "KnowYourNumbers", "Hypertension"],
        &["JournéeMondialeDuDiabète", "Dépistage", "Hypertension"],
    ],
    [&["MedEd", "Cardiology", "Diabetes"], &["Recommandations", "Cardiologie", "Diabétologie"]],
];

/// Conditions per therapeutic area (0 cardiology, 1 diabetes). French forms carry their article.
pub(super) const CONDITIONS: [[&[&str]; 2]; 2] = [
    [
        &["hypertension", "high blood pressure", "heart failure"],
        &["l'hypertension", "l'insuffisance cardiaque", "la tension"],
    ],
    [&["type 2 diabetes", "T2D", "diabetes"], &["le diabète de type 2", "le diabète", "le DT2"]],
];

/// The measure a product acts on, per area.
pub(super) const MEASURES: [[&str; 2]; 2] =
    [["blood pressure", "ma tension"], ["blood sugar", "ma glycémie"]];

/// Symptoms.
pub(super) const SYMPTOMS: Texts = [
    &[
        "dizzy spells",
        "headaches",
        "nausea",
        "a dry cough",
        "swollen ankles",
        "awful fatigue",
        "palpitations",
        "a rash on my arms",
        "stomach cramps",
        "blurred vision",
    ],
    &[
        "des vertiges",
        "des maux de tête",
        "des nausées",
        "une toux sèche",
        "les chevilles qui gonflent",
        "une fatigue énorme",
        "des palpitations",
        "des plaques rouges sur les bras",
        "des crampes d'estomac",
        "la vue qui se brouille",
    ],
];

/// Relatives.
pub(super) const RELATIVES: Texts = [
    &["my mum", "my dad", "my husband", "my wife", "my gran", "my partner", "my brother"],
    &["ma mère", "mon père", "mon mari", "ma femme", "ma grand-mère", "mon conjoint", "mon frère"],
];

/// Health professionals.
pub(super) const DOCTORS: Texts = [
    &["my GP", "my cardiologist", "the diabetes nurse", "my doctor", "the pharmacist"],
    &["mon médecin", "mon cardiologue", "mon généraliste", "ma pharmacienne", "mon diabétologue"],
];

/// Pharmacies.
pub(super) const PHARMACIES: Texts = [
    &["my local pharmacy", "the chemist", "the big pharmacy in town"],
    &["ma pharmacie", "la pharmacie du quartier", "la pharmacie de garde"],
];

/// Congresses.
pub(super) const EVENTS: Texts = [
    &["ESC Congress 2026", "EASD 2026", "the ADA Scientific Sessions", "the SFD annual meeting"],
    &["l'ESC Congress 2026", "l'EASD 2026", "l'ADA 2026", "l'assemblée annuelle de la SFD"],
];

/// Trial names per area.
pub(super) const TRIALS: [&[&str]; 2] =
    [&["CARDI-VISTA", "TELVI-HF"], &["GLUCO-HORIZON", "NORA-RENAL"]];

/// Amounts of money.
pub(super) const MONEY: Texts =
    [&["£38", "$120", "£65", "$240", "£19.50"], &["38 €", "62 €", "120 €", "17,50 €"]];

/// Links shared by the audience.
pub(super) const AUDIENCE_LINKS: Texts = [
    &[
        "https://www.nhs.uk/medicines/",
        "https://www.bbc.co.uk/news/health-",
        "https://www.theguardian.com/society/2026/",
        "https://www.diabetes.org.uk/news/",
        "https://www.bhf.org.uk/informationsupport/",
    ],
    &[
        "https://www.ameli.fr/assure/actualites/",
        "https://ansm.sante.fr/disponibilites-des-produits-de-sante/",
        "https://www.lemonde.fr/sante/article/2026/",
        "https://www.federationdesdiabetiques.org/actualites/",
    ],
];

/// First names (display, ASCII for handles).
pub(super) const FIRST_NAMES: [&[(&str, &str)]; 2] = [
    &[
        ("James", "james"),
        ("Sarah", "sarah"),
        ("Michael", "michael"),
        ("Emma", "emma"),
        ("David", "david"),
        ("Olivia", "olivia"),
        ("Chris", "chris"),
        ("Sophie", "sophie"),
        ("Daniel", "daniel"),
        ("Laura", "laura"),
        ("Mark", "mark"),
        ("Rachel", "rachel"),
        ("Paul", "paul"),
        ("Hannah", "hannah"),
        ("Tom", "tom"),
        ("Jessica", "jessica"),
        ("Andrew", "andrew"),
        ("Megan", "megan"),
        ("Steve", "steve"),
        ("Claire", "claire"),
        ("Gary", "gary"),
        ("Helen", "helen"),
        ("Ryan", "ryan"),
        ("Nicola", "nicola"),
        ("Kevin", "kevin"),
        ("Amy", "amy"),
        ("Jason", "jason"),
        ("Lisa", "lisa"),
        ("Priya", "priya"),
        ("Aisha", "aisha"),
        ("Mohammed", "mohammed"),
        ("Grace", "grace"),
        ("Liam", "liam"),
        ("Chloe", "chloe"),
        ("Ben", "ben"),
        ("Karen", "karen"),
        ("Tariq", "tariq"),
        ("Zoe", "zoe"),
        ("Nathan", "nathan"),
        ("Fiona", "fiona"),
    ],
    &[
        ("Camille", "camille"),
        ("Léa", "lea"),
        ("Manon", "manon"),
        ("Chloé", "chloe"),
        ("Inès", "ines"),
        ("Julie", "julie"),
        ("Sophie", "sophie"),
        ("Claire", "claire"),
        ("Nathalie", "nathalie"),
        ("Isabelle", "isabelle"),
        ("Élodie", "elodie"),
        ("Sandrine", "sandrine"),
        ("Céline", "celine"),
        ("Amélie", "amelie"),
        ("Fatima", "fatima"),
        ("Yasmine", "yasmine"),
        ("Thomas", "thomas"),
        ("Nicolas", "nicolas"),
        ("Julien", "julien"),
        ("Maxime", "maxime"),
        ("Antoine", "antoine"),
        ("Pierre", "pierre"),
        ("Mathieu", "mathieu"),
        ("Sébastien", "sebastien"),
        ("Olivier", "olivier"),
        ("Laurent", "laurent"),
        ("Stéphane", "stephane"),
        ("Frédéric", "frederic"),
        ("Karim", "karim"),
        ("Mehdi", "mehdi"),
        ("Jérôme", "jerome"),
        ("François", "francois"),
        ("Hugo", "hugo"),
        ("Lucas", "lucas"),
        ("Théo", "theo"),
        ("Bernard", "bernard"),
        ("Michel", "michel"),
        ("Christine", "christine"),
        ("Sylvie", "sylvie"),
        ("Hélène", "helene"),
    ],
];

/// Last names (display, ASCII for handles).
pub(super) const LAST_NAMES: [&[(&str, &str)]; 2] = [
    &[
        ("Smith", "smith"),
        ("Jones", "jones"),
        ("Taylor", "taylor"),
        ("Brown", "brown"),
        ("Williams", "williams"),
        ("Wilson", "wilson"),
        ("Johnson", "johnson"),
        ("Davies", "davies"),
        ("Patel", "patel"),
        ("Robinson", "robinson"),
        ("Wright", "wright"),
        ("Thompson", "thompson"),
        ("Evans", "evans"),
        ("Walker", "walker"),
        ("White", "white"),
        ("Roberts", "roberts"),
        ("Green", "green"),
        ("Hall", "hall"),
        ("Wood", "wood"),
        ("Jackson", "jackson"),
        ("Clarke", "clarke"),
        ("Khan", "khan"),
        ("Lewis", "lewis"),
        ("Hughes", "hughes"),
        ("Edwards", "edwards"),
        ("Turner", "turner"),
        ("Hill", "hill"),
        ("Moore", "moore"),
        ("Baker", "baker"),
        ("Harris", "harris"),
        ("Martin", "martin"),
        ("Cooper", "cooper"),
        ("Ward", "ward"),
        ("Morgan", "morgan"),
        ("Scott", "scott"),
        ("King", "king"),
        ("Murphy", "murphy"),
        ("Bell", "bell"),
        ("Carter", "carter"),
        ("Price", "price"),
    ],
    &[
        ("Martin", "martin"),
        ("Bernard", "bernard"),
        ("Dubois", "dubois"),
        ("Thomas", "thomas"),
        ("Robert", "robert"),
        ("Richard", "richard"),
        ("Petit", "petit"),
        ("Durand", "durand"),
        ("Leroy", "leroy"),
        ("Moreau", "moreau"),
        ("Simon", "simon"),
        ("Laurent", "laurent"),
        ("Lefèvre", "lefevre"),
        ("Michel", "michel"),
        ("Garcia", "garcia"),
        ("David", "david"),
        ("Bertrand", "bertrand"),
        ("Roux", "roux"),
        ("Vincent", "vincent"),
        ("Fournier", "fournier"),
        ("Morel", "morel"),
        ("Girard", "girard"),
        ("André", "andre"),
        ("Mercier", "mercier"),
        ("Dupont", "dupont"),
        ("Lambert", "lambert"),
        ("Bonnet", "bonnet"),
        ("François", "francois"),
        ("Martinez", "martinez"),
        ("Legrand", "legrand"),
        ("Garnier", "garnier"),
        ("Faure", "faure"),
        ("Rousseau", "rousseau"),
        ("Blanc", "blanc"),
        ("Guérin", "guerin"),
        ("Muller", "muller"),
        ("Henry", "henry"),
        ("Roussel", "roussel"),
        ("Nicolas", "nicolas"),
        ("Perrin", "perrin"),
    ],
];

/// Decorations of some display names.
pub(super) const NAME_EMOJI: [&str; 6] = ["🌻", "🌿", "☕", "🐾", "💙", "🏃"];

/// Mastodon instances per language.
pub(super) const INSTANCES: Texts = [
    &["mastodon.social", "mastodon.online", "mstdn.social", "med-mastodon.com", "mas.to"],
    &["mastodon.social", "piaille.fr", "mamot.fr", "framapiaf.org", "mastodon.online"],
];

/// Subreddits: English by area (cardiology, diabetes), English general, French.
pub(super) const SUBREDDITS_AREA: [&[&str]; 2] =
    [&["hypertension", "HeartFailure"], &["diabetes", "diabetes_t2"]];
/// English subreddits not tied to an area.
pub(super) const SUBREDDITS_GENERAL: &[&str] =
    &["pharmacy", "AskDocs", "ChronicIllness", "caregivers"];
/// French subreddits.
pub(super) const SUBREDDITS_FR: &[&str] = &["france", "sante"];
