"""Template data for the demo source (pure data, no logic).

Kept apart from `collectors.sources.demo` so the generator stays readable. Texts are
`str.format` templates whose ``{slot}`` names are filled from `SLOTS` in the post's
language; they deliberately use the words of `config/lexicons.yaml` so that every risk
flag fires on demo data. Everything here is fictional: the firm is "Aurelia Bank" /
"Banque Aurelia", its competitors "Northwind Bank" and "Crédit Lumière".
"""

from __future__ import annotations

# Category -> weight among original posts (duplicates and reposts come on top).
CATEGORY_WEIGHTS: dict[str, float] = {
    "complaint": 0.26,
    "fraud": 0.07,
    "legal": 0.04,
    "vulnerable": 0.015,
    "praise": 0.13,
    "question": 0.10,
    "sales_lead": 0.07,
    "competitor": 0.12,
    "spam": 0.06,
    "news": 0.135,
}

TEMPLATES: dict[str, dict[str, list[str]]] = {
    "complaint": {
        "en": [
            "{brand} app down again {since}. Can't log in and I need to pay rent today {neg}",
            "Is the {brand} app down for everyone or just me? Keeps crashing on the login screen",
            "{help} can't log in to online banking, just an error message every time {neg}",
            "Third time this week the Aurelia app is not working. Sort it out {brand} {neg}",
            "Website down, app won't load, phone line busy. Great job {brand} {neg}",
            "My card was declined at the grocery store in {city} with plenty of money in the account. "
            "Embarrassing. {help}",
            "{brand} blocked my card while I'm travelling and nobody answers the phone {neg}",
            "Card declined twice today for no reason. What is going on {help}?",
            "My new card never arrived, ordered it {days} days ago {brand}",
            "{brand} charged me a {fee} overdraft fee for being {small} over for one day. Ripoff {neg}",
            "Hidden charges everywhere. {fee} maintenance fee on my {product}?? {brand} {neg}",
            "Just noticed {brand} charged me {fee} in fees this month without any notice {neg}",
            "{brand} froze my account and won't tell me why. {days} days locked out {neg}",
            "Account locked after the update, can't access my account at all {help}",
            "Been on hold with {brand} for {minutes} minutes. Still no answer about my {product} {neg}",
            "{brand} your {product} process is a mess. {days} days and nothing {neg} {tag}",
        ],
        "fr": [
            "L'appli Aurelia est encore en panne {since} {neg} {brand}",
            "Impossible de me connecter à mon espace {brand} {since}, c'est pénible",
            "{help} l'appli plante dès que je veux faire un virement {neg}",
            "Site inaccessible et appli hors service, merci {brand} {neg}",
            "Ma carte bloquée en plein voyage à {city}, personne ne répond {brand} {neg}",
            "Paiement refusé au supermarché alors que j'ai de l'argent sur le compte {help}",
            "Carte jamais reçue après {days} jours d'attente, sérieusement {brand} ?",
            "{brand} m'a encore facturé {fee} de frais pour un découvert de 2 jours {neg}",
            "Des frais cachés partout, {fee} d'agios ce mois-ci {brand} {neg}",
            "{brand} a bloqué mon compte sans explication, {days} jours sans accès à mon compte {neg}",
            "Compte bloqué depuis la mise à jour, merci de me rappeler {help}",
            "{minutes} minutes d'attente au téléphone avec {brand}, toujours rien {neg} {tag}",
        ],
    },
    "fraud": {
        "en": [
            "Got a fake text pretending to be {brand} asking me to confirm my details at {phish}. "
            "Don't click!",
            "PSA: phishing SMS going around claiming to be Aurelia Bank, with a suspicious link {neg}",
            "Someone called pretending to be {help} and asked for my PIN. Hung up. "
            "Is this a known scam call?",
            "{count} unauthorized transactions on my {brand} card this morning, {amount} gone. "
            "I didn't authorize any of it {neg}",
            "Money stolen from my account and {brand} says wait 10 business days?? This is fraud {neg}",
            "My account hacked overnight, {amount} sent to someone in {city}. {help} please help",
            "Fake SMS from 'Aurelia Bank' says my card is suspended. Reported as smishing {tag}",
            "Was there a data breach at {brand}? Getting scam texts that know my account number",
            "{brand} charges I never made, {amount} at some online shop. Card is in my wallet {neg}",
        ],
        "fr": [
            "Attention faux SMS au nom de {brand} avec un lien suspect {phish} ! Arnaque",
            "Un faux conseiller Aurelia m'a appelé et m'a demandé mon code, tentative d'hameçonnage {neg}",
            "{count} opérations non autorisées sur ma carte {brand}, {amount} disparus {neg}",
            "Compte piraté cette nuit, {amount} envoyés à un inconnu {help} {neg}",
            "Des prélèvements inconnus sur mon compte {brand}, c'est de la fraude {neg}",
            "Carte volée à {city} et {brand} met {days} jours à rembourser {neg}",
            "Fuite de données chez {brand} ? Je reçois des SMS d'arnaque avec mon nom et mon IBAN",
        ],
    },
    "legal": {
        "en": [
            "Filed a complaint with the {reg} about {brand} today. Enough is enough {neg}",
            "If {brand} doesn't refund the {fee} by Friday I'm going to the {reg}",
            "{brand} I will report you to the {reg}. {days} days of excuses {neg}",
            "Talked to a lawyer about the way {brand} handled my mortgage. Legal action is next",
            "Anyone joining the class action against {brand} over overdraft fees? #classaction",
            "Going to sue {brand} in small claims court if I don't get my {amount} back {neg}",
            "Escalated to the ombudsman and the {reg}. {brand} won't get away with this",
            "My attorney sent {brand} a letter today. See you in court {neg}",
        ],
        "fr": [
            "Je vais saisir le médiateur et signaler {brand} à l'{reg} {neg}",
            "Plainte auprès de l'{reg} envoyée aujourd'hui contre {brand}",
            "Mon avocat prépare une mise en demeure contre {brand} {neg}",
            "Si {brand} ne me rembourse pas {amount} je porte plainte, point final",
            "Une action collective contre {brand} pour les frais ? Je suis partant",
            "Dossier transmis à la Banque de France et à l'{reg}, {brand} ne répond plus {neg}",
            "Je vais engager une action en justice contre {brand} {neg}",
        ],
    },
    "vulnerable": {
        "en": [
            "My husband died last month and {brand} keeps sending letters in his name. "
            "I don't know what to do {sad}",
            "Lost my job and {brand} still charged me overdraft fees. Can't afford food this week {sad}",
            "My mum passed away and the bereavement team at {brand} hasn't called back in {days} days",
            "I'm terminally ill and need access to my savings account, {help} please call me",
        ],
        "fr": [
            "Mon père est décédé et {brand} me demande encore des papiers, "
            "le deuil c'est déjà assez dur {sad}",
            "J'ai perdu mon emploi et plus de quoi manger, {brand} prélève quand même les agios {sad}",
            "Gravement malade, j'ai besoin de débloquer mon épargne, {help} rappelez-moi svp",
        ],
    },
    "praise": {
        "en": [
            "Shoutout to {help}, sorted my issue in {minutes} minutes {pos}",
            "Honestly the new {brand} app update is great. Budgets finally make sense {pos}",
            "Paid with Aurelia Pay everywhere in {city} this weekend, smooth {pos}",
            "Big thanks to the {brand} branch in {city}, super helpful with my {product} {pos}",
            "10 years with {brand} and still happy. Rare for a bank {pos} {tag}",
            "{brand} refunded me the same day, no questions asked. Impressed {pos}",
            "Love that {brand} sends an instant notification for every payment {pos}",
            "Whoever designed the {brand} savings goals feature, thank you {pos}",
        ],
        "fr": [
            "Merci {help} pour la réponse rapide, problème réglé en {minutes} minutes {pos}",
            "La nouvelle appli {brand} est vraiment top {pos}",
            "Super accueil à l'agence {brand} de {city}, conseillère au top {pos}",
            "Payé avec Aurelia Pay tout le week-end à {city}, nickel {pos}",
            "Client {brand} depuis 8 ans et toujours satisfait {pos} {tag}",
            "Remboursé en une journée par {brand}, bravo {pos}",
        ],
    },
    "question": {
        "en": [
            "How do I add my card to Aurelia Pay on Android? {help}",
            "Does anyone know if {brand} charges for international transfers?",
            "Is it possible to change my mortgage payment date with {brand}?",
            "How long does it take {brand} to send a replacement card?",
            "Can I open a savings account for my kid at {brand} online?",
            "{help} how can I increase my contactless limit in the app?",
            "What is the daily ATM limit on the {brand} debit card? Any idea?",
        ],
        "fr": [
            "Comment faire pour ajouter ma carte à Aurelia Pay ? {help}",
            "Quelqu'un sait si {brand} facture les virements à l'étranger ?",
            "Est-il possible de modifier la date de prélèvement de mon prêt chez {brand} ?",
            "Combien de temps pour recevoir une nouvelle carte {brand} ?",
            "{help} savez-vous comment augmenter mon plafond de paiement ?",
            "Est-ce que je peux ouvrir un livret pour mon fils en ligne chez {brand} ?",
        ],
    },
    "sales_lead": {
        "en": [
            "Looking for a mortgage in {city}, anyone tried {brand}? Their rate looks decent",
            "Thinking of switching to {brand}, what's their best savings rate right now?",
            "Can anyone recommend a bank for a small business? Considering {brand}",
            "Want to open an account with {brand}, is the app any good?",
            "Looking for a new bank after {days} years, {brand} or Northwind Bank?",
            "Need a loan for a car, interested in what {brand} offers",
        ],
        "fr": [
            "Je cherche une banque pour un prêt immobilier à {city}, des avis sur {brand} ?",
            "Envie de changer de banque, {brand} a le meilleur taux sur le livret ?",
            "Je voudrais ouvrir un compte chez {brand}, l'appli est bien ?",
            "Intéressée par l'offre jeunes de {brand}, quelqu'un a testé ?",
            "Besoin d'un prêt pour des travaux, {brand} ou Crédit Lumière ?",
        ],
    },
    "competitor": {
        "en": [
            "Just switched to {comp}, their app is so much faster {pos}",
            "{comp} charged me a {fee} fee for a paper statement. Unreal {neg}",
            "{comp} app not working again today {neg}",
            "Honestly {comp} customer service beats every other bank I've used {pos}",
            "{comp} offering 4.5% on savings now, that's a good deal",
            "Waited {minutes} minutes on the phone with {comp}, gave up {neg}",
            "New {comp} ad campaign is everywhere in {city}",
        ],
        "fr": [
            "Passé chez {comp}, l'appli est bien plus rapide {pos}",
            "{comp} m'a facturé {fee} pour un relevé papier, sérieux {neg}",
            "L'appli {comp} ne marche pas ce matin {neg}",
            "Très bon conseiller chez {comp} à {city} {pos}",
            "{comp} lance un livret à 3,5 %, pas mal",
        ],
    },
    "spam": {
        "en": [
            "🚀 CRYPTO GIVEAWAY for {brand} customers! Click here {spam} to double your BTC",
            "Earn $500 a day, work from home and earn like me. DM me for details {tag}",
            "Guaranteed returns 20% weekly, free money, {brand} users click here {spam}",
            "Airdrop live now 🎁 connect your wallet at {spam} #AureliaBank #crypto",
        ],
        "fr": [
            "🎁 Cadeau crypto pour les clients {brand} ! Cliquez ici {spam}",
            "Argent facile : rendement garanti de 15 % par mois, contactez-moi en MP",
            "Gagnez de l'argent depuis chez vous, cliquez ici {spam} #BanqueAurelia",
        ],
    },
    "news": {
        "en": [
            "Aurelia Bank opens a new branch in {city}",
            "Aurelia Bank reports quarterly results in line with expectations",
            "Aurelia Bank to sponsor the {city} marathon this spring",
            "Aurelia Bank launches Aurelia Pay for smartwatches",
            "Regional banks including Aurelia Bank and Northwind Bank raise savings rates",
            "Saw an Aurelia Bank billboard on the way to work in {city}",
            "Aurelia Bank names new chief technology officer",
        ],
        "fr": [
            "Banque Aurelia ouvre une nouvelle agence à {city}",
            "Banque Aurelia publie des résultats trimestriels stables",
            "Banque Aurelia partenaire du semi-marathon de {city}",
            "Banque Aurelia lance Aurelia Pay sur les montres connectées",
            "Vu une pub Banque Aurelia dans le métro à {city}",
        ],
    },
}

