"""Nobody reaches another person's things, and every view needs a signed-in person.

The endpoints come from the URL resolver: a new URL with an id in it fails this suite until
it is added to OWNED (how to find alice's object for it); a new URL without one fails until
it is known to need sign-in (or is listed as PUBLIC).
"""

from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import MailAccount, User
from tests.accounts.factories import make_account

pytestmark = pytest.mark.django_db

# URL name -> which of alice's objects its id names.
OWNED: dict[str, Callable[[MailAccount], dict[str, int]]] = {
    "accounts:mail_account_edit": lambda account: {"account_id": account.pk},
    "accounts:mail_account_test": lambda account: {"account_id": account.pk},
    "accounts:mail_account_delete": lambda account: {"account_id": account.pk},
    "accounts:identity_add": lambda account: {"account_id": account.pk},
    "accounts:identity_edit": lambda account: {"identity_id": account.identities.get().pk},
    "accounts:identity_delete": lambda account: {"identity_id": account.identities.get().pk},
}
# Pages anybody may open (signing in, resetting a password, the health check).
PUBLIC_PREFIXES = ("accounts:login", "accounts:password_reset", "accounts:signup", "healthz")


def named_urls(
    resolver: URLResolver | None = None, namespace: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from named_urls(entry, inner)
        elif entry.name:
            yield f"{namespace}{entry.name}", entry


def has_ids(pattern: URLPattern) -> bool:
    return bool(pattern.pattern.converters)


@pytest.fixture
def alice_account() -> MailAccount:
    return make_account(User.objects.create_user("alice"), "alice@example.test")


@pytest.fixture
def bob_client(client: Client) -> Client:
    client.force_login(User.objects.create_user("bob"))
    return client


def test_every_url_with_an_id_has_an_isolation_check() -> None:
    with_ids = {
        name
        for name, pattern in named_urls()
        if has_ids(pattern) and not name.startswith(PUBLIC_PREFIXES)
    }

    assert with_ids - set(OWNED) == set(), "add these to OWNED in tests/views/test_isolation.py"


@pytest.mark.parametrize("name", sorted(OWNED))
def test_another_persons_ids_answer_404(
    name: str, alice_account: MailAccount, bob_client: Client
) -> None:
    url = reverse(name, kwargs=OWNED[name](alice_account))

    assert bob_client.get(url).status_code in (404, 405)
    assert bob_client.post(url, {"email": "bob@example.test"}).status_code == 404
    assert MailAccount.objects.filter(pk=alice_account.pk).exists()
    assert alice_account.identities.count() == 1


def test_every_page_needs_a_signed_in_person(alice_account: MailAccount, client: Client) -> None:
    for name, pattern in named_urls():
        if name.startswith(PUBLIC_PREFIXES):
            continue
        kwargs = OWNED[name](alice_account) if has_ids(pattern) else {}
        url = reverse(name, kwargs=kwargs)
        for response in (client.get(url), client.post(url)):
            assert response.status_code in (302, 405), f"{name} answers {response.status_code}"
            if response.status_code == 302:
                assert "login" in response["Location"], name
