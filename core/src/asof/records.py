"""The canonical records every provider's answers are turned into.

All records are frozen attrs classes with keyword-only fields. They hold no wire-format
rules: JSON, JSONL and CSV forms live in :mod:`asof.wire`. Amounts are integers in base
units with their decimals; human and USD values are :class:`~decimal.Decimal`; moments are
timezone-aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar

import attrs

from asof.addresses import normalize_address
from asof.chains import Family, resolve_chain
from asof.errors import InputError, InvalidAddress, InvalidPoint
from asof.exact import scale

__all__ = [
    "NATIVE_SOL_MINT",
    "WRAPPED_SOL_MINT",
    "Amount",
    "BalanceAt",
    "BalanceChange",
    "BlockRef",
    "Capability",
    "ChainSupport",
    "Cost",
    "HistoryItem",
    "HistoryScope",
    "HoldingsPoint",
    "LedgerEntry",
    "Page",
    "Point",
    "Provenance",
    "SupportStatus",
    "Token",
    "TokenHolding",
    "Wallet",
]

#: Pseudo-mint that addresses native SOL (43 characters, ends in ``1``; wrapped SOL ends in ``2``).
NATIVE_SOL_MINT = "So11111111111111111111111111111111111111111"
#: Wrapped SOL: an ordinary SPL token, not native SOL.
WRAPPED_SOL_MINT = "So11111111111111111111111111111111111111112"

T = TypeVar("T")


class _ShownAsTable:
    """Result records show as an HTML table in notebooks (see :mod:`asof.frames`)."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        from asof.frames import html_table

        return html_table([self])


class Capability(StrEnum):
    """A kind of question a provider can answer."""

    BALANCE_AT = "balance_at"  #: one token, one wallet, one moment
    BALANCE_HISTORY = "balance_history"  #: every balance change of a wallet in a range
    HOLDINGS_HISTORY = "holdings_history"  #: USD value of wallets on a time grid
    ACCOUNT_LEDGER = "account_ledger"  #: balance events of an exchange account
    PORTFOLIO_AT = "portfolio_at"  #: every token one wallet held at one moment
    PRICE_AT = "price_at"  #: one token's price in USD at one moment

    def __str__(self) -> str:
        return self.value


class SupportStatus(StrEnum):
    """How firmly a provider supports a chain and capability."""

    SUPPORTED = "supported"
    BETA = "beta"

    def __str__(self) -> str:
        return self.value


def _utc(value: datetime | None, field: str) -> None:
    if value is None or value.tzinfo is UTC:  # the usual case, checked first
        return
    if value.tzinfo is None or value.utcoffset() != UTC.utcoffset(None):
        raise InvalidPoint("must be a timezone-aware UTC datetime", field=field, value=value)


@attrs.frozen(kw_only=True)
class Cost:
    """What one call costs at a provider, in the provider's own unit.

    Printed as ``100 credits per call``; an amount of exactly 1 prints its unit in the
    singular (``Cost(amount=Decimal(1), unit="requests")`` is ``1 request per call``).
    A provider billed by the request, or whose price per call is not documented,
    declares ``Cost(amount=Decimal(1), unit="request")``: one call, one request. A
    ``ChainSupport``'s own ``cost`` takes precedence over ``ProviderInfo.cost``.
    """

    amount: Decimal
    unit: str  #: for example ``credits``
    per: str = "call"

    def __str__(self) -> str:
        unit = self.unit
        if self.amount == 1 and unit.endswith("s") and not unit.endswith("ss"):
            unit = unit[:-1]
        return f"{self.amount} {unit} per {self.per}"


@attrs.frozen(kw_only=True)
class Wallet:
    """A wallet or exchange account on one chain.

    The chain may be given by any alias or CAIP-2 id and is stored canonical; the address
    is validated and normalised for the chain's family (EVM lowercased). ``Wallet.parse``
    reads the ``CHAIN:ADDRESS`` form the CLI uses.
    """

    chain: str
    address: str

    def __attrs_post_init__(self) -> None:
        chain = resolve_chain(self.chain)
        object.__setattr__(self, "chain", chain.name)
        object.__setattr__(
            self, "address", normalize_address(chain.family, self.address, field="wallet")
        )

    @classmethod
    def parse(cls, text: str, *, chain: str | None = None) -> Wallet:
        """Read ``CHAIN:ADDRESS`` (or a bare address when ``chain`` is given).

        CAIP-10 (``eip155:1:0xabc...``) works too: the chain part is everything before
        the last colon.
        """
        if chain is None:
            head, sep, address = text.strip().rpartition(":")
            if not sep or not head:
                raise InvalidAddress(
                    f"{text!r} names no chain; write CHAIN:ADDRESS, for example "
                    "solana:GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz",
                    field="wallet",
                    value=text,
                )
            return cls(chain=head, address=address)
        return cls(chain=chain, address=text)

    def __str__(self) -> str:
        return f"{self.chain}:{self.address}"


