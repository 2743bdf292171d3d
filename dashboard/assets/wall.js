// The wall screen looks after itself (only on pages holding a .vigie-wall):
// - ?rotate=SECONDS (read by the server into #wall-config data-rotate) shows one half of the wall
//   at a time, switching every SECONDS;
// - when updates fail (server restarting, network blip) the wall says "reconnecting" and keeps
//   its last figures; once the server answers again it reloads, so a restarted server's new
//   code and session are picked up;
// - it reloads itself every data-reload-minutes (fresh page, flat memory), and if no update has
//   succeeded for a minute; it reloads only after the server has answered a probe, so a kiosk
//   never lands on a browser error page.
(function () {
  var state = { lastOk: Date.now(), failingSince: null, loadedAt: Date.now(), panel: 0, rotatedAt: Date.now() };

  function wall() { return document.querySelector(".vigie-wall"); }
  function config(name, fallback) {
    var el = document.getElementById("wall-config");
    var value = el ? parseInt(el.getAttribute("data-" + name), 10) : NaN;
    return isNaN(value) ? fallback : value;
  }
  function probeThenReload() {
    if (state.reloading || Date.now() - (state.probedAt || 0) < 5000) { return; }
    state.reloading = true;
    state.probedAt = Date.now();
    fetch(window.location.href, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { if (r.ok) { window.location.reload(); } else { state.reloading = false; } })
      .catch(function () { state.reloading = false; });
  }
  function setOffline(offline) {
    var root = wall(), label = document.getElementById("wall-connection");
    if (!root || !label) { return; }
    root.classList.toggle("wall-offline", offline);
    label.textContent = offline
      ? "● reconnecting since " + new Date(state.failingSince).toLocaleTimeString()
      : "● live";
  }

  var originalFetch = window.fetch;
  window.fetch = function (resource) {
    var url = String(resource && resource.url ? resource.url : resource);
    var watched = url.indexOf("/_dash-update-component") !== -1 && wall();
    var result = originalFetch.apply(this, arguments);
    if (!watched) { return result; }
    return result.then(function (response) {
      if (response.ok || response.status === 204) {
        state.lastOk = Date.now();
        if (state.failingSince !== null) { probeThenReload(); }  // back after a failure: start afresh
      } else if (response.status >= 500 && state.failingSince === null) {
        state.failingSince = Date.now();
        setOffline(true);
      }
      return response;
    }, function (error) {
      if (state.failingSince === null) { state.failingSince = Date.now(); setOffline(true); }
      throw error;
    });
  };

  function rotate() {
    var root = wall(), seconds = config("rotate", 0);
    if (!root || seconds <= 0) { return; }
    var panels = root.querySelectorAll(".wall-panel");
    if (!panels.length) { return; }
    root.classList.add("wall-rotating");
    if (Date.now() - state.rotatedAt >= seconds * 1000) {
      state.panel = (state.panel + 1) % panels.length;
      state.rotatedAt = Date.now();
      window.dispatchEvent(new Event("resize"));  // a graph shown again takes its size
    }
    panels.forEach(function (p, i) { p.classList.toggle("wall-off", i !== state.panel); });
  }

  setInterval(function () {
    if (!wall()) { return; }
    rotate();
    if (state.failingSince !== null) {  // down: probe now and then; a success reloads
      probeThenReload();
      return;
    }
    var reloadMinutes = config("reload-minutes", 360);
    if (reloadMinutes > 0 && Date.now() - state.loadedAt > reloadMinutes * 60000) { probeThenReload(); }
    var refresh = config("refresh-ms", 2000);
    if (Date.now() - state.lastOk > Math.max(60000, refresh * 10)) { probeThenReload(); }  // stuck
  }, 1000);
})();