# Slot values per language. `amount`, `fee`, `days`... are drawn by the generator instead.
# The demo's recurring crisis is an outage: the complaint templates about the app or site being down.
CRISIS_TEMPLATES: dict[str, list[str]] = {
    "en": TEMPLATES["complaint"]["en"][:5],
    "fr": TEMPLATES["complaint"]["fr"][:4],
}

SLOTS: dict[str, dict[str, list[str]]] = {
    "en": {
        "brand": ["@AureliaBank", "@AureliaBank", "Aurelia Bank", "Aurelia Bank", "Aurelia"],
        "help": ["@AureliaHelp", "@AureliaBank"],
        "product": ["card", "debit card", "credit card", "mortgage", "savings account", "app", "Aurelia Pay",
                    "current account"],
        "city": ["Boston", "Chicago", "Denver", "Austin", "Seattle", "Portland", "Atlanta", "Phoenix",
                 "Miami", "Detroit", "Cleveland", "San Diego"],
        "since": ["since this morning", "for two hours", "since 8am", "all day", "since last night",
                  "since 6:30am", "for the third day"],
        "reg": ["CFPB", "FINRA", "SEC", "CFPB"],
        "comp": ["Northwind Bank", "@NorthwindBank", "Northwind", "Crédit Lumière"],
        "neg": ["😡", "🤬", "😤", "🙄", "", "", "#fail", "#AureliaBank"],
        "pos": ["🙌", "👏", "💙", "😊", "", "#AureliaBank", "👍"],
        "sad": ["😢", "💔", "", ""],
        "tag": ["#AureliaBank", "#banking", "#customerservice", "#fintech", ""],
        "phish": ["https://aurelia-secure.example/verify", "https://aureliabank-login.example",
                  "https://bit.example/aur3lia"],
        "spam": ["https://crypto-drop.example/aurelia", "https://free-btc.example",
                 "https://bit.example/x2btc"],
    },
    "fr": {
        "brand": ["@BanqueAurelia", "@BanqueAurelia", "Banque Aurelia", "Banque Aurelia", "Aurelia"],
        "help": ["@AureliaHelp", "@BanqueAurelia"],
        "product": ["carte", "carte bancaire", "prêt immobilier", "livret d'épargne", "appli", "Aurelia Pay",
                    "compte courant"],
        "city": ["Lyon", "Paris", "Marseille", "Toulouse", "Nantes", "Lille", "Bordeaux", "Strasbourg",
                 "Montpellier", "Rennes", "Genève", "Bruxelles"],
        "since": ["depuis ce matin", "depuis 2 heures", "depuis hier soir", "toute la journée", "depuis 8h",
                     "pour la 3e fois cette semaine"],
        "reg": ["ACPR", "AMF"],
        "comp": ["Crédit Lumière", "@CreditLumiere", "Credit Lumiere", "Northwind Bank"],
        "neg": ["😡", "🤬", "😤", "🙄", "", "", "#BanqueAurelia"],
        "pos": ["🙌", "👏", "💙", "😊", "", "#BanqueAurelia", "👍"],
        "sad": ["😢", "💔", "", ""],
        "tag": ["#BanqueAurelia", "#banque", "#serviceclient", "#fintech", ""],
        "phish": ["https://aurelia-securite.example/verif", "https://banqueaurelia-client.example"],
        "spam": ["https://crypto-cadeau.example/aurelia", "https://gain-facile.example"],
    },
}

