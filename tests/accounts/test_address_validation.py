import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from accounts.validation import normalise_address


@pytest.mark.parametrize(
    ("address", "names"),
    [
        ("bob", "@"),
        ("bob@", "domain"),
        ("@example.com", "user name"),
        ("bo b@example.com", "user name"),
        ("bob@exa mple.com", "domain"),
        ("bob@@example.com", "domain"),
    ],
)
def test_the_error_names_the_part_that_is_wrong(address: str, names: str) -> None:
    with pytest.raises(ValidationError) as raised:
        normalise_address(address)

    assert names in raised.value.messages[0]


def test_it_normalises_the_domain() -> None:
    assert normalise_address(" Bob@Example.COM ") == "Bob@example.com"


@override_settings(MAIL_ALLOW_PRIVATE_HOSTS=False)
def test_reserved_domains_only_when_private_hosts_are_allowed() -> None:
    with pytest.raises(ValidationError, match="domain"):
        normalise_address("bob@example.test")
    with override_settings(MAIL_ALLOW_PRIVATE_HOSTS=True):
        assert normalise_address("bob@example.test") == "bob@example.test"
