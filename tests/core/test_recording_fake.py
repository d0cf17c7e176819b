"""The documented recipe for recording a cassette against a local fake on a free port
(docs/plugins.md, "Recording against a local fake"): record, then replay with the
server gone, with the credential filtered out of the cassette."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import vcr

import asof_helius
from asof.testing.client import FAKE_SECRET, make_client
from asof.testing.recording import JSON_BODY_MATCHER, json_body, recording_config

WALLET = "GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz"
SOL = "So11111111111111111111111111111111111111111"
ANSWER = {
    "wallet": WALLET, "mint": SOL, "isNative": True, "decimals": 9,
    "balanceRaw": "1500000000", "balance": "1.5",
    "requested": {"time": None, "slot": 313000000, "datetime": None},
    "asOf": {"slot": 312999990, "blockTime": 1736536801, "signature": "5sig"},
}


class Fake(BaseHTTPRequestHandler):
    """Answers Helius's balance-at as its OpenAPI shows, and counts the calls."""

    calls: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Fake.calls.append(self.path)
        body = json.dumps(ANSWER).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_url() -> Iterator[str]:
    Fake.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _cassette_vcr(mode: str) -> Any:
    config = recording_config({})
    config["match_on"] = tuple(m for m in config["match_on"] if m != "port")
    config["record_mode"] = mode
    recorder = vcr.VCR(**config)
    recorder.register_matcher(JSON_BODY_MATCHER, json_body)
    return recorder


async def _ask(tmp_path: Path, base_url: str) -> Any:
    async with make_client(asof_helius, config_dir=tmp_path,
                           env={"ASOF_HELIUS_BASE_URL": base_url}) as client:
        return await client.balance_at(f"solana:{WALLET}", "SOL", "slot:313000000")


@pytest.mark.anyio
async def test_record_against_a_fake_then_replay_without_it(
    tmp_path: Path, fake_url: str
) -> None:
    cassette = tmp_path / "cassette.yaml"
    with _cassette_vcr("once").use_cassette(str(cassette)):
        recorded = await _ask(tmp_path / "a", fake_url)
    assert len(Fake.calls) == 1  # the fake's own log
    assert recorded.amount.raw == 1_500_000_000
    text = cassette.read_text(encoding="utf-8")
    assert FAKE_SECRET not in text
    assert "balance-at" in text

    other_port = fake_url.rsplit(":", 1)[0] + ":1"  # nothing listens there
    with _cassette_vcr("none").use_cassette(str(cassette)):
        replayed = await _ask(tmp_path / "b", other_port)
    assert replayed.amount == recorded.amount
    assert replayed.as_of == recorded.as_of
    assert len(Fake.calls) == 1  # the replay sent nothing
