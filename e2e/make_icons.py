"""Draw Shelf's app icons (PNG) from static/icons/shelf.svg with Chromium.

Run once after changing the SVG, and commit the PNGs:
    .venv/bin/python e2e/make_icons.py
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

from playwright.sync_api import sync_playwright

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"
SVG_NS = "http://www.w3.org/2000/svg"
CHROMIUM = Path(os.environ.get("CHROMIUM") or "/usr/bin/chromium")
# Maskable icons are cut to a circle of 80% of their width: the drawing must fit inside.
MASKABLE_SCALE = 0.72


def maskable(svg: str) -> str:
    """The same drawing on a full-bleed square, shrunk into the maskable safe zone."""
    ET.register_namespace("", SVG_NS)
    root = ET.fromstring(svg)
    background, *drawing = list(root)
    for child in list(root):
        root.remove(child)
    ET.SubElement(root, f"{{{SVG_NS}}}rect", width="64", height="64", fill=background.get("fill"))
    group = ET.SubElement(
        root,
        f"{{{SVG_NS}}}g",
        transform=f"translate(32 32) scale({MASKABLE_SCALE}) translate(-32 -31.5)",
    )
    group.extend(drawing)
    return ET.tostring(root, encoding="unicode")


def render(page, svg: str, size: int, path: Path) -> None:
    page.set_viewport_size({"width": size, "height": size})
    sized = svg.replace("<svg ", f'<svg width="{size}" height="{size}" ', 1)
    page.set_content(f'<body style="margin:0">{sized}</body>')
    page.locator("svg").screenshot(path=str(path), omit_background=True)
    print(f"{path.relative_to(ICONS.parent.parent)} {size}x{size}")


def main() -> None:
    svg = (ICONS / "shelf.svg").read_text()
    full_bleed = maskable(svg)
    with sync_playwright() as playwright:
        launch = {"executable_path": str(CHROMIUM)} if CHROMIUM.exists() else {}
        browser = playwright.chromium.launch(args=["--no-sandbox", "--disable-gpu"], **launch)
        page = browser.new_page(device_scale_factor=1)
        render(page, svg, 192, ICONS / "shelf-192.png")
        render(page, svg, 512, ICONS / "shelf-512.png")
        render(page, full_bleed, 192, ICONS / "shelf-maskable-192.png")
        render(page, full_bleed, 512, ICONS / "shelf-maskable-512.png")
        # iOS rounds the corners itself and shows transparency as black.
        render(page, full_bleed, 180, ICONS / "apple-touch-icon.png")
        browser.close()


if __name__ == "__main__":
    main()