FIRST_NAMES: dict[str, list[str]] = {
    "en": ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Emily",
           "Chris", "Sarah", "Daniel", "Jessica", "Matt", "Ashley", "Tyler", "Megan", "Kevin", "Laura",
           "Brian", "Rachel", "Jason", "Nicole", "Ryan", "Olivia", "Marcus", "Aisha", "Diego", "Priya",
           "Kenji", "Grace", "Tom", "Hannah", "Sam", "Zoe", "Luis", "Chloe", "Andre", "Maya"],
    "fr": ["Camille", "Léa", "Manon", "Chloé", "Inès", "Julie", "Sophie", "Élodie", "Amélie", "Margaux",
           "Lucas", "Hugo", "Louis", "Théo", "Nathan", "Julien", "Mathieu", "Nicolas", "Antoine", "Karim",
           "Yasmine", "Bastien", "Clément", "Aurélie", "Gaëlle", "Rémi", "Sébastien", "Fatou", "Lina",
           "Paul"],
}
LAST_NAMES: dict[str, list[str]] = {
    "en": ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
           "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White",
           "Harris", "Clark", "Lewis", "Walker", "Young", "King", "Wright", "Nguyen", "Patel", "Kim",
           "Okafor"],
    "fr": ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
           "Simon", "Laurent", "Lefèvre", "Michel", "Garnier", "Faure", "Rousseau", "Mercier", "Bonnet",
           "Girard", "Lambert", "Fontaine", "Chevalier", "Benali", "Diallo", "Nguyen", "Roux", "Blanc",
           "Perrin", "Morel"],
}

