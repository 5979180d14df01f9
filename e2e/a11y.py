"""Accessibility checks for the browser tests: axe-core (from axe-playwright-python) and the
focus, motion and reflow measurements that axe does not make."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

AXE = Axe()
# Every rule axe runs by default (WCAG 2.0 to 2.2 A and AA, and its best practices), plus
# target-size (WCAG 2.2 AA 2.5.8), which axe leaves off by default.
AXE_OPTIONS = {"resultTypes": ["violations"], "rules": {"target-size": {"enabled": True}}}
NARROW = {"width": 320, "height": 640}


def axe_violations(page: Page, options: dict | None = None) -> list[dict]:
    """Run axe-core on the page once its transitions end; its violations, as axe reports them."""
    # A theme switched under a live page fades its colours: axe must see where they end.
    page.evaluate(
        "() => { getComputedStyle(document.body).color;"
        " document.getAnimations().forEach(a => a.finish()); }"
    )
    return AXE.run(page, options=options or AXE_OPTIONS).response["violations"]


SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL | re.IGNORECASE)
NOSCRIPT_TAG = re.compile(r"</?noscript\b[^>]*>", re.IGNORECASE)


def show_in_twin(page: Page, twin: Page) -> None:
    """Show, in `twin` (a page with JavaScript on), the document that `page` (JavaScript off)
    shows: its DOM as it is, at its URL, without scripts and with <noscript> content shown.

    axe-core waits on timers, and a page without JavaScript never runs them, so axe checks
    the same markup and styles in a twin where it can run.
    """
    html = NOSCRIPT_TAG.sub("", SCRIPT.sub("", page.content()))
    url = page.url.split("#")[0]

    def this_page(candidate: str) -> bool:
        return candidate == url

    twin.route(
        this_page, lambda route: route.fulfill(status=200, content_type="text/html", body=html)
    )
    twin.goto(url)
    twin.unroute(this_page)


def describe(violations: list[dict]) -> str:
    """One line per violation (rule, impact, what it means) and one per failing node."""
    lines = []
    for violation in violations:
        lines.append(f"  {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            target = " > ".join(str(t) for t in node["target"])
            why = "; ".join(
                check["message"] for key in ("any", "all", "none") for check in node.get(key, [])
            )
            lines.append(f"    - {target}: {why}" if why else f"    - {target}")
    return "\n".join(lines)


@dataclass
class AxeLog:
    """The axe runs of one test: how many ran, and the violations of each page that had some."""

    runs: int = 0
    failures: list[str] = field(default_factory=list)

    def check(self, page: Page, label: str, options: dict | None = None) -> None:
        self.runs += 1
        violations = axe_violations(page, options)
        if violations:
            self.failures.append(f"{label} ({page.url}):\n{describe(violations)}")

    def assert_clean(self) -> None:
        assert not self.failures, (
            f"axe-core found violations on {len(self.failures)} of {self.runs} checks:\n"
            + "\n".join(self.failures)
        )


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than its viewport (0 or less: no sideways scroll)."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


FOCUS_RING = """
() => {
  const el = document.activeElement;
  // A card's link draws its ring on the card, which is the link's whole target.
  const ringed = el.closest(".card") || el;
  const style = getComputedStyle(ringed);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow !== "none";
  return {
    focusVisible: el.matches(":focus-visible"),
    ring: outline || shadow,
    outline: `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}`,
  };
}
"""


def focus_ring(page: Page) -> dict:
    """Whether the focused element matches :focus-visible and draws a ring (outline or shadow)."""
    return page.evaluate(FOCUS_RING)


ACTIVE = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {tag: "body"};
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    name: (el.getAttribute("aria-label") || el.textContent || el.value || "").trim(),
    role: el.getAttribute("role"),
    href: el.getAttribute("href"),
  };
}
"""


def active_element(page: Page) -> dict:
    """What `document.activeElement` is: tag, id, visible name, role and href."""
    return page.evaluate(ACTIVE)
