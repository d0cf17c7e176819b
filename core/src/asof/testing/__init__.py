"""Testing helpers for asof plugins.

- :mod:`asof.testing.conformance`: the suite a plugin's tests subclass
  (:class:`~asof.testing.conformance.ProviderConformance`) and its ``check_*`` functions;
- :mod:`asof.testing.mock`: :class:`~asof.testing.mock.MockHTTP` and
  :class:`~asof.testing.mock.Reply`, canned HTTP answers through ``httpx.MockTransport``;
- :mod:`asof.testing.client`: :func:`~asof.testing.client.make_client`, a client that
  holds one plugin;
- :mod:`asof.testing.recording`: cassette settings that keep secrets out;
- :mod:`asof.testing.pytest_plugin`: the fixtures (loaded by pytest automatically once
  asof is installed).

Install the ``testing`` extra (``asof[testing]``) for pytest, vcrpy and pytest-recording.
"""
