//! The cue lists of the PV lexicon, English and French, written for this project.
//!
//! Syntax: entries are separated by `|`, words by spaces, all in folded form (lower case,
//! no accents, French elision split: `d' effet`). A word ending in `*` matches any word that
//! starts with it; `_` matches any one word; `#` matches a number; `=ER` matches the word
//! only when written exactly so (upper case). A leading `!` marks a strong cue, one that a
//! hypothetical or question guard does not cancel.

/// Reactions and symptoms in lay terms (English).
pub const EN_REACTIONS: &str = "~no libido|~no sex drive|~no appetite|~no energy|~no emotions|~no feelings|~no desire|~not sleeping|~can't sleep|~can't think|~can't stop crying|~couldn't stop crying|~can't stop shaking|~not myself|stroke|heart attack|liver damage|headache*|head ache*|head hurt*|head is pounding|pounding head|dizz*|lightheaded*|light headed|vertigo|room spinning|nause*|queasy|vomit*|threw up|throw up|throwing up|puk*|diarrh*|the runs|constipat*|stomach ache*|stomachache*|stomach pain*|stomach cramp*|stomach upset|upset stomach|tummy ache*|belly ache*|cramp*|bloat*|indigestion|heartburn|acid reflux|reflux|dry mouth|cotton mouth|metallic taste|weird taste in my mouth|loss of appetite|lost my appetite|no appetite|appetite|ate everything|craving*|weight gain|gained weight|gain weight|gaining weight|put on weight|putting on weight|gained _ pounds|gained _ lbs|gained _ kg|gained _ kilos|packed on|weight loss|lost weight|losing weight|rash*|hives|itch*|skin broke out|broke out|breakout*|acne|hair loss|hair falling out|hair fell out|losing my hair|lost my hair|lost hair|thinning hair|hair thinning|bruis*|nosebleed*|nose bleed*|bleeding|bled|sweat*|night sweats|hot flash*|hot flush*|flushing|flushed|chills|fever*|shak*|tremor*|trembl*|twitch*|jitter*|jumpy|restless*|akathisia|insomnia|sleepless*|can't sleep|couldn't sleep|cannot sleep|could not sleep|unable to sleep|trouble sleeping|hard to sleep|difficulty sleeping|awake all night|up all night|wide awake|vivid dream*|nightmare*|strange dream*|weird dream*|crazy dream*|drows*|sleepy|sleepiness|sleeping all day|sleep all day|tired*|fatigue*|exhausted|exhaustion|letharg*|no energy|zero energy|low energy|wiped out|zombie*|foggy|brain fog|fog|fogg*|spaced out|spacey|spacy|numb*|emotionless|no emotions|blunted|flat|apath*|didn't care about anything|don't care about anything|memory loss|memory problems|memory issues|forgetful*|forgetting things|confused|confusion|can't concentrate|couldn't concentrate|concentrat*|can't focus|couldn't focus|yawn*|sexual side effect*|sexual dysfunction|sexual problems|sexually|libido|sex drive|no desire|lost interest in sex|erectile|erection*|impoten*|anorgasmia|orgasm*|ejaculat*|climax*|arousal|heart racing|racing heart|heart was racing|heart pounding|palpitation*|rapid heartbeat|fast heartbeat|irregular heartbeat|chest pain*|chest tight*|tight chest|high blood pressure|blood pressure|shortness of breath|short of breath|couldn't breathe|could not breathe|can't breathe|cannot breathe|difficulty breathing|trouble breathing|hard to breathe|breathing problems|wheez*|swelling|swollen|swell*|puffy|blurred vision|blurry vision|blurry|vision problems|double vision|ringing in my ears|tinnitus|anxiety|anxious|panic attack*|panicky|agitat*|irritab*|irritable|snappy|short tempered|angry|anger|rage|aggressive|aggression|mood swing*|moody|emotional|crying|cried|tearful|weepy|suicidal*|suicide|kill myself|killing myself|self harm|hurt myself|depress*|paranoi*|hallucinat*|manic|mania|hypomani*|jaw clench*|clenching|clench*|teeth grinding|grinding my teeth|grind my teeth|bruxism|muscle pain*|muscle ache*|muscle spasm*|spasm*|aches|achy|aching|joint pain*|back pain|pain|painful|seizure*|convuls*|fainted|faint*|passed out|blacked out|blackout*|jaundice|yellow skin|liver|kidney*|urinat*|peeing|pee|bladder|allergic|allergy|anaphyla*|reaction|made me sick|felt sick|feel sick|feeling sick|sick|ill|unwell|hungover|hangover|zapp*|brain zap*|zaps|electric shock*|shock sensation*|tingl*|pins and needles|stiff*|weak*|sore*|clumsy|wired|edgy|on edge|restlessness|horrible|awful|terrible|worse|worst|miserable|weird|strange|zoned out|out of it|disconnected|detached|unreal|didn't feel like myself|not myself|not feel like myself|personality change*|emotionally|crazy|sedat*|hyper|hyperactive|heavy|sluggish|groggy|drugged|dopey|high|buzzed|yawning|appetite increase*|increased appetite|hungry all the time|always hungry|starving|binge*|sugar craving*|carb craving*|dehydrat*|thirst*|bleeding gums|gums|toothache|migraine*|cough*|runny nose|stuffy nose|congest*|sneez*|sore throat|infection|infected|hair|skin|vision|eyes|headaches|~no orgasm|~can't orgasm|~can't cry|~couldn't cry|~can't wake up|~no interest in sex|~lack of interest|dry cough|tickly cough|swollen ankles|ankles swelling|swollen feet|swollen legs|puffy ankles|water retention|fluid retention|blurred|blurry eyes|dry eyes|red patches|red spots|red blotches|blotch*|peeling|dry skin|sunburn*|stomach discomfort|gassy|farting|burping|cold sweat*|hot all the time|feeling hot|overheat*|drymouth|thirsty|peeing all the time|frequent urination|yeast infection|thrush|low blood sugar|hypo|hypos|sugar crash*|low blood pressure|woozy|wobbly|unsteady|off balance|muscle weakness|muscle cramp*|leg cramp*|cramping|burning sensation|oversleep*|overslept|struggle to wake|hard to wake|freak* out|freaked|panicked|sense of doom|crying spells|emotionless*|neutered|heart burn|head pressure|pressure in my head|breathless*|coughing|feel funny|felt funny|feel bad|felt bad|feeling bad|feeling very bad|felt very bad|feel off|felt off|gained # lbs|gained # lb|gained # pounds|gained # kg|gained # kilos|gained # stone|lost interest|discomfort|memory|dreams|dream|forgetting|forgot|brain|cry|weight|gained|stomach|chest|cough|balance|mood|moods|hungry|lazy|slow|alcoholic|eyesight|spots|lungs|deep breath|woke up|wake up|waking up|sleep longer|slept";

