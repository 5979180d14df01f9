from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from media.views import accounts, security

urlpatterns = [
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", accounts.sign_out, name="logout"),
    # The account page, and Django's password views with Shelf's templates (registration/).
    path("accounts/", accounts.account, name="account"),
    path("accounts/delete/", accounts.delete, name="account_delete"),
    path("accounts/password/", accounts.PasswordChange.as_view(), name="password_change"),
    path(
        "accounts/password/changed/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/password/reset/", accounts.PasswordReset.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirm.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
    path("csp-report/", security.csp_report, name="csp_report"),
    path("", include("media.urls")),
]