@attrs.frozen(kw_only=True)
class Token:
    """A token on one chain: its address or mint, standard and decimals.

    ``decimals`` is ``None`` when the source did not say (amounts then carry no human
    value). Native coins have standard ``native``; native SOL is the pseudo-mint
    :data:`NATIVE_SOL_MINT`, and wrapped SOL is an ordinary SPL token.
    """

    chain: str
    address: str
    standard: str = "unknown"  #: ``native``, ``spl``, ``token-2022``, ``erc20``, ...
    decimals: int | None = None
    symbol: str | None = None

    def __attrs_post_init__(self) -> None:
        chain = resolve_chain(self.chain)
        object.__setattr__(self, "chain", chain.name)
        if self.decimals is not None and (
            isinstance(self.decimals, bool)
            or not isinstance(self.decimals, int)
            or not 0 <= self.decimals <= 255
        ):
            raise InputError("must be an integer from 0 to 255", field="decimals",
                             value=self.decimals)
        if self.standard == "native" and chain.family is not Family.SOLANA:
            object.__setattr__(self, "address", self.address.strip().lower())
        else:
            object.__setattr__(
                self, "address", normalize_address(chain.family, self.address, field="token")
            )
        if chain.family is Family.SOLANA and self.address == NATIVE_SOL_MINT:
            object.__setattr__(self, "standard", "native")

    @property
    def is_native(self) -> bool:
        """Whether this is the chain's native coin."""
        return self.standard == "native"

    def __str__(self) -> str:
        return self.symbol or self.address


@attrs.frozen(kw_only=True)
class Amount:
    """An exact token amount: an integer in base units and the token's decimals."""

    raw: int
    decimals: int | None

    def __attrs_post_init__(self) -> None:
        if isinstance(self.raw, bool) or not isinstance(self.raw, int):
            raise InputError("must be an integer in base units", field="raw", value=self.raw)
        if self.decimals is not None and (
            isinstance(self.decimals, bool) or not isinstance(self.decimals, int)
            or not 0 <= self.decimals <= 255
        ):
            raise InputError("must be an integer from 0 to 255", field="decimals",
                             value=self.decimals)

    @property
    def value(self) -> Decimal | None:
        """The human value, exact; ``None`` when the decimals are not known."""
        return None if self.decimals is None else scale(self.raw, self.decimals)

    def __str__(self) -> str:
        value = self.value
        if value is None:
            return f"{self.raw} base units"
        return _plain(value)


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


@attrs.frozen(kw_only=True)
class Point:
    """A moment: a time, or a block height / slot. Exactly one is set."""

    time: datetime | None = None
    block: int | None = None  #: a slot on Solana, a block number on EVM chains

    def __attrs_post_init__(self) -> None:
        if (self.time is None) == (self.block is None):
            raise InvalidPoint("give exactly one of a time or a block/slot", field="point")
        _utc(self.time, "point.time")
        if self.block is not None and (
            isinstance(self.block, bool) or not isinstance(self.block, int) or self.block < 0
        ):
            raise InvalidPoint("must be a non-negative integer", field="point.block",
                               value=self.block)

    def describe(self, unit: str = "block") -> str:
        """``2025-01-10T19:20:00Z`` or ``slot:313000000`` (``unit`` names the count)."""
        if self.time is not None:
            return self.time.isoformat().replace("+00:00", "Z")
        return f"{unit}:{self.block}"

    def __str__(self) -> str:
        return self.describe()


@attrs.frozen(kw_only=True)
class BlockRef:
    """Where a value was read: a block (or slot), its hash and time, a transaction and
    its index. Any part a provider does not give is ``None``."""

    number: int | None = None  #: slot on Solana, block number on EVM chains
    hash: str | None = None
    timestamp: datetime | None = None
    transaction: str | None = None  #: transaction id or signature
    index: int | None = None  #: transaction index inside the block

    def __attrs_post_init__(self) -> None:
        _utc(self.timestamp, "block.timestamp")

    @property
    def order_key(self) -> tuple[int, int, float]:
        """Sort key that follows the as-of rule: block, then transaction index, then time."""
        return (
            -1 if self.number is None else self.number,
            -1 if self.index is None else self.index,
            0.0 if self.timestamp is None else self.timestamp.timestamp(),
        )


