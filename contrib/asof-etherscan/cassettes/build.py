"""Writes the cassettes in ``etherscan/`` from Etherscan's API V2 documentation.

No request here reached Etherscan: each answer is a documented example (the
``tokenbalancehistory``, ``getblocknobytime`` and error-message pages) or, where a
page gives only the shape, a value in that shape marked "illustrative" in the
cassette's comment. Run ``python cassettes/build.py`` after changing it; re-record
against Etherscan as ``tests/test_cassettes.py`` explains.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent / "etherscan"
BASE = "https://api.etherscan.io/v2/api"
DOCS = "https://docs.etherscan.io/api-reference/endpoint"
WALLET = "0xe04f27eb70e025b78871a2ad7eabe85e61212761"
CONTRACT = "0x57d90b64a1a57749b0f932f1a3395792e12e7055"
DONATIONS = "0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae"
USDC = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
OTHER = "0x1111111111111111111111111111111111111111"


def ask(**params: object) -> str:
    return f"{BASE}?{urlencode({**params, 'apikey': '<redacted>'})}"


def body(status: str, message: str, result: object) -> str:
    return json.dumps({"status": status, "message": message, "result": result})


def row(block: int, ts: int, index: int, sender: str, recipient: str, value: int,
        tx: str) -> dict[str, str]:
    return {
        "blockNumber": str(block), "timeStamp": str(ts), "hash": tx, "nonce": "7",
        "blockHash": f"0x{block:064x}", "from": sender, "contractAddress": USDC,
        "to": recipient, "value": str(value), "tokenName": "USDC", "tokenSymbol": "USDC",
        "tokenDecimal": "6", "transactionIndex": str(index), "gas": "65000",
        "gasPrice": "12000000000", "gasUsed": "45000", "cumulativeGasUsed": "2100000",
        "input": "deprecated", "confirmations": "2000000",
    }


def interaction(uri: str, text: str) -> str:
    quoted = text.replace("'", "''")
    return f"""- request:
    body: ''
    headers:
      accept:
      - application/json
      user-agent:
      - asof/0.1.0
    method: GET
    uri: {uri}
  response:
    body:
      string: '{quoted}'
    headers:
      content-type:
      - application/json; charset=utf-8
    status:
      code: 200
      message: OK
"""


def write(name: str, comment: str, *pairs: tuple[str, str]) -> None:
    lines = "".join(f"# {line}\n" for line in comment.strip().splitlines())
    text = (f"{lines}# Built by hand from Etherscan's public API V2 documentation: NOT "
            "recorded from Etherscan.\n# The key is <redacted>. Regenerate with "
            "cassettes/build.py.\ninteractions:\n"
            + "".join(interaction(u, b) for u, b in pairs) + "version: 1\n")
    (HERE / f"{name}.yaml").write_text(text, encoding="utf-8")


def main() -> None:
    HERE.mkdir(exist_ok=True)
    write("test_token_balance_at_a_block",
          f"The documented example of {DOCS}/tokenbalancehistory (result 135499).",
          (ask(chainid=1, module="account", action="tokenbalancehistory",
               contractaddress=CONTRACT, address=WALLET, blockno=8000000),
           body("1", "OK", "135499")))
    write("test_native_balance_at_a_time",
          f"getblocknobytime: the documented example of {DOCS}/getblocknobytime\n"
          "(timestamp 1578638524, closest=before -> 9251482). balancehistory: the\n"
          f"documented request shape of {DOCS}/balancehistory; the balance is illustrative.",
          (ask(chainid=1, module="block", action="getblocknobytime", timestamp=1578638524,
               closest="before"), body("1", "OK", "9251482")),
          (ask(chainid=1, module="account", action="balancehistory", address=DONATIONS,
               blockno=9251482), body("1", "OK", "2500000000000000000")))
    write("test_rate_limit_then_an_answer",
          "The rate-limit envelope of docs.etherscan.io/resources/common-error-messages,\n"
          "answered with HTTP 200, then the documented tokenbalancehistory example.",
          (ask(chainid=1, module="account", action="tokenbalancehistory",
               contractaddress=CONTRACT, address=WALLET, blockno=8000000),
           body("0", "NOTOK", "Max rate limit reached, please use API Key for higher "
                "rate limit")),
          (ask(chainid=1, module="account", action="tokenbalancehistory",
               contractaddress=CONTRACT, address=WALLET, blockno=8000000),
           body("1", "OK", "135499")))
    write("test_invalid_key",
          "The invalid-key envelope of docs.etherscan.io/resources/common-error-messages.",
          (ask(chainid=1, module="account", action="tokenbalancehistory",
               contractaddress=CONTRACT, address=WALLET, blockno=8000000),
           body("0", "NOTOK", "Invalid API Key")))
    start, end = 1704067200, 1706745600  # 2024-01-01, 2024-02-01
    write("test_history_of_a_month",
          f"getblocknobytime as documented at {DOCS}/getblocknobytime; tokentx rows in the\n"
          f"fields of {DOCS}/tokentx; the block numbers, times, hashes and values are\n"
          "illustrative. The last tokentx answer is Etherscan's empty-list envelope.",
          (ask(chainid=1, module="block", action="getblocknobytime", timestamp=start - 1,
               closest="before"), body("1", "OK", "18908894")),
          (ask(chainid=1, module="block", action="getblocknobytime", timestamp=end - 1,
               closest="before"), body("1", "OK", "19129888")),
          (ask(chainid=1, module="account", action="tokentx", address=WALLET, startblock=0,
               endblock=18908894, page=1, offset=1000, sort="asc"),
           body("1", "OK", [row(18500000, 1699999991, 40, OTHER, WALLET, 250_000_000,
                                "0x" + "a1" * 32)])),
          (ask(chainid=1, module="account", action="tokentx", address=WALLET,
               startblock=18908895, endblock=19129888, page=1, offset=1000, sort="asc"),
           body("1", "OK", [
               row(18950000, 1704577199, 3, WALLET, OTHER, 100_000_000, "0x" + "b2" * 32),
               row(19000000, 1705160291, 17, OTHER, WALLET, 5_500_000, "0x" + "c3" * 32),
           ])))


if __name__ == "__main__":
    main()
