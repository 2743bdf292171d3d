"""The `vigie` command: db, collect, serve, demo, import, bench, users, kiosk-token, audit, archive…"""

from __future__ import annotations

import faulthandler
import logging
import re
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from config.effective import masked_url
from config.settings import Settings
from models.db import Database
from vigie.common import checked_settings, open_current, open_upgraded
from vigie.logs import configure_logging as _logging  # one place for every process (vigie/logs.py)

DEMO = "vigie demo"  # what `vigie demo` marks its database as (`models.scratch`)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from vigie.cli_db import version_line

    click.echo(version_line())
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Print the package version and the schema revision it needs, then exit.")
def main() -> None:
    """Vigie: social-media command center. Settings come from the environment and VIGIE_CONFIG."""
    if hasattr(signal, "SIGUSR1"):  # `kill -USR1 PID` prints every thread's stack to stderr: where is it stuck?
        faulthandler.register(signal.SIGUSR1, all_threads=True)


@main.command()
@click.option("--once", is_flag=True, help="Poll every enabled source once, then exit.")
def collect(once: bool) -> None:
    """Run the collector scheduler (the only scheduler process; one per shard)."""
    from collectors.scheduler import collect_once, create_scheduler, shutdown

    settings = checked_settings()
    _logging(settings)
    db = open_current(settings)
    if once:
        failed = 0
        for report in collect_once(settings, db):
            if not report.leased:
                state = "skipped (leased by another collector)"
            elif report.waiting_until is not None:
                state = f"waiting until {report.waiting_until:%Y-%m-%d %H:%M:%S} UTC (rate limit or backoff)"
            else:
                state = f"error: {report.error}" if report.error else "ok"
            click.echo(
                f"{report.source}: {report.stored} stored, {report.queued} queued, {report.copies} copies, "
                f"{report.skipped} already stored, {report.rejected} rejected items - {state}"
            )
            failed += report.error is not None
        sys.exit(1 if failed else 0)
    stop = threading.Event()
    scheduler = create_scheduler(settings, db, stop, blocking=True)

    def _stop(_signum: int, _frame: Any) -> None:
        click.echo("stopping collector…")
        shutdown(scheduler, stop, settings, db)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    from collectors.scheduler import polled_sources

    click.echo(f"collecting from {len(polled_sources(settings))} source(s); Ctrl-C stops")
    scheduler.start()


def _raise_interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def _listening(settings: Settings, host: str, port: int) -> Settings:
    """With --host/--port, the public address (unless VIGIE_PUBLIC_URL names one) is where we listen."""
    from dataclasses import replace

    if settings.auth.public_url != f"http://{settings.host}:{settings.port}":
        return settings  # set by VIGIE_PUBLIC_URL
    return replace(settings, auth=replace(settings.auth, public_url=f"http://{host}:{port}"))


def _serve(settings: Settings, db: Database, host: str, port: int) -> None:
    from dashboard.app import create_app, settle

    app = create_app(settings, db)
    settle(app)
    app.run(host=host, port=port, debug=False, threaded=True)


@main.command()
@click.option("--host", default=None, help="Address to listen on (default VIGIE_HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port to listen on (default VIGIE_PORT or 8050).")
def serve(host: str | None, port: int | None) -> None:
    """Serve the dashboard (development server; use gunicorn 'dashboard.wsgi:server' in production)."""
    settings = checked_settings()
    _logging(settings)
    db = open_current(settings, pages=True)
    host, port = host or settings.host, port or settings.port
    settings = _listening(settings, host, port)
    click.echo(f"Vigie dashboard on http://{host}:{port}/")
    _serve(settings, db, host, port)


@main.command()
@click.option("--host", default=None, help="Address to listen on (default VIGIE_HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port to listen on (default VIGIE_PORT or 8050).")
@click.option("--desk/--no-desk", default=True, show_default=True,
              help="Simulated agents (desk.<team>) claim and close items, so the SLA figures move.")
