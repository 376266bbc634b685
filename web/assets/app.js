// Officer page: the lane's live view over server-sent events, the work
// queue of HITs and REFERs awaiting a verdict, verdicts by keyboard or
// mouse, the shift's history and the hand-over sheet for the second line.
//
// Safety rules the page keeps (the server enforces them too):
// - every verdict names the transaction it was given for: the one on
//   screen when the key was pressed, never "whatever is newest";
// - keys pressed while a traveller is being checked, or in the moment the
//   screen changes, are refused visibly, never applied to someone else;
// - no single key dismisses or clears a HIT: a reason must be picked;
// - a verdict is changed only with a reason, and both stay on record.
// Every visible word comes from the officer's message catalogue
// (/static/i18n/<lang>.json). Nothing is stored in the browser.
"use strict";

const $ = (id) => document.getElementById(id);

const S = {
  lang: "en", cat: {}, ref: {}, settings: { sound: false, languages: ["en"] }, officer: null,
  txs: new Map(),     // id → transaction, for the ones the page holds
  pending: [],        // ids awaiting a verdict, oldest first
  liveId: null,       // the newest transaction at the lane
  viewId: null,       // the one on screen
  follow: true,       // show each new traveller as it comes
  news: false,        // a traveller came while the officer looked elsewhere
  changedAt: 0,       // when the transaction on screen last changed
  mode: null,         // an open reason list: {title, items, pick(code)}
  change: false,      // "E" pressed: the next verdict replaces the one recorded
  cand: 0,            // selected candidate (index into the possible hits)
  judged: new Map(),  // tx id → Map(hit index → same_person | not_same)
  history: { open: false, items: [], sel: 0, timer: 0 },
  sounds: 0,
};

// A key pressed within this time of the screen changing is refused: it
// was meant for what was there before. (A variable: tests lengthen it.)
let guardMs = 700;

// ---------- words ----------

function t(key, params) {
  let m = S.cat[key];
  if (m == null) m = S.ref[key];
  if (m == null) { console.error("no message " + key); m = key; }
  if (params) m = m.replace(/\{([a-z_0-9]+)\}/g, (all, k) => (params[k] == null ? "" : String(params[k])));
  return m;
}
// has reports whether the catalogue words this key (codes from data, such
// as categories, may be new to it).
function has(key) { return S.cat[key] != null || S.ref[key] != null; }
function words(prefix, code) {
  if (!code) return "";
  return has(prefix + code) ? t(prefix + code) : code.replace(/_/g, " ");
}

function text(el, s) { el.textContent = s == null ? "" : String(s); }
function el(tag, cls, s) { const e = document.createElement(tag); if (cls) e.className = cls; if (s != null) text(e, s); return e; }
function bdi(s) { return el("bdi", null, s); }

async function loadCatalogue(lang) {
  const get = async (l) => { const r = await fetch("/static/i18n/" + l + ".json"); if (!r.ok) throw new Error("catalogue " + l); return r.json(); };
  S.ref = await get("en");
  S.cat = lang === "en" ? S.ref : await get(lang);
  S.lang = lang;
  document.documentElement.lang = lang;
  document.documentElement.dir = S.cat["dir"] === "rtl" ? "rtl" : "ltr";
  document.title = t("page.title");
  for (const e of document.querySelectorAll("[data-i18n]")) text(e, t(e.dataset.i18n));
  $("note").placeholder = t("note.placeholder");
  $("history-q").placeholder = t("history.search");
}

// ---------- dates, names, places ----------

