"""asof.testing: the conformance checks catch broken plugins, MockHTTP answers as told,
cassette settings keep secrets out, and the pytest plugin's fixtures work."""

from __future__ import annotations

import gzip
import json
import types
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import vcr

from asof import hookimpl
from asof.errors import NoRoute, NotFoundError, ProviderRequestError, RateLimited
from asof.provider import Credential, ProviderInfo
from asof.queries import BalanceQuery, HistoryQuery
from asof.records import (
    Amount,
    BalanceAt,
    BalanceChange,
    BlockRef,
    ChainSupport,
    Page,
    Point,
    Provenance,
    Token,
    Wallet,
)
from asof.testing.client import FAKE_SECRET, credential_env
from asof.testing.conformance import (
    Case,
    ProviderConformance,
    check_balance_answer,
    check_error,
    check_history_pages,
    check_hooks,
    check_provider_info,
    check_requests,
    check_supported_chains,
    provider_error,
)
from asof.testing.mock import MockHTTP, Reply, dumps
from asof.testing.recording import (
    JSON_BODY_MATCHER,
    REDACTED,
    json_body,
    recording_config,
    secret_values,
)
from asof.transport import httpx

pytest_plugins = ["pytester"]

WALLET = Wallet(chain="solana", address="GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz")
TOKEN = Token(chain="solana", address="EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
POINT = Point(block=100)
QUERY = BalanceQuery(wallet=WALLET, token=TOKEN, point=POINT)
T0 = datetime(2025, 1, 1, tzinfo=UTC)


# -- a small plugin that the suite itself is run against ------------------------------


def _toy_info() -> ProviderInfo:
    return ProviderInfo(
        name="toy",
        title="Toy provider",
        base_url="https://toy.invalid",
        credentials=(Credential(header="X-Toy-Key", env=("TOY_KEY",)),),
    )


class ToyPlugin:
    """Answers balance_at from GET /balance and history from GET /changes."""

    @hookimpl
    def provider_info(self) -> ProviderInfo:
        return _toy_info()

    @hookimpl
    def supported_chains(self) -> list[ChainSupport]:
        return [ChainSupport(provider="toy", chain="solana",
                             capabilities=("balance_at", "balance_history"))]

    @hookimpl
    async def balance_at(self, ctx: Any, query: BalanceQuery) -> BalanceAt:
        body = await ctx.http.get("/balance", params={"slot": query.point.block})
        as_of = BlockRef(number=body["slot"]) if body["slot"] is not None else None
        return BalanceAt(
            wallet=query.wallet, token=query.token,
            amount=Amount(raw=int(body["raw"]), decimals=6), requested=query.point,
            as_of=as_of, provenance=Provenance(provider="toy", fetched_at=ctx.now()),
        )

    @hookimpl
    async def history_page(self, ctx: Any, query: HistoryQuery, cursor: str | None) -> Page[Any]:
        body = await ctx.http.get("/changes", params={"cursor": cursor})
        items = tuple(_change(int(raw), int(ts)) for raw, ts in body["items"])
        return Page(items=items, cursor=body["next"])


def _change(raw: int, ts: int) -> BalanceChange:
    return BalanceChange(
        wallet=WALLET, token=TOKEN, token_account=None,
        balance=Amount(raw=raw, decimals=6),
        block=BlockRef(number=ts, timestamp=datetime.fromtimestamp(ts, UTC)),
        provenance=Provenance(provider="toy"),
    )


HISTORY = HistoryQuery(capability="balance_history", wallets=(WALLET,),
                       start=datetime.fromtimestamp(1000, UTC),
                       end=datetime.fromtimestamp(5000, UTC))


class TestToyConformance(ProviderConformance):
    """The suite passes on a plugin that keeps every rule."""

    plugin = ToyPlugin()
    provider = "toy"

    def balance_cases(self) -> list[Case]:
        return [Case(query=QUERY, replies=[Reply(json={"raw": "7", "slot": 99})]),
                Case(query=QUERY, replies=[Reply(json={"raw": "0", "slot": None})])]

    def history_cases(self) -> list[Case]:
        return [Case(query=HISTORY, replies=[
            Reply(json={"items": [["1", 1000], ["2", 2000]], "next": "p2"}),
            Reply(json={"items": [["3", 3000]], "next": None}),
        ])]


# -- the checks refuse what breaks the contract ---------------------------------------


def _plugin(**hooks: Any) -> Any:
    return types.SimpleNamespace(**hooks)


def test_provider_info_name_must_match():
    with pytest.raises(AssertionError, match="expected 'other'"):
        check_provider_info(ToyPlugin(), "other")


def test_provider_info_must_be_a_declaration():
    with pytest.raises(AssertionError, match="not ProviderInfo"):
        check_provider_info(_plugin(provider_info=lambda: {"name": "toy"}), "toy")


def test_base_url_must_be_http_without_trailing_slash():
    bad = ProviderInfo(name="toy", title="Toy", base_url="https://toy.invalid/")
    with pytest.raises(AssertionError, match="ends in '/'"):
        check_provider_info(_plugin(provider_info=lambda: bad), "toy")


def test_supported_chains_must_name_the_provider():
    plugin = _plugin(supported_chains=lambda: [
        ChainSupport(provider="someone-else", chain="solana", capabilities=("balance_at",))])
    with pytest.raises(AssertionError, match="names provider 'someone-else'"):
        check_supported_chains(plugin, "toy")


def test_supported_chains_must_be_records():
    plugin = _plugin(supported_chains=lambda: [{"chain": "solana"}])
    with pytest.raises(AssertionError, match="not ChainSupport"):
        check_supported_chains(plugin, "toy")


def test_async_hook_must_be_async():
    plugin = _plugin(provider_info=_toy_info, supported_chains=list,
                     balance_at=lambda ctx, query: None)
    with pytest.raises(AssertionError, match="balance_at must be async"):
        check_hooks(plugin, [])


def test_declared_capability_needs_its_hook():
    records = [ChainSupport(provider="toy", chain="solana", capabilities=("balance_history",))]
    plugin = _plugin(provider_info=_toy_info, supported_chains=lambda: records)
    with pytest.raises(AssertionError, match="history_page hook is missing"):
        check_hooks(plugin, records)


def _answer(raw: int, as_of: BlockRef | None, **provenance: Any) -> BalanceAt:
    return BalanceAt(wallet=WALLET, token=TOKEN, amount=Amount(raw=raw, decimals=6),
                     requested=POINT, as_of=as_of,
                     provenance=Provenance(**{"provider": "toy", **provenance}))


def test_balance_answer_passes_when_right():
    assert check_balance_answer(_answer(5, BlockRef(number=100)), QUERY, "toy").amount.raw == 5


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (_answer(5, None), "amount is not zero"),
        (_answer(5, BlockRef(number=101)), "as-of rule"),
        (_answer(5, BlockRef(number=1), provider="other"), "provenance names 'other'"),
        (_answer(5, BlockRef(number=1), archived=True), "marked archived"),
        (_answer(5, BlockRef(number=1), fetched_at=T0), "ctx.now"),
        ("a balance", "gave str"),
    ],
)
def test_balance_answer_faults_are_caught(answer, message):
    with pytest.raises(AssertionError, match=message):
        check_balance_answer(answer, QUERY, "toy", now=datetime(2030, 1, 1, tzinfo=UTC))


