{% autoescape off %}/* Xuefa screen player service worker: keeps a screen playing while the server is
 * unreachable. Its scope is the player's own URL, so it only ever serves this screen.
 * The page, its script and style and the playlist are fetched from the network first
 * (so changes arrive at once) and kept as a fallback; media are served from the cache
 * that the player fills when it receives a playlist. */
"use strict";

var SHELL_CACHE = "xuefa-screen-shell";
var MEDIA_CACHE = "xuefa-screen-media";
var PLAYER_URL = {{ player_url_json }};
var PLAYLIST_URL = {{ playlist_url_json }};
var ASSETS = {{ assets_json }};
var MEDIA_PREFIX = {{ media_prefix_json }};

self.addEventListener("install", function (event) {
    event.waitUntil(
        caches.open(SHELL_CACHE).then(function (cache) {
            return cache.addAll([PLAYER_URL].concat(ASSETS));
        }).then(function () {
            return self.skipWaiting();
        })
    );
});

self.addEventListener("activate", function (event) {
    event.waitUntil(self.clients.claim());
});

/* A 5xx (e.g. a proxy's 502 while the app is down) counts as unreachable too. */
function networkFirst(request, key, markOffline) {
    return fetch(request).then(function (response) {
        if (response.status >= 500) {
            throw new Error("server error " + response.status);
        }
        if (response.status === 200) {
            var copy = response.clone();
            caches.open(SHELL_CACHE).then(function (cache) {
                return cache.put(key, copy);
            });
        }
        return response;
    }).catch(function (error) {
        return caches.open(SHELL_CACHE).then(function (cache) {
            return cache.match(key);
        }).then(function (cached) {
            if (!cached) {
                throw error;
            }
            if (!markOffline) {
                return cached;
            }
            var headers = new Headers(cached.headers);
            headers.set("X-Xuefa-Offline", "1");
            return cached.blob().then(function (body) {
                return new Response(body, {status: 200, headers: headers});
            });
        });
    });
}

function cacheFirst(request) {
    return caches.open(MEDIA_CACHE).then(function (cache) {
        return cache.match(request.url).then(function (cached) {
            if (cached) {
                return cached;
            }
            return fetch(request).then(function (response) {
                if (response.status === 200) {
                    cache.put(request.url, response.clone());
                }
                return response;
            });
        });
    });
}

self.addEventListener("fetch", function (event) {
    var request = event.request;
    if (request.method !== "GET") {
        return;
    }
    var url = new URL(request.url);
    if (url.origin !== self.location.origin) {
        return;
    }
    if (url.pathname === PLAYLIST_URL) {
        event.respondWith(networkFirst(request, PLAYLIST_URL, true));
    } else if (url.pathname === PLAYER_URL) {
        event.respondWith(networkFirst(request, PLAYER_URL, false));
    } else if (ASSETS.indexOf(url.pathname) !== -1) {
        event.respondWith(networkFirst(request, url.pathname, false));
    } else if (url.pathname.indexOf(MEDIA_PREFIX) === 0) {
        event.respondWith(cacheFirst(request));
    }
});
{% endautoescape %}
