"""A fake Solana JSON-RPC node answering from a model world, and the world's true balances.

The world is wallets, token accounts and transactions placed in slots at transaction
indexes. :class:`FakeNode` answers the methods the plugin uses in the shapes the Solana
JSON-RPC documentation (solana.com/docs/rpc/http) gives them: ``getSignaturesForAddress``
(newest first, ``limit`` up to 1,000, ``before`` / ``until`` exclusive),
``getTransaction`` (``json`` encoding: ``transaction.message.accountKeys``,
``meta.postBalances``, ``meta.pre/postTokenBalances`` with ``accountIndex``, ``mint``,
``owner``, ``programId`` and ``uiTokenAmount``, ``meta.loadedAddresses``),
``getTokenAccountsByOwner`` (``jsonParsed``), ``getBlock`` (``transactionDetails:
"signatures"``), ``getBlockTime`` and ``getSlot``, single or batched. It logs every HTTP
request.

The truth functions (:meth:`World.true_token`, :meth:`World.true_lamports`) replay the
world's operations up to the point directly; they share nothing with the plugin's walk
over signature lists.

Run it as a module to serve a small demonstration world on loopback::

    uv run python -m tests.plugins.solana.fakenode
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs

from asof.records import Point
from asof.transport import MockTransport, Request, Response

TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
TOKEN_2022_PROGRAM = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
#: program id -> the name ``jsonParsed`` gives it
PROGRAM_NAMES = {TOKEN_PROGRAM: "spl-token", TOKEN_2022_PROGRAM: "spl-token-2022"}
SYSTEM_PROGRAM = "11111111111111111111111111111111"
GENESIS_TIME = 1_736_500_000
FEE = 5000
_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58(data: bytes) -> str:
    """Bitcoin-alphabet base58, as Solana writes keys and signatures."""
    number = int.from_bytes(data, "big")
    text = ""
    while number:
        number, digit = divmod(number, 58)
        text = _ALPHABET[digit] + text
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + text


def address(label: str) -> str:
    """A deterministic 32-byte address for ``label``."""
    return base58(hashlib.sha256(f"address:{label}".encode()).digest())


def signature(label: str) -> str:
    """A deterministic 64-byte signature for ``label``."""
    return base58(hashlib.sha512(f"signature:{label}".encode()).digest())


@attrs.define
class Tx:
    """One transaction: where it sits, who signs, and what it does.

    ``ops`` are ``("sol", address, delta)``, ``("open", account, mint, owner)``,
    ``("tok", account, delta)``, ``("close", account)``, ``("owner", account, owner)``
    and ``("touch", address)`` (listed as a key, nothing changes). ``loaded`` names
    addresses that come through an address lookup table (``meta.loadedAddresses``).
    """

    signature: str
    slot: int
    index: int
    signer: str
    ops: list[tuple[Any, ...]]
    loaded: tuple[str, ...] = ()
    failed: bool = False

    def keys(self) -> tuple[list[str], list[str]]:
        """Static account keys (signer first, programs last) and loaded writable keys."""
        seen: list[str] = [self.signer]
        for op in self.ops:
            if op[1] not in seen:
                seen.append(op[1])
        static = [k for k in seen if k not in self.loaded]
        loaded = [k for k in seen if k in self.loaded]
        if any(op[0] != "sol" for op in self.ops):
            static.append(TOKEN_PROGRAM)
        else:
            static.append(SYSTEM_PROGRAM)
        return static, loaded


@attrs.define
class TokenState:
    mint: str
    owner: str
    amount: int = 0


@attrs.define
class World:
    """Wallets, mints, token accounts and transactions, replayable to any point."""

    decimals: dict[str, int] = attrs.field(factory=dict)
    #: mint -> the token program that owns it
    programs: dict[str, str] = attrs.field(factory=dict)
    txs: list[Tx] = attrs.field(factory=list)
    #: slot -> block time (epoch seconds); by default GENESIS_TIME + slot // 2, so
    #: two consecutive slots can share a second
    block_times: dict[int, int | None] = attrs.field(factory=dict)

    def mint(self, label: str, decimals: int, program: str = TOKEN_PROGRAM) -> str:
        mint = address(f"mint:{label}")
        self.decimals[mint] = decimals
        self.programs[mint] = program
        return mint

    def tx(self, slot: int, signer: str, *ops: tuple[Any, ...], index: int | None = None,
           loaded: Sequence[str] = (), label: str | None = None, failed: bool = False) -> Tx:
        """Add a transaction; ``index`` defaults to the next free one in the slot."""
        if index is None:
            index = sum(1 for t in self.txs if t.slot == slot)
        name = label or f"tx:{slot}:{index}:{len(self.txs)}"
        tx = Tx(signature=signature(name), slot=slot, index=index, signer=signer,
                ops=list(ops), loaded=tuple(loaded), failed=failed)
        self.txs.append(tx)
        return tx

    def block_time(self, slot: int) -> int | None:
        return self.block_times.get(slot, GENESIS_TIME + slot // 2)

    def ordered(self) -> list[Tx]:
        return sorted(self.txs, key=lambda t: (t.slot, t.index))

    # -- replay ---------------------------------------------------------------------

    def replay(self, until: Callable[[Tx], bool] | None = None
               ) -> Iterator[tuple[Tx, dict[str, int], dict[str, TokenState], dict[str, int],
                                   dict[str, TokenState]]]:
        """Each transaction with the lamports and token states before and after it."""
        lamports: dict[str, int] = {}
        tokens: dict[str, TokenState] = {}
        for tx in self.ordered():
            if until is not None and not until(tx):
                return
            before_l, before_t = dict(lamports), {k: attrs.evolve(v) for k, v in tokens.items()}
            # the model's fee rule: the signer pays FEE, or all it has when it has less
            held = lamports.get(tx.signer, 0)
            lamports[tx.signer] = held - min(FEE, held)
            if not tx.failed:
                for op in tx.ops:
                    _apply(op, lamports, tokens)
            yield tx, before_l, before_t, dict(lamports), {
                k: attrs.evolve(v) for k, v in tokens.items()}

    def _state(self, point: Point) -> tuple[dict[str, int], dict[str, TokenState], Tx | None]:
        state: tuple[dict[str, int], dict[str, TokenState], Tx | None] = ({}, {}, None)
        for tx, _, _, lamports, tokens in self.replay(lambda t: self.placed(t, point)):
            state = (lamports, tokens, tx)
        return state

    def placed(self, tx: Tx, point: Point) -> bool:
        if point.block is not None:
            return tx.slot <= point.block
        assert point.time is not None
        moment = self.block_time(tx.slot)
        assert moment is not None
        return moment <= int(point.time.timestamp())

    def true_lamports(self, wallet: str, point: Point) -> int:
        """The wallet's lamports after every transaction at or before ``point``."""
        return self._state(point)[0].get(wallet, 0)

    def true_token(self, wallet: str, mint: str, point: Point) -> int:
        """The wallet's amount of ``mint`` summed over every token account it owned at
        ``point``."""
        tokens = self._state(point)[1]
        return sum(s.amount for s in tokens.values() if s.mint == mint and s.owner == wallet)

    def last_touch(self, addresses: Sequence[str], point: Point) -> Tx | None:
        """The last transaction at or before ``point`` listing any of ``addresses``."""
        found = None
        for tx in self.ordered():
            static, loaded = tx.keys()
            if self.placed(tx, point) and set(addresses) & set(static + loaded):
                found = tx
        return found


