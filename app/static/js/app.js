// Hearth's small bits of behaviour that htmx does not cover. No inline scripts (CSP).
(function () {
  "use strict";

  // <time data-relative>: the server writes the exact time (shop's zone); the browser says
  // "3 hours ago" / "3 小時前" in the page's language, and keeps it right as time passes.
  var UNITS = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400],
               ["hour", 3600], ["minute", 60]];
  function relativeTimes(root) {
    var format;
    try {
      format = new Intl.RelativeTimeFormat(document.documentElement.lang || "en", { numeric: "auto" });
    } catch (error) { return; }
    var scope = root && root.querySelectorAll ? root : document;
    var times = scope.querySelectorAll("time[data-relative]");
    for (var i = 0; i < times.length; i++) {
      var time = times[i];
      var when = Date.parse(time.getAttribute("datetime"));
      if (isNaN(when)) continue;
      if (!time.title) time.title = time.textContent;
      var seconds = (when - Date.now()) / 1000, text = format.format(0, "second");
      for (var u = 0; u < UNITS.length; u++) {
        if (Math.abs(seconds) >= UNITS[u][1]) {
          text = format.format(Math.trunc(seconds / UNITS[u][1]), UNITS[u][0]);
          break;
        }
      }
      time.textContent = text;
    }
  }
  document.addEventListener("DOMContentLoaded", function () { relativeTimes(document); });
  document.addEventListener("htmx:load", function (event) { relativeTimes(event.detail.elt); });
  setInterval(function () { relativeTimes(document); }, 60000);

  // Move the message area into view when htmx swaps an error into it.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "messages") {
      event.detail.target.scrollIntoView({ block: "nearest" });
    }
  });

  // Forms marked data-reset-on-success clear themselves (and the error box named by the
  // attribute) after htmx reports success, so the composer is ready for the next entry.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("form[data-reset-on-success]")) return;
    if (!event.detail.successful || !event.detail.xhr || event.detail.xhr.status >= 300) return;
    form.reset();
    var errorBox = document.querySelector(form.getAttribute("data-reset-on-success"));
    if (errorBox) errorBox.innerHTML = "";
    var first = form.querySelector("textarea, input:not([type=hidden])");
    if (first) first.focus();
  });

  // Enter in a textarea marked data-enter-submits sends the form; Shift+Enter is a new line.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    if (!target.matches || !target.matches("textarea[data-enter-submits]")) return;
    event.preventDefault();
    if (target.form) target.form.requestSubmit();
  });

  // Enter in an input marked data-enter-clicks presses the named button (e.g. "Include").
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "Enter" || event.isComposing) return;
    if (!target.matches || !target.matches("input[data-enter-clicks]")) return;
    var button = document.querySelector(target.getAttribute("data-enter-clicks"));
    if (!button) return;
    event.preventDefault();
    button.click();
  });

  // Merge-field buttons insert their text at the cursor of the named textarea.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-insert]") : null;
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-insert-into"));
    if (!field) return;
    var text = button.getAttribute("data-insert");
    var start = field.selectionStart || 0, end = field.selectionEnd || 0;
    field.value = field.value.slice(0, start) + text + field.value.slice(end);
    field.focus();
    field.selectionStart = field.selectionEnd = start + text.length;
  });

  // The header search's dropdown: kept inside the window, arrow keys move through the
  // results, Esc closes it and returns to the box.
  function searchDropdown() { return document.getElementById("search-results"); }
  function placeDropdown() {
    var box = searchDropdown();
    if (!box || !box.firstElementChild) return;
    // A class, never an inline style: htmx's back-button restore re-reads the page's HTML,
    // and the CSP (style-src 'self') refuses style="" attributes.
    box.classList.remove("from-right");
    var overflow = box.getBoundingClientRect().right - (document.documentElement.clientWidth - 8);
    if (overflow > 0) box.classList.add("from-right");
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "search-results") placeDropdown();
  });
  window.addEventListener("resize", placeDropdown);
  document.addEventListener("keydown", function (event) {
    var box = searchDropdown();
    var input = document.getElementById("header-search");
    if (!box || !input) return;
    var inSearch = event.target === input || box.contains(event.target);
    if (!inSearch) return;
    if (event.key === "Escape") {
      if (!box.firstElementChild) return;
      event.preventDefault();
      box.innerHTML = "";
      input.focus();
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    var links = Array.prototype.slice.call(box.querySelectorAll("a"));
    if (!links.length) return;
    event.preventDefault();
    var index = links.indexOf(document.activeElement);
    if (event.key === "ArrowDown") {
      links[index < 0 ? 0 : Math.min(index + 1, links.length - 1)].focus();
    } else if (index <= 0) {
      input.focus();
    } else {
      links[index - 1].focus();
    }
  });

  // Forms with errors get a summary at the top (links to each field) that takes the focus,
  // whether the errors came from the server or from a date the browser could not read.
  function fieldLabel(field) {
    var label = field.querySelector("label");
    return label ? label.textContent.trim() : "";
  }
  function summarise(form, focus) {
    var old = form.querySelector(".error-summary");
    if (old) old.remove();
    var fields = form.querySelectorAll(".field.has-error");
    if (!fields.length) return;
    var box = document.createElement("div");
    box.className = "error-summary";
    box.setAttribute("role", "alert");
    box.tabIndex = -1;
    var heading = document.createElement("p");
    heading.className = "error-summary-title";
    heading.textContent = document.body.getAttribute("data-error-summary") || "";
    box.appendChild(heading);
    var list = document.createElement("ul");
    fields.forEach(function (field) {
      var input = field.querySelector("input, select, textarea");
      var message = field.querySelector(".error");
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = "#" + (input ? input.id : "");
      link.textContent = fieldLabel(field) + (message ? ": " + message.textContent.trim() : "");
      link.addEventListener("click", function (event) {
        if (!input) return;
        event.preventDefault();
        input.focus();
      });
      item.appendChild(link);
      list.appendChild(item);
    });
    box.appendChild(list);
    form.insertBefore(box, form.firstChild);
    if (focus) box.focus();
  }
  function summariseAll(root) {
    var first = true;
    (root || document).querySelectorAll("form").forEach(function (form) {
      if (!form.querySelector(".field.has-error")) return;
      summarise(form, first);
      first = false;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { summariseAll(document); });
  document.addEventListener("htmx:afterSwap", function (event) { summariseAll(event.detail.target); });

  // A date the browser cannot read (02/30/2026) reaches the server as an empty field and
  // would be dropped silently: stop the form and say so instead.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var bad = Array.prototype.filter.call(
      form.querySelectorAll("input[type=date]"),
      function (input) { return input.validity && input.validity.badInput; }
    );
    if (!bad.length) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    bad.forEach(function (input) {
      var field = input.closest(".field");
      if (!field) return;
      field.classList.add("has-error");
      input.setAttribute("aria-invalid", "true");
      var message = field.querySelector(".error");
      if (!message) {
        message = document.createElement("p");
        message.className = "error";
        message.id = input.id + "-error";
        field.appendChild(message);
        input.setAttribute("aria-describedby", message.id);
      }
      message.textContent = document.body.getAttribute("data-bad-date") || "";
    });
    summarise(form, true);
  }, true);

  // In forms that refresh on "change", a text box only counts when its button (or Enter)
  // sends it: otherwise leaving the box sends one request and the button a second.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target.matches || !target.matches("input:not([type]), input[type=text], input[type=search]")) return;
    if (target.form && target.form.hasAttribute("data-text-waits-for-submit")) event.stopPropagation();
  }, true);

  // A form that an answer re-renders out of band (the segment builder) is not put back by an
  // answer to an older state of it: what was typed into it since that request left would be
  // lost (two conditions typed one after the other kept only the first). Every edit counts;
  // a request remembers the count it left with; its out-of-band copy of the form is swapped
  // in only when nothing was typed since. The next change sends everything again anyway.
  var edits = 0, editsOfSwap = null;
  function countEdit(event) {
    if (event.target.form && event.target.form.hasAttribute("data-keeps-typing")) edits += 1;
  }
  document.addEventListener("input", countEdit, true);
  document.addEventListener("change", countEdit, true);
  document.addEventListener("htmx:beforeSend", function (event) {
    if (event.detail.xhr) event.detail.xhr.hearthEdits = edits;
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    editsOfSwap = xhr && typeof xhr.hearthEdits === "number" ? xhr.hearthEdits : null;
  });
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || !target.hasAttribute || !target.hasAttribute("data-keeps-typing")) return;
    if (editsOfSwap !== null && editsOfSwap !== edits) event.detail.shouldSwap = false;
  });

  // Print buttons (no inline onclick: the CSP forbids inline scripts).
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) window.print();
  });

  // "Select all" checkboxes for bulk actions.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-select-all]")) return;
    var name = box.getAttribute("data-select-all");
    var form = box.form || document;
    form.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (other) {
      other.checked = box.checked;
    });
  });

  // SMS length as the gateways bill it: 70 Chinese / 160 Latin characters in one message,
  // 67 / 153 per part once split (the server counts the same way on the review page).
  var GSM = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM_EXT = "^{}\\[~]|€\f";
  function smsParts(text) {
    var unicode = false, length = 0, i, c;
    for (i = 0; i < text.length; i++) {
      c = text.charAt(i);
      if (GSM.indexOf(c) < 0 && GSM_EXT.indexOf(c) < 0) unicode = true;
    }
    for (i = 0; i < text.length; i++) {
      length += (!unicode && GSM_EXT.indexOf(text.charAt(i)) >= 0) ? 2 : 1;
    }
    var single = unicode ? 70 : 160, multi = unicode ? 67 : 153;
    var parts = length === 0 ? 0 : (length <= single ? 1 : Math.ceil(length / multi));
    return { chars: Array.from(text).length, parts: parts };
  }
  // An empty short text means SMS and LINE carry the message above (data-sms-fallback):
  // then its length is the one counted, as the server will send it.
  function showSmsCount(out) {
    var box = document.getElementById(out.getAttribute("data-sms-count-for"));
    if (!box) return;
    var fallback = document.getElementById(out.getAttribute("data-sms-fallback") || "");
    var text = box.value || "", template = out.getAttribute("data-template") || "";
    if (!text.trim() && fallback) {
      text = (fallback.value || "").trim();
      template = out.getAttribute("data-template-fallback") || template;
    }
    var counted = smsParts(text.trim());
    out.textContent = template.replace("{chars}", counted.chars).replace("{parts}", counted.parts);
  }
  document.addEventListener("input", function (event) {
    var id = event.target.id;
    if (!id) return;
    document.querySelectorAll("[data-sms-count-for], [data-sms-fallback]").forEach(function (out) {
      if (out.getAttribute("data-sms-count-for") === id || out.getAttribute("data-sms-fallback") === id) {
        showSmsCount(out);
      }
    });
  });
  document.querySelectorAll("[data-sms-count-for]").forEach(showSmsCount);
})();
