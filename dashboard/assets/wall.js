// The wall screen looks after itself (only on pages holding a .vigie-wall):
// - ?rotate=SECONDS (read by the server into #wall-config data-rotate) shows one half of the wall
//   at a time, switching every SECONDS;
// - when updates fail (server restarting, network blip) the wall says "reconnecting" and keeps
//   its last figures; once the server answers again it reloads, so a restarted server's new
//   code and session are picked up;
// - it reloads itself every data-reload-minutes (fresh page, flat memory), and if no update has
//   succeeded for a minute; it reloads only after the server has answered a probe (and after a
//   random pause of up to 10 s, so a room of screens does not reload at once), so a kiosk never
//   lands on a browser error page; a probe answered with a refusal is repeated every 30 s;
// - a 403 (the screen may no longer see the wall, or a new release answers an update the old page
//   asked for) says so on the screen instead of "live", and the page is probed every 30 s: once
//   the wall is served again (role given back, release loaded) it reloads; a 401 (session ended,
//   token revoked) is auth.js's: a kiosk reloads its link and signs in again.
(function () {
  var state = { lastOk: Date.now(), failingSince: null, loadedAt: Date.now(), panel: 0, rotatedAt: Date.now(),
                ok: 0, failed: 0, refused: false, probeEvery: 5000 };
  window.__vigieWall = state;  // read by the soak test: updates that succeeded, and when the page loaded

  function wall() { return document.querySelector(".vigie-wall"); }
  function config(name, fallback) {
    var el = document.getElementById("wall-config");
    var value = el ? parseInt(el.getAttribute("data-" + name), 10) : NaN;
    return isNaN(value) ? fallback : value;
  }
  function probeThenReload() {
    if (state.reloading || Date.now() - (state.probedAt || 0) < state.probeEvery) { return; }
    state.reloading = true;
    state.probedAt = Date.now();
    var abort = new AbortController();  // a probe that hangs must not stop the next one
    var timer = setTimeout(function () { abort.abort(); }, 10000);
    originalFetch.call(window, window.location.href, { cache: "no-store", credentials: "same-origin", signal: abort.signal })
      .then(function (r) {
        clearTimeout(timer);
        if (r.ok) {  // up: reload after a random pause, so that a room of screens does not all hit at once
          setTimeout(function () { window.location.reload(); }, Math.random() * 10000);
        } else {
          state.reloading = false;
          state.probeEvery = 30000;  // answered but refused (signed out, role taken away): ask less often
        }
      })
      .catch(function () { clearTimeout(timer); state.reloading = false; });
  }
  // The words are the page's (#wall-config data-word-*, in the screen's language); English if absent.
  function word(name, fallback) {
    var el = document.getElementById("wall-config");
    return (el && el.getAttribute("data-word-" + name)) || fallback;
  }
  function clock(ms) {  // the local time in the reader's zone and language
    var el = document.getElementById("wall-config"), zone = el && el.getAttribute("data-zone");
    try {
      return new Date(ms).toLocaleTimeString(document.documentElement.lang || undefined,
                                             zone ? { timeZone: zone } : {});
    } catch (e) { return new Date(ms).toLocaleTimeString(); }
  }
  function setOffline(offline, why) {
    var root = wall(), label = document.getElementById("wall-connection");
    if (!root || !label) { return; }
    root.classList.toggle("wall-offline", offline);
    label.textContent = !offline ? "● " + word("live", "live")
      : why ? "● " + why
      : "● " + word("reconnecting", "reconnecting since {time}").replace("{time}", clock(state.failingSince));
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
        state.ok += 1;
        if (state.refused) { state.refused = false; state.probeEvery = 5000; setOffline(false); }
        if (state.failingSince !== null) { probeThenReload(); }  // back after a failure: start afresh
      } else if (response.status === 403) {  // the screen's role no longer allows the wall
        state.refused = true;
        state.probeEvery = 30000;
        state.probedAt = Date.now();
        setOffline(true, word("refused", "access refused: sign this screen in again"));
      } else if (response.status >= 500 && state.failingSince === null) {
        state.failed += 1;
        state.failingSince = Date.now();
        setOffline(true);
      }
      return response;
    }, function (error) {
      state.failed += 1;
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
    if (state.refused) { probeThenReload(); return; }  // reloads once the wall is served again
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