/// Reaction cues that are also disease words (the indication): they count as a reaction only
/// with a link to the product ("since", "gave me", "on it") or a personal experience.
pub const EN_AMBIGUOUS: &str = "migraine*|depress*|anxiety|anxious|panic attack*|insomnia|pain|painful|acne|blood pressure|high blood pressure|weird|strange|horrible|awful|terrible|worse|worst|miserable|crazy|emotional|high|heavy|reaction|sick|ill|hair|skin|vision|eyes|appetite|flat|sexually|emotionally|concentrat*|fog|hyper|liver|kidney*|bladder|gums|infection|infected|disconnected|detached|unreal|discomfort|memory|dreams|dream|forgetting|forgot|brain|cry|weight|gained|stomach|chest|cough|balance|mood|moods|hungry|lazy|slow|alcoholic|eyesight|spots|lungs|deep breath|woke up|wake up|waking up|sleep longer|slept";

/// Reactions and symptoms in lay terms (French).
pub const FR_REACTIONS: &str = "~plus de libido|~plus aucune libido|~aucune libido|~pas de libido|~plus d' appetit|~arrive plus a me concentrer|~arrive pas a me concentrer|~arrive plus a dormir|~arrive pas a dormir|~arrivais plus a respirer|~arrivais pas a respirer|~arrive plus a respirer|~arrive pas a respirer|~respirais plus|~respire plus|~pouvais plus respirer|~sens plus mes jambes|~sentais plus mes jambes|~sens plus mes bras|~sens plus mes mains|~dors plus|~dormais plus|~mange plus rien|avc|accident vasculaire|infarctus|crise cardiaque|mal de tete|maux de tete|mal a la tete|migraine*|cephalee*|vertige*|etourdi*|tete qui tourne|la tete me tourne|nausee*|envie de vomir|mal au coeur|vomi*|diarrhee*|chiasse|constipation|constipe*|mal au ventre|maux de ventre|mal a l' estomac|mal au bide|crampe*|ballonnement*|ballonne*|brulure* d' estomac|aigreur*|reflux|bouche seche|gout metallique|perte d' appetit|plus d' appetit|coupe l' appetit|appetit|fringale*|prise de poids|pris du poids|pris _ kilos|pris _ kg|grossi|grossir|kilos en plus|perte de poids|perdu du poids|maigri|bouton*|eruption*|plaque*|rougeur*|demangeai*|demange*|gratte|urticaire|chute de cheveux|perte de cheveux|perds mes cheveux|cheveux qui tombent|des bleus|plein de bleus|bleus|hematome*|saigne*|saignement*|transpir*|sueur*|bouffee* de chaleur|frisson*|fievre|tremble*|tremblement*|insomnie*|dors plus|dormir|dors mal|cauchemar*|reves bizarres|reves etranges|somnolen*|endormi*|dort tout le temps|dors tout le temps|fatigue*|epuise*|crevee|creve|vide|zombie|brouillard|dans le brouillard|confus|confuse|confusion|perte de memoire|trous de memoire|oublie tout|concentrer|concentration|engourdi*|fourmillement*|fourmis|picotement*|libido|envie sexuelle|trouble* de l' erection|troubles sexuels|impuissan*|orgasme*|ejaculation|palpitation*|coeur qui bat|battre le coeur|coeur bat|coeur cogne|coeur qui cogne|coeur qui s' emballe|tachycardie|douleur* thoracique*|douleur*|douloureu*|mal au dos|mal aux articulations|mal partout|courbature*|tension|essouffle*|du mal a respirer|respirer|etouffe*|gonfle*|gonflement*|oedeme*|vision floue|vue trouble|vue floue|acouphene*|angoisse*|anxiete|anxieu*|crise* d' angoisse|crise* de panique|irritab*|irritable|agressi*|colere|sautes d' humeur|humeur|pleure*|pleurer|pleurs|larmes|idees noires|idees suicidaires|envie de mourir|suicid*|hallucination*|convulsion*|crise d' epilepsie|malaise*|evanoui*|perdu connaissance|allergi*|reaction allergique|choc anaphylactique|malade|jaunisse|hepatite|infection|infecte*|saigne du nez|saignements de nez|mal aux yeux|yeux|peau|cheveux|machoire serree|serre les dents|grince des dents|bruxisme|tremblote|spasme*|raideur*|faiblesse|faible|mou|molle|ralenti*|shoote*|pete* de chaleur|chaud|froid|soif|deshydrat*|toux|tousse|nez bouche|gorge|depress*|deprime*|dormais|endormir|sommeil|vue qui se brouille|vue brouillee|yeux secs|yeux rouges|chevilles qui gonflent|chevilles gonflees|jambes gonflees|pieds gonfles|jambes lourdes|retention d' eau|toux seche|quinte* de toux|plaques rouges|taches rouges|peau seche|coup de soleil|ballonnee|remontees acides|hypoglycemie*|hypo|hypos|tension basse|chute de tension|tete legere|vaseux|vaseuse|dans le coton|desequilibre|crampes dans les jambes|mal aux jambes|mal aux muscles|brulure*|pleure tout le temps|essoufflement|mycose*|infection urinaire|urine souvent|soif tout le temps|bouche pateuse|humeur changeante|froid tout le temps|chaud tout le temps|perte d' equilibre|ralentie|reves|reve|memoire|oublie|cerveau|poitrine|souffle|poids|ventre|estomac|equilibre|lent|lente";

