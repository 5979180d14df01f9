// Shelf as an app, where the browser can: (1) registers the service worker (/sw.js),
// (2) keeps a Save or Unsave pressed offline (IndexedDB), shows it as pending and sends it
// when the connection returns, (3) forgets this person's offline copies at sign-out,
// (4) lists the pages kept on this device on the offline page.
(function () {
  "use strict";

  var script = document.currentScript;
  var QUEUE_DB = "shelf-offline";
  var QUEUE_STORE = "presses";
  var PAGES_PREFIX = "shelf-pages-";
  var keyMeta = document.querySelector('meta[name="shelf-cache-key"]');
  // Whose page this is (an opaque key from the server); presses are sent only as that person.
  var userKey = keyMeta ? keyMeta.content : "";
  var signedIn = userKey !== "" && userKey !== "anonymous";
  function announce(text) {
    // The one live region and its timing belong to shelf.js, loaded (deferred) first.
    if (window.Shelf) window.Shelf.announce(text);
  }

  // The offline queue: one record per person and item, the newest press winning.

  var database = null;

  function openQueue() {
    if (!window.indexedDB) return Promise.reject(new Error("no IndexedDB"));
    if (database) return database;
    database = new Promise(function (resolve, reject) {
      var request = indexedDB.open(QUEUE_DB, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(QUEUE_STORE, { keyPath: "id" });
      };
      request.onsuccess = function () {
        var db = request.result;
        // Sign-out deletes the database: let it go instead of blocking that.
        db.onversionchange = function () {
          db.close();
          database = null;
        };
        resolve(db);
      };
      request.onerror = function () {
        database = null;
        reject(request.error);
      };
    });
    return database;
  }

  function inQueue(mode, work) {
    return openQueue().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(QUEUE_STORE, mode);
        var request = work(transaction.objectStore(QUEUE_STORE));
        transaction.oncomplete = function () {
          resolve(request ? request.result : undefined);
        };
        transaction.onerror = transaction.onabort = function () {
          reject(transaction.error);
        };
      });
    });
  }

  function myPresses() {
    return inQueue("readonly", function (store) {
      return store.getAll();
    }).then(function (records) {
      return records
        .filter(function (record) {
          return record.key === userKey;
        })
        .sort(function (a, b) {
          return a.pressed - b.pressed;
        });
    });
  }

  function pathOf(url) {
    return new URL(url, window.location.href).pathname;
  }

  function saveForms(path) {
    return Array.prototype.filter.call(document.querySelectorAll("form.save-form"), function (form) {
      return pathOf(form.action) === path;
    });
  }

  function showPending(form, intent) {
    var button = form.querySelector("button");
    form.dataset.pending = intent;
    if (!button) return;
    button.setAttribute("aria-disabled", "true");
    button.classList.add("button-pending");
    button.innerHTML =
      '<span class="icon" aria-hidden="true">\u21bb</span>Pending\u2026' +
      '<span class="visually-hidden"> ' +
      (intent === "save" ? "saved" : "removed") +
      " offline</span>";
  }

  function keep(form) {
    var intent = form.querySelector("input[name=intent]").value;
    var title = form.dataset.title || "";
    var path = pathOf(form.action);
    var record = {
      id: userKey + " " + path,
      key: userKey,
      url: path,
      fields: Array.from(new FormData(form).entries()),
      intent: intent,
      title: title,
      pressed: Date.now(),
    };
    return inQueue("readwrite", function (store) {
      return store.put(record);
    }).then(
      function () {
        saveForms(path).forEach(function (each) {
          showPending(each, intent);
        });
        announce(
          (intent === "save" ? "Saved " : "Removed ") +
            title +
            " offline: will sync when you're back online"
        );
      },
      function () {
        announce("You are offline, and this browser cannot keep the press for later.");
      }
    );
  }

  // Swap in the server's answer, as htmx would have: the button, and the tracking slot.
  function showAnswer(record, html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    var fresh = template.content.querySelector("form.save-form");
    var slot = template.content.querySelector(".tracking-slot[id]");
    saveForms(record.url).forEach(function (form) {
      if (!fresh) return;
      var focused = form.contains(document.activeElement);
      var replacement = fresh.cloneNode(true);
      form.replaceWith(replacement);
      if (window.htmx) window.htmx.process(replacement);
      if (focused && replacement.querySelector("button")) {
        replacement.querySelector("button").focus();
      }
    });
    var old = slot && document.getElementById(slot.id);
    if (old) {
      slot.removeAttribute("hx-swap-oob");
      old.replaceWith(slot);
      if (window.htmx) window.htmx.process(slot);
    }
  }

  function send(record) {
    // A fresh token from this page when it has one: a kept page's may be from an older session.
    var current = document.querySelector("input[name=csrfmiddlewaretoken]");
    var body = new URLSearchParams(record.fields);
    if (current) body.set("csrfmiddlewaretoken", current.value);
    return fetch(record.url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "HX-Request": "true" },
    }).then(function (response) {
      if (response.status >= 500) throw new Error("Shelf is unavailable; try later");
      var done = response.ok && !response.headers.get("HX-Redirect");
      return inQueue("readwrite", function (store) {
        return store.delete(record.id);
      })
        .then(function () {
          return done ? response.text() : null;
        })
        .then(function (html) {
          if (html !== null) {
            showAnswer(record, html);
            announce((record.intent === "save" ? "Saved " : "Removed ") + record.title);
          } else {
            // Refused (signed out, stale form, gone): nothing was changed, say so.
            saveForms(record.url).forEach(function (form) {
              var button = form.querySelector("button");
              delete form.dataset.pending;
              if (!button) return;
              button.removeAttribute("aria-disabled");
              button.classList.remove("button-pending");
              button.textContent = "Not sent: try again";
            });
            announce("Could not sync " + record.title + ". Reload the page and try again.");
          }
        });
    });
  }

  var sending = null;

  // Sends this person's kept presses in order; stops at the first network failure.
  function sendKept() {
    if (!signedIn || sending) return sending;
    sending = myPresses()
      .then(function (records) {
        return records.reduce(function (previous, record) {
          return previous.then(function () {
            return send(record);
          });
        }, Promise.resolve());
      })
      .catch(function () {
        // Still offline, or the server is down: they stay kept for the next try.
      })
      .then(function () {
        sending = null;
      });
    return sending;
  }

  // Runs before htmx's own listener on the form, so htmx never sends a press made offline.
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (script && pathOf(form.action) === script.dataset.signOut) {
        forgetOfflineCopies();
        return;
      }
      if (!form.matches("form.save-form")) return;
      if (form.dataset.pending) {
        event.preventDefault();
        event.stopPropagation();
        announce("Still waiting to sync " + (form.dataset.title || "") + ".");
        return;
      }
      if (navigator.onLine || !signedIn) return;
      event.preventDefault();
      event.stopPropagation();
      keep(form);
    },
    true
  );

  function forgetOfflineCopies() {
    // The server's Clear-Site-Data does this too; this covers browsers that ignore it.
    var worker = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (worker) worker.postMessage({ type: "sign-out", queue: QUEUE_DB });
    if (window.caches) {
      caches.keys().then(function (names) {
        names.forEach(function (name) {
          if (name.indexOf(PAGES_PREFIX) === 0) caches.delete(name);
        });
      });
    }
  }

  window.addEventListener("online", sendKept);

  if (signedIn && window.indexedDB) {
    myPresses()
      .then(function (records) {
        records.forEach(function (record) {
          saveForms(record.url).forEach(function (form) {
            showPending(form, record.intent);
          });
        });
        if (navigator.onLine) sendKept();
      })
      .catch(function () {});
  }

  // The offline page: link to every page kept for the person using the device.
  var kept = document.getElementById("kept-pages");
  if (kept && window.caches) {
    caches
      .keys()
      .then(function (names) {
        var pages = names.filter(function (name) {
          return name.indexOf(PAGES_PREFIX) === 0;
        });
        return Promise.all(
          pages.map(function (name) {
            return caches.open(name).then(function (cache) {
              return cache.keys().then(function (requests) {
                return Promise.all(
                  requests.map(function (request) {
                    return cache
                      .match(request)
                      .then(function (response) {
                        return response.text();
                      })
                      .then(function (html) {
                        var doc = new DOMParser().parseFromString(html, "text/html");
                        return { url: request.url, title: doc.title.replace(/ · Shelf$/, "") };
                      });
                  })
                );
              });
            });
          })
        );
      })
      .then(function (lists) {
        var list = kept.querySelector("ul");
        [].concat.apply([], lists).forEach(function (page) {
          var item = document.createElement("li");
          var link = document.createElement("a");
          link.href = page.url;
          link.textContent = page.title || pathOf(page.url);
          item.appendChild(link);
          list.appendChild(item);
        });
        kept.hidden = list.children.length === 0;
      })
      .catch(function () {});
  }

  if ("serviceWorker" in navigator && script && script.dataset.serviceWorker) {
    window.addEventListener("load", function () {
      navigator.serviceWorker
        .register(script.dataset.serviceWorker)
        .then(function (registration) {
          // A page whose load began while the worker was installing is not claimed by it.
          if (!navigator.serviceWorker.controller && registration.active) {
            registration.active.postMessage({ type: "claim" });
          }
        })
        .catch(function (error) {
          console.warn("Shelf works online only: the service worker did not register.", error);
        });
    });
  }
})();
