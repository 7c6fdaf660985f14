/* Exam attempt page: saves each answer when it changes (a choice at once; a blank
   or a written answer after a pause in typing of 1.5 seconds, and when the field is
   left), re-sends unsaved answers every 20 seconds and retries failures with
   back-off, shows the save state per question (and a written answer's character
   count) and counts down from the server's deadline.
   Nothing answered is lost to the browser or the session either: unsent answers are
   also kept in this browser's storage and restored after a reload or a crash; a
   page left quiet checks in with the server, so reading without clicking never
   lets the session idle out; and when the official has been signed out all the
   same, the page says so, keeps the answers and sends them once they sign in again
   (in another tab). No dependencies. */
(function () {
    "use strict";
    var form = document.getElementById("attempt-form");
    if (!form) { return; }
    var d = form.dataset;
    var warning = document.getElementById("save-warning");
    var failedText = warning.textContent;
    var pending = {};      // position -> response not yet confirmed by the server
    var inFlight = {};     // position -> true while a request is out
    var retryDelay = {};   // position -> next retry delay in ms
    var closed = false;
    var signedOut = false;
    var keepAliveMs = Math.max(1, parseInt(d.keepaliveSeconds, 10) || 300) * 1000;
    var keepAliveTimer = null;
    var typingTimer = {};  // position -> the save waiting for a pause in typing
    var TYPING_PAUSE_MS = 1500;
    var practice = d.practice === "1";
    var lastContact = 0;   // when the server last answered (ms)
    // The server's clock minus this browser's, to compare kept answers with the
    // times the server saved answers at (data-saved-at).
    var skew = (parseInt(d.serverNow, 10) || Date.now()) - Date.now();

    function fieldset(position) { return document.getElementById("q-" + position); }

    function csrfToken() {
        // Read at each request: signing in again (in another tab) renews the token.
        var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
        return match ? decodeURIComponent(match[1])
            : form.querySelector("input[name=csrfmiddlewaretoken]").value;
    }

    // Unsent answers, kept in this browser until the server confirms them.
    var kept = (function () {
        var prefix = "xuefa-attempt:";
        var key = prefix + d.attemptId;
        var storage = null;
        try { storage = window.localStorage; storage.getItem(key); } catch (e) { storage = null; }
        function read() {
            if (!storage) { return {}; }
            try { return JSON.parse(storage.getItem(key) || "{}") || {}; } catch (e) { return {}; }
        }
        function write(data) {
            if (!storage) { return; }
            try {
                if (Object.keys(data).length) { storage.setItem(key, JSON.stringify(data)); }
                else { storage.removeItem(key); }
            } catch (e) { /* full or refused: the retries still hold the answer */ }
        }
        return {
            read: read,
            put: function (position, response) {
                var data = read();
                data[position] = {response: response, at: Date.now() + skew};
                write(data);
            },
            drop: function (position, response) {
                var data = read();
                if (data[position] && data[position].response === response) {
                    delete data[position];
                    write(data);
                }
            },
            forgetOtherAttempts: function () {
                if (!storage) { return; }
                try {
                    for (var i = storage.length - 1; i >= 0; i--) {
                        var other = storage.key(i);
                        if (other && other.indexOf(prefix) === 0 && other !== key) { storage.removeItem(other); }
                    }
                } catch (e) { /* nothing to tidy */ }
            }
        };
    })();

    // How a question is answered (data-kind): "choice", "blanks" or "text".
    function kindOf(set) { return set.dataset.kind || "choice"; }

    // The response as the save sends it: the letters shown for a choice; for blanks
    // a JSON array of their texts; a written answer's text; "" when unanswered.
    function responseOf(position) {
        var set = fieldset(position);
        var kind = kindOf(set);
        if (kind === "blanks") {
            var blanks = set.querySelectorAll("input.blank");
            var texts = [];
            var any = false;
            for (var b = 0; b < blanks.length; b++) {
                texts.push(blanks[b].value.trim());
                any = any || texts[b] !== "";
            }
            return any ? JSON.stringify(texts) : "";
        }
        if (kind === "text") {
            var text = set.querySelector("textarea").value;
            return text.trim() ? text : "";
        }
        var inputs = set.querySelectorAll("input:checked");
        var letters = [];
        for (var i = 0; i < inputs.length; i++) { letters.push(inputs[i].value); }
        return letters.sort().join("");
    }

    function showResponse(position, response) {
        var set = fieldset(position);
        var kind = kindOf(set);
        if (kind === "blanks") {
            var texts = [];
            try { texts = response ? JSON.parse(response) : []; } catch (e) { texts = []; }
            var blanks = set.querySelectorAll("input.blank");
            for (var b = 0; b < blanks.length; b++) {
                blanks[b].value = typeof texts[b] === "string" ? texts[b] : "";
            }
            return;
        }
        if (kind === "text") {
            set.querySelector("textarea").value = response;
            updateCount(set);
            return;
        }
        var inputs = set.querySelectorAll("input");
        for (var i = 0; i < inputs.length; i++) {
            inputs[i].checked = response.indexOf(inputs[i].value) !== -1;
        }
    }

    function isAnswered(set) {
        if (kindOf(set) === "choice") { return !!set.querySelector("input:checked"); }
        return responseOf(set.dataset.position) !== "";
    }

    // A written answer's "n of 5000 characters", counted as its maxlength counts.
    function updateCount(set) {
        var area = set.querySelector("textarea");
        var count = set.querySelector(".char-count");
        if (!area || !count) { return; }
        var max = parseInt(count.dataset.max, 10) || area.maxLength;
        count.textContent = d.msgCount.replace("{count}", area.value.length).replace("{max}", max);
        count.classList.toggle("near-limit", area.value.length > max * 0.9);
    }

    function setState(position, text, cls) {
        var el = fieldset(position).querySelector(".save-state");
        el.textContent = text;
        el.className = "save-state " + (cls || "");
    }

    function updateWarning() {
        if (closed) { return; }
        var failing = form.querySelectorAll(".save-state.failed").length > 0;
        warning.textContent = "";
        if (signedOut) {
            warning.appendChild(document.createTextNode(d.msgSignedOut + " "));
            var link = document.createElement("a");
            link.href = d.loginUrl;
            link.target = "_blank";
            link.rel = "noopener";
            link.textContent = d.msgSignIn;
            warning.appendChild(link);
        } else {
            warning.textContent = failedText;
        }
        warning.hidden = !(failing || signedOut);
    }

    function updateProgress() {
        var total = parseInt(document.getElementById("progress").dataset.total, 10);
        var done = 0;
        var sets = form.querySelectorAll("fieldset.question");
        for (var i = 0; i < sets.length; i++) {
            if (isAnswered(sets[i])) { done++; }
        }
        document.getElementById("progress").textContent =
            d.msgProgress.replace("{done}", done).replace("{total}", total);
    }

    function showFeedback(position, feedback) {
        var box = fieldset(position).querySelector(".feedback");
        box.hidden = false;
        if (feedback.withheld) {
            // A formal exam still open to this official asks it: no verdict, no key.
            box.className = "feedback is-withheld";
            box.textContent = feedback.message;
            return;
        }
        box.className = "feedback " + (feedback.correct ? "is-correct" : "is-wrong");
        box.textContent = "";
        var head = document.createElement("p");
        head.textContent = feedback.correct ? d.msgCorrect : d.msgWrong + " " + feedback.answer;
        box.appendChild(head);
        [feedback.explanation, feedback.legal_basis].forEach(function (text) {
            if (text) { var p = document.createElement("p"); p.textContent = text; box.appendChild(p); }
        });
    }

    // The attempt is over (to the result), or bound to another browser (`locked`:
    // reload, and the page says what to do).
    function closeAttempt(message, locked) {
        closed = true;
        window.clearTimeout(keepAliveTimer);
        var inputs = form.querySelectorAll("input[type=radio], input[type=checkbox]");
        for (var i = 0; i < inputs.length; i++) { inputs[i].disabled = true; }
        var fields = form.querySelectorAll("input.blank, textarea");
        for (var f = 0; f < fields.length; f++) { fields[f].readOnly = true; }
        warning.textContent = message;
        warning.hidden = false;
        window.setTimeout(function () {
            if (locked) { window.location.reload(); } else { window.location.href = d.resultUrl; }
        }, 2500);
    }

    // One request to the server, as {status, data}. A reply that is not the JSON
    // these endpoints give (a proxy's error page, a redirect to the sign-in page)
    // counts as a failure to retry; a redirect means the session is gone.
    function request(url, body) {
        return fetch(url, {
            method: body ? "POST" : "GET",
            body: body,
            credentials: "same-origin",
            cache: "no-store",
            headers: {
                "X-CSRFToken": csrfToken(),
                "X-Requested-With": "XMLHttpRequest",
                "Accept": "application/json"
            }
        }).then(function (r) {
            var status = r.redirected ? 401 : r.status;
            return r.json().then(
                function (data) { return {status: status, data: data || {}}; },
                function () { return {status: status < 400 ? 502 : status, data: {}}; }
            );
        }).then(function (result) {
            lastContact = Date.now();
            var wasSignedOut = signedOut;
            signedOut = result.status === 401;
            if (wasSignedOut !== signedOut) { updateWarning(); }
            if (wasSignedOut && !signedOut) { resendAll(); }
            scheduleKeepAlive();
            return result;
        });
    }

    function send(position) {
        if (closed || inFlight[position] || !(position in pending)) { return; }
        var response = pending[position];
        inFlight[position] = true;
        setState(position, d.msgSaving, "saving");
        var body = new URLSearchParams();
        body.append("position", position);
        body.append("response", response);
        request(d.saveUrl, body).then(function (result) {
            inFlight[position] = false;
            if (result.status === 200 && result.data.ok) {
                if (pending[position] === response) { delete pending[position]; }
                kept.drop(position, response);
                retryDelay[position] = 0;
                setState(position, d.msgSaved, "saved");
                if (result.data.feedback) { showFeedback(position, result.data.feedback); }
                if (typeof result.data.remaining === "number") { countdown.sync(result.data.remaining); }
                if (position in pending) { send(position); }
            } else if (result.status === 409) {
                setState(position, d.msgClosed, "failed");
                closeAttempt(result.data.error, result.data.locked);
            } else if (result.status === 400 || result.status === 404) {
                // Refused for good (not a valid answer, not this official's attempt).
                if (pending[position] === response) { delete pending[position]; }
                kept.drop(position, response);
                setState(position, result.data.error || d.msgFailed, "failed");
            } else {
                throw new Error("save failed");  // signed out, offline, server busy: retry
            }
            updateWarning();
        }).catch(function () {
            inFlight[position] = false;
            if (closed) { return; }
            setState(position, d.msgFailed, "failed");
            updateWarning();
            var delay = Math.min(30000, (retryDelay[position] || 1000) * 2);
            retryDelay[position] = delay;
            window.setTimeout(function () { send(position); }, delay);
        });
    }

    function resendAll() {
        Object.keys(pending).forEach(function (position) {
            retryDelay[position] = 0;
            send(position);
        });
    }

    // Check in when the page has been quiet for a while, and when it comes back
    // into view: keeps the session alive, resets the countdown, notices the end.
    function checkIn() {
        if (closed) { return; }
        request(d.statusUrl).then(function (result) {
            if (result.status === 200 && result.data.ok) { countdown.sync(result.data.remaining); }
            else if (result.status === 409) { closeAttempt(result.data.error, result.data.locked); }
        }).catch(scheduleKeepAlive);
    }

    function scheduleKeepAlive() {
        window.clearTimeout(keepAliveTimer);
        if (!closed) { keepAliveTimer = window.setTimeout(checkIn, keepAliveMs); }
    }

    // An answer changed: kept in this browser at once, sent now (`now`) or after a
    // pause in typing.
    function edited(position, now) {
        pending[position] = responseOf(position);
        kept.put(position, pending[position]);
        updateProgress();
        window.clearTimeout(typingTimer[position]);
        delete typingTimer[position];
        if (now) {
            send(position);
        } else {
            typingTimer[position] = window.setTimeout(function () {
                delete typingTimer[position];
                send(position);
            }, TYPING_PAUSE_MS);
        }
    }

    // A choice is sent when made; a blank or a written answer when the field is left
    // (change fires then, if it changed).
    form.addEventListener("change", function (event) {
        var set = event.target.closest("fieldset.question");
        if (!set || closed) { return; }
        edited(set.dataset.position, true);
    });

    // Typing in a blank or a written answer: sent after a pause. A practice's blanks
    // wait until the field is left: their feedback gives every blank's answer.
    form.addEventListener("input", function (event) {
        var field = event.target;
        var set = field.closest("fieldset.question");
        if (!set || closed || !field.matches("input.blank, textarea")) { return; }
        if (field.tagName === "TEXTAREA") { updateCount(set); }
        if (practice && kindOf(set) === "blanks") {
            kept.put(set.dataset.position, responseOf(set.dataset.position));
            updateProgress();
            return;
        }
        edited(set.dataset.position, false);
    });

    // Enter in a blank would submit the whole exam: it saves, and moves to the next
    // blank of the question.
    form.addEventListener("keydown", function (event) {
        var field = event.target;
        if (event.key !== "Enter" || !field.matches("input.blank")) { return; }
        event.preventDefault();
        var set = field.closest("fieldset.question");
        var blanks = Array.prototype.slice.call(set.querySelectorAll("input.blank"));
        var next = blanks[blanks.indexOf(field) + 1];
        if (!closed && set.dataset.position in pending) { edited(set.dataset.position, true); }
        if (next) { next.focus(); }
    });

    // Backup: re-send whatever is still unconfirmed.
    window.setInterval(function () {
        Object.keys(pending).forEach(send);
    }, 20000);

    function comeBack() {
        if (closed || document.visibilityState === "hidden") { return; }
        if (signedOut || Date.now() - lastContact > 5000) { checkIn(); }
        resendAll();
    }
    document.addEventListener("visibilitychange", comeBack);
    window.addEventListener("focus", comeBack);
    window.addEventListener("online", comeBack);

    window.addEventListener("beforeunload", function (event) {
        if (!closed && Object.keys(pending).length) { event.preventDefault(); event.returnValue = ""; }
    });

    function withFreshToken() {
        form.querySelector("input[name=csrfmiddlewaretoken]").value = csrfToken();
    }

    form.addEventListener("submit", function (event) {
        // The confirmation dialog takes the focus: not a departure (integrity.js).
        form.dataset.confirming = "1";
        var sure = closed || window.confirm(d.msgConfirm);
        delete form.dataset.confirming;
        if (!sure) { event.preventDefault(); return; }
        withFreshToken();
        closed = true;
        pending = {};
    });

    var countdown = (function () {
        var el = document.getElementById("countdown");
        var end = Date.now() + parseInt(el.dataset.remaining, 10) * 1000;
        function pad(n) { return (n < 10 ? "0" : "") + n; }
        function tick() {
            var left = Math.max(0, Math.round((end - Date.now()) / 1000));
            el.textContent = Math.floor(left / 3600) + ":" + pad(Math.floor(left / 60) % 60) + ":" + pad(left % 60);
            el.parentNode.classList.toggle("urgent", left < 300);
            if (left === 0 && !closed) {
                closed = true;
                withFreshToken();
                form.submit();
            }
        }
        tick();
        window.setInterval(tick, 1000);
        return {sync: function (remaining) { end = Date.now() + remaining * 1000; }};
    })();

    // Answers this browser kept but the server never confirmed (a reload, a crash,
    // a sign-out): shown again and sent, unless the server holds a later save (the
    // official went on from another device).
    kept.forgetOtherAttempts();
    var stored = kept.read();
    Object.keys(stored).forEach(function (position) {
        var set = fieldset(position);
        var entry = stored[position];
        if (!set || typeof entry.response !== "string" || responseOf(position) === entry.response
                || entry.at < (parseInt(set.dataset.savedAt, 10) || 0)) {
            kept.drop(position, entry.response);
            return;
        }
        showResponse(position, entry.response);
        pending[position] = entry.response;
        send(position);
    });
    var written = form.querySelectorAll("fieldset.question[data-kind=text]");
    for (var w = 0; w < written.length; w++) { updateCount(written[w]); }
    updateProgress();
    scheduleKeepAlive();
})();
