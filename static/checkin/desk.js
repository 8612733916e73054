/* The check-in desk: barcode scanner (keyboard wedge), camera QR reading, search, result panel, undo.
   No inline script: configuration and translated labels come from data-* attributes on #desk, the CSRF
   token from <meta name="csrf-token"> (sent as X-CSRFToken). Every text from the server goes through
   textContent. The QR decoder (vendor/jsQR.js) is loaded only when the camera is started. */
(function () {
  "use strict";
  var desk = document.getElementById("desk");
  if (!desk) { return; }

  var ICONS = {checked_in: "✓", already_checked_in: "!", waitlisted: "⏸", cancelled: "✕", invalid: "?",
               error: "⚠", undone: "↶", idle: "⌁"};
  var SAME_CODE_PAUSE_MS = 4000;  // the camera keeps seeing the badge just scanned: ignore it for a while
  var CAMERA_INTERVAL_MS = 150;

  function $(id) { return document.getElementById(id); }
  function L(name) { return desk.getAttribute("data-l-" + name) || ""; }
  function url(name) { return desk.getAttribute("data-" + name + "-url"); }
  function withId(template, id) { return template.replace(/\/0(\/check-in|\.pdf)$/, "/" + id + "$1"); }

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var scanForm = $("scan-form"), scanInput = $("scan-code"), sessionSelect = $("desk-session");
  var resultEl = $("result"), iconEl = $("result-icon"), titleEl = $("result-title"), personEl = $("result-person");
  var announceEl = $("result-announce");

  // The outcome, said once by screen readers (the one polite live region of the result): emptied first so that
  // the same words twice in a row (two badges already checked in) are said twice.
  function announce(parts) {
    announceEl.textContent = "";
    window.setTimeout(function () { announceEl.textContent = parts.filter(Boolean).join(". "); }, 50);
  }
  var undoButton = $("undo"), reprintLink = $("reprint");
  var searchInput = $("search-q"), searchStatus = $("search-status"), searchResults = $("search-results");

  function sessionId() { return sessionSelect && sessionSelect.value ? Number(sessionSelect.value) : null; }
  function refreshCounts() { if (window.seminarCounts) { window.seminarCounts.refresh(); } }

  function post(target, body) {
    return fetch(target, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken}
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { throw new Error(data.error || L("network")); }
        return data;
      });
    });
  }

  /* --- sound: generated with Web Audio, no file to fetch ------------------------------------------- */
  var audio = null;
  function signal(ok) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") { audio.resume(); }
      var start = audio.currentTime;
      var tones = ok ? [[880, 0, 0.09], [1320, 0.1, 0.14]] : [[196, 0, 0.22], [147, 0.24, 0.3]];
      tones.forEach(function (tone) {
        var osc = audio.createOscillator(), gain = audio.createGain(), at = start + tone[1];
        osc.type = ok ? "sine" : "square";
        osc.frequency.value = tone[0];
        gain.gain.setValueAtTime(0.0001, at);
        gain.gain.exponentialRampToValueAtTime(ok ? 0.3 : 0.12, at + 0.01);
        gain.gain.exponentialRampToValueAtTime(0.0001, at + tone[2]);
        osc.connect(gain);
        gain.connect(audio.destination);
        osc.start(at);
        osc.stop(at + tone[2] + 0.02);
      });
    } catch (ignored) { /* no audio: the panel says it all */ }
    if (navigator.vibrate) { navigator.vibrate(ok ? 80 : [90, 60, 90]); }
  }

  /* --- the result panel ------------------------------------------------------------------------------ */
  function add(parent, tag, className, text) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    if (text !== undefined) { el.textContent = text; }
    parent.appendChild(el);
    return el;
  }

  function setPanel(state, title) {
    clearUndo();
    resultEl.className = "result result-" + state;
    iconEl.textContent = ICONS[state] || "?";
    titleEl.textContent = title;
    personEl.replaceChildren();
    reprintLink.hidden = true;
  }

  function showResult(data) {
    setPanel(data.status, data.message);
    if (data.without_seat) { resultEl.classList.add("result-flagged"); }
    var person = data.registration;
    if (person) {
      add(personEl, "p", "result-name", person.name);
      var line = [person.organisation, person.category].filter(Boolean).join(" · ");
      if (line) { add(personEl, "p", "result-organisation", line); }
      if (person.round_tables.length) {
        var list = add(personEl, "ul", "result-tables");
        list.setAttribute("aria-label", L("round-tables"));
        person.round_tables.forEach(function (table) { add(list, "li", "", table.time + " · " + table.title); });
      }
      reprintLink.href = withId(url("badge"), person.id);
      reprintLink.hidden = false;
    }
    if (data.warning) { add(personEl, "p", "result-warning", "⚠ " + data.warning); }
    if (data.status === "checked_in" && data.undo_seconds) { offerUndo(data); }
    announce([data.message, person && person.name, data.warning]);
    signal(data.status === "checked_in");
  }

  function showError(error) {
    setPanel("error", error.message || L("network"));
    announce([error.message || L("network")]);
    signal(false);
  }

  /* --- undo within the minute -------------------------------------------------------------------------- */
  var undoTimer = null;
  function clearUndo() {
    if (undoTimer) { window.clearInterval(undoTimer); undoTimer = null; }
    undoButton.hidden = true;
    undoButton.onclick = null;
  }

  function offerUndo(data) {
    var deadline = Date.now() + data.undo_seconds * 1000;
    function label() {
      var left = Math.ceil((deadline - Date.now()) / 1000);
      if (left <= 0) { clearUndo(); return; }
      undoButton.textContent = L("undo").replace("{s}", left);
    }
    label();
    undoButton.hidden = false;
    undoButton.onclick = function () {
      clearUndo();
      post(url("undo"), {registration_id: data.registration.id, checked_in_at: data.checked_in_at,
                         session_id: data.session_id})
        .then(function (answer) { setPanel("undone", answer.message); announce([answer.message]); }, showError)
        .then(function () { refreshCounts(); scanInput.focus(); });
    };
    undoTimer = window.setInterval(label, 1000);
  }

  /* --- scanning: keyboard-wedge scanner, typed code, camera --------------------------------------------- */
  function submitCode(code) {
    return post(url("scan"), {code: code, session_id: sessionId()}).then(showResult, showError).then(refreshCounts);
  }

  scanForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var code = scanInput.value.trim();
    scanInput.value = "";
    scanInput.focus();
    if (code) { submitCode(code); }
  });

  // A scanner types wherever the focus is: keys typed outside any field go to the code field.
  // A scanner types into the page wherever focus is: printable keys go to the code field, unless focus is on a
  // control (a button, a link, the counts' <summary>…) whose own keys they are, and never Space, which presses
  // buttons.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var onControl = target && target.closest &&
      target.closest("a[href], button, summary, input, textarea, select, [contenteditable], [tabindex]");
    if (!onControl && event.key && event.key.length === 1 && event.key !== " " &&
        !event.ctrlKey && !event.metaKey && !event.altKey) {
      scanInput.focus();
    }
  });

  var cameraToggle = $("camera-toggle"), cameraBox = $("camera"), video = $("camera-video"),
      cameraStatus = $("camera-status");
  var stream = null, detector = null, canvas = null, context = null, cameraTimer = null;
  var lastCode = "", lastCodeAt = 0;

  function loadDecoder() {
    if ("BarcodeDetector" in window) {
      try { detector = new window.BarcodeDetector({formats: ["qr_code"]}); return Promise.resolve(); }
      catch (ignored) { detector = null; }
    }
    if (window.jsQR) { return Promise.resolve(); }
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = url("decoder");
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function decodeFrame() {
    if (video.readyState < 2) { return Promise.resolve(null); }
    if (detector) {
      return detector.detect(video).then(function (codes) { return codes.length ? codes[0].rawValue : null; });
    }
    var scale = Math.min(1, 640 / (video.videoWidth || 640));
    var width = Math.round(video.videoWidth * scale), height = Math.round(video.videoHeight * scale);
    if (!width || !height) { return Promise.resolve(null); }
    if (!canvas) {
      canvas = document.createElement("canvas");
      context = canvas.getContext("2d", {willReadFrequently: true});
    }
    canvas.width = width;
    canvas.height = height;
    context.drawImage(video, 0, 0, width, height);
    var found = window.jsQR(context.getImageData(0, 0, width, height).data, width, height,
                            {inversionAttempts: "dontInvert"});
    return Promise.resolve(found ? found.data : null);
  }

  function cameraTick() {
    if (!stream) { return; }
    decodeFrame().then(function (code) {
      var now = Date.now();
      if (code && (code !== lastCode || now - lastCodeAt > SAME_CODE_PAUSE_MS)) {
        lastCode = code;
        lastCodeAt = now;
        submitCode(code);
      } else if (code) {
        lastCodeAt = now;
      }
    }).catch(function () { /* a frame that cannot be read: try the next one */ }).then(function () {
      if (stream) { cameraTimer = window.setTimeout(cameraTick, CAMERA_INTERVAL_MS); }
    });
  }

  function stopCamera() {
    if (cameraTimer) { window.clearTimeout(cameraTimer); cameraTimer = null; }
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    video.srcObject = null;
    cameraBox.hidden = true;
    cameraToggle.textContent = L("camera-start");
    cameraToggle.setAttribute("aria-pressed", "false");
  }

  function startCamera() {
    cameraBox.hidden = false;
    cameraStatus.textContent = L("camera-starting");
    loadDecoder()
      .then(function () {
        return navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false});
      })
      .then(function (media) { stream = media; video.srcObject = media; return video.play(); })
      .then(function () {
        cameraToggle.textContent = L("camera-stop");
        cameraToggle.setAttribute("aria-pressed", "true");
        cameraStatus.textContent = L("camera-on");
        cameraTick();
      })
      .catch(function () {
        stopCamera();
        cameraBox.hidden = false;
        cameraStatus.textContent = L("camera-error");
      });
  }

  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    cameraToggle.hidden = false;
    cameraToggle.addEventListener("click", function () { if (stream) { stopCamera(); } else { startCamera(); } });
  }

  /* --- search for people without their badge ------------------------------------------------------------ */
  var searchTimer = null, searchSequence = 0;

  function hitState(hit) {
    if (hit.checked_in_at) { return L("checked-in-at").replace("{t}", hit.checked_in_time); }
    return L("status-" + hit.registration.status);
  }

  function renderHits(hits) {
    searchResults.replaceChildren();
    searchStatus.textContent = hits.length ? L("results").replace("{n}", hits.length) : L("no-results");
    hits.forEach(function (hit) {
      var person = hit.registration;
      var item = add(searchResults, "li", "search-hit search-hit-" + person.status +
                     (hit.checked_in_at ? " search-hit-in" : ""));
      var who = add(item, "div", "search-who");
      add(who, "strong", "search-name", person.name);
      var details = [person.organisation, person.category, hit.email].filter(Boolean).join(" · ");
      if (details) { add(who, "span", "search-details", details); }
      add(who, "span", "search-state", hitState(hit));
      var actions = add(item, "div", "search-actions");
      var button = add(actions, "button", "button", L("check-in"));
      button.type = "button";
      button.setAttribute("data-registration", person.id);
      button.setAttribute("aria-label", L("check-in") + " : " + person.name);
      var reprint = add(actions, "a", "button button-secondary", L("reprint"));
      reprint.href = withId(url("badge"), person.id);
      reprint.target = "_blank";
      reprint.rel = "noopener";
    });
  }

  function runSearch() {
    var query = searchInput.value.trim(), sequence = ++searchSequence;
    if (query.length < 2) { searchResults.replaceChildren(); searchStatus.textContent = ""; return; }
    searchStatus.textContent = L("searching");
    fetch(url("search") + "?q=" + encodeURIComponent(query), {credentials: "same-origin",
                                                              headers: {"Accept": "application/json"}})
      .then(function (response) { if (!response.ok) { throw new Error(L("network")); } return response.json(); })
      .then(function (data) { if (sequence === searchSequence) { renderHits(data.results); } })
      .catch(function () { if (sequence === searchSequence) { searchStatus.textContent = L("network"); } });
  }

  searchInput.addEventListener("input", function () {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(runSearch, 200);
  });
  searchInput.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { searchInput.value = ""; runSearch(); scanInput.focus(); }
  });
  searchResults.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-registration]");
    if (!button) { return; }
    button.disabled = true;
    post(withId(url("check-in"), button.getAttribute("data-registration")), {session_id: sessionId()})
      .then(showResult, showError)
      .then(function () { refreshCounts(); runSearch(); scanInput.focus(); });  // ready for the next person
  });

  if (sessionSelect) {
    sessionSelect.addEventListener("change", function () { setPanel("idle", L("ready")); scanInput.focus(); });
  }
})();
