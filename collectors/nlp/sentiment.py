"""Sentiment of a social post in English or French: a score in [-1, 1] and a label.

Method. One multinomial logistic regression per language (negative / neutral /
positive) over binary features: lower-cased word unigrams (a ``~`` prefix marks words
within three tokens after a negator such as "not", "never", "n'", "pas", "jamais"),
word bigrams, emoji and ``!``/``?`` runs, plus three dense features: the positive and
negative valence sums from VADER's lexicon (English only, looked up word by word with
the same negation flip, not VADER's full rule engine, which would cost ~60 µs a call)
and the valence sum of the small hand-written banking lexicon below (both languages).
The score is ``P(positive) - P(negative)``; the label is the most probable class.
Other languages get ``(0.0, "neutral")``: no model is shipped for them.

Why not VADER alone: it ignores French, and untuned it scores about 57 macro-recall on
TweetEval. Why not a transformer: the pipeline needs well over 3,000 posts/s on one CPU
core with nothing downloaded at run time. Scoring here is a few dict look-ups (~15 µs).

Training data and licences. Weights are trained offline by
``python -m collectors.nlp.train_sentiment`` (scikit-learn, never needed at run time)
on the XLM-T / UMSAB sentiment train splits (cardiffnlp/xlm-t @874214d, Apache-2.0
repository, dataset terms apply; the French part comes from DEFT-2017), 1,839 tweets per
language, C chosen by 5-fold cross-validation on train only. VADER's lexicon is read
from the installed ``vaderSentiment`` package (MIT). The banking lexicon is ours.
They ship as ``collectors/nlp/data/sentiment_model.json.gz`` read with the standard
library. If that file is missing, the banking lexicon alone decides (documented
fallback, not an error).

Measured (``python benchmarks/sentiment_eval.py``, validation splits, reported once):
TweetEval val macro-recall 81.3 on all 2,000 tweets, but 1,430 of them are in the
English train split; on the 570 unseen ones 66.5. XLM-T English val macro-F1 67.7
(unseen by training), XLM-T French val macro-F1 62.4. 5-fold CV macro-F1 on train:
English 62.2, French 58.7 (without the fixed banking prior). ~50 µs per call on the
shared, loaded 2-core dev machine.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
SUPPORTED: frozenset[str] = frozenset({"en", "fr"})
MODEL_PATH = Path(__file__).with_name("data") / "sentiment_model.json.gz"
MAX_CHARS = 1000  # sentiment of a 10,000-char post is decided by its opening anyway

_URL_OR_HANDLE = re.compile(r"https?://\S+|www\.\S+|@\w+")
_ELONGATED = re.compile(r"(.)\1{2,}")
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*|[!?]+|[\U0001F300-\U0001FAFF\u2600-\u27BF]")
_ELISIONS = frozenset({"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu"})
_NEGATORS = frozenset(
    {"not", "no", "never", "nothing", "nobody", "none", "nor", "cannot", "without", "dont", "cant",
     "wont", "isnt", "ne", "n'", "pas", "jamais", "rien", "aucun", "aucune", "sans", "ni"}
)
NEGATION_SCOPE = 3
DOMAIN_WEIGHT = 1.0  # logit shift per unit of banking-lexicon valence, towards pos/neg

# Banking vocabulary the general tweet corpora barely contain. Keys are one word or a
# two-word bigram exactly as the tokenizer produces them; values are on VADER's -4..4 scale.
BANKING_LEXICON: dict[str, dict[str, float]] = {
    "en": {
        "blocked": -2.0, "frozen": -1.5, "declined": -1.5, "scam": -3.0, "fraud": -2.5,
        "scammed": -3.0, "outage": -2.5, "down": -1.0, "app down": -2.5, "crashed": -2.0,
        "crashes": -2.0, "crashing": -2.0, "hidden fees": -3.0, "fees": -1.0, "overcharged": -2.5,
        "charged twice": -2.5, "refund": -0.5, "unauthorized": -2.0, "stolen": -2.5, "locked": -1.5,
        "again": -0.5, "still waiting": -2.0, "no response": -2.0, "on hold": -1.5, "useless": -2.5,
        "worst": -3.0, "terrible": -3.0, "awful": -3.0, "ridiculous": -2.5, "unacceptable": -3.0,
        "disgraceful": -3.0, "complaint": -1.5, "not working": -2.5, "doesnt work": -2.5,
        "can't login": -2.5, "cant login": -2.5, "third time": -1.5,
        # threats and fraud reports read as neutral to a tweet model, not to a bank
        "lawyer": -1.5, "legal action": -2.5, "sue": -2.5, "lawsuit": -2.5, "class action": -2.5,
        "court": -1.0, "never made": -2.0, "pretending": -2.0, "phishing": -2.5, "hacked": -3.0,
        "fake": -2.0, "disappeared": -2.0, "never arrived": -2.0, "froze": -2.0, "stolen card": -2.5,
        "thanks": 2.0, "thank": 2.0, "quick help": 2.5, "helpful": 2.5, "great service": 3.0,
        "resolved": 2.0, "sorted": 1.5, "fixed": 1.5, "love": 2.5, "excellent": 3.0, "smooth": 2.0,
        "recommend": 2.0, "fast": 1.0, "quick": 1.0, "easy": 1.5,
    },
    "fr": {
        "bloquée": -2.0, "bloqué": -2.0, "bloquer": -1.5, "carte bloquée": -3.0, "frais cachés": -3.0,
        "frais": -1.0, "cachés": -1.5, "panne": -2.5, "en panne": -3.0, "bug": -2.0, "beugue": -2.0,
        "arnaque": -3.5, "arnaqueurs": -3.5, "escroquerie": -3.5, "escrocs": -3.5, "fraude": -2.5,
        "scandale": -3.0, "scandaleux": -3.0, "honte": -3.0, "honteux": -3.0, "nul": -2.5, "nuls": -2.5,
        "nulle": -2.5, "lamentable": -3.0, "inadmissible": -3.0, "inacceptable": -3.0, "pire": -3.0,
        "déçu": -2.5, "déçue": -2.5, "déception": -2.5, "marre": -2.5, "ras le": -2.0, "galère": -2.0,
        "impossible": -1.5, "plainte": -2.0, "réclamation": -1.5, "rembourser": -1.0, "prélevé": -1.0,
        "toujours pas": -2.0, "aucune réponse": -2.5, "attente": -1.0,
        "avocat": -1.5, "porte plainte": -3.0, "tribunal": -2.0, "procès": -2.0, "faux": -1.5,
        "hameçonnage": -2.5, "piraté": -3.0, "disparus": -2.0, "volée": -2.5, "autorisées": -1.0,
        "inconnus": -1.5, "jamais reçue": -2.5, "demeure": -1.5, "usurpation": -2.5,
        "incompétents": -3.0, "catastrophe": -3.0, "catastrophique": -3.0, "fermer mon": -2.0,
        "merci": 2.0, "super": 2.5, "génial": 3.0, "excellent": 3.0, "parfait": 3.0, "top": 2.0,
        "bravo": 3.0, "rapide": 1.5, "efficace": 2.5, "réactif": 2.5, "réactifs": 2.5, "résolu": 2.0,
        "satisfait": 2.5, "satisfaite": 2.5, "recommande": 2.5, "aimable": 2.5, "sympa": 2.0,
        "adore": 3.0, "bien": 1.0, "content": 2.0, "contente": 2.0, "merci beaucoup": 3.0,
    },
}


def tokenize(text: str) -> list[str]:
    """Lower-cased word, emoji and ``!?`` tokens; URLs and @handles dropped, '#' kept off.

    French elisions are split ("l'appli" → "l'", "appli") so the content word matches
    the same feature whether or not it follows an article; English contractions stay
    whole ("don't"), apostrophes normalised first.
    """
    text = _URL_OR_HANDLE.sub(" ", text[:MAX_CHARS].lower().replace("\u2019", "'"))
    text = _ELONGATED.sub(r"\1\1", text)
    tokens: list[str] = []
    for tok in _TOKEN.findall(text):
        head, sep, rest = tok.partition("'")
        if sep and rest and head in _ELISIONS:
            tokens.append(head + "'")
            tokens.append(rest)
        elif tok[0] in "!?":
            tokens.append(tok[:1])
        else:
            tokens.append(tok)
    return tokens


def features(text: str, language: str, vader: dict[str, float] | None = None) -> dict[str, float]:
    """The feature dict shared by training and scoring (binary words, dense valences).

    Unigrams inside a negation scope get a ``~`` prefix and their lexicon valence flipped.
    ``_dom`` (banking lexicon valence / 3, clipped to ±2) is not learned: training drops
    it and scoring adds it with the fixed weight ``DOMAIN_WEIGHT``, because the tweet
    corpora hardly contain banking words to learn its weight from.
    """
    feats: dict[str, float] = {}
    lexicon = BANKING_LEXICON.get(language, {})
    lex_get = lexicon.get
    vader_get = vader.get if vader is not None else None
    negators = _NEGATORS
    vpos = vneg = dom = 0.0
    scope = 0
    prev = ""
    for tok in tokenize(text):
        if scope:
            feats["~" + tok] = 1.0
            sign = -1.0
            scope -= 1
        else:
            feats[tok] = 1.0
            sign = 1.0
        if prev:
            bigram = prev + " " + tok
            feats[bigram] = 1.0
            dom += lex_get(bigram, 0.0)
        dom += sign * lex_get(tok, 0.0)
        if vader_get is not None:
            valence = sign * vader_get(tok, 0.0)
            if valence > 0:
                vpos += valence
            else:
                vneg -= valence
        if tok in negators or tok.endswith("n't"):
            scope = NEGATION_SCOPE
        prev = tok
    if vader_get is not None:
        feats["_vpos"] = vpos  # unscaled: 5-fold CV preferred it to /4
        feats["_vneg"] = vneg
    feats["_dom"] = max(-2.0, min(2.0, dom / 3.0))
    return feats


@lru_cache(maxsize=1)
def vader_lexicon() -> dict[str, float]:
    """VADER's word → mean valence table, read from the installed package (MIT)."""
    table: dict[str, float] = {}
    text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            table[parts[0]] = float(parts[1])
    return table


