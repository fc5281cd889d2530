from django.urls import path

from accounts.views import auth, auth_preferences, auth_two_factor

urlpatterns = [
    path("login/", auth.LoginView.as_view(), name="login"),
    path("login/code/", auth.login_code, name="login_code"),
    path("logout/", auth.logout, name="logout"),
    path("signup/", auth.signup, name="signup"),
    path("password/change/", auth.password_change, name="password_change"),
    path("password/change/done/", auth.password_change_done, name="password_change_done"),
    path("password/reset/", auth.password_reset, name="password_reset"),
    path("password/reset/sent/", auth.password_reset_done, name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("password/reset/done/", auth.password_reset_complete, name="password_reset_complete"),
    path("two-factor/", auth_two_factor.two_factor_page, name="two_factor"),
    path("two-factor/enable/", auth_two_factor.two_factor_enable, name="two_factor_enable"),
    path("two-factor/disable/", auth_two_factor.two_factor_disable, name="two_factor_disable"),
    path("preferences/", auth_preferences.preferences, name="preferences"),
]
