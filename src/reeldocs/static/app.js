/* Reeldocs pages: seeking the player, language chips, the article and transcript editors,
   and errors from htmx requests. */
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

  // ---- editors ----
  // A moment as article Markdown marks it: [video:MM:SS], [video:H:MM:SS] from an hour on;
  // fractions dropped, as the server's format_timestamp does.
  function moment(seconds) {
    var total = Math.max(0, Math.floor(isFinite(seconds) ? seconds : 0));
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    var hours = Math.floor(total / 3600), minutes = Math.floor((total % 3600) / 60);
    var rest = pad(minutes) + ":" + pad(total % 60);
    return "[video:" + (hours ? hours + ":" + rest : rest) + "]";
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-insert-moment]") : null;
    if (!button) return;
    var field = document.getElementById(button.dataset.insertMoment);
    var video = player();
    if (!field || !video) return;
    field.setRangeText(moment(video.currentTime), field.selectionStart, field.selectionEnd, "end");
    field.focus();
    // the preview follows, as it does when the text is typed
    field.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // Controls that need this script are in the page hidden, for those without it.
  function reveal(root) {
    var hidden = root.querySelectorAll ? root.querySelectorAll("[data-insert-moment][hidden]") : [];
    Array.prototype.forEach.call(hidden, function (control) { control.hidden = false; });
  }

  // What the server asks to be focused once it is in the page: an editor, or the article
  // that replaced it.
  function focusMarked() {
    var marked = document.querySelector("[data-focus]");
    if (!marked) return;
    marked.removeAttribute("data-focus");
    marked.focus();
  }

  // A refused save (412: someone saved since; 422: something to correct) answers with the
  // article or segment to show instead, and says so: swap it in rather than flash an error.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    var form = source && source.closest ? source.closest("[data-swap-errors]") : null;
    if (form && xhr.status >= 400 && xhr.getResponseHeader("X-Reeldocs-Refusal") === "shown") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // A corrected transcript rebuilt the subtitles in its language: the player loads them
  // again, keeping each track shown or hidden as it was.
  var subtitleLoads = 0;
  function reloadSubtitles(language) {
    var video = player();
    if (!video) return;
    subtitleLoads += 1;
    var tracks = Array.prototype.slice.call(video.querySelectorAll("track"));
    tracks.forEach(function (track) {
      if (language && track.srclang !== language) return;
      var mode = track.track ? track.track.mode : "disabled";
      var fresh = track.cloneNode(false);
      var url = new URL(track.getAttribute("src"), window.location.href);
      url.searchParams.set("loaded", String(subtitleLoads));
      fresh.setAttribute("src", url.pathname + url.search);
      track.parentNode.replaceChild(fresh, track);
      if (fresh.track) fresh.track.mode = mode;
    });
  }

  document.addEventListener("reeldocs:subtitles-changed", function (event) {
    reloadSubtitles(event.detail && event.detail.language);
  });

  window.Reeldocs = {
    chipState: chipState,
    languagesProblem: languagesProblem,
    seek: seek,
    moment: moment,
    reloadSubtitles: reloadSubtitles
  };

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

  document.addEventListener("htmx:load", function (event) {
    initChips(event.detail.elt);
    reveal(event.detail.elt);
  });

  document.addEventListener("htmx:afterSettle", function () {
    reveal(document);
    focusMarked();
  });

  function ready() {
    initChips(document);
    reveal(document);
    focusMarked();
    seekFromHash();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
  window.addEventListener("hashchange", seekFromHash);
})();
