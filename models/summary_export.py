"""The daily summary as CSV (one figure per row) and as a PDF (fpdf2, DejaVu fonts shipped in
models/fonts/: nothing is downloaded). Both are pure functions of the stored figures."""

from __future__ import annotations

import csv
import functools
import io
import logging
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from i18n import N_, Reader, _, current_reader, formats, use_reader
from models.alert_words import stored_finding
from models.audit import safe_cell

if TYPE_CHECKING:
    from config.settings import Settings

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"  # untranslated: the font's name in the PDF
REGULAR, BOLD = FONTS / "DejaVuSans.ttf", FONTS / "DejaVuSans-Bold.ttf"  # untranslated: file names
# DejaVu has no emoji: fpdf2 leaves them out of the PDF and would warn on every report.
logging.getLogger("fpdf.output").setLevel(logging.ERROR)
# The figures' names (English, marked for the catalogue; `label()` gives the reader's).
LABELS = {
    "mentions": N_("Mentions"), "net_sentiment": N_("Net sentiment"), "negative_share": N_("Negative share"),
    "items": N_("Items queued"), "breached": N_("SLA breaches"), "adherence": N_("SLA adherence"),
    "first_response_median": N_("Median first response (min)"), "resolution_median": N_("Median resolution (min)"),
}
SENTIMENTS = {"negative": N_("negative"), "neutral": N_("neutral"), "positive": N_("positive")}
PRIORITIES = {"critical": N_("critical"), "high": N_("high"), "medium": N_("medium"), "low": N_("low")}


def _percent(value: float, language: str, decimals: int = 0, signed: bool = False) -> str:
    """``value`` (0.125) in the language's percent form: ``12.5%`` / ``12,5 %``."""
    pattern = Locale.parse(language).percent_formats[None].pattern
    pattern = pattern.replace("#,##0", "#,##0." + "0" * decimals, 1) if decimals else pattern
    return format_percent(value, format=f"+{pattern};-{pattern}" if signed else pattern, locale=language)


def label(key: str) -> str:
    """A figure's name in the reader's language."""
    return _(LABELS[key]) if key in LABELS else key


def fmt(key: str, value: Any, reader: Reader | None = None) -> str:
    """A figure as people read it, in the reader's language (default: the current reader):
    ``12.5%`` / ``12,5 %``, ``10,505`` / ``10 505``."""
    if value is None:
        return "–"
    language = (reader or current_reader()).language
    if key in ("negative_share", "adherence", "action_share"):
        return _percent(value, language, 1)
    if key == "net_sentiment":
        return format_decimal(value, format="+#,##0.0;-#,##0.0", locale=language)
    if isinstance(value, float):
        return format_decimal(value, format="#,##0.0", locale=language)
    if isinstance(value, int):
        return formats.number(value, reader or current_reader())
    return str(value)


def change_text(change: float | None, reader: Reader | None = None) -> str:
    """A change in percent, signed: ``+12%`` / ``+12 %``."""
    if change is None:
        return "–"
    return _percent(change / 100, (reader or current_reader()).language, signed=True)


def compared_text(figures: dict[str, Any]) -> str:
    """How the earlier days are compared: whole days, or (a day in progress) up to the same time."""
    until = figures.get("compared_until")
    return _("each from midnight to {time}, as this day so far").format(time=until) if until else _("whole days")


def day_text(day: str, reader: Reader | None = None, form: str = "medium") -> str:
    """A stored day (``2026-10-25``) as the reader writes it: ``25 Oct 2026`` / ``25 oct. 2026``."""
    return format_date(date.fromisoformat(day), format=form, locale=(reader or current_reader()).language)


def csv_rows(figures: dict[str, Any]) -> list[list[Any]]:
    """(section, name, figure, value, mean of the previous 7 days, change %) rows."""
    rows: list[list[Any]] = [["section", "name", "figure", "value", "previous_7_days_mean", "change_pct"]]
    day = figures["day"]
    for key, c in figures["comparison"].items():
        rows.append(["headline", day, key, c["value"], c["previous_mean"], c["change_pct"]])
    for section in ("by_network", "by_sentiment", "by_team"):
        for name, n in figures["volume"][section].items():
            rows.append([f"volume.{section}", name, "mentions" if section != "by_team" else "items", n, "", ""])
    rows.append(["volume", "copies", "mentions", figures["volume"]["copies"], "", ""])
    overall = "all teams"  # untranslated: a CSV value, a data format
    for team, sla in [(overall, figures["sla"]["overall"]), *figures["sla"]["teams"].items()]:
        for key, value in sla.items():
            rows.append(["sla", team, key, value, "", ""])
    for issue in figures["issues"]:
        rows.append(["issues", issue["description"], "items", issue["items"], "", ""])
    for topic in figures["topics"]:
        rows.append(["topics", topic["topic"], "mentions", topic["mentions"], "", ""])
    for term in figures["terms"]:
        rows.append(["terms", term["term"], "posts", term["posts"], "", ""])
    for tag in figures["hashtags"]:
        rows.append(["hashtags", tag["hashtag"], "posts", tag["posts"], "", ""])
    for net in figures["networks"]:
        for key in ("mentions", "items", "needed_action", "dismissed", "critical_high", "action_share"):
            rows.append(["networks", net["network"], key, net[key], "", ""])
    for item in figures["notable"]:
        rows.append(["notable", f"item {item['item']}", item["priority"],
                     f"{item['network']} {item['author']}: {item['text']}", "", ""])
    for alert in figures["alerts"]:
        rows.append(["alerts", alert["opened_at_utc"], "alert", alert["summary"], "", ""])
    for prev in figures["previous"]:
        for key in LABELS:
            rows.append(["previous", prev["day"], key, prev[key], "", ""])
    until = figures.get("compared_until") or "end of day"  # untranslated: a CSV value, a data format
    rows.append(["previous", "compared", "until_local_time", until, "", ""])
    return rows


