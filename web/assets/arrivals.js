// Expected arrivals: flights screened before landing, with their flagged
// travellers. A plain rendering of /api/arrivals, refreshed every 30 s.
"use strict";

function cell(tr, v, cls) {
  const td = document.createElement("td");
  td.textContent = v == null ? "" : String(v);
  if (cls) td.className = cls;
  tr.append(td);
  return td;
}

function hhmm(s) {
  const d = new Date(s);
  return isNaN(d) ? "" : d.toLocaleString([], { day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit" });
}

async function load() {
  const r = await fetch("/api/arrivals", { credentials: "same-origin" });
  if (r.status === 401) { location.href = "/login"; return; }
  if (!r.ok) return;
  const v = await r.json();
  const body = document.getElementById("arrivals-rows");
  body.replaceChildren();
  document.getElementById("arrivals-empty").hidden = v.flights.length > 0;
  for (const f of v.flights) {
    const tr = document.createElement("tr");
    tr.className = "flight" + (f.counts.hits ? " hit" : f.counts.possible ? " possible" : "");
    cell(tr, hhmm(f.arrival_at));
    cell(tr, f.flight);
    cell(tr, f.departure);
    cell(tr, f.counts.passengers);
    cell(tr, f.counts.crew);
    cell(tr, f.counts.screened);
    cell(tr, f.counts.hits);
    cell(tr, f.counts.possible);
    cell(tr, (f.screened_by || "") + " " + hhmm(f.screened_at) + " · " + f.message);
    body.append(tr);
    for (const t of f.flagged) {
      const fr = document.createElement("tr");
      fr.className = "flagged " + t.level;
      cell(fr, t.level.toUpperCase());
      const who = cell(fr, [t.name, t.birth_date, t.nationality, t.document].filter(Boolean).join(" · "));
      who.colSpan = 4;
      const why = cell(fr, [t.category, t.action, t.reason].filter(Boolean).join(" · "));
      why.colSpan = 4;
      body.append(fr);
    }
  }
}

load();
setInterval(load, 30000);
