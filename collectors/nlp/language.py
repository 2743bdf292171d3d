"""Language of a social post as an ISO 639-1 code, or "und" when there is too little text.

Method. py3langid (a BSD-3-Clause fork of Marco Lui's langid.py; its naive-Bayes byte
n-gram model ships inside the package, nothing is downloaded) restricted to the
``LANGUAGES`` a European bank's mentions plausibly use, with the priors of English and
French raised by ``PRIOR_BOOST`` (they are the product's main languages, and a short
"super service, merci" would otherwise go to Danish). Before classifying we drop URLs,
@handles, '#' signs, emoji and digits, which carry no language but cost time, and keep
the first ``MAX_BYTES`` bytes: the byte-by-byte automaton walk is the whole cost, and
300 bytes decide any language we care about.

The model is loaded once, lazily (about 1 s), and its weight table is cut to our
languages, which makes a call faster than py3langid's own ``classify``. That relies on
py3langid 0.4's model attributes; with another layout we fall back to its ``classify``.

A platform's own language field (``hint``) is trusted when the text is short (fewer than
``SHORT_LETTERS`` letters) or the model is unsure (probability below ``MIN_CONFIDENCE``),
provided it is a plausible code ("fr", "en-GB", "pt_BR" → "pt"); "und", "zxx" and the like
are not. Text with fewer than two letters is "und" whatever the hint says.

Measured (``python benchmarks/sentiment_eval.py``): 100.0 % on the XLM-T English and
99.1 % on the French validation tweets; ~110 µs per call on the shared, loaded 2-core
dev machine (the byte automaton walk in pure Python is nearly all of it).
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import Any

UNDETERMINED = "und"
LANGUAGES: tuple[str, ...] = (
    "en", "fr", "es", "de", "it", "nl", "pt", "ca", "ro", "pl", "sv", "da", "no", "fi", "cs", "hu",
    "el", "tr", "ru", "uk", "ar", "he", "fa", "hi", "zh", "ja", "ko", "vi", "id", "th",
)
PRIOR_BOOST: dict[str, float] = {"en": math.log(10.0), "fr": math.log(10.0)}
MAX_INPUT_CHARS = 600  # cleaned with regexes before the byte cut; bounds their cost too
MAX_BYTES = 300
SHORT_LETTERS = 25
MIN_CONFIDENCE = 0.6

_NOISE = re.compile(r"https?://\S+|www\.\S+|@\w+|[#\d_]|[^\w\s'’.,;:!?()\"«»-]")
_SPACES = re.compile(r"\s+")
_NON_LETTER = re.compile(r"[\W\d_]+")

# Words frequent in one of our two main languages and absent from the other (and from
# their close neighbours es/it/pt/ca): with two of one and none of the other, the post
# is decided without the byte model, which is most of the cost. Validated on the XLM-T
# English and French validation tweets (see benchmarks/sentiment_eval.py).
_EN_WORDS = frozenset(
    "the and is my to you for of with it this that your have was are be just what why how they we "
    "will get got has had from about but if all been were would can't don't i'm it's their them "
    "thanks please again account today anyone really still there our does did not at every other after now "
    "new same day here where when which who what could should very more most some any many much only also "
    "back into out up than then these those us good great free money customer looking".split()
)
_FR_WORDS = frozenset(
    "je vous est les des une pour avec pas mon mes cette sur et le du au aux nous mais suis ai "
    "c'est j'ai n'est qu'il ça très depuis encore toujours votre vos "
    "merci bonjour compte aujourd'hui vraiment rien chez quand comme fait être elle sont ont leur cela dans "
    "bien tout tous aussi alors donc après avant sans sous jours mois ans nouvelle nouveau déjà jamais carte "
    "banque agence faire peut veux dois vais lance ouvre plainte".split()
)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
FAST_MIN_WORDS = 2

_lock = threading.Lock()
_model: _Model | None = None


class _Model:
    """py3langid's automaton and naive-Bayes table, restricted to ``LANGUAGES``."""

    def __init__(self) -> None:
        import numpy as np
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        ident: Any = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        self.known: frozenset[str] = frozenset(c for c in ident.nb_classes if len(c) == 2)
        self.fallback: Any = None
        try:
            classes = list(ident.nb_classes)
            columns = [classes.index(code) for code in LANGUAGES]
            self.table = np.ascontiguousarray(ident.nb_ptc[:, columns], dtype=np.float32)
            prior = np.asarray(ident.nb_pc, dtype=np.float32)[columns]
            self.prior = prior + np.array([PRIOR_BOOST.get(c, 0.0) for c in LANGUAGES], dtype=np.float32)
            self.next_move: Sequence[int] = ident.tk_nextmove  # ~10M entries: not copied
            self.row_base: list[int] = [r << 8 for r in ident.tk_row]
            self.output: list[int] = list(ident.tk_output)
        except (AttributeError, ValueError, TypeError):  # another py3langid layout: slower path
            ident.set_languages(list(LANGUAGES))
            self.fallback = ident
        self.np = np

    def classify(self, data: bytes) -> tuple[str, float]:
        """Most probable language of UTF-8 ``data`` and its (length-calibrated) probability."""
        if self.fallback is not None:
            code, prob = self.fallback.classify(data)
            return str(code), float(prob)
        next_move, row_base, output = self.next_move, self.row_base, self.output
        state = 0
        hits: list[int] = []
        append = hits.append
        for byte in data:
            state = next_move[row_base[state] + byte]
            feature = output[state]
            if feature >= 0:
                append(feature)
        if not hits:
            return UNDETERMINED, 0.0
        np = self.np
        counts = Counter(hits)
        index = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        weight = np.log1p(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))
        scores = (weight @ self.table[index] + self.prior) / math.sqrt(len(data))
        best = int(scores.argmax())
        probs = np.exp(scores - scores[best])
        return LANGUAGES[best], float(1.0 / probs.sum())


