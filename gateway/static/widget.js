/* Pronto web chat widget. Embed with one tag:
 *   <script src="https://YOUR-GATEWAY/chat/widget.js" async></script>
 * Optional attributes: data-title="Coral Gables Realty", data-color="#0b5cad".
 * No build step, no framework. Protocol: see gateway/channels/webchat.py. */
(function () {
  "use strict";
  if (window.__prontoChat) return;
  window.__prontoChat = true;

  var me = document.currentScript;
  var src = new URL(me ? me.src : "/chat/widget.js", location.href);
  var wsUrl = (src.protocol === "https:" ? "wss://" : "ws://") + src.host + "/chat/ws";
  var color = (me && me.getAttribute("data-color")) || "";
  if (!/^(#[0-9a-f]{3,8}|[a-z]{3,20})$/i.test(color)) color = "#0b5cad";
  var title = me && me.getAttribute("data-title");
  var KEY = "pronto.chat." + src.host;

  var T = {
    en: {
      title: "Questions about this home?", hi: "Hi! Ask me anything about this home or your search.",
      placeholder: "Type your message…", send: "Send", open: "Chat with us", close: "Close",
      agent: "You're chatting with {name}", offline: "Reconnecting…",
      contact: "In case we get disconnected, how can we reach you?", phone: "Phone",
      email: "Email", save: "Save", skip: "No thanks", thanks: "Thanks! We'll reach you at {c}.",
      bad: "Please enter a valid phone number or email.", tooLong: "Message too long.",
      slow: "You're sending messages too fast. Retrying shortly…", failed: "Not sent"
    },
    es: {
      title: "¿Preguntas sobre esta casa?", hi: "¡Hola! Pregúntame lo que quieras sobre esta casa o tu búsqueda.",
      placeholder: "Escribe tu mensaje…", send: "Enviar", open: "Chatea con nosotros", close: "Cerrar",
      agent: "Estás hablando con {name}", offline: "Reconectando…",
      contact: "Por si se corta la conexión, ¿cómo podemos contactarte?", phone: "Teléfono",
      email: "Correo", save: "Guardar", skip: "No, gracias", thanks: "¡Gracias! Te contactaremos en {c}.",
      bad: "Escribe un teléfono o correo válido.", tooLong: "Mensaje demasiado largo.",
      slow: "Estás enviando mensajes muy rápido. Reintentando…", failed: "No enviado"
    }
  };

  function load() { try { return JSON.parse(localStorage.getItem(KEY) || "{}"); } catch (e) { return {}; } }
  var saved = load();
  function save() { try { localStorage.setItem(KEY, JSON.stringify(saved)); } catch (e) { /* private mode */ } }
  saved.pending = saved.pending || [];
  var lang = saved.lang || (/^es\b/i.test(navigator.language || "") ? "es" : "en");
  function t(k, vars) {
    var s = (T[lang] || T.en)[k];
    for (var v in vars || {}) s = s.replace("{" + v + "}", vars[v]);
    return s;
  }
  function uid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    var a = new Uint8Array(16); crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  var host = document.createElement("div");
  host.id = "pronto-chat";
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.innerHTML = ("<style>" +
    ":host{all:initial}*{box-sizing:border-box;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif}" +
    ".bub{position:fixed;right:20px;bottom:20px;width:60px;height:60px;border-radius:50%;border:0;cursor:pointer;" +
    "background:$C;color:#fff;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483646;display:flex;align-items:center;justify-content:center}" +
    ".pan{position:fixed;right:20px;bottom:90px;width:360px;height:520px;max-height:calc(100vh - 110px);display:none;" +
    "flex-direction:column;background:#fff;border-radius:12px;overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.3);z-index:2147483647}" +
    ".pan.on{display:flex}.hd{background:$C;color:#fff;padding:12px 14px;display:flex;align-items:center;gap:8px}" +
    ".hd b{flex:1;font-size:15px}.hd small{display:block;font-weight:400;opacity:.9;font-size:12px}" +
    ".x{background:none;border:0;color:#fff;font-size:22px;cursor:pointer;line-height:1}" +
    ".st{font-size:12px;background:#fff3cd;color:#664d03;padding:4px 10px;display:none}.st.on{display:block}" +
    ".log{flex:1;overflow-y:auto;padding:12px;background:#f6f7f9;display:flex;flex-direction:column;gap:8px}" +
    ".m{max-width:82%;padding:8px 11px;border-radius:14px;font-size:14px;line-height:1.35;white-space:pre-wrap;word-wrap:break-word}" +
    ".m.team{background:#fff;border:1px solid #e2e5ea;align-self:flex-start}.m.visitor{background:$C;color:#fff;align-self:flex-end}" +
    ".m.pending{opacity:.6}.m.fail{background:#b42318}.m small{display:block;font-size:11px;opacity:.85}" +
    ".btns{display:flex;flex-wrap:wrap;gap:6px}.btns button,.card button{border:1px solid $C;color:$C;background:#fff;border-radius:14px;padding:5px 10px;cursor:pointer}" +
    ".card{background:#fff;border:1px solid #e2e5ea;border-radius:10px;padding:10px;font-size:13px;display:flex;flex-direction:column;gap:6px}" +
    ".card input{padding:7px;border:1px solid #ccd;border-radius:6px;font-size:14px}.card .err{color:#b42318}" +
    ".card button.pri{background:$C;color:#fff}.typ{align-self:flex-start;display:none;padding:8px 11px}" +
    ".typ.on{display:block}.typ i{display:inline-block;width:7px;height:7px;margin:0 2px;border-radius:50%;background:#999;animation:b 1s infinite}" +
    ".typ i:nth-child(2){animation-delay:.2s}.typ i:nth-child(3){animation-delay:.4s}@keyframes b{50%{opacity:.2}}" +
    "form.in{display:flex;border-top:1px solid #e2e5ea}form.in textarea{flex:1;border:0;padding:12px;font-size:16px;resize:none;height:48px}" +
    "form.in button{border:0;background:none;color:$C;font-weight:600;padding:0 14px;cursor:pointer}" +
    "@media (max-width:480px){.pan{right:0;bottom:0;width:100%;height:100%;max-height:none;border-radius:0}.bub.hide{display:none}}" +
    "</style>" +
    "<button class='bub' part='bubble' aria-label=''><svg width='28' height='28' viewBox='0 0 24 24' " +
    "fill='currentColor' aria-hidden='true'><path d='M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 " +
    "2-2z'/></svg></button>" +
    "<section class='pan' role='dialog'><div class='hd'><b><span class='tt'></span><small class='ag'></small></b>" +
    "<button class='x' aria-label=''>×</button></div><div class='st'></div><div class='log' aria-live='polite'>" +
    "<div class='m team hi'></div><div class='m team typ'><i></i><i></i><i></i></div></div>" +
    "<form class='in'><textarea rows='1'></textarea><button type='submit'></button></form></section>"
  ).replace(/\$C/g, color);
  function $(s) { return root.querySelector(s); }
  var bub = $(".bub"), pan = $(".pan"), log = $(".log"), typ = $(".typ"), box = $("textarea"), st = $(".st");

  var ws = null, token = saved.token || null, lastSeq = null, backoff = 500, ready = false;
  var shown = {}, teamReplies = 0, typingTimer = 0, maxChars = 1000;
  var agent = "", contactGiven = !!saved.contact;

  function paint() {
    $(".tt").textContent = title || t("title");
    $(".ag").textContent = agent ? t("agent", { name: agent }) : "";
    $(".hi").textContent = t("hi");
    box.placeholder = t("placeholder");
    $("form.in button").textContent = t("send");
    bub.setAttribute("aria-label", t("open"));
    $(".x").setAttribute("aria-label", t("close"));
    st.textContent = t("offline");
  }
  function scroll() { log.scrollTop = log.scrollHeight; }
  function add(id, author, text, buttons) {
    var el = shown[id];
    if (!el) {
      el = shown[id] = document.createElement("div");
      el.className = "m " + author;
      el.textContent = text;
      log.insertBefore(el, typ);
    }
    if (buttons && buttons.length && !el.nextSibling.classList.contains("btns")) {
      var row = document.createElement("div");
      row.className = "btns";
      buttons.forEach(function (b) {
        var btn = document.createElement("button");
        btn.textContent = b.label;
        btn.onclick = function () { row.remove(); send(b.label); };
        row.appendChild(btn);
      });
      log.insertBefore(row, typ);
    }
    scroll();
    return el;
  }
  function setTyping(on) {
    clearTimeout(typingTimer);
    typ.classList.toggle("on", on);
    if (on) { typingTimer = setTimeout(function () { setTyping(false); }, 15000); scroll(); }
  }
  function status(offline) { st.classList.toggle("on", offline && pan.classList.contains("on")); }

  function raw(frame) { if (ws && ready) ws.send(JSON.stringify(frame)); }
  function send(text) {
    text = text.trim();
    if (!text) return;
    var f = { type: "message", id: uid(), text: text.slice(0, maxChars) };
    saved.pending.push(f); save();
    add(f.id, "visitor", f.text).classList.add("pending");
    raw(f);
  }
  function settle(id) {
    saved.pending = saved.pending.filter(function (f) { return f.id !== id; }); save();
    if (shown[id]) shown[id].classList.remove("pending");
  }

  function askContact() {
    if (contactGiven || saved.asked) return;
    saved.asked = true; save();
    var c = document.createElement("form");
    c.className = "card";
    c.innerHTML = "<span class='q'></span><input name='phone' type='tel' autocomplete='tel'>" +
      "<input name='email' type='email' autocomplete='email'><span class='err'></span>" +
      "<div class='btns'><button class='pri' type='submit'></button><button type='button' class='no'></button></div>";
    c.querySelector(".q").textContent = t("contact");
    c.phone.placeholder = t("phone"); c.email.placeholder = t("email");
    c.querySelector(".pri").textContent = t("save"); c.querySelector(".no").textContent = t("skip");
    c.querySelector(".no").onclick = function () { c.remove(); };
    c.onsubmit = function (e) {
      e.preventDefault();
      var p = c.phone.value.trim(), m = c.email.value.trim();
      if (!p && !m) { c.querySelector(".err").textContent = t("bad"); return; }
      var f = { type: "contact", id: uid(), phone: p, email: m };
      c.dataset.id = f.id; c.dataset.what = p || m;
      saved.pending.push(f); save(); raw(f);
    };
    log.insertBefore(c, typ);
    scroll();
  }
  function contactDone(id, ok) {
    var c = root.querySelector("form.card[data-id='" + id + "']");
    if (!c) return;
    if (ok) {
      contactGiven = saved.contact = true; save();
      var d = document.createElement("div");
      d.className = "m team";
      d.textContent = t("thanks", { c: c.dataset.what });
      c.replaceWith(d);
    } else { c.querySelector(".err").textContent = t("bad"); }
  }

  function onFrame(f) {
    if (f.seq) lastSeq = f.seq;
    switch (f.type) {
      case "session":
        token = saved.token = f.token; save();
        maxChars = f.max_chars || maxChars;
        box.maxLength = maxChars;
        if (f.language) setLang(f.language);
        agent = f.agent || ""; paint();
        if (f.contact) { contactGiven = saved.contact = true; save(); }
        break;
      case "ready":  /* history replayed: show and resend what the server has not acknowledged */
        ready = true; backoff = 500; status(false);
        saved.pending.forEach(function (p) {
          if (p.type === "message") add(p.id, "visitor", p.text).classList.add("pending");
          raw(p);
        });
        break;
      case "message":
        if (f.author === "visitor") { add(f.id, "visitor", f.text); settle(f.id); break; }
        if (!shown[f.id]) teamReplies++;
        setTyping(false);
        add(f.id, "team", f.text, f.buttons);
        /* The contact card waits until the visitor has answered a question (their second
           message), so it never covers the first answer on a phone screen. */
        if (visitorMessages() >= 2) askContact();
        break;
      case "typing": setTyping(true); break;
      case "language": setLang(f.language); break;
      case "agent": agent = f.name || ""; paint(); if (agent) askContact(); break;
      case "ack":
        settle(f.id);
        if (root.querySelector("form.card[data-id='" + f.id + "']")) contactDone(f.id, true);
        break;
      case "error":
        if (f.code === "rate_limited" || f.code === "unavailable") {
          if (f.code === "rate_limited") { st.textContent = t("slow"); st.classList.add("on"); }
          setTimeout(function () {
            paint(); status(false);
            saved.pending.forEach(function (p) { if (p.id === f.id) raw(p); });
          }, (f.retry_after || 2) * 1000);
        } else if (f.id) {
          saved.pending = saved.pending.filter(function (p) { return p.id !== f.id; }); save();
          if (f.code === "bad_contact") contactDone(f.id, false);
          else if (shown[f.id]) {
            shown[f.id].classList.add("fail");
            shown[f.id].insertAdjacentHTML("beforeend", "<small></small>");
            shown[f.id].lastChild.textContent = f.code === "too_long" ? t("tooLong") : t("failed");
          }
        }
    }
  }
  function visitorMessages() {
    return Object.keys(shown).filter(function (k) { return shown[k].classList.contains("visitor"); }).length;
  }
  function setLang(l) { if (T[l] && l !== lang) { lang = saved.lang = l; save(); paint(); } }

  function connect() {
    if (ws && ws.readyState < 2) return;
    ready = false;
    try { ws = new WebSocket(wsUrl); } catch (e) { return retry(); }
    ws.onopen = function () { ws.send(JSON.stringify({ type: "hello", token: token, after: lastSeq })); };
    ws.onmessage = function (e) { try { onFrame(JSON.parse(e.data)); } catch (err) { /* ignore */ } };
    ws.onclose = function () { ready = false; status(true); retry(); };
  }
  var retryTimer = 0;
  function retry() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, backoff + Math.random() * 300);
    backoff = Math.min(backoff * 2, 30000);
  }
  window.addEventListener("online", function () { backoff = 500; clearTimeout(retryTimer); connect(); });
  setInterval(function () { raw({ type: "ping" }); }, 30000);

  function openPanel(on) {
    pan.classList.toggle("on", on);
    bub.classList.toggle("hide", on);
    saved.open = on; save();
    if (on) { scroll(); box.focus(); status(!ready); }
  }
  bub.onclick = function () { openPanel(!pan.classList.contains("on")); };
  $(".x").onclick = function () {
    var wrote = Object.keys(shown).some(function (k) { return shown[k].classList.contains("visitor"); });
    if (!contactGiven && !saved.asked && wrote) { askContact(); return; }
    openPanel(false);
  };
  $("form.in").onsubmit = function (e) { e.preventDefault(); send(box.value); box.value = ""; };
  box.onkeydown = function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); send(box.value); box.value = ""; }
  };

  function mount() {
    document.body.appendChild(host);
    paint();
    if (saved.open) openPanel(true);
    connect();
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
