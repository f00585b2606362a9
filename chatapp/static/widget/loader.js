/*! chatapp support widget loader. One tag, no dependencies; the chat loads on demand. */
(function () {
  "use strict";
  var d = document, w = window;
  var me = d.currentScript || d.querySelector("script[data-site]");
  if (!me || w.ChatappWidget) return;
  var site = me.getAttribute("data-site") || "";
  var origin = new URL(me.src, location.href).origin;
  var KEY = "chatapp-widget:" + site;
  var POLL_MS = 30000;
  var phone = w.matchMedia("(max-width: 600px)");
  var button, badge, live, panel, frame, ready, open = false, timer;
  // The page's language: the frame's unless the site sets one.
  var lang = d.documentElement.lang || "", zh = /^zh(-(cn|sg|hans)\b|$)/i.test(lang || navigator.language);

  function attr(n) { return me.getAttribute("data-" + n) || null; }
  function stored(v) {
    try {
      if (v === undefined) return localStorage.getItem(KEY);
      if (v) localStorage.setItem(KEY, v); else localStorage.removeItem(KEY);
    } catch (e) { return null; }
  }
  function set(e, attrs) {
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function el(tag, styles, parent) {
    var e = d.createElement(tag);
    for (var k in styles) e.style.setProperty(k, styles[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function build() {
    var host = el("div", { position: "fixed", right: "0", bottom: "0", "z-index": "2147483000" }, d.body);
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    panel = el("div", {
      position: "fixed", display: "none", background: "#fff", overflow: "hidden", "box-shadow": "0 12px 40px #0005"
    }, root);
    button = el("button", {
      position: "fixed", right: "20px", bottom: "20px", width: "60px", height: "60px", border: "0",
      "border-radius": "50%", background: "#2f5fd0", color: "#fff", cursor: "pointer",
      "place-items": "center", "box-shadow": "0 4px 16px #0005"
    }, root);
    set(button, { type: "button", "aria-label": zh ? "打开聊天" : "Open chat", "aria-expanded": "false" });
    var ns = "http://www.w3.org/2000/svg";
    var svg = set(d.createElementNS(ns, "svg"), { viewBox: "0 0 24 24", width: 28, height: 28, "aria-hidden": "true" });
    svg.appendChild(set(d.createElementNS(ns, "path"), { fill: "currentColor", d: "M3 4h18v13H9l-6 4z" }));
    button.appendChild(svg);
    badge = el("span", {
      position: "absolute", top: "-4px", right: "-4px", "min-width": "22px", height: "22px", padding: "0 5px",
      "border-radius": "11px", background: "#d93025", color: "#fff",
      font: "bold 12px/22px system-ui,sans-serif", "text-align": "center", display: "none"
    }, button);
    set(badge, { "aria-hidden": "true" });
    live = el("span", { position: "absolute", width: "1px", height: "1px", overflow: "hidden" }, root);
    set(live, { role: "status" });
    button.addEventListener("click", function () { toggle(!open); });
    d.addEventListener("keydown", function (e) { if (open && e.key === "Escape") toggle(false); });
    if (phone.addEventListener) phone.addEventListener("change", layout);
    layout();
    if (stored()) setTimeout(poll, 1500);
  }

  function layout() {
    var s = panel.style, full = phone.matches;
    s.display = open ? "block" : "none";
    s.inset = full ? "0" : "auto 20px 92px auto";
    s.width = full ? "100%" : "380px";
    s.height = full ? "100%" : "min(640px, calc(100vh - 112px))";
    s.borderRadius = full ? "0" : "14px";
    button.style.display = open && full ? "none" : "grid";
  }

  // Only once the frame said "ready": before that its window may still be about:blank.
  function post(message) {
    message.chatapp = "loader";
    if (ready) frame.contentWindow.postMessage(message, origin);
  }

  function init() {
    var id = attr("user-id"), mac = attr("user-hmac");
    post({
      type: "init", open: open, page: location.href, name: attr("user-name"), email: attr("user-email"),
      identity: id && mac ? { user_id: id, hmac: mac } : null
    });
  }

  // The chat itself: an iframe from chatapp's origin, made only when it is wanted.
  function load() {
    if (frame) return;
    clearTimeout(timer);
    frame = el("iframe", { width: "100%", height: "100%", border: "0", display: "block" });
    frame.title = zh ? "聊天" : "Chat";
    frame.src = origin + "/widget/frame?site=" + encodeURIComponent(site) + "&lang=" + encodeURIComponent(lang);
    panel.appendChild(frame);
  }

  function toggle(show) {
    open = show;
    if (show) { load(); count(0); }
    layout();
    set(button, { "aria-expanded": show });
    post({ type: "visibility", open: show });
    if (show) frame.focus(); else button.focus();
  }

  function count(n) {
    n = Math.max(0, n | 0);
    badge.textContent = n > 9 ? "9+" : String(n);
    badge.style.display = n && !open ? "block" : "none";
    live.textContent = n ? n + (zh ? " 条新消息" : n === 1 ? " new message" : " new messages") : "";
  }

  // A returning visitor: ask now and then whether a reply waits, and only then load the chat.
  function poll() {
    var token = stored();
    if (!token || frame) return;
    if (d.visibilityState !== "hidden") {
      fetch(origin + "/widget/api/unread?t=" + encodeURIComponent(token), { credentials: "omit" })
        .then(function (r) {
          if (r.status === 401) stored("");
          return r.ok ? r.json() : null;
        })
        .then(function (j) { if (j && j.unread > 0) { count(j.unread); load(); } })
        .catch(function () {});
    }
    timer = setTimeout(poll, POLL_MS);
  }

  w.addEventListener("message", function (e) {
    var m = e.data;
    if (e.origin !== origin || !frame || e.source !== frame.contentWindow || !m || m.chatapp !== "widget") return;
    if (m.type === "ready") { ready = 1; init(); }
    else if (m.type === "close") toggle(false);
    else if (m.type === "unread") count(m.count);
    else if (m.type === "notify") stored(m.token || "");
  });

  w.ChatappWidget = {
    open: function () { toggle(true); },
    close: function () { toggle(false); }
  };
  if (d.body) build(); else d.addEventListener("DOMContentLoaded", build);
})();