def test_pages_must_end_without_repeating_cursors():
    item = _change(1, 2000)
    check_history_pages([Page(items=(item,), cursor="a"), Page(items=(), cursor=None)],
                        HISTORY, "toy")
    with pytest.raises(AssertionError, match="did not end"):
        check_history_pages([Page(items=(item,), cursor="a")], HISTORY, "toy")
    with pytest.raises(AssertionError, match="cursor repeats"):
        check_history_pages([Page(items=(), cursor="a"), Page(items=(), cursor="a"),
                             Page(items=(), cursor=None)], HISTORY, "toy")


def test_pages_must_hold_the_right_items_inside_the_range():
    with pytest.raises(AssertionError, match="not BalanceChange"):
        check_history_pages([Page(items=("x",), cursor=None)], HISTORY, "toy")
    with pytest.raises(AssertionError, match="not before end"):
        check_history_pages([Page(items=(_change(1, 5000),), cursor=None)], HISTORY, "toy")
    with pytest.raises(AssertionError, match="before start"):
        check_history_pages([Page(items=(_change(1, 999),), cursor=None)], HISTORY, "toy")


def test_error_checks():
    reply = Reply(status=429, headers={"Retry-After": "3"}, json={"error": "slow down"})
    good = RateLimited("toy", "rate limit exceeded", retry_after=3.0, status=429,
                       provider_message="slow down")
    assert check_error(good, 429, "toy", message="slow down", reply=reply) is good
    with pytest.raises(AssertionError, match="expected RateLimited"):
        check_error(NotFoundError("toy", "x", status=429), 429, "toy", message=None, reply=reply)
    with pytest.raises(AssertionError, match="message 'slow down' is lost"):
        check_error(RateLimited("toy", "rate limit exceeded", retry_after=3.0, status=429),
                    429, "toy", message="slow down", reply=reply)
    with pytest.raises(AssertionError, match="Retry-After 3 read as None"):
        check_error(RateLimited("toy", "slow down", status=429), 429, "toy",
                    message=None, reply=reply)
    leaky = ProviderRequestError("toy", f"bad key {FAKE_SECRET}", status=400)
    with pytest.raises(AssertionError, match="credential leaks"):
        check_error(leaky, 400, "toy", message=None, reply=Reply(status=400))


