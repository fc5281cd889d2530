""".env.example documents exactly the variables the app and docker-compose.yml read.

The variables settings.py reads are found in its syntax tree (env.str("X"), env.bool("X"), ...,
env_secret("X") for X and X_FILE), so a new setting without documentation fails here, and
so does documentation of a variable nothing reads any more.
"""

from collections import Counter

import environ
import pytest

from tests.deploy import (
    EnvEntry,
    SettingRead,
    compose_variables,
    env_example,
    env_example_entries,
    settings_reads,
    settings_variables,
)

REQUIRED_SECRETS = ("SECRET_KEY", "MAIL_ENCRYPTION_KEYS", "POSTGRES_PASSWORD")


def test_settings_read_the_environment_with_literal_names() -> None:
    reads, unreadable = settings_reads()
    assert unreadable == (), f"settings.py lines {unreadable} read a variable this test can't name"
    assert len(reads) > 20, "settings.py reads look unfamiliar: has the env helper changed?"


def test_every_variable_settings_read_is_documented() -> None:
    assert settings_variables() - set(env_example()) == set()


def test_every_documented_variable_is_read_by_the_app_or_compose() -> None:
    assert set(env_example()) - settings_variables() - compose_variables() == set()


def test_no_variable_is_documented_twice() -> None:
    counts = Counter(entry.name for entry in env_example_entries())
    assert [name for name, count in counts.items() if count > 1] == []


@pytest.mark.parametrize("entry", env_example_entries(), ids=lambda entry: entry.name)
def test_variable_has_a_comment_with_its_default(entry: EnvEntry) -> None:
    assert entry.comment, f"line {entry.line}: {entry.name} has no comment right above it"
    words = entry.comment.lower()
    assert "default" in words or "required" in words, f"{entry.name}: say its default"


@pytest.mark.parametrize("name", REQUIRED_SECRETS)
def test_secret_is_left_empty_and_says_how_to_make_one(name: str) -> None:
    entry = env_example()[name]
    assert entry.active and entry.value == "", "a published example secret would get used"
    assert "python -c" in entry.comment


def parse_as(accessor: str, value: str) -> object:
    """The value as settings.py's env accessor parses it; raises when it can't."""
    if accessor == "bool":
        if value.lower() not in environ.Env.BOOLEAN_TRUE_STRINGS + ("false", "off", "no", "0"):
            raise ValueError(f"{value!r} is not a boolean")
        return environ.Env.parse_value(value, bool)
    if accessor in ("int", "float"):
        return environ.Env.parse_value(value, int if accessor == "int" else float)
    if accessor == "db":
        return environ.Env.db_url_config(value)
    return value


@pytest.mark.parametrize(
    "read",
    [read for read in settings_reads()[0] if read.accessor in ("bool", "int", "float", "db")],
    ids=lambda read: read.name,
)
def test_example_value_parses_as_settings_read_it(read: SettingRead) -> None:
    entry = env_example()[read.name]
    assert entry.value, f"{read.name}: give an example or default value"
    parse_as(read.accessor, entry.value)


def test_value_check_catches_a_wrong_type() -> None:
    with pytest.raises(ValueError):
        parse_as("int", "25MB")
    with pytest.raises(ValueError):
        parse_as("bool", "enabled")


def test_values_are_safe_for_compose_and_django_environ() -> None:
    # Compose would expand $, and the two parsers treat quotes and inline comments differently.
    for entry in env_example_entries():
        assert "$" not in entry.value, entry.name
        assert not entry.value.startswith(("'", '"')), entry.name
        assert " #" not in entry.value, entry.name
        assert entry.value == entry.value.strip(), entry.name
