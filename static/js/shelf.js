// Shelf's only script of its own. Pages work without it; with htmx it
// (1) says what a Save or Unsave did in the polite live region,
// (2) puts the keyboard focus back on the button that replaced the pressed one,
// (3) says so when a request fails, since failed answers are not swapped in.
(function () {
  "use strict";

  var ERRORS = {
    403: "That form has expired. Reload the page and try again.",
    404: "That item no longer exists.",
  };
  var refocus = null; // action URL of a save form whose button had the focus

  function announce(text) {
    var region = document.getElementById("announcer");
    if (!region) return;
    region.textContent = "";
    // Set in a later task, so a repeated message is announced again.
    window.setTimeout(function () {
      region.textContent = text;
    }, 50);
  }

  function saveForm(node) {
    return node && node.matches && node.matches("form.save-form") ? node : null;
  }

  // Runs before htmx disables the button (hx-disable), which would drop its focus.
  document.addEventListener("htmx:config:request", function (event) {
    var form = saveForm(event.target);
    if (!form) return;
    var focused = document.activeElement;
    var lost = !focused || focused === document.body;
    refocus = lost || form.contains(focused) ? form.getAttribute("action") : null;
  });

  document.addEventListener("htmx:after:request", function (event) {
    var form = saveForm(event.target);
    var ctx = event.detail && event.detail.ctx;
    if (!form || !ctx || !ctx.response || ctx.response.status >= 400) return;
    // A signed-out press is answered with a redirect to sign in: nothing was saved.
    if (ctx.response.headers.get("HX-Redirect")) return;
    var intent = form.querySelector("input[name=intent]").value;
    announce((intent === "save" ? "Saved " : "Removed ") + form.dataset.title);
  });

  document.addEventListener("htmx:after:init", function (event) {
    var form = saveForm(event.target);
    if (!form || !refocus || form.getAttribute("action") !== refocus) return;
    refocus = null;
    var button = form.querySelector("button");
    if (button) button.focus();
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
