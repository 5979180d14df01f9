from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from media.views import accounts, security

urlpatterns = [
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", accounts.sign_out, name="logout"),
    path("admin/", admin.site.urls),
    path("csp-report/", security.csp_report, name="csp_report"),
    path("", include("media.urls")),
]
