import pytest
from django.test import Client

from accounts.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


def test_it_lets_a_superuser_into_the_admin(client: Client) -> None:
    admin = User.objects.create_superuser("root", "root@example.test", "pw-for-tests")
    client.force_login(admin)

    response = client.get("/admin/accounts/user/")

    assert response.status_code == 200
    assert b"root@example.test" in response.content


def test_it_sends_an_ordinary_user_to_the_admin_login(client: Client) -> None:
    person = User.objects.create_user("bob", "bob@example.test", "pw-for-tests")
    client.force_login(person)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_home_needs_a_signed_in_user(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"
