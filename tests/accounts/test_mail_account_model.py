import pytest
from django.db import connection
from django.test import override_settings

from accounts import crypto
from accounts.models import Identity, MailAccount, User
from tests.accounts.factories import make_account

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]
CANARY = "Canary-7f3a-Secret"


def test_passwords_are_stored_encrypted_and_read_back(django_user_model) -> None:
    alice = User.objects.create_user("alice")
    account = make_account(alice, "alice@example.test", password=CANARY)

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_mailaccount WHERE id = %s", [account.pk])
        row = cursor.fetchone()
    assert not any(CANARY in str(value) for value in row)
    fresh = MailAccount.objects.get(pk=account.pk)
    assert fresh.incoming_credentials().password == CANARY
    assert fresh.smtp_credentials().password == CANARY
    assert CANARY not in repr(fresh.incoming_credentials())


def test_a_new_account_gets_a_default_identity() -> None:
    alice = User.objects.create_user("alice")

    account = make_account(alice, "alice@example.test")

    identity = Identity.objects.get(account=account)
    assert identity.email == "alice@example.test" and identity.is_default


def test_one_person_can_have_several_accounts_but_not_the_same_address_twice() -> None:
    alice = User.objects.create_user("alice")
    make_account(alice, "alice@example.test")
    make_account(alice, "alice@other.test")

    assert alice.mail_accounts.count() == 2
    with pytest.raises(Exception):  # noqa: B017 (IntegrityError, raised by either database)
        make_account(alice, "alice@example.test")


def test_keys_rotate_old_secrets_stay_readable() -> None:
    old_key = crypto.Fernet.generate_key().decode()
    new_key = crypto.Fernet.generate_key().decode()
    with override_settings(MAIL_ENCRYPTION_KEYS=[old_key]):
        token = crypto.encrypt(CANARY)
    with override_settings(MAIL_ENCRYPTION_KEYS=[new_key, old_key]):
        assert crypto.decrypt(token) == CANARY
        rotated = crypto.rotate(token)
    with override_settings(MAIL_ENCRYPTION_KEYS=[new_key]):
        assert crypto.decrypt(rotated) == CANARY
        with pytest.raises(crypto.SecretUnreadable) as raised:
            crypto.decrypt(token)
    assert CANARY not in str(raised.value) and token not in str(raised.value)
