// After a refused submit, focus goes to the first problem of the page's forms: the error
// summary if there is one, else the first invalid field, else the first error message. It
// covers full-page answers and htmx answers to a submit (the account search's results).
// Dialogs handle their own (dialog.js). No inline script: the strict CSP holds.
(function () {
  "use strict";

  var PROBLEMS = '.error-summary, [aria-invalid="true"], .form-error';
  // The last submit (its form and time), while its answer is awaited.
  var submitting = null;
  var ANSWER_MS = 10000;

  function firstProblem(root) {
    var found = root.querySelectorAll(PROBLEMS);
    for (var i = 0; i < found.length; i++) {
      if (!found[i].closest("dialog") && !found[i].closest("[hidden]")) {
        return found[i];
      }
    }
    return null;
  }

  function focusOn(problem) {
    if (!problem.matches("a[href], button, input, select, textarea, [tabindex]")) {
      // A message: focusable by script only, so a screen reader reads it where focus lands.
      problem.setAttribute("tabindex", "-1");
    }
    problem.focus();
    if (problem.scrollIntoView) {
      problem.scrollIntoView({ block: "nearest" });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var main = document.getElementById("main");
    if (!main || document.querySelector(".action-page")) {
      return;
    }
    var problem = firstProblem(main);
    if (problem) {
      focusOn(problem);
    }
  });

  document.addEventListener(
    "submit",
    function (event) {
      submitting = { form: event.target, at: Date.now() };
    },
    true
  );

  // The answer to a submit may come in several swaps (a redirect followed by htmx): the first
  // one that shows a problem, soon after the submit, moves the focus. Results refreshed while
  // typing do not.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!submitting || Date.now() - submitting.at > ANSWER_MS) {
      submitting = null;
      return;
    }
    var target = event.detail && event.detail.target;
    if (!target || target.closest("dialog") || target.id === "dialog-slot") {
      return;
    }
    var main = document.getElementById("main") || document.body;
    var problem = firstProblem(main);
    if (problem) {
      submitting = null;
      focusOn(problem);
    }
  });
})();
