"""Reading the deployment configuration: file, environment and provider declarations."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from asof.config import (
    Config,
    default_cache_dir,
    default_config_path,
    default_data_dir,
    env_name,
    load_config,
    parse_rate_limit,
)
from asof.errors import ConfigError, UnknownChain
from asof.provider import Credential, Option, ProviderInfo, RateLimit
from asof.records import Capability
from asof.secrets import Secret

KEY = "hk-0123456789"

HELIUS = ProviderInfo(
    name="helius",
    title="Helius",
    base_url="https://api.helius.xyz",
    credentials=(Credential(header="X-Api-Key", env=("HELIUS_API_KEY",)),),
    rate_limit=RateLimit(requests=10, per_seconds=1),
    timeout=20.0,
)

VENUE = ProviderInfo(
    name="my-venue",
    title="A venue with networks and options",
    base_url="https://api.venue.example/api/v1",
    networks={
        "mainnet": "https://api.venue.example/api/v1",
        "testnet": "https://test-api.venue.example/api/v1/",
    },
    credentials=(Credential(header="PF-API-KEY", name="api_key", required=False),),
    options=(
        Option(name="include_trades", default=False, description="trades too"),
        Option(name="page_size", default=100, description="rows per page"),
        Option(name="mode", default="fast", description="how", choices=("fast", "safe")),
        Option(name="label", default=None, description="free"),
    ),
)


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Config:
    return load_config(write(tmp_path, text), env=env or {})


# --------------------------------------------------------------------------- locating


def test_default_file_missing_is_an_empty_configuration(tmp_path: Path) -> None:
    config = load_config(env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert config.path is None
    assert (config.allow, config.block, dict(config.routes), dict(config.providers)) == (
        None,
        (),
        {},
        {},
    )
    assert (config.timeout, config.attempts, config.timeout_given) == (30.0, 3, False)
    assert config.env == {"XDG_CONFIG_HOME": str(tmp_path)}


def test_default_file_is_read_from_xdg_config_home(tmp_path: Path) -> None:
    (tmp_path / "asof").mkdir()
    write(tmp_path / "asof", "[asof]\nattempts = 5\n")
    config = load_config(env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert config.path == tmp_path / "asof" / "config.toml"
    assert config.attempts == 5


def test_default_file_falls_back_to_home(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": "relative/ignored"}
    assert default_config_path(env) == tmp_path / ".config" / "asof" / "config.toml"


def test_asof_config_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[asof]\ntimeout = 5\n")
    config = load_config(env={"ASOF_CONFIG": str(path)})
    assert config.path == path
    assert (config.timeout, config.timeout_given) == (5.0, True)


def test_explicit_path_beats_asof_config(tmp_path: Path) -> None:
    named = write(tmp_path, "[asof]\nattempts = 2\n", "named.toml")
    other = write(tmp_path, "[asof]\nattempts = 7\n", "other.toml")
    assert load_config(str(named), env={"ASOF_CONFIG": str(other)}).attempts == 2


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope\.toml does not exist"):
        load_config(missing, env={})
    with pytest.raises(ConfigError, match="ASOF_CONFIG"):
        load_config(env={"ASOF_CONFIG": str(missing)})


def test_a_directory_is_not_a_configuration_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read configuration file"):
        load_config(tmp_path, env={})


def test_user_directories() -> None:
    env = {"HOME": "/home/u"}
    assert default_data_dir(env) == Path("/home/u/.local/share/asof")
    assert default_cache_dir(env) == Path("/home/u/.cache/asof")
    env = {"HOME": "/home/u", "XDG_DATA_HOME": "/data", "XDG_CACHE_HOME": "/cache"}
    assert default_data_dir(env) == Path("/data/asof")
    assert default_cache_dir(env) == Path("/cache/asof")
    assert default_config_path({"XDG_CONFIG_HOME": "/etc/x"}) == Path("/etc/x/asof/config.toml")


# --------------------------------------------------------------------------- the file

FULL = f"""
[asof]
allow = ["helius", "Allium", "my-venue"]
block = ["pacifica"]
timeout = 12.5
attempts = 4

