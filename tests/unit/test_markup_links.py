"""html_links and html_without_class (collectors/markup.py): what the Mastodon connector reads
links from and drops the quote fallback with."""

from __future__ import annotations

from collectors.markup import html_links, html_to_text, html_without_class


def test_links_come_in_order_with_their_classes_and_entities_decoded() -> None:
    markup = ('<p><a href="https://a.example/?x=1&amp;y=2" class="u-url mention">@a</a> '
              "<a href='https://b.example'>b</a> <a>no href</a> <a href=\"\">empty</a></p>")
    assert html_links(markup) == [("https://a.example/?x=1&y=2", "u-url mention"), ("https://b.example", "")]


def test_the_elements_of_a_class_are_cut_and_the_rest_kept_byte_for_byte() -> None:
    keep = '<p>one &amp; <b>two</b></p>\r\n<p>three</p>'
    cut = '<p class="x quote-inline">RE: <a href="https://q.example/1"><span>q</span></a></p>'
    assert html_without_class(cut + keep, "quote-inline") == keep
    nested = '<p>a<span class="quote-inline"><span>in</span><br/>RE: <span>x</span></span> b</p>'
    assert html_to_text(html_without_class(nested, "quote-inline")) == "a b"
    assert html_without_class("<p>a</p>\n<p class=quote-inline>RE: <a href=x>never closed", "quote-inline") == \
        "<p>a</p>\n"
    assert html_without_class(keep, "quote-inline") is keep  # nothing to cut: the same text
    assert html_without_class("<br class=quote-inline>a", "quote-inline") == "<br class=quote-inline>a"


def test_hostile_markup_never_raises() -> None:
    for markup in ("<", "<a href", "<p class=quote-inline", "<<<>>>", "&#xD800;", "<a href='\x00'>", "\n" * 5 + "<p"):
        html_links(markup)
        html_without_class(markup, "quote-inline")
