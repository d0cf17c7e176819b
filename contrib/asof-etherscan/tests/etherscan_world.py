"""Shared test data: addresses from Etherscan's documentation examples and replies in
the API V2 envelope."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from asof.plugin import Token, Wallet
from asof.testing.mock import MockHTTP, Reply

#: The address and token of Etherscan's ``tokenbalancehistory`` example.
WALLET = Wallet(chain="ethereum", address="0xe04f27eb70e025b78871a2ad7eabe85e61212761")
TOKEN = Token(chain="ethereum", address="0x57d90b64a1a57749b0f932f1a3395792e12e7055",
              standard="erc20")
ETH = Token(chain="ethereum", address="eth", standard="native", decimals=18, symbol="ETH")
USDC = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
OTHER = "0x1111111111111111111111111111111111111111"
ME = WALLET.address
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def ok(result: Any) -> Reply:
    """A success envelope."""
    return Reply(json={"status": "1", "message": "OK", "result": result})


def notok(text: str, message: str = "NOTOK") -> Reply:
    """An error envelope, answered with HTTP 200 as Etherscan does."""
    return Reply(json={"status": "0", "message": message, "result": text})


def transfer(block: int, ts: int, index: int, sender: str, recipient: str, value: int,
             tx: str, token: str = USDC) -> dict[str, str]:
    """One ``account/tokentx`` row, with every field Etherscan documents."""
    return {
        "blockNumber": str(block), "timeStamp": str(ts), "hash": tx, "nonce": "1",
        "blockHash": f"0x{block:064x}", "from": sender, "contractAddress": token,
        "to": recipient, "value": str(value), "tokenName": "USD Coin",
        "tokenSymbol": "USDC", "tokenDecimal": "6", "transactionIndex": str(index),
        "gas": "60000", "gasPrice": "1", "gasUsed": "50000", "cumulativeGasUsed": "1",
        "input": "deprecated", "confirmations": "100",
    }


class FakeEtherscan(MockHTTP):
    """A small Etherscan answering from a model world: blocks with timestamps and ERC-20
    transfers. It follows the documented semantics of ``getblocknobytime``
    (``closest=before``), ``tokentx`` (``startblock``/``endblock`` inclusive, ``page`` and
    ``offset``, ``sort=asc``, optional ``contractaddress``, "No transactions found"
    when empty) and ``tokenbalancehistory``. Every request is kept in ``requests``."""

    def __init__(self, blocks: dict[int, int], rows: list[dict[str, str]]) -> None:
        super().__init__()
        self.blocks = dict(sorted(blocks.items()))
        self.rows = sorted(rows, key=lambda r: (int(r["blockNumber"]),
                                                int(r["transactionIndex"])))

    def handler(self, request: Any) -> Any:
        self.requests.append(request)
        return self.answer(dict(request.url.params)).response(request)

    def answer(self, params: dict[str, str]) -> Reply:
        action = params.get("action")
        if action == "getblocknobytime":
            assert params["closest"] == "before"
            found = [b for b, ts in self.blocks.items() if ts <= int(params["timestamp"])]
            return ok(str(max(found))) if found else notok("Error! No closest block found")
        if action == "tokentx":
            assert params["sort"] == "asc"
            me = params["address"]
            rows = [r for r in self.rows
                    if me in (r["from"], r["to"])
                    and int(params["startblock"]) <= int(r["blockNumber"])
                    <= int(params["endblock"])
                    and params.get("contractaddress") in (None, r["contractAddress"])]
            size, page = int(params["offset"]), int(params["page"])
            chunk = rows[(page - 1) * size: page * size]
            if not chunk:
                return Reply(json={"status": "0", "message": "No transactions found",
                                   "result": []})
            return ok(chunk)
        if action == "tokenbalancehistory":
            return ok(str(balance_of(self.rows, params["address"],
                                     params["contractaddress"], int(params["blockno"]))))
        raise AssertionError(f"the fake does not answer {params}")


def balance_of(rows: list[dict[str, str]], wallet: str, token: str, block: int) -> int:
    """The independent truth: a token balance after ``block``, summed from the rows."""
    total = 0
    for row in rows:
        if row["contractAddress"] != token or int(row["blockNumber"]) > block:
            continue
        if row["to"] == wallet:
            total += int(row["value"])
        if row["from"] == wallet:
            total -= int(row["value"])
    return total
