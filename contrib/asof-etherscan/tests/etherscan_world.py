"""Shared test data: addresses from Etherscan's documentation examples and replies in
the API V2 envelope."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from asof.records import Token, Wallet
from asof.testing.mock import Reply

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
