/* Reeldocs docs sites: [video:MM:SS] moments seek the page's player, and switching the
   language keeps the moment the video is at. */
(function () {
  "use strict";

  function player() {
    return document.getElementById("player");
  }

  function seek(seconds, play) {
    var video = player();
    if (!video || !isFinite(seconds)) return false;
    var apply = function () {
      video.currentTime = seconds;
    };
    if (video.readyState >= 1) apply();
    else video.addEventListener("loadedmetadata", apply, { once: true });
    video.scrollIntoView({ block: "nearest", behavior: "smooth" });
    if (play) {
      var playing = video.play();
      if (playing && playing.catch) playing.catch(function () {});
    }
    return true;
  }

  function hashMoment(hash) {
    var match = /^#t=(\d+(?:\.\d+)?)$/.exec(hash || "");
    return match ? parseFloat(match[1]) : null;
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : null;
    if (!target) return;
    var moment = target.closest("[data-seek]");
    if (moment) {
      var seconds = parseFloat(moment.dataset.seek);
      if (seek(seconds, true)) {
        event.preventDefault();
        // The address names the moment, to share or to come back to.
        history.replaceState(null, "", "#t=" + Math.floor(seconds));
      }
      return;
    }
    var language = target.closest("[data-keep-place]");
    var video = player();
    if (language && video && video.currentTime > 0) {
      language.href = language.href.split("#")[0] + "#t=" + Math.floor(video.currentTime);
    }
  });

  function seekFromHash() {
    var seconds = hashMoment(window.location.hash);
    if (seconds !== null) seek(seconds, false);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", seekFromHash);
  else seekFromHash();
  window.addEventListener("hashchange", seekFromHash);
})();