def test_router_errors_are_unwrapped():
    cause = NotFoundError("toy", "gone", status=404)
    wrapped = NoRoute("no provider could answer")
    wrapped.__cause__ = cause
    assert provider_error(wrapped) is cause
    with pytest.raises(AssertionError, match="raised NoRoute"):
        provider_error(NoRoute("nothing"))


def test_requests_must_carry_the_credential_in_a_header():
    mock = MockHTTP().queue(Reply(json={}))
    mock.handler(httpx.Request("GET", f"https://toy.invalid/b?api-key={FAKE_SECRET}"))
    with pytest.raises(AssertionError, match="in the URL"):
        check_requests(mock, _toy_info())
    mock = MockHTTP().queue(Reply(json={}))
    mock.handler(httpx.Request("GET", "https://toy.invalid/b"))
    with pytest.raises(AssertionError, match="not sent in the X-Toy-Key header"):
        check_requests(mock, _toy_info())
    with pytest.raises(AssertionError, match="sent no request"):
        check_requests(MockHTTP(), _toy_info())


def test_credential_env_uses_placeholders_unless_recording():
    info = _toy_info()
    assert credential_env(info) == {"ASOF_TOY_API_KEY": FAKE_SECRET}
    assert credential_env(info, real={"TOY_KEY": "real-one"}) == {"ASOF_TOY_API_KEY": "real-one"}
    assert credential_env(info, real={}) == {"ASOF_TOY_API_KEY": FAKE_SECRET}


# -- MockHTTP -------------------------------------------------------------------------


def test_mock_http_routes_queues_and_records():
    mock = MockHTTP()
    mock.get("/a", Reply(json={"n": 1}), Reply(status=500, json={"error": "again"}))
    mock.queue(Reply(text="fallback"))
    first = mock.handler(httpx.Request("GET", "https://x.invalid/a?q=1"))
    second = mock.handler(httpx.Request("GET", "https://x.invalid/a"))
    third = mock.handler(httpx.Request("GET", "https://x.invalid/a"))
    other = mock.handler(httpx.Request("POST", "https://x.invalid/a"))
    assert first.json() == {"n": 1}
    assert first.headers["content-type"] == "application/json"
    assert (second.status_code, third.status_code) == (500, 500)  # the last reply repeats
    assert other.text == "fallback"
    assert [r.method for r in mock.requests] == ["GET", "GET", "GET", "POST"]
    assert mock.last.method == "POST"


def test_mock_http_without_a_reply_says_so():
    with pytest.raises(AssertionError, match="no reply for GET /nowhere"):
        MockHTTP().handler(httpx.Request("GET", "https://x.invalid/nowhere"))
    with pytest.raises(ValueError, match="at least one reply"):
        MockHTTP().queue()