/// French reaction cues that are also disease words (see [`EN_AMBIGUOUS`]).
pub const FR_AMBIGUOUS: &str = "crise* d' angoisse|crise* de panique|fatigue*|epuise*|migraine*|angoisse*|anxiete|anxieu*|depress*|deprime*|insomnie*|douleur*|douloureu*|tension|humeur|dormir|dormais|endormir|sommeil|concentrer|concentration|malade|vide|chaud|froid|yeux|peau|cheveux|gorge|appetit|infection|infecte*|faible|mou|molle|respirer|reves|reve|memoire|oublie|cerveau|poitrine|souffle|poids|ventre|estomac|equilibre|lent|lente";

/// Seriousness cues (PV-8): `(criterion, cues)`, English and French together.
pub const SERIOUS: &[(&str, &str)] = &[
    (
        "death",
        "!died|!dead|!death|!passed away|!killed him|!killed her|!fatal|!deceased|!decede*|!deces|!est mort|!est morte|!sont morts|!mort subite",
    ),
    (
        "life-threatening",
        "!life threatening|!almost died|!nearly died|!could have died|!thought i was going to die|!thought i was dying|!thought i would die|!near death|!stopped breathing|!resuscitat*|!cpr|!intubat*|!icu|!intensive care|!anaphylactic shock|!cru mourir|!failli mourir|!faillit mourir|!pronostic vital|!entre la vie et la mort|!reanimation|!reanime*|!choc anaphylactique|!soins intensifs|!arret cardiaque|!cardiac arrest",
    ),
    (
        "hospitalisation",
        "!hospital*|!a&e|!=ER|!the er|!emergency room|!emergency department|!ambulance|!paramedic*|!admitted to|!got admitted|!was admitted|!been admitted|!urgences|!=SAMU|!samu|!hopital|!hosto|!hospitalise*|!admise|!admis a|!aux urgences|!pompiers",
    ),
    (
        "disability",
        "!disabled|!disability|!paralys*|!paralyz*|!permanent damage|!permanently|!can't walk anymore|!lost my sight|!went blind|!gone deaf|!went deaf|!wheelchair|!handicap*|!invalidite|!paralyse*|!sequelle*|!definitivement|!irreversible*|!a vie|!for life|!probably permanent|!permanent",
    ),
    (
        "congenital anomaly",
        "!birth defect*|!born with|!congenital|!malformation*|!heart defect|!cleft|!spina bifida|!miscarr*|!stillbirth|!stillborn|!ne avec|!nee avec|!anomalie congenitale|!fausse couche|!mort ne|!mort nee|!malforme*",
    ),
    (
        "important medical event",
        "!seizure*|!convulsion*|!suicide attempt|!attempted suicide|!tried to kill myself|!tentative de suicide|!serotonin syndrome|!syndrome serotoninergique|!liver failure|!kidney failure|!stroke|!heart attack|!avc|!infarctus|!crise cardiaque|!insuffisance renale|!insuffisance hepatique|!crise d' epilepsie|!suicidal|!suicidaire*|!idees suicidaires|!pancreatit*|!blood clot*|!embolie|!embolism|!thrombos*|!phlebite",
    ),
];

