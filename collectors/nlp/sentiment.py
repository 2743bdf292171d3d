"""Sentiment of a social post in English or French: a score in [-1, 1] and a label.

Method. One linear model per language (negative / neutral / positive) over binary features:
lower-cased word unigrams (a ``~`` prefix marks words within three tokens after a negator such
as "not", "never", "n'", "pas", "jamais"), word bigrams, emoji and ``!``/``?`` runs; dense
features: per sentiment lexicon, the sums of the positive and negative valences of the post's
words (flipped inside a negation scope; English: VADER's lexicon, not its rule engine, which
would cost ~60 µs a call, and AFINN's; French: vaderSentiment-fr's and Pattern's); the mean of
spaCy ``fr_core_news_md``'s word vectors (English: GloVe's, through a second regression),
already multiplied by the model's weights so a word costs one look-up; and the valence of the
small hand-written banking lexicon below, a fixed prior (``DOMAIN_WEIGHT``) because tweet
corpora hardly hold banking words to learn it from.
The score is ``P(positive) - P(negative)``; the label is the most probable class. Other
languages get ``(0.0, "neutral")``: no model is shipped for them.

Why not VADER alone: it ignores French, and untuned it scores about 57 macro-recall on
TweetEval. Why not a transformer: the pipeline needs thousands of posts/s on one CPU core with
nothing downloaded at run time. Scoring here is a few dict look-ups per word.

Training (``python -m collectors.nlp.train_sentiment``, recipes, data, licences and
cross-validated figures: see that module; `vigie model train` runs it) writes
``collectors/nlp/data/sentiment_model.json.gz``, read here with the standard library: per
language, the weights, the lexicons' tables and the folded vector table, so nothing else is
read at run time. If that file is missing, the banking lexicon alone decides (documented
fallback, not an error). Figures and speed: ``python benchmarks/sentiment_eval.py``.

``DOMAIN_WEIGHT`` 2.0 rather than 1.0: the same 5-fold cross-validated figures on the public
tweets (French macro-F1 68.3 both, English macro-recall 65.1 vs 65.0, before the vectors' prior),
and the word vectors no longer outvote a bank complaint as short as "appli en panne".
"""

from __future__ import annotations

import gzip
import json
import math
import re
from array import array
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
SUPPORTED: frozenset[str] = frozenset({"en", "fr"})
MODEL_PATH = Path(__file__).with_name("data") / "sentiment_model.json.gz"
MAX_CHARS = 1000  # sentiment of a 10,000-char post is decided by its opening anyway

_URL_OR_HANDLE = re.compile(r"https?://\S+|www\.\S+|@\w+")
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_ELONGATED = re.compile(r"(.)\1{2,}")
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*|[!?]+|[.,;:]+|[\U0001F300-\U0001FAFF\u2600-\u27BF]")
BREAK = ","  # the token a clause's punctuation (. , ; :) becomes: it ends a negation's scope and a bigram
_ELISIONS = frozenset({"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu"})
_NEGATORS = frozenset(
    {"not", "no", "never", "nothing", "nobody", "none", "nor", "cannot", "without", "dont", "cant",
     "wont", "isnt", "ne", "n'", "pas", "jamais", "rien", "aucun", "aucune", "sans", "ni"}
)
NEGATION_SCOPE = 3
DOMAIN_WEIGHT = 2.0  # logit shift per unit of banking-lexicon valence, towards pos/neg

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


def decode(text: str) -> str:
    """Literal ``\\uXXXX`` escapes decoded: tweet datasets (SemEval's, TweetEval's) and text passed
    through JSON twice write ``’`` and ``,`` as ``\\u2019`` and ``\\u002c``, an emoji as a pair of
    surrogates (``\\ud83d\\ude0d``), joined back here (a lone one becomes U+FFFD)."""
    if "\\u" not in text:
        return text
    out = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    if any("\ud800" <= ch <= "\udfff" for ch in out):
        out = out.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return out


def tokenize(text: str) -> list[str]:
    """Lower-cased word, emoji and ``!?`` tokens, and ``BREAK`` for a clause's punctuation; URLs
    and @handles dropped, '#' kept off.

    French elisions are split ("l'appli" → "l'", "appli") so the content word matches
    the same feature whether or not it follows an article; English contractions stay
    whole ("don't"), apostrophes normalised first, literal ``\\uXXXX`` escapes decoded first
    (``don\\u2019t`` is "don't", not "don", "u", "t").
    """
    text = _URL_OR_HANDLE.sub(" ", decode(text[:MAX_CHARS]).lower().replace("\u2019", "'"))
    text = _ELONGATED.sub(r"\1\1", text)
    tokens: list[str] = []
    for tok in _TOKEN.findall(text):
        head, sep, rest = tok.partition("'")
        if sep and rest and head in _ELISIONS:
            tokens.append(head + "'")
            tokens.append(rest)
        elif tok[0] in "!?":
            tokens.append(tok[:1])
        elif tok[0] in ".,;:":
            tokens.append(BREAK)
        else:
            tokens.append(tok)
    return tokens


