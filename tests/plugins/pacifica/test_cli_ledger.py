"""``asof ledger`` over the Pacifica plugin, with canned replies in the documented shape
(``MockHTTP``: nothing to re-record)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import asof_pacifica
from asof.cli.common import CliState
from asof.cli.ledger_cmds import COMMANDS, ledger
from asof.testing.client import make_client
from asof.testing.mock import MockHTTP, Reply

PATH = "/api/v1/account/balance/history"
ADDRESS = "42trU9A5Hs7WcKnJ3mRtYpXvQz8LbEdGfN2aPuVwCx6M"
ACCOUNT = f"pacifica:{ADDRESS}"
T0_MS = 1716200000000  # 2024-05-20T10:13:20Z


def event(minutes: int, kind: str, amount: str, balance: str) -> dict[str, Any]:
    return {"amount": amount, "balance": balance, "pending_balance": "0.000000",
            "event_type": kind, "created_at": T0_MS + minutes * 60_000}


CLEAN = [  # newest first, as the provider lists them
    event(3, "withdraw", "-10.000000", "89.750000"),
    event(2, "trade", "-0.250000", "99.750000"),
    event(1, "deposit", "100.000000", "100.000000"),
]
# the trade's balance is off by 0.01: two breaks, before and after it
BROKEN = [CLEAN[0], event(2, "trade", "-0.250000", "99.740000"), CLEAN[2]]


def run(tmp_path: Path, mock: MockHTTP, *args: str) -> Result:
    state = CliState(client_factory=lambda _state: make_client(
        asof_pacifica, config_dir=tmp_path / "config", http_transport=mock.transport))
    return CliRunner().invoke(ledger, list(args), obj=state)


def test_the_module_registers_the_command() -> None:
    assert [ledger] == COMMANDS


def test_lists_entries_newest_first(tmp_path: Path) -> None:
    mock = MockHTTP().get(PATH, Reply(json={"success": True, "data": CLEAN}))
    result = run(tmp_path, mock, ACCOUNT)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["time", "type", "amount", "balance", "pending"]
    body = [line.split() for line in lines[1:] if set(line.strip()) - {"─", "-"}]
    assert [row[1] for row in body] == ["withdraw", "trade", "deposit"]
    assert body[0] == ["2024-05-20T10:16:20Z", "withdraw", "-10.000000", "89.750000", "0.000000"]


def test_jsonl_writes_ledger_entry_records(tmp_path: Path) -> None:
    mock = MockHTTP().get(PATH, Reply(json={"success": True, "data": CLEAN}))
    result = run(tmp_path, mock, ACCOUNT, "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["kind"] for r in records] == ["ledger_entry"] * 3
    assert records[1]["amount"] == "-0.250000"
    assert records[1]["account"] == ACCOUNT


def test_range_and_types_reach_the_query(tmp_path: Path) -> None:
    mock = MockHTTP().get(PATH, Reply(json={"success": True, "data": CLEAN}))
    result = run(tmp_path, mock, ACCOUNT, "--from", "2024-05-20 10:15",
                 "--to", "2024-05-20T10:16:20Z", "--type", "trade", "--type", "deposit",
                 "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert [r["event_type"] for r in json.loads(result.stdout)] == ["trade"]
    assert mock.last.url.params["include_trades"] == "true"


def test_check_passes_a_clean_ledger(tmp_path: Path) -> None:
    mock = MockHTTP().get(PATH, Reply(json={"success": True, "data": CLEAN}))
    result = run(tmp_path, mock, ACCOUNT, "--check", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == []
    assert "reconciles: 3 events checked" in result.stderr


def test_check_lists_every_break_and_fails(tmp_path: Path) -> None:
    mock = MockHTTP().get(PATH, Reply(json={"success": True, "data": BROKEN}))
    result = run(tmp_path, mock, ACCOUNT, "--check", "--format", "json")
    assert result.exit_code == 1
    breaks = json.loads(result.stdout)
    assert [(b["before_type"], b["after_type"]) for b in breaks] == [
        ("deposit", "trade"), ("trade", "withdraw")]
    first = breaks[0]
    assert first["before_time"] == "2024-05-20T10:14:20Z"
    assert first["after_balance"] == "99.740000"
    assert first["expected"] == "99.750000"
    assert first["difference"] == "-0.010000"
    assert "2 break(s) in 3 events" in result.stderr


def test_check_table_shows_both_events(tmp_path: Path) -> None:
    mock = MockHTTP().get(PATH, Reply(json={"success": True, "data": BROKEN}))
    result = run(tmp_path, mock, ACCOUNT, "--check")
    assert result.exit_code == 1
    assert "2024-05-20T10:14:20Z deposit" in result.stdout
    assert "2024-05-20T10:15:20Z trade" in result.stdout
    assert "-0.010000" in result.stdout


def test_check_refuses_a_type_filter(tmp_path: Path) -> None:
    result = run(tmp_path, MockHTTP(), ACCOUNT, "--check", "--type", "trade")
    assert result.exit_code == 2
    assert "--check reconciles the whole ledger" in result.stderr


def test_undocumented_types_are_counted_on_stderr(tmp_path: Path) -> None:
    data = [event(2, "bonus", "1.000000", "101.000000"), CLEAN[2]]
    mock = MockHTTP().get(PATH, Reply(json={"success": True, "data": data}))
    result = run(tmp_path, mock, ACCOUNT, "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 2
    assert "types the provider does not document: bonus (1)" in result.stderr


@pytest.mark.parametrize("status", [400, 500])
def test_a_provider_error_is_one_line_and_a_failure_code(tmp_path: Path, status: int) -> None:
    mock = MockHTTP().get(PATH, Reply(status=status, json={
        "success": False, "data": None, "error": "Invalid account address", "code": status}))
    result = run(tmp_path, mock, ACCOUNT)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("asof: error: pacifica:")
    assert "Invalid account address" in result.stderr


def test_an_unknown_event_type_is_refused_naming_the_known_ones(tmp_path: Path) -> None:
    mock = MockHTTP().get(PATH, Reply(json={"success": True, "data": CLEAN}))
    result = run(tmp_path, mock, ACCOUNT, "--type", "nosuch")
    assert result.exit_code == 2, result.output
    assert "unknown event type 'nosuch'" in result.stderr
    assert "deposit, deposit_release, withdraw" in result.stderr
    assert mock.requests == []  # refused before any call
