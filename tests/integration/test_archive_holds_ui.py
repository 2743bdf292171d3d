"""Legal holds on the /archive page through Dash's real endpoint: compliance places a hold (its
record and audit event written), the placer's own release is refused by four eyes (the message
shown), another compliance officer releases it with a reason; bad input is refused with a reason;
every other role is refused and changes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from config.settings import Settings
from models.archive_tables import ArchiveRecord, LegalHold
from models.db import Database
from models.tables import AuditEvent
from models.users import add_user
from tests.web import ACCOUNTS, PASSWORD, dash_post, make_accounts, sign_in

FORM = ("archive-hold-matter", "archive-hold-reason", "archive-hold-items", "archive-hold-authors",
        "archive-hold-sources", "archive-hold-since", "archive-hold-until", "archive-hold-query")


def _client(web: Any, who: str) -> Any:
    client = web.server.test_client()
    assert sign_in(client, who).status_code == 302
    return client


def _act(client: Any, web: Any, button: str, release_id: Any = None, release_reason: Any = None,
         **form: Any) -> Any:
    key = next(k for k in web.callback_map if k.startswith("..archive-hold-alert.children"))
    inputs = [{"id": "archive-hold-place", "property": "n_clicks", "value": 1 if button == "place" else None},
              {"id": "archive-hold-release", "property": "n_clicks", "value": 1 if button == "release" else None}]
    state = [{"id": f, "property": "value", "value": form.get(f.removeprefix("archive-hold-"))} for f in FORM]
    state += [{"id": "archive-hold-release-id", "property": "value", "value": release_id},
              {"id": "archive-hold-release-reason", "property": "value", "value": release_reason}]
    return dash_post(client, key, inputs, state, changed=f"archive-hold-{button}.n_clicks")


def _answer(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, (response.status_code, response.data[:300])
    return response.get_json()["response"]


def _holds(db: Database) -> list[LegalHold]:
    with db.read() as s:
        rows = list(s.scalars(select(LegalHold).order_by(LegalHold.id)))
        s.expunge_all()
        return rows


def test_place_then_four_eyes_release(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    with db.write.begin() as s:
        add_user(s, "compliance2", "compliance", (), PASSWORD, settings.team_keys, actor="test")
    placer = _client(web, "compliance")
    answer = _answer(_act(placer, web, "place", matter="Smith v. Aurelia <b>", reason="litigation expected",
                          items="12, 57", authors="x:@smith", since="2026-01-01", query="overdraft"))
    assert answer["archive-hold-alert"]["color"] == "success", answer
    (hold,) = _holds(db)
    assert hold.matter == "Smith v. Aurelia <b>" and hold.placed_by == "compliance" and hold.released_at is None
    assert hold.scope["mention_ids"] == [12, 57] and hold.scope["authors"] == ["x:@smith"]
    assert hold.scope["since"].startswith("2026-01-01") and hold.scope["query"] == "overdraft"
    assert answer["archive-hold-release-id"]["options"][0]["value"] == hold.id
    assert answer["archive-export-hold"]["options"][0]["value"] == hold.id  # the export tab's matters follow
    assert "Smith v. Aurelia <b>" in str(answer["archive-holds"]["children"])  # as text, in the table
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(ArchiveRecord).where(
            ArchiveRecord.kind == "hold", ArchiveRecord.subject == f"hold:{hold.id}")) == 1
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "hold.place")) == 1

    refused = _answer(_act(placer, web, "release", hold.id, "case closed"))
    assert refused["archive-hold-alert"]["color"] == "danger"
    assert "four eyes" in refused["archive-hold-alert"]["children"]
    assert _holds(db)[0].released_at is None
    no_reason = _answer(_act(_client(web, "compliance2"), web, "release", hold.id, "  "))
    assert no_reason["archive-hold-alert"]["color"] == "danger" and _holds(db)[0].released_at is None

    released = _answer(_act(_client(web, "compliance2"), web, "release", hold.id, "case closed"))
    assert released["archive-hold-alert"]["color"] == "success", released
    hold = _holds(db)[0]
    assert hold.released_by == "compliance2" and hold.release_reason == "case closed"
    assert released["archive-hold-release-id"]["options"] == []
    assert released["archive-export-hold"]["options"][0]["label"].endswith("(released)")
    again = _answer(_act(_client(web, "compliance2"), web, "release", hold.id, "again"))
    assert "already released" in again["archive-hold-alert"]["children"]


def test_bad_input_is_refused_with_a_reason(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    client = _client(web, "compliance")
    for form, wanted in (({"reason": "r"}, "matter"), ({"matter": "m"}, "reason"),
                         ({"matter": "m", "reason": "r", "items": "12x"}, "mention id"),
                         ({"matter": "m", "reason": "r", "authors": "nobody"}, "network:handle"),
                         ({"matter": "m", "reason": "r", "sources": "no-such-source"}, "unknown source"),
                         ({"matter": "m", "reason": "r", "since": "2026-02-01", "until": "2026-01-01"}, "range")):
        answer = _answer(_act(client, web, "place", **form))
        assert answer["archive-hold-alert"]["color"] == "danger" and wanted in answer["archive-hold-alert"][
            "children"], (form, answer)
    assert _answer(_act(client, web, "release", None, "why"))["archive-hold-alert"]["color"] == "danger"
    assert _holds(db) == []


def test_other_roles_cannot_place_or_release(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    _answer(_act(_client(web, "compliance"), web, "place", matter="m", reason="r"))
    for who, (role, _teams) in ACCOUNTS.items():
        if role == "compliance":
            continue
        client = _client(web, who)
        assert _act(client, web, "place", matter="x", reason="y").status_code == 403, who
        assert _act(client, web, "release", 1, "y").status_code == 403, who
    assert _act(web.server.test_client(), web, "release", 1, "y").status_code == 401
    (hold,) = _holds(db)
    assert hold.released_at is None
