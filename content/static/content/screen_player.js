/* Xuefa publicity screen player.
 *
 * Plays the screen's playlist full screen, item after item, cross-fading without a
 * blank frame and preparing the next item while the current one shows. It polls the
 * playlist with If-None-Match and applies a changed playlist at the next item
 * boundary. The last playlist is kept in localStorage and, with the media, in the
 * service worker's caches, so the screen keeps playing (even after a reload) while
 * the server is unreachable; plays made meanwhile are reported on reconnecting.
 * An urgent notice in the playlist covers the screen at once, until its end time;
 * the ticker's texts scroll along the bottom (one at a time, still, for viewers who
 * prefer reduced motion). Both change as soon as a poll brings a new playlist.
 */
(function () {
    "use strict";

    var config = JSON.parse(document.getElementById("screen-config").textContent);
    var stage = document.getElementById("stage");
    var slots = Array.prototype.slice.call(stage.querySelectorAll(".slide"));
    var FADE_MS = 800;
    var RETRY_MS = 5000;
    var MEDIA_CACHE = "xuefa-screen-media";
    var PLAYLIST_KEY = config.storageKey + ":playlist";
    var PLAYS_KEY = config.storageKey + ":plays";
    var MAX_PLAYS = 1000;

    var doc = null; // the playlist being played
    var pending = null; // a newer playlist, applied at the next item boundary
    var etag = null;
    var index = -1;
    var shown = null; // {item, slot, media}
    var prepared = null; // {item, slot, ready, doc}
    var online = true;
    var itemTimer = null;
    var pollTimer = null;
    var noticeTimer = null;
    var tickerTimer = null;
    var tickerKey = null;
    var TICKER_STEP_MS = 6000;
    var noticeBox = document.getElementById("notice");
    var tickerBar = document.getElementById("ticker");
    var reducedMotion = window.matchMedia
        ? window.matchMedia("(prefers-reduced-motion: reduce)")
        : {matches: false};

    function readStore(key, fallback) {
        try {
            var raw = window.localStorage.getItem(key);
            return raw ? JSON.parse(raw) : fallback;
        } catch (e) {
            return fallback;
        }
    }

    function writeStore(key, value) {
        try {
            window.localStorage.setItem(key, JSON.stringify(value));
        } catch (e) {
            /* Storage full or disabled: the player still runs from memory. */
        }
    }

    function setStatus(value) {
        if (value && !online) {
            reportDue = true;
        }
        online = value;
        document.documentElement.setAttribute("data-online", value ? "yes" : "no");
    }

    /* ---- playlist ------------------------------------------------------------ */

    function receive(newDoc, newEtag) {
        etag = newEtag;
        writeStore(PLAYLIST_KEY, {etag: newEtag, doc: newDoc});
        cacheMedia(newDoc.media || []);
        showOverlays(newDoc);
        if (doc === null) {
            doc = newDoc;
            playNext();
        } else {
            pending = newDoc;
        }
    }

    function cacheMedia(urls) {
        if (!("caches" in window)) {
            return;
        }
        window.caches.open(MEDIA_CACHE).then(function (cache) {
            urls.forEach(function (url) {
                cache.match(url).then(function (hit) {
                    if (!hit) {
                        cache.add(url).catch(function () {});
                    }
                });
            });
            cache.keys().then(function (requests) {
                requests.forEach(function (request) {
                    var path = new URL(request.url).pathname;
                    if (urls.indexOf(path) === -1 && urls.indexOf(request.url) === -1) {
                        cache.delete(request);
                    }
                });
            });
        }).catch(function () {});
    }

    function playlistUrl() {
        var url = config.playlistUrl;
        if (shown && online) {
            url += "?playing=" + encodeURIComponent(shown.item.id);
        }
        return url;
    }

    function poll() {
        var headers = {};
        if (etag) {
            headers["If-None-Match"] = etag;
        }
        return fetch(playlistUrl(), {headers: headers, cache: "no-store", credentials: "omit"})
            .then(function (response) {
                if (response.headers.get("X-Xuefa-Offline")) {
                    setStatus(false);
                    return null;
                }
                if (response.status === 404) {
                    return revoked();
                }
                if (response.status === 304) {
                    setStatus(true);
                    return reportPlays();
                }
                if (!response.ok) {
                    setStatus(false);
                    return null;
                }
                var newEtag = response.headers.get("ETag");
                return response.json().then(function (newDoc) {
                    setStatus(true);
                    receive(newDoc, newEtag);
                    return reportPlays();
                });
            })
            .catch(function () {
                setStatus(false);
            })
            .then(function () {
                var seconds = (doc && doc.poll_seconds) || 30;
                window.clearTimeout(pollTimer);
                pollTimer = window.setTimeout(poll, seconds * 1000);
            });
    }

    /* The token was rotated or the screen removed: forget everything. */
    function revoked() {
        window.localStorage.removeItem(PLAYLIST_KEY);
        window.localStorage.removeItem(PLAYS_KEY);
        var done = [];
        if ("caches" in window) {
            done.push(window.caches.keys().then(function (names) {
                return Promise.all(names.filter(function (name) {
                    return name.indexOf("xuefa-screen") === 0;
                }).map(function (name) {
                    return window.caches.delete(name);
                }));
            }));
        }
        if ("serviceWorker" in navigator) {
            done.push(navigator.serviceWorker.getRegistrations().then(function (regs) {
                return Promise.all(regs.map(function (reg) {
                    return reg.unregister();
                }));
            }));
        }
        return Promise.all(done).then(function () {
            window.location.reload();
        });
    }

    /* ---- urgent notice and ticker -------------------------------------------- */

    /* Not at the next item boundary: a notice takes over at once, and goes at its
       end time even if the server cannot be reached by then. */
    function showOverlays(newDoc) {
        showNotice(newDoc.notice || null);
        showTicker(newDoc.ticker || []);
    }

    function showNotice(notice) {
        window.clearTimeout(noticeTimer);
        var left = notice ? Date.parse(notice.ends_at) - Date.now() : 0;
        if (!notice || !(left > 0)) {
            noticeBox.hidden = true;
            document.documentElement.removeAttribute("data-notice");
            return;
        }
        var title = noticeBox.querySelector(".notice-title");
        title.textContent = notice.title || "";
        title.hidden = !notice.title;
        noticeBox.querySelector(".notice-text").textContent = notice.text;
        noticeBox.hidden = false;
        document.documentElement.setAttribute("data-notice", String(notice.id));
        /* setTimeout holds at most about 24.8 days; a notice lasts at most a week. */
        noticeTimer = window.setTimeout(function () {
            showNotice(null);
        }, Math.min(left, 2147483647));
    }

    function showTicker(lines) {
        var key = JSON.stringify(lines) + (reducedMotion.matches ? ":still" : ":moving");
        if (key === tickerKey) {
            return;
        }
        tickerKey = key;
        window.clearInterval(tickerTimer);
        var track = tickerBar.querySelector(".ticker-track");
        track.replaceChildren();
        track.style.animationDuration = "";
        if (!lines.length) {
            tickerBar.hidden = true;
            document.documentElement.removeAttribute("data-ticker");
            return;
        }
        tickerBar.hidden = false;
        document.documentElement.setAttribute("data-ticker", reducedMotion.matches ? "still" : "moving");
        if (reducedMotion.matches) {
            /* Still text, one line at a time. */
            var shown = 0;
            var line = element("span", "ticker-line", lines[0]);
            track.appendChild(line);
            if (lines.length > 1) {
                tickerTimer = window.setInterval(function () {
                    shown = (shown + 1) % lines.length;
                    line.textContent = lines[shown];
                }, TICKER_STEP_MS);
            }
            return;
        }
        /* Two copies side by side, moved left by one copy's width: a seamless loop. */
        for (var copy = 0; copy < 2; copy += 1) {
            var group = element("span", "ticker-group");
            if (copy) {
                group.setAttribute("aria-hidden", "true");
            }
            lines.forEach(function (text) {
                group.appendChild(element("span", "ticker-line", text));
            });
            track.appendChild(group);
        }
        var characters = lines.join("").length;
        track.style.animationDuration = Math.max(20, Math.round(characters * 0.5)) + "s";
    }

    if (reducedMotion.addEventListener) {
        reducedMotion.addEventListener("change", function () {
            if (doc) {
                tickerKey = null;
                showTicker((pending || doc).ticker || []);
            }
        });
    }

    /* ---- plays --------------------------------------------------------------- */

    var lastReport = 0;
    var reportDue = false; /* set when the server comes back after being unreachable */

    /* Every play is logged with an id made here, so that a batch sent twice (an
       answer lost on the way back) is counted once by the server. */
    function playId() {
        return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
    }

    function notePlay(item) {
        var plays = readStore(PLAYS_KEY, []);
        plays.push({
            id: playId(),
            item: item.id,
            at: new Date().toISOString(),
            duration: item.duration || null,
        });
        writeStore(PLAYS_KEY, plays.slice(-MAX_PLAYS));
    }

    /* Plays go to the server in batches: on reconnecting, and otherwise every
       config.playsEverySeconds, so a thousand screens add few requests. */
    function reportPlays() {
        var plays = readStore(PLAYS_KEY, []);
        var every = (config.playsEverySeconds || 300) * 1000;
        if (!plays.length || (!reportDue && Date.now() - lastReport < every)) {
            return null;
        }
        lastReport = Date.now();
        return fetch(config.playsUrl, {
            method: "POST",
            headers: {"Content-Type": "application/json"},
            body: JSON.stringify({plays: plays}),
            credentials: "omit",
        }).then(function (response) {
            if (response.ok || response.status === 400 || response.status === 413) {
                /* Stored or refused for good: either way, never send these again. */
                var left = readStore(PLAYS_KEY, []).slice(plays.length);
                writeStore(PLAYS_KEY, left);
                reportDue = false;
                document.documentElement.setAttribute("data-plays-reported", String(plays.length));
            }
        }).catch(function () {});
    }

    /* ---- slides -------------------------------------------------------------- */

    function element(tag, className, text) {
        var node = document.createElement(tag);
        if (className) {
            node.className = className;
        }
        if (text !== undefined) {
            node.textContent = text;
        }
        return node;
    }

    function waitFor(target, eventName, ms) {
        return new Promise(function (resolve, reject) {
            var timer = window.setTimeout(function () {
                reject(new Error("timeout"));
            }, ms);
            target.addEventListener(eventName, function () {
                window.clearTimeout(timer);
                resolve();
            }, {once: true});
            target.addEventListener("error", function () {
                window.clearTimeout(timer);
                reject(new Error("error"));
            }, {once: true});
        });
    }

    function build(item, slot) {
        var entry = {item: item, slot: slot, media: null, objectUrl: null};
        var content;
        if (item.kind === "poster") {
            content = new Image();
            content.alt = item.title;
            content.src = item.image;
            entry.ready = content.decode ? content.decode() : waitFor(content, "load", 15000);
        } else if (item.kind === "video") {
            content = element("video");
            content.muted = true;
            content.playsInline = true;
            content.preload = "auto";
            entry.media = content;
            entry.ready = fetch(item.video, {credentials: "omit"})
                .then(function (response) {
                    if (!response.ok) {
                        throw new Error("video " + response.status);
                    }
                    return response.blob();
                })
                .then(function (blob) {
                    entry.objectUrl = URL.createObjectURL(blob);
                    content.src = entry.objectUrl;
                    return waitFor(content, "canplay", 30000);
                });
        } else if (item.kind === "text_card") {
            content = element("div", "slide-card");
            content.appendChild(element("h1", "", item.headline));
            var list = element("ol");
            (item.points || []).forEach(function (point) {
                list.appendChild(element("li", "", point));
            });
            content.appendChild(list);
            entry.ready = Promise.resolve();
        } else if (item.kind === "data_screen") {
            content = buildDataScreen(item);
            entry.ready = Promise.resolve();
        } else if (item.kind === "lecture") {
            content = element("div", "slide-lecture");
            var text = element("div", "lecture-text");
            text.appendChild(element("p", "label", config.labels.lecture));
            text.appendChild(element("h1", "", item.headline));
            var meta = [(item.speakers || []).join("、"), item.date, item.occasion];
            text.appendChild(element("p", "meta", meta.filter(Boolean).join(" · ")));
            if (item.summary) {
                text.appendChild(element("p", "summary", item.summary));
            }
            content.appendChild(text);
            if (item.qr) {
                var figure = element("figure", "lecture-qr");
                var code = new Image();
                code.alt = config.labels.scan;
                code.src = item.qr;
                figure.appendChild(code);
                figure.appendChild(element("figcaption", "", config.labels.scan + " " + item.url));
                content.appendChild(figure);
            }
            entry.ready = Promise.resolve();
        } else if (item.kind === "briefing") {
            content = buildBriefing(item);
            entry.ready = Promise.resolve();
        } else {
            content = element("div", "slide-quote");
            if (item.headline) {
                content.appendChild(element("p", "law", item.headline));
            }
            content.appendChild(element("blockquote", "", item.quote));
            content.appendChild(element("cite", "", item.citation));
            entry.ready = Promise.resolve();
        }
        clearSlot(slot);
        slot.appendChild(content);
        slot.setAttribute("data-item", String(item.id));
        slot.setAttribute("data-title", item.title);
        return entry;
    }

    /* A 明白纸 card: its label, title and key points, with a QR code to read and
       confirm it on a phone (the labels come with the item, in the site's language). */
    function buildBriefing(item) {
        var content = element("div", "slide-briefing");
        var text = element("div", "briefing-text");
        text.appendChild(element("p", "label", item.label || ""));
        text.appendChild(element("h1", "", item.headline));
        var list = element("ol");
        (item.points || []).forEach(function (point) {
            list.appendChild(element("li", "", point));
        });
        text.appendChild(list);
        content.appendChild(text);
        if (item.qr) {
            var figure = element("figure", "briefing-qr");
            var code = new Image();
            code.alt = item.scan || "";
            code.src = item.qr;
            figure.appendChild(code);
            figure.appendChild(element("figcaption", "", (item.scan || "") + " " + item.url));
            content.appendChild(figure);
        }
        return content;
    }

    /* The data screen (数据大屏): the figures' panels as the server sent them. */
    function buildDataScreen(item) {
        var content = element("div", "slide-data");
        var header = element("header", "data-header");
        header.appendChild(element("h1", "", item.title));
        header.appendChild(element("p", "data-updated", item.updated || ""));
        content.appendChild(header);
        var grid = element("div", "data-grid");
        (item.figures || []).forEach(function (panel) {
            var box = element("section", "data-panel data-" + panel.kind);
            box.setAttribute("data-panel", panel.key);
            box.appendChild(element("h2", "", panel.title));
            if (panel.kind === "number") {
                var figure = element("p", "data-number");
                figure.appendChild(element("strong", "", String(panel.value)));
                figure.appendChild(element("span", "", " " + (panel.unit || "")));
                box.appendChild(figure);
            } else {
                var list = element("ul");
                list.style.setProperty("--rows", String(Math.max(4, (panel.rows || []).length)));
                (panel.rows || []).forEach(function (row) {
                    var li = element("li");
                    li.appendChild(element("span", "data-label", row.label));
                    if (panel.kind === "bars") {
                        var bar = element("span", "data-bar");
                        var fill = element("span", "data-fill");
                        var value = typeof row.value === "number" ? row.value : 0;
                        fill.style.width = Math.max(0, Math.min(100, value)) + "%";
                        bar.appendChild(fill);
                        li.appendChild(bar);
                    }
                    li.appendChild(element("span", "data-text", row.text));
                    list.appendChild(li);
                });
                box.appendChild(list);
            }
            grid.appendChild(box);
        });
        content.appendChild(grid);
        return content;
    }

    function clearSlot(slot) {
        var video = slot.querySelector("video");
        if (video) {
            video.pause();
            if (video.src.indexOf("blob:") === 0) {
                URL.revokeObjectURL(video.src);
            }
        }
        slot.replaceChildren();
        slot.removeAttribute("data-item");
        slot.removeAttribute("data-title");
    }

    function freeSlot() {
        return slots.filter(function (slot) {
            return !shown || slot !== shown.slot;
        })[0];
    }

    function showMessage(templateId) {
        window.clearTimeout(itemTimer);
        var slot = freeSlot();
        clearSlot(slot);
        slot.appendChild(document.getElementById(templateId).content.cloneNode(true));
        crossFade({item: null, slot: slot, media: null});
        shown = null;
        prepared = null;
        index = -1;
    }

    /* The incoming slide fades in above the outgoing one; only when it is fully
       opaque does the outgoing one disappear, so no frame is ever blank. */
    function crossFade(entry) {
        var previous = shown;
        var slot = entry.slot;
        void slot.offsetWidth;
        slot.classList.add("is-entering");
        window.setTimeout(function () {
            slot.classList.remove("is-entering");
            slot.classList.add("is-shown");
            slots.forEach(function (other) {
                if (other !== slot) {
                    other.style.transition = "none";
                    other.classList.remove("is-shown");
                    void other.offsetWidth;
                    other.style.transition = "";
                    if (!previous || other === previous.slot) {
                        clearSlot(other);
                    }
                }
            });
            prepareNext();
        }, FADE_MS);
    }

    function sameItem(a, b) {
        return JSON.stringify(a) === JSON.stringify(b);
    }

    function nextIndex() {
        return (index + 1) % doc.items.length;
    }

    function prepareNext() {
        if (!doc || pending || !doc.items.length || !shown) {
            return;
        }
        var item = doc.items[nextIndex()];
        if (sameItem(item, shown.item)) {
            return;
        }
        prepared = build(item, freeSlot());
        prepared.doc = doc;
        prepared.ready.catch(function () {});
    }

    function applyPending() {
        if (!pending) {
            return;
        }
        var currentEntry = shown ? shown.item.entry : null;
        doc = pending;
        pending = null;
        prepared = null;
        index = -1;
        for (var i = 0; i < doc.items.length; i += 1) {
            if (doc.items[i].entry === currentEntry) {
                index = i;
            }
        }
        document.documentElement.className = "screen-" + doc.screen.orientation;
    }

    function playNext() {
        window.clearTimeout(itemTimer);
        applyPending();
        if (!doc.items.length) {
            showMessage("empty-message");
            itemTimer = window.setTimeout(playNext, RETRY_MS);
            return;
        }
        var position = nextIndex();
        var item = doc.items[position];
        if (shown && sameItem(item, shown.item)) {
            /* A single-item playlist: keep showing it. */
            index = position;
            notePlay(item);
            schedule(shown);
            return;
        }
        var entry = prepared && prepared.doc === doc && prepared.item.entry === item.entry
            ? prepared
            : build(item, freeSlot());
        prepared = null;
        entry.ready.then(function () {
            index = position;
            crossFade(entry);
            shown = entry;
            stage.setAttribute("data-current", String(item.id));
            if (entry.media) {
                entry.media.currentTime = 0;
                entry.media.play().catch(function () {});
            }
            notePlay(item);
            schedule(entry);
        }, function () {
            /* Media that cannot be loaded (e.g. offline and never cached): skip it. */
            index = position;
            clearSlot(entry.slot);
            itemTimer = window.setTimeout(playNext, 1000);
        });
    }

    function schedule(entry) {
        var seconds = entry.item.duration;
        if (seconds) {
            itemTimer = window.setTimeout(playNext, seconds * 1000);
        } else if (entry.media) {
            entry.media.addEventListener("ended", playNext, {once: true});
            itemTimer = window.setTimeout(playNext, 15 * 60 * 1000);
        } else {
            itemTimer = window.setTimeout(playNext, 15000);
        }
    }

    /* ---- start --------------------------------------------------------------- */

    function start() {
        if ("serviceWorker" in navigator) {
            navigator.serviceWorker.register(config.workerUrl).catch(function () {});
        }
        var saved = readStore(PLAYLIST_KEY, null);
        fetch(config.playlistUrl, {cache: "no-store", credentials: "omit"})
            .then(function (response) {
                if (response.status === 404) {
                    return revoked();
                }
                if (!response.ok) {
                    throw new Error("status " + response.status);
                }
                setStatus(!response.headers.get("X-Xuefa-Offline"));
                var newEtag = response.headers.get("ETag");
                return response.json().then(function (newDoc) {
                    receive(newDoc, newEtag);
                });
            })
            .catch(function () {
                setStatus(false);
                if (saved && saved.doc) {
                    etag = saved.etag;
                    doc = saved.doc;
                    showOverlays(doc);
                    playNext();
                } else {
                    showMessage("offline-message");
                }
            })
            .then(function () {
                var seconds = (doc && doc.poll_seconds) || 30;
                pollTimer = window.setTimeout(poll, seconds * 1000);
            });
    }

    start();
})();
