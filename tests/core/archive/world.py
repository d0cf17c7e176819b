"""A model world and a fake provider server that speaks its documented APIs.

:class:`World` holds wallets, token accounts and transactions; its truth is computed
from them alone (the as-of rule over every token account), independently of asof. Its
:meth:`World.handler` answers HTTP requests (through ``MockTransport``) as the provider
documents describe:

- Allium ``POST /api/v1/developer/wallet/balances/history``: every balance change of
  the wallets' token accounts with a time in ``[start_timestamp, end_timestamp)``,
  newest first, paged by ``limit`` and ``cursor``;
- Allium ``POST /api/v1/developer/wallet/holdings/history``: one USD point per grid
  time, newest first;
- Helius ``GET /v1/wallet/{wallet}/balance-at``: read from the last transaction at or
  before the point that touched the wallet and mint, giving the balance of the token
  account that transaction touched (its documented undercount for a mint held in
  several token accounts).

Every request is logged (method, path) so tests count calls from the server's side.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from asof.records import NATIVE_SOL_MINT, Token, Wallet
from asof.tokens import native_token, resolve_token
from asof.transport import Request, Response

USDC: Token = resolve_token("solana", "USDC")
SOL: Token = native_token("solana")
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    """The provider's time form."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@attrs.frozen
class Tx:
    """One transaction that sets a token account's balance."""

    wallet: Wallet
    token: Token
    account: str
    time: datetime
    balance: int  #: the account's balance after the transaction

    @property
    def slot(self) -> int:
        """One slot per second since 2025-01-01, the same for every transaction then."""
        return 300_000_000 + int((self.time - EPOCH).total_seconds())


