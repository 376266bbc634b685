// Officer page: live view of the lane over server-sent events, verdicts by
// keyboard (C, F, R, K) or mouse. Everything shown comes from /api; nothing
// is stored in the browser.
"use strict";

const $ = (id) => document.getElementById(id);
let current = null; // transaction on screen

const actionText = {
  arrest: "ARREST", refer: "REFER TO SECOND LINE", discreet_check: "DISCREET CHECK — do not alert the traveller",
  alert_only: "ALERT ONLY — proceed, report",
};

function text(el, s) { el.textContent = s == null ? "" : String(s); }

function chip(el, label, state, cls) {
  text(el, label + ": " + state);
  el.className = "chip " + (cls || "");
}

function renderHealth(h) {
  if (!h) return;
  text($("unit"), h.unit + " · " + h.mode);
  chip($("h-scanner"), "Scanner", h.scanner, h.scanner === "connected" ? "good" : (h.scanner === "disabled" ? "" : "bad"));
  chip($("h-camera"), "Camera", h.camera, h.camera === "streaming" ? "good" : (h.camera === "disabled" ? "" : "bad"));
  const wl = h.watchlist_sequence ? ("v" + h.watchlist_sequence + " · " + h.watchlist_age + (h.stale ? " · STALE" : "")) : "none";
  chip($("h-watchlist"), "Watchlist", wl, h.stale || !h.watchlist_sequence ? "bad" : "good");
  chip($("h-link"), "Link", h.link, h.link === "up" ? "good" : (h.link === "offline" ? "" : "warn"));
  if (h.chip_reader) { $("h-chipreader").hidden = false; chip($("h-chipreader"), "Chip reader", h.chip_reader, h.chip_reader === "connected" ? "good" : "bad"); }
  chip($("h-queue"), "Queue", h.outbox_depth + (h.outbox_hits ? " (" + h.outbox_hits + " hits)" : ""), h.outbox_depth > 1000 ? "warn" : "good");
  const al = $("alarms");
  if (h.alarms && h.alarms.length) { al.hidden = false; text(al, "⚠ " + h.alarms.join(" · ")); } else { al.hidden = true; }
}

function row(dl, k, v) {
  const dt = document.createElement("dt"); text(dt, k);
  const dd = document.createElement("dd"); text(dd, v || "—");
  dl.append(dt, dd);
}

