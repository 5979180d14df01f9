// Shelf as an app, where the browser can: registers the service worker (this script's
// data-service-worker), and at sign-out (a submit to data-sign-out) has this person's
// offline copies forgotten: the kept pages and the offline queue.
"use strict";

{
  const Shelf = window.Shelf;
  const script = document.currentScript;
  // The worker keeps pages in caches named so (media/sw.js); the offline page lists them.
  Shelf.PAGES_PREFIX = "shelf-pages-";
  // ...and the posters those pages showed, per person too.
  const POSTERS_PREFIX = "shelf-posters-";

  const forgetOfflineCopies = async () => {
    // The server's Clear-Site-Data does this too; this covers browsers that ignore it.
    navigator.serviceWorker?.controller?.postMessage({
      type: "sign-out",
      queue: Shelf.offlineQueue?.database,
    });
    if (!window.caches) return;
    for (const name of await caches.keys()) {
      if (name.startsWith(Shelf.PAGES_PREFIX) || name.startsWith(POSTERS_PREFIX)) {
        caches.delete(name);
      }
    }
  };

  document.addEventListener(
    "submit",
    (event) => {
      const path = new URL(event.target.action, location.href).pathname;
      if (script && path === script.dataset.signOut) forgetOfflineCopies();
    },
    true,
  );

  if ("serviceWorker" in navigator && script?.dataset.serviceWorker) {
    addEventListener("load", async () => {
      try {
        const registration = await navigator.serviceWorker.register(script.dataset.serviceWorker);
        // A page whose load began while the worker was installing is not claimed by it.
        if (!navigator.serviceWorker.controller && registration.active) {
          registration.active.postMessage({ type: "claim" });
        }
      } catch (error) {
        console.warn("Shelf works online only: the service worker did not register.", error);
      }
    });
  }
}
