"""Reply, forward and HTML helpers never raise and never lose a line of the body."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.forward import detect_forward
from parsers.html_text import html_to_text
from parsers.reply import split_reply

PIECES = st.sampled_from([
    "Hello", "> quoted", ">> deeper", "", "-- ", "--", "Best regards,", "Sent from my iPhone", "Peter",
    "On Mon, Mar 4, 2024 at 10:15 AM Anna <a@example.com> wrote:", "On Mon, Mar 4, 2024 Anna <", "a@example.com> wrote:",
    "-----Original Message-----", "From: Anna <a@example.com>", "Sent: Monday", "To: b@example.com", "Subject: x",
    "---------- Forwarded message ---------", "Begin forwarded message:", "________________", "2024/3/4 Anna <a@example.com>",
    "Am 04.03.2024 um 10:15 schrieb Anna:", "Анна <a@example.com> написал(а):", "x=", "\u200b", "\x00", "<<sent by galaxy>>",
])
BODIES = st.lists(st.one_of(PIECES, st.text(max_size=40)), max_size=40).map("\n".join)


@settings(max_examples=400, deadline=None)
@given(body=BODIES)
def test_split_keeps_every_line(body: str) -> None:
    result = split_reply(body)
    assert result.signature is None or result.signature in result.elided
    kept = {line.strip() for line in (result.text + "\n" + result.elided).split("\n")}
    for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.strip():
            assert line.strip() in kept


@settings(max_examples=200, deadline=None)
@given(subject=st.one_of(st.just("Fwd: x"), st.text(max_size=20)), body=BODIES)
def test_forward_detection_never_raises(subject: str, body: str) -> None:
    forward = detect_forward(subject, body)
    if forward is not None:
        assert forward.note in body.replace("\r\n", "\n").replace("\r", "\n")


@settings(max_examples=200, deadline=None)
@given(html=st.text(alphabet="<>/=\"' abcdivpbrhqulotyse&;#x0123", max_size=200))
def test_html_never_raises(html: str) -> None:
    assert isinstance(html_to_text(html), str)
    assert isinstance(split_reply("", html).text, str)
