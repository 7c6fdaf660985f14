/* Exam page, anti-cheating switches (exams/integrity.py). Loaded only when the
   session turns one on. The page reports what it sees: leaving the page (hidden,
   or the window losing focus), leaving full screen, a blocked copy or paste; the
   server counts, logs and decides, and this page shows what it decided. These
   measures deter; a browser cannot be made to prevent (README, "Exam integrity"). */
(function () {
    "use strict";
    var form = document.getElementById("attempt-form");
    if (!form) { return; }
    var d = form.dataset;
    var notice = document.getElementById("integrity-notice");
    var gate = document.getElementById("fullscreen-gate");
    var over = false;
    var away = false;
    var lastCopyReport = 0;

    function csrfToken() {
        var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
        return match ? decodeURIComponent(match[1])
            : form.querySelector("input[name=csrfmiddlewaretoken]").value;
    }

    function show(text) {
        notice.textContent = text;
        notice.hidden = false;
    }

    function end(text, then) {
        over = true;
        show(text);
        var inputs = form.querySelectorAll("input, button");
        for (var i = 0; i < inputs.length; i++) { inputs[i].disabled = true; }
        window.setTimeout(then, 2500);
    }

    function report(kind) {
        if (over) { return; }
        var body = new URLSearchParams();
        body.append("kind", kind);
        fetch(d.reportUrl, {
            method: "POST",
            body: body,
            credentials: "same-origin",
            cache: "no-store",
            headers: {"X-CSRFToken": csrfToken(), "X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}
        }).then(function (r) {
            return r.json().then(function (data) { return {status: r.status, data: data || {}}; });
        }).then(function (result) {
            var data = result.data;
            if (data.submitted || (result.status === 409 && data.closed)) {
                end(data.error, function () { window.location.href = d.resultUrl; });
            } else if (result.status === 409 && data.locked) {
                end(data.error, function () { window.location.reload(); });
            } else if (data.counted) {
                show(data.limit ? d.msgLeftCount.replace(/\{count\}/g, data.departures)
                    .replace(/\{limit\}/g, data.limit) : d.msgLeft);
            }
        }).catch(function () { /* offline: nothing is counted, nothing is lost */ });
    }

    // Leaving the page: hidden (another tab or app) or the window losing focus
    // (another window). One departure until the official is back.
    function leave() {
        if (away || over || d.confirming) { return; }
        away = true;
        report("left_page");
    }
    function back() {
        if (document.visibilityState !== "hidden" && document.hasFocus()) { away = false; }
    }
    if (d.countLeaving) {
        document.addEventListener("visibilitychange", function () {
            if (document.visibilityState === "hidden") { leave(); } else { back(); }
        });
        window.addEventListener("blur", function () {
            // A moment later: the submit confirmation also takes the focus.
            window.setTimeout(function () { if (!document.hasFocus()) { leave(); } }, 300);
        });
        window.addEventListener("focus", back);
    }

    // Full screen: asked for on arrival (it needs a click), and leaving it counts.
    if (d.fullscreen && gate && document.fullscreenEnabled) {
        var entered = false;
        var showGate = function () { if (!over) { gate.hidden = false; } };
        document.getElementById("enter-fullscreen").addEventListener("click", function () {
            document.documentElement.requestFullscreen().then(function () {
                entered = true;
                gate.hidden = true;
            }, function () { gate.hidden = true; });  // refused: the exam goes on
        });
        document.addEventListener("fullscreenchange", function () {
            if (document.fullscreenElement) { gate.hidden = true; return; }
            if (entered && !over) { report("left_fullscreen"); showGate(); }
        });
        showGate();
    }

    if (d.blockCopy) {
        document.body.classList.add("no-copy");
        var refuse = function (event) {
            event.preventDefault();
            if (event.type === "selectstart" || event.type === "dragstart") { return; }
            show(d.msgCopy);
            if (Date.now() - lastCopyReport > 10000) {
                lastCopyReport = Date.now();
                report("copy_blocked");
            }
        };
        ["copy", "cut", "paste", "contextmenu", "selectstart", "dragstart"].forEach(function (type) {
            document.addEventListener(type, refuse);
        });
    }
})();
