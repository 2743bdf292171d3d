"""The load test's verdict (benchmarks/load/figures.py): which figures miss which target."""

from __future__ import annotations

from pathlib import Path

from benchmarks.load.dash_protocol import body, find, prop_of
from benchmarks.load.figures import Stat, cpu_line, judge, percentile, read_locust_stats
from benchmarks.load.processes import RssSampler

GOOD = [Stat("queue tick", "POST", 100, 0, 40, 120), Stat("sign-in (argon2)", "POST", 20, 0, 900, 2500),
        Stat("claim lost to another agent", "WORK", 3, 0, 0, 0)]
RSS = {"web worker pid 1": 180.0, "collect-1": 220.0}


def test_percentile_is_nearest_rank() -> None:
    assert percentile([3.0, 1.0, 2.0, 4.0], 0.5) == 2.0
    assert percentile([float(n) for n in range(1, 101)], 0.95) == 95.0
    assert percentile([7.0], 0.95) == 7.0


def test_all_targets_met_and_sign_in_is_not_a_callback() -> None:
    lines, verdict = judge(GOOD, 0, 0, RSS, [1.0, 2.0, 2.5], 4)
    assert verdict.missed == []
    assert any("sign-in (argon2)" in line and line.endswith("-") for line in lines)


def test_each_missed_target_is_named() -> None:
    slow = [Stat("wall tick", "POST", 100, 1, 80, 301)]
    _lines, verdict = judge(slow, 1, 2, {"collect-2": 300.0}, [], 0)
    assert verdict.missed == ["zero errors", "wall tick p95 <= 300 ms", "collect-2 RSS < 300 MB", "store->row p95"]
    _lines, verdict = judge(GOOD, 0, 0, RSS, [0.5] * 94 + [3.5] * 6, 0)
    assert verdict.missed == ["store->row p95"]


def test_locusts_csv_is_read(tmp_path: Path) -> None:
    path = tmp_path / "x_stats.csv"
    path.write_text('Type,Name,Request Count,Failure Count,Median Response Time,50%,95%\n'
                    'POST,wall tick,221,2,270,270,1400\n,Aggregated,221,2,270,270,1400\n')
    assert read_locust_stats(path) == [Stat("wall tick", "POST", 221, 2, 270.0, 1400.0)]


def test_a_body_follows_the_dependency() -> None:
    dep = {"output": "..a.children...b.data@1f2e..", "inputs": [{"id": "t", "property": "n_intervals"}],
           "state": [{"id": '{"type":"v","name":["ALL"]}', "property": "value"}, {"id": "s", "property": "data"}]}
    assert find([dep], "b.data", "t.n_intervals") is dep
    assert body(dep, "t.n_intervals", {"t.n_intervals": 3, "s.data": {"k": 1}}) == {
        "output": "..a.children...b.data@1f2e..",
        "outputs": [{"id": "a", "property": "children"}, {"id": "b", "property": "data"}],
        "inputs": [{"id": "t", "property": "n_intervals", "value": 3}],
        "state": [[], {"id": "s", "property": "data", "value": {"k": 1}}],
        "changedPropIds": ["t.n_intervals"]}
    layout = {"type": "Div", "namespace": "h", "props": {"children": [
        {"type": "Store", "namespace": "d", "props": {"id": "s", "data": 5}}]}}
    assert prop_of(layout, "s", "data") == 5 and prop_of(layout, "x", "data") is None


def test_server_errors_are_read_from_the_logs(tmp_path: Path) -> None:
    from benchmarks.load.processes import logged_errors

    (tmp_path / "web.log").write_text(
        '2026-12-04 11:38:27,371 INFO gunicorn.access: 127.0.0.1 - - [04/Dec/2026:11:38:27 +0000] '
        '"POST /_dash-update-component HTTP/1.1" 200 201 "x" 73ms\n'
        '2026-12-04 11:38:28,371 INFO gunicorn.access: 127.0.0.1 - - [04/Dec/2026:11:38:28 +0000] '
        '"POST /_dash-update-component HTTP/1.1" 500 201 "x" 73ms\n'
        '2026-12-04 11:38:29,000 WARNING vigie.x: slow 500 ms\n'
        # the harness waiting for the collectors' first heartbeat: not an error
        '2026-12-04 19:04:31,413 INFO gunicorn.access: 127.0.0.1 - - [04/Dec/2026:19:04:31 +0000] '
        '"GET /readyz HTTP/1.1" 503 221 "Python-urllib/3.11" 174ms\n'
        # anyone else told "not ready" (a browser, a balancer): counted
        '2026-12-04 19:04:32,413 INFO gunicorn.access: 127.0.0.1 - - [04/Dec/2026:19:04:32 +0000] '
        '"GET /readyz HTTP/1.1" 503 221 "curl/7.88" 3ms\n')
    (tmp_path / "collect-1.log").write_text("2026-12-04 11:38:29,000 ERROR vigie.archive: refused\nTraceback (most\n")
    found = logged_errors(tmp_path, ["web", "collect-1", "collect-2"])
    assert [f.split(":")[0] for f in found] == ["web", "web", "collect-1", "collect-1"]
    assert '" 500 ' in found[0] and '"curl/7.88"' in found[1]


def test_the_cpu_line_splits_the_machine_between_the_servers_and_the_rest() -> None:
    line = cpu_line({"wall": 100.0, "cores": 2.0, "busy": 150.0, "web": 60.0, "collectors": 20.0,
                     "postgres": 30.0, "rest": 40.0})
    assert line.startswith("cpu         150 of 200 core-seconds busy (75% of 2 cores x 100 s)")
    assert "web 60 s (30%)" in line and "rest 40 s (20%)" in line


def test_the_sampler_reads_cpu_time_from_proc() -> None:
    import os

    burn = sum(n * n for n in range(2_000_000))  # some CPU time of our own between two samples
    assert burn > 0
    sampler = RssSampler({"collect-self": os.getpid()}, {})
    sampler.sample()
    sum(n * n for n in range(3_000_000))
    sampler.sample()
    cpu = sampler.cpu()
    # (the machine's and the process's counters are rounded to clock ticks apart: no order between them)
    assert cpu["collectors"] > 0 and cpu["busy"] > 0 and cpu["wall"] > 0
