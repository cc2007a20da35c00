// Confirmation dialogs for account actions (htmx fragments opened with showModal()), and the
// reason-preset pickers of the action forms. No inline script: the strict CSP holds.
(function () {
  "use strict";

  var SLOT_ID = "dialog-slot";
  var DIALOG_ID = "action-dialog";
  // The control that opened the dialog, to give focus back when it closes.
  var opener = null;

  function firstProblem(root) {
    return root.querySelector('[aria-invalid="true"]') || root.querySelector("#action-errors");
  }

  function open(dialog) {
    if (!dialog.open) {
      dialog.showModal();
    }
    // showModal() focuses the first control; after a refused submit, the first error instead.
    var problem = firstProblem(dialog);
    if (problem) {
      problem.focus();
    }
  }

  function emptySlot(dialog) {
    var slot = document.getElementById(SLOT_ID);
    if (slot && dialog.parentNode === slot) {
      slot.removeChild(dialog);
    }
  }

  function onClosed(event) {
    var dialog = event.target;
    if (!dialog || dialog.id !== DIALOG_ID) {
      return;
    }
    var reload = dialog.getAttribute("data-reload-on-close");
    emptySlot(dialog);
    if (reload) {
      // What was shown once is gone; the account page shows the new state.
      window.location.assign(reload);
      return;
    }
    if (opener && document.contains(opener)) {
      opener.focus();
    }
    opener = null;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === SLOT_ID && !document.getElementById(DIALOG_ID)) {
      opener = event.detail.elt;
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    if (!detail.target || detail.target.id !== SLOT_ID) {
      return;
    }
    var xhr = detail.xhr;
    var text = xhr.responseText || "";
    if (text.indexOf('id="' + DIALOG_ID + '"') !== -1) {
      // A refused form (400) or a refused action (409) comes back as the dialog again.
      detail.shouldSwap = true;
      detail.isError = false;
      return;
    }
    // Not a dialog (signed out, no permission, not found): show that page in full.
    detail.shouldSwap = false;
    window.location.assign(xhr.responseURL || detail.pathInfo.requestPath);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== SLOT_ID) {
      return;
    }
    var dialog = document.getElementById(DIALOG_ID);
    if (dialog) {
      dialog.addEventListener("close", onClosed);
      open(dialog);
    }
  });

  document.addEventListener("click", function (event) {
    var closer = event.target.closest && event.target.closest("[data-dialog-close]");
    if (!closer) {
      return;
    }
    var dialog = closer.closest("dialog");
    if (dialog) {
      event.preventDefault();
      dialog.close();
    }
  });

  // A picked preset fills the reason (still editable). Without script the server does it.
  document.addEventListener("change", function (event) {
    var picker = event.target;
    if (!picker.matches || !picker.matches("select[data-fills]")) {
      return;
    }
    var option = picker.options[picker.selectedIndex];
    var reason = document.getElementById(picker.getAttribute("data-fills"));
    if (option && reason && option.getAttribute("data-text")) {
      reason.value = option.getAttribute("data-text");
    }
  });

  // The full-page form: after a refused submit, focus goes to the first error too.
  document.addEventListener("DOMContentLoaded", function () {
    var page = document.querySelector(".action-page");
    var problem = page && firstProblem(page);
    if (problem) {
      problem.focus();
    }
  });
})();
