"""`vigie library …`: the library of pre-approved replies and posts, from a YAML file.

``vigie library import FILE --actor NAME`` drafts every template of FILE (the shape is in
`models.library_file`) whose key and language are new, as NAME; nothing is approved here:
compliance approves each draft on /library, and never the person who drafted it (four eyes).
``vigie library list`` prints every template with its newest version and the version in use.
"""

from __future__ import annotations

from pathlib import Path

import click

from models.library import LibraryError, catalogue
from models.library_file import LibraryFileError, import_library, load_library
from vigie.common import checked_settings, open_current


@click.group()
def library() -> None:
    """Reply and post templates: import a library file, list the templates."""


@library.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--actor", required=True, help="Who drafts the templates (an approver must be someone else).")
def library_import(file: Path, actor: str) -> None:
    """Draft the templates of FILE as ACTOR; a template whose key and language exist is skipped.

    The demo's bilingual library ships with Vigie: models/data/demo_library.yaml."""
    settings = checked_settings()
    try:
        entries = load_library(file)
        db = open_current(settings)
        with db.write.begin() as session:
            counts = import_library(session, entries, actor, settings.team_keys)
    except (LibraryFileError, LibraryError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{counts.created} template(s) drafted by {actor.strip()}, {counts.skipped} already in the library "
               "(skipped); compliance approves the drafts on /library")


@library.command("list")
def library_list() -> None:
    """Every template: key, language, kind, newest version and its state, the version in use."""
    settings = checked_settings()
    db = open_current(settings)
    with db.read() as session:
        rows = catalogue(session)
        lines = [f"{r['key']}\t{r['language']}\t{r['kind']}\tv{r['latest'].version} {r['latest'].status}\t"
                 f"in use: {'v' + str(r['in_use'].version) if r['in_use'] else '-'}\t{r['latest'].title}"
                 for r in rows]
    for line in lines:
        click.echo(line)
    if not lines:
        click.echo("the library is empty: vigie library import FILE --actor NAME")
