// When a live page's session ends (the guard answers 401 to its updates), go to the login page
// instead of showing stale figures; come back to the same page after signing in.
(function () {
  var originalFetch = window.fetch;
  window.fetch = function () {
    return originalFetch.apply(this, arguments).then(function (response) {
      if (response.status === 401 && String(response.url).indexOf("/_dash-") !== -1) {
        if (window.location.search.indexOf("kiosk=") !== -1) {
          window.location.reload();  // a wall screen signs in again with its kiosk link
        } else {
          var here = window.location.pathname + window.location.search;
          window.location.assign("/login?expired=1&next=" + encodeURIComponent(here));
        }
      }
      return response;
    });
  };
})();
