/* The upload page: pick or drop a file, send it with a real progress bar, start processing. */
(function () {
  "use strict";

  var form = document.getElementById("upload-form");
  if (!form || form.dataset.ready) return;
  form.dataset.ready = "true";

  var projectId = form.dataset.projectId;
  var maxBytes = parseInt(form.dataset.maxBytes || "0", 10);
  var input = form.querySelector("#video-file");
  var dropzone = form.querySelector("[data-dropzone]");
  var fileName = form.querySelector("[data-file-name]");
  var errorBox = form.querySelector("[data-upload-error]");
  var progressBox = form.querySelector("[data-upload-progress]");
  var bar = form.querySelector("[data-upload-bar]");
  var barWrap = bar.parentElement;
  var progressText = form.querySelector("[data-upload-text]");
  var submit = form.querySelector("button[type=submit]");
  var titleInput = form.querySelector("input[name=title]");
  var chosen = null;
  var uploaded = null; // {file, video}: a failed start of processing must not upload again

  function csrfToken() {
    var meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.content : "";
  }

  function megabytes(bytes) {
    return (bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0) + " MB";
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function clearError() {
    errorBox.hidden = true;
    errorBox.textContent = "";
  }

  function choose(file) {
    if (!file) return;
    chosen = file;
    uploaded = null;
    fileName.textContent = file.name + " · " + megabytes(file.size);
    dropzone.classList.add("has-file");
    if (!titleInput.value.trim()) titleInput.value = file.name.replace(/\.[^.]+$/, "");
    clearError();
  }

  input.addEventListener("change", function () { choose(input.files[0]); });
  // The drop area is a button: a click, Enter or Space opens the file picker.
  dropzone.addEventListener("click", function () { input.click(); });
  ["dragenter", "dragover"].forEach(function (name) {
    dropzone.addEventListener(name, function (event) {
      event.preventDefault();
      dropzone.classList.add("dragging");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    dropzone.addEventListener(name, function (event) {
      event.preventDefault();
      dropzone.classList.remove("dragging");
    });
  });
  dropzone.addEventListener("drop", function (event) {
    var files = event.dataTransfer && event.dataTransfer.files;
    if (files && files.length) choose(files[0]);
  });

  function setProgress(sent, total) {
    var percent = total ? Math.min(100, Math.round((sent / total) * 100)) : 0;
    bar.style.width = percent + "%";
    barWrap.setAttribute("aria-valuenow", String(percent));
    progressText.textContent = "Uploading… " + percent + "% (" + megabytes(sent) + " of " + megabytes(total) + ")";
  }

  function detailOf(xhr, fallback) {
    try {
      var body = JSON.parse(xhr.responseText);
      if (body && body.detail) return body.detail;
    } catch (e) { /* not JSON */ }
    return fallback;
  }

  function uploadFile(file, title) {
    return new Promise(function (resolve, reject) {
      var data = new FormData();
      if (title) data.append("title", title);
      data.append("file", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/projects/" + projectId + "/videos");
      xhr.setRequestHeader("X-CSRF-Token", csrfToken());
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable) setProgress(event.loaded, event.total);
      };
      xhr.onload = function () {
        if (xhr.status === 201) resolve(JSON.parse(xhr.responseText));
        else reject(new Error(detailOf(xhr, "The upload failed (" + xhr.status + "). Try again.")));
      };
      xhr.onerror = function () {
        reject(new Error("The connection dropped during the upload. Check your connection and try again."));
      };
      xhr.send(data);
    });
  }

  function startProcessing(video, languages, sourceLanguage) {
    var body = { video_id: video.id, languages: languages };
    if (sourceLanguage) body.source_language = sourceLanguage;
    return fetch("/api/videos/process", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (response.status === 202) return answer.job_id;
        throw new Error((answer && answer.detail) ||
          "The video was uploaded, but processing could not start (" + response.status + ").");
      });
    });
  }

  // The form the person was in goes away: their focus moves to the job's card, whose
  // heading a screen reader reads out, and whose live region then follows the steps.
  function showJob(jobId) {
    var url = "/projects/" + projectId + "/jobs/" + jobId;
    history.replaceState(null, "", url);
    return htmx.ajax("GET", url + "/card", { target: "#upload-area", swap: "innerHTML" })
      .then(function () {
        var heading = document.getElementById("job-card-heading");
        if (heading) heading.focus();
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearError();
    var chips = form.querySelector("[data-language-chips]");
    var languages = window.Reeldocs.chipState(chips);
    if (!chosen) return showError("Choose a video file first: drop it on the box or pick it.");
    if (maxBytes && chosen.size > maxBytes) {
      return showError("This file is larger than the upload limit of " + megabytes(maxBytes) + ". Trim or compress the video.");
    }
    var problem = window.Reeldocs.languagesProblem(chips, languages);
    if (problem) return showError(problem);
    var source = form.querySelector("select[name=source_language]");
    submit.disabled = true;
    progressBox.hidden = false;
    setProgress(0, chosen.size);
    var file = chosen;
    var sending = uploaded && uploaded.file === file
      ? Promise.resolve(uploaded.video)
      : uploadFile(file, titleInput.value.trim());
    sending
      .then(function (video) {
        uploaded = { file: file, video: video };
        progressText.textContent = "Uploaded. Starting the processing job…";
        return startProcessing(video, languages, source ? source.value : "");
      })
      .then(showJob)
      .catch(function (error) {
        submit.disabled = false;
        showError(error.message);
      });
  });
})();
