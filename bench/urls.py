"""The product's URLs, with the bench's floor view beside them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def floor(request: HttpRequest) -> HttpResponse:
    """The least a page can do: go through the middleware and load the session's user."""
    return HttpResponse(str(request.user.pk))


urlpatterns = [path("bench/floor/", floor), path("", include("project.urls"))]