# News outlets: (handle, display name, followers) per language.
OUTLETS: dict[str, list[tuple[str, str, int]]] = {
    "en": [("dailyledger", "The Daily Ledger", 184000), ("bankwirenews", "BankWire News", 52000),
           ("metrobiz", "Metro Business Journal", 23000), ("fintechweekly", "Fintech Weekly", 9100)],
    "fr": [("lejournaldelepargne", "Le Journal de l'Épargne", 61000),
           ("financeinfo_fr", "Finance Info", 27000), ("echosregion", "Les Échos de la Région", 8400)],
}

# Subreddits per language, used in reddit URLs.
SUBREDDITS: dict[str, list[str]] = {
    "en": ["personalfinance", "banking", "povertyfinance", "fintech"],
    "fr": ["vosfinances", "france", "conseiljuridique"],
}

# Quote-style repost openers, per language (RT style is "RT @handle: text").
QUOTE_OPENERS: dict[str, list[str]] = {
    "en": ["This 👇", "Same here.", "Not just me then.", "Wow.", "Can confirm.", "+1"],
    "fr": ["Pareil 👇", "Pas que moi alors.", "Idem.", "Je confirme.", "+1"],
}

# Optional openers that make two uses of one template read differently, by mood.
OPENERS: dict[str, dict[str, list[str]]] = {
    "neg": {
        "en": ["Ugh.", "Seriously?", "Unbelievable.", "Day 3 of this:", "Update:", "Again.", "FYI", "Wow.",
               "Not impressed.", "Heads up:"],
        "fr": ["Sérieusement ?", "Incroyable.", "Encore.", "Mise à jour :", "Ras le bol.", "Bref.",
               "Franchement,", "Au secours."],
    },
    "pos": {
        "en": ["Credit where it's due:", "Happy customer here.", "Nice!", "Small win today:", "Well done."],
        "fr": ["Il faut le dire :", "Client content.", "Top !", "Petite victoire :", "Bravo."],
    },
    "ask": {
        "en": ["Quick question:", "Hi all,", "Hey,", "Help please:", "Newbie here."],
        "fr": ["Petite question :", "Bonjour,", "Salut,", "Besoin d'aide :", "Question bête :"],
    },
}
# Personal details after the text: two people rarely write the very same post, and the
# pipeline clusters identical texts as one (a repost), so without them the demo's queues
# would fill with "copies". Same moods as OPENERS; none for news, spam or vulnerable customers.
TAILS: dict[str, dict[str, list[str]]] = {
    "neg": {
        "en": ["Account ending {last4}.", "Case #{case}, still nothing.", "Tried the {city} branch too.",
               "It's {clock} and still nothing.", "Called {times} times today.", "Ref {case}.",
               "Card ending {last4}.", "On hold {minutes} min so far.", "(branch in {city})"],
        "fr": ["Compte finissant par {last4}.", "Dossier n°{case}, toujours rien.", "Même à l'agence de {city}.",
               "Il est {clock} et toujours rien.", "Appelé {times} fois aujourd'hui.", "Réf. {case}.",
               "Carte finissant par {last4}.", "En attente depuis {minutes} min.", "(agence de {city})"],
    },
    "pos": {
        "en": ["Thanks to the {city} branch team.", "Sorted by {clock}.", "Took {minutes} minutes.",
               "Ref {case} if anyone from the team reads this.", "Customer for {days} years."],
        "fr": ["Merci à l'agence de {city}.", "Réglé avant {clock}.", "En {minutes} minutes.",
               "Réf. {case} si l'équipe passe par là.", "Client depuis {days} ans."],
    },
    "ask": {
        "en": ["(I'm in {city})", "Asking before {clock} if possible.", "Been a customer {days} years.",
               "Thanks in advance!", "DMs open, ref {case}."],
        "fr": ["(je suis à {city})", "Réponse avant {clock} si possible.", "Client depuis {days} ans.",
               "Merci d'avance !", "MP ouverts, réf. {case}."],
    },
}
TAILS["chat"] = {
    "en": ["Just saying.", "Thoughts?", "(seen in {city})", "Anyone else?", "Noticed at {clock}.",
           "Been {days} years with them.", ""],
    "fr": ["Je dis ça…", "Des avis ?", "(vu à {city})", "D'autres ?", "Vu à {clock}.", "Client depuis {days} ans.", ""],
}
TAIL_SHARE = 0.8

# (No openers for vulnerable customers: "Wow." before a bereavement reads as a joke.)
MOODS: dict[str, str] = {"complaint": "neg", "fraud": "neg", "legal": "neg", "praise": "pos",
                         "question": "ask", "sales_lead": "ask"}

# Which tails each category takes (news, spam and vulnerable customers take none).
TAIL_MOODS: dict[str, str] = {**MOODS, "competitor": "chat"}
