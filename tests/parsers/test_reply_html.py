"""HTML replies: quoted history removed at each client's markup, the rest as text."""

from __future__ import annotations

import pytest

from parsers.reply import split_reply

NEW_HTML = "<div>The terminal is back online.</div><div>Please check the printer too.</div>"
NEW_TEXT = "The terminal is back online.\nPlease check the printer too."
OLD = "Our terminal is offline."

CLIENTS = [
    ("gmail", f'<div dir="ltr">{NEW_HTML}</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
              f'On Mon, Mar 4, 2024 at 10:15 AM Anna &lt;anna@example.com&gt; wrote:<br></div>'
              f'<blockquote class="gmail_quote">{OLD}</blockquote></div>'),
    ("gmail extra", f'{NEW_HTML}<div class="gmail_extra"><br><div class="gmail_quote">On Mon, Anna wrote:'
                    f'<blockquote>{OLD}</blockquote></div></div>'),
    ("outlook web", f'{NEW_HTML}<hr style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" dir="ltr">'
                    f'<b>From:</b> Anna<br><b>Sent:</b> Monday<br><b>To:</b> Support<br><b>Subject:</b> Terminal</div><div>{OLD}</div>'),
    ("outlook web re-quoted", f'{NEW_HTML}<div id="x_divRplyFwdMsg"><b>From:</b> Anna<br><b>Sent:</b> Monday</div><div>{OLD}</div>'),
    ("exchange appendonsend", f'{NEW_HTML}<div id="appendonsend"></div><hr><div><b>From:</b> Anna<br><b>Sent:</b> Monday</div><p>{OLD}</p>'),
    ("outlook desktop", f'<div class="WordSection1">{NEW_HTML}<div><div style="border:none;border-top:solid #E1E1E1 1.0pt;'
                        f'padding:3.0pt 0cm 0cm 0cm"><p><b>From:</b> Anna <br><b>Sent:</b> Monday</p></div></div><p>{OLD}</p></div>'),
    ("outlook mac", f'{NEW_HTML}<span id="OLK_SRC_BODY_SECTION"><div><b>From: </b>Anna<br><b>Date: </b>Monday</div><p>{OLD}</p></span>'),
    ("apple mail", f'{NEW_HTML}<div><br><blockquote type="cite"><div>On 4 Mar 2024, at 10:15, Anna wrote:</div><div>{OLD}</div></blockquote></div>'),
    ("thunderbird", f'{NEW_HTML}<div class="moz-cite-prefix">On 04.03.2024 10:15, Anna wrote:<br></div>'
                    f'<blockquote type="cite" cite="mid:1@example.com">{OLD}</blockquote>'),
    ("yahoo", f'{NEW_HTML}<div id="yahoo_quoted_1234" class="yahoo_quoted"><div>On Monday, Anna wrote:</div><div>{OLD}</div></div>'),
    ("zimbra", f'{NEW_HTML}<hr id="zwchr"><div><b>From: </b>Anna<br><b>Sent: </b>Monday</div><div>{OLD}</div>'),
    ("zimbra web", f'{NEW_HTML}<hr id="zwchr" data-marker="__DIVIDER__"><div data-marker="__HEADERS__"><b>From: </b>Anna</div>'
                   f'<div data-marker="__QUOTED_TEXT__">{OLD}</div>'),
    ("protonmail", f'{NEW_HTML}<div class="protonmail_quote">------- Original Message -------<br>'
                   f'On Monday, Anna wrote:<blockquote class="protonmail_quote">{OLD}</blockquote></div>'),
    ("yandex", f'<div>{NEW_HTML}</div><div>&nbsp;</div><div>04.03.2024, 10:15, "Anna" &lt;anna@example.com&gt;:</div>'
               f'<blockquote>{OLD}</blockquote>'),
]


@pytest.mark.parametrize(("client", "html"), CLIENTS, ids=[c[0] for c in CLIENTS])
def test_client_quote_markup(client: str, html: str) -> None:
    result = split_reply("", html)
    assert result.text == NEW_TEXT
    assert OLD in result.elided
    assert OLD not in result.text


def test_gmail_signature_block_is_the_signature() -> None:
    html = '<div>Done.</div><div class="gmail_signature"><div>Peter Hansen<br>Service desk</div></div>'
    result = split_reply("", html)
    assert result.text == "Done."
    assert result.signature == "Peter Hansen\nService desk"
    assert result.elided == "Peter Hansen\nService desk"


def test_html_without_markers_uses_the_text_rules() -> None:
    html = "<p>Done.</p><p>On Mon, Mar 4, 2024 at 10:15 AM Anna &lt;a@example.com&gt; wrote:</p><p>Is it fixed?</p>"
    result = split_reply("", html)
    assert result.text == "Done."
    assert result.elided == "On Mon, Mar 4, 2024 at 10:15 AM Anna <a@example.com> wrote:\n\nIs it fixed?"
