import { api, signedIn, el } from "/console/common.js";
import { STATE_LABELS, applyPatch, formatAgo, formatClock, needsAttention, seatOrder, summaryCounts, timeLeft } from "/console/view.js";

const room = new URLSearchParams(window.location.search).get("room") || "";
document.getElementById("room-title").textContent = `Lokaal ${room}`;
document.title = `Lokaal ${room} – Examenconsole`;

const rows = new Map(); // seat key -> <tr>
let view = null;
let clockOffset = 0; // hub clock minus browser clock
const now = () => Date.now() + clockOffset;

const status = document.getElementById("status");
const notice = document.getElementById("notice");
function announce(text) {
  notice.hidden = true;
  status.textContent = text;
}
function warn(text) {
  notice.textContent = text;
  notice.hidden = false;
}

// ---- seats -------------------------------------------------------------

// A seat is a compact card (30 fit on a 1366×768 screen): the name opens the
// actions; number, PC and last signal; state and time left; the latest event
// that needs attention (all of them in the dialog); accommodations.
function seatRow(seat) {
  const card = el("li", undefined, { class: "seat", "data-seat": seat.key });
  const button = el("button", seat.name, { type: "button", class: "seat-actions", "aria-label": `Acties voor ${seat.name}` });
  button.addEventListener("click", () => openSeat(card.dataset.seat, button));
  const meta = el("p", undefined, { class: "meta" });
  // The PC first: it is where the invigilator walks to.
  meta.append(
    el("span", "", { class: "pc" }),
    " · ", el("span", seat.student_number, { class: "number" }),
    el("span", "", { class: "sitting-id" }),
    " · ", el("span", "", { class: "beat" }),
  );
  const state = el("p", undefined, { class: "line" });
  state.append(el("span", "", { class: "state" }), " ", el("span", "", { class: "left" }));
  card.append(button, meta, state, el("p", "", { class: "accommodations" }), el("div", "", { class: "events" }));
  return card;
}

function updateRow(tr, seat) {
  tr.dataset.state = seat.state;
  tr.classList.toggle("attention", needsAttention(seat));
  const granted = tr.querySelector(".accommodations");
  granted.textContent = seat.accommodations && seat.accommodations.length ? `Voorzieningen: ${seat.accommodations.join(", ")}` : "";
  granted.hidden = !granted.textContent;
  granted.title = granted.textContent;
  // The sitting is named only when the room holds more than one.
  const several = new Set(view.seats.map((s) => s.sitting_id)).size > 1;
  tr.querySelector(".sitting-id").textContent = several ? ` · ${seat.sitting_id}` : "";
  tr.dataset.version = String(seat.version);
  const stateCell = tr.querySelector(".state");
  const badges = [STATE_LABELS[seat.state] || seat.state];
  if (seat.paused) badges.push("gepauzeerd");
  if (seat.login_locked) badges.push("inlogblokkade");
  if (seat.moving_to) badges.push("wordt verplaatst");
  stateCell.replaceChildren(el("span", badges[0], { class: `badge ${seat.state}` }));
  for (const extra of badges.slice(1)) stateCell.append(" ", el("span", extra, { class: "badge extra" }));
  tr.querySelector(".pc").textContent = pcName(seat);
  const events = tr.querySelector(".events");
  const lines = eventLines(seat);
  events.replaceChildren(...lines.slice(0, 1).map((text) => el("p", text, { title: text })));
  events.hidden = !lines.length;
  tick(tr, seat);
}

function pcName(seat) {
  return seat.hostname || (seat.device_id ? seat.device_id.slice(0, 8) : "geen pc");
}

/** The seat's events in words, newest first (answers handed in outside the time first of all). */
function eventLines(seat) {
  const lines = seat.answers_note ? [`Buiten de tijd: ${seat.answers_note}`] : [];
  // Offline: since when, first (the card has no room for the signal's age).
  if (seat.state === "offline" && seat.last_heartbeat_ms) lines.push(`Geen signaal sinds ${formatClock(seat.last_heartbeat_ms)}`);
  return lines.concat(seat.events.map((e) => `${formatClock(e.time_ms)} ${e.text}`));
}