// fmtDate renders 1985-03-12 as "12 MAR 1985": day, month in letters,
// year; never ambiguous between day and month. Unknown parts are left out.
function fmtDate(s) {
  if (!s) return "—";
  const m = /^(\d{4}|\?{4})(?:-(\d{2}|\?\?))?(?:-(\d{2}|\?\?))?/.exec(s);
  if (!m) return s;
  const y = /\d/.test(m[1]) ? m[1] : "";
  const mo = m[2] && /\d/.test(m[2]) ? t("month." + parseInt(m[2], 10)) : "";
  const d = m[3] && /\d/.test(m[3]) ? String(parseInt(m[3], 10)) : "";
  return [d, mo, y].filter(Boolean).join(" ") || "—";
}
function fmtTime(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return "";
  return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
}
// fmtName: surname in capitals, given names as written, so which is the
// surname is never in doubt ("NOVÁK Tomáš", "KIM Minji").
function titleCase(s) {
  return (s || "").toLocaleLowerCase().replace(/(^|[\s\-'])(\p{L})/gu, (all, sep, c) => sep + c.toLocaleUpperCase());
}
function fmtName(surname, given) {
  const sur = (surname || "").toLocaleUpperCase();
  const g = given === (given || "").toUpperCase() ? titleCase(given) : (given || "");
  return [sur, g].filter(Boolean).join(" ") || "—";
}
let regionNames = null;
function country(code, iso2) {
  if (!code) return "—";
  let name = "";
  if (iso2) {
    try { regionNames = regionNames && regionNames.lang === S.lang ? regionNames : { lang: S.lang, dn: new Intl.DisplayNames([S.lang], { type: "region" }) }; name = regionNames.dn.of(iso2); } catch (e) { name = ""; }
  }
  return name && name !== iso2 ? code + " — " + name : code;
}

// ---------- health ----------

function chip(id, label, state, cls) { const e = $(id); text(e, label + ": " + state); e.title = e.textContent; e.className = "chip " + (cls || ""); }
function renderHealth(h) {
  if (!h) return;
  S.health = h;
  text($("unit"), h.unit + " · " + words("mode.", h.mode));
  chip("h-scanner", t("health.scanner"), words("state.", h.scanner), h.scanner === "connected" ? "good" : (h.scanner === "disabled" ? "" : "bad"));
  chip("h-camera", t("health.camera"), words("state.", h.camera), h.camera === "streaming" ? "good" : (h.camera === "disabled" ? "" : "bad"));
  const wl = h.watchlist_sequence ? t("health.watchlist_version", { seq: h.watchlist_sequence, age: h.watchlist_age }) + (h.stale ? " · " + t("health.stale") : "") : t("health.none");
  chip("h-watchlist", t("health.watchlist"), wl, h.stale || !h.watchlist_sequence ? "bad" : "good");
  chip("h-link", t("health.link"), words("state.", h.link), h.link === "up" ? "good" : (h.link === "offline" ? "" : "warn"));
  $("h-chipreader").hidden = !h.chip_reader;
  if (h.chip_reader) chip("h-chipreader", t("health.chip_reader"), words("state.", h.chip_reader), h.chip_reader === "connected" ? "good" : (h.chip_reader === "disabled" ? "" : "bad"));
  chip("h-queue", t("health.outbox"), h.outbox_hits ? t("health.outbox_hits", { n: h.outbox_depth, hits: h.outbox_hits }) : String(h.outbox_depth), h.outbox_depth > 1000 ? "warn" : "good");
  const al = $("alarms");
  // Alarms are worded from their codes; one the catalogue does not know
  // yet shows the daemon's English text rather than nothing.
  const codes = h.alarm_codes || [];
  const alarms = (h.alarms || []).map((a, i) => (codes[i] && has("alarm." + codes[i]) ? t("alarm." + codes[i]) : a));
  if (alarms.length) { al.hidden = false; text(al, "⚠ " + alarms.join(" · ")); } else al.hidden = true;
}

// ---------- the transaction on screen ----------

const severity = { arrest: 4, discreet_check: 3, refer: 2, alert_only: 1 };
function hitLevel(h) { return h.level || "hit"; }
function topHit(tx) {
  let top = null;
  for (const h of tx.hits || []) {
    if (hitLevel(h) !== "hit") continue;
    if (!top || (severity[h.action] || 0) > (severity[top.action] || 0)) top = h;
  }
  return top;
}
function possibles(tx) { const out = []; (tx.hits || []).forEach((h, i) => { if (hitLevel(h) === "possible") out.push(i); }); return out; }
function categoryWords(h) {
  if (h.discreet) return t("category.discreet");
  if (h.kind === "document") return words("status.", h.category);
  return words("category.", h.category);
}
function decisionWords(tx) {
  if (!tx.decision) return t("decision.checking");
  if (tx.decision === "HIT" && tx.discreet) return t("decision.discreet");
  return t("decision." + tx.decision);
}
function listedName(h) { return h.listed ? fmtName(h.listed.surname, h.listed.given_names) : (h.person || h.ref_id); }

// plainLines words each hit for the officer, from the hit's fields.
function plainLines(tx, h) {
  const out = [];
  const a = h.agreement || {};
  const possible = hitLevel(h) === "possible";
  if (h.kind === "document") {
    const doc = tx.document || {};
    out.push(t("plain.document", { doc: words("doctype.", (doc.document_code || "").charAt(0)), status: words("status.", h.category), source: h.source || "—" }));
  } else if (h.kind === "person") {
    const key = (possible ? "plain.person_possible" : a.alias ? "plain.person_alias" : "plain.person");
    out.push(t(key, {
      name: listedName(h),
      surname: t("agree.surname." + (a.surname || "unknown")),
      given: t("agree.given." + (a.given_names || "unknown")),
      born: t("agree.birth." + (a.birth || "unknown")),
      nationality: t("agree.nationality." + (a.nationality || "unknown")),
    }));
  } else if (h.kind === "prearrival" && h.prearrival) {
    const p = h.prearrival;
    out.push(t("plain.prearrival", { flight: p.flight, by: p.screened_by, time: fmtTime(p.screened_at), name: h.person || h.ref_id || "—" }));
    out.push(t(p.matched_by === "document" ? "prearrival.by_document" : "prearrival.by_name_dob"));
  } else if (h.kind === "face") {
    const other = a.surname === "differs" || a.given_names === "differs";
    out.push(t(possible ? (other ? "plain.face_possible_other_name" : "plain.face_possible") : (other ? "plain.face_other_name" : "plain.face"), { name: listedName(h) }));
    out.push(t("plain.face_similarity", { strength: t("strength." + (h.strength || "possible")) }));
  }
  // Another post's officer confirmed a hit on the same listed entry
  // (shared by headquarters).
  for (const sg of h.sightings || []) {
    const at = new Date(sg.seen_at);
    out.push(t("plain.shared_alert", {
      post: sg.site ? sg.post + " (" + sg.site + ")" : sg.post,
      time: fmtTime(sg.seen_at),
      date: isNaN(at) ? "—" : fmtDate(at.toISOString().slice(0, 10)),
      action: sg.action ? words("action.", sg.action) : "—",
    }) + (sg.note ? " " + sg.note : ""));
  }
  return out;
}

function setPhoto(img, none, src, noneText) {
  if (src) { if (img.getAttribute("src") !== src) img.src = src; img.hidden = false; none.hidden = true; }
  else { img.hidden = true; img.removeAttribute("src"); none.hidden = false; text(none, noneText); }
}

function render() {
  const tx = S.txs.get(S.viewId);
  renderQueue();
  if (!tx) {
    $("banner").className = "banner idle";
    text($("decision"), t("decision.waiting"));
    for (const id of ["action", "reasons", "viewing", "latency", "txid"]) text($(id), "");
    $("plain").replaceChildren(); $("doc-fields").replaceChildren(); $("doc-problems").replaceChildren(); $("tech-body").replaceChildren();
    text($("doc-valid"), ""); $("doc-valid").className = "tag";
    $("candidates").hidden = true;
    setPhoto($("face-live"), $("face-live-none"), null, t("photo.none")); text($("face-live-cap"), t("photo.live"));
    setPhoto($("face-ref"), $("face-ref-none"), null, t("photo.none")); text($("face-ref-cap"), t("photo.listed"));
    renderKeys(null);
    return;
  }
  const d = tx.decision || "";
  const banner = $("banner");
  const fresh = banner.dataset.tx !== tx.id;
  banner.dataset.tx = tx.id;
  banner.className = "banner " + (d || "busy") + (tx.discreet ? " discreet" : "") + (fresh && d === "HIT" && !tx.discreet ? " fresh" : "");
  document.body.classList.toggle("discreet", !!tx.discreet);
  text($("decision"), decisionWords(tx));
  const top = topHit(tx);
  text($("action"), top ? t("action." + top.action) : "");
  text($("reasons"), (tx.reasons || []).map((r) => words("reason.", r)).join(" · "));
  const pos = S.pending.indexOf(tx.id);
  let viewing = "";
  if (tx.id !== S.liveId) viewing = pos >= 0 ? t("view.pending", { n: pos + 1, of: S.pending.length, time: fmtTime(tx.started_at) }) : t("view.earlier", { time: fmtTime(tx.started_at) });
  text($("viewing"), viewing);

  // Photos: the live capture beside the listed photo (the selected
  // candidate's, for possible matches).
  const face = tx.face || {};
  const base = "/api/transactions/" + encodeURIComponent(tx.id);
  setPhoto($("face-live"), $("face-live-none"), face.has_image ? base + "/face.jpg" : null,
    !face.wanted ? t("photo.no_camera") : tx.state === "started" ? t("photo.capturing") : t("photo.no_face"));
  text($("face-live-cap"), face.captured ? t("photo.live_quality", { q: Math.round(face.quality * 100) }) + (face.multiple ? " · " + t("photo.several") : "") : t("photo.live"));
  const hits = tx.hits || [];
  const cands = possibles(tx);
  let refIdx = -1;
  if (cands.length && !top) refIdx = cands[Math.min(S.cand, cands.length - 1)];
  else refIdx = hits.findIndex((h) => h.has_photo && hitLevel(h) === "hit");
  if (refIdx < 0) refIdx = hits.findIndex((h) => h.has_photo);
  const rh = refIdx >= 0 ? hits[refIdx] : null;
  $("fig-ref").className = rh ? (hitLevel(rh) === "possible" ? "possible" : "hitphoto") : "";
  setPhoto($("face-ref"), $("face-ref-none"), rh && rh.has_photo ? base + "/hits/" + refIdx + "/photo.jpg" : null, t("photo.none"));
  text($("face-ref-cap"), rh ? t("photo.listed_of", { name: listedName(rh) }) : t("photo.listed"));

  renderChip(tx);
  // Nothing listed to show: the chip's photo takes the listed photo's place.
  $("fig-ref").hidden = !hits.length && !$("chip-panel").hidden;

  // Plain words, hit by hit.
  const ul = $("plain"); ul.replaceChildren();
  hits.forEach((h) => {
    // Possible matches are worded in the candidate review below.
    if (hitLevel(h) === "possible" && cands.length) return;
    const li = el("li", hitLevel(h) === "possible" ? "possible" : (h.discreet ? "discreet" : ""));
    li.append(el("span", "label", (hitLevel(h) === "possible" ? t("level.possible") + " · " : "") + words("kind.", h.kind) + " · " + categoryWords(h) + " · " + t("action." + h.action)));
    const lines = plainLines(tx, h);
    li.append(el("span", null, lines[0]));
    if (lines[1]) li.append(el("span", "sim", lines[1]));
    ul.append(li);
  });
  if (!hits.length && d) ul.append(el("li", "none", d === "CLEAR" ? t("plain.no_hits") : t("plain.no_hits_refer")));
  if (!hits.length) ul.lastChild && (ul.lastChild.style.borderInlineStartColor = d === "CLEAR" ? "var(--ok)" : "var(--warn)");

  renderCandidates(tx, cands);

  // The document.
  const doc = tx.document || {};
  const dl = $("doc-fields"); dl.replaceChildren();
  const row = (k, v) => { dl.append(el("dt", null, k)); const dd = el("dd"); dd.append(bdi(v || "—")); dl.append(dd); };
  row(t("doc.name"), fmtName(doc.surname, doc.given_names));
  row(t("doc.document"), [words("doctype.", (doc.document_code || "").charAt(0)), doc.document_number].filter(Boolean).join(" "));
  row(t("doc.issuer"), country(doc.issuing_state, doc.issuing_iso2));
  row(t("doc.nationality"), country(doc.nationality, doc.nationality_iso2));
  row(t("doc.born"), fmtDate(doc.birth_date));
  row(t("doc.sex"), doc.sex ? words("sex.", doc.sex) : "—");
  row(t("doc.expiry"), fmtDate(doc.expiry_date) + (doc.expired ? " · " + t("doc.expired") : ""));
  const v = $("doc-valid");
  text(v, tx.document && tx.document.format ? (doc.valid ? t("doc.mrz_valid") : t("doc.mrz_invalid")) : ""); v.className = "tag " + (doc.valid ? "good" : "bad");
  const pr = $("doc-problems"); pr.replaceChildren();
  if (doc.repeat) pr.append(el("li", null, t("doc.repeat")));
  if ((doc.corrections || []).length) pr.append(el("li", null, t("doc.corrected", { n: doc.corrections.length })));
  if ((doc.problems || []).length) pr.append(el("li", null, t("doc.problems", { n: doc.problems.length })));

  renderTech(tx);
  renderKeys(tx);
  text($("latency"), tx.latency_ms ? t("footer.latency", { ms: tx.latency_ms.toFixed(0) }) : "");
  text($("txid"), t("footer.tx", { id: tx.id }));
}

// renderChip fills the chip panel beside the two photos when the lane
// read (or tried to read) the document's chip: the chip's photo (DG2), and
// one line: chip genuine, not verified or FAILED, and whether the live face
// matches the chip's. The reader's own wording, with the checks that were
// run, is in the technical detail.
function renderChip(tx) {
  const c = tx.chip, panel = $("chip-panel");
  panel.hidden = !c || c.state === "skipped";
  if (panel.hidden) return;
  setPhoto($("chip-photo"), $("chip-photo-none"), c.has_photo ? "/api/transactions/" + encodeURIComponent(tx.id) + "/chip.jpg" : null,
    c.state === "reading" ? t("chip.reading") : t("photo.none"));
  const f = c.face_1to1;
  let line = c.state === "read" ? words("chip.", c.verdict) : c.state === "reading" ? t("chip.reading") : t("chip.unreadable");
  if (f && f.compared) line += " · " + t(f.match ? "chip.face_match" : "chip.face_mismatch");
  const st = $("chip-status");
  text(st, t("chip.photo") + " · " + line);
  const bad = c.verdict === "failed" || c.integrity_failed || (f && f.compared && !f.match) || (c.state === "unreadable" && c.expected);
  st.className = bad ? "failed" : c.verdict === "genuine" ? "genuine" : "";
}

// The technical detail, one click away, for the second line: raw codes,
// scores, distances and the matcher's own explanation.
function renderTech(tx) {
  const box = $("tech-body"); box.replaceChildren();
  (tx.hits || []).forEach((h) => {
    const d = el("div", "tech-hit");
    d.append(el("div", null, [h.kind, h.ref_id, h.source, h.discreet ? "" : h.category, h.action, h.level || "hit", h.strength,
      t("tech.score", { s: Math.round((h.score || 0) * 100) }), h.distance ? t("tech.distance", { d: h.distance.toFixed(3) }) : ""].filter(Boolean).join(" · ")));
    if (h.explanation) d.append(el("div", null, h.explanation));
    if (h.fields && h.fields.length) {
      const tb = el("table");
      for (const f of h.fields) { const tr = el("tr"); for (const c of [f.field, Math.round(f.score * 100) + "%", f.detail]) tr.append(el("td", null, c)); tb.append(tr); }
      d.append(tb);
    }
    box.append(d);
  });
  const c = tx.chip;
  if (c && c.state !== "skipped") {
    const f = c.face_1to1 || {};
    box.append(el("div", null, ["chip " + c.state, c.line, c.access, c.passive_auth && "PA " + c.passive_auth + (c.pa_failed_step ? " (" + c.pa_failed_step + ")" : ""),
      c.active_auth && "AA " + c.active_auth, c.chip_auth && "CA " + c.chip_auth, (c.mismatches || []).length ? "DG1 ≠ print: " + c.mismatches.join(", ") : "",
      f.compared ? t("tech.distance", { d: f.distance.toFixed(3) }) + " / " + f.threshold.toFixed(2) + " · q " + Math.round(f.live_quality * 100) + "% / " + Math.round(f.chip_quality * 100) + "%" : f.detail,
      c.read_ms ? Math.round(c.read_ms) + " ms" : ""].filter(Boolean).join(" · ")));
  }
  const doc = tx.document || {};
  for (const p of (doc.problems || [])) box.append(el("div", null, "MRZ: " + p));
  for (const c of (doc.corrections || [])) box.append(el("div", null, "MRZ autocorrect: " + c));
  box.append(el("div", null, [t("tech.format", { f: doc.format || "—" }), t("tech.sequence", { n: tx.watchlist_sequence || 0 }), "tx " + tx.id].join(" · ")));
  for (const v of tx.verdicts || []) box.append(el("div", null, t("tech.verdict_line", { id: v.id, verdict: t("verdict." + v.verdict), officer: v.officer, time: fmtTime(v.at) }) + (v.supersedes ? " · " + t("tech.supersedes", { id: v.supersedes }) : "")));
}

// ---------- possible matches: the candidate review ----------

function judgedOf(tx) { let m = S.judged.get(tx.id); if (!m) { m = new Map(); S.judged.set(tx.id, m); } return m; }
function renderCandidates(tx, cands) {
  const box = $("candidates");
  box.hidden = !cands.length;
  const ol = $("cand-list"); ol.replaceChildren();
  if (!cands.length) return;
  S.cand = Math.min(S.cand, cands.length - 1);
  const judged = judgedOf(tx);
  const recorded = new Map(((tx.officer_decision || {}).candidates || []).map((c) => [c.hit, c.verdict]));
  cands.forEach((hi, k) => {
    const h = tx.hits[hi];
    const j = recorded.get(hi) || judged.get(hi) || "";
    const li = el("li", (k === S.cand ? "on " : "") + j);
    if (h.has_photo) { const img = el("img"); img.alt = ""; img.src = "/api/transactions/" + encodeURIComponent(tx.id) + "/hits/" + hi + "/photo.jpg"; li.append(img); }
    const who = el("div", "who");
    const name = el("div", "name"); name.append(bdi(listedName(h))); who.append(name);
    who.append(el("div", null, plainLines(tx, h)[0]));
    const l = h.listed || {};
    who.append(el("div", "muted", [categoryWords(h) + " · " + t("action." + h.action), l.birth ? t("cand.born", { date: fmtDate(l.birth) }) : "", l.nationality ? country(l.nationality, l.nationality_iso2) : "",
      t(h.kind === "face" ? "plain.face_similarity" : "cand.name_similarity", { strength: t("strength." + (h.strength || "possible")) })].filter(Boolean).join(" · ")));
    li.append(who);
    const acts = el("div", "cand-actions");
    acts.append(el("span", "judged", j ? t("cand." + j) : t("cand.undecided")));
    if (!tx.officer_decision) {
      const yes = el("button", "danger"); yes.type = "button"; yes.append(el("kbd", null, "C"), document.createTextNode(" " + t("cand.same")));
      yes.onclick = () => { S.cand = k; judge(CAND_SAME); };
      const no = el("button"); no.type = "button"; no.append(el("kbd", null, "X"), document.createTextNode(" " + t("cand.not_same")));
      no.onclick = () => { S.cand = k; judge(CAND_NOT); };
      acts.append(yes, no);
    }
    li.append(acts);
    li.onclick = (e) => { if (e.target.tagName !== "BUTTON") { S.cand = k; render(); } };
    ol.append(li);
  });
}
const CAND_SAME = "same_person", CAND_NOT = "not_same";

function judge(verdict) {
  const tx = S.txs.get(S.viewId);
  const cands = possibles(tx);
  if (!cands.length || tx.officer_decision) return;
  const judged = judgedOf(tx);
  judged.set(cands[S.cand], verdict);
  const open = cands.findIndex((hi) => !judged.has(hi));
  if (open >= 0) { S.cand = open; render(); return; }
  // Every candidate judged: a REFER is recorded at once; on a HIT the
  // judgements go with the officer's verdict on the hit.
  render();
  if (tx.decision === "HIT") { status(t("cand.all_judged_hit"), "waiting"); return; }
  const same = [...judged.values()].includes(CAND_SAME);
  send(tx, { verdict: same ? "confirmed" : "cleared" });
}

// ---------- keys and verdicts ----------

function renderKeys(tx) {
  const d = tx ? tx.decision : "";
  const od = tx ? tx.officer_decision : null;
  const hits = tx ? (tx.hits || []).length : 0;
  const open = !!d && (!od || S.change);
  $("btn-confirm").disabled = !open || !hits;
  $("btn-fp").disabled = !open || !hits;
  $("btn-refer").disabled = !open;
  $("btn-clear").disabled = !open;
  $("btn-change").hidden = !od;
  $("btn-print").disabled = !d;
  if (S.mode) return;
  if (!tx) { status(""); return; }
  if (!d) { status(t("status.checking"), "waiting"); return; }
  if (od && S.change) { status(t("status.changing", { verdict: t("verdict." + od.verdict) }), "waiting"); return; }
  if (od) {
    status(t("status.recorded", { verdict: t("verdict." + od.verdict), officer: od.officer, time: fmtTime(od.at) }) +
      (od.reason ? " · " + t("dismiss." + od.reason) : "") + ((tx.verdicts || []).length > 1 ? " · " + t("status.changed", { n: tx.verdicts.length - 1 }) : "") +
      (od.note ? " · " + t("status.with_note") : ""), "recorded");
    return;
  }
  if (tx.pending && possibles(tx).length && d !== "HIT") { status(t("status.judge_candidates"), "waiting"); return; }
  status(tx.pending ? t("status.action_required") : t("status.awaiting"), tx.pending ? "waiting" : "");
}

function status(s, cls) { const st = $("verdict-status"); text(st, s); st.className = cls || ""; }

let flashTimer = 0;
function flash(msg, error) {
  const f = $("flash");
  text(f, msg); f.className = error ? "error" : ""; f.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => { f.hidden = true; }, 4000);
}

function openPicker(title, codes, prefix, pick) {
  S.mode = { pick, codes };
  text($("picker-title"), title);
  const ol = $("picker-list"); ol.replaceChildren();
  codes.forEach((c, i) => {
    const b = el("button"); b.type = "button";
    b.append(el("kbd", null, String(i + 1)), document.createTextNode(" " + t(prefix + c)));
    b.onclick = () => choose(i);
    const li = el("li"); li.append(b); ol.append(li);
  });
  $("picker").hidden = false;
}
function closePicker() { S.mode = null; $("picker").hidden = true; render(); }
function choose(i) {
  const m = S.mode;
  if (!m || i < 0 || i >= m.codes.length) return;
  S.mode = null; $("picker").hidden = true;
  m.pick(m.codes[i]);
}

const DISMISS = ["different_person", "different_document", "listing_resolved", "second_line_cleared"];
const CHANGE = ["wrong_key", "new_information", "second_line_result", "supervisor_decision"];

// verdictKey handles C, F, R and K for the transaction on screen.
function verdictKey(verdict) {
  const tx = S.txs.get(S.viewId);
  if (!tx) { flash(t("flash.nothing")); return; }
  if (tx.state !== "decided") { flash(t("flash.checking"), true); return; }
  if (Date.now() - S.changedAt < guardMs) { flash(t("flash.just_changed"), true); return; }
  const od = tx.officer_decision;
  if (od && !S.change) { flash(t("flash.already", { verdict: t("verdict." + od.verdict) })); return; }
  const hits = (tx.hits || []).length;
  const cands = possibles(tx);
  if ((verdict === "confirmed" || verdict === "false_positive") && !hits) { flash(t("flash.nothing_matched")); return; }
  // Candidates of a REFER are judged one by one: C and X.
  if (!od && cands.length && tx.decision !== "HIT" && verdict === "confirmed") { judge(CAND_SAME); return; }
  const req = { verdict };
  const go = () => {
    if (od) {
      openPicker(t("picker.change_title", { from: t("verdict." + od.verdict), to: t("verdict." + verdict) }), CHANGE, "change.", (code) => {
        req.supersedes = od.id; req.change_reason = code; send(tx, req);
      });
      return;
    }
    send(tx, req);
  };
  if (tx.decision === "HIT" && (verdict === "false_positive" || verdict === "cleared")) {
    // Never one key: the officer picks why.
    openPicker(t(verdict === "cleared" ? "picker.clear_title" : "picker.dismiss_title"), DISMISS, "dismiss.", (code) => { req.reason = code; go(); });
    return;
  }
  go();
}

async function send(tx, req) {
  const wasPending = S.pending.includes(tx.id);
  const judged = S.judged.get(tx.id);
  if (judged && judged.size && !req.supersedes) req.candidates = [...judged.entries()].map(([hit, verdict]) => ({ hit, verdict }));
  const note = $("note").value.trim();
  if (note) req.note = note;
  status(t("status.recording"), "waiting");
  let r;
  try {
    r = await fetch("/api/transactions/" + encodeURIComponent(tx.id) + "/verdict", {
      method: "POST", headers: { "Content-Type": "application/json", "X-Checkpoint": "1" }, body: JSON.stringify(req),
    });
  } catch (e) { flash(t("error.network"), true); render(); return; }
  if (r.status === 401) { location.href = "/login"; return; }
  if (!r.ok) {
    let code = "not_recorded";
    try { code = (await r.json()).error || code; } catch (e) { /* not JSON */ }
    flash(t("error." + (has("error." + code) ? code : "not_recorded")), true);
    render();
    return;
  }
  const got = await r.json();
  $("note").value = "";
  S.change = false;
  S.judged.delete(tx.id);
  upsert(got);
  flash(t("flash.recorded", { verdict: t("verdict." + got.officer_decision.verdict), name: fmtName(got.document.surname, got.document.given_names) }));
  // Done with a queued item: on to the next one still waiting, else back
  // to the live lane.
  if (wasPending && got.id !== S.liveId && !S.follow) {
    const next = S.pending.find((id) => id !== got.id);
    if (next) show(next, false); else goLive();
  } else render();
}

// ---------- queue and navigation ----------

function ts(tx) { return Date.parse(tx.started_at) || 0; }

function upsert(tx) {
  const had = S.txs.get(tx.id);
  S.txs.set(tx.id, tx);
  const live = S.txs.get(S.liveId);
  if (!live || ts(tx) >= ts(live)) S.liveId = tx.id;
  const i = S.pending.indexOf(tx.id);
  if (tx.pending && i < 0) {
    S.pending.push(tx.id);
    S.pending.sort((a, b) => ts(S.txs.get(a)) - ts(S.txs.get(b)));
    S.arrived = tx.id;
  } else if (!tx.pending && i >= 0) S.pending.splice(i, 1);
  // Bound what the page holds: the queue, the live one and the one on
  // screen, plus a few recent.
  if (S.txs.size > 300) for (const id of S.txs.keys()) { if (S.txs.size <= 250) break; if (id !== S.liveId && id !== S.viewId && !S.pending.includes(id)) S.txs.delete(id); }
  return had;
}

function show(id, follow) {
  if (S.viewId !== id) { S.changedAt = Date.now(); S.cand = 0; if (S.mode) { S.mode = null; $("picker").hidden = true; } S.change = false; }
  S.viewId = id; S.follow = follow;
  if (follow) S.news = false;
  render();
}
function goLive() { show(S.liveId, true); }

function navList() {
  const list = S.pending.slice();
  if (S.liveId && !list.includes(S.liveId)) list.push(S.liveId);
  return list;
}
function move(step) {
  const list = navList();
  if (!list.length) return;
  let i = list.indexOf(S.viewId);
  i = i < 0 ? (step > 0 ? 0 : list.length - 1) : Math.max(0, Math.min(list.length - 1, i + step));
  const id = list[i];
  show(id, id === S.liveId && !S.pending.includes(id));
}

function renderQueue() {
  const ol = $("pending"); ol.replaceChildren();
  for (const id of S.pending) {
    const tx = S.txs.get(id);
    if (!tx) continue;
    const li = el("li", tx.decision + (tx.discreet ? " discreet" : "") + (id === S.viewId ? " on" : "") + (id === S.arrived ? " new" : ""));
    const top = topHit(tx);
    li.append(el("div", "what", fmtTime(tx.started_at) + " · " + decisionWords(tx) + (top && !tx.discreet ? " · " + t("action." + top.action) : "")));
    const who = el("div"); who.append(bdi(fmtName(tx.document.surname, tx.document.given_names))); li.append(who);
    li.onclick = () => show(id, false);
    ol.append(li);
  }
  S.arrived = null;
  // More waiting than the page was sent (past maxPendingAnswer): the
  // count says so; decided ones make room for the rest at the next load.
  const n = Math.max(S.pending.length, S.pendingTotal || 0);
  text($("queue-count"), n);
  $("queue-count").className = "count" + (n ? " some" : "");
  $("queue-empty").hidden = n > 0;
  const live = $("btn-live");
  live.className = "live" + (S.follow ? " on" : "") + (S.news ? " news" : "");
}

// ---------- history ----------

async function openHistory() {
  S.history.open = true;
  $("history").hidden = false;
  const q = $("history-q");
  q.value = ""; q.focus({ preventScroll: true });
  await searchHistory();
}
function closeHistory() { S.history.open = false; $("history").hidden = true; $("history-q").blur(); }
async function searchHistory() {
  const r = await fetch("/api/history?limit=200&q=" + encodeURIComponent($("history-q").value));
  if (r.status === 401) { location.href = "/login"; return; }
  const h = await r.json();
  S.history.items = h.transactions || []; S.history.sel = 0;
  renderHistory();
}
function renderHistory() {
  const ol = $("history-list"); ol.replaceChildren();
  if (!S.history.items.length) { ol.append(el("li", "muted", t("history.nothing"))); return; }
  S.history.items.forEach((s, i) => {
    const li = el("li", i === S.history.sel ? "on" : "");
    li.append(el("span", null, fmtTime(s.started_at)));
    li.append(el("span", s.decision || "", s.decision ? (s.decision === "HIT" && s.discreet ? t("decision.discreet") : t("decision." + s.decision)) : t("decision.checking")));
    const who = el("span"); who.append(bdi(fmtName(s.surname, s.given_names))); li.append(who);
    li.append(el("span", null, s.document_number));
    li.append(el("span", null, s.pending ? t("queue.waiting") : s.verdict ? t("verdict." + s.verdict) + (s.changed ? " *" : "") : ""));
    li.onclick = () => { S.history.sel = i; openFromHistory(); };
    ol.append(li);
  });
  const on = ol.children[S.history.sel];
  if (on) on.scrollIntoView({ block: "nearest" });
}
async function openFromHistory() {
  const s = S.history.items[S.history.sel];
  if (!s) return;
  const r = await fetch("/api/transactions/" + encodeURIComponent(s.id));
  if (!r.ok) { flash(t("error.unknown_transaction"), true); return; }
  const tx = await r.json();
  upsert(tx);
  closeHistory();
  show(tx.id, tx.id === S.liveId);
}

// ---------- expected arrivals ----------

// The flights screened before they land (airline API/PNR data, screened
// at headquarters or on this unit), soonest first, with their counts and
// the travellers flagged on them. A (or the button in the bar) opens the
// list over the page; the badge counts the flagged travellers of the
// coming flights. Words only: the officer reads what was found and what
// to do, never a score. Refreshed every minute.
const expected = { open: false, flights: null };

async function loadExpected() {
  let r;
  try { r = await fetch("/api/arrivals?limit=30"); } catch (e) { return; }
  if (r.status === 401) { location.href = "/login"; return; }
  // 404: this unit receives no pre-arrival data; the button stays hidden.
  if (r.status === 404) { expected.flights = null; renderExpected(); return; }
  if (!r.ok) return;
  expected.flights = (await r.json()).flights || [];
  renderExpected();
}
function flaggedOf(f) {
  let hits = 0, possible = 0;
  for (const x of f.flagged || []) { if (x.level === "hit") hits++; else possible++; }
  return { hits, possible };
}
function localDay(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return "";
  return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
}
function renderExpected() {
  const fl = expected.flights;
  const btn = $("btn-expected");
  btn.hidden = fl == null;
  if (fl == null) { if (expected.open) closeExpected(); return; }
  let hits = 0, possible = 0;
  for (const f of fl) { const n = flaggedOf(f); hits += n.hits; possible += n.possible; }
  const badge = $("expected-count");
  text(badge, hits + possible);
  badge.className = "badge" + (hits ? " hit" : possible ? " possible" : "");
  btn.title = t("expected.badge", { flights: fl.length, hits, possible });
  if (!expected.open) return;
  $("expected-none").hidden = fl.length > 0;
  const ol = $("expected-list"); ol.replaceChildren();
  for (const f of fl) {
    const n = flaggedOf(f);
    const li = el("li", n.hits ? "hit" : n.possible ? "possible" : "");
    li.dataset.flight = f.flight;
    const head = el("div", "flight");
    head.append(bdi(f.flight), document.createTextNode(" · " + t("expected.lands", { from: f.departure || "—", time: fmtTime(f.arrival_at), date: fmtDate(localDay(f.arrival_at)) })));
    li.append(head);
    const c = f.counts || {};
    li.append(el("div", "counts", t("expected.counts", { passengers: c.passengers || 0, crew: c.crew || 0, screened: c.screened || 0 }) + " · " +
      (n.hits || n.possible ? t("expected.flagged", { hits: n.hits, possible: n.possible }) : t("expected.nobody"))));
    li.append(el("div", "by", t("expected.screened", { by: f.screened_by || "—", time: fmtTime(f.screened_at), date: fmtDate(localDay(f.screened_at)) })));
    if ((f.flagged || []).length) {
      const ul = el("ul");
      for (const x of f.flagged) {
        const row = el("li", x.level === "hit" ? "hit" : "possible");
        row.append(el("span", "lvl", x.level === "hit" ? t("decision.HIT") : t("level.possible")));
        const who = el("span", "who");
        who.append(bdi(fmtName(x.surname || x.name, x.given_names)));
        const more = [t("expected.born", { date: fmtDate(x.birth_date) })];
        if (x.nationality) more.push(x.nationality);
        if (x.document) more.push(t("expected.document", { doc: x.document }));
        if (x.seat) more.push(t("expected.seat", { seat: x.seat }));
        if (x.role === "crew") more.push(t("expected.crew"));
        for (const m of more) { who.append(document.createTextNode(" · ")); who.append(bdi(m)); }
        row.append(who);
        const why = x.kind === "document" ? t("expected.why_document", { status: words("status.", x.category) })
          : t("expected.why_person", { category: words("category.", x.category) });
        row.append(el("span", "why", why + (x.action ? " · " + words("action.", x.action) : "")));
        ul.append(row);
      }
      li.append(ul);
    }
    ol.append(li);
  }
}
async function openExpected() {
  if (expected.flights == null) return;
  expected.open = true;
  $("expected").hidden = false;
  renderExpected();
  await loadExpected();
}
function closeExpected() { expected.open = false; $("expected").hidden = true; }

// ---------- hand-over sheet ----------

// printHandover fills the sheet the second line takes with the traveller:
// who, which document, what matched (by reference, without the listed
// person's details, photos or scores) and what the officer decided.
function printHandover() {
  const tx = S.txs.get(S.viewId);
  if (!tx || !tx.decision) { flash(t("flash.nothing")); return; }
  const h = $("handover"); h.replaceChildren();
  h.append(el("h1", null, t("handover.title")));
  const meta = el("dl");
  const row = (dl, k, v) => { dl.append(el("dt", null, k)); const dd = el("dd"); dd.append(bdi(v || "—")); dl.append(dd); };
  row(meta, t("handover.unit"), S.health ? S.health.unit : "");
  row(meta, t("handover.time"), fmtDate((tx.started_at || "").slice(0, 10)) + " " + fmtTime(tx.started_at));
  row(meta, t("handover.officer"), S.officer ? (S.officer.name || S.officer.id) + " (" + S.officer.id + ")" : "");
  row(meta, t("handover.tx"), tx.id);
  h.append(meta);
  const doc = tx.document || {};
  h.append(el("h2", null, t("handover.traveller")));
  const tr = el("dl");
  row(tr, t("doc.name"), fmtName(doc.surname, doc.given_names));
  row(tr, t("doc.born"), fmtDate(doc.birth_date));
  row(tr, t("doc.sex"), doc.sex ? words("sex.", doc.sex) : "");
  row(tr, t("doc.nationality"), doc.nationality);
  row(tr, t("doc.document"), [words("doctype.", (doc.document_code || "").charAt(0)), doc.document_number, doc.issuing_state].filter(Boolean).join(" "));
  row(tr, t("doc.expiry"), fmtDate(doc.expiry_date));
  h.append(tr);
  h.append(el("h2", null, t("handover.result")));
  const rs = el("dl");
  row(rs, t("handover.decision"), decisionWords(tx));
  row(rs, t("handover.reasons"), (tx.reasons || []).map((r) => words("reason.", r)).join(" · "));
  h.append(rs);
  if ((tx.hits || []).length) {
    const tb = el("table");
    const head = el("tr");
    for (const c of ["handover.kind", "handover.category", "handover.action", "handover.strength", "handover.ref"]) head.append(el("th", null, t(c)));
    tb.append(head);
    for (const x of tx.hits) {
      const row2 = el("tr");
      for (const c of [words("kind.", x.kind), categoryWords(x), t("action." + x.action), (hitLevel(x) === "possible" ? t("level.possible") + " · " : "") + t("strength." + (x.strength || "possible")), x.ref_id + (x.source ? " (" + x.source + ")" : "")]) row2.append(el("td", null, c));
      tb.append(row2);
    }
    h.append(tb);
  }
  h.append(el("h2", null, t("handover.verdict")));
  const od = tx.officer_decision;
  const vd = el("dl");
  row(vd, t("handover.verdict"), od ? t("verdict." + od.verdict) + (od.reason ? " · " + t("dismiss." + od.reason) : "") : t("handover.no_verdict"));
  if (od && od.note) row(vd, t("handover.note"), od.note);
  h.append(vd);
  const sign = el("div", "sign");
  sign.append(el("div", null, t("handover.sign_first")), el("div", null, t("handover.sign_second")));
  h.append(sign);
  window.print();
}

// ---------- sound ----------

let audio = null;
function beep() {
  S.sounds++;
  document.body.dataset.sounds = String(S.sounds);
  try {
    audio = audio || new AudioContext();
    if (audio.state === "suspended") audio.resume();
    for (const [at, f] of [[0, 880], [0.3, 660]]) {
      const o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = f; g.gain.value = 0.2;
      o.connect(g); g.connect(audio.destination);
      o.start(audio.currentTime + at); o.stop(audio.currentTime + at + 0.22);
    }
  } catch (e) { /* no audio device: the banner still shows */ }
}

// ---------- events ----------

function onEvent(type, tx) {
  const before = S.txs.get(tx.id);
  upsert(tx);
  const newest = tx.id === S.liveId;
  if (type === "decision" && tx.decision === "HIT" && !tx.discreet && S.settings.sound && !(before && before.decision)) beep();
  if (S.follow && newest) show(tx.id, true);
  else {
    if (newest && tx.id !== S.viewId && type === "transaction_started") S.news = true;
    if (tx.id === S.viewId) {
      if (before && before.state !== "decided" && tx.state === "decided") S.changedAt = Date.now();
      render();
    } else renderQueue();
  }
}

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.altKey || e.metaKey) return;
  const tag = e.target.tagName;
  // Letters by their place on the keyboard, so the keys work whatever the
  // layout (Arabic, AZERTY).
  const code = e.code;
  if (expected.open) {
    if (code === "Escape" || code === "KeyA") { e.preventDefault(); closeExpected(); }
    else if (code === "ArrowDown" || code === "ArrowUp") { e.preventDefault(); $("expected-list").scrollBy(0, code === "ArrowDown" ? 80 : -80); }
    return;
  }
  if (S.history.open) {
    if (code === "Escape") { e.preventDefault(); closeHistory(); }
    else if (code === "ArrowDown" || code === "ArrowUp") { e.preventDefault(); S.history.sel = Math.max(0, Math.min(S.history.items.length - 1, S.history.sel + (code === "ArrowDown" ? 1 : -1))); renderHistory(); }
    else if (code === "Enter" || code === "NumpadEnter") { e.preventDefault(); openFromHistory(); }
    return;
  }
  if (tag === "INPUT" || tag === "TEXTAREA") {
    if (code === "Escape" || code === "Enter" || code === "NumpadEnter") { e.preventDefault(); e.target.blur(); }
    return;
  }
  if (S.mode) {
    const m = /^(?:Digit|Numpad)([1-9])$/.exec(code);
    if (m) { e.preventDefault(); choose(parseInt(m[1], 10) - 1); return; }
    if (code === "Escape") { e.preventDefault(); closePicker(); return; }
    e.preventDefault();
    flash(t("flash.pick_reason"));
    return;
  }
  const rtl = document.documentElement.dir === "rtl";
  const act = {
    KeyC: () => verdictKey("confirmed"), KeyF: () => verdictKey("false_positive"), KeyR: () => verdictKey("referred"), KeyK: () => verdictKey("cleared"),
    KeyX: () => { const tx = S.txs.get(S.viewId); if (tx && possibles(tx).length && !tx.officer_decision && tx.state === "decided") { if (Date.now() - S.changedAt < guardMs) flash(t("flash.just_changed"), true); else judge(CAND_NOT); } },
    KeyE: () => { const tx = S.txs.get(S.viewId); if (tx && tx.officer_decision) { S.change = !S.change; render(); } else flash(t("flash.nothing_to_change")); },
    KeyN: () => {}, // the note field takes the focus on key up, so the N is not typed into it
    KeyA: () => openExpected(),
    KeyP: printHandover, KeyH: () => {}, KeyL: goLive, Home: goLive, // H: on key up, as N
    ArrowUp: () => move(-1), ArrowDown: () => move(1),
    ArrowLeft: () => { S.cand = Math.max(0, S.cand + (rtl ? 1 : -1)); render(); },
    ArrowRight: () => { S.cand = Math.max(0, S.cand + (rtl ? -1 : 1)); render(); },
    Escape: () => { if (S.change) { S.change = false; render(); } },
  }[code];
  if (act) { e.preventDefault(); act(); }
  // Enter and Space never decide anything: no button keeps the focus.
  else if (code === "Enter" || code === "Space" || code === "NumpadEnter") e.preventDefault();
});
// Keys that move the focus into a text field act on key up, so that the
// letter itself is not typed into the field.
document.addEventListener("keyup", (e) => {
  if (e.ctrlKey || e.altKey || e.metaKey || S.mode || S.history.open || expected.open || e.target.tagName === "INPUT") return;
  if (e.code === "KeyN") $("note").focus({ preventScroll: true });
  if (e.code === "KeyH") openHistory();
});
for (const b of document.querySelectorAll("#keys button[data-key]")) {
  b.addEventListener("click", () => {
    b.blur();
    document.dispatchEvent(new KeyboardEvent("keydown", { code: b.dataset.key, key: b.dataset.key.slice(3).toLowerCase(), bubbles: true }));
  });
}
$("btn-live").addEventListener("click", (e) => { e.currentTarget.blur(); goLive(); });
$("btn-history").addEventListener("click", (e) => { e.currentTarget.blur(); openHistory(); });
$("history").addEventListener("click", (e) => { if (e.target.id === "history") closeHistory(); });
$("btn-expected").addEventListener("click", (e) => { e.currentTarget.blur(); openExpected(); });
$("expected").addEventListener("click", (e) => { if (e.target.id === "expected") closeExpected(); });
$("history-q").addEventListener("input", () => { clearTimeout(S.history.timer); S.history.timer = setTimeout(searchHistory, 200); });

