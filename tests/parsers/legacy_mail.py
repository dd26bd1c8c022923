"""Mail as legacy clients write it: raw 8-bit headers in the charset of the sender's locale.

Outlook Express, Foxmail, Becky!, The Bat! and Eudora wrote display names,
subjects and attachment names as raw bytes (no RFC 2047) and, most of the
time, labelled only the body with the charset.  Shared by the tests of
charset recovery.
"""

from __future__ import annotations

from typing import NamedTuple


class Locale(NamedTuple):
    """One sender locale: its charset, the label its client writes, its mailer, and texts in its language."""

    codec: str
    label: str
    mailer: str
    domain: str
    name: str
    subject: str
    filename: str
    body: str


LOCALES = {
    "gbk": Locale("gbk", "gb2312", "Foxmail 6, 15, 201, 22 [cn]", "corp.cn", "张伟", "关于三月份发票的问题",
                  "报价单.xls", "您好，附件是报价单，请查收。如有问题请及时联系我们。"),
    "big5": Locale("big5", "big5", "Microsoft Outlook Express 6.00.2900.5512", "corp.tw", "陳大文",
                   "關於三月份發票的問題", "報價單.xls", "您好，附件是報價單，請查收。如有問題請與我們聯絡。"),
    "shift_jis": Locale("shift_jis", "shift_jis", "Becky! ver. 2.75.03", "corp.jp", "山田太郎", "請求書の件について",
                        "見積書.pdf", "お世話になっております。見積書を添付いたしますので、ご確認ください。"),
    "euc-kr": Locale("euc-kr", "euc-kr", "Microsoft Outlook Express 6.00.2900.5512", "corp.kr", "김철수",
                     "견적서 문의드립니다", "견적서.pdf", "안녕하세요. 요청하신 견적서를 첨부합니다. 확인 부탁드립니다."),
    "koi8-r": Locale("koi8-r", "koi8-r", "The Bat! (v3.99.3) Professional", "corp.ru", "Иван Петров",
                     "Счёт на оплату за март", "Счёт.pdf", "Здравствуйте! Высылаю счёт на оплату, прошу подтвердить."),
    "windows-1251": Locale("cp1251", "windows-1251", "Microsoft Outlook Express 6.00.2900.5512", "corp.ua",
                           "Олена Коваленко", "Рахунок на оплату за березень", "Рахунок №15.pdf",
                           "Добрий день! Надсилаю рахунок на оплату, прошу підтвердити отримання."),
    "latin-1": Locale("latin-1", "iso-8859-1", "QUALCOMM Windows Eudora Version 7.1.0.9", "firma.example",
                      "José Müller", "Réclamation: facture n° 42 für März", "Übersicht März.pdf",
                      "Grüße aus München! Die Rechnung für März liegt bei, merci beaucoup."),
}


def legacy_mail(locale: Locale, *, label: bool = True, body_in_charset: bool = True, domain: str | None = None,
                name: str | None = None, subject: str | None = None, filename: str | None = None) -> bytes:
    """A multipart mail with a raw 8-bit From name, Subject and attachment name in `locale`'s charset."""
    codec = locale.codec
    charset = f'; charset="{locale.label}"' if label else ""
    body = (locale.body if body_in_charset else "Please see the attachment.").encode(codec)
    return (
        b"From: " + (name or locale.name).encode(codec) + f" <sender@{domain or locale.domain}>\r\n".encode()
        + b"To: support@desk.example\r\n"
        + b"Subject: " + (subject or locale.subject).encode(codec) + b"\r\n"
        + b"Date: Mon, 04 Mar 2024 09:15:00 +0800\r\nMessage-ID: <legacy.1@" + (domain or locale.domain).encode()
        + b">\r\nMIME-Version: 1.0\r\nX-Mailer: " + locale.mailer.encode() + b"\r\n"
        + b"Content-Type: multipart/mixed; boundary=\"----=_NextPart_000_0007_01DA6E1F\"\r\n\r\n"
        + b"This is a multi-part message in MIME format.\r\n\r\n------=_NextPart_000_0007_01DA6E1F\r\n"
        + f"Content-Type: text/plain{charset}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".encode()
        + body + b"\r\n\r\n------=_NextPart_000_0007_01DA6E1F\r\n"
        + b"Content-Type: application/octet-stream; name=\"" + (filename or locale.filename).encode(codec) + b"\"\r\n"
        + b"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\""
        + (filename or locale.filename).encode(codec) + b"\"\r\n\r\nJVBERi0xLjQK\r\n\r\n"
        + b"------=_NextPart_000_0007_01DA6E1F--\r\n"
    )
