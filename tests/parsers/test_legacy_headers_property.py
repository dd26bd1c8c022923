"""Property: a header written raw in a legacy charset decodes to the text its sender wrote.

Generated from words of each language, in the three situations a legacy
client leaves a reader in: the body labelled with the charset, the body in
the same charset but unlabelled, and nothing but the sender's country domain.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers import parse_message
from tests.parsers.legacy_mail import LOCALES, legacy_mail

WORDS = {
    "gbk": ("发票", "问题", "合同", "付款", "报价", "会议", "客户", "订单", "通知", "确认", "我们", "公司", "产品", "服务",
            "时间", "请", "的", "关于", "明天", "已经"),
    "big5": ("發票", "問題", "合約", "付款", "報價", "會議", "客戶", "訂單", "通知", "確認", "我們", "公司", "產品", "服務",
             "時間", "請", "的", "關於", "明天", "已經"),
    "shift_jis": ("請求書", "見積書", "会議", "お願い", "します", "について", "確認", "注文", "納品", "担当", "株式会社",
                  "ご連絡", "よろしく", "こんにちは", "報告", "資料"),
    "euc-kr": ("견적서", "문의", "드립니다", "회의", "계약서", "주문", "확인", "부탁", "안녕하세요", "감사합니다", "자료",
               "일정", "변경", "요청", "담당자", "회사"),
    # No "ООО": alone it reads as "ппп" in cp1251 just as well, and only a dictionary could tell.
    "koi8-r": ("счёт", "оплата", "договор", "заказ", "поставка", "вопрос", "Здравствуйте", "прошу", "срочно",
               "акт", "сверки", "март", "Иван", "Петров", "Ромашка"),
    "windows-1251": ("рахунок", "оплата", "договір", "замовлення", "питання", "Доброго", "дня", "прошу", "терміново",
                     "Олена", "рахунку", "квітень", "акт", "звірки", "ТОВ"),
    "latin-1": ("Réclamation", "facture", "März", "Grüße", "Übersicht", "Straße", "José", "Müller", "année", "señor",
                "Ação", "São", "Paulo", "Köln", "naïve", "déjà", "Zürich", "Bestellung"),
}
PROPERTY = settings(max_examples=40, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


def _phrase(key: str, most: int) -> st.SearchStrategy[str]:
    joiner = "" if key in ("gbk", "big5", "shift_jis") else " "
    return st.lists(st.sampled_from(WORDS[key]), min_size=1, max_size=most).map(joiner.join)


def _check(key: str, name: str, subject: str, stem: str, **situation: object) -> None:
    locale = LOCALES[key]
    raw = legacy_mail(locale, name=name, subject=subject, filename=f"{stem}.pdf", **situation)  # type: ignore[arg-type]
    parsed = parse_message(raw)
    assert parsed.subject == subject
    assert parsed.sender is not None and parsed.sender.name == name
    assert [a.filename for a in parsed.attachments] == [f"{stem}.pdf"]


def _property(**situation: object):  # type: ignore[no-untyped-def]
    @PROPERTY
    @given(key=st.sampled_from(sorted(WORDS)), data=st.data())
    def check(key: str, data: st.DataObject) -> None:
        name = data.draw(_phrase(key, 2), label="name")
        subject = data.draw(_phrase(key, 6), label="subject")
        stem = data.draw(_phrase(key, 3), label="filename")
        _check(key, name, subject, stem, **situation)

    return check


test_raw_headers_decode_when_the_body_declares_the_charset = _property()
test_raw_headers_decode_when_the_body_is_in_the_charset_unlabelled = _property(label=False)
test_raw_headers_decode_by_the_senders_country = _property(label=False, body_in_charset=False)