/// Special-situation and other category cues, English and French together. The category is
/// given by its code.
pub const CATEGORIES: &[(&str, &str)] = &[
    (
        "PREG",
        "pregnan*|!miscarr*|!fausse couche|!stillborn|!mort ne|!weeks pregnant|!months pregnant|!i'm pregnant|!i am pregnant|!was pregnant|!while pregnant|!during my pregnancy|!got pregnant|!first trimester|!second trimester|!third trimester|!wife is pregnant|!partner is pregnant|!girlfriend is pregnant|!my unborn|expecting a baby|enceinte|!suis enceinte|!etais enceinte|!enceinte de|grossesse|!pendant ma grossesse|!ma femme est enceinte|!ma compagne est enceinte|!premier trimestre|!deuxieme trimestre|!troisieme trimestre|!tombee enceinte",
    ),
    (
        "BF",
        "breastfeed*|breast feed*|!breastfeeding|!nursing my|!through my milk|!in my milk|!breast milk|!my milk|!pumping|!j' allaite|allait*|!lait maternel|!mon lait|!tire lait|!au sein",
    ),
    (
        "PED",
        "!my son|!my daughter|!my child|!my kid*|!my baby|!my toddler|!my newborn|!my teen*|!our son|!our daughter|!our child|!our baby|!teenager|!adolescent*|!infant|!newborn|!toddler|!mon fils|!ma fille|!mon enfant|!mes enfants|!notre fils|!notre fille|!mon bebe|!notre bebe|!nourrisson|!mon ado|!enfant de|!bebe",
    ),
    (
        "ELD",
        "!elderly|!my grandmother|!my grandma|!my grandfather|!my grandpa|!my nan|!granny|!pensioner|!old age|!ma grand mere|!mon grand pere|!mamie|!papi|!personne agee|!personnes agees|!ehpad|!maison de retraite|!nursing home|!care home",
    ),
    (
        "OFF",
        "!off label|!not what it's for|!not what it is for|!not approved for|!not licensed for|!not indicated for|!isn't indicated|!not meant for|!not usually prescribed for|!not its indication|!pas son indication|!pas l' indication|!hors amm|!hors autorisation|!hors indication|!n' est pas prevu pour|!pas fait pour ca",
    ),
    (
        "OD",
        "!overdos*|!od'd|!od'ed|!took too many|!took too much|!double dose|!doubled my dose|!doubled up|!double dosed|!instead of 1|!instead of one|!instead of 2|!instead of two|!twice the dose|!too many pills|!too many tablets|!whole bottle|!whole pack|!entire bottle|!surdos*|!au lieu d' un|!au lieu de 1|!au lieu d' 1|!au lieu de deux|!au lieu de 2|!dose double|!double la dose|!pris trop|!trop de comprimes|!trop de cachets|!toute la boite|!toute la plaquette|!comprimes de brandix au lieu",
    ),
    (
        "ABU",
        "!to get high|!get high|!getting high|!get a buzz|!for a buzz|!for the buzz|!by the handful|!handfuls|!recreational*|!snort*|!can't stop taking|!cannot stop taking|!addicted|!addiction|!hooked on|!abuse*|!abusing|!planer|!pour planer|!me defoncer|!defonce*|!accro|!en prends plein|!plein pour|!arrive plus a arreter|!arrive pas a arreter|!peux plus m' en passer|!peux pas m' en passer",
    ),
    (
        "MIS",
        "!crush*|!mix it in|!mixed it in|!in my drink|!in my coffee|!chew*|!inject it|!injected it|!selling my|!sell my|!selling them|!sell them|!for sale|!dm me|!buy my|!my friend's|!my mum's|!my mom's|!someone else's|!borrowed|!share my pills|!shared my|!ecrase*|!dans mon cafe|!dans le verre de|!dans son verre|!in his drink|!in her drink|!dans mon verre|!dans ma boisson|!revend*|!a vendre|!vends mes|!je vends|!=MP|!en mp|!ceux de ma|!ceux de mon|!sans ordonnance|!without a prescription|!without prescription|!plus vite",
    ),
    (
        "ME",
        "!pharmacy gave me|!pharmacist gave me|!gave me the wrong|!wrong dose|!wrong pill*|!wrong medic*|!wrong strength|!wrong drug|!wrong tablets|!mg instead of|!mg au lieu de|!by mistake|!par erreur|!erreur de dosage|!erreur de la pharmacie|!mauvais dosage|!mauvaise dose|!mauvais medicament|!mix up|!mixed up|!mix-up|!confused my|!confondu|!confondue|!confondus|!interverti*|!accidentally took|!accidentally gave|!took it twice|!forgot i had taken|!pris deux fois|!la pharmacie m' a donne|!le pharmacien m' a donne|!pharmacienne m' a donne|!au lieu de 5|!instead of 5|!accidentellement|!sans faire expres|!trompe* de",
    ),
    (
        "OCC",
        "!splashed|!splash*|!spilled on|!spilt on|!needle stick|!needlestick|!pricked myself|!stuck myself|!got it in my eye|!while preparing|!preparing it|!preparing the|!handling the|!at work|!projection|!dans l' oeil|!en le preparant|!en preparant|!piqure accidentelle|!piquee avec|!pique avec|!renverse* sur|!au travail",
    ),
    (
        "LOE",
        "did nothing|does nothing|did absolutely nothing|do nothing|didn't work|did not work|doesn't work|does not work|not working|stopped working|quit working|never worked|no effect|had no effect|zero effect|useless|hasn't budged|has not budged|didn't budge|did not budge|won't budge|not budging|is it even working|didn't help|did not help|doesn't help|does not help|hasn't helped|not helping|didn't do anything|didn't do a thing|doesn't do anything|no difference|no improvement|waste of money|ineffective|aucun effet|aucune efficacite|ne marche pas|marche pas|ne fonctionne pas|fonctionne pas|n' a rien fait|rien fait|ne fait rien|fait rien|sans effet|aucune amelioration|aucun changement|inefficace|ne sert a rien|sert a rien|zero effet|pas d' effet|aucun resultat|n' a pas bouge|a pas bouge|bouge pas|n' a pas marche|a pas marche|n' a pas fonctionne",
    ),
    (
        "INT",
        "!grapefruit|!with alcohol|!with wine|!with beer|!with booze|!after drinking|!mixed with|!combined with|!together with|!along with my|!on top of my|!with my other|!with my blood thinner*|!blood thinner*|!warfarin|!with my birth control|!interact*|!pamplemousse|!avec de l' alcool|!avec l' alcool|!avec mon anticoagulant|!anticoagulant|!avec mon traitement|!avec mes autres|!en meme temps que|!combine* avec|!melange* avec|!associe* avec|!avec ma pilule|!interaction*",
    ),
    (
        "PQC",
        "!different colour|!different color|!other colour|!crumbl*|!broken tablet*|!broken pill*|!cracked|!fake|!counterfeit|!falsified|!smells weird|!smells funny|!smells different|!tastes different|!weird smell|!discolou*|!discolor*|!contaminat*|!particles|!floating bits|!something floating|!cloudy|!leak*|!damaged packaging|!seal was broken|!seal broken|!empty blister|!missing tablets|!missing pills|!wrong label|!mislabel*|!expired|!defect*|!faulty|!broken pen|!autre couleur|!couleur differente|!pas la meme couleur|!effrite*|!s' effritent|!s' effrite|!comprimes casses|!casses|!contrefa*|!faux medicament*|!falsifie*|!odeur bizarre|!drole d' odeur|!drole de gout|!collees|!colles|!se collent|!gout bizarre|!gout different|!particule*|!fuite|!fuit|!emballage abime|!boite abimee|!blister vide|!comprimes manquants|!perime*|!defectueu*|!defaut|!contamine*",
    ),
];

