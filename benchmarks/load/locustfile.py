"""Locust users for `make load` (benchmarks/load/run.py writes the plan they read: LOAD_PLAN).

Two kinds of user, both speaking Dash's protocol over HTTP as a browser does (`dash_protocol`):
- ``Wall``: a wall screen. It signs in with its own kiosk link (`/wall?kiosk=TOKEN`), loads the
  page through Dash's page router and then ticks `wall-tick` every refresh, carrying back the
  markers the server last sent (so a tick with nothing new costs what it costs a real screen).
- ``Agent``: a team agent signed in through the login form. It opens its team's queue, ticks it
  every refresh carrying the page's position (`queue-state`), and every ``work_seconds`` works one
  new item as a person does: claim it on the queue, open its item page (and its presence tick),
  reply (the first template the panel suggests, loaded with its placeholders filled, then Send;
  free text when none fits) and resolve it on the queue.

A request whose status is not 200/204, or whose answer says the action failed, is a failure.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from locust import HttpUser, constant_pacing, events, task

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.load import dash_protocol as dp  # noqa: E402

PLAN: dict[str, Any] = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
REFRESH = PLAN["refresh_ms"] / 1000
UPDATE = "/_dash-update-component"
_dependencies: list[dict[str, Any]] = []
_next = {"wall": 0, "agent": 0}
REPLY = "Thank you for your message: we are looking into it and will come back to you shortly."


def _take(kind: str) -> Any:
    n = _next[kind]
    _next[kind] += 1
    pool = PLAN["kiosks" if kind == "wall" else "agents"]
    return pool[n % len(pool)]


class DashUser(HttpUser):
    abstract = True
    wait_time = constant_pacing(REFRESH)

    def deps(self) -> list[dict[str, Any]]:
        if not _dependencies:
            with self.client.get("/_dash-dependencies", name="dash dependencies", catch_response=True) as r:
                if r.status_code != 200:
                    r.failure(f"status {r.status_code}")
                    raise RuntimeError("no dependencies")
                _dependencies.extend(r.json())
        return _dependencies

    def call(self, name: str, output: str, trigger: str, values: dict[str, Any]) -> Any:
        """POST one callback; the answer's JSON (None for 204: nothing to update)."""
        payload = dp.body(dp.find(self.deps(), output, trigger), trigger, values)
        with self.client.post(UPDATE, data=dp.dumps(payload), name=name, catch_response=True,
                              headers={"Content-Type": "application/json"}) as r:
            if r.status_code == 204:
                return None
            if r.status_code != 200:
                r.failure(f"status {r.status_code}: {r.text[:200]}")
                return None
            return r.json()

    def open_page(self, name: str, path: str) -> Any:
        answer = self.call(name, "_pages_content.children", "_pages_location.pathname",
                           {"_pages_location.pathname": path, "_pages_location.search": ""})
        return dp.response_value(answer, "_pages_content", "children")


class Wall(DashUser):
    fixed_count = int(PLAN["wall_count"])

    def on_start(self) -> None:
        self.n = 0
        token = _take("wall")
        with self.client.get(f"/wall?kiosk={token}", name="wall sign-in (kiosk link)", catch_response=True) as r:
            if r.status_code != 200 or "vigie_session" not in self.client.cookies:
                r.failure(f"kiosk sign-in: status {r.status_code}")
        page = self.open_page("wall page load", "/wall")
        self.marker = dp.prop_of(page, "wall-marker", "data")
        self.slow = dp.prop_of(page, "wall-slow-marker", "data")

    @task
    def tick(self) -> None:
        self.n += 1
        answer = self.call("wall tick", "wall-marker.data", "wall-tick.n_intervals",
                           {"wall-tick.n_intervals": self.n, "wall-scale.data": 1.0,
                            "wall-marker.data": self.marker, "wall-slow-marker.data": self.slow})
        self.marker = dp.response_value(answer, "wall-marker", "data") or self.marker
        self.slow = dp.response_value(answer, "wall-slow-marker", "data") or self.slow


