// The exam office's archive: every sitting, newest first, a page at a time,
// filtered by period and room, or the sittings of one student; with each
// sitting's downloads. For admins only (the API answers 403 to others).
import { api, signedIn, el } from "/console/common.js";

await signedIn();
const form = document.getElementById("filter");
const error = document.getElementById("error");
const summary = document.getElementById("summary");
const tbody = document.getElementById("rows");
const more = document.getElementById("more");
const studentColumn = document.getElementById("student-column");
const fields = ["from", "to", "room", "student"];

let query = "";
let next = null;
let shown = 0;
let searching = false;

function showError(e) {
  error.textContent = e.message;
  error.hidden = false;
  if (e.status === 403) {
    // Not the exam office: nothing here to use.
    form.hidden = true;
    document.getElementById("sittings").hidden = true;
    more.hidden = true;
    summary.textContent = "";
  }
}

function count(n, unknown) {
  return n === null || n === undefined ? unknown : String(n);
}

const zone = { timeZone: "Europe/Amsterdam" };
function when(ms) {
  return new Date(ms).toLocaleString("nl-NL", { ...zone, day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit" });
}

function downloads(row) {
  const base = `/console/api/sittings/${encodeURIComponent(row.sitting_id)}`;
  const cell = el("td", undefined, { class: "downloads" });
  const label = (what) => `${what} van zitting ${row.sitting_id}`;
  const pv = el("p", "Proces-verbaal: ");
  pv.append(
    el("a", "PDF", { href: `${base}/proces-verbaal.pdf`, download: "", "data-download": "pv-pdf", "aria-label": label("PDF van het proces-verbaal") }),
    el("a", "zegel (.sig)", { href: `${base}/proces-verbaal.pdf.sig`, download: "", "data-download": "pv-pdf-sig", "aria-label": label("zegel (.sig) van de PDF van het proces-verbaal") }),
    el("a", "HTML", { href: `${base}/proces-verbaal.html`, download: "", "data-download": "pv-html", "aria-label": label("HTML van het proces-verbaal") }),
  );
  const second = el("p");
  second.append(el("a", "Resultaten (CSV)", { href: `${base}/results.csv`, download: "", "data-download": "csv", "aria-label": label("Resultaten (CSV)") }));
  second.append(scoringLink(row, label));
  cell.append(pv, second);
  const button = el("button", "Opmerkingen", { type: "button", "aria-expanded": "false", "aria-label": label("Opmerkingen") });
  button.addEventListener("click", () => toggleRemarks(row, button));
  second.append(button);
  return cell;
}

// Hand scoring of the sitting's open items (Beoordelen, scoring.js): the exam office scores after the day itself too.
function scoringLink(row, label) {
  return el("a", "Beoordelen", { href: `/console/scoring.html?sitting=${encodeURIComponent(row.sitting_id)}`, "data-link": "scoring", "aria-label": label("Beoordelen") });
}

async function toggleRemarks(row, button) {
  const tr = button.closest("tr");
  const open = tr.nextElementSibling && tr.nextElementSibling.classList.contains("remarks-row") ? tr.nextElementSibling : null;
  if (open) {
    open.remove();
    button.setAttribute("aria-expanded", "false");
    return;
  }
  let remarks;
  try {
    remarks = await api(`/sittings/${encodeURIComponent(row.sitting_id)}/remarks`);
  } catch (e) {
    showError(e);
    return;
  }
  const cell = el("td", undefined, { colspan: "10" });
  if (remarks.length === 0) {
    cell.append(el("p", `Geen opmerkingen bij zitting ${row.sitting_id}.`));
  } else {
    const list = el("ul");
    for (const r of remarks) list.append(el("li", `${when(r.created_ms)} — ${r.author}: ${r.text}`));
    cell.append(el("p", `Opmerkingen bij zitting ${row.sitting_id}:`), list);
  }
  const remarksRow = el("tr", undefined, { class: "remarks-row" });
  remarksRow.append(cell);
  tr.after(remarksRow);
  button.setAttribute("aria-expanded", "true");
}

function render(row) {
  const tr = el("tr", undefined, { "data-sitting": row.sitting_id });
  const start = el("td", undefined, { class: "when" });
  start.append(el("span", row.day), el("br"), el("span", `${row.time} · zitting ${row.sitting_id} · ${row.duration_minutes} min`, { class: "caption" }));
  tr.append(start, el("td", row.room), el("td", row.exam), el("td", row.exam_code ?? "niet opgegeven"));
  const student = el("td", undefined, { "data-student": row.student ? row.student.number : "" });
  if (row.student) {
    student.append(el("span", `${row.student.name} (${row.student.number})`), el("br"), el("strong", row.student.status_text, { class: "student-status" }));
  }
  student.hidden = !searching;
  tr.append(student);
  tr.append(
    el("td", String(row.expected), { class: "count" }),
    el("td", String(row.logged_in), { class: "count" }),
    el("td", count(row.handed_in, "verwijderd (bewaartermijn)"), { class: "count" }),
    el("td", count(row.absent, "nog niet begonnen"), { class: "count" }),
  );
  tr.append(downloads(row));
  return tr;
}

async function load(append) {
  error.hidden = true;
  const params = new URLSearchParams(query);
  if (append && next) params.set("after", next);
  let page;
  try {
    page = await api(`/archive?${params}`);
  } catch (e) {
    showError(e);
    return;
  }
  if (!append) {
    tbody.replaceChildren();
    shown = 0;
  }
  studentColumn.hidden = !searching;
  for (const row of page.rows) tbody.append(render(row));
  shown += page.rows.length;
  next = page.next;
  more.hidden = !next;
  const found = searching ? `${page.students_matched === 1 ? "1 student" : `${page.students_matched} studenten`} gevonden; ` : "";
  summary.textContent = shown === 0 ? `${found}geen zittingen gevonden.` : `${found}${shown} ${shown === 1 ? "zitting" : "zittingen"} getoond${next ? "; er zijn er meer" : ""}.`;
}

function search() {
  const params = new URLSearchParams();
  for (const f of fields) {
    const value = document.getElementById(f).value.trim();
    if (value) params.set(f, value);
  }
  searching = params.has("student");
  query = params.toString();
  return load(false);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  search();
});
document.getElementById("clear").addEventListener("click", () => {
  for (const f of fields) document.getElementById(f).value = "";
  search();
});
more.addEventListener("click", () => load(true));

try {
  const rooms = await api("/archive/rooms");
  const select = document.getElementById("room");
  for (const room of rooms) select.append(el("option", room, { value: room }));
} catch (e) {
  showError(e);
}
if (!form.hidden) await search();
document.body.dataset.ready = "true";
