"""parsers.auth_results: Authentication-Results fields as MTAs write them."""

from __future__ import annotations

from parsers.auth_results import MethodResult, parse_auth_results


def test_opendkim_and_postfix_style_field() -> None:
    found = parse_auth_results(
        "mx.vendor.example (Postfix); dkim=pass (2048-bit key; unprotected) header.d=Vendor.example "
        "header.i=@vendor.example header.b=\"AbC1\"; spf=pass (mx.vendor.example: domain of dana@vendor.example "
        "designates 192.0.2.1 as permitted sender) smtp.mailfrom=dana@vendor.example; dmarc=pass (p=none) "
        "header.from=vendor.example"
    )
    assert found is not None and found.authserv_id == "mx.vendor.example"
    assert found.results == (
        MethodResult("dkim", "pass", {"header.d": "vendor.example", "header.i": "@vendor.example", "header.b": "abc1"}),
        MethodResult("spf", "pass", {"smtp.mailfrom": "dana@vendor.example"}),
        MethodResult("dmarc", "pass", {"header.from": "vendor.example"}),
    )


def test_none_results_failures_and_junk() -> None:
    assert parse_auth_results("mx.example; none").results == ()
    assert parse_auth_results("mx.example; dkim=fail header.d=x.example").results[0].result == "fail"
    assert parse_auth_results("") is None
    assert parse_auth_results(";;;") is None
    assert parse_auth_results("mx.example; garbage without equals; spf=softfail").results == (
        MethodResult("spf", "softfail", {}),)