@attrs.frozen(kw_only=True)
class Provenance:
    """Where an answer came from.

    ``provider`` is the original source even when the answer was read back from the
    archive (then ``archived`` is true). ``derived`` marks an answer computed from other
    data (a balance read off a history) rather than given directly. ``echo`` keeps what
    the provider said it was asked, when it says so.

    ``read_at`` is the block whose state a balance was read at, for a provider that
    reads state at a block (a balance-at-block API, a node's ``eth_getBalance``) and so
    does not know when the wallet's balance last changed: it must be the last block at
    or before the requested point. ``resolved`` is the point a time-to-block (or
    block-to-time) translation turned the requested point into, for example
    ``Point(block=19000000)`` for a requested time (see :attr:`BalanceAt.read_at`).
    """

    provider: str
    derived: bool = False
    archived: bool = False
    #: the endpoint or method, for example ``GET /v1/wallet/{wallet}/balance-at``
    source: str | None = None
    fetched_at: datetime | None = None
    echo: Mapping[str, Any] | None = attrs.field(default=None, hash=False)
    caveats: tuple[str, ...] = ()
    read_at: BlockRef | None = None
    resolved: Point | None = None


@attrs.frozen(kw_only=True)
class BalanceAt(_ShownAsTable):
    """A wallet's balance of one token as of one point.

    ``as_of`` is the block or transaction of the wallet's last change at or before the
    point; ``None`` means the wallet had no activity in that token at or before the
    point, and the amount is zero, unless :attr:`read_at` is set.

    A provider that reads state at a block (balance-at-block APIs, nodes) knows only
    that block, not the last change: it leaves ``as_of`` ``None`` and states the block
    in ``provenance.read_at`` (see :class:`Provenance`); then any amount is allowed
    with ``as_of=None``.
    """

    wallet: Wallet
    token: Token
    amount: Amount
    requested: Point
    as_of: BlockRef | None
    provenance: Provenance

    @property
    def provider(self) -> str:
        """The provider that gave the answer."""
        return self.provenance.provider

    @property
    def derived(self) -> bool:
        """Whether the answer was computed from a history rather than read directly."""
        return self.provenance.derived

    @property
    def read_at(self) -> BlockRef | None:
        """The block whose state the balance was read at, when the provider knows that
        block but not the wallet's last change (``provenance.read_at``)."""
        return self.provenance.read_at


@attrs.frozen(kw_only=True)
class BalanceChange(_ShownAsTable):
    """One change of a wallet's balance of one token: the balance after it, where it
    happened, and in which token account."""

    wallet: Wallet
    token: Token
    token_account: str | None
    balance: Amount  #: the balance after the change
    block: BlockRef
    provenance: Provenance

    def __attrs_post_init__(self) -> None:
        # The balance is in the token's units: when the token knows its decimals and the
        # amount was built without them, the amount says them too (never a second,
        # different figure: the raw integer is unchanged).
        if self.balance.decimals is None and self.token.decimals is not None:
            object.__setattr__(self, "balance",
                               Amount(raw=self.balance.raw, decimals=self.token.decimals))


@attrs.frozen(kw_only=True)
class TokenHolding:
    """One token's share of a holdings point."""

    token: str  #: token address or mint
    usd: Decimal
    liquidity_usd: Decimal | None = None
    liquidity_detail: str | None = None  #: status when no liquidity figure, e.g. LIQUIDITY_TOO_HIGH


@attrs.frozen(kw_only=True)
class HoldingsPoint(_ShownAsTable):
    """The USD value of a wallet's holdings at one grid time."""

    wallet: Wallet
    timestamp: datetime
    usd: Decimal
    breakdown: tuple[TokenHolding, ...] | None
    provenance: Provenance

    def __attrs_post_init__(self) -> None:
        _utc(self.timestamp, "timestamp")


@attrs.frozen(kw_only=True)
class LedgerEntry(_ShownAsTable):
    """One balance event of an exchange account.

    ``amount`` is the change and ``balance`` the balance after it. ``known_type`` is
    false for an event type the provider's documents do not list: it is kept, not
    dropped, and reported.
    """

    account: Wallet
    time: datetime
    event_type: str
    amount: Decimal
    balance: Decimal
    pending_balance: Decimal | None
    known_type: bool
    provenance: Provenance
    sequence: int | None = None  #: position among events with the same time, when known

    def __attrs_post_init__(self) -> None:
        _utc(self.time, "time")


