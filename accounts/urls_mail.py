from django.urls import path

from accounts.views import identities, mail_accounts, oauth

urlpatterns = [
    path("accounts/", mail_accounts.mail_accounts, name="mail_accounts"),
    path("accounts/add/", mail_accounts.mail_account_add, name="mail_account_add"),
    path("accounts/discover/", mail_accounts.mail_account_discover, name="mail_account_discover"),
    # OAuth sign-in; the callback's URL is the redirect URI registered at each provider.
    path("accounts/oauth/start/", oauth.oauth_start, name="oauth_start"),
    path("accounts/oauth/callback/", oauth.oauth_callback, name="oauth_callback"),
    path("accounts/<int:account_id>/", mail_accounts.mail_account_edit, name="mail_account_edit"),
    path(
        "accounts/<int:account_id>/test/", mail_accounts.mail_account_test, name="mail_account_test"
    ),
    path(
        "accounts/<int:account_id>/delete/",
        mail_accounts.mail_account_delete,
        name="mail_account_delete",
    ),
    path("accounts/<int:account_id>/identities/add/", identities.identity_add, name="identity_add"),
    path("identities/<int:identity_id>/", identities.identity_edit, name="identity_edit"),
    path(
        "identities/<int:identity_id>/delete/", identities.identity_delete, name="identity_delete"
    ),
]
