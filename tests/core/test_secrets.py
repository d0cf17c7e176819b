"""Secret hides its value everywhere but reveal(); Redactor scrubs every known value."""

from __future__ import annotations

import copy
import logging
import pickle

import pytest

from asof.secrets import MASK, Redactor, Secret

KEY = "sk-live-0123456789abcdef"


def test_secret_reveals_only_on_request() -> None:
    secret = Secret(KEY)
    assert secret.reveal() == KEY
    assert repr(secret) == "Secret('***')"
    assert str(secret) == "***"
    assert f"{secret}" == "***"
    assert f"{secret!r}" == "Secret('***')"
    assert f"{secret:>5}" == "  ***"
    assert "%s %r" % (secret, secret) == "*** Secret('***')"  # noqa: UP031
    assert KEY not in repr([secret, {"k": secret}])


def test_secret_in_a_log_record_stays_masked(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="asof.test"):
        logging.getLogger("asof.test").debug("key is %s (%r)", Secret(KEY), Secret(KEY))
    assert KEY not in caplog.text
    assert "key is *** (Secret('***'))" in caplog.text


def test_secret_equality_and_hash_follow_the_value() -> None:
    assert Secret(KEY) == Secret(KEY)
    assert Secret(KEY) != Secret(KEY + "x")
    assert Secret(KEY) != KEY  # a secret is not its plain string
    assert hash(Secret(KEY)) == hash(Secret(KEY))
    assert len({Secret(KEY), Secret(KEY), Secret("other")}) == 2
    assert bool(Secret(KEY)) is True
    assert bool(Secret("")) is False


def test_secret_is_immutable_under_copy_and_refuses_pickling() -> None:
    secret = Secret(KEY)
    assert copy.copy(secret) is secret
    assert copy.deepcopy({"s": secret})["s"] is secret
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(secret)


def test_secret_value_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="must be a str"):
        Secret(123)  # type: ignore[arg-type]


def test_redactor_replaces_every_occurrence_of_every_secret() -> None:
    redactor = Redactor([Secret(KEY), "second-token"])
    text = f"key={KEY}&again={KEY} second-token!"
    assert redactor.redact(text) == f"key={MASK}&again={MASK} {MASK}!"


def test_redactor_masks_url_encoded_forms() -> None:
    redactor = Redactor()
    redactor.add(Secret("a+b/c=d e"))
    assert redactor.redact("api-key=a%2Bb%2Fc%3Dd%20e") == "api-key=***"
    assert redactor.redact("api-key=a%2Bb%2Fc%3Dd+e") == "api-key=***"
    assert redactor.redact("raw a+b/c=d e") == "raw ***"
    assert redactor.redact("mixed a%2bb/c%3dd+e.") == "mixed ***."  # partly, lower-case hex
    assert redactor.redact("a+b/c=d") == "a+b/c=d"  # a prefix alone is not the secret


def test_redactor_masks_encoded_non_ascii() -> None:
    redactor = Redactor(["clé-ü"])
    assert redactor.redact("k=cl%C3%A9-%c3%bc;") == "k=***;"
    assert redactor.redact("k=clé-ü;") == "k=***;"


def test_redactor_masks_a_longer_secret_whole() -> None:
    redactor = Redactor(["abc", "abcdef"])
    assert redactor.redact("abcdef abc") == "*** ***"


def test_redactor_ignores_empty_values_and_leaves_plain_text_alone() -> None:
    redactor = Redactor(["", Secret("")])
    assert redactor.redact("nothing to hide") == "nothing to hide"
    redactor.add("x1")
    assert redactor.redact("") == ""
    assert redactor.redact("nothing to hide") == "nothing to hide"


def test_redactor_learns_new_secrets_after_use() -> None:
    redactor = Redactor(["first"])
    assert redactor.redact("first second") == "*** second"
    redactor.add(Secret("second"))
    assert redactor.redact("first second") == "*** ***"


def test_redactor_treats_regex_characters_literally() -> None:
    redactor = Redactor(["a.b*c"])
    assert redactor.redact("a.b*c axbbbc") == "*** axbbbc"


def test_redact_data_walks_json_structures() -> None:
    redactor = Redactor([KEY])
    data: dict[str, object] = {
        "error": f"bad key {KEY}",
        KEY: [1, f"{KEY}", {"nested": (KEY, 2)}],
        "n": 5,
        "none": None,
    }
    clean = redactor.redact_data(data)
    assert clean == {
        "error": "bad key ***",
        "***": [1, "***", {"nested": ("***", 2)}],
        "n": 5,
        "none": None,
    }
    assert data["error"] == f"bad key {KEY}"  # the original is untouched


def test_redactor_repr_shows_no_value() -> None:
    redactor = Redactor([KEY])
    assert KEY not in repr(redactor)


def test_redactor_refuses_non_strings() -> None:
    with pytest.raises(TypeError):
        Redactor().add(42)  # type: ignore[arg-type]
