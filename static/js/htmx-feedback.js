// What an htmx answer means for the person pressing. Pages work without it; with htmx it
// (1) says in the live region what a Save, Unsave, Undo or tracking edit did (the server's
//     words from the answer's data-announce, with Undo beside a removal; for an edit, what the
//     panel now shows: "Updated Cowboy Bebop: 4 of 26 episodes, in progress"),
// (2) puts the keyboard focus back on the control that replaced the pressed one,
// (3) says so when a request fails, since failed answers are not swapped in.
"use strict";

{
  const { announce } = window.Shelf;
  const ERRORS = {
    403: "That form has expired. Reload the page and try again.",
    404: "That item is no longer on your shelf.",
    422: "Nothing was changed: please correct the fields marked in the form.",
  };
  let refocus = null; // {id, section, reopen}: where the focus goes once the answer is in

  const shelfForm = (node) =>
    node?.matches?.("form.save-form, form.track-form, form.add-form") ? node : null;

  // Runs before htmx disables the button (hx-disable), which would drop its focus.
  document.addEventListener("htmx:config:request", (event) => {
    const form = shelfForm(event.target);
    if (!form) return;
    const focused = document.activeElement;
    const inForm = Boolean(focused && form.contains(focused));
    if (!inForm && focused && focused !== document.body) {
      refocus = null; // the person has moved on: leave the focus where it is
      return;
    }
    const button = inForm && focused.id ? focused : form.querySelector("button[id]");
    refocus = {
      id: button?.id ?? null,
      // Where to look when the pressed control is gone (an Undo once done, a +1 at the end).
      section: form.closest("section.tracking, .save-control")?.id ?? null,
      reopen: Boolean(form.closest("details")?.open), // the new panel comes with "Edit tracking" shut
    };
  });

  const answer = (ctx) => new DOMParser().parseFromString(ctx.text || "", "text/html");

  // What the answer to a Save, Unsave or Undo says, with Undo when it offers one.
  const announceSaving = (ctx, form) => {
    const doc = answer(ctx);
    const news = doc.querySelector("[data-announce]")?.dataset.announce;
    const undo = doc.querySelector("button[value=undo][id]");
    const action = undo && {
      label: "Undo",
      hidden: `removing ${form.dataset.title}`,
      press: () => document.getElementById(undo.id)?.click(),
    };
    announce(news ?? form.dataset.title, action);
  };

  document.addEventListener("htmx:after:request", (event) => {
    const form = shelfForm(event.target);
    const ctx = event.detail?.ctx;
    if (!form || !ctx?.response) return;
    // A signed-out press is answered with a redirect to sign in: nothing was saved.
    if (ctx.response.status >= 400 || ctx.response.headers.get("HX-Redirect")) return;
    if (!form.matches(".track-form")) {
      announceSaving(ctx, form);
    } else {
      const panel =
        answer(ctx).querySelector("section.tracking[data-summary]") ??
        form.closest("section.tracking");
      announce(`Updated ${panel.dataset.summary || panel.dataset.title}`);
    }
  });

  // New content is in the page: focus the control that replaced the pressed one, or,
  // when it is gone (a "+1" that reached the end), the first control of its section.
  document.addEventListener("htmx:after:init", () => {
    if (!refocus) return;
    let target = refocus.id && document.getElementById(refocus.id);
    const details = target && refocus.reopen && target.closest("details");
    if (details) details.open = true;
    if (target && !target.getClientRects().length) target = null; // hidden: not focusable
    if (!target && refocus.section) {
      target = document
        .getElementById(refocus.section)
        ?.querySelector("button:not([disabled]), summary");
    }
    if (target) {
      refocus = null;
      target.focus();
    }
  });

  // Adding a provider's title fails on the provider's side, not on the person's shelf.
  const ADD_ERRORS = {
    404: "The provider no longer knows that title. Nothing was added.",
    503: "The provider is not reachable right now. Nothing was added: try again in a moment.",
  };

  document.addEventListener("htmx:response:error", (event) => {
    const status = event.detail?.ctx?.response?.status ?? 0;
    const adding = event.target?.matches?.("form.add-form");
    announce((adding && ADD_ERRORS[status]) || ERRORS[status] || "Something went wrong. Please try again.");
  });

  document.addEventListener("htmx:error", (event) => {
    // No response at all: the request never reached Shelf.
    if (!event.detail?.ctx?.response) {
      announce("Could not reach Shelf. Check your connection and try again.");
    }
  });
}
