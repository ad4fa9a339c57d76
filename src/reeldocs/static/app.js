/* Reeldocs pages: seeking the player, language chips, and errors from htmx requests. */
(function () {
  "use strict";

  // ---- [video:MM:SS] links and transcript times seek the player on the page ----
  function player() {
    return document.getElementById("player");
  }

  function seek(seconds) {
    var video = player();
    if (!video || !isFinite(seconds)) return false;
    var apply = function () {
      video.currentTime = seconds;
    };
    if (video.readyState >= 1) apply();
    else video.addEventListener("loadedmetadata", apply, { once: true });
    video.scrollIntoView({ block: "nearest", behavior: "smooth" });
    var playing = video.play();
    if (playing && playing.catch) playing.catch(function () {});
    return true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-seek]") : null;
    if (!link) return;
    var video = player();
    // Only links to this page's video seek here; others navigate to their own video page.
    var href = link.getAttribute("href") || "";
    var samePage = href.charAt(0) === "#" ||
      (video && href.indexOf("/videos/" + video.dataset.videoId + "#") === 0);
    if (samePage && seek(parseFloat(link.dataset.seek))) event.preventDefault();
  });

  function seekFromHash() {
    var match = /^#t=(\d+(?:\.\d+)?)$/.exec(window.location.hash);
    if (match) seek(parseFloat(match[1]));
  }

  // ---- language chips: the first ticked is the primary language ----
  function chipState(fieldset) {
    var boxes = Array.prototype.slice.call(fieldset.querySelectorAll("input[type=checkbox]"));
    var order = (fieldset.dataset.order || "").split(",").filter(Boolean);
    var checked = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    order = order.filter(function (code) { return checked.indexOf(code) !== -1; });
    checked.forEach(function (code) { if (order.indexOf(code) === -1) order.push(code); });
    // Docs can only be written in a primary language: put the first such choice first.
    var canLead = function (code) {
      var box = boxes.filter(function (b) { return b.value === code; })[0];
      return box && box.closest(".chip").dataset.primary === "true";
    };
    if (order.length && !canLead(order[0])) {
      var lead = order.filter(canLead)[0];
      if (lead) order = [lead].concat(order.filter(function (c) { return c !== lead; }));
    }
    fieldset.dataset.order = order.join(",");
    var hidden = fieldset.querySelector("input[name=language_order]");
    if (hidden) hidden.value = order.join(",");
    boxes.forEach(function (box) {
      var note = box.closest(".chip").querySelector(".chip-note");
      if (note) note.textContent = order[0] === box.value && canLead(box.value) ? "primary" : "";
    });
    return order;
  }

  // What the server writes docs in, by name: what a chip that cannot lead needs beside it.
  function primaryNames(fieldset) {
    return Array.prototype.slice.call(fieldset.querySelectorAll(".chip[data-primary=true]"))
      .map(function (chip) { return chip.querySelector("span").textContent.trim(); });
  }

  // A sentence when the ticked languages cannot make docs (none of them can be written
  // directly), before anything is uploaded; null when they can.
  function languagesProblem(fieldset, order) {
    if (!order.length) return "Pick at least one language for the docs.";
    var first = fieldset.querySelector("input[value='" + order[0] + "']");
    if (first && first.closest(".chip").dataset.primary === "true") return null;
    var names = primaryNames(fieldset);
    var which = names.length > 1 ? names.slice(0, -1).join(", ") + " or " + names[names.length - 1] : names[0];
    if (!which) return "This server cannot write docs in any of these languages.";
    return "Docs are written in " + which + " and translated from there: tick " + which +
      " as well, and the languages you picked become translations.";
  }

  document.addEventListener("change", function (event) {
    var fieldset = event.target.closest && event.target.closest("[data-language-chips]");
    if (fieldset) chipState(fieldset);
  });

  function initChips(root) {
    var sets = root.querySelectorAll ? root.querySelectorAll("[data-language-chips]") : [];
    Array.prototype.forEach.call(sets, chipState);
  }

  window.Reeldocs = { chipState: chipState, languagesProblem: languagesProblem, seek: seek };

  // ---- errors from htmx actions: show the server's sentence ----
  function flash(message) {
    var box = document.getElementById("flash");
    if (!box) return;
    box.textContent = "";
    var alert = document.createElement("div");
    alert.className = "alert alert-error";
    alert.setAttribute("role", "alert");
    alert.textContent = message;
    box.appendChild(alert);
    box.scrollIntoView({ block: "nearest" });
  }

  // A refusal that says how to swap it (HX-Reswap) is a form shown again with the
  // server's sentence beside it: it takes the form's place like any other answer.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status >= 400 && xhr.getResponseHeader("HX-Reswap")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = "";
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var alert = doc.querySelector("[data-detail]") || doc.querySelector(".alert");
      text = alert ? alert.textContent.trim() : "";
    } catch (e) { text = ""; }
    flash(text || "The server answered with an error (" + xhr.status + "). Reload the page and try again.");
  });

  document.addEventListener("htmx:sendError", function () {
    flash("The server could not be reached. Check your connection; the page keeps trying.");
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    // A successful action clears an earlier error.
    if (event.detail.successful && event.detail.requestConfig.verb !== "get") {
      var box = document.getElementById("flash");
      if (box) box.textContent = "";
    }
  });

  document.addEventListener("htmx:load", function (event) { initChips(event.detail.elt); });

  function ready() {
    initChips(document);
    seekFromHash();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
  window.addEventListener("hashchange", seekFromHash);
})();
