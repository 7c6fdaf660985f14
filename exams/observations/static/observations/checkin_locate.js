/* On a check-in that must come from the venue: asks the browser for the phone's
   position and posts it (or the reason there is none) to the same address, where the
   server decides. A static file, since the site's CSP allows no inline script. */
(function () {
    var form = document.getElementById("locate-form");
    if (!form) { return; }
    var status = document.getElementById("locate-status");
    var retry = document.getElementById("locate-retry");
    var reasons = {1: "denied", 2: "unavailable", 3: "timeout"};
    function field(name, value) { form.elements.namedItem(name).value = value; }
    function send(reason) { field("geo_error", reason); form.submit(); }
    function locate() {
        retry.disabled = true;
        status.hidden = false;
        if (!navigator.geolocation) { send("unavailable"); return; }
        navigator.geolocation.getCurrentPosition(
            function (position) {
                field("latitude", position.coords.latitude);
                field("longitude", position.coords.longitude);
                field("accuracy", position.coords.accuracy);
                send("");
            },
            function (error) { send(reasons[error.code] || "unavailable"); },
            {enableHighAccuracy: true, timeout: 20000, maximumAge: 0}
        );
    }
    retry.addEventListener("click", locate);
    if (form.dataset.auto === "1") { locate(); }
})();