def test_mock_json_writes_decimals_as_exact_numbers():
    text = dumps({"v": Decimal("0.1000000000000000000000000001"), "n": [Decimal("1E+3")]})
    assert text == '{"v": 0.1000000000000000000000000001, "n": [1E+3]}'
    assert json.loads(text, parse_float=Decimal)["v"] == Decimal("0.1000000000000000000000000001")


# -- cassettes ------------------------------------------------------------------------


def test_recording_config_filters_every_credential_spelling():
    config = recording_config(env={"ASOF_X_API_KEY": "s3cret-value", "HOME": "/home/me",
                                   "SHORT_TOKEN": "abc"})
    headers = {name.lower() for name, _ in config["filter_headers"]}
    assert {"x-api-key", "pf-api-key", "api-key", "authorization"} <= headers
    params = {name for name, _ in config["filter_query_parameters"]}
    assert {"api-key", "X-Api-Key", "X-API-KEY", "PF-API-KEY", "Authorization"} <= params
    assert config["filter_sensitive_data"] == [("<ASOF_X_API_KEY>", "s3cret-value")]
    assert config["decode_compressed_response"] is True
    assert JSON_BODY_MATCHER in config["match_on"]
    assert "record_mode" not in config


def test_secret_values_pick_credential_names():
    env = {"HELIUS_API_KEY": "k" * 20, "GITHUB_TOKEN": "t" * 10, "PATH": "p" * 30,
           "KEYBOARD": "x" * 30, "DB_PASSWORD": "p" * 12}
    assert sorted(name for name, _ in secret_values(env)) == [
        "<DB_PASSWORD>", "<GITHUB_TOKEN>", "<HELIUS_API_KEY>"]


def _req(body: Any, content_type: str = "application/json") -> Any:
    return vcr.request.Request("POST", "https://x.invalid/rpc", body,
                               {"Content-Type": content_type})


def test_json_body_matcher():
    json_body(_req(b'{"a": 1, "b": [1, 2]}'), _req(b'{"b": [1, 2], "a": 1}'))
    json_body(_req(b'{"jsonrpc": "2.0", "id": 7, "method": "m"}'),
              _req(b'{"jsonrpc": "2.0", "id": 1, "method": "m"}'))
    json_body(_req(None), _req(b""))
    with pytest.raises(AssertionError, match="bodies differ"):
        json_body(_req(b'{"a": 1}'), _req(b'{"a": 2}'))
    with pytest.raises(AssertionError, match="bodies differ"):
        json_body(_req(b'{"id": 1}'), _req(b'{"id": 2}'))  # an id outside JSON-RPC counts
    with pytest.raises(AssertionError, match="bodies differ"):
        json_body(_req(b"a=1", "text/plain"), _req(b"a=2", "text/plain"))


SECRET = "live-secret-value-1234567890"


def _echoing_server(request: Any) -> Any:
    body = json.dumps({"echo": SECRET, "ok": True}).encode()
    return httpx.Response(200, content=gzip.compress(body),
                          headers={"Content-Encoding": "gzip",
                                   "Content-Type": "application/json"})


@pytest.mark.anyio
async def test_recorded_cassette_holds_no_secret(tmp_path: Path):
    config = recording_config(env={"ASOF_TOY_API_KEY": SECRET})
    recorder = vcr.VCR(cassette_library_dir=str(tmp_path), record_mode="all")
    recorder.register_matcher(JSON_BODY_MATCHER, json_body)
    url = f"https://toy.invalid/v1/x?api-key={SECRET}&X-API-KEY={SECRET}&keep=1"
    headers = {"X-API-KEY": SECRET, "Authorization": f"Bearer {SECRET}", "PF-API-KEY": SECRET}
    with recorder.use_cassette("echo.yaml", **config):
        async with httpx.AsyncClient(transport=httpx.MockTransport(_echoing_server)) as client:
            response = await client.post(url, headers=headers, json={"q": 1})
    assert response.json()["echo"] == SECRET
    text = (tmp_path / "echo.yaml").read_text()
    assert SECRET not in text
    assert REDACTED in text
    assert "keep=1" in text
    assert "<ASOF_TOY_API_KEY>" in text  # the echoed key, found after decompression
    assert "content-encoding" not in text.lower()  # stored decoded

    replay = vcr.VCR(cassette_library_dir=str(tmp_path), record_mode="none")
    replay.register_matcher(JSON_BODY_MATCHER, json_body)
    with replay.use_cassette("echo.yaml", **recording_config(env={})):
        async with httpx.AsyncClient(transport=httpx.MockTransport(_echoing_server)) as client:
            again = await client.post(url, headers=headers, json={"q": 1})
            assert again.json() == {"echo": "<ASOF_TOY_API_KEY>", "ok": True}
            with pytest.raises(Exception, match="Can't play back"):
                await client.post(url, headers=headers, json={"q": 2})