// ---------- start ----------

async function load() {
  const r = await fetch("/api/state");
  if (r.status === 401) { location.href = "/login"; return false; }
  const s = await r.json();
  S.officer = s.officer; S.settings = s.settings || S.settings;
  if (S.lang !== s.officer.lang || !S.ref["dir"]) await loadCatalogue(s.officer.lang);
  text($("officer"), s.officer.name || s.officer.id);
  renderHealth(s.health);
  // The server's queue is the truth: the page's own is rebuilt from it.
  S.pending = [];
  for (const tx of s.pending || []) upsert(tx);
  S.pendingTotal = s.pending_total || 0;
  if (s.current) upsert(s.current);
  document.body.classList.remove("loading");
  if (S.follow || !S.txs.has(S.viewId)) {
    // Back after a reload or a lost connection: the oldest item awaiting
    // a verdict comes first, else the lane as it is now.
    if (S.pending.length && (!S.viewId || !S.txs.has(S.viewId))) show(S.pending[0], false);
    else goLive();
  } else render();
  return true;
}

function connect() {
  const es = new EventSource("/api/events");
  // Events sent before the stream opened are not replayed: once it is
  // open, read the lane's state again, so a traveller who started in
  // between is not missed.
  es.onopen = () => { S.streaming = true; load(); };
  const onTx = (type) => (e) => { const ev = JSON.parse(e.data); if (ev.transaction) onEvent(type, ev.transaction); };
  for (const type of ["transaction_started", "face_captured", "decision", "officer_decision"]) es.addEventListener(type, onTx(type));
  es.addEventListener("health", (e) => renderHealth(JSON.parse(e.data).health));
  es.onerror = () => { S.streaming = false; es.close(); setTimeout(() => load().then((ok) => ok && connect()), 2000); };
}

load().then(async (ok) => {
  if (!ok) return;
  connect();
  await loadExpected();
  // /arrivals sends the officer here, with the list open.
  if (location.hash === "#arrivals") openExpected();
  setInterval(loadExpected, 60000);
});