def _vader_for(language: str) -> dict[str, float] | None:
    return vader_lexicon() if language == "en" else None


@lru_cache(maxsize=1)
def _models() -> dict[str, dict]:
    """The shipped weights per language; an empty dict when the data file is missing."""
    if not MODEL_PATH.exists():
        return {}
    with gzip.open(MODEL_PATH, "rt", encoding="utf-8") as handle:
        data = json.load(handle)
    return data["languages"]


def _lexicon_only(feats: dict[str, float]) -> tuple[float, str]:
    score = max(-1.0, min(1.0, feats["_dom"]))
    return score, _label_from_score(score)


def _label_from_score(score: float, margin: float = 0.25) -> str:
    if score <= -margin:
        return "negative"
    return "positive" if score >= margin else "neutral"


def explain_sentiment(text: str, language: str, top: int = 6) -> list[tuple[str, float]]:
    """The words that moved the score most, each with how far it pushed the post towards positive
    (+) or negative (-), in logit units (the difference of the positive and negative logits it
    added): unigrams (a negated one as "not <word>"), bigrams, and each word's share of the VADER
    and banking-lexicon valences. Sorted by weight, at most ``top``; empty for other languages.
    """
    if language not in SUPPORTED or not text or not text.strip():
        return []
    model = _models().get(language)
    weights: dict[str, list[float]] = model["weights"] if model else {}
    lexicon = BANKING_LEXICON.get(language, {})
    vader = _vader_for(language) or {}

    def lean(name: str) -> float:
        w = weights.get(name)
        return (w[2] - w[0]) if w is not None else 0.0

    vpos, vneg = lean("_vpos"), lean("_vneg")
    pushes: dict[str, float] = {}
    present: set[str] = set()  # words and bigrams are binary features: a weight counts once

    def once(name: str) -> float:
        if name in present:
            return 0.0
        present.add(name)
        return lean(name)

    scope = 0
    prev = ""
    for tok in tokenize(text):
        negated = scope > 0
        scope = scope - 1 if scope else 0
        sign = -1.0 if negated else 1.0
        shown = f"not {tok}" if negated else tok
        push = once(("~" + tok) if negated else tok)
        valence = sign * vader.get(tok, 0.0)
        push += vpos * valence if valence > 0 else vneg * -valence
        push += 2 * DOMAIN_WEIGHT * sign * lexicon.get(tok, 0.0) / 3.0
        if push:
            pushes[shown] = pushes.get(shown, 0.0) + push
        if prev:
            bigram = prev + " " + tok
            push = once(bigram) + 2 * DOMAIN_WEIGHT * lexicon.get(bigram, 0.0) / 3.0
            if push:
                pushes[bigram] = pushes.get(bigram, 0.0) + push
        if tok in _NEGATORS or tok.endswith("n't"):
            scope = NEGATION_SCOPE
        prev = tok
    ranked = sorted(pushes.items(), key=lambda kv: -abs(kv[1]))
    return [(word, round(push, 2)) for word, push in ranked[:top] if abs(push) >= 0.05]


def score_sentiment(text: str, language: str, models: dict[str, dict] | None = None) -> tuple[float, str]:
    """``(P(pos) - P(neg), label)`` for English and French; ``(0.0, "neutral")`` otherwise.
    ``models`` replaces the shipped weights (`vigie model train` compares a retrained model)."""
    if language not in SUPPORTED or not text or not text.strip():
        return 0.0, "neutral"
    feats = features(text, language, _vader_for(language))
    model = (_models() if models is None else models).get(language)
    if model is None:
        return _lexicon_only(feats)
    weights: dict[str, list[float]] = model["weights"]
    z0, z1, z2 = model["bias"]
    shift = DOMAIN_WEIGHT * feats["_dom"]
    z0 -= shift
    z2 += shift
    for name, value in feats.items():
        w = weights.get(name)
        if w is not None:
            z0 += w[0] * value
            z1 += w[1] * value
            z2 += w[2] * value
    top = max(z0, z1, z2)
    e0, e1, e2 = math.exp(z0 - top), math.exp(z1 - top), math.exp(z2 - top)
    total = e0 + e1 + e2
    score = (e2 - e0) / total
    label = LABELS[0] if top == z0 else LABELS[2] if top == z2 else LABELS[1]
    return score, label
