"""Classification of every kind, bounce details, several languages."""

from pathlib import Path

import pytest

from parsers import ParseOptions, parse_message

FIXTURES = Path(__file__).parent / "fixtures_mime"


def _mail(headers: str = "", subject: str = "Kassa", sender: str = "ivan@shop.example", body: str = "Hello") -> bytes:
    return (
        f"From: {sender}\r\nTo: support@vendor.example\r\nSubject: {subject}\r\n"
        f"Date: Mon, 09 Mar 2026 10:00:00 +0300\r\nMessage-ID: <m1@shop.example>\r\n{headers}"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def test_plain_mail_is_normal() -> None:
    assert parse_message(_mail()).kind == "normal"


@pytest.mark.parametrize(
    "headers",
    [
        "Auto-Submitted: auto-replied\r\n",
        "Auto-Submitted: auto-generated\r\n",
        "X-Autoreply: yes\r\n",
        "X-Autorespond: Out of office\r\n",
        "Precedence: bulk\r\n",
        "Precedence: junk\r\n",
        "Precedence: auto_reply\r\n",
        "Precedence: list\r\n",
    ],
)
def test_auto_reply_headers(headers: str) -> None:
    assert parse_message(_mail(headers)).kind == "auto_reply"


def test_auto_submitted_no_and_outlook_suppress_are_not_auto() -> None:
    assert parse_message(_mail("Auto-Submitted: no\r\n")).kind == "normal"
    assert parse_message(_mail("X-Auto-Response-Suppress: All\r\n")).kind == "normal"


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: Kassa",
        "Automatic reply: [VND-1] Kassa",
        "Auto: Kassa",
        "Abwesenheitsnotiz: Kassa",
        "Automatische Antwort: Kassa",
        "=?utf-8?q?R=C3=A9ponse_automatique=C2=A0:_Kassa?=",
        "=?utf-8?q?Respuesta_autom=C3=A1tica:_Kassa?=",
        "Risposta automatica: Kassa",
        "=?utf-8?b?0JDQstGC0L7QvtGC0LLQtdGCOiBLYXNzYQ==?=",
        "=?utf-8?b?0JDQstGC0L7QvNCw0YLQuNGH0LXRgdC60LjQuSDQvtGC0LLQtdGCOiBLYXNzYQ==?=",
        "=?utf-8?b?6Ieq5Yqo5Zue5aSNOiBLYXNzYQ==?=",
        "Automatisch antwoord: Kassa",
        "=?utf-8?q?Odpowied=C5=BA_automatyczna:_Kassa?=",
        "=?utf-8?q?Resposta_autom=C3=A1tica:_Kassa?=",
        "=?utf-8?q?Otomatik_yan=C4=B1t:_Kassa?=",
    ],
)
def test_auto_reply_subjects_in_many_languages(subject: str) -> None:
    assert parse_message(_mail(subject=subject)).kind == "auto_reply"


def test_ordinary_subjects_are_not_mistaken_for_auto_replies() -> None:
    for subject in ("Re: office move", "Automation of the kassa", "Autofill broken", "Out of paper in register 3"):
        assert parse_message(_mail(subject=subject)).kind == "normal", subject


@pytest.mark.parametrize(
    "headers",
    ["List-Id: Users <users.lists.example>\r\n", "List-Unsubscribe: <mailto:u@lists.example>\r\n",
     "List-Post: <mailto:users@lists.example>\r\nPrecedence: list\r\n",
     "Mailing-List: contact users-help@lists.example; run by ezmlm\r\n"],
)
def test_list_mail(headers: str) -> None:
    assert parse_message(_mail(headers)).kind == "list"


def test_loop_by_own_message_id_domain_and_by_hops() -> None:
    options = ParseOptions(own_domains=("shop.example",))
    assert parse_message(_mail(), options).kind == "loop"
    assert parse_message(_mail("X-Relaydesk-Hops: 8\r\n")).kind == "loop"
    assert parse_message(_mail("X-Relaydesk-Hops: 7\r\n")).kind == "normal"