/// Cues of an infection (TIA needs one with a contamination cue).
pub const INFECTION: &str = "!infection*|!infected|!abscess|!sepsis|!septic|!hepatitis|!hepatite|!infecte*|!abces|!septicemie";

/// Cues of a contaminated product (TIA needs one with an infection cue).
pub const CONTAMINATION: &str = "!contaminat*|!contamine*|!dirty vial|!vial|!flacon|!batch|!lot|!non sterile|!not sterile|!injection site|!point d' injection";

/// Links between the product and an event (English and French).
pub const LINKS: &str = "since|ever since|after|gave me|giving me|gives me|made me|making me|makes me|caused|causing|causes|because of|due to|on it|on this|on lexapro|on zoloft|on the med*|on the drug|on the pill*|started|starting|taking it|took it|taking this|when i took|from the med*|from it|side effect*|depuis|apres|m' a donne|me donne|m' a fait|me fait|me rend|m' a rendu|a cause|a cause de|en prenant|quand j' ai pris|depuis que|sous brandix|avec brandix|effet* secondaire*|effet* indesirable*|provoque*|declenche*|i've had|i have had|i've been|i get|i got|i'm getting|i am getting|i feel|i felt|i'm feeling|i was|i had|j' ai|j' avais|je me sens|je suis|j' etais|me sens|experienced|experiencing|developed|noticed|now i|and now|et maintenant|maintenant";