HistoryItem = BalanceChange | HoldingsPoint | LedgerEntry


@attrs.frozen(kw_only=True)
class Page(Generic[T]):
    """One page of a history and the opaque cursor for the next; ``None`` ends it."""

    items: tuple[T, ...]
    cursor: str | None = None


@attrs.frozen(kw_only=True)
class HistoryScope:
    """What a provider's ``balance_history`` covers on a chain, so that the archive knows
    which balances a stored history proves (see ``docs/archive.md``).

    - ``native``: the native coin's balance changes are included.
    - ``standards``: the token standards whose changes are included (``("erc20",)``,
      ``("spl", "token-2022")``); ``None`` means every standard.
    - ``token_accounts``: ``"all"`` when the changes of every token account of the
      wallet are reported (Solana: not only the associated account), ``"changed"`` when
      only accounts that changed inside the range appear at all. Either way an account
      that did not change inside a window is absent unless ``opening_balances`` says
      otherwise.
    - ``tokens``: when set, the addresses (mints) of the only tokens the history covers
      (for example the one asset an exchange ledger keeps); ``native`` and
      ``standards`` then add nothing.
    - ``opening_balances``: the history carries, for every token (and token account)
      holding a balance at the range start, a record of that balance stamped at or
      after the start, so that a window that does not start at the wallet's first
      activity still proves balances. Without it only a history from the wallet's
      beginning proves a balance (an account that did not change inside the window is
      invisible).

    A plugin that declares no scope is treated conservatively: its history proves
    balances only for tokens it returned records for, and never a zero for a token it
    never mentioned.
    """

    native: bool = True
    standards: tuple[str, ...] | None = None
    token_accounts: str = "all"
    opening_balances: bool = False
    tokens: tuple[str, ...] | None = None

    def __attrs_post_init__(self) -> None:
        if self.token_accounts not in ("all", "changed"):
            raise InputError("must be 'all' or 'changed'", field="token_accounts",
                             value=self.token_accounts)
        if self.standards is not None:
            object.__setattr__(self, "standards", tuple(self.standards))
        if self.tokens is not None:
            object.__setattr__(self, "tokens", tuple(self.tokens))

    def covers(self, token: Token) -> bool:
        """Whether the history includes every balance change of ``token``: the native
        coin when ``native``; another token when its standard is known and listed (or
        every standard is); only the listed ones when ``tokens`` is set."""
        if self.tokens is not None:
            return token.address in self.tokens
        if token.is_native:
            return self.native
        if self.standards is None:
            return True
        return token.standard in self.standards

    def describe(self) -> str:
        """A short phrase: ``erc20 only, native excluded, with opening balances``."""
        if self.tokens is not None:
            text = "only " + ", ".join(self.tokens)
        elif self.standards is None:
            text = "every token" + ("" if self.native else ", native excluded")
        else:
            text = "/".join(self.standards) + " only" + \
                (", native included" if self.native else ", native excluded")
        if self.opening_balances:
            text += ", with opening balances"
        return text


@attrs.frozen(kw_only=True)
class ChainSupport:
    """A provider's declaration that it serves capabilities on a chain."""

    provider: str
    chain: str
    capabilities: tuple[Capability, ...]
    status: SupportStatus = SupportStatus.SUPPORTED
    cost: Cost | None = None
    preference: int = 0  #: higher is tried first among providers the config does not order
    derived: tuple[Capability, ...] = ()  #: capabilities answered by derivation
    note: str | None = None
    #: what ``balance_history`` covers here; ``None``: undeclared, treated conservatively
    history_scope: HistoryScope | None = None
    #: ``False`` when ``balance_at`` may undercount (for example a token held in several
    #: token accounts read from one): the archive then prefers a proving history and
    #: never builds on such an answer
    balance_at_exact: bool = True
    #: the most wallets one history request may name here (Allium: 15); a planner
    #: batches wallets up to it so that one pull answers many wallets
    history_wallets: int = 1

    def __attrs_post_init__(self) -> None:
        if isinstance(self.history_wallets, bool) or not isinstance(self.history_wallets, int) \
                or self.history_wallets < 1:
            raise ValueError(f"history_wallets must be a positive integer, not "
                             f"{self.history_wallets!r}")
        object.__setattr__(self, "chain", resolve_chain(self.chain).name)
        object.__setattr__(self, "capabilities", tuple(Capability(c) for c in self.capabilities))
        object.__setattr__(self, "derived", tuple(Capability(c) for c in self.derived))
        object.__setattr__(self, "status", SupportStatus(self.status))
