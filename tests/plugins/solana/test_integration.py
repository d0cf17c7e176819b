"""The Solana node plugin against the fake node on a real loopback HTTP server.

These go through the real transport (no MockTransport): the client finds the node
through ``ASOF_SOLANA_BASE_URL``, exactly as a deployment would; the last test runs the
``asof`` command in a real pseudo-terminal. Balances are the model world's replayed
truth; request counts are the server's log.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import asof_solana
from asof.records import NATIVE_SOL_MINT, Point, Token, Wallet
from tests.plugins.solana.conftest import NO_RATE_LIMIT
from tests.plugins.solana.fakenode import FakeNode, World

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def test_answers_over_a_real_server_equal_the_world(
    asof_client_factory: Any, served: tuple[FakeNode, str], demo: tuple[World, dict[str, str]]
) -> None:
    node, url = served
    world, names = demo
    wallet = Wallet(chain="solana", address=names["alice"])
    usdc = Token(chain="solana", address=names["usdc"])
    sol = Token(chain="solana", address=NATIVE_SOL_MINT)
    env = {**NO_RATE_LIMIT, "ASOF_SOLANA_BASE_URL": url}
    async with asof_client_factory(asof_solana, env=env) as client:
        for slot in (99, 110, 120, 121, 150, 500, 800, 1000):
            point = Point(block=slot)
            before = node.requests
            answer = await client.balance_at(wallet, usdc, point)
            assert answer.amount.raw == world.true_token(names["alice"], names["usdc"], point)
            assert answer.provenance.echo["requests"] == node.requests - before
            native = await client.balance_at(wallet, sol, point)
            assert native.amount.raw == world.true_lamports(names["alice"], point)
    # the pagination case went through the server too: a second page of the extra account
    assert any(request == ["getSignaturesForAddress"] for request in node.log)


def run_in_pty(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run a command with a pseudo-terminal as its stdout and stderr; its exit status
    and everything it wrote."""
    leader, follower = pty.openpty()
    with subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower,
                          env=env) as process:
        os.close(follower)
        chunks: list[bytes] = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the command closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        status = process.wait(timeout=60)
    os.close(leader)
    text = b"".join(chunks).decode(errors="replace")
    return status, re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_the_command_sums_every_token_account_in_a_terminal(
    served: tuple[FakeNode, str], demo: tuple[World, dict[str, str]], tmp_path: Path
) -> None:
    node, url = served
    world, names = demo
    command = Path(sys.executable).with_name("asof")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "COLUMNS": "200",
           "ASOF_SOLANA_BASE_URL": url, "ASOF_SOLANA_RATE_LIMIT": "off",
           "ASOF_ALLOW": "solana"}
    status, out = run_in_pty([str(command), "balance-at", f"solana:{names['alice']}",
                              names["usdc"], "--at", "slot:800"], env)
    assert status == 0, out
    truth = world.true_token(names["alice"], names["usdc"], Point(block=800))
    assert truth == 8_251_200
    assert re.search(rf"raw\s+{truth}\b", out), out
    assert re.search(r"amount\s+8\.2512\b", out), out
    assert re.search(r"provider\s+solana\b", out), out
    assert "Traceback" not in out
    requests = node.requests
    status, out = run_in_pty([str(command), "balance-at", f"solana:{names['alice']}",
                              "So11111111111111111111111111111111111111112", "--at",
                              "slot:800"], env)
    assert status != 0
    assert "could not find mint" in out
    assert "Traceback" not in out
    assert node.requests == requests + 1
