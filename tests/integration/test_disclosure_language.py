"""A brand's disclosure line in the reply's language (outbound.yaml ``disclosures[].language``): a
French reply on X carries the French line, an English one the English line; a template sent as
written with that line is not free-form, so supervision does not queue it for review (before, every
template sent on a network with a disclosure was reviewed as free-form)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from config.settings import Settings
from models import library, outbox, replies
from models.archive_tables import Review
from models.db import Database, open_database
from models.library import Draft
from models.tables import QueueItem
from tests.kit import config_dir, seed_items, vigie_env
from vigie.cli_config import config

ENGLISH = "Aurelia Bank SA, regulated by the ACPR"
FRENCH = "Aurelia Bank SA, établissement régulé par l'ACPR"


def test_the_shipped_disclosures_speak_the_replys_language(settings: Settings) -> None:
    assert settings.outbound.disclosure("Aurelia Bank", "x", "fr") == FRENCH
    assert settings.outbound.disclosure("Aurelia Bank", "x", "en") == ENGLISH
    assert settings.outbound.disclosure("Aurelia Bank", "x", "de") == ENGLISH  # no German line: the general one
    assert settings.outbound.disclosure("Aurelia Bank", "x") == ENGLISH
    assert settings.outbound.disclosure("Aurelia Bank", "mastodon", "fr") is None
    assert settings.archive.supervision.disclosure("Aurelia Bank", "bluesky", "fr") == FRENCH


def test_a_template_sent_as_written_in_french_is_not_reviewed_as_free_form(db: Database, settings: Settings) -> None:
    # The collector's and the web's way to open the database: its write sessions carry supervision's settings.
    written = open_database(settings.database_url, settings.archive.retention, settings.archive.supervision)
    try:
        items = seed_items(written, settings, ["@AureliaBank ma carte est bloquée", "@AureliaBank my card is blocked"],
                           prefix="dl")
        teams = tuple(settings.team_keys)
        sent = {}
        with written.write.begin() as s:
            for language, body in (("fr", "Bonjour, nous vous rappelons aujourd'hui."),
                                   ("en", "Hello, we will call you today.")):
                version = library.create(s, "lead", f"call-back-{language}", language, "reply",
                                         Draft("Call back", "cards", body, teams), teams)
                library.decide(s, "compliance", version.id, approve=True)
                sent[language] = (version.id, body)
        rules = replies.compile_rules(settings)
        made = {}
        with written.write.begin() as s:
            for item_id, language in zip(items, ("fr", "en"), strict=True):
                item = s.get(QueueItem, item_id)
                assert item is not None
                target = replies.Target("reply", "x", "demo", item.team, "Aurelia Bank", language, item.id,
                                        item.mention_id)
                version_id, body = sent[language]
                reply = replies.compose(s, rules, "agent", target, None, version_id, {})
                assert reply.status == "queued", (language, reply.status)  # an approved template as written
                made[language] = (reply.id, reply.text, body)
        with written.write.begin() as s:  # a French template on a post detected as English: the template's line
            item = s.get(QueueItem, items[1])
            assert item is not None
            target = replies.Target("reply", "x", "demo", item.team, "Aurelia Bank", "en", item.id, item.mention_id)
            mixed = replies.compose(s, rules, "agent", target, None, sent["fr"][0], {})
            assert mixed.text.endswith(FRENCH) and mixed.language == "fr", (mixed.text, mixed.language)
        assert made["fr"][1] == f"{made['fr'][2]}\n\n{FRENCH}"
        assert made["en"][1] == f"{made['en'][2]}\n\n{ENGLISH}"
        with written.write.begin() as s:
            for reply_id, _text, _body in made.values():
                assert outbox.claim(s, reply_id, "test-sender") is not None
                assert outbox.record_sent(s, reply_id, f"x-{reply_id}", None) is not None
        with written.read() as s:
            reviewed = list(s.scalars(select(Review.reply_id).where(Review.reason == "free_form")))
        assert reviewed == []
    finally:
        written.engine.dispose()


def test_a_language_that_is_not_a_code_is_refused_at_start(tmp_path: Path) -> None:
    cfg = config_dir(tmp_path, outbound=lambda d: d["disclosures"][1].update(language="en français"))
    result = CliRunner().invoke(config, ["check"], env=vigie_env(tmp_path / "vigie.db", cfg))
    assert result.exit_code == 2, result.output
    assert "outbound.yaml: disclosures[1].language: expected a language code such as en or fr" in result.stderr, \
        result.stderr
