"""Normalisation, brand and risk matching, priority and routing rules, with real values."""

from __future__ import annotations

from collectors.routing import (
    Reason,
    Scored,
    Words,
    compute_priority,
    explain,
    matched,
    priority_reasons,
    route,
    written,
)
from collectors.text import (
    cluster_key,
    compile_brands,
    compile_lexicon,
    fold,
    match_brand,
    match_risk,
    normalize_text,
    strip_accents,
)
from config.rules import RoutingRule
from config.settings import Settings


def _risk(settings: Settings, text: str) -> tuple[tuple[str, ...], dict[str, list[str]]]:
    m = match_risk(compile_lexicon(settings.lexicon), fold(text), strip_accents(text))
    return m.flags, m.terms


def test_normalize_strips_controls_and_bidi_overrides() -> None:
    assert normalize_text("  hello\u202e  world\x00\t!  ") == "hello world !"
    assert len(normalize_text("x" * 50_000)) == 20_000
    assert normalize_text("Cafe\u0301") == "Café"  # NFC


def test_cluster_key_ignores_network_repost_prefix_handles_case_and_punctuation() -> None:
    a = cluster_key("My card got BLOCKED again!! @AureliaBank", "@Zoe_Lee")
    assert a == cluster_key("RT @zoe_lee: my card got blocked again @aureliahelp", "@someone_else")
    assert a == cluster_key("My card got blocked again @AureliaBank", "zoe_lee@mastodon.example")
    assert a != cluster_key("My card got blocked again today", "@Zoe_Lee")
    # Another customer with the very same words is another customer, not a copy.
    assert a != cluster_key("My card got BLOCKED again!! @AureliaBank", "@max_b")


def test_english_risk_flags(base_settings: Settings) -> None:
    flags, terms = _risk(base_settings, "I filed a complaint with the CFPB, my lawyer will sue you")
    assert "regulator" in flags and "legal_threat" in flags
    assert terms["regulator"] == ["CFPB", "filed a complaint with"]
    assert "lawyer" in terms["legal_threat"]


def test_french_risk_flags_ignore_accents_and_use_wildcards(base_settings: Settings) -> None:
    flags, terms = _risk(base_settings, "Je me suis fait ARNAQUÉ par un faux SMS, je saisis l'AMF et le médiateur")
    assert set(flags) >= {"phishing", "regulator"}
    assert "arnaque" in terms["phishing"] and "faux sms" in terms["phishing"]
    assert "AMF" in terms["regulator"] and "mediateur" in terms["regulator"]


def test_acronyms_match_only_in_capitals(base_settings: Settings) -> None:
    assert "regulator" not in _risk(base_settings, "Un vin sec, merci. Back in a sec.")[0]
    assert "regulator" in _risk(base_settings, "Reported them to the SEC today")[0]


def test_no_flag_inside_other_words(base_settings: Settings) -> None:
    # "fee" must not fire inside "feedback" nor "sue" inside "issue".
    assert _risk(base_settings, "Thanks for the feedback on my issue")[0] == ()


def test_brand_matching_prefers_our_brand(base_settings: Settings) -> None:
    brands = compile_brands(base_settings.brands)
    assert match_brand(brands, fold("Switching from Northwind to @AureliaBank")) == ("Aurelia Bank", False)
    assert match_brand(brands, fold("CREDIT LUMIERE a encore augmenté ses frais")) == ("Crédit Lumière", True)
    assert match_brand(brands, fold("Nothing to see here")) == (None, False)


def test_priority_rules() -> None:
    sev = {"regulator": "critical", "fees": "medium", "outage": "high", "spam": "low"}
    assert compute_priority(("regulator",), sev, 0.0, None, 10_000)[0] == "critical"
    assert compute_priority((), sev, 0.3, None, 10_000) == ("low", "no risk flag")
    assert compute_priority((), sev, -0.7, None, 10_000)[0] == "medium"
    prio, why = compute_priority(("fees",), sev, -0.2, 50_000, 10_000)
    assert prio == "high" and "50,000 followers" in why
    # an influencer's praise is not raised, spam never is
    assert compute_priority((), sev, 0.8, 50_000, 10_000)[0] == "low"
    assert compute_priority(("spam", "outage"), sev, -0.9, 50_000, 10_000)[0] == "low"


def _scored(**kw) -> Scored:  # type: ignore[no-untyped-def]
    base = dict(text="", language="en", sentiment_score=0.0, sentiment_label="neutral", brand="Aurelia Bank",
                is_competitor=False, flags=(), terms={}, followers=None, priority="low")
    base.update(kw)
    return Scored(**base)  # type: ignore[arg-type]


