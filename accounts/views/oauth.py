"""OAuth 2.0 sign-in of a mail account: off to the provider, and back (services/oauth.py)."""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.services.mail_accounts import check_account_for_user
from accounts.services.oauth import SignInRefused, authorization_origins, do_finish, do_start
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


def allows_sign_in_forms(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For pages with a "Sign in with ..." button: the app's policy, with the providers'
    sign-in pages added to form-action. Chromium applies form-action to where a form's POST
    is redirected, and oauth_start answers with a redirect to the provider."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = view(request, *args, **kwargs)
        origins = authorization_origins()
        if origins and "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = _with_form_action(origins)
        return response

    return wrapped


def _with_form_action(origins: list[str]) -> str:
    directives = [d.strip() for d in settings.CONTENT_SECURITY_POLICY.split(";")]
    widened = [
        f"{d} {' '.join(origins)}" if d.startswith("form-action ") else d for d in directives
    ]
    return "; ".join(widened)
