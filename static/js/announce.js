// The page's one polite live region (#announcer): Shelf.announce(text, action) says something
// to the person, as a toast that screen readers read, and may offer one action beside it (the
// Undo of a removal): { label, hidden, press }. The other scripts speak through it.
"use strict";

{
  const Shelf = (window.Shelf ??= {});
  let hideTimer = null;
  let showTimer = null;

  const hideLater = (region, delay) => {
    clearTimeout(hideTimer);
    hideTimer = setTimeout(() => {
      region.replaceChildren(); // the toast goes; screen readers have read it
    }, delay);
  };

  Shelf.announce = (text, action = null) => {
    const region = document.getElementById("announcer");
    if (!region) return;
    region.replaceChildren();
    clearTimeout(hideTimer);
    clearTimeout(showTimer); // the newest news wins
    // Set in a later task, so a repeated message is announced again.
    showTimer = setTimeout(() => {
      region.replaceChildren(text);
      if (action) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "toast-action";
        button.append(action.label);
        if (action.hidden) {
          const more = document.createElement("span");
          more.className = "visually-hidden";
          more.textContent = ` ${action.hidden}`;
          button.append(more);
        }
        button.addEventListener("click", () => {
          region.replaceChildren();
          action.press();
        });
        // The toast stays while the person is on its button.
        button.addEventListener("focus", () => clearTimeout(hideTimer));
        button.addEventListener("blur", () => hideLater(region, 4000));
        region.append(" ", button);
      }
      hideLater(region, action ? 10000 : 6000);
    }, 50);
  };
}