class Agent(DashUser):
    fixed_count = int(PLAN["agent_count"])

    def on_start(self) -> None:
        self.n = 0
        account = _take("agent")
        self.team = account["team"]
        self.rows: dict[int, dict[str, Any]] = {}
        self.next_work = time.monotonic() + random.uniform(0, PLAN["work_seconds"])
        form = self.client.get("/login", name="login form").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        with self.client.post("/login", name="sign-in (argon2)", allow_redirects=False, catch_response=True,
                              data={"csrf": csrf.group(1) if csrf else "", "name": account["name"],
                                    "password": account["password"]}) as r:
            if r.status_code != 302:
                r.failure(f"sign-in: status {r.status_code}")
        self.load_queue()

    def load_queue(self) -> None:
        page = self.open_page("queue page load", f"/queue/{self.team}")
        self.state = dp.prop_of(page, "queue-state", "data")
        self.rows = {int(r["id"]): r for r in dp.prop_of(page, "queue-grid", "rowData") or []}

    def queue_values(self, **extra: Any) -> dict[str, Any]:
        return {"queue-state.data": self.state, "queue-grid.selectedRows": None, "queue-pending.data": None,
                "queue-reroute-team.value": None, "queue-reason.value": None, **extra}

    @task
    def tick(self) -> None:
        self.n += 1
        answer = self.call("queue tick", "queue-state.data", "queue-tick.n_intervals",
                           {"queue-tick.n_intervals": self.n, "queue-state.data": self.state})
        self.state = dp.response_value(answer, "queue-state", "data") or self.state
        reload = dp.response_value(answer, "queue-grid", "rowData")
        if reload is not None:
            self.rows = {int(r["id"]): r for r in reload}
        change = dp.response_value(answer, "queue-grid", "rowTransaction") or {}
        for row in change.get("add", []) + change.get("update", []):
            self.rows[int(row["id"])] = row
        for row in change.get("remove", []):
            self.rows.pop(int(row["id"]), None)
        if time.monotonic() >= self.next_work:
            self.next_work = time.monotonic() + PLAN["work_seconds"] * random.uniform(0.5, 1.5)
            self.work()

    def act(self, name: str, button: str, row: dict[str, Any]) -> str:
        answer = self.call(name, "queue-alert.children", f"{button}.n_clicks",
                           self.queue_values(**{f"{button}.n_clicks": 1, "queue-grid.selectedRows": [row]}))
        return str(dp.response_value(answer, "queue-alert", "color") or "")

    def reply_values(self, page: Any, compose: Any) -> dict[str, Any]:
        """The reply panel as a person leaves it: the first suggested template of the library, loaded
        into the box with its placeholders filled from the post (sent at once under the shipped
        `template_only` policy, but for legal's items); free text when none fits (it waits for compliance)."""
        options = dp.prop_of(page, "compose-template", "options") or []
        if not options:
            return {"compose-text.value": REPLY, "compose-template.value": None}
        version = options[0]["value"]
        chosen = self.call("template choice", "compose-text.value", "compose-template.value",
                           {"compose-template.value": version, "compose-item.data": compose})
        text = dp.response_value(chosen, "compose-text", "value")
        inputs = dp.with_type(dp.response_value(chosen, "compose-values", "children"), "compose-value")
        dp.fill_blanks(inputs, random)
        if not isinstance(text, str):
            return {"compose-text.value": REPLY, "compose-template.value": None}
        return {"compose-text.value": text, "compose-template.value": version,
                "compose-value[ALL].value": dp.matched(inputs, "value"),
                "compose-value[ALL].id": dp.matched(inputs, "id")}

    def work(self) -> None:
        new = [r for r in self.rows.values() if r.get("status") == "new"]
        if not new:
            return
        row = random.choice(new[:20])  # among the top of the queue, as agents do
        if self.act("claim", "queue-claim", row) != "success":
            self.rows.pop(int(row["id"]), None)
            events.request.fire(request_type="WORK", name="claim lost to another agent", response_time=0,
                                response_length=0, exception=None, context={})
            return
        page = self.open_page("item page load", f"/mention/{int(row['mention_id'])}")
        item = dp.prop_of(page, "mention-item", "data")
        if item is not None:  # the page's presence tick: who else has the item open (a write)
            self.call("item tick", "mention-item.data", "mention-tick.n_intervals",
                      {"mention-tick.n_intervals": 1, "mention-item.data": item})
        compose = dp.prop_of(page, "compose-item", "data") or {"id": int(row["id"]), "key": uuid.uuid4().hex}
        answer = self.call("reply (send)", "compose-alert.children", "compose-send.n_clicks",
                           {"compose-send.n_clicks": 1, "compose-resolve.value": False, "compose-item.data": compose,
                            **self.reply_values(page, compose)})
        colour = dp.response_value(answer, "compose-alert", "color")
        if colour not in ("success", "warning"):
            events.request.fire(request_type="WORK", name="reply refused", response_time=0, response_length=0,
                                exception=RuntimeError(str(dp.response_value(answer, "compose-alert", "children"))),
                                context={})
        if self.act("resolve", "queue-resolve", row) != "success":
            events.request.fire(request_type="WORK", name="resolve refused", response_time=0, response_length=0,
                                exception=RuntimeError("resolve refused"), context={})
