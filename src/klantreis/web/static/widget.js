/* klantreis survey widget. Embed:
 *   <script src="https://HOST/static/widget.js" data-journey="JOURNEY" data-touchpoint="TOUCHPOINT"
 *           data-key="kr_..." data-customer="CUSTOMER_ID" data-metrics="csat" data-lang="nl" defer></script>
 * It asks one question (csat by default; data-metrics="csat,nps,ces") and a comment, and posts to
 * /api/v1/collect/responses with a write-only collect key. A retried post carries the same
 * idempotency key, so an answer is stored once. It asks nothing during the customer's cooldown. */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me) { return; }
  var base = new URL(me.src).origin;
  var d = me.dataset;
  var nl = (d.lang || document.documentElement.lang || "en").slice(0, 2) === "nl";
  var T = nl ? { csat: "Hoe tevreden bent u?", nps: "Hoe waarschijnlijk is het dat u ons aanbeveelt?", ces: "Hoe gemakkelijk ging het?", comment: "Opmerking (optioneel)", send: "Versturen", thanks: "Bedankt voor uw antwoord!", failed: "Versturen is niet gelukt." }
             : { csat: "How satisfied are you?", nps: "How likely are you to recommend us?", ces: "How easy was it?", comment: "Comment (optional)", send: "Send", thanks: "Thank you for your answer!", failed: "Sending failed." };
  var scales = { csat: [1, 5], nps: [0, 10], ces: [1, 7] };
  var metrics = (d.metrics || "csat").split(",").filter(function (m) { return scales[m]; });
  var headers = { "Content-Type": "application/json", "Authorization": "Bearer " + d.key };
  function key() {
    var a = new Uint8Array(16); (window.crypto || window.msCrypto).getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text) { e.textContent = text; }
    return e;
  }
  function render() {
    var box = el("form", { "class": "klantreis-widget", "aria-label": "survey" });
    box.style.cssText = "font:15px system-ui,sans-serif;border:1px solid #ccd;border-radius:6px;padding:10px;max-width:360px;background:#fff";
    var idem = key();
    metrics.forEach(function (m) {
      var fs = el("fieldset"); fs.style.border = "0"; fs.appendChild(el("legend", {}, T[m]));
      for (var n = scales[m][0]; n <= scales[m][1]; n++) {
        var id = "kr-" + m + "-" + n + "-" + idem.slice(0, 6);
        var r = el("input", { type: "radio", name: m, value: String(n), id: id });
        var l = el("label", { "for": id }, String(n)); l.style.margin = "0 6px 0 2px";
        fs.appendChild(r); fs.appendChild(l);
      }
      box.appendChild(fs);
    });
    var c = el("textarea", { name: "comment", rows: "2", "aria-label": T.comment, placeholder: T.comment, maxlength: "5000" });
    c.style.width = "100%"; box.appendChild(c);
    var b = el("button", { type: "submit" }, T.send); box.appendChild(b);
    var status = el("p", { role: "status" }); box.appendChild(status);
    box.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = { journey: d.journey, touchpoint: d.touchpoint, idempotency_key: idem, channel: "widget", comment: c.value || null };
      if (d.customer) { body.customer_id = d.customer; }
      metrics.forEach(function (m) { var x = box.querySelector("input[name=" + m + "]:checked"); if (x) { body[m] = Number(x.value); } });
      b.disabled = true;
      fetch(base + "/api/v1/collect/responses", { method: "POST", headers: headers, body: JSON.stringify(body) })
        .then(function (r) { if (r.ok || r.status === 409) { box.textContent = T.thanks; } else { throw new Error(String(r.status)); } })
        .catch(function () { status.textContent = T.failed; b.disabled = false; });
    });
    me.parentNode.insertBefore(box, me.nextSibling);
  }
  if (d.customer) {
    var q = "?journey=" + encodeURIComponent(d.journey) + "&touchpoint=" + encodeURIComponent(d.touchpoint) + "&customer_id=" + encodeURIComponent(d.customer);
    fetch(base + "/api/v1/collect/eligibility" + q, { headers: headers })
      .then(function (r) { return r.json(); })
      .then(function (j) { if (j.eligible) { render(); } })
      .catch(function () {});
  } else { render(); }
})();