# -- the pytest plugin ----------------------------------------------------------------


def test_fixtures_in_a_plugin_test_suite(pytester: pytest.Pytester):
    pytester.makepyfile(
        **{
            "tests/plugins/one/test_one": '''
import pytest
from asof import hookimpl
from asof.provider import Credential, ProviderInfo
from asof.records import Amount, BalanceAt, BlockRef, ChainSupport, Provenance
from asof.testing.recording import JSON_BODY_MATCHER
from asof.testing.mock import MockHTTP


def test_vcr_settings(vcr_config, vcr_cassette_dir, request):
    assert JSON_BODY_MATCHER in vcr_config["match_on"]
    assert vcr_config["decode_compressed_response"] is True
    assert vcr_cassette_dir == str(request.config.rootpath / "cassettes" / "one")


def test_mock_http(mock_http):
    assert isinstance(mock_http, MockHTTP)


@pytest.mark.anyio
@pytest.mark.parametrize("n", [1])
async def test_cassette_name_drops_the_backend(default_cassette_name, n):
    assert default_cassette_name == "test_cassette_name_drops_the_backend[1]"


@pytest.mark.vcr
@pytest.mark.anyio
async def test_replay_through_a_one_plugin_client(asof_client_factory, vcr):
    async with asof_client_factory(OnePlugin()) as client:
        answer = await client.balance_at(
            "solana:GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz", "USDC", "slot:100")
    assert answer.amount.raw == 42
    assert answer.provider == "one"
    assert vcr.play_count == 1


class OnePlugin:
    @hookimpl
    def provider_info(self):
        return ProviderInfo(name="one", title="One", base_url="https://one.invalid",
                            credentials=(Credential(header="X-Api-Key"),))

    @hookimpl
    def supported_chains(self):
        return [ChainSupport(provider="one", chain="solana", capabilities=("balance_at",))]

    @hookimpl
    async def balance_at(self, ctx, query):
        body = await ctx.http.get("/balance", params={"slot": query.point.block})
        return BalanceAt(wallet=query.wallet, token=query.token,
                         amount=Amount(raw=int(body["raw"]), decimals=6),
                         requested=query.point, as_of=BlockRef(number=body["slot"]),
                         provenance=Provenance(provider="one"))
''',
        }
    )
    cassettes = pytester.path / "cassettes" / "one"
    cassettes.mkdir(parents=True)
    cassette = "test_replay_through_a_one_plugin_client.yaml"
    (cassettes / cassette).write_text(
        "interactions:\n"
        "- request:\n"
        "    body: ''\n"
        "    headers: {}\n"
        "    method: GET\n"
        "    uri: https://one.invalid/balance?slot=100\n"
        "  response:\n"
        "    body:\n"
        "      string: '{\"raw\": \"42\", \"slot\": 100}'\n"
        "    headers:\n"
        "      content-type:\n"
        "      - application/json\n"
        "    status:\n"
        "      code: 200\n"
        "      message: OK\n"
        "version: 1\n"
    )
    pytester.makeini("[pytest]\nasof_cassettes = true\n")  # an asof plugin project opts in
    result = pytester.runpytest("-p", "no:cacheprovider", "--rootdir", str(pytester.path))
    result.assert_outcomes(passed=6)
