/* Study heartbeat: while the lecture page is visible, tell the server every
   data-heartbeat-seconds that the official is still studying. The server measures
   and caps the credit; this script only reports presence and the video's end. */
(function () {
    "use strict";
    var article = document.querySelector("[data-heartbeat-url]");
    if (!article) { return; }
    var url = article.getAttribute("data-heartbeat-url");
    var interval = Math.max(1, parseInt(article.getAttribute("data-heartbeat-seconds"), 10) || 30) * 1000;
    var timer = null;
    var statusEl = document.querySelector("[data-study-status]");
    var minutesEl = document.querySelector("[data-study-minutes]");
    var barEl = document.querySelector("[data-study-bar]");

    function csrfToken() {
        var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
        return match ? decodeURIComponent(match[1]) : "";
    }

    function show(data) {
        if (minutesEl) { minutesEl.textContent = Math.floor(data.credited_seconds / 60); }
        if (barEl) { barEl.value = data.credited_seconds; }
        if (statusEl && data.completed) { statusEl.textContent = statusEl.getAttribute("data-completed-text"); }
    }

    function send(event) {
        var body = new URLSearchParams();
        body.append("event", event);
        return fetch(url, {
            method: "POST",
            credentials: "same-origin",
            headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "XMLHttpRequest" },
            body: body
        }).then(function (response) {
            if (response.status === 401 || response.status === 403 || response.status === 404) { stop(); }
            return response.ok ? response.json() : null;
        }).then(function (data) {
            if (data) { show(data); }
        }).catch(function () { /* offline: the next heartbeat measures from the server's anchor */ });
    }

    function start() {
        if (timer !== null) { return; }
        send("start");
        timer = window.setInterval(function () { send("beat"); }, interval);
    }

    function stop() {
        if (timer !== null) { window.clearInterval(timer); timer = null; }
    }

    document.addEventListener("visibilitychange", function () {
        if (document.visibilityState === "visible") { start(); }
        else { send("beat"); stop(); }
    });
    document.querySelectorAll("video[data-study-video]").forEach(function (video) {
        video.addEventListener("ended", function () { send("ended"); });
    });
    if (document.visibilityState === "visible") { start(); }
})();
