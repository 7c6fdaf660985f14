/* Study heartbeat: while the lecture page is visible, tell the server every
   data-heartbeat-seconds that the official is still studying. The server measures
   and caps the credit; this script only reports presence and the video's end.

   The study clock ([data-study-clock], mm:ss) and the bar ([data-study-bar]) tick
   every second between heartbeats, so progress does not look frozen, but only as
   the server's rules would count (learning/credits.py): while the page is visible
   and beating, never past the lecture's required time, and never more than one
   heartbeat ahead of the figure the server last granted. Every heartbeat's answer
   puts them back on the server's figure; a beat that granted nothing (another tab
   is counting this time) stops the ticking until one grants again. The minutes
   "credited" stay the server's own figure. */
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
    var clockEl = document.querySelector("[data-study-clock]");
    var noteEl = document.querySelector("[data-study-note]");

    function number(value, fallback) {
        var parsed = parseInt(value, 10);
        return isNaN(parsed) ? fallback : parsed;
    }

    // The server's last figure, and the shown one: `base` seconds, counting on from
    // `since` (a performance.now() time) or standing still when `since` is null.
    var granted = clockEl ? number(clockEl.getAttribute("data-seconds"), 0) : (barEl ? number(barEl.value, 0) : 0);
    var required = clockEl ? number(clockEl.getAttribute("data-required-seconds"), 0) : (barEl ? number(barEl.max, 0) : 0);
    var base = granted;
    var since = null;
    var ticker = null;

    function pad(n) { return n < 10 ? "0" + n : String(n); }

    function estimate() {
        var shown = base;
        if (since !== null) { shown += Math.floor((performance.now() - since) / 1000); }
        return Math.max(0, Math.min(shown, granted + interval / 1000, required || Infinity));
    }

    function render() {
        var seconds = estimate();
        if (clockEl) {
            clockEl.textContent = pad(Math.floor(seconds / 60)) + ":" + pad(seconds % 60);
            clockEl.setAttribute("datetime", "PT" + seconds + "S");
        }
        if (barEl) { barEl.value = seconds; }
        if (noteEl) { noteEl.hidden = required > 0 && seconds >= required; }
        if (since !== null && required > 0 && seconds >= required) { pause(); }
    }

    function counts() {
        return timer !== null && document.visibilityState === "visible" && !(required > 0 && granted >= required);
    }

    function tick() {
        if (!counts()) { pause(); return; }
        if (since === null) { since = performance.now(); }
        if (ticker === null) { ticker = window.setInterval(render, 1000); }
    }

    function pause() {
        base = estimate();
        since = null;
        if (ticker !== null) { window.clearInterval(ticker); ticker = null; }
    }

    // Back on the server's figure; ticking on from it only if the time counts.
    function sync(seconds, ticking) {
        granted = base = seconds;
        since = null;
        if (clockEl) { clockEl.setAttribute("data-server-seconds", String(seconds)); }
        if (ticking) { tick(); } else { pause(); }
        render();
    }

    function show(data, event) {
        if (minutesEl) { minutesEl.textContent = Math.floor(data.credited_seconds / 60); }
        if (typeof data.credit_seconds === "number") { required = data.credit_seconds; }
        if (statusEl && data.completed) { statusEl.textContent = statusEl.getAttribute("data-completed-text"); }
        sync(data.credited_seconds, event === "start" || data.added_seconds > 0);
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
            if (data) { show(data, event); }
        }).catch(function () { /* offline: the next heartbeat measures from the server's anchor */ });
    }

    function csrfToken() {
        var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
        return match ? decodeURIComponent(match[1]) : "";
    }

    function start() {
        if (timer !== null) { return; }
        timer = window.setInterval(function () { send("beat"); }, interval);
        tick();
        send("start");
    }

    function stop() {
        if (timer !== null) { window.clearInterval(timer); timer = null; }
        pause();
        render();
    }

    document.addEventListener("visibilitychange", function () {
        if (document.visibilityState === "visible") { start(); }
        else { stop(); send("beat"); }
    });
    document.querySelectorAll("video[data-study-video]").forEach(function (video) {
        video.addEventListener("ended", function () { send("ended"); });
    });
    if (document.visibilityState === "visible") { start(); }
})();
