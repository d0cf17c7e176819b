"""A fake Ethereum JSON-RPC node behind ``httpx.MockTransport``, for the node behaviours
anvil does not show: refusing batches, pruned state with each client's wording, a cap
on ``eth_getLogs`` ranges, logs without ``blockTimestamp``, and long chains.

Its answers follow the Ethereum JSON-RPC specification's shapes (quantities as hex,
``eth_getBlockByNumber`` objects, log objects); error messages are the ones node
clients are known to send. The chain is a model: block ``n`` is stamped
``genesis + pace * n``, the wallet's native balance is ``balances[n]``.
"""

from __future__ import annotations

import json
from typing import Any

from asof.transport import MockTransport, Request, Response

TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"


def methods_of(bodies: list[Any]) -> list[str]:
    """The JSON-RPC methods in a log of request bodies (single calls and batches)."""
    out: list[str] = []
    for body in bodies:
        out.extend(item["method"] for item in (body if isinstance(body, list) else [body]))
    return out


def word(value: int) -> str:
    return "0x" + f"{value:064x}"


def topic(address: str) -> str:
    return "0x" + "0" * 24 + address[2:]


class FakeNode:
    """A model chain answering JSON-RPC; ``bodies`` is its request log."""

    def __init__(
        self,
        *,
        blocks: int = 100,
        genesis: int = 1_736_294_400,
        pace: int = 12,
        chain_id: int = 1,
        batching: str | None = None,
        pruned_below: int | None = None,
        pruned_message: str = "missing trie node",
        pruned_code: int = -32000,
        max_log_range: int | None = None,
        range_error: tuple[int, str] = (-32005, "query returned more than 10000 results"),
        log_timestamps: bool = True,
    ) -> None:
        self.blocks = blocks
        self.genesis = genesis
        self.pace = pace
        self.chain_id = chain_id
        self.batching = batching
        self.pruned_below = pruned_below
        self.pruned = (pruned_code, pruned_message)
        self.max_log_range = max_log_range
        self.range_error = range_error
        self.log_timestamps = log_timestamps
        self.balances: dict[int, int] = {}
        #: (block, tx index, log index, token, from, to, value)
        self.transfers: list[tuple[int, int, int, str, str, str, int]] = []
        self.bodies: list[Any] = []

    @property
    def transport(self) -> MockTransport:
        return MockTransport(self)

    @property
    def methods(self) -> list[str]:
        return methods_of(self.bodies)

    def balance(self, block: int) -> int:
        value = 0
        for number in sorted(self.balances):
            if number <= block:
                value = self.balances[number]
        return value

    def __call__(self, request: Request) -> Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        if isinstance(body, list):
            if self.batching == "error":
                return self.reply({"jsonrpc": "2.0", "id": None, "error": {
                    "code": -32600, "message": "batch requests are not supported"}})
            if self.batching == "http400":
                return Response(400, text="Batch requests are disabled")
            return self.reply([self.answer(item) for item in body])
        return self.reply(self.answer(body))

    @staticmethod
    def reply(data: Any) -> Response:
        return Response(200, text=json.dumps(data), headers={"Content-Type": "application/json"})

    def answer(self, call: dict[str, Any]) -> dict[str, Any]:
        try:
            result = self.result(call["method"], call["params"])
        except NodeError as error:
            return {"jsonrpc": "2.0", "id": call["id"],
                    "error": {"code": error.code, "message": error.message}}
        return {"jsonrpc": "2.0", "id": call["id"], "result": result}

    def block_arg(self, tag: str) -> int:
        latest = self.blocks - 1
        number = latest if tag == "latest" else int(tag, 16)
        if number > latest:
            raise NodeError(-32000, "header not found")
        return number

    def state(self, tag: str) -> int:
        number = self.block_arg(tag)
        if self.pruned_below is not None and number < self.pruned_below:
            raise NodeError(*self.pruned)
        return number

    def result(self, method: str, params: list[Any]) -> Any:
        if method == "eth_chainId":
            return hex(self.chain_id)
        if method == "eth_getBlockByNumber":
            tag = params[0]
            number = self.blocks - 1 if tag == "latest" else int(tag, 16)
            if number >= self.blocks:
                return None
            return {"number": hex(number), "hash": "0x" + f"{number:064x}",
                    "timestamp": hex(self.genesis + self.pace * number)}
        if method == "eth_getBalance":
            return hex(self.balance(self.state(params[1])))
        if method == "eth_call":
            number = self.state(params[1]) if params[1] != "latest" else self.blocks - 1
            data = params[0]["data"]
            if data.startswith("0x313ce567"):
                return word(6)
            owner = "0x" + data[-40:]
            value = 0
            for block, _, _, token, sender, to, amount in self.transfers:
                if block <= number and token == params[0]["to"]:
                    value += amount if to == owner else 0
                    value -= amount if sender == owner else 0
            return word(value)
        if method == "eth_getCode":
            return "0x6080"
        if method == "eth_getLogs":
            return self.logs(params[0])
        raise NodeError(-32601, f"the method {method} does not exist/is not available")

    def logs(self, spec: dict[str, Any]) -> list[dict[str, Any]]:
        low, high = int(spec["fromBlock"], 16), int(spec["toBlock"], 16)
        if self.max_log_range is not None and high - low + 1 > self.max_log_range:
            raise NodeError(*self.range_error)
        topics = spec["topics"]
        out = []
        for block, index, log_index, token, sender, to, amount in self.transfers:
            if not low <= block <= high or token not in spec["address"]:
                continue
            if topics[1] is not None and topics[1] != topic(sender):
                continue
            if len(topics) > 2 and topics[2] is not None and topics[2] != topic(to):
                continue
            item = {"address": token, "topics": [TRANSFER, topic(sender), topic(to)],
                    "data": word(amount), "blockNumber": hex(block),
                    "blockHash": "0x" + f"{block:064x}", "transactionIndex": hex(index),
                    "transactionHash": "0x" + f"{block:032x}{index:032x}",
                    "logIndex": hex(log_index), "removed": False}
            if self.log_timestamps:
                item["blockTimestamp"] = hex(self.genesis + self.pace * block)
            out.append(item)
        return out


class NodeError(Exception):
    def __init__(self, code: int, message: str) -> None:
        self.code = code
        self.message = message
