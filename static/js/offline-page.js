// The offline page: links to every page the service worker kept for the person using the
// device, titled as the pages are.
"use strict";

{
  const kept = document.getElementById("kept-pages");
  const { PAGES_PREFIX } = window.Shelf;

  // Each kept page as {url, title}, read from the caches of kept pages.
  const keptPages = async () => {
    const pages = [];
    for (const name of await caches.keys()) {
      if (!name.startsWith(PAGES_PREFIX)) continue;
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        const html = await (await cache.match(request)).text();
        const doc = new DOMParser().parseFromString(html, "text/html");
        pages.push({ url: request.url, title: doc.title.replace(/ · Shelf$/, "") });
      }
    }
    return pages;
  };

  if (kept && window.caches) {
    (async () => {
      try {
        const list = kept.querySelector("ul");
        for (const page of await keptPages()) {
          const item = document.createElement("li");
          const link = document.createElement("a");
          link.href = page.url;
          link.textContent = page.title || new URL(page.url).pathname;
          item.append(link);
          list.append(item);
        }
        kept.hidden = list.children.length === 0;
      } catch {
        // Cache Storage unreadable: the page still says what it can.
      }
    })();
  }
}
