"""Signing in and out, the two-factor code step, sign-up, and passwords (Django's views with
our templates and forms)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from accounts import sign_in
from accounts.forms_auth import (
    SignInCodeForm,
    SignInForm,
    SignUpForm,
    SiteUrlPasswordResetForm,
)

TEMPLATES = "accounts/auth"


class LoginView(auth_views.LoginView):
    """The password step; a person with a two-factor device goes on to the code step."""

    form_class = SignInForm
    template_name = f"{TEMPLATES}/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: SignInForm) -> HttpResponse:
        user, next_url = form.get_user(), self.get_success_url()
        if sign_in.needs_code(user):
            sign_in.begin_code_step(self.request, user, next_url)
            return redirect("accounts:login_code")
        response = redirect(next_url)
        sign_in.complete(self.request, response, user)
        return response

    def get_context_data(self, **kwargs: object) -> dict:
        return {**super().get_context_data(**kwargs), "open_signup": settings.ACCOUNTS_OPEN_SIGNUP}


@never_cache
@csrf_protect
def login_code(request: HttpRequest) -> HttpResponse:
    pending = sign_in.pending(request)
    if pending is None:
        messages.info(
            request, "Please sign in with your password first (again, if it was a while ago)."
        )
        return redirect("accounts:login")
    form = SignInCodeForm(request.POST or None, request=request, pending=pending)
    if request.method == "POST" and form.is_valid():
        response = redirect(pending.next_url)
        sign_in.complete(
            request, response, pending.user, backend=pending.backend, device=pending.device
        )
        return response
    return render(request, f"{TEMPLATES}/login_code.html", {"form": form})


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    messages.success(request, "You are signed out.")
    return redirect(settings.LOGOUT_REDIRECT_URL)


@never_cache
@csrf_protect
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.ACCOUNTS_OPEN_SIGNUP:
        raise Http404("Sign-up is closed.")
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        response = redirect(settings.LOGIN_REDIRECT_URL)
        sign_in.complete(request, response, user, backend=sign_in.MODEL_BACKEND)
        messages.success(request, "Welcome! Your account is ready.")
        return response
    return render(request, f"{TEMPLATES}/signup.html", {"form": form})


password_change = auth_views.PasswordChangeView.as_view(
    template_name=f"{TEMPLATES}/password_change.html",
    success_url=reverse_lazy("accounts:password_change_done"),
)
password_change_done = auth_views.PasswordChangeDoneView.as_view(
    template_name=f"{TEMPLATES}/password_change_done.html"
)


class PasswordResetView(auth_views.PasswordResetView):
    """Sends the reset link, through the operator's SMTP server (EMAIL_URL)."""

    form_class = SiteUrlPasswordResetForm
    template_name = f"{TEMPLATES}/password_reset.html"
    email_template_name = f"{TEMPLATES}/password_reset_email.txt"
    subject_template_name = f"{TEMPLATES}/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not settings.EMAIL_IS_CONFIGURED:
            return render(request, f"{TEMPLATES}/password_reset_unavailable.html")
        return super().dispatch(request, *args, **kwargs)


password_reset = PasswordResetView.as_view()
password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name=f"{TEMPLATES}/password_reset_done.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name=f"{TEMPLATES}/password_reset_confirm.html",
    success_url=reverse_lazy("accounts:password_reset_complete"),
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name=f"{TEMPLATES}/password_reset_complete.html"
)
