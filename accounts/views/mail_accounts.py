"""Mail account settings: list, add (with discovery), edit, test, remove.

The add and edit pages are one form. With htmx, "Find settings" swaps only the server
fields and "Save" only the result area, so a typed password stays in the page and is never
sent back in HTML; without JavaScript the same views render whole pages.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.forms_mail import AccountForm
from accounts.models import MailAccount, OAuthGrant
from accounts.services import connection, discovery, oauth
from accounts.services.limits import RateLimited
from accounts.services.mail_accounts import (
    check_account_for_user,
    do_create_account,
    do_update_account,
)
from accounts.services.removal import Removal, do_remove_account, outbox_on_removal
from accounts.views.oauth import allows_sign_in_forms
from mailbox.protocols.types import Credentials

TEMPLATE = "accounts/mail_account_form.html"


@allows_sign_in_forms
@login_required
def mail_accounts(request: HttpRequest) -> HttpResponse:
    accounts = request.user.mail_accounts.select_related("oauth_grant").prefetch_related(
        "identities"
    )
    return render(request, "accounts/mail_accounts.html", {"accounts": accounts})


@allows_sign_in_forms
@sensitive_post_parameters("password", "smtp_password")
@login_required
@require_http_methods(["GET", "POST"])
def mail_account_add(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, TEMPLATE, {"form": AccountForm(), "adding": True})
    if request.POST.get("action") == "discover":
        return _discover(request)
    form = AccountForm(request.POST)
    return _save(request, form, account=None)


@allows_sign_in_forms
@sensitive_post_parameters("password", "smtp_password")
@login_required
@require_POST
def mail_account_discover(request: HttpRequest) -> HttpResponse:
    return _discover(request)


@allows_sign_in_forms
@sensitive_post_parameters("password", "smtp_password")
@login_required
@require_http_methods(["GET", "POST"])
def mail_account_edit(request: HttpRequest, account_id: int) -> HttpResponse:
    account = check_account_for_user(request.user, account_id)
    if request.method == "GET":
        form = AccountForm(initial=discovery.form_initial_from_account(account), editing=True)
        context = {"form": form, "account": account, "signed_in_with": _signed_in_with(account)}
        return render(request, TEMPLATE, context)
    form = AccountForm(request.POST, editing=True)
    return _save(request, form, account=account)


def _signed_in_with(account: MailAccount) -> str | None:
    """The provider's name when the account signs in with OAuth (no password to edit)."""
    grant = OAuthGrant.objects.filter(account=account).first()
    if grant is None:
        return None
    found = oauth.provider(grant.provider)
    return found.name if found else grant.provider


@login_required
@require_POST
def mail_account_test(request: HttpRequest, account_id: int) -> HttpResponse:
    account = check_account_for_user(request.user, account_id)
    try:
        report = connection.test_saved_account(request.user, account)
    except RateLimited as exc:
        report = connection.ConnectionReport.refused(str(exc))
    context = {"account": account, "report": report}
    if request.htmx:
        return render(request, "accounts/mail_accounts.html#test-result", context)
    return render(request, "accounts/mail_account_test.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def mail_account_delete(request: HttpRequest, account_id: int) -> HttpResponse:
    account = check_account_for_user(request.user, account_id)
    if request.method == "POST":
        removal = do_remove_account(account)
        if not removal.removed:
            messages.error(request, _still_sending(removal))
            return redirect("accounts:mail_account_delete", account.pk)
        messages.success(
            request, f"The account {account.email} was removed.{_cancelled(removal.cancelled)}"
        )
        return redirect("accounts:mail_accounts")
    context = {"account": account, "outbox": outbox_on_removal(account)}
    return render(request, "accounts/mail_account_delete.html", context)


def _cancelled(count: int) -> str:
    if not count:
        return ""
    return f" {count} waiting message{'s were' if count != 1 else ' was'} cancelled, not sent."


def _still_sending(removal: Removal) -> str:
    sending = "1 message is" if removal.on_its_way == 1 else f"{removal.on_its_way} messages are"
    return (
        f"The account was not removed: {sending} being sent right now. Try again in a moment."
        + _cancelled(removal.cancelled)
    )


# Shared steps ------------------------------------------------------------------------------


def _discover(request: HttpRequest) -> HttpResponse:
    """Fills in the server fields from the address (the password is not used)."""
    address = request.POST.get("email", "")
    try:
        found = discovery.discover_for_user(request.user, address)
    except RateLimited as exc:
        found = discovery.DiscoveryOutcome.failed(str(exc))
    form = AccountForm(initial=found.initial(request.POST))
    context = {"form": form, "adding": True, "discovery": found}
    if request.htmx:
        return render(request, f"{TEMPLATE}#server-settings", context)
    return render(request, TEMPLATE, context)


@sensitive_variables("incoming_password", "smtp_password", "incoming", "smtp")
def _save(request: HttpRequest, form: AccountForm, account: MailAccount | None) -> HttpResponse:
    """Validates, tests the connection for real, and saves only when both servers accept."""
    context = {
        "form": form,
        "account": account,
        "adding": account is None,
        "signed_in_with": _signed_in_with(account) if account else None,
    }
    if form.is_valid():
        values = form.account_settings()
        incoming_password = form.cleaned_data["password"] or None
        smtp_password = form.cleaned_data["smtp_password"] or incoming_password
        try:
            report = connection.test_settings(
                request.user, values, account, incoming_password, smtp_password
            )
        except RateLimited as exc:
            report = connection.ConnectionReport.refused(str(exc))
        context["report"] = report
        if report.ok:
            if account is None:
                incoming = Credentials(values.incoming_username, incoming_password or "")
                smtp = Credentials(values.smtp_username, smtp_password or "")
                account = do_create_account(request.user, values, incoming, smtp)
                messages.success(request, f"{account.email} is connected.")
            else:
                do_update_account(account, values, incoming_password, smtp_password)
                messages.success(request, f"The settings of {account.email} were saved.")
            target = reverse("accounts:mail_accounts")
            return HttpResponseClientRedirect(target) if request.htmx else redirect(target)
    if request.htmx:
        return render(request, f"{TEMPLATE}#result", context)
    return render(request, TEMPLATE, context)
