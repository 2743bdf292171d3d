"""Bring your own sentiment model (issue 18, item 2): the `sentiment:rescore` job with a real ONNX
model and a real tokenizer, both built here (nothing downloaded), on SQLite and PostgreSQL.

The model reads one made-up word, "blorf", as very negative and "yay" as very positive; the shipped
model knows neither, so it calls them neutral: the two disagree, and the firm's model decides.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from collectors.jobs.rescore_sentiment import run_rescore_sentiment
from collectors.nlp.onnx_sentiment import ModelError
from config.checks import ConfigError
from config.sentiment_model import SentimentModelConfig
from config.settings import Settings, load_settings
from models import actions
from models.db import Database
from models.judgement_tables import ModelScore
from models.sla import SlaClock
from models.summary_fold import fold
from models.summary_tables import (
    SummaryCount,
    SummaryFoldedItem,
    SummaryFoldedMention,
    SummaryFoldMark,
    WallBrandHour,
    WallHourCount,
)
from models.tables import AuditEvent, Mention, QueueItem
from tests.kit import seed_items

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
tokenizers = pytest.importorskip("tokenizers")

VOCAB = {"[PAD]": 0, "[UNK]": 1, "blorf": 2, "yay": 3, "glitch": 99}  # "glitch": past the model's table
# One row of class logits (negative, neutral, positive) per token; a text's logits are the sum
# over its tokens (padding masked out) plus a small lean to neutral.
WEIGHTS = [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [4.0, 0.0, -1.0], [-1.0, 0.0, 4.0]]
BIAS = [0.0, 0.5, 0.0]


def build_model(folder: Path, labels: int = 3) -> SentimentModelConfig:
    """A tiny sequence classifier as an ONNX file (Gather, mask, ReduceSum, Add) and its tokenizer."""
    from onnx import TensorProto, helper

    weights = [row[:labels] for row in WEIGHTS]
    graph = helper.make_graph(
        [
            helper.make_node("Gather", ["embedding", "input_ids"], ["per_token"]),
            helper.make_node("Cast", ["attention_mask"], ["mask_float"], to=TensorProto.FLOAT),
            helper.make_node("Unsqueeze", ["mask_float", "last_axis"], ["mask3"]),
            helper.make_node("Mul", ["per_token", "mask3"], ["masked"]),
            helper.make_node("ReduceSum", ["masked", "token_axis"], ["summed"], keepdims=0),
            helper.make_node("Add", ["summed", "bias"], ["logits"]),
        ],
        "sentiment",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", labels])],
        [helper.make_tensor("embedding", TensorProto.FLOAT, [len(WEIGHTS), labels], sum(weights, [])),
         helper.make_tensor("bias", TensorProto.FLOAT, [labels], BIAS[:labels]),
         helper.make_tensor("last_axis", TensorProto.INT64, [1], [2]),
         helper.make_tensor("token_axis", TensorProto.INT64, [1], [1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = folder / "sentiment.onnx"
    onnx.save(model, str(path))

    tokenizer = tokenizers.Tokenizer(tokenizers.models.WordLevel(VOCAB, unk_token="[UNK]"))
    tokenizer.normalizer = tokenizers.normalizers.Lowercase()
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    tokenizer.save(str(folder / "tokenizer.json"))
    return SentimentModelConfig(path, folder / "tokenizer.json", ("negative", "neutral", "positive")[:labels]
                                if labels == 3 else ("negative", "positive"), batch=2)


@pytest.fixture
def model(tmp_path: Path) -> SentimentModelConfig:
    return build_model(tmp_path)


def _item(db: Database, item_id: int) -> tuple[QueueItem, Mention, ModelScore | None]:
    with db.read() as s:
        item = s.get(QueueItem, item_id)
        assert item is not None
        mention = s.get(Mention, item.mention_id)
        assert mention is not None
        score = s.get(ModelScore, item.mention_id)
        s.expunge_all()
        return item, mention, score


def test_the_model_decides_where_it_disagrees_and_routes_new_items_again(
        db: Database, settings: Settings, model: SentimentModelConfig) -> None:
    settings = replace(settings, sentiment_model=model)
    negative, kept, rerouted, agree, many, unreadable = seed_items(db, settings, [
        "@AureliaBank blorf",  # the shipped model: neutral; the firm's model: negative
        "@AureliaBank blorf blorf",  # the same, but an agent claims it first
        "@AureliaBank blorf blorf blorf",  # the same, but a lead reroutes it (it stays new, unassigned)
        "@AureliaBank an ordinary day",  # both neutral
        "@AureliaBank yay",  # the firm's model: positive
        "@AureliaBank glitch",  # the model fails on this one text alone
    ])
    before, mention_before, _ = _item(db, negative)
    assert (before.team, before.rule_id, mention_before.sentiment_label) == ("marketing", "default", "neutral")
    with db.write.begin() as s:
        actions.claim(s, kept, "agent.zoe")
        actions.reroute(s, rerouted, "lead.max", "legal", "looks like a legal matter", SlaClock.from_settings(settings))

    report = run_rescore_sentiment(db, settings)
    assert (report.scored, report.disagreed, report.routed_again, report.kept, report.errors) == (6, 4, 1, 2, [])

    item, mention, score = _item(db, negative)
    assert score is not None and score.label == "negative" and score.score < -0.9
    assert score.decided_by == "model" and score.model == "sentiment.onnx"
    assert (item.team, item.rule_id, item.priority_rank, mention.priority) == (
        "customer_service", "unhappy-customer", 2, "medium")  # strongly negative: at least medium
    # the post carries the label that decided (every count reads it); the shipped one is kept beside it
    assert (mention.sentiment_label, mention.sentiment_score) == ("negative", score.score)
    assert score.shipped_label == "neutral" and score.shipped_score is not None and abs(score.shipped_score) < 0.5
    assert score.outcome == ("routed again: team marketing → customer_service; priority low → medium; "
                             "rule default → unhappy-customer")
    with db.read() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.queue_item_id == negative,
                                                    AuditEvent.action == "rescore")).all()
        assert len(events) == 1
        assert events[0].actor == "model:sentiment.onnx"
        assert events[0].before["team"] == "marketing" and events[0].after["team"] == "customer_service"
        assert events[0].reason == (f"sentiment negative ({score.score:+.2f}) by sentiment.onnx; the shipped model "
                                    f"said neutral ({score.shipped_score:+.2f}): team marketing → "
                                    "customer_service; priority low → medium; rule default → unhappy-customer")

    item, mention, score = _item(db, kept)  # a person's decision stands (the sentiment is the model's)
    assert (item.team, item.status, item.assignee, mention.sentiment_label) == (
        "marketing", "claimed", "agent.zoe", "negative")
    assert score is not None and score.decided_by == "model"
    assert score.outcome == f"not routed again: agent.zoe has acted on item {kept}: their decision stands"
    item, _, score = _item(db, rerouted)  # new and unassigned again, but a lead put it there
    assert (item.team, item.status) == ("legal", "new")
    assert score is not None and score.outcome.startswith("not routed again: lead.max has acted")
    _, _, score = _item(db, unreadable)  # stored as unreadable, not tried again
    assert score is not None and score.decided_by == "error" and "inference failed" in score.outcome

    _, mention, score = _item(db, agree)
    assert score is not None and (score.decided_by, score.label, score.shipped_label) == ("both", "neutral", "neutral")
    assert mention.sentiment_score == score.shipped_score  # the post's own score where the models agree
    item, _, score = _item(db, many)
    assert score is not None and score.label == "positive" and score.outcome == "same team, priority and rule"

    again = run_rescore_sentiment(db, settings)  # every post is scored once
    assert again.scored == 0


def _counts(db: Database) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The daily summary's folded counts and the wall's hourly rollups."""
    with db.read() as s:
        summary = sorted((r.day, r.team, r.network, r.measure, r.value, r.n) for r in s.scalars(select(SummaryCount)))
        wall = sorted((r.hour, r.network, r.label, r.n, round(r.score_sum, 6))
                      for r in s.scalars(select(WallHourCount)))
    return summary, wall