/// The words that name the concept of a side effect. In a question or next to a
/// [`CONCEPT_GUARDS`] cue they are label or hypothetical talk (PHARMA.md b.3: `the list of
/// side effects`, `so many side effects`, `les effets secondaires de X, c'est fréquent ?`)
/// unless the sentence tells a first-hand experience (`I`, `my`, `je`, `mon`, a relation,
/// `anyone else`). `Very bad side effects.` in a review stays a reaction.
pub const CONCEPT: &str = "side effect*|adverse effect*|adverse reaction*|adverse event*|effet* secondaire*|effet* indesirable*";

/// Cues that make `side effects` talk about the concept: the label, a list, how many or how
/// common they are, forum talk, nothing to report.
pub const CONCEPT_GUARDS: &str = "leaflet*|label*|insert|list|lists|listed|so many|all the|possible|potential|known|common|rare|frequent|forum*|thread*|discussion*|catalogue*|catalog*|horror show|notice|liste*|frequent*|possible*|potentiel*|connu*|rare*|rien a signaler|nothing to report|nothing to speak of|talk about|parle* des|parler des|most|video*|webinar*|article*|podcast*|how to report|declarer|signaler|comment les|patients|people|la plupart|les gens|in general|en general|raison*";

/// First-hand cues that look like questions: `Anyone else get X with Y?`, `Quelqu'un d'autre a
/// des nausées avec X ?` tell the writer's own experience, not a request for information.
pub const FIRST_HAND: &str =
    "anyone else|anybody else|quelqu'un d' autre|moi aussi|me too|same here";

/// Words after a disease word that make it an indication (`blood pressure meds`) or a
/// missed dose (`forgot my dose`, `oublié ma dose`).
pub const MEDICINE_WORDS: &[&str] = &[
    "meds",
    "med",
    "medication",
    "medications",
    "medicine",
    "medicines",
    "drug",
    "drugs",
    "pills",
    "tablets",
    "treatment",
    "treatments",
    "traitement",
    "traitements",
    "medicament",
    "medicaments",
    "dose",
    "doses",
    "pill",
    "prise",
];

/// Words that may stand between a disease word and a medicine word (`forgot my dose`).
pub const MEDICINE_DETERMINERS: &[&str] =
    &["my", "the", "ma", "mon", "mes", "la", "le", "sa", "son"];

/// Withdrawal and stopping (PsyTAR's WD sentences are not ADR sentences).
pub const WITHDRAWAL: &str = "withdrawal*|withdraw*|weaning|wean*|taper*|coming off|came off|come off|going off|went off|got off|get off|getting off|quit|quitting|stopped taking|stop taking|stopping|off of it|off it|off the|detox*|discontinu*|cold turkey|days off|weeks off|sevrage|arret|arrete|arreter|j' ai arrete|diminuer|diminue|baisse";

/// Efficacy and improvement (benefit talk).
pub const EFFICACY: &str = "no complaints|no complaint|no issues|no problem|no problems|sans aucun probleme|sans probleme|aucun probleme|aucun souci|sans souci|helped|helps|help me|helping|works|worked|working|better|improved|improvement|changed my life|life saver|lifesaver|saved my life|great|wonderful|amazing|happy|happier|calmer|calm|relief|relieved|love it|recommend|feel normal|feel like myself|back to myself|no side effects|no side effect|without side effects|no problems|ca marche|marche bien|efficace|mieux|change la vie|m' a change la vie|soulage*|aucun effet secondaire|pas d' effet secondaire|pas d' effets secondaires|sans effet secondaire|sans effets secondaires|super|genial|top";

