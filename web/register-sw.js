// Registers sw.js (offline use of the built site; scripts/build-site.sh, docs/site.md).
if ('serviceWorker' in navigator) {
  addEventListener('load', () => navigator.serviceWorker.register('sw.js').catch((e) => console.warn('offline copy unavailable:', e.message)));
}
