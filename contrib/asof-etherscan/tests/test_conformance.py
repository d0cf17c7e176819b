"""The conformance kit's checks, run on the Etherscan plugin with replies in the shapes
of Etherscan's API V2 documentation."""

from __future__ import annotations

from datetime import UTC, datetime

from etherscan_world import ETH, ME, OTHER, T0, TOKEN, WALLET, ok, transfer

import asof_etherscan
from asof.plugin import BalanceQuery, Capability, HistoryQuery, Point
from asof.testing.conformance import Case, ProviderConformance
from asof.testing.mock import Reply


class TestEtherscanConformance(ProviderConformance):
    plugin = asof_etherscan
    provider = "etherscan"

    def balance_cases(self) -> list[Case]:
        at_block = BalanceQuery(wallet=WALLET, token=TOKEN, point=Point(block=8000000))
        at_time = BalanceQuery(wallet=WALLET, token=ETH,
                               point=Point(time=datetime.fromtimestamp(1578638524, tz=UTC)))
        return [
            Case(query=at_block, replies=[ok("135499")]),
            Case(query=at_time, replies=[ok("9251482"), ok("1000000000000000000")]),
            Case(query=at_block, replies=[ok("0")]),
        ]

    def history_cases(self) -> list[Case]:
        end = datetime(2024, 2, 1, tzinfo=UTC)
        whole = HistoryQuery(capability=Capability.BALANCE_HISTORY, wallets=(WALLET,),
                             end=end)
        window = HistoryQuery(capability=Capability.BALANCE_HISTORY, wallets=(WALLET,),
                              start=T0, end=end)
        start = int(T0.timestamp())
        return [
            Case(query=whole, replies=[
                ok("19130000"),  # the last block before the end
                ok([transfer(19000000, start + 10, 3, OTHER, ME, 5_000_000, "0xa1"),
                    transfer(19000005, start + 70, 0, ME, OTHER, 2_000_000, "0xa2")]),
            ]),
            Case(query=window, replies=[
                ok("18908894"),  # the last block before the start
                ok("19130000"),  # the last block before the end
                ok([transfer(18000000, start - 9000, 1, OTHER, ME, 7_000_000, "0xb0")]),
                ok([transfer(19000000, start + 10, 3, ME, OTHER, 1_000_000, "0xb1")]),
            ]),
        ]

    def error_reply(self, status: int) -> Reply:
        headers = {"Retry-After": "2"} if status == 429 else {}
        return Reply(status=status, json={"status": "0", "message": "NOTOK",
                                          "result": f"etherscan says {status}"},
                     headers=headers)

    def error_message(self, status: int) -> str:
        return f"etherscan says {status}"
