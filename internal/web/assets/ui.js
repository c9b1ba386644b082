// warden's pages work without this script; it only makes them nicer where a browser runs it:
//  - <time data-local datetime="..."> shows the time in the browser's time zone (UTC on hover);
//  - <time data-countdown datetime="..."> counts down to its time every second;
//  - an element with an id and data-live="N" is refreshed every N seconds from the same page
//    (fetched again, the element of the same id taken from the answer), until the answer's element
//    no longer has data-live (the thing it shows has settled), while the tab is visible;
//  - a form whose submit button has data-confirm="question" asks before it is sent;
//  - <input type="datetime-local" data-utc> holds UTC for the server (what the page shows and what a
//    browser without script sends): the script shows it, and its min and max, in the browser's time
//    zone, names that zone in the label's <span data-utc-label>, and turns it back into UTC when the
//    form is sent.
"use strict";
(function () {
  function pad(n) { return n < 10 ? "0" + n : "" + n; }

  function localise(root) {
    root.querySelectorAll("time[data-local]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) { return; }
      var zone = "";
      try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
      el.textContent = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
        pad(d.getHours()) + ":" + pad(d.getMinutes()) + (zone ? " " + zone : "");
    });
  }

  function left(ms) {
    if (ms <= 0) { return "ended"; }
    var s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600),
      m = Math.floor(s % 3600 / 60), sec = s % 60;
    var out = (d > 0 ? d + "d " : "") + (d > 0 || h > 0 ? h + "h " : "") + pad(m) + "m " + pad(sec) + "s";
    return out + " left";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var t = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(t)) { el.textContent = left(t - now); }
    });
  }

  function refresh(el) {
    var every = parseInt(el.getAttribute("data-live"), 10);
    if (!(every > 0) || !el.id) { return; }
    setTimeout(function again() {
      if (!document.body.contains(el)) { return; }
      if (document.hidden) { setTimeout(again, every * 1000); return; }
      fetch(window.location.href, { credentials: "same-origin", headers: { "X-Warden-Live": el.id } })
        .then(function (resp) {
          if (!resp.ok) { throw new Error("status " + resp.status); }
          return resp.text();
        })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById(el.id);
          if (!fresh) { return; }
          if (document.activeElement && el.contains(document.activeElement)) {
            setTimeout(again, every * 1000); // never pull a control from under someone using it
            return;
          }
          el.replaceWith(fresh);
          localise(fresh);
          tick();
          confirmForms(fresh);
          refresh(fresh);
        })
        .catch(function () { setTimeout(again, every * 2000); }); // a blip: try again, slower
    }, every * 1000);
  }

  function confirmForms(root) {
    root.querySelectorAll("[data-confirm]").forEach(function (btn) {
      btn.addEventListener("click", function (ev) {
        if (!window.confirm(btn.getAttribute("data-confirm"))) { ev.preventDefault(); }
      });
    });
  }

  function zoneName() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || "your time zone"; } catch (e) { return "your time zone"; }
  }

  // "2026-11-30T09:00" read as UTC, written as the browser's local time in the same form; and back.
  function utcToLocal(v) {
    var d = new Date(v + (v.length === 16 ? ":00Z" : "Z"));
    if (!v || isNaN(d)) { return v; }
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  function localToUTC(v) {
    var d = new Date(v);
    if (!v || isNaN(d)) { return v; }
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + "T" + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }

  function utcInputs(root) {
    root.querySelectorAll("input[type=datetime-local][data-utc]").forEach(function (el) {
      if (el.hasAttribute("data-utc-local")) { return; }
      el.setAttribute("data-utc-local", "");
      ["min", "max"].forEach(function (a) { if (el.getAttribute(a)) { el.setAttribute(a, utcToLocal(el.getAttribute(a))); } });
      el.value = utcToLocal(el.value);
      var label = el.id && document.querySelector("label[for='" + el.id + "'] [data-utc-label]");
      if (label) { label.textContent = zoneName(); }
      if (el.form && !el.form.hasAttribute("data-utc-form")) {
        el.form.setAttribute("data-utc-form", "");
        el.form.addEventListener("submit", function () {
          el.form.querySelectorAll("input[data-utc-local]").forEach(function (i) {
            ["min", "max"].forEach(function (a) { i.removeAttribute(a); }); // checked again by warden, in UTC
            i.value = localToUTC(i.value);
          });
        });
      }
    });
  }

  function start() {
    localise(document);
    tick();
    setInterval(tick, 1000);
    document.querySelectorAll("[data-live]").forEach(refresh);
    confirmForms(document);
    utcInputs(document);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
