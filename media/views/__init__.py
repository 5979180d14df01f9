"""Shelf's views, one module per concern: `pages` (what people browse), `saving` (the save,
unsave, undo and tracking endpoints), `pwa` (what makes Shelf an installable app that works
offline) and `accounts` (sign up, sign out). Function views, one per URL."""
