"""Several processes syncing overlapping wallets into one PostgreSQL archive at once.

The provider is the real Allium plugin talking over HTTP to a local fake server (the
model world of :mod:`.world`) that logs every request with the wallet and cursor it
asks for. Each process runs ``asof sync`` for three of five wallets, so every wallet is
pulled by three processes at the same time. Afterwards the archive must hold exactly
the world's balance changes (none lost, none twice) and the server's log must show each
page of each wallet's history requested once: one process paid for it, the others
waited on its claim and found the history complete.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from asof.archive.backend import Filters
from asof.archive.postgres import PostgresStorage
from asof.records import Wallet
from asof.testing.postgres import PostgresServer
from asof.transport import Request

from .world import SOL, USDC, World

pytestmark = pytest.mark.integration

WALLETS = [Wallet(chain="solana", address=f"{n + 1}SharedWa11et" + "1" * 31) for n in range(5)]
LIMIT = 3  #: changes per page, so each history takes several pages
PROCESSES = 5
START = datetime(2025, 4, 1, tzinfo=UTC)
END = datetime(2025, 5, 1, tzinfo=UTC)


def build_world() -> World:
    world = World(page_limit=LIMIT)
    for n, wallet in enumerate(WALLETS):
        for k in range(4 + 2 * n):  # 4 to 12 changes: 2 to 4 pages
            when = START + timedelta(days=1 + k, hours=n, minutes=k)
            usdc_account = f"Acct{n + 1}{k % 2 + 1}" + "1" * 36
            token, account = (USDC, usdc_account) if k % 3 else (SOL, wallet.address)
            world.add(wallet, token, account, when, 1_000_000 * (n + 1) + k)
    return world


class _Handler(BaseHTTPRequestHandler):
    world: World
    requests: list[tuple[str, str | None]]
    lock: threading.Lock

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        url = f"http://127.0.0.1{self.path}"
        request = Request("POST", url, content=body, headers=dict(self.headers))
        if self.path.startswith("/api/v1/developer/wallet/balances/history"):
            wallets = sorted(a["address"] for a in json.loads(body)["addresses"])
            with self.lock:
                self.requests.append(("+".join(wallets), request.url.params.get("cursor")))
        with self.lock:
            response = self.world.handler(request)
        data = response.read()
        self.send_response(response.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def provider() -> Iterator[tuple[str, World, list[tuple[str, str | None]]]]:
    """The fake Allium server: its URL, world and request log."""
    world = build_world()
    requests: list[tuple[str, str | None]] = []
    handler = type("Handler", (_Handler,), {"world": world, "requests": requests,
                                            "lock": threading.Lock()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", world, requests
    finally:
        server.shutdown()
        server.server_close()


SCRIPT = """
import sys
from click.testing import CliRunner
from asof.cli.app import cli
from asof.cli.common import CliState

for wallet in sys.argv[1:]:
    result = CliRunner().invoke(cli, ["sync", wallet, "--from", "2025-04-01", "--to",
                                      "2025-05-01"], obj=CliState())
    sys.stderr.write(result.output)
    if result.exit_code:
        sys.exit(result.exit_code)
"""


def test_processes_sharing_an_archive_lose_nothing_and_pay_once(
        tmp_path: Path, pg_server: PostgresServer,
        provider: tuple[str, World, list[tuple[str, str | None]]]) -> None:
    base_url, world, requests = provider
    url = pg_server.database()
    config = tmp_path / "asof.toml"
    config.write_text(f'[asof]\nattempts = 1\n\n[providers.allium]\nbase_url = "{base_url}"\n'
                      'rate_limit = "off"\n\n[routes]\n"solana.balance_history" = ["allium"]\n')
    env = {**os.environ, "ASOF_CONFIG": str(config), "ASOF_ARCHIVE_URL": url,
           "ASOF_ALLIUM_API_KEY": "test-key", "HOME": str(tmp_path)}
    env.pop("ASOF_ARCHIVE_PATH", None)
    jobs = []
    for p in range(PROCESSES):
        mine = [str(WALLETS[(p + k) % len(WALLETS)]) for k in range(3)]
        jobs.append(subprocess.Popen([sys.executable, "-c", SCRIPT, *mine], env=env,
                                     stderr=subprocess.PIPE, text=True))
    for job in jobs:
        _, err = job.communicate(timeout=180)
        assert job.returncode == 0, err

    storage = PostgresStorage(url)
    try:
        with storage.read() as r:
            stored = Counter(
                (c.wallet.address, c.token.address, c.token_account or c.wallet.address,
                 c.block.number, c.balance.raw) for c in r.export_changes(Filters()))
            covered = {c.wallet for c in r.coverage()}
    finally:
        storage.close()
    expected = Counter((t.wallet.address, t.token.address, t.account, t.slot, t.balance)
                       for t in world.txs)
    assert stored == expected  # nothing lost, nothing stored twice
    assert covered == set(WALLETS)

    # One payment per page: each wallet's pages were asked for once, in order.
    pages = Counter(requests)
    assert set(pages.values()) == {1}, pages
    for n, wallet in enumerate(WALLETS):
        count = len([t for t in world.txs if t.wallet == wallet])
        cursors = [c for w, c in requests if w == wallet.address]
        assert cursors == [None, *(str(LIMIT * i) for i in range(1, -(-count // LIMIT)))], n
