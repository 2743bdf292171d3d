"""What the access tests share (tests/integration/test_access*.py): who may sign in, a client signed
in as each, one item per team and a snapshot of what a refused request must leave unchanged."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

import dashboard
from collectors.types import RawPost
from config.settings import Settings
from dashboard.auth.policy import KIOSK
from dashboard.auth.policy import Principal as P
from models.db import Database
from models.reply_tables import Reply
from models.tables import AuditEvent, QueueItem
from models.users import create_kiosk_token
from tests.kit import seed_items
from tests.web import ACCOUNTS, dash_post, sign_in

ANON = "anonymous"
ROUTER = ".._pages_content.children..._pages_store.data.."
PAGES_DIR = Path(dashboard.__file__).parent / "pages"
MISSING = "999999"  # an item id that does not exist
PRINCIPALS = [*ACCOUNTS, KIOSK, ANON]  # account names; their roles are in ACCOUNTS


def role_of(who: str) -> str:
    return KIOSK if who == KIOSK else ANON if who == ANON else ACCOUNTS[who][0]


def principal_of(who: str) -> P | None:
    if who == ANON:
        return None
    if who == KIOSK:
        return P("kiosk:wall", KIOSK)
    role, teams = ACCOUNTS[who]
    return P(who, role, teams)


def client_for(web: Any, db: Database, who: str) -> Any:
    client = web.server.test_client()
    if who == KIOSK:
        with db.write.begin() as s:
            token = create_kiosk_token(s, f"wall-{datetime.now().timestamp():.0f}".replace(".", ""))
        assert client.get(f"/wall?kiosk={token}").status_code == 200
    elif who != ANON:
        assert sign_in(client, who).status_code == 302
    return client


def items_by_team(db: Database, settings: Settings) -> dict[str, int]:
    """One open item per team: {team: item id}."""
    texts = {"customer_service": "@AureliaBank my card got declined again at the shop",
             "legal": "@AureliaBank I will sue you, my lawyer is on it: class action",
             "marketing": "@AureliaBank love the new app design, well done"}
    posts = [RawPost(f"p-{team}", "x", text, datetime.now(UTC), None, f"@{team}", team, 10)
             for team, text in texts.items()]
    ids = seed_items(db, settings, posts)
    with db.read() as s:  # the team routing chose, as the pages will read it
        return {team: item_id for item_id, team in s.execute(select(QueueItem.id, QueueItem.team)
                                                              .where(QueueItem.id.in_(ids)))}


def snapshot(db: Database) -> tuple[Any, ...]:
    with db.read() as s:
        items = tuple(s.execute(select(QueueItem.id, QueueItem.status, QueueItem.assignee, QueueItem.team,
                                       QueueItem.escalated_at).order_by(QueueItem.id)))
        events = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.queue_item_id.is_not(None)))
        replies = tuple(s.execute(select(Reply.id, Reply.status, Reply.text_sha256).order_by(Reply.id)))
    return items, events, replies


def rendered(client: Any, path: str, search: str = "") -> bytes:
    response = dash_post(client, ROUTER, [{"id": "_pages_location", "property": "pathname", "value": path},
                                          {"id": "_pages_location", "property": "search", "value": search}])
    assert response.status_code == 200, (path, response.status_code)
    return bytes(response.data)