Lexicons = Mapping[str, Mapping[str, float]]  # prefix ("v", "p") → word → valence


def steps(tokens: Iterable[str]) -> Iterator[tuple[str, bool, str]]:
    """The token walk that the features and their explanation share: each token, whether a negation
    covers it (the ``NEGATION_SCOPE`` tokens after a negator, up to a clause's punctuation: "nobody
    answers, unacceptable" is not "not unacceptable") and the bigram it ends ("" at a clause's start)."""
    scope = 0
    prev = ""
    for tok in tokens:
        if tok == BREAK:
            scope = 0
            prev = ""
            continue
        negated = scope > 0
        if scope:
            scope -= 1
        yield tok, negated, (prev + " " + tok) if prev else ""
        if tok in _NEGATORS or tok.endswith("n't"):
            scope = NEGATION_SCOPE
        prev = tok


def walk(text: str, language: str, lexicons: Lexicons,
         vector_words: Mapping[str, int] | None = None) -> tuple[dict[str, float], list[int]]:
    """One pass over the tokens: the sparse features (below) and the vector rows of the words the
    model's vector table holds (every occurrence, in order; empty without a table)."""
    feats: dict[str, float] = {}
    bank = BANKING_LEXICON.get(language, {}).get
    tables = [(prefix, table.get) for prefix, table in lexicons.items()]
    sums = [[0.0, 0.0] for _ in tables]
    rows: list[int] = []
    row_of = vector_words.get if vector_words is not None else None
    dom = 0.0
    for tok, negated, bigram in steps(tokenize(text)):
        if negated:
            feats["~" + tok] = 1.0
            sign = -1.0
        else:
            feats[tok] = 1.0
            sign = 1.0
        if bigram:
            feats[bigram] = 1.0
            dom += bank(bigram, 0.0)
        dom += sign * bank(tok, 0.0)
        for i, (_, get) in enumerate(tables):
            valence = sign * get(tok, 0.0)
            if valence > 0:
                sums[i][0] += valence
            elif valence < 0:
                sums[i][1] -= valence
        if row_of is not None:
            row = row_of(tok)
            if row is not None:
                rows.append(row)
    for (prefix, _), (pos, neg) in zip(tables, sums, strict=True):
        feats[f"_{prefix}pos"] = pos  # unscaled: 5-fold CV preferred it to /4
        feats[f"_{prefix}neg"] = neg
    feats["_dom"] = max(-2.0, min(2.0, dom / 3.0))
    return feats, rows


def features(text: str, language: str, lexicons: Lexicons | None = None) -> dict[str, float]:
    """The sparse feature dict shared by training and scoring.

    Binary lower-cased unigrams (``~`` prefix inside a negation scope: the ``NEGATION_SCOPE``
    tokens after a negator, up to a clause's punctuation), bigrams (not across that punctuation),
    emoji and ``!``/``?`` runs; per lexicon with prefix ``x``, ``_xpos``/``_xneg``: the sums of the positive
    and negative valences of the words it holds, flipped inside a negation scope. ``_dom``
    (banking lexicon valence / 3, clipped to ±2) is not learned: training drops it and scoring
    adds it with the fixed weight ``DOMAIN_WEIGHT``, because the tweet corpora hardly contain
    banking words to learn its weight from.
    """
    return walk(text, language, lexicons or {})[0]


class Model:
    """One language's weights as the scorer uses them: ``bias`` and ``weights`` (feature →
    [negative, neutral, positive] logit weights), the word lexicons behind the ``_x`` features,
    and optionally a word-vector table already multiplied by the model's vector weights, so a
    word's vector costs one look-up: ``rows[3*words[w]:3*words[w]+3]`` is what that word adds to
    the three logits; a post gets their sum over its words that have one, divided by their number
    plus ``prior``."""

    __slots__ = ("bias", "weights", "lexicons", "words", "rows", "prior")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.bias: list[float] = list(data["bias"])
        self.weights: dict[str, list[float]] = data["weights"]
        self.lexicons: dict[str, dict[str, float]] = data.get("lexicons", {})
        vectors = data.get("vectors")
        self.words: dict[str, int] | None = vectors["words"] if vectors else None
        # one flat array of doubles (3 per row): a tuple per row cost ~16 MB more for ~117,000 rows
        self.rows = array("d", (v for r in vectors["rows"] for v in r) if vectors else ())
        self.prior: float = vectors.get("prior", 0.0) if vectors else 0.0

    def walk(self, text: str, language: str) -> tuple[dict[str, float], list[int]]:
        return walk(text, language, self.lexicons, self.words)


def load_models(data: Mapping[str, Any]) -> dict[str, Model]:
    """The ``languages`` part of a model file (or of what training returns), ready to score."""
    return {language: Model(model) for language, model in data.items()}


FORMAT = 2  # what train_sentiment writes: per language, weights, lexicons' tables, vector table


