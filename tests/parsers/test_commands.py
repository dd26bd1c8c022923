"""`#command` lines at the top of the new text."""

from parsers import parse_message
from parsers.commands import KNOWN, extract_commands
from parsers.message import Command


def test_commands_at_the_top_are_parsed_and_removed() -> None:
    commands, text = extract_commands("#status resolved\n\n#Assign olga\nDone, replaced the printer.\n#status open")
    assert commands == (Command("status", ("resolved",)), Command("assign", ("olga",)))
    assert text == "Done, replaced the printer.\n#status open"


def test_free_text_tails_stay_one_argument() -> None:
    commands, text = extract_commands(
        "#rate 4 quick, but no call ahead\n#handoff horeca-fix please by Friday, key at the bar\n#asset POS-12 in shop 3\n#internal"
    )
    assert commands == (
        Command("rate", ("4", "quick, but no call ahead")),
        Command("handoff", ("horeca-fix", "please by Friday, key at the bar")),
        Command("asset", ("POS-12 in shop 3",)),
        Command("internal"),
    )
    assert text == ""


def test_short_forms_without_tail() -> None:
    commands, _ = extract_commands("#rate 5\n#handoff partner\n#recall\n#approve")
    assert commands == (Command("rate", ("5",)), Command("handoff", ("partner",)), Command("recall"), Command("approve"))


def test_unknown_commands_are_returned() -> None:
    commands, _ = extract_commands("#escalate now\nplease")
    assert commands == (Command("escalate", ("now",)),)
    assert "escalate" not in KNOWN


def test_hash_lines_that_are_not_commands() -> None:
    for text in ("#1 priority is the printer", "# Heading\n#status open", "Hello\n#status open", "#status2 x"):
        commands, rest = extract_commands(text)
        assert commands == () and rest == text, text


def test_commands_through_parse_message() -> None:
    raw = (
        b"From: agent@vendor.example\r\nTo: t@vendor.example\r\nSubject: Re: [VND-1] x\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n#status pending\r\nWaiting for the part.\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.commands == (Command("status", ("pending",)),)
    assert parsed.text == "Waiting for the part."