@attrs.define
class World:
    """Wallets' transactions; the truth; and a server answering as the providers do."""

    txs: list[Tx] = attrs.field(factory=list)
    log: list[tuple[str, str]] = attrs.field(factory=list)
    page_limit: int | None = None  #: override of the requested page size (more pages)

    # -- the model
    def add(self, wallet: Wallet, token: Token, account: str, time: datetime,
            balance: int) -> None:
        """A transaction leaving ``account`` at ``balance``."""
        self.txs.append(Tx(wallet, token, account, time, balance))
        self.txs.sort(key=lambda t: (t.time, t.account))

    def index(self, tx: Tx) -> int:
        """The transaction's index in its slot."""
        same = [t for t in self.txs if t.slot == tx.slot]
        return same.index(tx)

    def indexes(self) -> dict[Tx, int]:
        """Every transaction's index in its slot, in one pass (as :meth:`index`)."""
        found: dict[Tx, int] = {}
        count: dict[int, int] = {}
        for tx in self.txs:
            found[tx] = count.get(tx.slot, 0)
            count[tx.slot] = found[tx] + 1
        return found

    def truth(self, wallet: Wallet, token: Token, at: datetime | int) -> int:
        """The balance after the last change at or before ``at`` (a time, or a slot),
        every account summed."""
        last: dict[str, int] = {}
        for tx in self.txs:
            if tx.wallet == wallet and tx.token.address == token.address and _by(tx, at):
                last[tx.account] = tx.balance
        return sum(last.values())

    def helius_view(self, wallet: Wallet, token: Token,
                    at: datetime | int) -> tuple[int, Tx | None]:
        """What Helius answers: the touched account's balance after the last transaction
        at or before ``at`` (a time or a slot; native SOL has one account, so it is
        exact)."""
        found = [t for t in self.txs if t.wallet == wallet and
                 t.token.address == token.address and _by(t, at)]
        if not found:
            return 0, None
        return found[-1].balance, found[-1]

    # -- the server
    def handler(self, request: Request) -> Response:
        """Answer one request as the provider documents say."""
        path = request.url.path
        self.log.append((request.method, path))
        if path == "/api/v1/developer/wallet/balances/history":
            return self._balances(request)
        if path == "/api/v1/developer/wallet/holdings/history":
            return self._holdings(request)
        if path.startswith("/v1/wallet/") and path.endswith("/balance-at"):
            return self._balance_at(request, path.split("/")[3])
        return Response(404, json={"error": f"no route {path}"})

    def calls(self, prefix: str) -> int:
        """Requests whose path starts with ``prefix``."""
        return sum(1 for _, path in self.log if path.startswith(prefix))

    def _balances(self, request: Request) -> Response:
        body = json.loads(request.content)
        wanted = {(a["chain"], a["address"]) for a in body["addresses"]}
        start = datetime.fromisoformat(body["start_timestamp"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(body["end_timestamp"].replace("Z", "+00:00"))
        found = [t for t in self.txs if (t.wallet.chain, t.wallet.address) in wanted
                 and start <= t.time < end]
        indexes = self.indexes()
        found.sort(key=lambda t: (t.time, t.slot, indexes[t]), reverse=True)
        limit = self.page_limit or int(request.url.params.get("limit", "1000"))
        offset = int(request.url.params.get("cursor", "0"))
        page = found[offset:offset + limit]
        cursor = str(offset + limit) if offset + limit < len(found) else None
        items = [{
            "address": t.wallet.address, "chain": t.wallet.chain,
            "block_hash": f"hash{t.slot}", "block_slot": t.slot,
            "block_timestamp": stamp(t.time), "raw_balance": t.balance,
            "token": {"address": t.token.address, "chain": t.wallet.chain,
                      "type": "sol_native" if t.token.is_native else "sol_spl",
                      "decimals": t.token.decimals},
            "token_account": t.account, "txn_id": f"sig-{t.slot}-{t.account[:6]}",
            "txn_index": indexes[t],
        } for t in page]
        return Response(200, json={"items": items, "cursor": cursor})

    def _holdings(self, request: Request) -> Response:
        body = json.loads(request.content)
        start = datetime.fromisoformat(body["start_timestamp"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(body["end_timestamp"].replace("Z", "+00:00"))
        items = []
        for address in body["addresses"]:
            moment = start
            while moment < end:
                usd = Decimal(self.truth(Wallet(chain="solana", address=address["address"]),
                                         USDC, moment)) / Decimal(10**6)
                items.append({"chain": address["chain"], "address": address["address"],
                              "timestamp": stamp(moment),
                              "amount": {"amount": str(usd), "currency": "USD"}})
                moment += timedelta(days=1)
        items.sort(key=lambda item: item["timestamp"], reverse=True)
        return Response(200, json={"items": items, "cursor": None})

    def _balance_at(self, request: Request, address: str) -> Response:
        params = request.url.params
        mint = params["mint"]
        wallet = Wallet(chain="solana", address=address)
        token = SOL if mint == NATIVE_SOL_MINT else USDC
        at: datetime | int = (int(params["slot"]) if "slot" in params
                              else datetime.fromtimestamp(int(params["time"]), UTC))
        raw, tx = self.helius_view(wallet, token, at)
        decimals = token.decimals or 0
        value = Decimal(raw).scaleb(-decimals)
        body: dict[str, Any] = {
            "wallet": address, "mint": mint, "isNative": mint == NATIVE_SOL_MINT,
            "decimals": decimals, "balanceRaw": str(raw), "balance": str(value),
            "requested": ({"slot": int(params["slot"])} if "slot" in params
                          else {"time": int(params["time"])}),
            "asOf": None if tx is None else {"slot": tx.slot, "signature": f"sig-{tx.slot}",
                                             "blockTime": int(tx.time.timestamp())},
        }
        return Response(200, json=body)


def _by(tx: Tx, at: datetime | int) -> bool:
    return tx.slot <= at if isinstance(at, int) else tx.time <= at


def config_file(folder: Path, *, archive: Path | None, text: str = "") -> Path:
    """A configuration file: one attempt per call, no rate limit (the server is fake),
    the archive at ``archive`` (off when ``None``)."""
    path = folder / "asof.toml"
    archived = (f'[archive]\npath = "{archive}"\n' if archive is not None
                else "[archive]\nenabled = false\n")
    unlimited = "".join(f'[providers.{name}]\nrate_limit = "off"\n\n'
                        for name in ("allium", "helius"))
    path.write_text(f"[asof]\nattempts = 1\n\n{archived}\n{unlimited}{text}\n",
                    encoding="utf-8")
    return path


def frozen(now: datetime) -> Callable[[], datetime]:
    """A clock stuck at ``now``."""
    return lambda: now