def _read() -> dict[str, Any]:
    """The shipped file's ``languages`` (an empty dict when it is missing: the documented fallback);
    a file of another format, or one that is not a model file, is refused with what to do. Not
    cached: the scorer keeps only the ``Model`` objects (their vector table as one array, not the
    file's ~117,000 three-number lists)."""
    if not MODEL_PATH.exists():
        return {}
    try:
        with gzip.open(MODEL_PATH, "rt", encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as broken:
        raise ValueError(f"{MODEL_PATH}: not a readable sentiment model ({broken}): restore it from the "
                         "release or retrain it (vigie model train)") from broken
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise ValueError(f"{MODEL_PATH}: model file format {found!r}, this release reads {FORMAT}: "
                         "restore it from the release or retrain it (vigie model train)")
    languages: dict[str, Any] = data["languages"]
    return languages


@lru_cache(maxsize=1)
def _models() -> dict[str, Model]:
    """The shipped weights per language; an empty dict when the data file is missing."""
    return load_models(_read())


def model_figures() -> dict[str, dict[str, Any]]:
    """What the shipped file says of itself per language: the recipe, C, the training size and the
    cross-validated figures training printed (`vigie model train` shows them as "before")."""
    return {language: {k: v for k, v in model.items() if k not in ("weights", "lexicons", "vectors", "bias")}
            for language, model in _read().items()}


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
    added): unigrams (a negated one as its feature, "~<word>", which a page writes "not <word>" in
    the reader's language; a negator itself as it is), bigrams, and each word's share of the lexicon
    valences, of the banking lexicon and of the mean word vector. Sorted by weight, at most
    ``top``; empty for other languages.
    """
    if language not in SUPPORTED or not text or not text.strip():
        return []
    model = _models().get(language)
    weights: dict[str, list[float]] = model.weights if model else {}
    lexicons = model.lexicons if model else {}
    bank = BANKING_LEXICON.get(language, {})

    def lean(name: str) -> float:
        w = weights.get(name)
        return (w[2] - w[0]) if w is not None else 0.0

    leans = [(table, lean(f"_{prefix}pos"), lean(f"_{prefix}neg")) for prefix, table in lexicons.items()]
    words = model.words if model else None
    tokens = tokenize(text)
    with_vector = sum(1 for tok in tokens if words is not None and tok in words)
    pushes: dict[str, float] = {}
    present: set[str] = set()  # words and bigrams are binary features: a weight counts once

    def once(name: str) -> float:
        if name in present:
            return 0.0
        present.add(name)
        return lean(name)

    for tok, negated, bigram in steps(tokens):
        sign = -1.0 if negated else 1.0
        feature = ("~" + tok) if negated else tok
        # A negated word is shown as its feature (~word); a negator after another ("ne ... pas") as itself.
        shown = feature if negated and tok not in _NEGATORS and not tok.endswith("n't") else tok
        push = once(feature)
        for table, pos, neg in leans:
            valence = sign * table.get(tok, 0.0)
            push += pos * valence if valence > 0 else neg * -valence
        push += 2 * DOMAIN_WEIGHT * sign * bank.get(tok, 0.0) / 3.0
        if words is not None and model is not None and (row := words.get(tok)) is not None:
            push += (model.rows[3 * row + 2] - model.rows[3 * row]) / (with_vector + model.prior)
        if push:
            pushes[shown] = pushes.get(shown, 0.0) + push
        if bigram:
            push = once(bigram) + 2 * DOMAIN_WEIGHT * bank.get(bigram, 0.0) / 3.0
            if push:
                pushes[bigram] = pushes.get(bigram, 0.0) + push
    ranked = sorted(pushes.items(), key=lambda kv: -abs(kv[1]))
    return [(word, round(push, 2)) for word, push in ranked[:top] if abs(push) >= 0.05]


def score_sentiment(text: str, language: str, models: Mapping[str, Model] | None = None) -> tuple[float, str]:
    """``(P(pos) - P(neg), label)`` for English and French; ``(0.0, "neutral")`` otherwise.
    ``models`` replaces the shipped weights (`vigie model train` compares a retrained model)."""
    if language not in SUPPORTED or not text or not text.strip():
        return 0.0, "neutral"
    model = (_models() if models is None else models).get(language)
    if model is None:
        return _lexicon_only(features(text, language))
    feats, rows = model.walk(text, language)
    weights = model.weights
    z0, z1, z2 = model.bias
    shift = DOMAIN_WEIGHT * feats["_dom"]
    z0 -= shift
    z2 += shift
    for name, value in feats.items():
        w = weights.get(name)
        if w is not None:
            z0 += w[0] * value
            z1 += w[1] * value
            z2 += w[2] * value
    if rows:
        table = model.rows
        n = len(rows) + model.prior
        for row in rows:
            at = 3 * row
            r0, r1, r2 = table[at], table[at + 1], table[at + 2]
            z0 += r0 / n
            z1 += r1 / n
            z2 += r2 / n
    top = max(z0, z1, z2)
    e0, e1, e2 = math.exp(z0 - top), math.exp(z1 - top), math.exp(z2 - top)
    total = e0 + e1 + e2
    score = (e2 - e0) / total
    label = LABELS[0] if top == z0 else LABELS[2] if top == z2 else LABELS[1]
    return score, label
