/* Refreshes the check-in QR code and the counts on the check-in screen: when the code
   rotates, or every few seconds with single-use codes (a new one after each check-in). */
(function () {
    var screen = document.getElementById("screen");
    function schedule(seconds) { setTimeout(refresh, Math.max(1, seconds) * 1000); }
    function refresh() {
        fetch(screen.dataset.url, {credentials: "same-origin", cache: "no-store"})
            .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
            .then(function (data) {
                var qr = document.getElementById("qr");
                qr.innerHTML = data.svg;
                qr.dataset.token = data.token;
                document.getElementById("present").textContent = data.present + data.late;
                document.getElementById("expected").textContent = data.expected;
                document.getElementById("closed").hidden = !data.closed;
                document.getElementById("offline").hidden = true;
                schedule(data.poll_in || data.refresh_in);
            })
            .catch(function () { document.getElementById("offline").hidden = false; schedule(5); });
    }
    schedule(parseInt(screen.dataset.refresh, 10));
})();
