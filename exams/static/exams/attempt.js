/* Exam attempt page: saves each answer when it changes, re-sends unsaved answers
   every 20 seconds and retries failures with back-off, shows the save state per
   question and counts down from the server's deadline. No dependencies. */
(function () {
    "use strict";
    var form = document.getElementById("attempt-form");
    if (!form) { return; }
    var d = form.dataset;
    var saveUrl = d.saveUrl;
    var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    var warning = document.getElementById("save-warning");
    var pending = {};      // position -> response not yet confirmed by the server
    var inFlight = {};     // position -> true while a request is out
    var retryDelay = {};   // position -> next retry delay in ms
    var closed = false;

    function fieldset(position) { return document.getElementById("q-" + position); }

    function responseOf(position) {
        var inputs = fieldset(position).querySelectorAll("input:checked");
        var letters = [];
        for (var i = 0; i < inputs.length; i++) { letters.push(inputs[i].value); }
        return letters.sort().join("");
    }

    function setState(position, text, cls) {
        var el = fieldset(position).querySelector(".save-state");
        el.textContent = text;
        el.className = "save-state " + (cls || "");
    }

    function updateWarning() {
        var failing = form.querySelectorAll(".save-state.failed").length > 0;
        warning.hidden = !failing;
    }

    function updateProgress() {
        var total = parseInt(document.getElementById("progress").dataset.total, 10);
        var done = 0;
        var sets = form.querySelectorAll("fieldset.question");
        for (var i = 0; i < sets.length; i++) {
            if (sets[i].querySelector("input:checked")) { done++; }
        }
        document.getElementById("progress").textContent =
            d.msgProgress.replace("{done}", done).replace("{total}", total);
    }

    function showFeedback(position, feedback) {
        var box = fieldset(position).querySelector(".feedback");
        box.hidden = false;
        box.className = "feedback " + (feedback.correct ? "is-correct" : "is-wrong");
        box.textContent = "";
        var head = document.createElement("p");
        head.textContent = feedback.correct ? d.msgCorrect : d.msgWrong + " " + feedback.answer;
        box.appendChild(head);
        [feedback.explanation, feedback.legal_basis].forEach(function (text) {
            if (text) { var p = document.createElement("p"); p.textContent = text; box.appendChild(p); }
        });
    }

    function closeAttempt(message) {
        closed = true;
        var inputs = form.querySelectorAll("input[type=radio], input[type=checkbox]");
        for (var i = 0; i < inputs.length; i++) { inputs[i].disabled = true; }
        warning.textContent = message;
        warning.hidden = false;
        window.setTimeout(function () { window.location.href = d.resultUrl; }, 2500);
    }

    function send(position) {
        if (closed || inFlight[position] || !(position in pending)) { return; }
        var response = pending[position];
        inFlight[position] = true;
        setState(position, d.msgSaving, "saving");
        var body = new FormData();
        body.append("position", position);
        body.append("response", response);
        fetch(saveUrl, {
            method: "POST",
            body: body,
            credentials: "same-origin",
            headers: {"X-CSRFToken": csrf, "X-Requested-With": "fetch"}
        }).then(function (r) {
            return r.json().then(function (data) { return {status: r.status, data: data}; });
        }).then(function (result) {
            inFlight[position] = false;
            if (result.status === 200 && result.data.ok) {
                if (pending[position] === response) { delete pending[position]; }
                retryDelay[position] = 0;
                setState(position, d.msgSaved, "saved");
                if (result.data.feedback) { showFeedback(position, result.data.feedback); }
                if (typeof result.data.remaining === "number") { countdown.sync(result.data.remaining); }
                if (position in pending) { send(position); }
            } else if (result.status === 409) {
                setState(position, d.msgClosed, "failed");
                closeAttempt(result.data.error);
            } else if (result.status >= 400 && result.status < 500 && result.status !== 403) {
                delete pending[position];
                setState(position, result.data.error || d.msgFailed, "failed");
            } else {
                throw new Error("save failed");
            }
            updateWarning();
        }).catch(function () {
            inFlight[position] = false;
            setState(position, d.msgFailed, "failed");
            updateWarning();
            var delay = Math.min(30000, (retryDelay[position] || 1000) * 2);
            retryDelay[position] = delay;
            window.setTimeout(function () { send(position); }, delay);
        });
    }

    form.addEventListener("change", function (event) {
        var set = event.target.closest("fieldset.question");
        if (!set || closed) { return; }
        var position = set.dataset.position;
        pending[position] = responseOf(position);
        updateProgress();
        send(position);
    });

    // Backup: re-send whatever is still unconfirmed.
    window.setInterval(function () {
        Object.keys(pending).forEach(send);
    }, 20000);

    window.addEventListener("beforeunload", function (event) {
        if (!closed && Object.keys(pending).length) { event.preventDefault(); event.returnValue = ""; }
    });

    form.addEventListener("submit", function (event) {
        if (!closed && !window.confirm(d.msgConfirm)) { event.preventDefault(); return; }
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
                form.submit();
            }
        }
        tick();
        window.setInterval(tick, 1000);
        return {sync: function (remaining) { end = Date.now() + remaining * 1000; }};
    })();
    updateProgress();
})();