/// Before the product (the disease, not the reaction).
pub const BEFORE: &str = "before|prior to|used to|was diagnosed|diagnosed with|suffer from|suffered from|suffering from|struggled with|struggling with|my depression|my anxiety|my ocd|my panic|my pain|for my|avant|souffre de|souffrais de|diagnostique*|pour ma|pour mon|pour mes|contre ma|contre mon|contre mes|contre les|contre la|contre le";

/// Hypothetical, second-hand and label talk.
pub const HYPOTHETICAL: &str = "can cause|could cause|may cause|might cause|can give|could give|may give|might give|can make you|may make you|apparently|supposedly|i heard|i've heard|i read|i've read|heard that|read that|they say|people say|listed|the leaflet|the label|the insert|package insert|warns|warning|risk of|risks of|if you|if it|if i|in case|what if|worried about|afraid of|scared of|worry|known to|a known|known side effect*|common side effect*|before i start|before starting|connu|connus|connue|connues|avant de commencer|il parait|parait il|parait que|peut donner|peut provoquer|peut causer|peut entrainer|peuvent donner|pourrait|risque de|risques de|la notice|on dit|j' ai lu|j' ai entendu|entendu dire|si jamais|au cas ou|peur de|s' il|si ca";

/// Questions to a community or to medical information (route to MedInfo, not PV).
pub const MEDINFO: &str = "can i|could i|should i|may i|is it safe|is it ok|is it okay|is it alright|is it fine|can you take|can you drink|can i drink|has anyone|does anyone|anyone tried|any experience|how long does|how long until|what dose|what is the dose|est ce qu' on peut|est ce que je peux|est ce qu' on|on peut|peut on|puis je|je peux|quelqu'un a|quelqu'un|vous avez deja|combien de temps";

/// News, corporate and market talk.
pub const NEWS: &str = "maker|manufacturer|reports q*|quarterly|results|earnings|revenue|shares|stock|announces|announced|approval|approves|approved|launch*|press release|trial results|phase #|ceo|acquires|acquisition|recruiting|registry|trial of|essai de|essai sur|fabricant|laboratoire annonce|publie|resultats|chiffre d' affaires|annonce|lancement|autorisation de mise|action|bourse|essai clinique";

/// Access and disease-management talk: supply, price, reimbursement, support programmes,
/// apps and pill organisers, switching brands, guidelines and congresses, diet, screening,
/// carers (PHARMA.md b.3: no reaction, nothing for PV). A text with no lexicon evidence and one of
/// these is not routed on its score alone.
pub const ACCESS: &str = "shortage*|out of stock|in stock|back in stock|no stock|supply|supplies|price*|pricing|cost|costs|costing|expensive|cheaper|cheapest|afford*|insurance|insurer|covered by|coverage|copay*|reimburs*|refund*|support programme*|support program*|patient programme*|patient program*|savings card*|coupon*|app|apps|reminder*|switched from|switch from|switching from|pharmacy|pharmacies|anywhere|rupture*|introuvable*|penurie*|prix|coute*|cher|chere|rembours*|derembours*|mutuelle|pris en charge|prise en charge|ald|programme d' accompagnement|appli|application|rappel*|suis passe de|suis passee de|ordonnance*|pharmacie*|generique*|pill organiser*|pill organizer*|pill box*|alarm*|pilulier*|alarme*|hard to get|hard to find|can't find|cannot find|can't get hold|get hold of|du mal a trouver|impossible a trouver|guidance|guideline*|recommendation*|recommandation*|recos|summary thread|congress|congres|conference|assemblee|society|societe|algorithm*|independent data|donnees independantes|recipe*|recette*|low salt|low-salt|sans sel|diet advice|fasting|jeune|walking every day|screening|depistage|get checked|carers|aidants|chasing prescriptions|day off";

/// Nothing to report: a positive experience (PHARMA.md b.3). A text with one of these and no
/// lexicon evidence is not routed on its score alone.
pub const NOTHING_TO_REPORT: &str = "no complaints|no complaint|nothing to report|no issues|no problems|no problem|no side effects|no side effect|rien a signaler|aucun souci|aucun probleme|sans souci|sans probleme|aucun effet secondaire|pas d' effet secondaire|pas d' effets secondaires|sans effet secondaire|sans effets secondaires";

/// Indication: "for my blood pressure", "pour ma tension".
pub const INDICATION: &str = "for my|for the|for his|for her|for their|to treat|treats|treating|against|prescribed for|prescribed it for|diagnosed with|pour ma|pour mon|pour mes|pour la|pour le|pour les|pour traiter|contre ma|contre mon|contre mes|contre la|contre le|contre les|prescrit pour";

