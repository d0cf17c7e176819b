"""Import and export: JSONL and CSV, all-or-nothing imports with errors naming the line
and the field, seeds imported once."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from asof import wire
from asof.archive import Archive, Coverage
from asof.archive.io import (
    ImportRecordError,
    dumps_record,
    export,
    import_file,
    import_stream,
    seed,
)
from asof.errors import InputError
from asof.records import BalanceChange, Capability

from .helpers import OTHER, SOL, WALLET, answer, at, balance_query, change, clock, covered, entry


def lines(*records: object) -> str:
    return "".join(wire.dumps_line(r) + "\n" for r in records)


def test_jsonl_import_then_answers_inside_declared_range(archive: Archive) -> None:
    text = lines(change(at(3), 10), change(at(7), 20))
    result = import_stream(archive, io.StringIO(text), complete=(None, at(31)))
    assert (result.records, result.stored) == (2, 2)
    (cov,) = archive.coverage()
    assert (cov.capability, cov.provider, cov.start, cov.end) == (
        Capability.BALANCE_HISTORY, "hist", None, at(31))
    found = archive.lookup_balance(balance_query(at(8)))
    assert found is not None
    assert found.amount.raw == 20
    # The declaration names no scope: only tokens with records are proven, never SOL.
    assert archive.lookup_balance(balance_query(at(8), token=SOL)) is None


def test_a_window_import_without_opening_balances_proves_nothing(archive: Archive) -> None:
    text = lines(change(at(3), 10), change(at(7), 20))
    import_stream(archive, io.StringIO(text), complete=(at(1), at(31)))
    # Another token account, untouched inside the window, would be invisible.
    assert archive.lookup_balance(balance_query(at(8))) is None


def test_import_without_coverage_stores_but_does_not_answer(archive: Archive) -> None:
    import_stream(archive, io.StringIO(lines(change(at(3), 10))))
    assert archive.info().counts["changes"] == 1
    assert archive.lookup_balance(balance_query(at(8))) is None


def test_a_bad_line_rolls_the_whole_import_back(archive: Archive) -> None:
    good = lines(change(at(3), 10), change(at(4), 11))
    data = json.loads(wire.dumps_line(change(at(5), 12)))
    data["balance"]["raw"] = "12.5"
    text = good + "\n" + json.dumps(data) + "\n" + lines(change(at(6), 13))
    with pytest.raises(ImportRecordError) as caught:
        import_stream(archive, io.StringIO(text), source="bad.jsonl")
    assert caught.value.line == 4  # the blank line 3 counts
    assert caught.value.field == "balance.raw"
    assert "bad.jsonl line 4" in str(caught.value)
    assert "balance.raw" in str(caught.value)
    assert isinstance(caught.value, InputError)
    assert archive.info().counts["changes"] == 0


@pytest.mark.parametrize(("line", "field"), [
    ('{"kind": "nope"}', "kind"),
    ("not json", None),
    ('{"kind": "balance_change"}', "wallet"),
])
def test_errors_name_what_is_wrong(archive: Archive, line: str, field: str | None) -> None:
    with pytest.raises(ImportRecordError) as caught:
        import_stream(archive, io.StringIO(line + "\n"))
    assert caught.value.line == 1
    assert caught.value.field == field
    assert "line 1" in str(caught.value)


def test_export_import_round_trip_moves_an_archive(archive: Archive, tmp_path: Path) -> None:
    archive.add([covered(at(1), at(31)), change(at(3), 10**30), change(at(4), 5, token=SOL,
                                                                     account=None),
                 entry(at(3), "1.000001", "1.000001"), answer(at(2), 9, at(1))])
    for fmt in ("jsonl", "csv"):
        out = io.StringIO()
        written = export(archive, out, fmt=fmt)
        assert written == 5
        with Archive(tmp_path / f"moved-{fmt}.sqlite", clock=clock()) as moved:
            result = import_stream(moved, io.StringIO(out.getvalue()), fmt=fmt)
            assert result.records == 5
            assert list(moved.records()) == list(archive.records())
            found = moved.lookup_balance(balance_query(at(5)))
            assert found is not None
            assert found.amount.raw == 10**30


def test_csv_error_names_row_line_and_column(archive: Archive) -> None:
    out = io.StringIO()
    archive.add([change(at(3), 10)])
    export(archive, out, fmt="csv", kinds=["balance_change"])
    header, row = out.getvalue().splitlines()
    columns = header.split(",")
    cells = row.split(",")
    cells[columns.index("block.timestamp")] = "yesterday"
    bad = "\n".join([header, row, ",".join(cells)]) + "\n"
    with Archive(":memory:", clock=clock()) as other:
        with pytest.raises(ImportRecordError) as caught:
            import_stream(other, io.StringIO(bad), fmt="csv", source="x.csv")
        assert caught.value.line == 3
        assert caught.value.field == "block.timestamp"
        assert other.info().counts["changes"] == 0


def test_csv_with_unknown_column_values_is_refused(archive: Archive) -> None:
    out = io.StringIO()
    archive.add([change(at(3), 10)])
    export(archive, out, fmt="csv", kinds=["balance_change"])
    header, row = out.getvalue().splitlines()
    with pytest.raises(ImportRecordError, match="unknown column"):
        import_stream(archive, io.StringIO(f"{header},colour\n{row},blue\n"), fmt="csv")


def test_csv_written_by_flatten_reads_back(archive: Archive) -> None:
    """The history commands' --format csv (wire.flatten) is importable."""
    record = change(at(3), 10)
    record = BalanceChange(**{**{a: getattr(record, a) for a in (
        "wallet", "token", "token_account", "balance", "block")},
        "provenance": record.provenance.__class__(provider="hist", echo={"limit": "5"})})
    flat = {"kind": "balance_change", **wire.flatten(record)}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(flat), lineterminator="\n")
    writer.writeheader()
    writer.writerow({k: ("true" if v is True else "false" if v is False else
                         "" if v is None else v) for k, v in flat.items()})
    import_stream(archive, io.StringIO(buffer.getvalue()), fmt="csv")
    assert list(archive.records(kinds=["balance_change"])) == [record]


