// Header search: "/" focuses it, the typeahead (an htmx fragment) is walked with the arrow
// keys, Enter opens the picked match, the only match, or else the full results page.
// Also the narrow-screen disclosures: the header menu and the search filters.
// Loaded as a file: the console's CSP allows no inline script.
(function () {
  "use strict";

  function isTypingTarget(element) {
    if (!element) {
      return false;
    }
    var tag = element.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || element.isContentEditable;
  }

  function box() {
    return document.getElementById("header-q");
  }

  function options() {
    var list = document.getElementById("header-search-list");
    return list ? Array.prototype.slice.call(list.querySelectorAll('[role="option"]')) : [];
  }

  function activeIndex() {
    return options().findIndex(function (option) {
      return option.getAttribute("aria-selected") === "true";
    });
  }

  function setActive(index) {
    var input = box();
    var all = options();
    all.forEach(function (option, i) {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    if (index >= 0 && all[index]) {
      input.setAttribute("aria-activedescendant", all[index].id);
      all[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function close() {
    var input = box();
    var results = document.getElementById("header-search-results");
    if (results) {
      results.innerHTML = "";
    }
    if (input) {
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
  }

  // The list answers the text in the box (not an older one still on its way).
  function listIsCurrent() {
    var list = document.getElementById("header-search-list");
    var input = box();
    if (!list || !input) {
      return false;
    }
    return list.dataset.query === input.value.trim().split(/\s+/).join(" ");
  }

  function submitSearch(input) {
    var form = input && input.form;
    if (form) {
      if (form.requestSubmit) {
        form.requestSubmit();
      } else {
        form.submit();
      }
    }
  }

  document.addEventListener("click", function (event) {
    var option = event.target.closest && event.target.closest("[data-submit-search]");
    if (option) {
      event.preventDefault();
      submitSearch(box());
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (isTypingTarget(event.target) || document.querySelector("dialog[open]")) {
      return;
    }
    var input = box();
    if (!input) {
      return;
    }
    event.preventDefault();
    input.focus();
    input.select();
  });

  document.addEventListener("keydown", function (event) {
    var input = box();
    if (!input || event.target !== input) {
      return;
    }
    var all = options();
    var index = activeIndex();
    if (event.key === "ArrowDown" && all.length) {
      event.preventDefault();
      setActive(index + 1 < all.length ? index + 1 : 0);
    } else if (event.key === "ArrowUp" && all.length) {
      event.preventDefault();
      setActive(index > 0 ? index - 1 : all.length - 1);
    } else if (event.key === "Escape") {
      if (all.length) {
        event.preventDefault();
        close();
      }
    } else if (event.key === "Enter") {
      var accounts = all.filter(function (option) { return option.hasAttribute("data-account"); });
      var target = null;
      if (index >= 0) {
        target = all[index];
      } else if (accounts.length === 1 && listIsCurrent()) {
        target = accounts[0];
      }
      if (target && target.hasAttribute("data-submit-search")) {
        // "All results": the text is posted with the form, never put in a URL.
        event.preventDefault();
        submitSearch(input);
      } else if (target) {
        event.preventDefault();
        window.location.assign(target.href);
      }
      // Otherwise the form submits: the results page (which opens a single exact hit itself).
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail || !event.detail.target || event.detail.target.id !== "header-search-results") {
      return;
    }
    var input = box();
    if (input) {
      input.setAttribute("aria-expanded", options().length ? "true" : "false");
      input.removeAttribute("aria-activedescendant");
    }
  });

  document.addEventListener("input", function (event) {
    var input = box();
    if (input && event.target === input && !input.value.trim()) {
      close();
    }
  });

  // Leaving the search (focus outside it) closes the list.
  document.addEventListener("focusout", function (event) {
    var form = event.target.closest && event.target.closest("[data-header-search]");
    if (!form) {
      return;
    }
    if (!event.relatedTarget || !form.contains(event.relatedTarget)) {
      close();
    }
  });

  // The typeahead's options are links; a pointer picks them as usual.
  document.addEventListener("mousedown", function (event) {
    var option = event.target.closest && event.target.closest("#header-search-list [role=option]");
    if (option) {
      // Keep focus in the box until the click navigates.
      event.preventDefault();
    }
  });

  // Disclosure buttons: <button aria-controls="id" aria-expanded data-disclosure>. Without
  // this script the controlled content simply stays shown.
  function setupDisclosures() {
    var header = document.querySelector("[data-collapsible-header]");
    if (header) {
      header.classList.add("js-collapsible");
      var toggle = header.querySelector(".nav-toggle");
      if (toggle) {
        toggle.hidden = false;
        toggle.setAttribute("data-disclosure", "");
      }
    }
    Array.prototype.forEach.call(document.querySelectorAll("[data-disclosure]"), function (button) {
      button.hidden = false;
      var target = document.getElementById(button.getAttribute("aria-controls"));
      if (target) {
        target.classList.add("js-disclosable");
      }
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-disclosure]");
    if (!button) {
      return;
    }
    var target = document.getElementById(button.getAttribute("aria-controls"));
    if (!target) {
      return;
    }
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    target.classList.toggle("is-open", open);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setupDisclosures);
  } else {
    setupDisclosures();
  }
})();
