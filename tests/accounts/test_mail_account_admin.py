import pytest
from django.test import Client

from accounts import crypto
from accounts.models import MailAccount, OAuthGrant, User
from tests.accounts.factories import make_account

pytestmark = pytest.mark.django_db
CANARY = "Canary-7f3a-Secret"


@pytest.fixture
def admin_client_with_account(client: Client) -> tuple[Client, MailAccount]:
    admin = User.objects.create_superuser("root", "root@example.test", "pw")
    client.force_login(admin)
    account = make_account(User.objects.create_user("alice"), "alice@example.test", CANARY)
    return client, account


def test_admin_lists_searches_and_filters_accounts(admin_client_with_account) -> None:
    client, account = admin_client_with_account

    listing = client.get("/admin/accounts/mailaccount/", {"q": "alice", "is_enabled__exact": "1"})

    assert listing.status_code == 200
    assert b"alice@example.test" in listing.content
    assert b"last sync" in listing.content.lower()


def test_admin_never_shows_a_password_not_even_encrypted(admin_client_with_account) -> None:
    client, account = admin_client_with_account

    page = client.get(f"/admin/accounts/mailaccount/{account.pk}/change/")

    assert page.status_code == 200
    assert CANARY.encode() not in page.content
    assert account.incoming_password_encrypted.encode() not in page.content
    assert account.smtp_password_encrypted.encode() not in page.content
    assert b"password_encrypted" not in page.content


def test_admin_can_disable_an_account(admin_client_with_account) -> None:
    client, account = admin_client_with_account

    client.post(
        "/admin/accounts/mailaccount/",
        {"action": "disable_accounts", "_selected_action": [account.pk]},
    )

    account.refresh_from_db()
    assert account.is_enabled is False


def test_a_users_page_lists_their_mail_accounts(admin_client_with_account) -> None:
    client, account = admin_client_with_account

    page = client.get(f"/admin/accounts/user/{account.user_id}/change/")

    assert page.status_code == 200
    assert b"alice@example.test" in page.content
    assert CANARY.encode() not in page.content


def test_an_oauth_accounts_page_says_whether_its_sign_in_works_and_shows_no_token(
    admin_client_with_account,
) -> None:
    client, account = admin_client_with_account
    grant = OAuthGrant.objects.create(
        account=account,
        provider="google",
        refresh_token_encrypted=crypto.encrypt("refresh-" + CANARY),
        access_token_encrypted=crypto.encrypt("access-" + CANARY),
        needs_sign_in=True,
        sign_in_problem="Google no longer accepts this sign-in: sign in again.",
    )

    page = client.get(f"/admin/accounts/mailaccount/{account.pk}/change/").content

    assert b"OAuth sign-in" in page and b"sign in again." in page
    assert CANARY.encode() not in page
    assert grant.refresh_token_encrypted.encode() not in page
    assert grant.access_token_encrypted.encode() not in page
    assert b"token_encrypted" not in page