def test_routing_rules_and_explanations(base_settings: Settings) -> None:
    rules = base_settings.rules
    r = route(rules, _scored(flags=("regulator",), terms={"regulator": ["CFPB"]}, priority="critical"), "flag")
    assert (r.team, r.rule_id, r.status) == ("legal", "regulator-or-legal", "new")
    assert r.explanation.startswith("Rule “regulator-or-legal” (Regulator named or legal action threatened): "
                                    "risk flag regulator (CFPB).")
    r = route(rules, _scored(flags=("spam",), terms={"spam": ["click here"]}), "spam")
    assert (r.team, r.status) == ("marketing", "dismissed")
    r = route(rules, _scored(sentiment_label="negative", sentiment_score=-0.6), "neg")
    assert (r.team, r.rule_id) == ("customer_service", "unhappy-customer")
    assert "sentiment negative (-0.60)" in r.explanation and "about our brand Aurelia Bank" in r.explanation
    r = route(rules, _scored(sentiment_label="negative", sentiment_score=-0.6, is_competitor=True,
                             brand="Northwind Bank"), "neg")
    assert (r.team, r.rule_id) == ("marketing", "competitor")
    assert "about competitor Northwind Bank" in r.explanation
    r = route(rules, _scored(flags=("sales_lead",), terms={"sales_lead": ["need a loan"]}), "x")
    assert (r.team, r.rule_id) == ("marketing", "sales-lead")
    r = route(rules, _scored(sentiment_label="positive", sentiment_score=0.8), "none")
    assert (r.team, r.rule_id) == ("marketing", "default")
    assert "no earlier rule matched" in r.explanation


def test_every_condition_explains_itself_in_the_stored_english_and_in_other_words() -> None:
    """The stored sentence is the record: each condition's English is as it always was, and the same
    reasons written with other words (the item page's, in the reader's language) change only the values."""
    rule = RoutingRule("all-of-them", "legal", {"flags_any": ("fraud", "fees"), "sentiment": "negative",
                                                "sentiment_below": -0.3, "competitor": False,
                                                "brand_any": ("Aurelia Bank",), "language_any": ("en",),
                                                "priority_at_least": "high", "min_followers": 5000,
                                                "text_regex": r"sto+len"}, "Everything at once")
    post = _scored(text="my money was stoooolen", sentiment_label="negative", sentiment_score=-0.62,
                   flags=("fees", "fraud"), terms={"fraud": ["stolen", "fraud", "scam", "fourth"], "fees": ["fee"]},
                   followers=12345, priority="critical")
    reasons = matched(rule, post)
    assert reasons is not None and matched(rule, _scored()) is None
    priority, why = priority_reasons(post.flags, {"fraud": "critical", "fees": "medium"}, -0.62, 12345, 10000)
    assert priority == "critical" and len(why) == 1  # already critical: not raised
    english = "; ".join(written(r) for r in reasons)
    assert english == ("risk flag fraud (stolen, fraud, scam); fees (fee); sentiment negative (-0.62); "
                       "sentiment -0.62 below -0.30; about our brand Aurelia Bank; brand Aurelia Bank; language en; "
                       "priority critical (at least high); author has 12,345 followers (at least 5,000); "
                       "text matches /sto+len/ (“stoooolen”)")
    assert explain(rule, reasons, priority, written(why[0])) == (
        f"Rule “all-of-them” (Everything at once): {english}. Priority critical: flag fraud is critical.")
    # The ingest's English (written without lookups) is what any words writing English would write.
    for found in (reasons, ()):
        assert explain(rule, found, priority, "x", Words()) == explain(rule, found, priority, "x")
    assert explain(rule, (), "low", "no risk flag").endswith(": no earlier rule matched. Priority low: no risk flag.")
    assert route((rule,), post, "x").explanation.startswith(f"Rule “all-of-them” (Everything at once): {english}.")

    class Shouting(Words):
        def text(self, template: str) -> str:
            return template.upper().replace("{FLAGS}", "{flags}").replace("{SCORE}", "{score}")

        def flag(self, key: str) -> str:
            return f"<{key}>"

        def score(self, value: float) -> str:
            return f"{value:.1f}"

    assert written(reasons[0], Shouting()) == "RISK FLAG <fraud> (stolen, fraud, scam); <fees> (fee)"
    assert written(Reason("strongly negative ({score})", (("score", -0.62),)), Shouting()) == "STRONGLY NEGATIVE (-0.6)"
    _p, raised = priority_reasons(("fees",), {"fees": "medium"}, -0.2, 20000, 10000)
    assert _p == "high" and ", ".join(written(r) for r in raised) == (
        "flag fees is medium, raised one step for an author with 20,000 followers")
