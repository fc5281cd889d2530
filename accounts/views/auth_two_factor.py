"""Two-factor sign-in: the page, turning it on with a first code, turning it off."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts import two_factor
from accounts.forms_auth import TwoFactorEnableForm, TwoFactorTurnOffForm

TEMPLATE = "accounts/auth/two_factor.html"


@login_required
@require_GET
def two_factor_page(request: HttpRequest) -> HttpResponse:
    return _render(request)


@login_required
@require_POST
def two_factor_enable(request: HttpRequest) -> HttpResponse:
    if two_factor.confirmed_device(request.user):
        return redirect("accounts:two_factor")
    device = two_factor.setup_device(request.user)
    form = TwoFactorEnableForm(request.POST, device=device)
    if not form.is_valid():
        return _render(request, enable_form=form)
    two_factor.confirm_device(request, device)
    messages.success(request, "Two-factor sign-in is on: you will be asked for a code.")
    return redirect(_next_url(request) or "accounts:two_factor")


@login_required
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    device = two_factor.confirmed_device(request.user)
    if device is None:
        return redirect("accounts:two_factor")
    form = TwoFactorTurnOffForm(request.POST, user=request.user, device=device)
    if not form.is_valid():
        return _render(request, turn_off_form=form)
    two_factor.turn_off(request.user)
    messages.success(request, "Two-factor sign-in is off.")
    return redirect("accounts:two_factor")


def _render(
    request: HttpRequest,
    enable_form: TwoFactorEnableForm | None = None,
    turn_off_form: TwoFactorTurnOffForm | None = None,
) -> HttpResponse:
    user = request.user
    context: dict[str, object] = {"required": two_factor.is_required(user)}
    device = two_factor.confirmed_device(user)
    if device is not None:
        context["turn_off_form"] = turn_off_form or TwoFactorTurnOffForm(user=user, device=device)
    else:
        setup = two_factor.setup_device(user)
        context.update(
            secret=two_factor.secret_text(setup),
            qr_svg=two_factor.qr_svg(setup),
            enable_form=enable_form or TwoFactorEnableForm(device=setup),
            next=_next_url(request),
        )
    return render(request, TEMPLATE, context)


def _next_url(request: HttpRequest) -> str | None:
    url = request.POST.get("next") or request.GET.get("next")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None