def test_export_filters(archive: Archive) -> None:
    archive.add([covered(at(1), at(31)), change(at(3), 1), change(at(9), 2),
                 change(at(4), 3, wallet=OTHER), change(at(5), 4, token=SOL, account=None)])

    def kinds_and_raws(**filters: object) -> list[object]:
        return [getattr(getattr(r, "balance", None), "raw", type(r).__name__)
                for r in archive.records(**filters)]  # type: ignore[arg-type]

    assert kinds_and_raws(wallet=OTHER) == [3]
    assert kinds_and_raws(wallet=WALLET, kinds=["balance_change"]) == [1, 4, 2]
    assert kinds_and_raws(wallet=WALLET, token="SOL") == [4]
    assert kinds_and_raws(kinds=["balance_change"], start=at(4), end=at(9)) == [3, 4]
    assert kinds_and_raws(kinds=["coverage"]) == ["Coverage"]
    assert kinds_and_raws(provider="elsewhere") == []
    with pytest.raises(InputError):
        list(archive.records(kinds=["nonsense"]))


def test_import_file_formats_and_missing_file(archive: Archive, tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text(lines(change(at(3), 10)))
    assert import_file(archive, path).records == 1
    with pytest.raises(InputError, match="no such file"):
        import_file(archive, tmp_path / "missing.jsonl")
    with pytest.raises(InputError):
        import_file(archive, path, fmt="xml")


def test_seed_is_imported_once_per_file_content(tmp_path: Path) -> None:
    path = tmp_path / "seed.jsonl"
    path.write_text(lines(change(at(3), 10)))
    with Archive(tmp_path / "a.sqlite", clock=clock()) as archive:
        assert not seed(archive, path).skipped
        assert seed(archive, path).skipped
        path.write_text(lines(change(at(3), 10), change(at(4), 11)))
        assert seed(archive, path).records == 2
        assert archive.info().counts["changes"] == 2


def _many(count: int, start: int = 0) -> list[BalanceChange]:
    """``count`` changes a minute apart over two token accounts (and distinct
    provenance every 100), in order."""
    base = at(2)
    found = []
    for n in range(start, start + count):
        record = change(base + timedelta(minutes=n), n * 7 + 1,
                        account=("A" if n % 2 else "B") + "ccount" + "1" * 26)
        if n % 100 == 0:
            record = attrs.evolve(record, provenance=attrs.evolve(
                record.provenance, caveats=(f"batch {n}",),
                fetched_at=datetime(2025, 5, 1, tzinfo=UTC) + timedelta(seconds=n)))
        found.append(record)
    return found


def test_a_bulk_import_stores_what_the_record_path_stores(archive: Archive,
                                                          tmp_path: Path) -> None:
    # More lines than one batch, with other kinds and blank lines in between: every
    # record lands, in order, and the export is the same text as the record path's.
    records: list[Any] = _many(6000)
    records[10:10] = [entry(at(3), "1.5", "2.5")]
    records[5500:5500] = [answer(at(2), 9, at(1))]
    text = lines(*records[:3000]) + "\n" + lines(*records[3000:])
    result = import_stream(archive, io.StringIO(text), complete=(None, at(31)))
    assert (result.records, result.stored) == (6002, 6002)
    # The declared range covers the wallet of the fast-read lines and the ledger's.
    assert {(c.capability, c.provider, c.wallet) for c in archive.coverage()} == {
        (Capability.BALANCE_HISTORY, "hist", WALLET),
        (Capability.ACCOUNT_LEDGER, "ledger", records[10].account)}
    kinds = ["balance_change", "ledger_entry", "balance_at"]
    with Archive(tmp_path / "by-records.sqlite", clock=clock()) as plain:
        plain.add(records)
        assert list(archive.records(kinds=kinds)) == list(plain.records(kinds=kinds))
        ours, theirs = io.StringIO(), io.StringIO()
        export(archive, ours)
        export(plain, theirs)
        assert ours.getvalue().endswith(theirs.getvalue())
        assert theirs.getvalue() == "".join(
            (wire.dumps_line(r) if not isinstance(r, Coverage) else dumps_record(r)) + "\n"
            for r in plain.records())
    # A second import of the same lines stores no change again (the answer is
    # replaced, and counted, as answers always are).
    again = import_stream(archive, io.StringIO(text))
    assert (again.records, again.stored) == (6002, 1)
    assert archive.info().counts["changes"] == 6000
    found = archive.lookup_balance(balance_query(at(2) + timedelta(minutes=5999)))
    assert found is not None
    assert found.amount.raw == (5999 * 7 + 1) + (5998 * 7 + 1)


def test_a_bad_line_after_many_good_ones_stores_nothing(archive: Archive) -> None:
    good = lines(*_many(5200))
    data = json.loads(wire.dumps_line(_many(1, 5200)[0]))
    data["block"]["timestamp"] = "2025-03-02T00:00:00"  # no offset
    text = good + json.dumps(data) + "\n" + lines(*_many(3, 5201))
    with pytest.raises(ImportRecordError) as caught:
        import_stream(archive, io.StringIO(text), source="big.jsonl")
    assert caught.value.line == 5201
    assert caught.value.field == "block.timestamp"
    assert "big.jsonl line 5201" in str(caught.value)
    assert archive.info().counts["changes"] == 0


def test_export_round_trips_through_import_with_provenance(archive: Archive,
                                                           tmp_path: Path) -> None:
    echoed = attrs.evolve(change(at(9), 3), provenance=attrs.evolve(
        change(at(9), 3).provenance, echo={"page": 2, "limit": Decimal("1.5")}))
    archive.add([*_many(300), echoed, change(at(10), 4, token=SOL, account=None)])
    out = io.StringIO()
    assert export(archive, out, kinds=["balance_change"]) == 302
    with Archive(tmp_path / "moved.sqlite", clock=clock()) as moved:
        import_stream(moved, io.StringIO(out.getvalue()))
        assert list(moved.records(kinds=["balance_change"])) == list(
            archive.records(kinds=["balance_change"]))
        again = io.StringIO()
        export(moved, again, kinds=["balance_change"])
        assert again.getvalue() == out.getvalue()