def test_precedence_between_kinds() -> None:
    auto_and_list = "Auto-Submitted: auto-replied\r\nList-Id: <l.example>\r\n"
    assert parse_message(_mail(auto_and_list)).kind == "auto_reply"
    bounce_and_auto = parse_message(_mail("Auto-Submitted: auto-replied\r\n", sender="MAILER-DAEMON@mx.example"))
    assert bounce_and_auto.kind == "bounce"
    everything = _mail("Auto-Submitted: auto-replied\r\nX-Relaydesk-Hops: 20\r\n", sender="MAILER-DAEMON@mx.example")
    assert parse_message(everything).kind == "loop"


def test_standard_dsn_details() -> None:
    parsed = parse_message((FIXTURES / "dsn_postfix.eml").read_bytes())
    assert parsed.kind == "bounce"
    assert parsed.bounce is not None
    assert parsed.bounce.recipient == "ivan.petrov@partner.example"
    assert parsed.bounce.status == "5.1.1"
    assert parsed.bounce.diagnostic is not None and "User unknown" in parsed.bounce.diagnostic
    assert parsed.bounce.original_message_id == "<vnd-1042-7@relay.vendor.example>"
    assert parsed.forward is None


def test_qmail_bounce_details() -> None:
    parsed = parse_message((FIXTURES / "bounce_qmail.eml").read_bytes())
    assert parsed.kind == "bounce"
    assert parsed.bounce is not None
    assert (parsed.bounce.recipient, parsed.bounce.status) == ("oleg@subco.example", "5.1.1")
    assert parsed.bounce.original_message_id == "<handoff-77@vendor.example>"


def test_exim_bounce_details() -> None:
    parsed = parse_message((FIXTURES / "bounce_exim.eml").read_bytes())
    assert parsed.kind == "bounce"
    assert parsed.bounce is not None
    assert (parsed.bounce.recipient, parsed.bounce.status) == ("service@horeca-fix.example", "5.7.1")
    assert parsed.bounce.diagnostic is not None and "Mailbox disabled" in parsed.bounce.diagnostic
    assert parsed.bounce.original_message_id == "<ptn-77-3@relay.vendor.example>"


def test_outlook_undeliverable() -> None:
    parsed = parse_message((FIXTURES / "outlook_undeliverable.eml").read_bytes())
    assert parsed.kind == "bounce"
    assert parsed.bounce is not None
    assert (parsed.bounce.recipient, parsed.bounce.status) == ("it-desk@contoso.example", "5.1.10")


def test_gmail_dsn_subject_alone_is_a_bounce() -> None:
    parsed = parse_message(_mail(subject="Delivery Status Notification (Failure)", sender="noreply@google.example"))
    assert parsed.kind == "bounce"


CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "discourse" / "emails"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("bounced_email.eml", "bounce"),
        ("bounced_email_multiple_status_codes.eml", "bounce"),
        ("hard_bounce_via_verp.eml", "bounce"),
        ("soft_bounce_via_verp.eml", "bounce"),
        ("auto_generated_header.eml", "auto_reply"),
        ("mailinglist.eml", "list"),
        ("text_reply.eml", "normal"),
    ],
)
def test_discourse_examples(name: str, kind: str) -> None:
    assert parse_message((CORPUS / name).read_bytes()).kind == kind


def test_postfix_plain_text_bounce_is_found_by_its_wording() -> None:
    body = (
        "This is the mail system at host mx.hoster.example.\r\n\r\n"
        "<bob@partner.example>: host mail.partner.example[192.0.2.9] said: 550 5.1.1\r\n"
        "    <bob@partner.example>: Recipient address rejected: User unknown\r\n"
    )
    parsed = parse_message(_mail(subject="Message status", sender="double-bounce@mx.hoster.example", body=body))
    assert parsed.kind == "bounce"
    assert parsed.bounce is not None
    assert (parsed.bounce.recipient, parsed.bounce.status) == ("bob@partner.example", "5.1.1")


def test_read_receipt_is_automatic() -> None:
    raw = (
        b"From: boss@shop.example\r\nTo: support@vendor.example\r\nSubject: Read: Kassa\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary=R\r\n\r\n"
        b"--R\r\nContent-Type: text/plain\r\n\r\nYour message was read.\r\n"
        b"--R\r\nContent-Type: message/disposition-notification\r\n\r\nFinal-Recipient: rfc822; boss@shop.example\r\n"
        b"Disposition: manual-action/MDN-sent-manually; displayed\r\n\r\n--R--\r\n"
    )
    assert parse_message(raw).kind == "auto_reply"