def _apply(op: tuple[Any, ...], lamports: dict[str, int], tokens: dict[str, TokenState]) -> None:
    kind = op[0]
    if kind == "sol":
        lamports[op[1]] = lamports.get(op[1], 0) + op[2]
    elif kind == "open":
        tokens[op[1]] = TokenState(mint=op[2], owner=op[3])
    elif kind == "tok":
        tokens[op[1]].amount += op[2]
        assert tokens[op[1]].amount >= 0, f"{op[1]} goes negative"
    elif kind == "close":
        assert tokens[op[1]].amount == 0, "closing an account that holds tokens"
        del tokens[op[1]]
    elif kind == "owner":
        tokens[op[1]].owner = op[2]
    elif kind != "touch":
        raise ValueError(f"unknown op {op!r}")


# -- the JSON-RPC node --------------------------------------------------------------


class FakeNode:
    """Answers JSON-RPC requests about ``world`` and logs each HTTP request.

    ``batching`` off answers a list body with a JSON-RPC error (as nodes that refuse
    batches do); ``slot_order`` ``"signature"`` lists a slot's signatures sorted by
    signature instead of newest first, as some nodes have, to prove the plugin does not
    rely on the listing order inside a slot.
    """

    def __init__(self, world: World, *, batching: bool = True,
                 slot_order: str = "block", tip: int | None = None) -> None:
        self.world = world
        self.batching = batching
        self.slot_order = slot_order
        #: one entry per HTTP request: the list of methods it carried
        self.log: list[list[str]] = []
        #: methods replaced by a test (name -> function of the params)
        self.overrides: dict[str, Callable[..., Any]] = {}
        self._lock = threading.Lock()
        self._build()
        if tip is not None:
            #: the latest finalized slot
            self.tip = tip

    def _build(self) -> None:
        self.by_signature: dict[str, dict[str, Any]] = {}
        for tx, pre_l, pre_t, post_l, post_t in self.world.replay():
            self.by_signature[tx.signature] = self._transaction(tx, pre_l, pre_t, post_l, post_t)
        self.tokens_now: dict[str, TokenState] = {}
        for *_, tokens in self.world.replay():
            self.tokens_now = tokens
        self.tip = max((t.slot for t in self.world.txs), default=0) + 10_000

    # -- dispatch

    def handle_body(self, body: Any) -> Any:
        """The response body for one HTTP request body."""
        if isinstance(body, list):
            with self._lock:
                self.log.append([str(item.get("method")) for item in body])
            if not self.batching:
                return {"jsonrpc": "2.0", "id": None,
                        "error": {"code": -32600, "message": "batch requests are disabled"}}
            return [self._answer(item) for item in body]
        with self._lock:
            self.log.append([str(body.get("method"))])
        return self._answer(body)

    def calls(self, method: str | None = None) -> int:
        """JSON-RPC calls logged (of ``method``, when given)."""
        return sum(1 for request in self.log for m in request if method in (None, m))

    @property
    def requests(self) -> int:
        """HTTP requests logged."""
        return len(self.log)

    def _answer(self, item: dict[str, Any]) -> dict[str, Any]:
        ident = item.get("id")
        method = item.get("method")
        params = item.get("params", [])
        handler = self.methods().get(str(method))
        if handler is None:
            return _error(ident, -32601, "Method not found")
        try:
            return {"jsonrpc": "2.0", "id": ident, "result": handler(*params)}
        except RpcError as exc:
            return _error(ident, exc.code, exc.message)

    # -- methods

    def methods(self) -> dict[str, Callable[..., Any]]:
        """The JSON-RPC methods this node answers."""
        return {
            "getSignaturesForAddress": self.rpc_get_signatures_for_address,
            "getTransaction": self.rpc_get_transaction,
            "getTokenAccountsByOwner": self.rpc_get_token_accounts_by_owner,
            "getBlock": self.rpc_get_block,
            "getBlockTime": self.rpc_get_block_time,
            "getSlot": self.rpc_get_slot,
            **self.overrides,
        }

    def _listing(self, account: str) -> list[Tx]:
        txs = [t for t in self.world.txs if account in _all_keys(t)]
        txs.sort(key=lambda t: (t.slot, t.index), reverse=True)
        if self.slot_order == "signature":
            txs.sort(key=lambda t: t.signature)
            txs.sort(key=lambda t: t.slot, reverse=True)
        return txs

    def rpc_get_signatures_for_address(self, account: str,
                                     config: dict[str, Any] | None = None) -> list[Any]:
        config = config or {}
        limit = config.get("limit", 1000)
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise RpcError(-32602, "Invalid limit; max 1000")
        txs = self._listing(account)
        if config.get("before") is not None:
            sigs = [t.signature for t in txs]
            if config["before"] not in sigs:
                return []
            txs = txs[sigs.index(config["before"]) + 1:]
        if config.get("until") is not None:
            sigs = [t.signature for t in txs]
            if config["until"] in sigs:
                txs = txs[:sigs.index(config["until"])]
        return [{
            "signature": t.signature,
            "slot": t.slot,
            "err": {"InstructionError": [0, {"Custom": 1}]} if t.failed else None,
            "memo": None,
            "blockTime": self.world.block_time(t.slot),
            "confirmationStatus": "finalized",
        } for t in txs[:limit]]

    def rpc_get_transaction(self, sig: str, config: dict[str, Any] | None = None) -> Any:
        config = config or {}
        if config.get("encoding", "json") != "json":
            raise RpcError(-32602, "this fake node answers encoding json only")
        found = self.by_signature.get(sig)
        if found is not None and found["version"] == 0 and config.get(
                "maxSupportedTransactionVersion") is None:
            raise RpcError(-32015, "Transaction version (0) is not supported by the "
                            "requesting client. Please try the request again with the "
                            "following configuration parameter: "
                            '"maxSupportedTransactionVersion": 0')
        return found

    def rpc_get_token_accounts_by_owner(self, owner: str, query: dict[str, Any],
                                     config: dict[str, Any] | None = None) -> Any:
        if (config or {}).get("encoding") != "jsonParsed":
            raise RpcError(-32602, "this fake node answers encoding jsonParsed only")
        if "programId" in query:  # every account of the owner under that token program
            wanted = {m for m, p in self.world.programs.items() if p == query["programId"]}
        elif "mint" in query:
            if query["mint"] not in self.world.decimals:
                raise RpcError(-32602, "Invalid param: could not find mint")
            wanted = {query["mint"]}
        else:
            raise RpcError(-32602, "Invalid params: give a mint or a programId")
        value = []
        for account, state in self.tokens_now.items():
            if state.owner != owner or state.mint not in wanted:
                continue
            mint = state.mint
            value.append({
                "pubkey": account,
                "account": {
                    "data": {
                        "parsed": {
                            "info": {
                                "isNative": False,
                                "mint": mint,
                                "owner": owner,
                                "state": "initialized",
                                "tokenAmount": _ui_amount(state.amount,
                                                          self.world.decimals[mint]),
                            },
                            "type": "account",
                        },
                        "program": PROGRAM_NAMES[self.world.programs[mint]],
                        "space": 165,
                    },
                    "executable": False,
                    "lamports": 2039280,
                    "owner": self.world.programs[mint],
                    "rentEpoch": 18446744073709551615,
                    "space": 165,
                },
            })
        return {"context": {"apiVersion": "2.2.3", "slot": self.tip}, "value": value}

    def rpc_get_block(self, slot: int, config: dict[str, Any] | None = None) -> Any:
        if (config or {}).get("transactionDetails") != "signatures":
            raise RpcError(-32602, "this fake node answers transactionDetails signatures only")
        txs = sorted((t for t in self.world.txs if t.slot == slot), key=lambda t: t.index)
        if not txs:
            raise RpcError(-32007, f"Slot {slot} was skipped, or missing due to ledger "
                            "jump to recent snapshot")
        return {
            "blockHeight": slot - 3,
            "blockTime": self.world.block_time(slot),
            "blockhash": base58(hashlib.sha256(f"block:{slot}".encode()).digest()),
            "parentSlot": slot - 1,
            "previousBlockhash": base58(hashlib.sha256(f"block:{slot - 1}".encode()).digest()),
            "signatures": [t.signature for t in txs],
        }

    def rpc_get_slot(self, config: dict[str, Any] | None = None) -> Any:
        if (config or {}).get("commitment", "finalized") != "finalized":
            raise RpcError(-32602, "this fake node answers finalized commitment only")
        return self.tip

    def rpc_get_block_time(self, slot: int) -> Any:
        return self.world.block_time(slot)

    # -- shapes

    def _transaction(self, tx: Tx, pre_l: dict[str, int], pre_t: dict[str, TokenState],
                     post_l: dict[str, int], post_t: dict[str, TokenState]) -> dict[str, Any]:
        static, loaded = tx.keys()
        keys = static + loaded

        def token_balances(states: dict[str, TokenState]) -> list[dict[str, Any]]:
            out = []
            for n, key in enumerate(keys):
                state = states.get(key)
                if state is not None:
                    out.append({
                        "accountIndex": n,
                        "mint": state.mint,
                        "owner": state.owner,
                        "programId": self.world.programs[state.mint],
                        "uiTokenAmount": _ui_amount(state.amount,
                                                    self.world.decimals[state.mint]),
                    })
            return out

        return {
            "slot": tx.slot,
            "blockTime": self.world.block_time(tx.slot),
            "version": 0 if loaded else "legacy",
            "transaction": {
                "signatures": [tx.signature],
                "message": {
                    "accountKeys": static,
                    "header": {"numReadonlySignedAccounts": 0,
                               "numReadonlyUnsignedAccounts": 1,
                               "numRequiredSignatures": 1},
                    "instructions": [{"accounts": list(range(1, len(keys))), "data": "3Bxs4",
                                      "programIdIndex": len(static) - 1,
                                      "stackHeight": None}],
                    "recentBlockhash": base58(
                        hashlib.sha256(f"block:{tx.slot - 1}".encode()).digest()),
                    **({"addressTableLookups": [{
                        "accountKey": address("lookup-table"),
                        "writableIndexes": list(range(len(loaded))),
                        "readonlyIndexes": [],
                    }]} if loaded else {}),
                },
            },
            "meta": {
                "err": {"InstructionError": [0, {"Custom": 1}]} if tx.failed else None,
                "status": {"Err": {"InstructionError": [0, {"Custom": 1}]}} if tx.failed
                else {"Ok": None},
                "fee": FEE,
                "preBalances": [pre_l.get(k, 0) for k in keys],
                "postBalances": [post_l.get(k, 0) for k in keys],
                "preTokenBalances": token_balances(pre_t),
                "postTokenBalances": token_balances(post_t),
                "innerInstructions": [],
                "logMessages": [f"Program {TOKEN_PROGRAM} invoke [1]"],
                "rewards": [],
                "loadedAddresses": {"writable": loaded, "readonly": []},
                "computeUnitsConsumed": 4644,
            },
        }

    # -- serving

    def transport(self) -> MockTransport:
        """An ``httpx.MockTransport`` answering as this node (for unit tests)."""
        def handler(request: Request) -> Response:
            body = json.loads(request.content, parse_float=Decimal)
            return Response(200, content=_dumps(self.handle_body(body)),
                            headers={"Content-Type": "application/json"})
        return MockTransport(handler)

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Serve on a free loopback port; yields the base URL."""
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length), parse_float=Decimal)
                data = _dumps(node.handle_body(body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


class RpcError(Exception):
    """A JSON-RPC error the node answers with (code and message)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _all_keys(tx: Tx) -> list[str]:
    static, loaded = tx.keys()
    return static + loaded


