// What an htmx answer means for the person pressing. Pages work without it; with htmx it
// (1) says in the live region what a Save, Unsave or tracking edit did (and, for an
//     edit, what the panel now shows: "Updated Cowboy Bebop: 4 of 26 episodes, in progress"),
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

  const shelfForm = (node) => (node?.matches?.("form.save-form, form.track-form") ? node : null);

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
      section: form.closest("section.tracking")?.id ?? null,
      reopen: Boolean(form.closest("details")?.open), // the new panel comes with "Edit tracking" shut
    };
  });

  // The new tracking panel, read from the answer before htmx swaps it in.
  const answeredPanel = (ctx) =>
    new DOMParser()
      .parseFromString(ctx.text || "", "text/html")
      .querySelector("section.tracking[data-summary]");

  document.addEventListener("htmx:after:request", (event) => {
    const form = shelfForm(event.target);
    const ctx = event.detail?.ctx;
    if (!form || !ctx?.response) return;
    // A signed-out press is answered with a redirect to sign in: nothing was saved.
    if (ctx.response.status >= 400 || ctx.response.headers.get("HX-Redirect")) return;
    if (form.matches(".save-form")) {
      const intent = form.querySelector("input[name=intent]").value;
      announce(`${intent === "save" ? "Saved" : "Removed"} ${form.dataset.title}`);
    } else {
      const panel = answeredPanel(ctx) ?? form.closest("section.tracking");
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

  document.addEventListener("htmx:response:error", (event) => {
    const status = event.detail?.ctx?.response?.status ?? 0;
    announce(ERRORS[status] ?? "Something went wrong. Please try again.");
  });

  document.addEventListener("htmx:error", (event) => {
    // No response at all: the request never reached Shelf.
    if (!event.detail?.ctx?.response) {
      announce("Could not reach Shelf. Check your connection and try again.");
    }
  });
}
