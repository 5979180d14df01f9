// The page's one polite live region (#announcer): Shelf.announce(text) says something to the
// person, as a toast that screen readers read. The other scripts speak through it.
"use strict";

{
  const Shelf = (window.Shelf ??= {});
  let hideTimer = null;

  Shelf.announce = (text) => {
    const region = document.getElementById("announcer");
    if (!region) return;
    region.textContent = "";
    clearTimeout(hideTimer);
    // Set in a later task, so a repeated message is announced again.
    setTimeout(() => {
      region.textContent = text;
      hideTimer = setTimeout(() => {
        region.textContent = ""; // the toast goes; screen readers have read it
      }, 6000);
    }, 50);
  };
}