def _error(ident: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": ident, "error": {"code": code, "message": message}}


def _ui_amount(amount: int, decimals: int) -> dict[str, Any]:
    text = str(Decimal(amount).scaleb(-decimals).normalize()) if amount else "0"
    if "E" in text:
        text = format(Decimal(amount).scaleb(-decimals), "f")
    return {"amount": str(amount), "decimals": decimals,
            "uiAmount": float(Decimal(text)) if amount else 0.0, "uiAmountString": text}


def _dumps(body: Any) -> bytes:
    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return float(value)
        raise TypeError(type(value).__name__)
    return json.dumps(body, default=default).encode()


def utc(seconds: int) -> datetime:
    """The UTC moment ``seconds`` after the epoch."""
    return datetime.fromtimestamp(seconds, UTC)


# -- the demonstration world ----------------------------------------------------------


def demo_world() -> tuple[World, dict[str, str]]:
    """A wallet holding one mint in two token accounts, with same-slot transactions,
    native SOL and a token account with more than 1,000 signatures."""
    world = World()
    alice, bob = address("alice"), address("bob")
    usdc = world.mint("usdc", 6)
    main, extra = address("alice-usdc-main"), address("alice-usdc-extra")
    bob_acct = address("bob-usdc")
    world.tx(100, bob, ("sol", bob, 50_000_000_000), ("sol", alice, 2_000_000_000))
    world.tx(101, bob, ("open", bob_acct, usdc, bob), ("tok", bob_acct, 10**15))
    world.tx(102, alice, ("open", main, usdc, alice))
    world.tx(103, alice, ("open", extra, usdc, alice))
    world.tx(110, bob, ("tok", bob_acct, -5_000_000), ("tok", main, 5_000_000))
    # two transactions of alice's main account in one slot: the second leaves 7_250_000
    world.tx(120, bob, ("tok", bob_acct, -3_000_000), ("tok", main, 3_000_000))
    world.tx(120, alice, ("tok", main, -750_000), ("tok", bob_acct, 750_000))
    world.tx(121, bob, ("tok", bob_acct, -1_000_000), ("tok", extra, 1_000_000),
             loaded=(extra,))
    for n in range(1200):
        world.tx(200 + n // 2, bob, ("tok", bob_acct, -1), ("tok", extra, 1))
    world.tx(900, alice, ("sol", alice, -1_000_000), ("sol", bob, 1_000_000))
    names = {"alice": alice, "bob": bob, "usdc": usdc, "main": main, "extra": extra}
    return world, names


def main() -> None:  # pragma: no cover - a manual demonstration
    world, names = demo_world()
    node = FakeNode(world)
    with node.serve() as url:
        print(f"fake Solana node at {url}")
        for name, value in names.items():
            print(f"  {name:6} {value}")
        print("Ctrl-C stops it.")
        with suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":  # pragma: no cover
    main()