def demo(host: str | None, port: int | None, desk: bool) -> None:
    """Everything in one: database, demo source, scheduler and dashboard. Ctrl-C stops.

    Only on an empty database, which it marks as the demo's, or one it marked before."""
    from collectors.heartbeat import heartbeat_job
    from collectors.scheduler import create_scheduler, shutdown

    settings = checked_settings()
    _logging(settings)
    # The demo publishes its accounts' password, revokes and remakes the "demo-wall" link, fills the
    # database with simulated posts and lets simulated agents close items: its own database only.
    db = open_upgraded(settings, scratch=DEMO)
    host, port = host or settings.host, port or settings.port
    settings = _listening(settings, host, port)
    stop = threading.Event()
    scheduler = create_scheduler(settings, db, stop, blocking=False, demo_desk=desk)
    from collectors.demo_history import replay_history
    from vigie.cli_users import seed_demo

    for line in seed_demo(settings, db, desk):  # (the desk looks for its accounts at every round)
        click.echo(line)

    def history_then_live() -> None:
        """The backfilled hours stored as history (once, on a new database: minutes of work, while
        the dashboard already serves), then the scheduler: the live poll carries on from there."""
        replayed = threading.Event()

        def beat_meanwhile() -> None:  # the scheduler's heartbeat job starts with it: until then, beat here
            while not replayed.wait(settings.ops.heartbeat_seconds):
                heartbeat_job(db, settings)

        threading.Thread(target=beat_meanwhile, name="demo-heartbeat", daemon=True).start()
        try:
            history = replay_history(db, settings, desk=desk, stop=stop)
            if history is not None:
                click.echo(history.line())
        except Exception:  # the demo goes on live without its history rather than not at all
            logging.getLogger("vigie.collect").exception("demo history failed")
        replayed.set()
        if not stop.is_set():
            scheduler.start()
            click.echo("live: the demo stream, the desk and the jobs run")

    click.echo("replaying the demo's backfilled hours as history (once, on a new database); the live "
               "stream starts when it is done")
    history_thread = threading.Thread(target=history_then_live, name="demo-history", daemon=True)
    history_thread.start()
    where = masked_url(db.engine.url.render_as_string())
    click.echo(f"Vigie demo: open http://{host}:{port}/  (database {where}; Ctrl-C stops)")
    # Ctrl-C and SIGTERM stop it, even when started from a shell that ignores SIGINT (a background job)
    signal.signal(signal.SIGINT, _raise_interrupt)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        _serve(settings, db, host, port)
    except KeyboardInterrupt:
        pass
    finally:
        click.echo("stopping: waiting for the running collection to finish…")
        stop.set()
        history_thread.join()  # (ends after its current simulated minute; the scheduler is then not started)
        shutdown(scheduler, stop, settings, db)
        click.echo("stopped.")


def _fields(values: tuple[str, ...]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for value in values:
        name, sep, paths = value.partition("=")
        if not sep or not name.strip() or not paths.strip():
            raise click.BadParameter(f"expected FIELD=PATH (e.g. text=message.body), got {value!r}",
                                     param_hint="--field")
        fields[name.strip()] = [p.strip() for p in paths.split(",")]
    return fields


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option("--source", "source_name", default="import", show_default=True,
              help="Source the posts are stored under (its own name, not one from sources.yaml); "
                   "the import's cursor is kept on it.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default=None,
              help="File format (default: from the extension, .jsonl/.ndjson or .csv).")
@click.option("--network", default="import", show_default=True, help="Network label of posts that carry none.")
@click.option("--field", "fields", multiple=True, metavar="FIELD=PATH[,PATH]",
              help="Where a post field is in each line, e.g. text=message.body or author_handle=from.username "
                   "(repeatable; defaults: id, text, created_at, url, author.handle, author.name, "
                   "author.followers, network, language, links).")
@click.option("--delimiter", default=",", show_default=True, help="CSV cell delimiter (one character).")
@click.option("--rescan", is_flag=True, help="Read the file from the start even if it was imported before "
                                             "(posts already stored are skipped as duplicates).")
def import_file(file: Path, source_name: str, fmt: str | None, network: str, fields: tuple[str, ...],
                delimiter: str, rescan: bool) -> None:
    """Backfill posts from a JSONL or CSV FILE; resumable (run it again after an interruption) and idempotent."""
    from collectors.importer import FileImport, format_of
    from collectors.mapping import FieldMapping
    from collectors.types import CollectorError

    settings = checked_settings()
    _logging(settings)
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,99}", source_name):
        raise click.BadParameter("lower-case letters, digits, '-' or '_'", param_hint="--source")
    configured = next((s for s in settings.sources if s.name == source_name), None)
    if configured is not None:
        raise click.BadParameter(f"{source_name!r} is a {configured.kind} source in sources.yaml; "
                                 "give the import its own name", param_hint="--source")
    if len(delimiter) != 1:
        raise click.BadParameter("expected one character", param_hint="--delimiter")
    try:
        mapping = FieldMapping.from_options(_fields(fields), "--field", network)
        job = FileImport(open_current(settings), settings, file, source_name, format_of(file, fmt), mapping, delimiter)
        job.prepare(rescan)
    except CollectorError as exc:
        raise click.ClickException(exc.message) from exc
    if job.report.note:
        click.echo(f"note: {job.report.note}", err=True)
    start_line = job.line
    if job.offset >= job.size:
        click.echo(f"nothing new: {file.name} was imported into source {source_name!r} up to its line {job.line}")
        return
    try:
        with click.progressbar(length=job.size, label=f"importing {file.name}", file=sys.stderr) as bar:
            bar.update(job.offset)
            done = [job.offset]

            def advance(offset: int) -> None:
                bar.update(offset - done[0])
                done[0] = offset

            report = job.run(advance)
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted after line {job.line}: run the same command again to resume", err=True)
        sys.exit(130)
    for problem in report.problems[:5] if report.rejected else ():  # bad lines kept before are duplicates
        click.echo(f"rejected: {problem}", err=True)
    click.echo(
        f"{file.name} lines {start_line + 1}-{report.lines} into source {source_name!r}: {report.stored} stored "
        f"({report.queued} queued, {report.copies} copies), {report.duplicates} duplicates, "
        f"{report.rejected} rejected (kept in rejected_items)"
    )


