/*
 * Backpressure Lab embeds: sizes each <iframe> that shows the simulator (a link with
 * embed=1) to the height its page reports, so a chapter needs no fixed heights.
 *
 *   <iframe src="https://…/?v=1&preset=incident-106&embed=1" title="…" width="100%"
 *           height="640" loading="lazy" style="border:0"></iframe>
 *   <script src="https://…/embed.js" async></script>
 *
 * Each embed posts {type: "bplab-embed-height", height} to its parent whenever its height
 * changes; this script finds the iframe the message came from and sets its height. It
 * trusts only messages from iframes on the page, reads only that number, and needs
 * nothing else. Load it once per page (loading it twice is harmless). No dependency.
 */
(function () {
  'use strict';
  if (window.__bplabEmbed) return;
  window.__bplabEmbed = true;
  window.addEventListener('message', function (event) {
    var data = event.data;
    if (!data || data.type !== 'bplab-embed-height') return;
    var height = Number(data.height);
    if (!isFinite(height) || height < 50 || height > 20000) return;
    var frames = document.getElementsByTagName('iframe');
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) {
        frames[i].style.height = Math.ceil(height) + 'px';
        frames[i].setAttribute('data-bplab-height', String(Math.ceil(height)));
        return;
      }
    }
  });
})();