@pytest.mark.parametrize("fold_first", [True, False], ids=["folded-before", "folded-after"])
def test_the_wall_and_the_summary_count_the_label_that_decided(
        db: Database, settings: Settings, model: SentimentModelConfig, fold_first: bool) -> None:
    """Whether the fold counted the posts before the model re-scored them (their counts are then
    moved) or after (it reads the new labels), the counts are those a fold from scratch makes, and
    they count the firm's model's labels."""
    settings = replace(settings, sentiment_model=model)
    zone = settings.reporting.timezone
    items = seed_items(db, settings, ["@AureliaBank blorf", "@AureliaBank yay", "@AureliaBank an ordinary day"])
    items += seed_items(db, settings, ["@AureliaBank blorf blorf"], prefix="m", network="mastodon")  # alone there
    if fold_first:
        fold(db, zone)
    with db.read() as s:
        stamps = dict(s.execute(select(QueueItem.id, QueueItem.updated_at).where(QueueItem.id.in_(items))).all())
    report = run_rescore_sentiment(db, settings)
    assert (report.scored, report.disagreed) == (4, 3)
    with db.read() as s:  # each relabelled item's stamp moved: open queue pages redraw its row
        moved = {i for i, at in s.execute(select(QueueItem.id, QueueItem.updated_at).where(QueueItem.id.in_(items)))
                 if at > stamps[i]}
    assert moved == {items[0], items[1], items[3]}
    fold(db, zone)  # the items routed again, and any post not counted yet
    summary, wall = _counts(db)
    sentiments = {(network, value): n for _, _, network, measure, value, n in summary if measure == "sentiment"}
    # the shipped model said neutral, four times
    assert sentiments == {("x", "negative"): 1, ("x", "positive"): 1, ("x", "neutral"): 1, ("mastodon", "negative"): 1}
    assert sorted((net, label, n) for _, net, label, n, _ in wall) == [
        ("mastodon", "negative", 1), ("x", "negative", 1), ("x", "neutral", 1), ("x", "positive", 1)]
    with db.write.begin() as s:  # a fold from scratch, from the posts as they now stand
        for table in (SummaryCount, SummaryFoldedItem, SummaryFoldedMention, SummaryFoldMark, WallHourCount,
                      WallBrandHour):
            s.execute(delete(table))
    fold(db, zone)
    assert _counts(db) == (summary, wall)


