// The offline queue, for forms marked data-offline-queue, whose buttons say what a press does
// (name="intent" value="save", data-done="saved"), with data-title="<what it acts on>". A press made offline is
// kept in IndexedDB (one record per person and form action, the newest press winning) and its
// button shows "Pending…"; it is sent, in order and with a fresh CSRF token, when the connection
// returns or the next page opens online, and the answer's elements then replace the page's
// elements of the same ids. A press the server refuses is dropped and reported.
"use strict";

{
  const Shelf = window.Shelf;
  const { announce } = Shelf;
  const QUEUE_DB = "shelf-offline";
  const QUEUE_STORE = "presses";
  const QUEUED = "form[data-offline-queue]";
  // Whose page this is (an opaque key from the server); presses are sent only as that person.
  const userKey = document.querySelector('meta[name="shelf-cache-key"]')?.content ?? "";
  const signedIn = userKey !== "" && userKey !== "anonymous";
  // Sign-out tells the service worker to delete this database too.
  Shelf.offlineQueue = { database: QUEUE_DB };

  const capitalized = (text) => text.charAt(0).toUpperCase() + text.slice(1);
  const pathOf = (url) => new URL(url, location.href).pathname;
  // Forms of this page that post to `path` and may be kept offline.
  const queuedForms = (path) =>
    [...document.querySelectorAll(QUEUED)].filter((form) => pathOf(form.action) === path);

  let database = null;

  const openQueue = () => {
    if (!window.indexedDB) return Promise.reject(new Error("no IndexedDB"));
    database ??= new Promise((resolve, reject) => {
      const request = indexedDB.open(QUEUE_DB, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore(QUEUE_STORE, { keyPath: "id" });
      };
      request.onsuccess = () => {
        const db = request.result;
        // Sign-out deletes the database: let it go instead of blocking that.
        db.onversionchange = () => {
          db.close();
          database = null;
        };
        resolve(db);
      };
      request.onerror = () => {
        database = null;
        reject(request.error);
      };
    });
    return database;
  };

  const inQueue = async (mode, work) => {
    const db = await openQueue();
    return new Promise((resolve, reject) => {
      const transaction = db.transaction(QUEUE_STORE, mode);
      const request = work(transaction.objectStore(QUEUE_STORE));
      transaction.oncomplete = () => resolve(request?.result);
      transaction.onerror = transaction.onabort = () => reject(transaction.error);
    });
  };

  const myPresses = async () => {
    const records = await inQueue("readonly", (store) => store.getAll());
    return records.filter((record) => record.key === userKey).sort((a, b) => a.pressed - b.pressed);
  };

  // What the press does, in the past tense ("saved"); a record kept by the older pwa.js has none.
  const doneOf = (record) => record.done ?? (record.intent === "save" ? "saved" : "removed");

  // The button of a form that says what a press does: its submit button with a name (Save,
  // Undo: one form can hold both), or the form's only button.
  const intentOf = (button) => button?.value || "";
  const buttonsOf = (form) => [...form.querySelectorAll("button")];

  // The buttons of this page a record was pressed with: same action, same intent (Save and
  // its Undo post to one URL, and the newest of the two presses is the one kept).
  const pressedButtons = (record) =>
    queuedForms(record.url).flatMap((form) =>
      buttonsOf(form).filter(
        (button) => intentOf(button) === record.intent || buttonsOf(form).length === 1,
      ),
    );

  const clearPending = (form) => {
    delete form.dataset.pending;
    for (const button of buttonsOf(form)) {
      if (!button.dataset.label) continue;
      button.removeAttribute("aria-disabled");
      button.classList.remove("button-pending");
      button.innerHTML = button.dataset.label;
      delete button.dataset.label;
    }
  };

  const showPending = (button, done) => {
    button.form.dataset.pending = done; // the form sends nothing more until it is sent
    button.dataset.label ??= button.innerHTML;
    button.setAttribute("aria-disabled", "true");
    button.classList.add("button-pending");
    button.innerHTML =
      '<span class="icon" aria-hidden="true">\u21bb</span>Pending\u2026' +
      `<span class="visually-hidden"> ${done} offline</span>`;
  };

  const keep = async (form, submitter) => {
    const path = pathOf(form.action);
    const button = submitter ?? buttonsOf(form)[0];
    const record = {
      id: `${userKey} ${path}`,
      key: userKey,
      url: path,
      fields: [...new FormData(form, button?.name ? button : null).entries()],
      intent: intentOf(button),
      done: button?.dataset.done ?? form.dataset.offlineQueue,
      title: form.dataset.title ?? "",
      pressed: Date.now(),
    };
    try {
      await inQueue("readwrite", (store) => store.put(record));
    } catch {
      announce("You are offline, and this browser cannot keep the press for later.");
      return;
    }
    for (const each of queuedForms(path)) clearPending(each); // an earlier press is replaced
    for (const each of pressedButtons(record)) showPending(each, record.done);
    announce(
      `${capitalized(record.done)} ${record.title} offline: will sync when you're back online`,
    );
  };

  // Swap in the server's answer, as htmx would have: each of its elements replaces the page's
  // element of the same id (the button's control, and what it swaps out of band).
  const showAnswer = (html) => {
    const template = document.createElement("template");
    template.innerHTML = html;
    const news = template.content.querySelector("[data-announce]")?.dataset.announce;
    for (const fresh of [...template.content.children]) {
      const old = fresh.id && document.getElementById(fresh.id);
      if (!old) continue;
      const focused = old.contains(document.activeElement);
      fresh.removeAttribute("hx-swap-oob");
      old.replaceWith(fresh);
      window.htmx?.process(fresh);
      if (focused) fresh.querySelector("button")?.focus();
    }
    return news;
  };

  const showRefused = (record) => {
    for (const button of pressedButtons(record)) {
      clearPending(button.form);
      button.textContent = "Not sent: try again";
    }
  };

  const send = async (record) => {
    // A fresh token from this page when it has one: a kept page's may be from an older session.
    const current = document.querySelector("input[name=csrfmiddlewaretoken]");
    const body = new URLSearchParams(record.fields);
    if (current) body.set("csrfmiddlewaretoken", current.value);
    const response = await fetch(record.url, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { "HX-Request": "true" },
    });
    if (response.status >= 500) throw new Error("Shelf is unavailable; try later");
    const done = response.ok && !response.headers.get("HX-Redirect");
    await inQueue("readwrite", (store) => store.delete(record.id));
    if (done) {
      const news = showAnswer(await response.text());
      announce(news ?? `${capitalized(doneOf(record))} ${record.title}`);
    } else {
      // Refused (signed out, stale form, gone): nothing was changed, say so.
      showRefused(record);
      announce(`Could not sync ${record.title}. Reload the page and try again.`);
    }
  };

  let sending = null;

  // Sends this person's kept presses in order; stops at the first network failure.
  const sendKept = () => {
    if (!signedIn || sending) return sending;
    sending = (async () => {
      try {
        for (const record of await myPresses()) await send(record);
      } catch {
        // Still offline, or the server is down: they stay kept for the next try.
      } finally {
        sending = null;
      }
    })();
    return sending;
  };

  // Runs before htmx's own listener on the form, so htmx never sends a press made offline.
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (!form.matches(QUEUED)) return;
      if (form.dataset.pending) {
        event.preventDefault();
        event.stopPropagation();
        announce(`Still waiting to sync ${form.dataset.title ?? ""}.`);
        return;
      }
      if (navigator.onLine || !signedIn) return;
      event.preventDefault();
      event.stopPropagation();
      keep(form, event.submitter);
    },
    true,
  );

  addEventListener("online", sendKept);

  if (signedIn && window.indexedDB) {
    (async () => {
      try {
        for (const record of await myPresses()) {
          for (const button of pressedButtons(record)) showPending(button, doneOf(record));
        }
        if (navigator.onLine) sendKept();
      } catch {
        // No queue on this device (private mode, storage refused): presses go online only.
      }
    })();
  }
}
