"""One provider's settings, resolved once and shared by router, transport and CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import asof_helius
from asof.config import Config
from asof.errors import UpstreamError
from asof.provider import Credential, ProviderInfo, RateLimit
from asof.testing.client import make_client
from asof.testing.mock import MockHTTP, Reply

KEY = "hk_5ecret_value_123"
NODE_KEY = "a1B2c3D4e5F6g7H8i9J0kLmN"
INFO = ProviderInfo(
    name="node", title="Node", base_url="http://127.0.0.1:8899",
    credentials=(Credential(header="X-Api-Key", env=("NODE_KEY",)),
                 Credential(header="Authorization", name="token", required=False)),
    rate_limit=RateLimit(requests=5, per_seconds=1),
)


def test_settings_hold_every_resolved_value_and_show_no_secret() -> None:
    config = Config(env={"NODE_KEY": KEY,
                         "ASOF_NODE_BASE_URL": f"https://rpc.vendor.example/{NODE_KEY}",
                         "ASOF_NODE_TIMEOUT": "7"})
    settings = config.provider_settings(INFO)
    assert settings.base_url == f"https://rpc.vendor.example/{NODE_KEY}"
    assert [(c.name, s.reveal()) for c, s in settings.credentials] == [("api_key", KEY)]
    assert [c.name for c, _ in settings.unset] == ["token"]
    assert settings.missing is None
    assert settings.credential_state().startswith("optional token: set ")
    assert settings.rate_limit == RateLimit(requests=5, per_seconds=1)
    assert settings.timeout == 7
    shown = repr(settings)
    assert KEY not in shown
    assert NODE_KEY not in shown
    assert "rpc.vendor.example/***" in shown


def test_a_missing_required_credential_says_how_to_set_it() -> None:
    settings = Config().provider_settings(INFO)
    assert settings.missing == "missing credential api_key: set ASOF_NODE_API_KEY or NODE_KEY"
    assert Config().provider_settings(
        ProviderInfo(name="free", title="Free", base_url="https://free.example")
    ).credential_state() == "none needed"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_the_table_is_resolved_once_per_provider(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = Config.provider_settings

    def counting(self: Config, info: ProviderInfo) -> Any:
        calls.append(info.name)
        return original(self, info)

    monkeypatch.setattr(Config, "provider_settings", counting)
    body = {"wallet": "W", "mint": "So11111111111111111111111111111111111111111"}
    mock = MockHTTP().queue(Reply(status=500, json=body))
    async with make_client(asof_helius, config_dir=tmp_path,
                           http_transport=mock.transport) as client:
        for _ in range(2):
            with pytest.raises(UpstreamError):
                await client.balance_at(
                    "solana:GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz", "SOL", 313000000)
        assert client.router.settings["helius"].credential_state() == "ok"
    assert calls == ["helius"]
    assert len(mock.requests) == 2