function lastSignal(seat) {
  return seat.last_heartbeat_ms === null || seat.last_heartbeat_ms === undefined ? "geen signaal" : `signaal ${formatAgo(seat.last_heartbeat_ms, now())}`;
}

function tick(tr, seat) {
  tr.querySelector(".left").textContent = timeLeft(seat, now());
  tr.querySelector(".beat").textContent = lastSignal(seat);
}

function renderSeats() {
  const body = document.getElementById("seat-rows");
  const keys = new Set(view.seats.map((s) => s.key));
  for (const [key, tr] of rows) {
    if (!keys.has(key)) {
      tr.remove();
      rows.delete(key);
    }
  }
  const ordered = seatOrder(view.seats);
  for (const seat of ordered) {
    let tr = rows.get(seat.key);
    if (!tr) {
      tr = seatRow(seat);
      rows.set(seat.key, tr);
      body.append(tr);
    }
    if (tr.dataset.json !== JSON.stringify(seat)) {
      tr.dataset.json = JSON.stringify(seat);
      updateRow(tr, seat);
    }
  }
  // Seats that need the invigilator come first; rows move only when the
  // order changed, and the keyboard focus stays where it was.
  const shown = [...body.children].map((tr) => tr.dataset.seat);
  if (shown.join("\n") !== ordered.map((s) => s.key).join("\n")) {
    const focused = document.activeElement;
    for (const seat of ordered) body.append(rows.get(seat.key));
    if (focused && body.contains(focused) && document.activeElement !== focused) focused.focus();
  }
  // The counts per sitting (a room may hold a later sitting too).
  const sittingIds = [...new Set(view.seats.map((s) => s.sitting_id))];
  document.getElementById("seat-summary").replaceChildren(
    ...sittingIds.map((id) => {
      const line = el("p", undefined, { "data-sitting": id });
      line.append(el("span", `${id}: `, { class: "sitting-id" }));
      summaryCounts(view.seats.filter((s) => s.sitting_id === id)).forEach(([label, n], i) => {
        if (i) line.append(" · ");
        const pair = el("span", `${label} `, { class: "count" });
        pair.append(el("strong", String(n), { "data-count": label.toLowerCase() }));
        line.append(pair);
      });
      return line;
    }),
  );
}

// ---- sittings and room code --------------------------------------------

// Each sitting's part is built once and updated in place, so a remark being
// typed survives live updates and the keyboard focus stays where it was.
const sittingParts = new Map(); // sitting id -> { part, state, buttons, signature }

function sittingButtons(s) {
  const list = [];
  if (!s.ended_ms) {
    if (!s.started) list.push(["start", "Gezamenlijk starten"]);
    if (s.started && !s.paused) list.push(["pause_all", "Alles pauzeren"]);
    if (s.paused) list.push(["resume_all", "Alles hervatten"]);
    list.push(["end_all", "Beëindigen voor iedereen"]);
  }
  return list;
}

// The exam office scores open items (Beoordelen); invigilators get no link (the hub refuses them too).
let isAdmin = false;
function scoringLink(downloads, s) {
  if (!isAdmin) return;
  const href = `/console/scoring.html?sitting=${encodeURIComponent(s.sitting_id)}`;
  downloads.append(" ", el("a", "Beoordelen (open vragen)", { href, "data-link": "scoring" }));
}

