"""HTML mail bodies rendered as text: blocks, lists, links, quotes; no scripts or styles."""

from __future__ import annotations

from parsers.html_text import html_to_text


def test_paragraphs_and_line_breaks() -> None:
    html = "<html><head><title>x</title><style>p{color:red}</style></head><body><p>Hello,</p><p>line one<br>line two</p></body></html>"
    assert html_to_text(html) == "Hello,\n\nline one\nline two"


def test_lists() -> None:
    html = "<p>Steps:</p><ol><li>Unplug</li><li>Wait <b>10 s</b></li></ol><ul><li>cable</li><li>power</li></ul>"
    assert html_to_text(html) == "Steps:\n\n1. Unplug\n2. Wait 10 s\n\n- cable\n- power"


def test_links_keep_their_target() -> None:
    html = '<p>See <a href="https://example.com/kb/42">the article</a> or <a href="https://example.com">https://example.com</a>, mail <a href="mailto:desk@example.com">us</a>.</p>'
    assert html_to_text(html) == "See the article (https://example.com/kb/42) or https://example.com, mail us (desk@example.com)."


def test_blockquote_is_marked() -> None:
    assert html_to_text("<p>Answer</p><blockquote><p>Question one</p><p>two</p></blockquote>") == (
        "Answer\n\n> Question one\n>\n> two"
    )


def test_scripts_styles_and_comments_are_dropped() -> None:
    html = "<div>Visible<script>alert(1)</script><style>.a{}</style><!-- hidden --><noscript>n</noscript></div>"
    assert html_to_text(html) == "Visible"


def test_table_cells_and_entities() -> None:
    html = "<table><tr><td>Model</td><td>V200c</td></tr><tr><td>Serial</td><td>A&amp;B&nbsp;12</td></tr></table>"
    assert html_to_text(html) == "Model V200c\nSerial A&B 12"


def test_broken_and_empty_markup_never_raises() -> None:
    assert html_to_text("") == ""
    assert html_to_text("<p>unclosed <b>bold <i>text") == "unclosed bold text"
    assert html_to_text("<<<>>>") == "<<<>>>"


def test_outlook_paragraphs_are_lines() -> None:
    html = '<div class="WordSection1"><p class="MsoNormal">Hello Anna,<o:p></o:p></p><p class="MsoNormal">the part is here.</p></div>'
    assert html_to_text(html) == "Hello Anna,\nthe part is here."


def test_deeply_nested_markup_is_rendered_flat_not_raised() -> None:
    html = "<div>" * 5000 + "deep text" + "</div>" * 5000
    assert html_to_text(html) == "deep text"


def test_preformatted_text_keeps_its_indentation() -> None:
    html = "<p>Log:</p><pre>error:\n    at line 4\n        in main</pre>"
    assert html_to_text(html) == "Log:\n\nerror:\n    at line 4\n        in main"


def test_doctype_declarations_and_processing_instructions_are_not_text() -> None:
    html = ('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
            '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n<html><body><p>Hello</p></body></html>')
    assert html_to_text(html) == "Hello"