def test_a_model_that_cannot_run_writes_nothing_and_says_which_file(
        db: Database, settings: Settings, tmp_path: Path, model: SentimentModelConfig) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    seed_items(db, settings, ["@AureliaBank blorf"])
    with pytest.raises(ModelError, match="broken.onnx: not a model onnxruntime can load"):
        run_rescore_sentiment(db, replace(settings, sentiment_model=replace(model, path=broken)))
    # Two classes declared for a three-class model: the shape is refused, nothing is stored.
    with pytest.raises(ModelError, match=r"expected logits of shape \(1, 2\)"):
        run_rescore_sentiment(db, replace(settings, sentiment_model=replace(model, labels=("negative", "positive"))))
    with db.read() as s:
        assert s.scalars(select(ModelScore)).all() == []
    assert run_rescore_sentiment(db, replace(settings, sentiment_model=model)).scored == 1  # then it works


def test_settings_check_the_files_and_labels(tmp_path: Path, model: SentimentModelConfig) -> None:
    env = {"VIGIE_SENTIMENT_MODEL": str(model.path)}
    loaded = load_settings(env=env).sentiment_model
    assert loaded is not None and loaded.tokenizer == model.tokenizer and loaded.labels == model.labels
    with pytest.raises(ConfigError, match="VIGIE_SENTIMENT_MODEL: expected a readable file"):
        load_settings(env={"VIGIE_SENTIMENT_MODEL": str(tmp_path / "missing.onnx")})
    with pytest.raises(ConfigError, match="VIGIE_SENTIMENT_LABELS: expected the model's classes"):
        load_settings(env={**env, "VIGIE_SENTIMENT_LABELS": "negative,happy,positive"})
    with pytest.raises(ConfigError, match="VIGIE_SENTIMENT_TOKENIZER: expected a readable file"):
        load_settings(env={**env, "VIGIE_SENTIMENT_TOKENIZER": str(tmp_path / "nope.json")})
    assert load_settings(env={}).sentiment_model is None


def test_the_item_page_shows_both_scores_and_which_decided(web, db: Database, settings: Settings,  # type: ignore[no-untyped-def]
                                                           model: SentimentModelConfig) -> None:
    import json

    from tests.web import dash_post, make_accounts, sign_in

    settings = replace(settings, sentiment_model=model)
    (item_id,) = seed_items(db, settings, ["@AureliaBank blorf"])
    run_rescore_sentiment(db, settings)
    make_accounts(db, settings)
    client = web.server.test_client()
    assert sign_in(client, "agent").status_code == 302  # customer service: the item moved there
    with db.read() as s:
        item = s.get(QueueItem, item_id)
        assert item is not None
        mention_id = item.mention_id
    response = dash_post(client, ".._pages_content.children..._pages_store.data..",
                         [{"id": "_pages_location", "property": "pathname", "value": f"/mention/{mention_id}"},
                          {"id": "_pages_location", "property": "search", "value": ""}])
    assert response.status_code == 200
    page = json.dumps(response.get_json()["response"]["_pages_content"], ensure_ascii=False)
    assert "by the firm's model sentiment.onnx, which decided; the shipped model said neutral" in page
    assert "routed again: team marketing → customer_service" in page
    with db.write.begin() as s:  # a post scored before migration 0023: it kept the shipped label itself
        shipped = s.get(ModelScore, mention_id)
        assert shipped is not None and shipped.shipped_label == "neutral"
        s.execute(update(Mention).where(Mention.id == mention_id).values(
            sentiment_label="neutral", sentiment_score=shipped.shipped_score))
        shipped.shipped_label = shipped.shipped_score = None
    response = dash_post(client, ".._pages_content.children..._pages_store.data..",
                         [{"id": "_pages_location", "property": "pathname", "value": f"/mention/{mention_id}"},
                          {"id": "_pages_location", "property": "search", "value": ""}])
    page = json.dumps(response.get_json()["response"]["_pages_content"], ensure_ascii=False)
    assert "by the firm's model sentiment.onnx, which decided; the shipped model said neutral" in page
