"""Reply attribution lines of each client and language cut the quoted history."""

from __future__ import annotations

import pytest

from parsers.reply import split_reply

NEW = "Das Gerät ist wieder in Betrieb, danke."
QUOTE = "> The printer in room 4 is offline again.\n> Can someone look at it?"

# (language/client, attribution as the client writes it)
ATTRIBUTIONS = [
    ("en gmail", "On Mon, Mar 4, 2024 at 10:15 AM Anna Berg <anna@example.com> wrote:"),
    ("en gmail wrapped", "On Mon, Mar 4, 2024 at 10:15 AM Anna Berg <\nanna@example.com> wrote:"),
    ("en apple", "On 4 Mar 2024, at 10:15, Anna Berg <anna@example.com> wrote:"),
    ("en thunderbird", "On 04.03.2024 10:15, Anna Berg wrote:"),
    ("en wrapped three lines", "On Monday, March 4, 2024 10:15 AM,\nAnna Berg from the service desk\n<anna@example.com> wrote:"),
    ("de", "Am Mo., 4. März 2024 um 10:15 Uhr schrieb Anna Berg <anna@example.com>:"),
    ("de thunderbird", "Am 04.03.2024 um 10:15 schrieb Anna Berg:"),
    ("fr", "Le lun. 4 mars 2024 à 10:15, Anna Berg <anna@example.com> a écrit :"),
    ("es", "El lun, 4 mar 2024 a las 10:15, Anna Berg (<anna@example.com>) escribió:"),
    ("it", "Il giorno lun 4 mar 2024 alle ore 10:15 Anna Berg <anna@example.com> ha scritto:"),
    ("pt", "Em seg., 4 de mar. de 2024 às 10:15, Anna Berg <anna@example.com> escreveu:"),
    ("nl", "Op ma 4 mrt 2024 om 10:15 schreef Anna Berg <anna@example.com>:"),
    ("pl", "W dniu 4.03.2024 o 10:15, Anna Berg pisze:"),
    ("pl gmail", "pon., 4 mar 2024 o 10:15 Anna Berg <anna@example.com> napisał(a):"),
    ("tr", "4 Mar 2024 Pzt, 10:15 tarihinde Anna Berg <anna@example.com> şunu yazdı:"),
    ("ru gmail", "пн, 4 мар. 2024 г. в 10:15, Анна Берг <anna@example.com>:"),
    ("ru yandex", "04.03.2024, 10:15, \"Анна Берг\" <anna@example.com>:"),
    ("ru mail.ru", "Понедельник, 4 марта 2024, 10:15 +03:00 от Анна Берг <anna@example.com>:"),
    ("ru thunderbird", "04.03.2024 10:15, Анна Берг пишет:"),
    ("ru outlook", "Анна Берг <anna@example.com> написал(а):"),
    ("uk", "пн, 4 бер. 2024 о 10:15 Анна Берг <anna@example.com> пише:"),
    ("sv", "Den mån 4 mars 2024 kl 10:15 skrev Anna Berg <anna@example.com>:"),
    ("da", "man. 4. mar. 2024 kl. 10.15 skrev Anna Berg <anna@example.com>:"),
    ("no", "man. 4. mar. 2024 kl. 10:15 skrev Anna Berg <anna@example.com>:"),
    ("ar", "في الاثنين، 4 مارس 2024 في 10:15 ص، كتب Anna Berg <anna@example.com>:"),
    ("zh", "Anna Berg <anna@example.com> 于2024年3月4日周一 10:15写道："),
    ("zh foxmail", "在 2024年3月4日 10:15，Anna Berg <anna@example.com> 写道："),
    ("ja gmail", "2024年3月4日(月) 10:15 Anna Berg <anna@example.com>:"),
    ("ja", "2024/03/04 10:15、Anna Berg のメッセージ:"),
    ("ja outlook", "Anna Berg <anna@example.com> は書きました:"),
    ("old gmail", "2024/3/4 Anna Berg <anna@example.com>"),
    ("zoho", "---- On Mon, 04 Mar 2024 10:15:00 +0100 Anna Berg <anna@example.com> wrote ----"),
]


@pytest.mark.parametrize(("client", "attribution"), ATTRIBUTIONS, ids=[a[0] for a in ATTRIBUTIONS])
def test_attribution_starts_the_history(client: str, attribution: str) -> None:
    body = f"{NEW}\n\n{attribution}\n{QUOTE}\n"
    result = split_reply(body)
    assert result.text == NEW
    assert result.elided == f"{attribution}\n{QUOTE}"
    assert result.signature is None


def test_attribution_without_quote_marks_still_cuts() -> None:
    body = f"{NEW}\n\nOn Mon, Mar 4, 2024 at 10:15 AM Anna Berg <anna@example.com> wrote:\n\nThe printer is offline."
    result = split_reply(body)
    assert result.text == NEW
    assert result.elided.endswith("The printer is offline.")


def test_prose_mentioning_wrote_is_kept() -> None:
    body = "My colleague wrote: the printer works.\nPlease close the ticket."
    assert split_reply(body).text == body
    assert split_reply(body).elided == ""


def test_sentence_starting_with_on_is_kept() -> None:
    body = "On your remote host you can run:\n\n  telnet 127.0.0.1 52698\n\nThat should connect."
    result = split_reply(body)
    assert result.text == body
    assert result.elided == ""


@pytest.mark.parametrize(("client", "attribution"), ATTRIBUTIONS, ids=[a[0] for a in ATTRIBUTIONS])
def test_attribution_far_below_other_colons_still_cuts(client: str, attribution: str) -> None:
    new = "Steps so far:\n" + "\n".join(f"step {n} done without luck" for n in range(12)) + "\nStill broken."
    result = split_reply(f"{new}\n\n{attribution}\n{QUOTE}\n")
    assert result.text == new
    assert result.elided == f"{attribution}\n{QUOTE}"
