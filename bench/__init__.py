"""Shelf's benchmark harness (`make bench`), kept apart from the product it measures.

Loaded only with its own settings (`bench.settings`) and by its tests; nothing under
`media/` or `project/` imports it. `loadfault.py` (`make loadfault`) is a script of its own that
runs the product with the product's settings.
"""

from __future__ import annotations
