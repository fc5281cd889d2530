"""The identities (From name, address, reply-to, signature) of a person's accounts."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.forms_mail import IdentityForm
from accounts.models import Identity
from accounts.services.identities import do_delete_identity, do_save_identity
from accounts.services.mail_accounts import check_account_for_user, check_identity_for_user

TEMPLATE = "accounts/mail_identity_form.html"


@login_required
@require_http_methods(["GET", "POST"])
def identity_add(request: HttpRequest, account_id: int) -> HttpResponse:
    account = check_account_for_user(request.user, account_id)
    form = IdentityForm(request.POST or None, instance=Identity(account=account))
    if request.method == "POST" and form.is_valid():
        identity = do_save_identity(form.instance)
        messages.success(request, f"You can now send as {identity}.")
        return redirect("accounts:mail_account_edit", account_id=account.pk)
    return render(request, TEMPLATE, {"form": form, "account": account})


@login_required
@require_http_methods(["GET", "POST"])
def identity_edit(request: HttpRequest, identity_id: int) -> HttpResponse:
    identity = check_identity_for_user(request.user, identity_id)
    form = IdentityForm(request.POST or None, instance=identity)
    if request.method == "POST" and form.is_valid():
        do_save_identity(form.instance)
        messages.success(request, "The identity was saved.")
        return redirect("accounts:mail_account_edit", account_id=identity.account_id)
    return render(
        request, TEMPLATE, {"form": form, "account": identity.account, "identity": identity}
    )


@login_required
@require_http_methods(["GET", "POST"])
def identity_delete(request: HttpRequest, identity_id: int) -> HttpResponse:
    identity = check_identity_for_user(request.user, identity_id)
    if request.method == "POST":
        if do_delete_identity(identity):
            messages.success(request, f"{identity} was removed.")
        else:
            messages.error(request, "An account keeps at least one identity.")
        return redirect("accounts:mail_account_edit", account_id=identity.account_id)
    return render(request, "accounts/mail_identity_delete.html", {"identity": identity})
