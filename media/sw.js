// Shelf's service worker (served by media.views.pwa.service_worker at /sw.js, scope "/").
// Static files: precached on install, then cache first. Pages: network first, each kept
// in a cache named by the person it was drawn for; offline, the kept copy (only until the
// session it was drawn for ends) or the offline page. Posters (images from the poster hosts,
// and Shelf's own images that are not precached): cache first, kept per person like pages, at
// most CONFIG.maxPosters of them.
// Anything but GET goes to the network untouched.
//
// The view serves this file after two lines of its own: "use strict"; and
// const CONFIG = {version, precache, offlineUrl, keyHeader, endsHeader, anonymousKey,
// neverKept, posterHosts, maxPosters}; (JSON).
/* global CONFIG */
// The version changes with every static file and with this file: a deploy that changes either
// makes a new worker, which starts with new caches.
const STATIC_CACHE = "shelf-static-" + CONFIG.version;
const PAGES_PREFIX = "shelf-pages-" + CONFIG.version + "-";
const PRECACHED = new Set(CONFIG.precache.map((url) => new URL(url, self.location).href));
const OFFLINE_PAGE = new URL(CONFIG.offlineUrl, self.location).href;
// Unversioned: a poster does not change with a deploy. Named by the person, like pages.
const POSTERS_PREFIX = "shelf-posters-";
const POSTER_HOSTS = new Set(CONFIG.posterHosts);
let currentKey = null; // whose pages were drawn last: their posters are kept for them

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
          name.startsWith("shelf-") &&
          name !== STATIC_CACHE &&
          !name.startsWith(PAGES_PREFIX) &&
          !name.startsWith(POSTERS_PREFIX),
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
  if (isPoster(request, url)) {
    event.respondWith(posterFirst(event));
    return;
  }
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
    currentKey = null;
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
    await forgetEnded();
    return (
      (await keptCopy(request.url)) ||
      (await caches.match(OFFLINE_PAGE, { cacheName: STATIC_CACHE })) ||
      Response.error()
    );
  }
  const key = response.headers.get(CONFIG.keyHeader);
  if (key) {
    currentKey = key;
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

// When the session a cache of pages was drawn for ends, in ms since the epoch: the latest end
// its pages gave (each page carries its own, and an end only moves later); never for pages drawn
// for nobody, and already past for a signed-in person's pages that do not say.
async function sessionEnd(cache, key) {
  if (key === CONFIG.anonymousKey) return Infinity;
  let end = 0;
  for (const response of await cache.matchAll()) {
    end = Math.max(end, 1000 * Number(response.headers.get(CONFIG.endsHeader)) || 0);
  }
  return end;
}

// The kept pages and posters of a person whose session has ended (it expired: a sign-out
// clears them itself) are deleted, so whoever uses the device next never sees them.
async function forgetEnded() {
  const names = (await caches.keys()).filter((name) => name.startsWith(PAGES_PREFIX));
  for (const name of names) {
    const key = name.slice(PAGES_PREFIX.length);
    if ((await sessionEnd(await caches.open(name), key)) > Date.now()) continue;
    if (currentKey === key) currentKey = null;
    await Promise.all([caches.delete(name), caches.delete(POSTERS_PREFIX + key)]);
  }
}

// Another person's kept pages and posters, or everyone's (except null): deleted.
async function forgetPages(except) {
  const keep = except && except.slice(PAGES_PREFIX.length);
  const names = (await caches.keys()).filter(
    (name) =>
      (name.startsWith("shelf-pages-") && name !== except) ||
      (name.startsWith(POSTERS_PREFIX) && name !== POSTERS_PREFIX + keep),
  );
  await Promise.all(names.map((name) => caches.delete(name)));
}

// A poster: an image from a poster host, or one of Shelf's own that is not precached.
function isPoster(request, url) {
  if (request.destination !== "image" || PRECACHED.has(url.href)) return false;
  return url.origin === self.location.origin || POSTER_HOSTS.has(url.hostname);
}

// Whose posters these are: the person of the last page drawn, or of the pages kept.
async function posterKey() {
  if (currentKey) return currentKey;
  const kept = (await caches.keys()).find((name) => name.startsWith(PAGES_PREFIX));
  return kept ? kept.slice(PAGES_PREFIX.length) : null;
}

async function posterFirst(event) {
  const request = event.request;
  const key = await posterKey();
  const cache = key && (await caches.open(POSTERS_PREFIX + key));
  const hit = cache && (await cache.match(request, { ignoreVary: true }));
  if (hit) return hit;
  const response = await fetch(request);
  // A cross-site image without CORS is opaque (its status unreadable): kept all the same.
  if (cache && (response.ok || response.type === "opaque")) {
    event.waitUntil(
      cache.put(request, response.clone()).then(() => trim(cache, CONFIG.maxPosters)),
    );
  }
  return response;
}

// The oldest posters go first once there are more than `limit`.
async function trim(cache, limit) {
  const keys = await cache.keys();
  await Promise.all(keys.slice(0, Math.max(0, keys.length - limit)).map((k) => cache.delete(k)));
}

function deleteDatabase(name) {
  return new Promise((resolve) => {
    if (!name) return resolve();
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
}
