/*
 * Backpressure Lab's service worker: after the first visit the whole site (the simulator,
 * the embed example, the handbook, lessons and challenges) works offline.
 *
 * scripts/build-site.sh writes VERSION (a hash of every file it lists) and FILES (every
 * file of the site, relative to this worker) into this file, so each deploy has its own
 * cache: the new worker fills its cache, takes over, and deletes the old caches.
 *
 * Same-origin GETs are answered from the cache first (a page's query, `?preset=…`, is
 * ignored when matching: one index.html serves every link), then from the network.
 */
'use strict';
const VERSION = '__VERSION__';
const FILES = __FILES__;
const CACHE = 'bplab-' + VERSION;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(FILES.map((f) => new Request(f, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('bplab-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  const navigation = request.mode === 'navigate';
  event.respondWith(
    caches.open(CACHE).then((cache) =>
      cache.match(request, { ignoreSearch: navigation }).then((hit) => {
        if (hit) return hit;
        return fetch(request).then((response) => {
          if (response.ok && response.type === 'basic') cache.put(request, response.clone());
          return response;
        });
      }),
    ),
  );
});