def _get_model() -> _Model:
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = _Model()
    return _model


def clean_for_detection(text: str) -> str:
    """The text with URLs, @handles, '#' signs, digits and emoji/symbols removed."""
    return _SPACES.sub(" ", _NOISE.sub(" ", text[:MAX_INPUT_CHARS])).strip()


def normalize_hint(hint: str | None) -> str | None:
    """"fr", "FR", "fr-CA", "pt_BR" → a two-letter code py3langid knows; anything else → None."""
    if not hint:
        return None
    code = hint.strip().lower().replace("_", "-").split("-", 1)[0]
    if len(code) != 2 or not code.isalpha():
        return None
    return code if code in _get_model().known or code in LANGUAGES else None


def detect_language(text: str, hint: str | None = None) -> str:
    """ISO 639-1 code of ``text`` ("en", "fr", …) or "und"; see the module docstring."""
    cleaned = clean_for_detection(text or "")
    letters = len(_NON_LETTER.sub("", cleaned))
    if letters < 2:
        return UNDETERMINED
    if letters >= SHORT_LETTERS:
        words = _WORD.findall(cleaned.lower().replace("’", "'"))
        english = sum(1 for w in words if w in _EN_WORDS)
        french = sum(1 for w in words if w in _FR_WORDS)
        if english >= FAST_MIN_WORDS and not french:
            return "en"
        if french >= FAST_MIN_WORDS and not english:
            return "fr"
    if cleaned.isupper():
        cleaned = cleaned.lower()  # the model was trained on mixed case; shouting skews it
    data = unicodedata.normalize("NFC", cleaned).encode("utf-8", errors="ignore")[:MAX_BYTES]
    code, probability = _get_model().classify(data)
    if letters < SHORT_LETTERS or probability < MIN_CONFIDENCE:
        trusted = normalize_hint(hint)
        if trusted is not None:
            return trusted
    return code
