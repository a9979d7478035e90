// The preview page's behaviour: live reload over Server-Sent Events, the toolbar, the
// email frame's size, and keeping the scroll position across reloads. No inline script
// anywhere (the page's Content-Security-Policy forbids it), and none inside the email.
"use strict";

(function () {
  const body = document.body;
  const generation = body.dataset.generation;
  const scrollKey = "preview-scroll:" + location.pathname + location.search;

  function liveReload() {
    const live = document.getElementById("live");
    const source = new EventSource("/events?since=" + encodeURIComponent(generation));
    source.addEventListener("open", function () { live.className = "live on"; live.textContent = "live"; });
    source.addEventListener("error", function () { live.className = "live off"; live.textContent = "reconnecting"; });
    source.addEventListener("reload", function () {
      source.close();
      sessionStorage.setItem(scrollKey, String(window.scrollY));
      location.reload();
    });
  }

  function restoreScroll() {
    const saved = sessionStorage.getItem(scrollKey);
    if (saved !== null) {
      sessionStorage.removeItem(scrollKey);
      window.scrollTo(0, parseInt(saved, 10) || 0);
    }
  }

  function fitFrame(frame) {
    // The frame is sandboxed without scripts but same-origin, so its height can be read.
    try {
      const doc = frame.contentDocument;
      if (doc && doc.documentElement) {
        // Shrink first: a document is never shorter than its frame, so measure from small.
        frame.style.height = "100px";
        frame.style.height = doc.documentElement.scrollHeight + "px";
      }
    } catch (e) { /* keep the stylesheet's height */ }
  }

  function toolbar() {
    const form = document.getElementById("toolbar");
    if (!form) return;
    const frame = document.getElementById("email");
    form.addEventListener("change", function (event) {
      if (event.target.id === "width") {
        // Width needs no new rendering: resize the frame and remember the choice in the address.
        const url = new URL(location.href);
        url.searchParams.set("width", event.target.value);
        history.replaceState(null, "", url);
        document.querySelectorAll(".views a").forEach(function (a) {
          const link = new URL(a.href); link.searchParams.set("width", event.target.value); a.href = link;
        });
        if (frame) { frame.className = "w-" + event.target.value; fitFrame(frame); }
        return;
      }
      form.submit();
    });
  }

  function emailFrame() {
    const frame = document.getElementById("email");
    if (!frame) { restoreScroll(); return; }
    frame.addEventListener("load", function () { fitFrame(frame); restoreScroll(); });
    window.addEventListener("resize", function () { fitFrame(frame); });
  }

  function lintPanel() {
    const panel = document.getElementById("lint");
    if (!panel) return;
    fetch(panel.dataset.src, { cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (html) { panel.innerHTML = html; })
      .catch(function () { panel.textContent = "Checks could not be loaded."; });
  }

  liveReload();
  toolbar();
  emailFrame();
  lintPanel();
})();
