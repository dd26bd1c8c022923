"""Base subjects and JWZ threading from Message-ID/References/Subject headers."""

from parsers.jwz_threading import Threadable, render, thread
from parsers.subjects import base_subject


def test_base_subject_strips_prefixes_in_many_languages_and_counts_depth() -> None:
    assert base_subject("Re: Re[4]: simple subject  ") == ("simple subject", 5)
    assert base_subject("AW: WG: [VND-12] Kasse defekt") == ("Kasse defekt", 2)
    assert base_subject("Ответ: Re: тест") == ("тест", 2)
    assert base_subject("回复：测试") == ("测试", 1)
    assert base_subject("Fwd: quarterly report (fwd)") == ("quarterly report", 2)
    assert base_subject("Immediate help needed") == ("Immediate help needed", 0)
    assert base_subject("Re:") == ("Re:", 0)


def _m(index: int, subject: str, message_id: str, *references: str) -> Threadable:
    return Threadable(index, message_id, subject, references)


def test_references_build_the_tree_and_missing_parents_become_dummies() -> None:
    roots = thread([
        _m(1, "A", "<1>"),
        _m(2, "B", "<2>", "<1>"),
        _m(3, "C", "<3>", "<1>", "<2>"),
        _m(4, "G", "<7>", "<nonesuch>"),
        _m(5, "H", "<8>", "<nonesuch>"),
    ])
    assert render(roots) == ["A", "   B", "      C", "dummy", "   G", "   H"]


def test_same_subject_roots_are_grouped_and_replies_go_under_the_original() -> None:
    roots = thread([
        _m(1, "Kasse defekt", "<a>"),
        _m(2, "Re: Kasse defekt", "<b>"),  # reply whose client dropped the References
        _m(3, "other", "<c>"),
        _m(4, "same", "<d>"),
        _m(5, "same", "<e>"),
    ])
    assert render(roots) == ["Kasse defekt", "   Re: Kasse defekt", "other", "dummy", "   same", "   same"]


def test_cycles_and_duplicates_terminate_without_losing_messages() -> None:
    messages = [
        _m(1, "Loop1", "<l1>", "<l2>", "<l3>"),
        _m(2, "Loop2", "<l2>", "<l3>", "<l1>"),
        _m(3, "Loop3", "<l3>", "<l1>", "<l2>"),
        _m(4, "Self", "<s>", "<s>"),
        _m(5, "dup", "<d>"),
        _m(6, "dup", "<d>"),
    ]
    lines = render(thread(messages))
    assert sorted(line.strip() for line in lines if line.strip() != "dummy") == sorted(m.subject for m in messages)


def test_a_reply_chain_thousands_deep_threads_without_recursion_limits() -> None:
    depth = 5000
    messages = [_m(i, "Re: chain" if i else "chain", f"<m{i}>", *([f"<m{i - 1}>"] if i else [])) for i in range(depth)]
    lines = render(thread(messages))
    assert len(lines) == depth
    assert lines[-1] == " " * 3 * (depth - 1) + "Re: chain"
