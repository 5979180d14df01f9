"""Where browsers report what the Content-Security-Policy blocked (its report-uri)."""

from __future__ import annotations

import json
import logging
import threading
import time

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

logger = logging.getLogger("shelf.csp")

# A browser's report is well under 2 KB; anything much bigger is not one.
MAX_REPORT_BYTES = 16 * 1024
# The fields logged, as report-uri (application/csp-report) and the Reporting API name them.
FIELDS = (
    ("document-uri", "documentURL"),
    ("effective-directive", "effectiveDirective"),
    ("blocked-uri", "blockedURL"),
    ("source-file", "sourceFile"),
    ("line-number", "lineNumber"),
)


class LogBudget:
    """At most `per_minute` violations logged a minute in this process. Anyone may post a
    report, so a flood of them must not flood the log: what is over the budget is counted,
    and said in one line with the first report of a later minute."""

    def __init__(self, per_minute: int, clock=time.monotonic) -> None:
        self.per_minute, self._clock = per_minute, clock
        self._lock = threading.Lock()
        self._start, self._used, self._left_out = clock(), 0, 0

    def take(self) -> bool:
        """Whether one more violation may be logged now."""
        with self._lock:
            now = self._clock()
            if now - self._start >= 60:
                if self._left_out:
                    logger.warning(
                        "CSP violations: %d more were reported than the %d a minute logged",
                        self._left_out,
                        self.per_minute,
                    )
                self._start, self._used, self._left_out = now, 0, 0
            if self._used < self.per_minute:
                self._used += 1
                return True
            self._left_out += 1
            return False


BUDGET = LogBudget(per_minute=60)


def _violations(payload) -> list[dict]:
    """The violations in a report-uri body ({"csp-report": {...}}) or a Reporting API batch
    ([{"type": "csp-violation", "body": {...}}, ...])."""
    if isinstance(payload, dict) and isinstance(payload.get("csp-report"), dict):
        return [payload["csp-report"]]
    if isinstance(payload, list):
        return [
            entry["body"]
            for entry in payload
            if isinstance(entry, dict)
            and entry.get("type") == "csp-violation"
            and isinstance(entry.get("body"), dict)
        ]
    return []


@csrf_exempt  # browsers send reports without a token, and a report changes nothing
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    """Log each violation at WARNING (one line, fields quoted and cut short), answer 204."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_REPORT_BYTES:
        return HttpResponse("A CSP report is smaller than that.", status=413)
    try:
        violations = _violations(json.loads(request.body[:MAX_REPORT_BYTES]))
    except (ValueError, UnicodeDecodeError):
        violations = []
    if not violations:
        return HttpResponse("Expected a Content-Security-Policy violation report.", status=400)
    for violation in violations[:10]:
        if not BUDGET.take():
            continue
        facts = {old: str(violation.get(old, violation.get(new, "")))[:200] for old, new in FIELDS}
        logger.warning(
            "CSP violation: %(effective-directive)r blocked %(blocked-uri)r on "
            "%(document-uri)r (%(source-file)r line %(line-number)r)",
            facts,
        )
    return HttpResponse(status=204)
