import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from accounts import crypto
from accounts.models import MailAccount, OAuthGrant, User
from tests.accounts.factories import make_account

pytestmark = pytest.mark.django_db


def test_it_reencrypts_every_secret_under_the_newest_key() -> None:
    old_key = crypto.Fernet.generate_key().decode()
    new_key = crypto.Fernet.generate_key().decode()
    with override_settings(MAIL_ENCRYPTION_KEYS=[old_key]):
        account = make_account(User.objects.create_user("alice"), "alice@example.test", "pw-1")
        OAuthGrant.objects.create(
            account=account,
            provider="google",
            refresh_token_encrypted=crypto.encrypt("refresh-1"),
            access_token_encrypted=crypto.encrypt("access-1"),
        )

    with override_settings(MAIL_ENCRYPTION_KEYS=[new_key, old_key]):
        call_command("reencrypt_secrets", verbosity=0)

    with override_settings(MAIL_ENCRYPTION_KEYS=[new_key]):  # the old key is gone now
        fresh = MailAccount.objects.get(pk=account.pk)
        assert fresh.incoming_credentials().password == "pw-1"
        assert fresh.smtp_credentials().password == "pw-1"
        grant = OAuthGrant.objects.get(account=account)
        assert (grant.refresh_token(), grant.access_token()) == ("refresh-1", "access-1")


def test_it_stops_with_a_clear_error_when_a_key_is_missing() -> None:
    with override_settings(MAIL_ENCRYPTION_KEYS=[crypto.Fernet.generate_key().decode()]):
        make_account(User.objects.create_user("alice"), "alice@example.test", "pw-1")

    with (
        override_settings(MAIL_ENCRYPTION_KEYS=[crypto.Fernet.generate_key().decode()]),
        pytest.raises(CommandError, match="alice@example.test"),
    ):
        call_command("reencrypt_secrets", verbosity=0)
