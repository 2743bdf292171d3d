"""The daily summary as CSV (one figure per row) and as a PDF (fpdf2, DejaVu fonts shipped in
models/fonts/: nothing is downloaded). Both are pure functions of the stored figures."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import Any

from models.audit import safe_cell

FONTS = Path(__file__).resolve().parent / "fonts"
# DejaVu has no emoji: fpdf2 leaves them out of the PDF and would warn on every report.
logging.getLogger("fpdf.output").setLevel(logging.ERROR)
LABELS = {
    "mentions": "Mentions", "net_sentiment": "Net sentiment", "negative_share": "Negative share",
    "items": "Items queued", "breached": "SLA breaches", "adherence": "SLA adherence",
    "first_response_median": "Median first response (min)", "resolution_median": "Median resolution (min)",
}


def fmt(key: str, value: Any) -> str:
    """A figure as people read it."""
    if value is None:
        return "–"
    if key in ("negative_share", "adherence", "action_share"):
        return f"{value:.1%}"
    if key == "net_sentiment":
        return f"{value:+.1f}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def change_text(change: float | None) -> str:
    return "–" if change is None else f"{change:+.0f}%"


def compared_text(figures: dict[str, Any]) -> str:
    """How the earlier days are compared: whole days, or (a day in progress) up to the same time."""
    until = figures.get("compared_until")
    return f"each from midnight to {until}, as this day so far" if until else "whole days"


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
    for team, sla in [("all teams", figures["sla"]["overall"]), *figures["sla"]["teams"].items()]:
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
    rows.append(["previous", "compared", "until_local_time", figures.get("compared_until") or "end of day", "", ""])
    return rows


def summary_csv(figures: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in csv_rows(figures):
        # Numbers as numbers; text never read as a formula (a post's text may start with "=").
        writer.writerow(["" if v is None else v if isinstance(v, int | float) else safe_cell(v) for v in row])
    return out.getvalue()


def summary_pdf(figures: dict[str, Any]) -> bytes:
    """An A4 report: headline against the previous 7 days, volume, SLA, issues, networks, notable items."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    head = FontFace(emphasis="BOLD", fill_color=(225, 230, 240))

    def title(text: str, size: int = 13) -> None:
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", size)
        pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)

    def table(header: list[str], rows: list[list[str]], widths: tuple[int, ...] | None = None) -> None:
        if not rows:
            pdf.cell(0, 6, "Nothing that day.", new_x="LMARGIN", new_y="NEXT")
            return
        with pdf.table(col_widths=widths, headings_style=head, line_height=5.5, text_align="LEFT") as t:
            for r in [header, *rows]:
                line = t.row()
                for cell in r:
                    line.cell(cell)

    pdf.set_font("DejaVu", "B", 18)
    pdf.cell(0, 10, f"Vigie daily summary — {figures['day']}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    state = "complete day" if figures["complete"] else "day in progress"
    pdf.cell(0, 5, f"{figures['timezone']} day ({state}); computed {figures['computed_at_utc']} UTC",
             new_x="LMARGIN", new_y="NEXT")
    title("Headline, against the mean of the previous 7 days")
    pdf.cell(0, 5, f"Earlier days: {compared_text(figures)}.", new_x="LMARGIN", new_y="NEXT")
    table(["Figure", "This day", "Previous 7 days", "Change"],
          [[LABELS[k], fmt(k, c["value"]), fmt(k, c["previous_mean"]), change_text(c["change_pct"])]
           for k, c in figures["comparison"].items()], (70, 40, 40, 30))
    vol = figures["volume"]
    title("Volume")
    table(["Network", "Mentions"], [[k, fmt("", v)] for k, v in vol["by_network"].items()], (90, 90))
    pdf.ln(2)
    table(["Sentiment", "Mentions"], [[k, fmt("", v)] for k, v in vol["by_sentiment"].items()], (90, 90))
    pdf.ln(2)
    table(["Team", "Items queued"], [[k, fmt("", v)] for k, v in vol["by_team"].items()], (90, 90))
    pdf.cell(0, 6, f"Copies on other networks (counted once above): {vol['copies']:,}", new_x="LMARGIN",
             new_y="NEXT")
    title("SLA adherence")
    sla_rows = []
    for team, s in [("All teams", figures["sla"]["overall"]), *figures["sla"]["teams"].items()]:
        sla_rows.append([team, fmt("", s["items"]), fmt("", s["first_response_median"]),
                         fmt("", s["first_response_p90"]), fmt("", s["resolution_median"]), fmt("", s["met"]),
                         fmt("", s["breached"]), fmt("", s["pending"]), fmt("adherence", s["adherence"])])
    table(["Team", "Items", "1st resp. median", "1st resp. p90", "Resolution median", "Met", "Breached",
           "Pending", "Adherence"], sla_rows, (28, 15, 20, 19, 24, 13, 19, 17, 23))
    pdf.cell(0, 5, "Times in minutes from queueing. Met: closed by its due time; breached: closed later or "
             "still open past it.", new_x="LMARGIN", new_y="NEXT")
    title("Top issues and topics")
    table(["Routing rule", "Items"], [[i["description"], fmt("", i["items"])] for i in figures["issues"]], (140, 40))
    pdf.ln(2)
    table(["Topic (risk flag)", "Mentions"], [[t["topic"], fmt("", t["mentions"])] for t in figures["topics"]],
          (140, 40))
    pdf.ln(2)
    terms = ", ".join(f"{t['term']} ({t['posts']})" for t in figures["terms"]) or "–"
    tags = ", ".join(f"{t['hashtag']} ({t['posts']})" for t in figures["hashtags"]) or "–"
    pdf.multi_cell(0, 5, f"Top terms: {terms}\nTop hashtags: {tags}", new_x="LMARGIN", new_y="NEXT")
    title("Per-network value: which networks brought items that needed action")
    table(["Network", "Mentions", "Items", "Needed action", "Dismissed", "Critical/high", "Action share"],
          [[n["network"], fmt("", n["mentions"]), fmt("", n["items"]), fmt("", n["needed_action"]),
            fmt("", n["dismissed"]), fmt("", n["critical_high"]), fmt("action_share", n["action_share"])]
           for n in figures["networks"]], (30, 25, 22, 28, 25, 25, 25))
    title("Spike and crisis alerts")
    table(["Opened (UTC)", "Alert"], [[a["opened_at_utc"], a["summary"]] for a in figures["alerts"]], (35, 145))
    title("Notable items")
    table(["Item", "Priority", "Team", "Network · author", "Post"],
          [[str(n["item"]), n["priority"], n["team"], f"{n['network']} · {n['author']} ({fmt('', n['followers'])})",
            n["text"][:200]] for n in figures["notable"]], (14, 18, 28, 40, 80))
    title("The previous 7 days")
    pdf.cell(0, 5, f"Earlier days: {compared_text(figures)}.", new_x="LMARGIN", new_y="NEXT")
    table(["Day", "Mentions", "Net sentiment", "Items", "Breaches", "Adherence", "1st resp. median"],
          [[p["day"], fmt("", p["mentions"]), fmt("net_sentiment", p["net_sentiment"]), fmt("", p["items"]),
            fmt("", p["breached"]), fmt("adherence", p["adherence"]), fmt("", p["first_response_median"])]
           for p in figures["previous"]], (26, 24, 26, 22, 24, 26, 32))
    return bytes(pdf.output())
