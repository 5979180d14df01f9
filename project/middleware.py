"""What every request goes through first (settings.MIDDLEWARE, right after SecurityMiddleware):
a body too large for any form of Shelf's is refused before it is read, and HEAD is answered as
GET would be, without the body."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

# A form's own fields and the multipart framing around the largest file Shelf takes.
FORM_OVERHEAD = 1024 * 1024


def largest_body() -> int:
    """The most bytes a request body may declare: the import's file, and its form around it."""
    from media.importing import MAX_UPLOAD  # the app is ready once middleware is built

    return MAX_UPLOAD + FORM_OVERHEAD


def refusal(status: int, title: str, message: str) -> HttpResponse:
    # Drawn without the request, like the 500 page: nothing (not even the session) is read yet.
    html = render_to_string("error.html", {"title": title, "message": message})
    return HttpResponse(html, status=status)


class RequestSizeMiddleware:
    """413 for a body declared larger than `largest_body()`, from its Content-Length alone, so
    that nothing is read or spooled to disk; 411 for a body of unknown length (chunked), which
    Django would never read; 400 for a Content-Length that is not a number."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.limit = largest_body()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH", "").strip()
        if declared:
            if not (declared.isascii() and declared.isdigit()):
                return refusal(400, "Bad request", "The request's Content-Length is not a number.")
            if int(declared) > self.limit:
                return refusal(
                    413,
                    "Too large",
                    f"Shelf takes requests of up to {self.limit // 1024 // 1024} MB, and this one "
                    f"is {int(declared) / 1024 / 1024:,.0f} MB. Imported files may be up to "
                    f"{(self.limit - FORM_OVERHEAD) // 1024 // 1024} MB: is it the right file?",
                )
        elif "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return refusal(
                411,
                "Length required",
                "Shelf needs to know the size of what is sent (a Content-Length header).",
            )
        return self.get_response(request)


class HeadAsGetMiddleware:
    """HEAD runs the page's GET and sends its status and headers, Content-Length included,
    without the body (RFC 9110, 9.3.2). Views need say nothing about HEAD: Django's method
    decorators, and every other middleware, see a GET. A streamed body is never produced."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "HEAD":
            return self.get_response(request)
        request.method = "GET"
        try:
            response = self.get_response(request)
        finally:
            request.method = "HEAD"
        if response.streaming:
            # The stream's source is closed with the response, never iterated.
            response.streaming_content = iter(())
        else:
            if not response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
            response.content = b""
        return response