function sittingPart(s) {
  const part = el("section", undefined, { class: "sitting", "data-sitting": s.sitting_id, "aria-labelledby": `sitting-${s.sitting_id}` });
  part.append(el("h3", `${s.exam} (${s.sitting_id})`, { id: `sitting-${s.sitting_id}` }));
  const state = el("p", "", { class: "sitting-state" });
  const buttons = el("div", undefined, { class: "buttons" });
  part.append(state, buttons);
  const downloads = el("p", undefined, { class: "downloads" });
  const base = `/console/api/sittings/${encodeURIComponent(s.sitting_id)}`;
  downloads.append(
    el("a", "Proces-verbaal (HTML)", { href: `${base}/proces-verbaal.html`, download: "", "data-download": "pv-html" }), " ",
    el("a", "Proces-verbaal (PDF)", { href: `${base}/proces-verbaal.pdf`, download: "", "data-download": "pv-pdf" }), " ",
    // The seal of the PDF downloaded just before (exam-hub verify-pv checks the pair).
    el("a", "Zegel van de PDF (.sig)", { href: `${base}/proces-verbaal.pdf.sig`, download: "", "data-download": "pv-pdf-sig" }), " ",
    el("a", "Resultaten (CSV)", { href: `${base}/results.csv`, download: "", "data-download": "csv" }),
  );
  scoringLink(downloads, s);
  // Downloads and remarks fold away, so the seats stay on the screen.
  const more = el("details", undefined, { class: "more" });
  more.append(el("summary", "Proces-verbaal, resultaten en opmerkingen"), downloads);
  const form = el("form", undefined, { class: "remark" });
  const id = `remark-${s.sitting_id}`;
  form.append(el("label", "Opmerking voor het proces-verbaal", { for: id }), el("textarea", undefined, { id, rows: "2", maxlength: "4000" }));
  form.append(el("button", "Opmerking opslaan", { type: "submit" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = form.querySelector("textarea").value;
    try {
      await api(`/sittings/${encodeURIComponent(s.sitting_id)}/remarks`, { method: "POST", body: { text } });
      form.querySelector("textarea").value = "";
      announce("Opmerking opgeslagen.");
    } catch (e) {
      warn(e.message);
    }
  });
  more.append(form);
  part.append(more);
  return { part, state, buttons, signature: "" };
}

function renderSittings() {
  const box = document.getElementById("sittings");
  const ids = new Set(view.sittings.map((s) => s.sitting_id));
  for (const [id, entry] of sittingParts) {
    if (!ids.has(id)) {
      entry.part.remove();
      sittingParts.delete(id);
    }
  }
  let empty = document.getElementById("no-sittings");
  if (!view.sittings.length && !empty) {
    empty = el("p", "Vandaag geen zittingen in dit lokaal.", { id: "no-sittings" });
    box.append(empty);
  } else if (view.sittings.length && empty) {
    empty.remove();
  }
  for (const s of view.sittings) {
    let entry = sittingParts.get(s.sitting_id);
    if (!entry) {
      entry = sittingPart(s);
      sittingParts.set(s.sitting_id, entry);
      box.append(entry.part);
    }
    let state = s.started ? "Gestart" : `Start om ${formatClock(s.start_ms)}`;
    if (s.paused) state = "Gepauzeerd";
    if (s.ended_ms) state = `Beëindigd om ${formatClock(s.ended_ms)}`;
    entry.state.textContent = `${state} · ${s.duration_minutes} minuten`;
    const list = sittingButtons(s);
    const signature = list.map(([action]) => action).join(",");
    if (signature === entry.signature) continue;
    entry.signature = signature;
    const focused = entry.buttons.contains(document.activeElement) ? document.activeElement.dataset.action : null;
    entry.buttons.replaceChildren();
    for (const [action, label] of list) {
      const b = el("button", label, { type: "button", "data-action": action, "data-sitting": s.sitting_id });
      b.addEventListener("click", () => {
        // The version at the moment of the click, not when the button was made.
        const current = view.sittings.find((x) => x.sitting_id === s.sitting_id) || s;
        confirmAction({ action, sitting_id: s.sitting_id, version: current.version, label: `${label}: ${current.exam}` }, b);
      });
      entry.buttons.append(b);
    }
    if (focused) (entry.buttons.querySelector(`[data-action="${focused}"]`) || entry.buttons.querySelector("button"))?.focus();
  }
}

function renderCode() {
  const panel = document.getElementById("room-code-panel");
  panel.hidden = !view.room_code;
  if (view.room_code) {
    document.getElementById("room-code").textContent = view.room_code.code;
    document.getElementById("room-code-left").textContent = String(Math.max(0, Math.ceil((view.room_code.valid_until_ms - now()) / 1000)));
  }
}

// Alarms about the room's PCs (wrong access codes for several students, a rewritten journal, …).
function renderAlarms() {
  const items = [];
  for (const d of view.devices) {
    for (const text of d.alarms || []) items.push(el("li", `${d.hostname || d.device_id.slice(0, 8)}: ${text}`));
  }
  document.getElementById("alarms").replaceChildren(...items);
  document.getElementById("alarms-panel").hidden = !items.length;
}

function render(full) {
  clockOffset = view.server_now_ms - Date.now();
  if (full.sittings) renderSittings();
  renderCode();
  renderAlarms();
  renderSeats();
}

// ---- actions -------------------------------------------------------------

const dialog = document.getElementById("seat-dialog");
const confirmForm = document.getElementById("confirm-form");
let pending = null;
let returnFocus = null;

const SEAT_ACTIONS = [
  ["unlock", "Ontgrendelen"],
  ["add_time", "Extra tijd"],
  ["pause", "Pauzeren"],
  ["resume", "Hervatten"],
  ["move", "Naar andere pc"],
  ["end", "Examen beëindigen"],
  ["reopen", "Examen heropenen"],
  ["reset_lockout", "Inlogblokkade opheffen"],
  ["reprint_code", "Nieuwe toegangscode"],
  ["lock", "Vergrendelen"],
];

function openSeat(key, opener) {
  const seat = view.seats.find((s) => s.key === key);
  if (!seat) return;
  returnFocus = opener;
  document.getElementById("seat-dialog-title").textContent = `${seat.name} (${seat.student_number})`;
  // What the card shortens, in full: PC, time left, accommodations, the latest events.
  const detail = document.getElementById("seat-detail");
  const facts = el("ul", undefined, { class: "facts" });
  facts.append(
    el("li", `Status: ${STATE_LABELS[seat.state] || seat.state} · tijd over: ${timeLeft(seat, now())}`),
    el("li", `Pc: ${pcName(seat)} · ${lastSignal(seat)}`),
  );
  if (seat.accommodations && seat.accommodations.length) facts.append(el("li", `Voorzieningen: ${seat.accommodations.join(", ")}`));
  const lines = eventLines(seat);
  detail.replaceChildren(facts);
  if (lines.length) {
    detail.append(el("h3", "Laatste gebeurtenissen"));
    const list = el("ul", undefined, { class: "events" });
    for (const text of lines) list.append(el("li", text));
    detail.append(list);
  }
  detail.hidden = false;
  const box = document.getElementById("seat-actions");
  box.replaceChildren();
  box.hidden = false;
  confirmForm.hidden = true;
  document.getElementById("code-result").hidden = true;
  for (const [action, label] of SEAT_ACTIONS) {
    const b = el("button", label, { type: "button", "data-action": action });
    b.addEventListener("click", () => showConfirm({ action, sitting_id: seat.sitting_id, student_number: seat.student_number, version: seat.version, label: `${label}: ${seat.name}` }));
    box.append(b);
  }
  if (!dialog.open) dialog.showModal();
  box.querySelector("button").focus();
}

function confirmAction(request, opener) {
  returnFocus = opener;
  document.getElementById("seat-dialog-title").textContent = request.label;
  document.getElementById("seat-actions").hidden = true;
  document.getElementById("seat-detail").hidden = true;
  document.getElementById("code-result").hidden = true;
  showConfirm(request);
  if (!dialog.open) dialog.showModal();
  document.getElementById("confirm-reason").focus();
}

function showConfirm(request) {
  pending = request;
  document.getElementById("seat-actions").hidden = true;
  document.getElementById("seat-detail").hidden = true;
  confirmForm.hidden = false;
  document.getElementById("confirm-question").textContent = `${request.label}. Weet u het zeker?`;
  document.getElementById("confirm-minutes-field").hidden = request.action !== "add_time";
  document.getElementById("confirm-kind-field").hidden = request.action !== "add_time";
  const deviceField = document.getElementById("confirm-device-field");
  deviceField.hidden = request.action !== "move";
  if (request.action === "move") {
    const select = document.getElementById("confirm-device");
    select.replaceChildren();
    for (const d of view.devices.filter((d) => !d.in_use)) {
      select.append(el("option", `${d.hostname || d.device_id.slice(0, 8)}${d.online ? "" : " (offline)"}`, { value: d.device_id }));
    }
  }
  const reasonOptional = ["start", "resume", "resume_all"].includes(request.action);
  document.getElementById("confirm-reason-field").querySelector("label").textContent =
    reasonOptional ? "Reden (optioneel)" : "Reden (komt in het proces-verbaal)";
  document.getElementById("confirm-reason").value = "";
  document.getElementById("confirm-error").hidden = true;
  document.getElementById("confirm-reason").focus();
}

// Our own action raised the version: the next action may follow at once,
// before the live view brings the change.
function adoptVersion(request, version) {
  if (request.student_number) {
    const seat = view.seats.find((s) => s.sitting_id === request.sitting_id && s.student_number === request.student_number);
    if (seat && seat.version < version) seat.version = version;
  } else {
    const sitting = view.sittings.find((s) => s.sitting_id === request.sitting_id);
    if (sitting && sitting.version < version) {
      sitting.version = version;
      renderSittings();
    }
  }
}

function closeDialog() {
  dialog.close();
}

// Closing by button or Escape: forget the action, focus goes back where it was.
dialog.addEventListener("close", () => {
  pending = null;
  if (!returnFocus) return;
  if (!document.body.contains(returnFocus) && returnFocus.dataset.sitting) {
    // The sitting's buttons changed meanwhile: its first button takes the focus.
    returnFocus = document.querySelector(`section[data-sitting="${CSS.escape(returnFocus.dataset.sitting)}"] .buttons button`);
  }
  returnFocus?.focus();
});

document.getElementById("confirm-cancel").addEventListener("click", closeDialog);
document.getElementById("seat-dialog-close").addEventListener("click", closeDialog);
document.getElementById("code-print").addEventListener("click", () => window.print());

document.getElementById("confirm-ok").addEventListener("click", async () => {
  const request = pending;
  if (!request) return;
  const body = { action: request.action, sitting_id: request.sitting_id, version: request.version };
  if (request.student_number) body.student_number = request.student_number;
  let reason = document.getElementById("confirm-reason").value.trim();
  if (request.action === "add_time") {
    body.minutes = Number(document.getElementById("confirm-minutes").value);
    reason = `${document.getElementById("confirm-kind").value}: ${reason}`;
  }
  if (request.action === "move") body.to_device = document.getElementById("confirm-device").value;
  body.reason = reason;
  const error = document.getElementById("confirm-error");
  const ok = document.getElementById("confirm-ok");
  ok.disabled = true;
  try {
    const result = await api(`/rooms/${encodeURIComponent(room)}/actions`, { method: "POST", body });
    adoptVersion(request, result.version);
    if (!request.student_number) {
      // A room-wide action changed every seat's version: take the new view now,
      // so the next action on a seat does not wait for the live update.
      try {
        view = await api(`/rooms/${encodeURIComponent(room)}`);
        render({ sittings: true });
      } catch {
        // The live view brings it shortly.
      }
    }
    announce(result.message);
    if (result.access_code) {
      confirmForm.hidden = true;
      document.getElementById("code-student").textContent = request.label.split(": ").slice(1).join(": ");
      document.getElementById("code-value").textContent = result.access_code;
      document.getElementById("code-result").hidden = false;
      document.getElementById("code-print").focus();
      pending = null;
    } else {
      closeDialog();
    }
  } catch (e) {
    if (e.code === "conflict" || e.code === "sitting_finished") {
      closeDialog();
      warn(e.message);
    } else {
      error.textContent = e.message;
      error.hidden = false;
    }
  } finally {
    ok.disabled = false;
  }
});

// ---- live ------------------------------------------------------------------

function connect() {
  const connection = document.getElementById("connection");
  const source = new EventSource(`/console/api/rooms/${encodeURIComponent(room)}/events`);
  source.addEventListener("snapshot", (event) => {
    view = JSON.parse(event.data);
    connection.textContent = "Live verbonden";
    connection.dataset.live = "true";
    render({ sittings: true });
  });
  source.addEventListener("patch", (event) => {
    if (!view) return;
    const patch = JSON.parse(event.data);
    view = applyPatch(view, patch);
    render({ sittings: patch.sittings !== undefined });
  });
  source.addEventListener("signed_out", () => {
    source.close();
    window.location.assign("/console/");
  });
  source.onerror = () => {
    connection.textContent = "Verbinding verbroken – opnieuw verbinden…";
    connection.dataset.live = "false";
  };
}

isAdmin = (await signedIn()).account.role === "admin";
connect();
setInterval(() => {
  if (!view) return;
  renderCode();
  for (const seat of view.seats) {
    const tr = rows.get(seat.key);
    if (tr) tick(tr, seat);
  }
}, 1000);
