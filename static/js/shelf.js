// Shelf's only script of its own. Pages work without it; with htmx it
// (1) says in the polite live region what a Save, Unsave or tracking edit did (and, for an
//     edit, what the panel now shows: "Updated Cowboy Bebop: 4 of 26 episodes, in progress"),
// (2) puts the keyboard focus back on the control that replaced the pressed one,
// (3) says so when a request fails, since failed answers are not swapped in.
(function () {
  "use strict";

  var ERRORS = {
    403: "That form has expired. Reload the page and try again.",
    404: "That item is no longer on your shelf.",
    422: "Nothing was changed: please correct the fields marked in the form.",
  };
  var refocus = null; // {id, section}: where the focus goes once the answer is swapped in

  var hideTimer = null;

  function announce(text) {
    var region = document.getElementById("announcer");
    if (!region) return;
    region.textContent = "";
    window.clearTimeout(hideTimer);
    // Set in a later task, so a repeated message is announced again.
    window.setTimeout(function () {
      region.textContent = text;
      hideTimer = window.setTimeout(function () {
        region.textContent = ""; // the toast goes; screen readers have read it
      }, 6000);
    }, 50);
  }
  // For pwa.js, which reports offline presses through the same live region.
  window.Shelf = { announce: announce };

  function shelfForm(node) {
    return node && node.matches && node.matches("form.save-form, form.track-form") ? node : null;
  }

  // Runs before htmx disables the button (hx-disable), which would drop its focus.
  document.addEventListener("htmx:config:request", function (event) {
    var form = shelfForm(event.target);
    if (!form) return;
    var focused = document.activeElement;
    var inForm = focused && form.contains(focused);
    if (!inForm && focused && focused !== document.body) {
      refocus = null; // the person has moved on: leave the focus where it is
      return;
    }
    var button = inForm && focused.id ? focused : form.querySelector("button[id]");
    var section = form.closest("section.tracking");
    var details = form.closest("details");
    refocus = {
      id: button ? button.id : null,
      section: section ? section.id : null,
      reopen: Boolean(details && details.open), // the new panel comes with "Edit tracking" shut
    };
  });

  // The new tracking panel, read from the answer before htmx swaps it in.
  function answeredPanel(ctx) {
    var doc = new DOMParser().parseFromString(ctx.text || "", "text/html");
    return doc.querySelector("section.tracking[data-summary]");
  }

  document.addEventListener("htmx:after:request", function (event) {
    var form = shelfForm(event.target);
    var ctx = event.detail && event.detail.ctx;
    if (!form || !ctx || !ctx.response) return;
    // A signed-out press is answered with a redirect to sign in: nothing was saved.
    if (ctx.response.status >= 400 || ctx.response.headers.get("HX-Redirect")) return;
    if (form.matches(".save-form")) {
      var intent = form.querySelector("input[name=intent]").value;
      announce((intent === "save" ? "Saved " : "Removed ") + form.dataset.title);
    } else {
      var panel = answeredPanel(ctx) || form.closest("section.tracking");
      announce("Updated " + (panel.dataset.summary || panel.dataset.title));
    }
  });

  // New content is in the page: focus the control that replaced the pressed one, or,
  // when it is gone (a "+1" that reached the end), the first control of its section.
  document.addEventListener("htmx:after:init", function () {
    if (!refocus) return;
    var target = refocus.id && document.getElementById(refocus.id);
    var details = target && refocus.reopen && target.closest("details");
    if (details) details.open = true;
    if (target && !target.getClientRects().length) target = null; // hidden: not focusable
    if (!target && refocus.section) {
      var section = document.getElementById(refocus.section);
      target = section && section.querySelector("button:not([disabled]), summary");
    }
    if (target) {
      refocus = null;
      target.focus();
    }
  });

  document.addEventListener("htmx:response:error", function (event) {
    var ctx = event.detail && event.detail.ctx;
    var status = ctx && ctx.response ? ctx.response.status : 0;
    announce(ERRORS[status] || "Something went wrong. Please try again.");
  });

  document.addEventListener("htmx:error", function (event) {
    var ctx = event.detail && event.detail.ctx;
    if (!ctx || !ctx.response) {
      announce("Could not reach Shelf. Check your connection and try again.");
    }
  });
})();
