"""Import and export: JSONL and CSV, all-or-nothing imports with errors naming the line
and the field, seeds imported once."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from asof import wire
from asof.archive import Archive
from asof.archive.io import ImportRecordError, export, import_file, import_stream, seed
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
