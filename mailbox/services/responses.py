"""Saved responses: `check_response_for_user` authorises (another person's id answers 404),
the `do_*` functions write. Names are unique per person (the form says so before the
database would)."""

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User
from mailbox.models import SavedResponse


def responses_of(user: User) -> QuerySet[SavedResponse]:
    return SavedResponse.objects.filter(user=user)


def check_response_for_user(user: User, response_id: int) -> SavedResponse:
    try:
        return responses_of(user).get(pk=response_id)
    except SavedResponse.DoesNotExist:
        raise Http404("No such saved response.") from None


def do_save_response(user: User, response: SavedResponse, *, name: str, body: str) -> None:
    """Creates (an unsaved `response`) or updates one of the person's saved responses."""
    response.user, response.name, response.body = user, name, body
    response.save()


def do_delete_response(response: SavedResponse) -> None:
    response.delete()
