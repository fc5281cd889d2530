"""OAuth 2.0 sign-in of a mail account: off to the provider, and back (services/oauth.py)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.services.mail_accounts import check_account_for_user
from accounts.services.oauth import SignInRefused, do_finish, do_start
from accounts.validation import normalise_address


@login_required
@require_POST
def oauth_start(request: HttpRequest) -> HttpResponse:
    """A POST (with CSRF), so another site cannot start sign-ins in a person's session."""
    account_id = request.POST.get("account")
    if account_id and account_id.isdigit():  # signing an existing account in again
        account = check_account_for_user(request.user, int(account_id))
        email, mail_provider, account_pk = account.email, account.provider, account.pk
    else:
        email, account_pk = request.POST.get("email", ""), None
        mail_provider = request.POST.get("provider", "")  # the id discovery found
    try:
        url = do_start(
            request.session,
            request.user,
            email=normalise_address(email),
            mail_provider_id=mail_provider,
            account_id=account_pk,
        )
    except ValidationError as exc:
        return _refused(request, exc.messages[0])
    except SignInRefused as exc:
        return _refused(request, str(exc))
    return redirect(url)


@login_required
@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    try:
        account = do_finish(request.session, request.user, request.GET.dict())
    except SignInRefused as exc:
        return _refused(request, str(exc))
    messages.success(request, f"{account.email} is signed in.")
    return redirect("accounts:mail_accounts")


def _refused(request: HttpRequest, problem: str) -> HttpResponse:
    return render(request, "accounts/oauth_refused.html", {"problem": problem}, status=400)
