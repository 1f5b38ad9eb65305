// whistle workbench: live countdowns and an inbox that refreshes itself.
// Plain script, no library: intranets have no CDN, and a phone on a slow link
// should not wait for one.
"use strict";
(function () {
  var units = JSON.parse(document.body.getAttribute("data-units") || "{}");
  function fill(tpl, key, value) { return tpl.replace("{" + key + "}", value); }
  function words(seconds) {
    var whole = Math.floor(Math.abs(seconds));
    var parts = [], sizes = [["d", 86400], ["h", 3600], ["m", 60]];
    for (var i = 0; i < sizes.length && parts.length < 2; i++) {
      var n = Math.floor(whole / sizes[i][1]);
      whole -= n * sizes[i][1];
      if (n) { parts.push(fill(units[sizes[i][0]], "n", n)); }
      else if (parts.length) { break; }
    }
    if (!parts.length) { parts.push(fill(units.s, "n", whole)); }
    return parts.join(" ");
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var left = (Date.parse(el.getAttribute("data-deadline")) - now) / 1000;
      el.textContent = fill(left >= 0 ? units.left : units.over, "span", words(left));
      el.classList.toggle("over", left < 0);
    });
  }
  function poll(el) {
    var url = el.getAttribute("data-poll");
    var every = parseInt(el.getAttribute("data-every") || "5", 10) * 1000;
    function again() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) {
          // Signed out meanwhile: the answer is the sign-in page; show it whole.
          if (r.redirected) { window.location.reload(); return null; }
          return r.ok ? r.text() : null;
        })
        .then(function (html) {
          if (html !== null && html !== el.innerHTML) { el.innerHTML = html; tick(); }
        })
        .catch(function () { /* offline for a moment: try again next time */ })
        .then(function () { setTimeout(again, every); });
    }
    setTimeout(again, every);
  }
  tick();
  setInterval(tick, 1000);
  document.querySelectorAll("[data-poll]").forEach(poll);
})();
