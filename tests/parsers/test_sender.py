"""Group-rewritten From (Google Groups, Mailman DMARC mitigation): the author is the sender."""

from __future__ import annotations

from parsers import parse_message


def _mail(headers: str) -> bytes:
    return (headers + "To: desk@shop.example\r\nSubject: Printer\r\nMessage-ID: <m1@mail.example>\r\n\r\n"
            "The printer is jammed.\r\n").encode()


GROUP_FROM = "From: 'Ann Lee' via Support <support@groups.example>\r\n"


def test_author_confirmed_by_x_original_from_and_reply_to_is_the_sender() -> None:
    parsed = parse_message(_mail(GROUP_FROM + "Reply-To: Ann Lee <ann@client.example>\r\n"
                                 "X-Original-From: \"Ann Lee\"\r\n <Ann@Client.example>\r\n"))
    assert parsed.sender is not None and parsed.sender.email == "ann@client.example"
    assert parsed.sender.name == "Ann Lee"
    assert any("support@groups.example" in problem for problem in parsed.problems)


def test_group_from_with_only_one_author_header_keeps_the_group() -> None:
    for extra in ("Reply-To: Ann Lee <ann@client.example>\r\n",
                  "Reply-To: Ann Lee <ann@client.example>\r\nX-Original-From: Bo <bo@client.example>\r\n"):
        parsed = parse_message(_mail(GROUP_FROM + extra))
        assert parsed.sender is not None and parsed.sender.email == "support@groups.example"


def test_ordinary_mail_with_reply_to_keeps_its_from() -> None:
    parsed = parse_message(_mail("From: Ann Lee <ann@client.example>\r\nReply-To: Helpdesk <hd@client.example>\r\n"
                                 "X-Original-From: Helpdesk <hd@client.example>\r\n"))
    assert parsed.sender is not None and parsed.sender.email == "ann@client.example"
    assert not any("rewritten" in problem for problem in parsed.problems)
