"""The homes through Dash's real endpoint on a real database: / sends each role to its own home,
the lists hold the right items in the right order (the agent's own claims, their teams' most
urgent, a lead's breaches, risks, unassigned and overloaded agents, compliance's drafts and
reviews, a manager's week, the system's health), a role may neither open another's home nor run
its update, an agent never sees another team's item, and French is French."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from collectors.types import RawPost
from config.settings import Settings
from models import actions, home_queries, replies
from models.archive_tables import Review
from models.db import Database
from models.summary import compute_summary, day_bounds, local_day
from models.summary_fold import fold
from models.tables import QueueItem, utcnow
from models.users import set_preferences
from tests.kit import seed_items
from tests.web import children_text, dash_post, make_accounts, plain_strings, sign_in

ROUTER = ".._pages_content.children..._pages_store.data.."
CARD = "@AureliaBank my card got declined again at the shop"  # routed to customer_service
LAWSUIT = "@AureliaBank I will sue you, my lawyer is on it: class action"  # routed to legal


def _client(web: Any, who: str) -> Any:
    client = web.server.test_client()
    assert sign_in(client, who).status_code == 302
    return client


def _page(client: Any, path: str) -> Any:
    built = dash_post(client, ROUTER, [{"id": "_pages_location", "property": "pathname", "value": path},
                                       {"id": "_pages_location", "property": "search", "value": ""}])
    assert built.status_code == 200, (path, built.status_code)
    return built.get_json()["response"]["_pages_content"]


def _ids(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict) and isinstance(props.get("id"), str):
            found.append(props["id"])
        for value in node.values():
            found += _ids(value)
    elif isinstance(node, list):
        for value in node:
            found += _ids(value)
    return found


def _seed(db: Database, settings: Settings, texts: list[str], tag: str) -> list[int]:
    """One post per text, each by its own author (no two are copies of one another)."""
    now = datetime.now(UTC)
    posts = [RawPost(f"{tag}{i}", "x", f"{text} ({tag}{i})", now, None, f"@{tag}{i}", f"{tag}{i}", 10)
             for i, text in enumerate(texts)]
    return seed_items(db, settings, posts)


def _set(db: Database, item_id: int, **values: Any) -> None:
    with db.write.begin() as s:
        s.execute(update(QueueItem).where(QueueItem.id == item_id).values(**values))


def test_the_agents_lists_their_order_and_their_teams_only(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    a, b, c, d = _seed(db, settings, [CARD] * 4, "cs")
    (legal,) = _seed(db, settings, [LAWSUIT], "lg")
    now = utcnow()
    with db.write.begin() as s:
        for item in (a, b):
            actions.claim(s, item, "agent")
        actions.claim(s, c, "agent2")
    _set(db, a, claimed_at=now - timedelta(minutes=5))
    _set(db, b, claimed_at=now - timedelta(minutes=50))  # the oldest claim: first
    _set(db, d, due_at=now + timedelta(minutes=3))  # the most urgent unclaimed
    with db.read() as s:
        held = home_queries.held_items(s, "agent", ["customer_service"])
        urgent = home_queries.urgent_unclaimed(s, ["customer_service", "legal"])
    assert [i.id for i in held] == [b, a]
    assert urgent[0].id == d and c not in [i.id for i in urgent] and legal in [i.id for i in urgent]

    agent = _client(web, "agent")
    home = _page(agent, "/")
    ids = _ids(home)
    assert "home-page" in ids and f"home_agent-held-{b}" in ids and f"home_agent-held-{a}" in ids
    assert ids.index(f"home_agent-held-{b}") < ids.index(f"home_agent-held-{a}")
    assert f"home_agent-held-{c}" not in ids  # agent2's
    assert f"home_agent-urgent-{d}" in ids and f"home_agent-urgent-{legal}" not in ids  # not their team
    assert not any("lawyer" in text for text in plain_strings(home))
    texts = plain_strings(home)
    assert "Items I hold" in texts and "My work" in texts
    assert not any("T" in t and t[:4].isdigit() and ":" in t for t in children_text(home))  # no raw ISO time shown

    # The tick: the same answer is not sent twice; the legal agent's tick never lists the card.
    tick = next(k for k in web.callback_map if k.startswith("..home_agent-seen.data"))
    first = dash_post(agent, tick, [{"id": "home_agent-tick", "property": "n_intervals", "value": 1}],
                      [{"id": "home_agent-seen", "property": "data", "value": ""}])
    assert first.status_code == 200 and f"home_agent-held-{b}".encode() in first.data
    seen = first.get_json()["response"]["home_agent-seen"]["data"]
    again = dash_post(agent, tick, [{"id": "home_agent-tick", "property": "n_intervals", "value": 2}],
                      [{"id": "home_agent-seen", "property": "data", "value": seen}])
    assert again.status_code == 204
    legal_tick = dash_post(_client(web, "legal-agent"), tick,
                           [{"id": "home_agent-tick", "property": "n_intervals", "value": 1}],
                           [{"id": "home_agent-seen", "property": "data", "value": ""}])
    assert b"lawyer" in legal_tick.data and b"declined" not in legal_tick.data


def test_the_leads_breaches_risks_unassigned_and_overloaded(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    items = _seed(db, settings, [CARD] * 9, "ld")
    (legal,) = _seed(db, settings, [LAWSUIT], "lx")
    now = utcnow()
    late, risky = items[0], items[1]
    _set(db, late, due_at=now - timedelta(minutes=30), at_risk_at=now - timedelta(minutes=60))
    _set(db, legal, due_at=now - timedelta(minutes=30))  # legal's breach: not this lead's
    _set(db, risky, due_at=now + timedelta(minutes=10), at_risk_at=now - timedelta(minutes=1))
    with db.write.begin() as s:  # "agent" holds 6, "agent2" none: 6 > 1.5 × 3 and ≥ 5
        for item in items[2:8]:
            actions.claim(s, item, "agent")
    with db.read() as s:
        assert [i.id for i in home_queries.breaches(s, ["customer_service"])] == [late]
        assert [i.id for i in home_queries.at_risk(s, ["customer_service"])] == [risky]
        assert [i.id for i in home_queries.oldest_unassigned(s, ["customer_service"])] == [late, risky, items[8]]

    home = _page(_client(web, "lead"), "/")
    ids = _ids(home)
    assert f"home_lead-breaches-{late}" in ids and f"home_lead-breaches-{legal}" not in ids
    assert f"home_lead-at-risk-{risky}" in ids and f"home_lead-unassigned-{items[8]}" in ids
    assert "home_lead-overloaded-agent" in ids and "home_lead-overloaded-agent2" not in ids
    assert "/triage" in str(home)


def test_compliance_sees_drafts_and_reviews_due(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    (item_id,) = _seed(db, settings, [LAWSUIT], "cp")
    now = utcnow()
    with db.write.begin() as s:
        item = s.get(QueueItem, item_id)
        assert item is not None
        target = replies.Target("reply", "x", "demo", "legal", None, "en", item.id, item.mention_id)
        reply = replies.compose(s, replies.compile_rules(settings), "legal-agent", target, "We are looking into it.")
        reply_id = reply.id
        reply.submitted_at = now - timedelta(minutes=settings.outbound.sla_minutes + 5)  # past the approval SLA
        s.add(Review(mention_id=item.mention_id, reply_id=None, reason="sample", network="x", team="legal",
                     created_at=now, due_at=now + timedelta(hours=2)))
    assert reply.status == "pending"
    home = _page(_client(web, "compliance"), "/")
    ids = _ids(home)
    assert f"home_compliance-drafts-{reply_id}" in ids and any(i.startswith("home_compliance-reviews-") for i in ids)
    assert "/approvals" in str(home) and "/supervision" in str(home)
    texts = children_text(home)
    assert "breached" in texts and any(t.startswith("We are looking into it.") for t in texts)


def test_the_managers_yesterday_and_week(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    zone = settings.reporting.timezone
    yesterday = local_day(utcnow(), zone) - timedelta(days=1)
    start, _end = day_bounds(yesterday, zone)
    posts = [RawPost(f"mg{i}", "x", f"{CARD} ({i})", (start + timedelta(hours=3)).replace(tzinfo=UTC), None,
                     f"@mg{i}", "M", 10) for i in range(3)]
    ids = seed_items(db, settings, posts)
    for item_id in ids:
        _set(db, item_id, created_at=start + timedelta(hours=3))
    with db.write.begin() as s:
        actions.resolve(s, ids[0], "agent")
    with db.read() as s:
        figures = compute_summary(s, settings, yesterday)
        start2, end2 = day_bounds(yesterday, zone)
        light = home_queries.day_trend(s, yesterday.isoformat(), start2, end2, utcnow())
    # The light read of a day counts as the summary does.
    assert home_queries.trend_from_summary(figures) == light
    assert (light.received, light.items, light.resolved) == (3, 3, 1)
    home = _page(_client(web, "manager"), "/")
    found = _ids(home)
    assert "home_manager-yesterday" in found and "home_manager-trend" in found
    assert len([i for i in found if i.startswith("home_manager-trend-")]) == 7
    assert f"home_manager-trend-{yesterday.isoformat()}" in found
    assert f"/summary?date={yesterday.isoformat()}" in str(home)
    assert "home_manager-today" in found and "The day so far, computed now." in children_text(home)


def test_a_new_managers_home_shows_today_and_says_why_yesterday_is_empty(web: Any, db: Database,
                                                                          settings: Settings) -> None:
    make_accounts(db, settings)
    seed_items(db, settings, [f"{CARD} (today {i})" for i in range(2)], prefix="td")  # posted now
    fold(db, settings.reporting.timezone)  # as the collector's summary:fold job does, every minute
    home = _page(_client(web, "manager"), "/")
    found, texts = _ids(home), children_text(home)
    assert "home_manager-today" in found and "home_manager-yesterday" in found
    table = str(next(node for node in _tables(home) if node["props"]["id"] == "home_manager-today"))
    assert "'Mentions received'" in table and "'2'" in table, table[:2000]
    assert "Nothing was collected that day (a new installation, or the collectors were stopped)." in texts


def _tables(node: Any) -> list[Any]:
    found = []
    if isinstance(node, dict):
        if isinstance(node.get("props"), dict) and str(node["props"].get("id", "")).startswith("home_manager-"):
            found.append(node)
        for value in node.values():
            found += _tables(value)
    elif isinstance(node, list):
        for value in node:
            found += _tables(value)
    return found


def test_the_health_home_for_admins_and_operators(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    for who in ("admin", "operator"):
        home = _page(_client(web, who), "/")
        ids = _ids(home)
        assert {"home_admin-rag-sources", "home_admin-rag-collectors", "home_admin-rag-notifications"} <= set(ids)
        assert ("/home/lead" in str(home)) == (who == "admin")  # the other homes: for admins


def test_a_role_may_neither_open_another_home_nor_run_its_update(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    homes = {"agent": "/home/agent", "lead": "/home/lead", "compliance": "/home/compliance",
             "manager": "/home/manager", "operator": "/home/admin"}
    for who, own in homes.items():
        client = _client(web, who)
        assert client.get(own).status_code == 200
        for path in homes.values():
            if path == own:
                continue
            assert client.get(path).status_code == 403, (who, path)
            module = path.rsplit("/", 1)[-1]
            tick = next(k for k in web.callback_map if k.startswith(f"..home_{module}-seen.data"))
            refused = dash_post(client, tick, [{"id": f"home_{module}-tick", "property": "n_intervals", "value": 1}],
                                [{"id": f"home_{module}-seen", "property": "data", "value": ""}])
            assert refused.status_code == 403, (who, path)
    admin = _client(web, "admin")
    assert all(admin.get(path).status_code == 200 for path in homes.values())


def test_the_home_in_french(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    (item_id,) = _seed(db, settings, [CARD], "fr")
    with db.write.begin() as s:
        actions.claim(s, item_id, "agent")
        set_preferences(s, "agent", "fr", "Europe/Paris")
        set_preferences(s, "lead", "fr", "Europe/Paris")
    texts = plain_strings(_page(_client(web, "agent"), "/"))
    assert "Mon travail" in texts and "Les éléments que je détiens" in texts and "Items I hold" not in texts
    assert f"Élément {item_id}" in texts
    assert any(t.startswith("il y a") or t == "à l’instant" for t in texts)  # the claim time, in French
    lead = plain_strings(_page(_client(web, "lead"), "/"))
    assert "Mes équipes" in lead and "Non attribués" in lead
