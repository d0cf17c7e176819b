"""Canonical records: validation, normalisation and exact amounts."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from asof.chains import Family, canonical_chain, known_chains, resolve_chain
from asof.errors import InputError, InvalidAddress, UnknownChain, UnknownToken
from asof.queries import BalanceQuery, HistoryQuery
from asof.records import (
    NATIVE_SOL_MINT,
    WRAPPED_SOL_MINT,
    Amount,
    Capability,
    ChainSupport,
    Point,
    Token,
    Wallet,
)
from asof.tokens import native_token, resolve_token

SOL_WALLET = "GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz"
EVM_WALLET = "0xAB16781A13FE343A275F4BB5C883A64CEDA52917"


def test_chain_aliases_and_caip2() -> None:
    assert canonical_chain("eth") == "ethereum"
    assert canonical_chain("ETH") == "ethereum"
    assert canonical_chain("eip155:1") == "ethereum"
    assert canonical_chain("sol") == "solana"
    assert canonical_chain("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp") == "solana"
    assert resolve_chain("pacifica").venue
    assert resolve_chain("base").family is Family.EVM
    names = [c.name for c in known_chains()]
    assert len(names) == len(set(names))
    with pytest.raises(UnknownChain) as info:
        resolve_chain("atlantis")
    assert isinstance(info.value, LookupError)


def test_wallet_normalisation() -> None:
    evm = Wallet(chain="eth", address=EVM_WALLET)
    assert evm.chain == "ethereum"
    assert evm.address == EVM_WALLET.lower()
    assert str(evm) == f"ethereum:{EVM_WALLET.lower()}"
    assert Wallet.parse(f"sol:{SOL_WALLET}") == Wallet(chain="solana", address=SOL_WALLET)
    assert Wallet.parse(f"eip155:1:{EVM_WALLET}").chain == "ethereum"
    assert Wallet.parse(SOL_WALLET, chain="solana").address == SOL_WALLET


@pytest.mark.parametrize(
    ("chain", "address"),
    [
        ("solana", "0OIl" + "1" * 40),  # letters outside base58
        ("solana", "abc"),  # too short
        ("solana", "1" * 45),  # too long
        ("ethereum", "0x123"),
        ("ethereum", "ab16781a13fe343a275f4bb5c883a64ceda52917"),  # no 0x
        ("ethereum", "0xZZ16781a13fe343a275f4bb5c883a64ceda52917"),
    ],
)
def test_invalid_addresses_name_the_field(chain: str, address: str) -> None:
    with pytest.raises(InvalidAddress) as info:
        Wallet(chain=chain, address=address)
    assert info.value.field == "wallet"


def test_wallet_parse_without_chain() -> None:
    with pytest.raises(InvalidAddress, match="CHAIN:ADDRESS"):
        Wallet.parse(SOL_WALLET)


def test_native_sol_is_the_pseudo_mint_not_wrapped_sol() -> None:
    assert len(NATIVE_SOL_MINT) == len(WRAPPED_SOL_MINT) == 43
    assert NATIVE_SOL_MINT.endswith("1")
    assert WRAPPED_SOL_MINT.endswith("2")
    sol = native_token("solana")
    assert sol.address == NATIVE_SOL_MINT
    assert sol.is_native
    assert sol.decimals == 9
    wrapped = Token(chain="solana", address=WRAPPED_SOL_MINT, standard="spl")
    assert not wrapped.is_native
    assert Token(chain="solana", address=NATIVE_SOL_MINT).is_native
    assert resolve_token("solana", "sol") == sol
    assert resolve_token("solana", "WSOL").address == WRAPPED_SOL_MINT


def test_token_registry() -> None:
    usdc = resolve_token("sol", "usdc")
    assert usdc.address == "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
    assert usdc.decimals == 6
    assert resolve_token("eth", "ETH").is_native
    assert resolve_token("eth", "0xA0B86991C6218B36C1D19D4A2E9EB0CE3606EB48").symbol == "USDC"
    unknown = resolve_token("eth", "0x" + "1" * 40)
    assert unknown.decimals is None
    assert unknown.standard == "unknown"
    with pytest.raises(UnknownToken):
        resolve_token("solana", "DOGEWIFHAT")


def test_amounts_are_exact() -> None:
    big = Amount(raw=2**70 + 1, decimals=6)
    assert big.value == Decimal(2**70 + 1).scaleb(-6)
    assert str(Amount(raw=1_500_000, decimals=6)) == "1.5"
    assert str(Amount(raw=0, decimals=9)) == "0"
    assert Amount(raw=5, decimals=None).value is None
    for bad in (1.5, True, "10"):
        with pytest.raises(InputError):
            Amount(raw=bad, decimals=6)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        Amount(raw=1, decimals=-1)


def test_queries_validate() -> None:
    wallet = Wallet(chain="solana", address=SOL_WALLET)
    point = Point(time=datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(InputError, match="token is on ethereum"):
        BalanceQuery(wallet=wallet, token=native_token("eth"), point=point)
    with pytest.raises(InputError, match="one chain"):
        HistoryQuery(capability=Capability.BALANCE_HISTORY,
                     wallets=(wallet, Wallet(chain="eth", address=EVM_WALLET)))
    with pytest.raises(InputError, match="not after start"):
        HistoryQuery(capability="balance_history", wallets=(wallet,),
                     start=datetime(2025, 2, 1, tzinfo=UTC), end=datetime(2025, 1, 1, tzinfo=UTC))
    query = HistoryQuery(capability="account_ledger", wallets=[wallet])  # type: ignore[arg-type]
    assert query.capability is Capability.ACCOUNT_LEDGER
    assert query.chain == "solana"


def test_chain_support_normalises() -> None:
    support = ChainSupport(provider="x", chain="sol", capabilities=("balance_at",),  # type: ignore[arg-type]
                           status="beta")  # type: ignore[arg-type]
    assert support.chain == "solana"
    assert support.capabilities == (Capability.BALANCE_AT,)


def test_to_raw_is_the_exact_inverse_of_scale() -> None:
    from asof.exact import scale, to_raw

    huge = 2**200 + 12345
    assert to_raw(scale(huge, 18), 18) == huge
    assert to_raw(Decimal("1200.000000"), 6) == 1_200_000_000
    assert to_raw(Decimal("-30.5"), 6) == -30_500_000
    assert to_raw(Decimal("1E+3"), 2) == 100_000
    with pytest.raises(InputError, match="more than 6 decimal places"):
        to_raw(Decimal("0.0000001"), 6, field="balance")
    with pytest.raises(InputError, match="not a finite"):
        to_raw(Decimal("NaN"), 6)
