// Shelf's service worker (served by media.views.pwa.service_worker at /sw.js, scope "/").
// Static files: precached on install, then cache first. Pages: network first, each kept
// in a cache named by the person it was drawn for; offline, the kept copy or the
// offline page. Anything but GET goes to the network untouched.
//
// The view serves this file after two lines of its own: "use strict"; and
// const CONFIG = {version, precache, offlineUrl, keyHeader, neverKept}; (JSON).
/* global CONFIG */
// The version changes with every static file and with this file: a deploy that changes either
// makes a new worker, which starts with new caches.
const STATIC_CACHE = "shelf-static-" + CONFIG.version;
const PAGES_PREFIX = "shelf-pages-" + CONFIG.version + "-";
const PRECACHED = new Set(CONFIG.precache.map((url) => new URL(url, self.location).href));
const OFFLINE_PAGE = new URL(CONFIG.offlineUrl, self.location).href;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(STATIC_CACHE)
      .then((cache) =>
        // "reload" skips the HTTP cache, so an unhashed file is not precached stale.
        cache.addAll(
          [...CONFIG.precache, CONFIG.offlineUrl].map((url) => new Request(url, { cache: "reload" })),
        ),
      )
      // Pages never reload themselves when a new worker takes over, so there is no loop.
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      // Kept pages go too: they name the old hashed files, which this version no longer has.
      const names = await caches.keys();
      const stale = names.filter(
        (name) =>
          name.startsWith("shelf-") && name !== STATIC_CACHE && !name.startsWith(PAGES_PREFIX),
      );
      await Promise.all(stale.map((name) => caches.delete(name)));
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return; // a POST is always the network's to answer
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    if (CONFIG.neverKept.some((prefix) => url.pathname.startsWith(prefix))) return;
    event.respondWith(networkFirst(event));
  } else if (PRECACHED.has(url.href)) {
    event.respondWith(cacheFirst(request));
  }
  // htmx fragments and anything else: the browser fetches them as if there were no worker.
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "claim") event.waitUntil(self.clients.claim());
  if (event.data && event.data.type === "sign-out") {
    event.waitUntil(Promise.all([forgetPages(null), deleteDatabase(event.data.queue)]));
  }
});

async function cacheFirst(request) {
  const hit = await caches.match(request, { cacheName: STATIC_CACHE, ignoreVary: true });
  return hit || fetch(request);
}

async function networkFirst(event) {
  const request = event.request;
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    return (
      (await keptCopy(request.url)) ||
      (await caches.match(OFFLINE_PAGE, { cacheName: STATIC_CACHE })) ||
      Response.error()
    );
  }
  const key = response.headers.get(CONFIG.keyHeader);
  if (key) {
    event.waitUntil(keep(request.url, response.status === 200 ? response.clone() : null, key));
  }
  return response;
}

// A page is kept only beside pages of the same person: another person's are deleted first.
async function keep(url, response, key) {
  const name = PAGES_PREFIX + key;
  await forgetPages(name);
  if (response && response.type === "basic" && url !== OFFLINE_PAGE) {
    const cache = await caches.open(name);
    await cache.put(url, response);
  }
}

async function keptCopy(url) {
  const names = (await caches.keys()).filter((name) => name.startsWith(PAGES_PREFIX));
  for (const name of names) {
    const cache = await caches.open(name);
    const hit = await cache.match(url, { ignoreVary: true });
    if (hit) return hit;
  }
  return null;
}

async function forgetPages(except) {
  const names = (await caches.keys()).filter(
    (name) => name.startsWith("shelf-pages-") && name !== except,
  );
  await Promise.all(names.map((name) => caches.delete(name)));
}

function deleteDatabase(name) {
  return new Promise((resolve) => {
    if (!name) return resolve();
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
}
