"""The single-part shortcut reads exactly the tree the stdlib feed parser builds, or declines."""

from __future__ import annotations

from email.message import Message
from email.parser import Parser
from email.policy import compat32

import pytest

from parsers.single_part import parse_single_part

SAME_TREE = [
    "",
    "just a body line\nand another\n",
    "From: a@example.com\nSubject: hi\n\nbody\n",
    "From: a@example.com\r\nSubject: folded\r\n  on two lines\r\n\r\nbody\r\n",
    "Subject: bare carriage returns\rX-A: b\r\rbody\r",
    "From sender Tue Mar 10 10:00:00 2026\nSubject: mbox\n\nbody\n",
    "Subject: no separator\nthis line starts the body\n",
    "Subject: headers only, no newline at the end",
    "Content-Type: text/plain; charset=utf-8\nSubject: \udce9t\xe9\n\n\udcff body\n",
    "Content-Type: TEXT\n\nmalformed type reads as text/plain\n",
    "Subject: vertical\x0btab is not a line break\n\nbody\n",
]
DECLINED = [
    " continuation first\nSubject: x\n\nbody\n",
    "Subject: x\nFrom stray envelope line\nTo: b@example.com\n\nbody\n",
    ":no name\n\nbody\n",
    "Content-Type: multipart/mixed; boundary=b\n\n--b\n\npart\n--b--\n",
    "Content-Type: message/rfc822\n\nSubject: inner\n\nbody\n",
]


def _shape(message: Message) -> tuple[dict[str, object], list[tuple[type, str]]]:
    fields = {k: v for k, v in vars(message).items() if k != "defects"}
    return fields, [(type(d), str(d)) for d in message.defects]


@pytest.mark.parametrize("text", SAME_TREE)
def test_same_tree_as_the_feed_parser(text: str) -> None:
    fast = parse_single_part(text)
    assert fast is not None
    assert _shape(fast.message()) == _shape(Parser(policy=compat32).parsestr(text))


@pytest.mark.parametrize("text", DECLINED)
def test_declines_what_the_feed_parser_treats_specially(text: str) -> None:
    assert parse_single_part(text) is None
