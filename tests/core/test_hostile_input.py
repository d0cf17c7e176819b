"""Bad input reaches asof as typed errors naming the field, never as another exception.

Each case here was once an untyped crash or a silent acceptance: the moment parser on
overflowing offsets and non-ASCII digits, tokens that are not text, JSON lines nested
too deeply or carrying integers longer than Python reads, EVM addresses with a wrong
EIP-55 checksum, and configuration mistakes that were ignored or echoed a secret.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from asof.addresses import checksum_address, normalize_address
from asof.archive.io import ImportRecordError, read_records
from asof.chains import Family, resolve_chain
from asof.config import MAX_ATTEMPTS, load_config
from asof.errors import ConfigError, InputError, InvalidAddress, InvalidPoint
from asof.keccak import keccak256
from asof.points import parse_point, parse_time
from asof.provider import Credential, ProviderInfo
from asof.records import Wallet
from asof.tokens import resolve_token

# --------------------------------------------------------------------------- moments


@pytest.mark.parametrize("text", [
    "0001-01-01T00:00+01:00",  # before year 1 once in UTC
    "9999-12-31T23:30-01:00",  # after year 9999 once in UTC
    "²",  # a digit to str.isdigit, not to int()
    "1" * 5000,  # more digits than int() reads
    "١٧٣٦٥٣٦٨٠٠",  # Arabic-Indic digits
    "１７３６５３６８００",  # full-width digits
    "٢٠٢٥-٠١-١٠",  # a date in Arabic-Indic digits
])
def test_unreadable_times_are_invalid_points(text: str) -> None:
    with pytest.raises(InvalidPoint) as caught:
        parse_time(text, field="at")
    assert caught.value.field == "at"
    assert len(str(caught.value)) < 300  # a long input is not pasted whole


def test_huge_integers_and_block_numbers_are_invalid_points() -> None:
    with pytest.raises(InvalidPoint, match="out of range"):
        parse_time(10**5000)
    with pytest.raises(InvalidPoint, match="too large"):
        parse_point("slot:" + "9" * 5000)


def test_ascii_epoch_seconds_still_read() -> None:
    assert parse_time("1736536800").isoformat() == "2025-01-10T19:20:00+00:00"


# --------------------------------------------------------------------------- tokens


@pytest.mark.parametrize("value", [None, b"USDC", 6, 1.5, ["USDC"], ""])
def test_tokens_that_are_not_text_name_the_field(value: object) -> None:
    with pytest.raises(InputError) as caught:
        resolve_token("solana", value)  # type: ignore[arg-type]
    assert caught.value.field == "token"


@pytest.mark.parametrize("value", [None, b"solana", 3])
def test_chains_that_are_not_text_name_the_field(value: object) -> None:
    with pytest.raises(InputError) as caught:
        resolve_chain(value)  # type: ignore[arg-type]
    assert caught.value.field == "chain"


# --------------------------------------------------------------------------- addresses

#: The test vectors of EIP-55 itself, and a well-known checksummed address.
EIP55 = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045",
]


def test_keccak256_matches_known_digests() -> None:
    assert keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
    assert keccak256(b"abc").hex() == (
        "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")


@pytest.mark.parametrize("address", EIP55)
def test_checksummed_addresses_are_accepted(address: str) -> None:
    assert checksum_address(address) == address
    assert normalize_address(Family.EVM, address) == address.lower()
    assert normalize_address(Family.EVM, address.lower()) == address.lower()
    assert normalize_address(Family.EVM, "0x" + address[2:].upper()) == address.lower()


@pytest.mark.parametrize("address", EIP55)
def test_a_wrong_checksum_is_refused(address: str) -> None:
    # flip the case of one letter: still mixed case, no longer the checksum
    index = next(i for i, ch in enumerate(address) if i > 1 and ch.isalpha())
    typo = address[:index] + address[index].swapcase() + address[index + 1:]
    with pytest.raises(InvalidAddress, match="EIP-55") as caught:
        Wallet(chain="ethereum", address=typo)
    assert caught.value.field == "wallet"


# --------------------------------------------------------------------------- import lines


@pytest.mark.parametrize("line", [
    "[" * 100_000 + "]" * 100_000,
    '{"kind": "balance_change", "balance": {"raw": ' + "7" * 5000 + "}}",
])
def test_import_lines_asof_cannot_read_are_import_errors(line: str) -> None:
    with pytest.raises(ImportRecordError) as caught:
        list(read_records(io.StringIO(line + "\n"), source="bad.jsonl"))
    assert "line 1" in str(caught.value)


# --------------------------------------------------------------------------- configuration

PACIFICA_LIKE = ProviderInfo(
    name="venue", title="A venue", base_url="https://api.venue.example/api/v1",
    networks={"mainnet": "https://api.venue.example/api/v1",
              "testnet": "https://test-api.venue.example/api/v1"},
    credentials=(Credential(header="PF-API-KEY", name="api_key", required=False),),
)


def test_a_misspelt_provider_table_names_the_known_providers(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, '[providers.heluis]\napi_key = "k"\n'), env={})
    with pytest.raises(ConfigError, match=r"\[providers.heluis\].*known: allium, helius"):
        config.check_provider_tables(["helius", "allium"])
    config.check_provider_tables(["heluis"])  # a provider of that name: fine


def test_the_client_refuses_a_table_no_plugin_declares(tmp_path: Path) -> None:
    from asof.client import AsyncClient
    from tests.core import memory_plugin

    path = _write(tmp_path, '[providers.memroy]\nrate_limit = "off"\n')
    with pytest.raises(ConfigError, match=r"memroy.*known:.*memory"):
        AsyncClient(path, plugins={"memory": memory_plugin}, archive=False, env={})


def test_attempts_have_an_upper_bound(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"at most {MAX_ATTEMPTS}"):
        load_config(_write(tmp_path, "[asof]\nattempts = 1000000\n"), env={})
    with pytest.raises(ConfigError, match="ASOF_ATTEMPTS"):
        load_config(_write(tmp_path, ""), env={"ASOF_ATTEMPTS": "99"})


def test_a_bad_file_value_is_reported_when_the_environment_overrides_it(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError, match=r"\[asof\] timeout"):
        load_config(_write(tmp_path, '[asof]\ntimeout = "soon"\n'), env={"ASOF_TIMEOUT": "5"})
    config = load_config(_write(tmp_path, '[providers.venue]\nnetwork = "moon"\n'),
                         env={"ASOF_VENUE_NETWORK": "testnet"})
    with pytest.raises(ConfigError, match=r"\[providers.venue\] network.*'moon'"):
        config.network(PACIFICA_LIKE)


def test_a_key_put_into_the_network_option_is_not_echoed(tmp_path: Path) -> None:
    key = "pk_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    config = load_config(_write(tmp_path, f'[providers.venue]\nnetwork = "{key}"\n'), env={})
    with pytest.raises(ConfigError) as caught:
        config.network(PACIFICA_LIKE)
    assert key not in str(caught.value)
    assert "not shown" in str(caught.value)
    config = load_config(_write(tmp_path, ""), env={"ASOF_VENUE_BASE_URL": key})
    with pytest.raises(ConfigError) as caught:
        config.base_url(PACIFICA_LIKE)
    assert key not in str(caught.value)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


# --------------------------------------------------------------------------- units


def test_a_balance_change_states_the_decimals_its_token_knows() -> None:
    from asof import wire
    from asof.points import parse_time as when
    from asof.records import Amount, BalanceChange, BlockRef, Provenance, Token

    token = Token(chain="solana", address="EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
                  standard="spl", decimals=6, symbol="USDC")
    change = BalanceChange(
        wallet=Wallet(chain="solana", address="GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz"),
        token=token, token_account=None, balance=Amount(raw=4533185398, decimals=None),
        block=BlockRef(number=1, timestamp=when("2025-01-01")),
        provenance=Provenance(provider="test"))
    data = wire.to_data(change)
    assert data["token"]["decimals"] == 6
    assert data["balance"]["decimals"] == 6
    assert data["balance"]["raw"] == "4533185398"  # the raw integer is unchanged
    assert str(change.balance) == "4533.185398"