function renderTx(tx) {
  current = tx;
  const banner = $("banner");
  const d = tx.decision || "";
  banner.className = "banner " + (d || "busy");
  text($("decision"), d ? d : "CHECKING…");
  const top = (tx.hits || [])[0];
  text($("action"), d === "HIT" && top ? (actionText[top.action] || top.action.toUpperCase()) + " · " + (top.category || "") : "");
  text($("reasons"), (tx.reason_texts || []).join(" · "));

  const doc = tx.document || {};
  const dl = $("doc-fields"); dl.replaceChildren();
  row(dl, "Surname", doc.surname);
  row(dl, "Given names", doc.given_names);
  row(dl, "Document", [doc.document_code, doc.document_number].filter(Boolean).join(" "));
  row(dl, "Issuing state", doc.issuing_state + (doc.issuing_name ? " — " + doc.issuing_name : ""));
  row(dl, "Nationality", doc.nationality);
  row(dl, "Date of birth", doc.birth_date);
  row(dl, "Sex", doc.sex);
  row(dl, "Expiry", doc.expiry_date + (doc.expired ? " (EXPIRED)" : ""));
  row(dl, "Format", doc.format + (doc.repeat ? " · repeat scan" : ""));
  const v = $("doc-valid");
  text(v, doc.valid ? "MRZ valid" : "MRZ INVALID"); v.className = "tag " + (doc.valid ? "good" : "bad");
  const pr = $("doc-problems"); pr.replaceChildren();
  for (const p of (doc.problems || []).concat((doc.corrections || []).map((c) => "autocorrected: " + c))) {
    const li = document.createElement("li"); text(li, p); pr.append(li);
  }

  const face = tx.face || {};
  const live = $("face-live");
  if (face.has_image) { live.src = "/api/transactions/" + encodeURIComponent(tx.id) + "/face.jpg"; live.hidden = false; }
  else { live.hidden = true; live.removeAttribute("src"); }
  text($("face-live-cap"), !face.wanted ? "No camera in this lane" :
    face.captured ? "Captured face · quality " + Math.round(face.quality * 100) + "%" + (face.multiple ? " · several faces" : "") :
    (tx.state === "started" ? "Capturing…" : "No usable face" + (face.reasons && face.reasons.length ? ": " + face.reasons.join(", ") : "")));
  // The passport chip: its photo beside the live face, and one line.
  const cv = tx.chip;
  const cimg = $("face-chip"), cline = $("chip-line");
  if (cv && cv.has_photo) { cimg.src = "/api/transactions/" + encodeURIComponent(tx.id) + "/chip.jpg"; cimg.hidden = false; }
  else { cimg.hidden = true; cimg.removeAttribute("src"); }
  const f11 = cv && cv.face_1to1;
  text($("face-chip-cap"), !cv ? "Chip photo: —" : !cv.has_photo ? "Chip photo: none" :
    "Chip photo" + (f11 && f11.compared ? " · 1:1 " + (f11.match ? "match" : "NO MATCH") + " · distance " + f11.distance.toFixed(3) +
      " (threshold " + f11.threshold.toFixed(2) + ") · quality live " + Math.round(f11.live_quality * 100) + "%, chip " +
      Math.round(f11.chip_quality * 100) + "%" : f11 && f11.detail ? " · " + f11.detail : ""));
  if (cv && cv.state !== "skipped") {
    const bad = cv.verdict === "failed" || (cv.state === "unreadable" && cv.expected);
    text(cline, cv.state === "read" ? cv.line.replace(/^chip FAILED/, "Chip FAILED").replace(/^chip/, "Chip") : "Chip: " + cv.line);
    cline.className = "tag " + (bad ? "bad" : cv.verdict === "genuine" ? "good" : "warn");
    cline.hidden = false;
  } else { cline.hidden = true; }

  const ref = $("face-ref");
  const hits = tx.hits || [];
  const withPhoto = hits.findIndex((h) => h.has_photo);
  if (withPhoto >= 0) {
    ref.src = "/api/transactions/" + encodeURIComponent(tx.id) + "/hits/" + withPhoto + "/photo.jpg"; ref.hidden = false;
    const h = hits[withPhoto];
    text($("face-ref-cap"), "Watchlist photo · " + h.kind + (h.distance ? " · distance " + h.distance.toFixed(3) : ""));
  } else { ref.hidden = true; ref.removeAttribute("src"); text($("face-ref-cap"), "Watchlist photo: —"); }

  const ol = $("hits"); ol.replaceChildren();
  text($("hit-count"), hits.length);
  for (const h of hits) {
    const li = document.createElement("li");
    const head = document.createElement("div"); head.className = "head";
    const kind = document.createElement("span"); kind.className = "kind"; text(kind, h.kind);
    head.append(kind, document.createTextNode(" · " + (h.category || "") + " · " + (actionText[h.action] || h.action) +
      " · score " + Math.round(h.score * 100) + "%" + (h.distance ? " (distance " + h.distance.toFixed(3) + ")" : "") +
      (h.strength ? " · " + h.strength : "")));
    const who = document.createElement("div"); text(who, (h.person ? h.person + " · " : "") + "ref " + h.ref_id + " · " + h.source);
    const ex = document.createElement("div"); text(ex, h.explanation);
    li.append(head, who, ex);
    if (h.fields && h.fields.length) {
      const t = document.createElement("table");
      for (const f of h.fields) {
        const tr = document.createElement("tr");
        for (const c of [f.field, Math.round(f.score * 100) + "%", f.detail]) { const td = document.createElement("td"); text(td, c); tr.append(td); }
        t.append(tr);
      }
      li.append(t);
    }
    ol.append(li);
  }

  const vd = $("verdict");
  vd.hidden = !d;
  $("btn-confirm").hidden = d !== "HIT";
  $("btn-fp").hidden = d !== "HIT";
  $("btn-clear").hidden = d === "HIT";
  const od = tx.officer_decision;
  text($("verdict-status"), od ? "Recorded: " + od.verdict.replace("_", " ") + " by " + od.officer : (d ? "Awaiting your decision" : ""));
  if (d === "HIT" && !od) $("btn-confirm").focus();
  text($("latency"), tx.latency_ms ? "document → decision " + tx.latency_ms.toFixed(0) + " ms" : "");
  text($("txid"), "transaction " + tx.id);
}

async function decide(verdict) {
  if (!current || !current.decision) return;
  if (current.officer_decision) { text($("verdict-status"), "Already recorded"); return; }
  if ((verdict === "confirmed" || verdict === "false_positive") && current.decision !== "HIT") return;
  text($("verdict-status"), "Recording…");
  const r = await fetch("/api/transactions/" + encodeURIComponent(current.id) + "/decision", {
    method: "POST", headers: { "Content-Type": "application/json", "X-Checkpoint": "1" },
    body: JSON.stringify({ verdict }),
  });
  if (r.status === 401) { location.href = "/login"; return; }
  if (!r.ok) { text($("verdict-status"), "NOT RECORDED: " + (await r.text())); return; }
  current.officer_decision = await r.json();
  renderTx(current);
}

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.altKey || e.metaKey || e.target.tagName === "INPUT") return;
  const k = e.key.toLowerCase();
  const map = { c: "confirmed", f: "false_positive", r: "referred", k: "cleared" };
  if (map[k]) { e.preventDefault(); decide(map[k]); }
});
for (const b of document.querySelectorAll("#verdict button")) b.addEventListener("click", () => decide(b.dataset.verdict));

async function load() {
  const r = await fetch("/api/state");
  if (r.status === 401) { location.href = "/login"; return; }
  const s = await r.json();
  text($("officer"), s.officer.name || s.officer.id);
  renderHealth(s.health);
  if (s.transactions && s.transactions.length) renderTx(s.transactions[0]);
}

function connect() {
  const es = new EventSource("/api/events");
  const onTx = (e) => { const ev = JSON.parse(e.data); if (ev.transaction) renderTx(ev.transaction); };
  for (const t of ["transaction_started", "face_captured", "decision", "officer_decision"]) es.addEventListener(t, onTx);
  es.addEventListener("health", (e) => renderHealth(JSON.parse(e.data).health));
  es.onerror = () => { es.close(); setTimeout(() => load().then(connect), 2000); };
}

load().then(connect);
