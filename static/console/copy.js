// Copy buttons: <button data-copy="element-id">. Loaded as a file (the console's CSP allows no inline script).
(function () {
  "use strict";
  // base.html loads this file on every page; a page that also includes it must not double the handler.
  if (window.consoleCopyButtons) {
    return;
  }
  window.consoleCopyButtons = true;

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function say(button, text) {
    var status = document.getElementById(button.dataset.copy + "-status");
    if (status) {
      status.textContent = text;
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) {
      return;
    }
    var source = document.getElementById(button.dataset.copy);
    if (!source) {
      return;
    }
    var text = source.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { say(button, "Copied."); },
        function () { selectText(source); say(button, "Selected: press Ctrl+C (⌘C) to copy."); }
      );
    } else {
      selectText(source);
      say(button, "Selected: press Ctrl+C (⌘C) to copy.");
    }
  });
})();
