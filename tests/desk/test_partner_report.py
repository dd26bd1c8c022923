"""The partner report's figures equal the ones worked out by hand on a fixed world."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.core.runtime import Runtime
from gateway.desk.reports import Period, nearest_rank, partner_report, rows_to_csv
from tests.conftest import demo_config_text
from tests.desk.world import T0, World, at

DAY = 86_400


def build(world: World) -> None:
    """vendor → partner ×3, vendor → fixit ×2 (one in April), partner → subco ×2."""
    v1, v2, v3 = (world.ticket("vendor", at(h * 3600)) for h in range(3))
    p1 = world.ticket("partner", at(0))
    world.link(v1, p1, at(0), accepted=at(600), resolved=at(7200), rating=4)
    world.link(v2, world.ticket("partner", at(3600)), at(3600), accepted=at(3600 + 1200), resolved=at(3600 + 3600), rating=2)
    world.link(v3, world.ticket("partner", at(7200)), at(7200), accepted=at(7200 + 300))
    v4, v5 = world.ticket("vendor", at(DAY)), world.ticket("vendor", at(31 * DAY))
    world.link(v4, world.ticket("fixit", at(DAY)), at(DAY), accepted=at(DAY + 60), resolved=at(DAY + 600), rating=5)
    world.link(v5, world.ticket("fixit", at(31 * DAY)), at(31 * DAY), accepted=at(31 * DAY + 120))
    world.link(p1, world.ticket("subco", at(900)), at(900), accepted=at(900 + 1800), resolved=at(900 + 5400), rating=3)
    world.link(world.ticket("partner", at(2 * DAY)), world.ticket("subco", at(2 * DAY)), at(2 * DAY))


def by_key(rows) -> dict:
    return {(r.partner, r.handed_by): r for r in rows}


def test_nearest_rank_percentile() -> None:
    assert nearest_rank([], 0.9) is None
    assert nearest_rank([5], 0.9) == 5
    assert nearest_rank([1200, 300, 600], 0.9) == 1200  # rank ⌈2.7⌉ = 3
    assert nearest_rank(list(range(1, 11)), 0.9) == 9  # rank ⌈9.0⌉ = 9
    assert nearest_rank(list(range(1, 11)), 0.5) == 5


def test_figures_per_partner_and_handing_account(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        build(World(session))
    with runtime.db.transaction() as session:
        rows = by_key(partner_report(session))

    partner = rows[("partner", None)]
    assert (partner.tickets, partner.resolved, partner.rated) == (3, 2, 2)
    assert partner.accept_median_seconds == 600  # of 300, 600, 1200
    assert partner.accept_p90_seconds == 1200
    assert partner.resolve_median_seconds == 5400  # of 3600 and 7200
    assert partner.resolve_p90_seconds == 7200
    assert partner.rating_avg == 3.0  # (4 + 2) / 2
    assert rows[("partner", "vendor")] == partner.__class__(**{**partner.__dict__, "handed_by": "vendor", "handed_by_name": "Vendor Ltd"})

    fixit = rows[("fixit", None)]
    assert (fixit.tickets, fixit.resolved, fixit.rated) == (2, 1, 1)
    assert (fixit.accept_median_seconds, fixit.accept_p90_seconds) == (90, 120)
    assert (fixit.resolve_median_seconds, fixit.rating_avg) == (600, 5.0)

    subco = rows[("subco", "partner")]
    assert (subco.tickets, subco.resolved, subco.rated, subco.handed_by_name) == (2, 1, 1, "Partner GmbH")
    assert (subco.accept_median_seconds, subco.resolve_p90_seconds, subco.rating_avg) == (1800, 5400, 3.0)
    assert set(rows) == {("partner", None), ("partner", "vendor"), ("fixit", None), ("fixit", "vendor"),
                         ("subco", None), ("subco", "partner")}


def test_period_and_account_filters(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        build(World(session))
    march = Period.from_dates(date(2026, 3, 1), date(2026, 3, 31))
    with runtime.db.transaction() as session:
        in_march = by_key(partner_report(session, march))
        second_day = by_key(partner_report(session, Period.from_dates(date(2026, 3, 2), date(2026, 3, 2))))
        seen_by_partner = by_key(partner_report(session, account="partner"))
    assert in_march[("fixit", None)].tickets == 1  # the April handoff is outside
    assert in_march[("fixit", None)].accept_p90_seconds == 60
    assert set(second_day) == {("fixit", None), ("fixit", "vendor")}  # --until is included, whole day
    assert set(seen_by_partner) == {("partner", None), ("partner", "vendor"), ("subco", None), ("subco", "partner")}


def test_csv_has_a_header_and_empty_cells_for_missing_figures(sqlite_runtime: Runtime) -> None:
    with sqlite_runtime.db.transaction() as session:
        world = World(session)
        world.link(world.ticket("vendor", T0), world.ticket("fixit", T0), T0)
        rows = partner_report(session)
    parsed = list(csv.DictReader(io.StringIO(rows_to_csv(rows))))
    assert parsed[0]["partner"] == "fixit" and parsed[0]["handed_by"] == ""
    assert parsed[1]["handed_by"] == "vendor"
    assert (parsed[0]["tickets"], parsed[0]["accept_median_seconds"], parsed[0]["rating_avg"]) == ("1", "", "")


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "relaydesk.toml"
    path.write_text(demo_config_text(tmp_path), encoding="utf-8")
    return path


def test_cli_report_in_every_format(config_file: Path) -> None:
    from gateway.core.config import load_config

    runtime = Runtime.open(load_config(config_file))
    with runtime.db.transaction() as session:
        build(World(session))
    runtime.close()
    runner = CliRunner()
    as_json = runner.invoke(app, ["report", "partners", "--config", str(config_file), "--format", "json",
                                  "--since", "2026-03-01", "--until", "2026-03-31"])
    assert as_json.exit_code == 0, as_json.output
    fixit = next(r for r in json.loads(as_json.stdout) if r["partner"] == "fixit" and r["handed_by"] is None)
    assert fixit["tickets"] == 1 and fixit["rating_avg"] == 5.0
    as_csv = runner.invoke(app, ["report", "partners", "--config", str(config_file), "--format", "csv", "--account", "fixit"])
    assert as_csv.stdout.splitlines()[0].startswith("partner,partner_name,handed_by")
    assert len(as_csv.stdout.splitlines()) == 3  # header, fixit total, fixit by vendor
    table = runner.invoke(app, ["report", "partners", "--config", str(config_file)], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "FixIt Repairs" in table.stdout


def test_cli_rejects_a_bad_date_and_format(config_file: Path) -> None:
    runner = CliRunner()
    bad_date = runner.invoke(app, ["report", "partners", "--config", str(config_file), "--since", "March"])
    assert bad_date.exit_code == 2 and "--since expects a date" in bad_date.output
    bad_format = runner.invoke(app, ["report", "partners", "--config", str(config_file), "--format", "xml"])
    assert bad_format.exit_code == 2 and "--format must be" in bad_format.output


def test_share_within_terms_and_breaches(runtime: Runtime) -> None:
    """Partner: one link kept its terms, one missed accepting, one still runs; FixIt had no terms."""
    from storage.deadline_models import Deadline

    with runtime.db.transaction() as session:
        world = World(session)
        links = [world.link(world.ticket("vendor", at(h)), world.ticket("partner", at(h)), at(h)) for h in range(3)]
        world.link(world.ticket("vendor", at(9)), world.ticket("fixit", at(9)), at(9))
        for link, (accept, resolve) in zip(links, [("met", "met"), ("breached", "stopped"), ("met", "running")]):
            for kind, state in (("accept", accept), ("resolve", resolve)):
                session.add(Deadline(link_id=link.id, kind=kind, state=state, allowed_seconds=3600.0,
                                     spent_seconds=0.0, terms={}, started_at=at(0)))
    with runtime.db.transaction() as session:
        rows = by_key(partner_report(session))
    partner, fixit = rows[("partner", None)], rows[("fixit", None)]
    assert (partner.under_terms, partner.within_terms_share) == (3, 0.5)  # of the two decided, one within
    assert (partner.accept_breaches, partner.resolve_breaches) == (1, 0)
    assert (fixit.under_terms, fixit.within_terms_share, fixit.accept_breaches) == (0, None, 0)
    parsed = list(csv.DictReader(io.StringIO(rows_to_csv([partner]))))
    assert (parsed[0]["within_terms_share"], parsed[0]["accept_breaches"]) == ("0.5", "1")