@main.group()
def bench() -> None:
    """Benchmarks that print figures (they are not tests)."""


@bench.command("ingest")
@click.option("--count", default=20000, show_default=True, help="Posts to push through the pipeline.")
@click.option("--batch", default=None, type=int, help="Posts per transaction (default VIGIE_BATCH_SIZE).")
def bench_ingest(count: int, batch: int | None) -> None:
    """Mentions per second through the whole pipeline, beside its floor (scoring + bare insert)."""
    from vigie.bench import run_ingest

    run_ingest(checked_settings(), count, batch)


@bench.command("dashboard")
@click.option("--mentions", default=100_000, show_default=True, help="Mentions to seed first.")
@click.option("--rounds", default=200, show_default=True, help="Calls timed per callback.")
@click.option("--database-url", default="sqlite:///var/bench-dashboard.db", show_default=True,
              help="Scratch database, emptied first (one holding other data is refused).")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 400),
              help="Days of history the seeded mentions are spread over.")
@click.option("--reuse", is_flag=True, help="Keep the scratch database when it already holds these mentions.")
def bench_dashboard(mentions: int, rounds: int, database_url: str, days: int, reuse: bool) -> None:
    """p50/p95 server time of the live update callbacks over a seeded database."""
    from vigie.bench_dashboard import run_dashboard

    run_dashboard(checked_settings(), mentions, rounds, database_url, days, reuse)


@bench.command("risk")
@click.option("--eval-dir", default="../shared/eval", show_default=True, type=click.Path(path_type=Path),
              help="Public corpora for the false-positive figure (see its README.md).")
def bench_risk(eval_dir: Path) -> None:
    """Risk fixtures flagged, near misses, and false positives on texts that should not fire."""
    from vigie.bench_risk import run_risk

    failures = run_risk(checked_settings(), eval_dir)
    if failures:
        raise SystemExit(1)


@bench.command("outbox")
@click.option("--count", default=2000, show_default=True, help="Replies to preview, compose and send.")
@click.option("--database-url", default="sqlite:///var/bench-outbox.db", show_default=True,
              help="Scratch database, emptied first (one holding other data is refused).")
def bench_outbox(count: int, database_url: str) -> None:
    """Preview time, replies composed and sent per second through the outbox, beside the writer alone."""
    from vigie.bench_outbox import run_outbox

    run_outbox(checked_settings(), count, database_url)


@main.group("eval")
def eval_group() -> None:
    """Judgement quality on labelled public data (figures, not tests)."""


@eval_group.command("routing")
@click.option("--posts", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Labelled posts (default benchmarks/routing/posts.csv; columns as its GUIDE.md).")
@click.option("--show-wrong", default=0, show_default=True, help="Print this many misrouted posts.")
def eval_routing(posts: Path | None, show_wrong: int) -> None:
    """Routing accuracy per team, the confusion matrix and per-rule precision on labelled posts."""
    from vigie.eval_routing import POSTS, run_routing

    run_routing(checked_settings(), posts or POSTS, show_wrong)


@main.group("model")
def model_group() -> None:
    """The shipped sentiment model: retrain it (with the agents' corrections)."""


@model_group.command("train")
@click.option("--with-corrections", is_flag=True, help="Add the agents' sentiment corrections from DATABASE_URL.")
@click.option("--eval-dir", default="../shared/eval", show_default=True, type=click.Path(path_type=Path),
              help="The public labelled data (xlmt/, tweeteval/; see its README.md).")
@click.option("--semeval-dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="SemEval-2017 Task 4A's English *.tsv.gz (default: the copies in collectors/nlp/sources/).")
@click.option("--out", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Where the weights go (default: the shipped file, collectors/nlp/data/sentiment_model.json.gz).")
@click.option("--c", "c", default=None, type=click.FloatRange(min=0, min_open=True),
              help="Use this regularisation for both languages instead of choosing it by 5-fold CV (faster).")
def model_train(with_corrections: bool, eval_dir: Path, semeval_dir: Path | None, out: Path | None,
                c: float | None) -> None:
    """Retrain the shipped sentiment model; print its cross-validated figures before and after."""
    from collectors.nlp.sentiment import MODEL_PATH
    from vigie.model_train import run_train

    run_train(checked_settings(), eval_dir, with_corrections, out or MODEL_PATH, c, semeval_dir)


def _add_groups() -> None:
    from vigie.cli_archive import archive
    from vigie.cli_audit import audit
    from vigie.cli_collectors import collectors
    from vigie.cli_config import config
    from vigie.cli_db import db, init_db
    from vigie.cli_library import library
    from vigie.cli_summary import summary
    from vigie.cli_users import kiosk_token, users

    main.add_command(db)
    main.add_command(init_db)
    main.add_command(users)
    main.add_command(kiosk_token)
    main.add_command(audit)
    main.add_command(summary)
    main.add_command(library)
    main.add_command(archive)
    main.add_command(config)
    main.add_command(collectors)


_add_groups()

if __name__ == "__main__":
    main()