[routes]
sol = ["helius", "allium"]
"eth.holdings_history" = "allium"
base.balance_at = ["allium"]

[providers.Helius]
api_key = "{KEY}"
rate_limit = "5/1s"

[providers.my-venue]
network = "testnet"
include_trades = "yes"
page_size = 250

[archive]
path = "/var/lib/asof"
keep = {{ days = 30 }}
"""


def test_full_file(tmp_path: Path) -> None:
    config = load(tmp_path, FULL)
    assert config.allow == ("helius", "allium", "my-venue")
    assert config.block == ("pacifica",)
    assert (config.timeout, config.attempts, config.timeout_given) == (12.5, 4, True)
    assert dict(config.routes) == {
        "solana": ("helius", "allium"),
        "ethereum.holdings_history": ("allium",),
        "base.balance_at": ("allium",),
    }
    assert set(config.providers) == {"helius", "my-venue"}
    assert config.archive == {"path": "/var/lib/asof", "keep": {"days": 30}}


def test_repr_never_shows_a_secret(tmp_path: Path) -> None:
    config = load(tmp_path, FULL, env={"ASOF_ALLIUM_API_KEY": "env-secret"})
    text = repr(config)
    assert KEY not in text
    assert "env-secret" not in text
    assert "helius" in text


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config\.toml: not valid TOML"):
        load(tmp_path, "[asof\n")


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"[asof]\nx = '\xff'\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path, env={})


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("[server]\nport = 1\n", r"config\.toml: unknown table \[server\]"),
        ("asof = 3\n", r"\[asof\] must be a table"),
        ("[asof]\nretries = 3\n", r"config\.toml: \[asof\] unknown key 'retries'"),
        ("[asof]\nallow = 'helius'\n", r"\[asof\] allow: expected an array"),
        ("[asof]\nblock = [1]\n", r"\[asof\] block: every entry must be a non-empty name"),
        ("[asof]\nblock = ['']\n", r"\[asof\] block: every entry"),
        ("[asof]\ntimeout = 'soon'\n", r"\[asof\] timeout: expected a number"),
        ("[asof]\ntimeout = 0\n", r"\[asof\] timeout: must be a positive"),
        ("[asof]\ntimeout = true\n", r"\[asof\] timeout: expected a number of seconds, got a b"),
        ("[asof]\ntimeout = nan\n", r"\[asof\] timeout: must be a positive"),
        ("[asof]\nattempts = 0\n", r"\[asof\] attempts: must be at least 1"),
        ("[asof]\nattempts = 2.5\n", r"\[asof\] attempts: expected a whole number"),
        ("[routes]\nnarnia = ['x']\n", r"\[routes\] narnia: unknown chain 'narnia'"),
        ("[routes]\n'solana.teleport' = ['x']\n", r"unknown capability 'teleport'"),
        ("[routes]\nsolana = [3]\n", r"\[routes\] solana: every entry"),
        ("[routes]\nsolana = 3\n", r"\[routes\] solana: expected an array"),
        ("[routes]\nsol = ['a']\nsolana = ['b']\n", r"'solana' is already routed"),
        ("[providers]\nhelius = 1\n", r"\[providers\.helius\] must be a table"),
        ("[providers.helius]\ntimeout = -1\n", r"\[providers\.helius\] timeout: must be"),
        ("[providers.helius]\nbase_url = 'ftp://x'\n", r"base_url: expected an http"),
        ("[providers.helius]\nnetwork = 1\n", r"network: expected a string"),
        ("[providers.helius]\nrate_limit = 'fast'\n", r"rate_limit: cannot read rate limit"),
        ("[providers.helius]\nthing = [1]\n", r"thing: expected a single value, got an array"),
        ("[providers.helius]\n[providers.HELIUS]\n", r"appears twice"),
        ("[archive]\n[archive.x]\ny = 1\n[asof]\nallow=[]\nblock=1\n", r"block: expected"),
    ],
)
def test_invalid_files_name_the_file_and_key(tmp_path: Path, text: str, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern) as caught:
        load(tmp_path, text)
    assert str(tmp_path / "config.toml") in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_empty_allow_list_allows_nothing(tmp_path: Path) -> None:
    config = load(tmp_path, "[asof]\nallow = []\n")
    assert config.allow == ()
    assert not config.is_allowed("helius")


def test_allow_and_block(tmp_path: Path) -> None:
    config = load(tmp_path, FULL)
    assert config.is_allowed("helius")
    assert config.is_allowed("HELIUS")
    assert not config.is_allowed("pacifica")
    assert not config.is_allowed("someone-else")
    everyone = Config(block=("pacifica",))
    assert everyone.is_allowed("anything")
    assert not everyone.is_allowed("pacifica")


# --------------------------------------------------------------------------- environment


def test_environment_overrides_the_asof_table(tmp_path: Path) -> None:
    env = {
        "ASOF_TIMEOUT": "7",
        "ASOF_ATTEMPTS": "6",
        "ASOF_ALLOW": "helius, allium,",
        "ASOF_BLOCK": "pacifica",
    }
    config = load(tmp_path, "[asof]\ntimeout = 1\nattempts = 1\nallow = ['x']\n", env)
    assert (config.timeout, config.attempts) == (7.0, 6)
    assert config.allow == ("helius", "allium")
    assert config.block == ("pacifica",)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("ASOF_TIMEOUT", "soon"), ("ASOF_ATTEMPTS", "many"), ("ASOF_ATTEMPTS", "0")],
)
def test_bad_environment_names_the_variable(tmp_path: Path, variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"environment variable {variable}"):
        load_config(env={"XDG_CONFIG_HOME": str(tmp_path), variable: value})


def test_env_name_pattern() -> None:
    assert env_name("helius", "api_key") == "ASOF_HELIUS_API_KEY"
    assert env_name("my-venue", "base_url") == "ASOF_MY_VENUE_BASE_URL"
    assert env_name("node.eth", "page-size") == "ASOF_NODE_ETH_PAGE_SIZE"


# --------------------------------------------------------------------------- routes


def test_route_preference_specific_first_then_chain(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        "[routes]\nsolana = ['helius', 'allium']\n'sol.balance_history' = ['allium', 'x']\n",
    )
    assert config.route_preference("solana", "balance_history") == ("allium", "x", "helius")
    assert config.route_preference("SOL", "balance_at") == ("helius", "allium")
    assert config.route_preference("solana", Capability.BALANCE_AT) == ("helius", "allium")
    assert config.route_preference("ethereum", "balance_at") == ()
    with pytest.raises(UnknownChain):
        config.route_preference("narnia", "balance_at")
    with pytest.raises(ValueError, match="teleport"):
        config.route_preference("solana", "teleport")


def test_routes_accept_caip2_ids_and_dotted_tables(tmp_path: Path) -> None:
    config = load(tmp_path, "[routes]\n'eip155:8453' = ['a']\n[routes.eth]\nbalance_at = ['b']\n")
    assert dict(config.routes) == {"base": ("a",), "ethereum.balance_at": ("b",)}


# --------------------------------------------------------------------------- credentials


def test_credential_from_the_file_comes_first(tmp_path: Path) -> None:
    env = {"ASOF_HELIUS_API_KEY": "from-asof-env", "HELIUS_API_KEY": "from-usual"}
    config = load(tmp_path, f"[providers.helius]\napi_key = '{KEY}'\n", env)
    secret, where = config.credential(HELIUS, HELIUS.credentials[0])
    assert secret == Secret(KEY)
    assert where == f"{tmp_path / 'config.toml'}: [providers.helius] api_key"
    assert KEY not in where


def test_credential_from_asof_variable_then_usual_name(tmp_path: Path) -> None:
    cred = HELIUS.credentials[0]
    config = load(tmp_path, "", {"ASOF_HELIUS_API_KEY": " a1 \n", "HELIUS_API_KEY": "b2"})
    assert config.credential(HELIUS, cred) == (
        Secret("a1"),
        "environment variable ASOF_HELIUS_API_KEY",
    )
    config = load(tmp_path, "", {"ASOF_HELIUS_API_KEY": "", "HELIUS_API_KEY": "b2"})
    assert config.credential(HELIUS, cred) == (Secret("b2"), "environment variable HELIUS_API_KEY")


def test_missing_credential_says_how_to_set_it(tmp_path: Path) -> None:
    config = load(tmp_path, "[providers.helius]\napi_key = ''\n")
    assert config.credential(HELIUS, HELIUS.credentials[0]) == (
        None,
        "set ASOF_HELIUS_API_KEY or HELIUS_API_KEY",
    )
    assert Config().credential(VENUE, VENUE.credentials[0]) == (None, "set ASOF_MY_VENUE_API_KEY")


def test_credential_must_be_a_string(tmp_path: Path) -> None:
    config = load(tmp_path, "[providers.helius]\napi_key = 12345\n")
    with pytest.raises(ConfigError, match=r"\[providers\.helius\] api_key: expected a string"):
        config.credential(HELIUS, HELIUS.credentials[0])


def test_readable_file_with_a_secret_warns_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, f"[providers.helius]\napi_key = '{KEY}'\n")
    path.chmod(0o644)
    config = load_config(path, env={})
    with caplog.at_level(logging.WARNING, logger="asof.config"):
        secret, _ = config.credential(HELIUS, HELIUS.credentials[0])
        config.credential(HELIUS, HELIUS.credentials[0])
    assert secret is not None
    warnings = [r for r in caplog.records if r.name == "asof.config"]
    assert len(warnings) == 1
    assert "other users can read it" in warnings[0].getMessage()
    assert str(path) in warnings[0].getMessage()
    assert KEY not in caplog.text


def test_private_file_with_a_secret_does_not_warn(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = load(tmp_path, f"[providers.helius]\napi_key = '{KEY}'\n")
    with caplog.at_level(logging.WARNING, logger="asof.config"):
        config.credential(HELIUS, HELIUS.credentials[0])
    assert not [r for r in caplog.records if r.name == "asof.config"]


# --------------------------------------------------------------------------- a provider's table


def test_unknown_provider_key_names_the_file_and_key(tmp_path: Path) -> None:
    config = load(tmp_path, "[providers.helius]\napi_kee = 'x'\n")
    with pytest.raises(ConfigError, match=r"\[providers\.helius\] api_kee: unknown key") as caught:
        config.options(HELIUS)
    assert str(tmp_path / "config.toml") in str(caught.value)
    with pytest.raises(ConfigError, match="api_kee"):
        config.check_provider(HELIUS)


def test_base_url_order(tmp_path: Path) -> None:
    assert Config().base_url(HELIUS) == "https://api.helius.xyz"
    config = load(tmp_path, "[providers.helius]\nbase_url = 'https://proxy.example/helius/'\n")
    assert config.base_url(HELIUS) == "https://proxy.example/helius"
    env = {"ASOF_HELIUS_BASE_URL": "http://127.0.0.1:8899/"}
    config = load(tmp_path, "[providers.helius]\nbase_url = 'https://proxy.example'\n", env)
    assert config.base_url(HELIUS) == "http://127.0.0.1:8899"
    with pytest.raises(ConfigError, match="environment variable ASOF_HELIUS_BASE_URL"):
        Config(env={"ASOF_HELIUS_BASE_URL": "localhost:1"}).base_url(HELIUS)


def test_network_selects_a_declared_url(tmp_path: Path) -> None:
    assert Config().network(VENUE) == "mainnet"
    assert Config().network(HELIUS) is None
    config = load(tmp_path, "[providers.my-venue]\nnetwork = 'testnet'\n")
    assert config.network(VENUE) == "testnet"
    assert config.base_url(VENUE) == "https://test-api.venue.example/api/v1"
    env = {"ASOF_MY_VENUE_NETWORK": "mainnet"}
    assert load(tmp_path, "[providers.my-venue]\nnetwork = 'testnet'\n", env).network(
        VENUE
    ) == "mainnet"
    with pytest.raises(ConfigError, match=r"unknown network 'devnet' for my-venue"):
        Config(env={"ASOF_MY_VENUE_NETWORK": "devnet"}).network(VENUE)
    with pytest.raises(ConfigError, match="declares no networks"):
        load(tmp_path, "[providers.helius]\nnetwork = 'mainnet'\n").base_url(HELIUS)


def test_base_url_beats_network(tmp_path: Path) -> None:
    config = load(
        tmp_path, "[providers.my-venue]\nnetwork = 'testnet'\nbase_url = 'https://mine.example'\n"
    )
    assert config.base_url(VENUE) == "https://mine.example"


def test_option_defaults() -> None:
    assert Config().options(VENUE) == {
        "include_trades": False,
        "page_size": 100,
        "mode": "fast",
        "label": None,
    }
    assert Config().options(HELIUS) == {}


def test_options_from_file_then_environment(tmp_path: Path) -> None:
    text = "[providers.my-venue]\ninclude_trades = true\npage_size = 250\nlabel = 7\n"
    config = load(tmp_path, text, {"ASOF_MY_VENUE_PAGE_SIZE": "500", "ASOF_MY_VENUE_MODE": "safe"})
    assert config.options(VENUE) == {
        "include_trades": True,
        "page_size": 500,
        "mode": "safe",
        "label": 7,
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("1", True), ("YES", True), ("on", True), ("false", False),
     ("0", False), ("no", False), (" Off ", False)],
)  # fmt: skip
def test_boolean_options_read_the_usual_words(raw: str, expected: bool) -> None:
    config = Config(env={"ASOF_MY_VENUE_INCLUDE_TRADES": raw})
    assert config.options(VENUE)["include_trades"] is expected


@pytest.mark.parametrize(
    ("text", "env", "pattern"),
    [
        ("", {"ASOF_MY_VENUE_INCLUDE_TRADES": "maybe"}, r"ASOF_MY_VENUE_INCLUDE_TRADES: expected"),
        ("include_trades = 2", {}, r"include_trades: expected true or false"),
        ("include_trades = 'y'", {}, r"include_trades: expected true or false"),
        ("page_size = 'many'", {}, r"page_size: expected a whole number"),
        ("page_size = 2.5", {}, r"page_size: expected a whole number"),
        ("page_size = true", {}, r"page_size: expected a whole number"),
        ("", {"ASOF_MY_VENUE_PAGE_SIZE": "1e3"}, r"ASOF_MY_VENUE_PAGE_SIZE: expected a whole"),
        ("mode = 3", {}, r"mode: expected a string, got an integer"),
        ("mode = 'reckless'", {}, r"mode: 'reckless' is not one of fast, safe"),
        ("", {"ASOF_MY_VENUE_MODE": "reckless"}, r"ASOF_MY_VENUE_MODE: 'reckless' is not one"),
    ],
)
def test_bad_options_are_config_errors(
    tmp_path: Path, text: str, env: dict[str, str], pattern: str
) -> None:
    config = load(tmp_path, f"[providers.my-venue]\n{text}\n", env)
    with pytest.raises(ConfigError, match=pattern):
        config.options(VENUE)


def test_integer_option_from_the_environment_accepts_a_sign() -> None:
    assert Config(env={"ASOF_MY_VENUE_PAGE_SIZE": " +42 "}).options(VENUE)["page_size"] == 42


# --------------------------------------------------------------------------- limits, timeouts


@pytest.mark.parametrize(
    ("value", "requests", "seconds"),
    [
        ("5/1s", 5, 1.0),
        ("5/s", 5, 1.0),
        ("100/60s", 100, 60.0),
        ("100/60", 100, 60.0),
        ("300 per 1min", 300, 60.0),
        ("2/500ms", 2, 0.5),
        ("1000/1h", 1000, 3600.0),
        ({"requests": 5, "per_seconds": 1}, 5, 1.0),
        ({"requests": 3, "per_seconds": 2.5}, 3, 2.5),
    ],
)
def test_rate_limit_forms(value: object, requests: int, seconds: float) -> None:
    assert parse_rate_limit(value) == RateLimit(requests=requests, per_seconds=seconds)


@pytest.mark.parametrize("value", ["off", "none", "OFF", False])
def test_rate_limit_off(value: object) -> None:
    assert parse_rate_limit(value) is None


@pytest.mark.parametrize(
    "value",
    ["fast", "5/", "0/1s", "5/0s", "5/1 fortnight", "/1s", 5,
     {"requests": 5}, {"requests": 5, "per_seconds": 1, "burst": 2},
     {"requests": 0, "per_seconds": 1}],
)  # fmt: skip
def test_bad_rate_limits(value: object) -> None:
    with pytest.raises(ConfigError, match="rate_limit"):
        parse_rate_limit(value)


def test_rate_limit_order(tmp_path: Path) -> None:
    assert Config().rate_limit(HELIUS) == RateLimit(requests=10, per_seconds=1)
    assert Config().rate_limit(VENUE) is None
    config = load(tmp_path, "[providers.helius]\nrate_limit = {requests = 2, per_seconds = 1}\n")
    assert config.rate_limit(HELIUS) == RateLimit(requests=2, per_seconds=1)
    config = load(tmp_path, "[providers.helius]\nrate_limit = '2/1s'\n",
                  {"ASOF_HELIUS_RATE_LIMIT": "off"})  # fmt: skip
    assert config.rate_limit(HELIUS) is None


def test_provider_timeout_order(tmp_path: Path) -> None:
    assert Config().provider_timeout(HELIUS) == 20.0  # declared by the provider
    assert load(tmp_path, "[asof]\ntimeout = 9\n").provider_timeout(HELIUS) == 9.0
    text = "[asof]\ntimeout = 9\n[providers.helius]\ntimeout = 4\n"
    assert load(tmp_path, text).provider_timeout(HELIUS) == 4.0
    assert load(tmp_path, text, {"ASOF_HELIUS_TIMEOUT": "2.5"}).provider_timeout(HELIUS) == 2.5


def test_check_provider_reads_everything(tmp_path: Path) -> None:
    load(tmp_path, FULL).check_provider(VENUE)
    config = load(tmp_path, "[providers.my-venue]\nmode = 'nope'\n")
    with pytest.raises(ConfigError, match="mode"):
        config.check_provider(VENUE)


NODE = ProviderInfo(name="node", title="A node per chain", base_url="http://127.0.0.1:8545",
                    chain_urls=True)


def test_chain_urls_map_chain_names_to_urls(tmp_path: Path) -> None:
    config = load(tmp_path, '[providers.node.urls]\nbase = "https://base.example/"\n'
                            'arb = "http://127.0.0.1:9545"\n"eip155:10" = "https://op.example"\n')
    assert config.chain_urls(NODE) == {
        "base": "https://base.example",
        "arbitrum": "http://127.0.0.1:9545",
        "optimism": "https://op.example",
    }
    assert config.base_url(NODE) == "http://127.0.0.1:8545"
    assert load(tmp_path, "").chain_urls(NODE) == {}


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ('[providers.node.urls]\nnowhere = "https://x.example"\n', "unknown chain 'nowhere'"),
        ('[providers.node.urls]\nbase = "ftp://x"\n', r"urls\.base: expected an http"),
        ('[providers.node.urls]\nbase = "https://a.example"\nbase-mainnet = "https://b.example"\n',
         "chain base is given twice"),
        ('[providers.node]\nurls = "https://x.example"\n', "expected a table"),
    ],
)
def test_bad_chain_urls_are_config_errors(tmp_path: Path, text: str, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        load(tmp_path, text).check_provider(NODE)


def test_urls_is_unknown_for_a_provider_without_chain_urls(tmp_path: Path) -> None:
    config = load(tmp_path, '[providers.helius.urls]\nbase = "https://x.example"\n')
    with pytest.raises(ConfigError, match="unknown key"):
        config.check_provider(HELIUS)
