// The service worker for the capture pages: they open without a signal once opened with one.
//
// Served by the capture.service_worker view from /capture/sw.js, so it controls /capture/ and
// nothing else. The view puts `self.CAPTURE_SW` (version, shell files, offline page) before this
// file; the version changes with any of those files, so a new release installs a new worker.
//
// - Shell (GOV.UK Frontend, our CSS and JavaScript, icons): cache first. Public files, kept in a
//   cache named by version; older versions are deleted when a new worker takes over.
// - Pages under /capture/: network first, the last copy when there is no network, and a short
//   "you are offline" page for one never opened here. They show private feedback, so only pages
//   this person opened are kept, at most `maxPages`, and they go when the person signs out
//   (static/js/capture-offline.js deletes them) or someone else signs in on the phone.
// - Anything else, above all the JSON answers of the save queue: not touched, never kept.
"use strict";

const CONFIG = self.CAPTURE_SW;
const SHELL_PREFIX = "ysyd-capture-shell-";
const SHELL_CACHE = SHELL_PREFIX + CONFIG.version;
// Not named by version: an update while online must not throw away the event page a volunteer
// opened this morning and needs offline this afternoon. Change the suffix only if the format of
// what is stored changes, here and in capture-offline.js, which deletes it on signing out.
const PAGES_CACHE = "ysyd-capture-pages-v1";
// Which signed-in person the kept pages belong to, stored with them.
const OWNER_KEY = new URL("__owner__", self.registration.scope).href;

function shellRequest(url) {
  // "reload" goes past the browser's HTTP cache, so a new version gets the new files.
  return new Request(url, { cache: "reload", credentials: "same-origin" });
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const shell = await caches.open(SHELL_CACHE);
      await shell.addAll(CONFIG.shell.map(shellRequest));
      const pages = await caches.open(PAGES_CACHE);
      await pages.add(shellRequest(CONFIG.offlinePage)).catch(() => undefined);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        const oldShell = name.startsWith(SHELL_PREFIX) && name !== SHELL_CACHE;
        const oldPages = name.startsWith("ysyd-capture-pages") && name !== PAGES_CACHE;
        if (oldShell || oldPages) {
          await caches.delete(name);
        }
      }
      await self.clients.claim();
    })(),
  );
});

function isPage(response) {
  const type = response.headers.get("Content-Type") || "";
  // A redirect (most often to sign in) is never kept as the page that was asked for.
  return (
    response.ok && response.type === "basic" && !response.redirected && type.startsWith("text/html")
  );
}

async function trimPages(cache) {
  // Keys come back oldest first, and putting a page again moves it to the end.
  const keep = new Set([OWNER_KEY, new URL(CONFIG.offlinePage, self.location.origin).href]);
  const pages = (await cache.keys()).filter((request) => !keep.has(request.url));
  for (const request of pages.slice(0, Math.max(0, pages.length - CONFIG.maxPages))) {
    await cache.delete(request);
  }
}

async function keepPage(request, response) {
  const cache = await caches.open(PAGES_CACHE);
  await cache.put(request, response);
  await trimPages(cache);
}

async function keptCopy(request, orOfflinePage) {
  const pages = await caches.open(PAGES_CACHE);
  const kept = await pages.match(request, { ignoreVary: true });
  if (kept || !orOfflinePage) {
    return kept;
  }
  return pages.match(CONFIG.offlinePage, { ignoreVary: true });
}

async function fromNetworkFirst(event) {
  const request = event.request;
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    const kept = await keptCopy(request, true);
    if (kept) {
      return kept;
    }
    throw error;
  }
  if (isPage(response)) {
    event.waitUntil(keepPage(request, response.clone()));
  } else if (response.status >= 500) {
    // The server (or the proxy in front of it) is down for a moment: the last copy is more use
    // to someone mid-event than an error page. Their saves wait on the phone meanwhile.
    return (await keptCopy(request, false)) || response;
  }
  return response;
}

async function fromCacheFirst(request) {
  const shell = await caches.open(SHELL_CACHE);
  const kept = await shell.match(request, { ignoreVary: true });
  if (kept) {
    return kept;
  }
  const response = await fetch(request);
  if (response.ok && response.type === "basic") {
    await shell.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate" && url.pathname.startsWith(CONFIG.scope)) {
    event.respondWith(fromNetworkFirst(event));
  } else if (CONFIG.staticPrefixes.some((prefix) => url.pathname.startsWith(prefix))) {
    event.respondWith(fromCacheFirst(request));
  }
  // Everything else goes to the network as if there were no worker.
});

// A capture page tells the worker who is signed in and which page it is showing, once the
// worker is ready. The first page a phone opens loads before the worker controls it, so this is
// how that page gets kept too; and after a sign-out the shell and offline page come back.
async function warm({ user, pages }) {
  let cache = await caches.open(PAGES_CACHE);
  const owner = await cache.match(OWNER_KEY);
  if (!owner || (await owner.text()) !== String(user)) {
    // Someone else's pages never show to the next person who signs in on this phone.
    await caches.delete(PAGES_CACHE);
    cache = await caches.open(PAGES_CACHE);
    await cache.put(OWNER_KEY, new Response(String(user)));
  }
  const shell = await caches.open(SHELL_CACHE);
  for (const url of CONFIG.shell) {
    if (!(await shell.match(url))) {
      await shell.add(shellRequest(url)).catch(() => undefined);
    }
  }
  for (const url of [CONFIG.offlinePage, ...(pages || [])]) {
    const target = new URL(url, self.location.origin);
    if (target.origin !== self.location.origin || !target.pathname.startsWith(CONFIG.scope)) {
      continue;
    }
    if (!(await cache.match(target.href, { ignoreVary: true }))) {
      try {
        const response = await fetch(shellRequest(target.href));
        if (isPage(response)) {
          await cache.put(target.href, response);
        }
      } catch {
        // Offline: it is kept the next time it opens with a signal.
      }
    }
  }
  await trimPages(cache);
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "warm") {
    event.waitUntil(warm(data));
  }
});