/// Pregnancy intent, not exposure ("trying to get pregnant").
pub const PREGNANCY_INTENT: &str = "get pregnant|getting pregnant|become pregnant|becoming pregnant|trying to conceive|trying for a baby|want to get pregnant|plan to get pregnant|planning a pregnancy|if i get pregnant|tomber enceinte|devenir enceinte|desir de grossesse|projet de grossesse|envie d' un bebe|planning to get pregnant|looking to get pregnant|before getting pregnant";

/// The patient is the writer.
pub const SELF: &str = "i|i'm|i've|i'd|i'll|me|my|myself|im|ive|je|j'|moi|mon|ma|mes|m'|me";

/// A relation of the writer (the patient is someone else the writer knows).
pub const RELATIONS: &str = "my son|my daughter|my child|my kid*|my baby|my wife|my husband|my partner|my boyfriend|my girlfriend|my mum|my mom|my mother|my dad|my father|my brother|my sister|my friend|my grandmother|my grandma|my grandfather|my grandpa|my aunt|my uncle|my patient|my toddler|our son|our daughter|our baby|mon fils|ma fille|mon enfant|mon bebe|ma femme|mon mari|mon conjoint|ma conjointe|mon copain|ma copine|ma mere|mon pere|ma maman|mon papa|mon frere|ma soeur|mon ami|mon amie|ma grand mere|mon grand pere|mon patient|ma patiente|notre fils|notre fille";

/// Sex cues (a weak patient cue on their own).
pub const SEX: &str = "woman|man|female|male|girl|boy|lady|guy|femme|homme|fille|garcon|f|m";

/// A stated reporter role.
pub const ROLES: &str = "as a nurse|as a pharmacist|as a doctor|as a gp|as a physician|as a carer|as a caregiver|as a midwife|as a paramedic|i'm a nurse|i am a nurse|i'm a pharmacist|i am a pharmacist|i'm a doctor|i am a doctor|i work as a|en tant qu' infirmier*|en tant que pharmacien*|en tant que medecin|en tant que sage femme|en tant qu' aide soignant*|je suis infirmier*|je suis pharmacien*|je suis medecin|infirmiere|infirmier|pharmacienne|nurse";

/// Words after a number that make it an age (`6 year old`, `72 ans`).
pub const AGE_UNITS: &str = "# year old|# years old|# yr old|# yrs old|# yo|# y o|# ans|# an|# months old|# month old|# weeks old|bebe de # mois|fils de # mois|fille de # mois|enfant de # mois";

/// Negators: a reaction cue within three words after one of these is negated.
pub const NEGATORS: &[&str] = &[
    "not", "no", "never", "without", "don't", "didn't", "doesn't", "haven't", "hasn't", "isn't",
    "wasn't", "aren't", "weren't", "won't", "can't", "cannot", "nor", "zero", "none", "free",
    "pas", "jamais", "aucun", "aucune", "sans", "ni", "plus", "rien", "n'",
];

/// Words that are common even when capitalised: never product-like.
pub const NOT_PRODUCTS: &str = "i|i'm|i've|the|a|an|my|it|this|that|and|but|so|then|when|after|before|since|just|now|also|on|in|at|to|for|of|with|we|you|he|she|they|day|week|month|year|monday|tuesday|wednesday|thursday|friday|saturday|sunday|god|omg|lol|dr|doctor|gp|nhs|er|a&e|le|la|les|un|une|des|je|j'|mon|ma|mes|depuis|apres|avant|et|mais|donc|quand|il|elle|on|nous|vous|ils|elles|ce|ca|cette|medecin|pharmacie|pharmacien|samu|urgences|mp|dm|ok|yes|no|oui|non|hi|hello|bonjour|salut|english|french|january|february|march|april|june|july|august|september|october|november|december|janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre";

/// Endings of international non-proprietary names (INNs): a word ending so is product-like.
pub const INN_SUFFIXES: &[&str] = &[
    "mab",
    "pril",
    "olol",
    "statin",
    "pine",
    "zole",
    "prazole",
    "oxetine",
    "aline",
    "pram",
    "afil",
    "cillin",
    "mycin",
    "cycline",
    "vir",
    "tinib",
    "parin",
    "sartan",
    "dronate",
    "azepam",
    "azolam",
    "triptan",
    "profen",
    "fenac",
    "setron",
    "lukast",
    "gliptin",
    "glitazone",
    "formin",
    "xaban",
    "gatran",
    "faxine",
    "tidine",
    "dipine",
    "semide",
    "thiazide",
    "olone",
    "sone",
    "codone",
    "morphone",
    "barbital",
    "zepine",
    "peridone",
    "apine",
    "azine",
    "ximab",
    "zumab",
    "cept",
    "tide",
    "lexapro",
    "zoloft",
];
