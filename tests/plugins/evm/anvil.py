"""A real Ethereum node for the evm plugin's tests: anvil on a free loopback port.

anvil comes from the npm registry (``npm install --prefix .tools @foundry-rs/anvil``,
which ``.ci/run`` does); it is looked for at ``.tools/node_modules/.bin/anvil``, then on
``PATH``. A test that needs it FAILS when it cannot be found: it is never skipped.

:class:`Anvil` talks to the node directly (JSON-RPC over the core's HTTP library, not
through asof), both to build a history and to read the node's own state, which is the
truth the plugin's answers are compared with.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from asof.transport import httpx

ROOT = Path(__file__).resolve().parents[3]
CONTRACT = json.loads((Path(__file__).parent / "contracts" / "TestToken.json").read_text())


def find_anvil() -> str:
    """The anvil binary, or an AssertionError saying how to install it."""
    local = ROOT / ".tools" / "node_modules" / ".bin" / "anvil"
    if local.exists() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which("anvil")
    if found:
        return found
    raise AssertionError(
        "anvil not found: run `npm install --prefix .tools @foundry-rs/anvil` "
        "(.ci/run does) or put anvil on PATH"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Anvil:
    """A running anvil process and a direct JSON-RPC client to it."""

    def __init__(self, *, chain_id: int = 1, genesis: int, extra: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [find_anvil(), "--host", "127.0.0.1", "--port", str(self.port),
             "--chain-id", str(chain_id), "--timestamp", str(genesis),
             "--no-mining", "--silent", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        self.http = httpx.Client(timeout=10)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.call("eth_chainId")
                break
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    err = self.process.stderr.read().decode() if self.process.stderr else ""
                    self.stop()
                    raise AssertionError(f"anvil did not start: {err}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()

    # -- raw calls

    def call(self, method: str, *params: Any) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        answer = self.http.post(self.url, json=body)
        data = json.loads(answer.text, parse_float=Decimal)
        if "error" in data:
            raise RuntimeError(f"{method}: {data['error']}")
        return data["result"]

    # -- building a history

    def accounts(self) -> list[str]:
        return [a.lower() for a in self.call("eth_accounts")]

    def mine(self, timestamp: int) -> int:
        """Mine one block stamped ``timestamp`` with every pending transaction."""
        self.call("evm_setNextBlockTimestamp", hex(timestamp))
        self.call("evm_mine")
        return self.block_number()

    def send(self, sender: str, to: str | None, *, data: str = "0x", value: int = 0) -> str:
        tx: dict[str, Any] = {"from": sender, "data": data, "value": hex(value),
                              "gas": hex(3_000_000)}
        if to is not None:
            tx["to"] = to
        return str(self.call("eth_sendTransaction", tx))

    def receipt(self, tx: str) -> dict[str, Any]:
        found = self.call("eth_getTransactionReceipt", tx)
        assert found is not None, f"{tx} was not mined"
        assert found["status"] == "0x1", f"{tx} failed: {found}"
        return dict(found)

    # -- the node's own state, read directly

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber"), 16)

    def timestamp(self, block: int) -> int:
        return int(self.call("eth_getBlockByNumber", hex(block), False)["timestamp"], 16)

    def eth_balance(self, address: str, block: int) -> int:
        return int(self.call("eth_getBalance", address, hex(block)), 16)

    def token_balance(self, token: str, owner: str, block: int) -> int:
        data = "0x70a08231" + "0" * 24 + owner[2:]
        answer = self.call("eth_call", {"to": token, "data": data}, hex(block))
        return int(answer, 16) if answer not in ("0x", "") else 0


def encode_call(signature: str, *args: Any) -> str:
    """ABI call data for the few shapes the tests use: addresses, uints and arrays of
    either (selectors from the compiler's output)."""
    selector = "0x" + CONTRACT["methodIdentifiers"][signature]
    head: list[str] = []
    tail: list[str] = []
    offset = 32 * len(args)
    for arg in args:
        if isinstance(arg, list):
            head.append(f"{offset:064x}")
            words = [f"{len(arg):064x}", *(_word(item) for item in arg)]
            tail.extend(words)
            offset += 32 * len(words)
        else:
            head.append(_word(arg))
    return selector + "".join(head) + "".join(tail)


def _word(value: Any) -> str:
    if isinstance(value, str):
        return "0" * 24 + value.lower().removeprefix("0x")
    return f"{int(value):064x}"