def summary_csv(figures: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in csv_rows(figures):
        # Numbers as numbers; text never read as a formula (a post's text may start with "=").
        writer.writerow(["" if v is None else v if isinstance(v, int | float) else safe_cell(v) for v in row])
    return out.getvalue()


def _pdf_text(text: str, narrow_space: bool) -> str:
    """``text`` as the PDF's font can draw it: U+202F (French thousands and ``%``) becomes U+00A0
    when the font has no glyph for it."""
    return text if narrow_space else text.replace("\u202f", "\u00a0")


def summary_pdf(figures: dict[str, Any], reader: Reader | None = None, settings: Settings | None = None) -> bytes:
    """An A4 report in ``reader``'s language and time zone (default: the current reader): headline
    against the previous 7 days, volume, SLA, issues, networks, notable items. With ``settings``,
    teams and risk flags are named in that language (teams.yaml and lexicons.yaml ``labels``)."""
    with use_reader(reader or current_reader()) as who:
        return _summary_pdf(figures, who, *names(settings))


def names(settings: Settings | None) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The current reader's names of teams (stored figures name a team by its English ``label``), of
    risk flags (stored by key) and of routing rules (by id); without settings, none: the stored
    names are shown."""
    if settings is None:
        return {}, {}, {}
    return ({t.english: t.label for t in settings.teams}, {f.name: f.label for f in settings.lexicon},
            {r.id: r.label for r in settings.rules})


@functools.cache
def _parsed_font(style: str, path: Path) -> Any:
    """The font as fpdf2 parses it (cmap, widths, glyph ids: most of a report's fixed cost), once a
    process. Read only afterwards: each document gets its own copy (`_add_fonts`)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_font(FONT, style, str(path))
    return pdf.fonts[f"{FONT.lower()}{style}"]


def _add_fonts(pdf: Any) -> None:
    """``pdf.add_font`` for the regular and bold faces, from the parsed fonts of `_parsed_font`: the
    document's own copy keeps what it changes (the glyphs it used, its subset); the font file is
    opened afresh, unparsed, for the subset written at output (fontTools cuts it down in place)."""
    from fontTools import ttLib
    from fpdf.fonts import SubsetMap, TTFFont

    for style, path in (("", REGULAR), ("B", BOLD)):
        parsed = _parsed_font(style, path)
        font = TTFFont.__new__(TTFFont)
        for slot in TTFFont.__slots__:
            if hasattr(parsed, slot):
                setattr(font, slot, getattr(parsed, slot))
        font.i = len(pdf.fonts) + 1
        font.ttfont = ttLib.TTFont(path, recalcTimestamp=False, lazy=True)
        font.cw = parsed.cw.copy()  # (a defaultdict: reading a missing character adds it)
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        font.subset = SubsetMap(font)
        pdf.fonts[font.fontkey] = font


def _summary_pdf(figures: dict[str, Any], reader: Reader, teams: dict[str, str], flags: dict[str, str],
                 rules: dict[str, str]) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(format="A4")
    _add_fonts(pdf)
    narrow = all(0x202F in getattr(font, "cmap", {}) for font in pdf.fonts.values())
    pdf.set_lang(reader.language)
    pdf.set_title(_("Vigie daily summary — {day}").format(day=day_text(figures["day"], reader)))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    head = FontFace(emphasis="BOLD", fill_color=(225, 230, 240))

    def line(text: str, height: float = 5) -> None:
        pdf.multi_cell(0, height, _pdf_text(text, narrow), align="L", new_x="LMARGIN", new_y="NEXT")

    def title(text: str, size: int = 13) -> None:
        pdf.ln(3)
        pdf.set_font(FONT, "B", size)
        line(text, 8)
        pdf.set_font(FONT, "", 9)

    def table(header: list[str], rows: list[list[str]], widths: tuple[int, ...] | None = None) -> None:
        if not rows:
            line(_("Nothing that day."), 6)
            return
        with pdf.table(col_widths=widths, headings_style=head, line_height=5.5, text_align="LEFT") as t:
            for r in [header, *rows]:
                row = t.row()
                for cell in r:
                    row.cell(_pdf_text(cell, narrow))

    def n(value: Any, key: str = "") -> str:
        return fmt(key, value, reader)

    pdf.set_font(FONT, "B", 18)
    line(_("Vigie daily summary — {day}").format(day=day_text(figures["day"], reader, "long")), 10)
    pdf.set_font(FONT, "", 9)
    computed = formats.local(datetime.fromisoformat(figures["computed_at_utc"]), reader)
    if figures["complete"]:
        line(_("{zone} day (complete day); computed {time}").format(zone=figures["timezone"], time=computed))
    else:
        line(_("{zone} day (day in progress); computed {time}").format(zone=figures["timezone"], time=computed))
    title(_("Headline, against the mean of the previous 7 days"))
    earlier = _("Earlier days: {how}.").format(how=compared_text(figures))
    line(earlier)
    table([_("Figure"), _("This day"), _("Previous 7 days"), _("Difference")],
          [[label(k), n(c["value"], k), n(c["previous_mean"], k), change_text(c["change_pct"], reader)]
           for k, c in figures["comparison"].items()], (70, 40, 40, 30))
    vol = figures["volume"]
    title(_("Volume"))
    table([_("Network"), _("Mentions")], [[k, n(v)] for k, v in vol["by_network"].items()], (90, 90))
    pdf.ln(2)
    table([_("Sentiment"), _("Mentions")],
          [[_(SENTIMENTS[k]) if k in SENTIMENTS else k, n(v)] for k, v in vol["by_sentiment"].items()], (90, 90))
    pdf.ln(2)
    table([_("Team"), _("Items queued")], [[teams.get(k, k), n(v)] for k, v in vol["by_team"].items()], (90, 90))
    line(_("Copies on other networks (counted once above): {copies}").format(copies=n(vol["copies"])), 6)
    title(_("SLA adherence"))
    sla_rows = []
    for team, s in [(_("All teams"), figures["sla"]["overall"]), *figures["sla"]["teams"].items()]:
        sla_rows.append([teams.get(team, team), n(s["items"]), n(s["first_response_median"]),
                         n(s["first_response_p90"]), n(s["resolution_median"]), n(s["met"]), n(s["breached"]),
                         n(s["pending"]), n(s["adherence"], "adherence")])
    table([_("Team"), _("Items"), _("1st resp. median"), _("1st resp. p90"), _("Resolution median"), _("Met"),
           _("Breached"), _("Pending"), _("Adherence")], sla_rows, (30, 18, 18, 15, 21, 20, 19, 17, 22))
    line(_("Times in minutes from queueing. Met: closed by its due time; breached: closed later or still open "
           "past it."))
    title(_("Top issues and topics"))
    table([_("Routing rule"), _("Items")],
          [[rules.get(i["rule"], i["description"]), n(i["items"])] for i in figures["issues"]], (140, 40))
    pdf.ln(2)
    table([_("Topic (risk flag)"), _("Mentions")], [[flags.get(t["topic"], t["topic"]), n(t["mentions"])]
                                                      for t in figures["topics"]], (140, 40))
    pdf.ln(2)
    terms = ", ".join(f"{t['term']} ({n(t['posts'])})" for t in figures["terms"]) or "–"
    tags = ", ".join(f"{t['hashtag']} ({n(t['posts'])})" for t in figures["hashtags"]) or "–"
    pdf.multi_cell(0, 5, _pdf_text(_("Top terms: {terms}").format(terms=terms) + "\n"
                                   + _("Top hashtags: {tags}").format(tags=tags), narrow),
                   new_x="LMARGIN", new_y="NEXT")
    title(_("Per-network value: which networks brought items that needed action"))
    table([_("Network"), _("Mentions"), _("Items"), _("Needed action"), _("Dismissed"), _("Critical/high"),
           _("Action share")],
          [[v["network"], n(v["mentions"]), n(v["items"]), n(v["needed_action"]), n(v["dismissed"]),
            n(v["critical_high"]), n(v["action_share"], "action_share")]
           for v in figures["networks"]], (24, 24, 24, 25, 24, 30, 29))
    title(_("Spike and crisis alerts"))
    table([_("Opened"), _("Alert")],
          [[formats.local(datetime.fromisoformat(a["opened_at_utc"]), reader), stored_finding(a, flags)]
           for a in figures["alerts"]], (45, 135))
    title(_("Notable items"))
    table([_("Item"), _("Priority"), _("Team"), _("Network · author"), _("Post")],
          [[str(v["item"]), _(PRIORITIES[v["priority"]]) if v["priority"] in PRIORITIES else v["priority"],
            teams.get(v["team"], v["team"]), f"{v['network']} · {v['author']} ({n(v['followers'])})", v["text"][:200]]
           for v in figures["notable"]], (18, 18, 28, 40, 76))
    title(_("The previous 7 days"))
    line(earlier)
    table([_("Day"), _("Mentions"), _("Net sentiment"), _("Items"), _("Breaches"), _("Adherence"),
           _("1st resp. median")],
          [[day_text(p["day"], reader), n(p["mentions"]), n(p["net_sentiment"], "net_sentiment"), n(p["items"]),
            n(p["breached"]), n(p["adherence"], "adherence"), n(p["first_response_median"])]
           for p in figures["previous"]], (25, 22, 24, 22, 27, 25, 35))
    return bytes(pdf.output())
