// Beoordelen: the exam office scores the items that need a person (an
// essay), per student, with the answer shown as text. Every score goes
// through the hub's own checks (exam-hub score set) with the signed-in
// account as the scorer. Text goes into the page with textContent only.
import { api, signedIn, el } from "/console/common.js";

const sitting = new URLSearchParams(window.location.search).get("sitting") || "";
const base = `/sittings/${encodeURIComponent(sitting)}`;
const status = document.getElementById("status");
const notice = document.getElementById("notice");

/** A score as the exam office writes it: decimal comma, no trailing zeros. */
function points(n) {
  return String(Math.round(n * 10000) / 10000).replace(".", ",");
}

function warn(text) {
  notice.textContent = text;
  notice.hidden = false;
}

function itemBlock(student, item) {
  const id = `${student.student_number}-${item.item}`;
  const block = el("article", undefined, { class: item.points === null ? "item pending" : "item", "data-item": id, "aria-labelledby": `item-${id}` });
  const max = item.max_score === null ? "maximum onbekend" : `maximaal ${points(item.max_score)} punten`;
  block.append(el("h4", `Vraag ${item.item} (${max})`, { id: `item-${id}` }));
  block.append(el("p", "Antwoord van de student:", { class: "caption" }));
  const answer = el("div", item.answer || "(geen antwoord gegeven)", { class: item.answer ? "answer" : "answer empty", "data-answer": id, tabindex: "0", role: "region", "aria-label": `Antwoord van ${student.name} op vraag ${item.item}` });
  block.append(answer);
  const given = item.points === null ? "Nog niet beoordeeld." : `Huidige score: ${points(item.points)} punten, gegeven door ${item.by}.`;
  block.append(el("p", given, { class: "given", "data-given": id }));
  if (item.max_score === null) {
    // The hub takes no score without a maximum (no upper bound to check against).
    block.append(el("p", "Deze vraag kan nog niet beoordeeld worden: de scoregegevens noemen geen maximum (max_score). Vraag de beheerder de scoregegevens met het maximum opnieuw te importeren.", { class: "error" }));
    return block;
  }
  const form = el("form", undefined, { class: "score", "data-score": id, novalidate: "" });
  const field = el("div", undefined, { class: "field" });
  const input = el("input", undefined, {
    id: `points-${id}`, name: "points", inputmode: "decimal", autocomplete: "off",
    "aria-describedby": `hint-${id} error-${id}`,
  });
  if (item.points !== null) input.value = points(item.points);
  field.append(el("label", `Punten (0 tot ${points(item.max_score)})`, { for: `points-${id}` }), input);
  const error = el("p", "", { class: "error", id: `error-${id}`, role: "alert", hidden: "" });
  form.append(field, el("button", item.points === null ? "Score opslaan" : "Score wijzigen", { type: "submit", class: "primary" }));
  form.append(el("span", `${student.name}, vraag ${item.item}`, { id: `hint-${id}`, hidden: "" }), error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const typed = input.value.trim();
    if (!typed) {
      error.textContent = "Vul het aantal punten in.";
      error.hidden = false;
      input.focus();
      return;
    }
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const result = await api(`${base}/scores`, { method: "POST", body: { student_number: student.student_number, item: item.item, points: typed } });
      status.textContent = result.message;
      await load(id);
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
  block.append(form);
  return block;
}

function studentBlock(student) {
  const part = el("section", undefined, { class: "student", "data-student": student.student_number, "aria-labelledby": `student-${student.student_number}` });
  part.append(el("h3", `${student.name} (${student.student_number})`, { id: `student-${student.student_number}` }));
  const max = student.max_score === null ? "" : ` van ${points(student.max_score)}`;
  // The hub says whether the score is final (nothing waits and the test's own processing ran).
  const score = student.score === null ? "" : student.definitive ? ` · score ${points(student.score)}${max} (definitief)` : ` · score tot nu toe ${points(student.score)}${max} (voorlopig)`;
  part.append(el("p", `Status: ${student.status}${score}`, { "data-summary": student.student_number }));
  if (!student.definitive && student.provisional_because) {
    part.append(el("p", `Voorlopig: ${student.provisional_because}.`, { class: "provisional", "data-provisional": student.student_number }));
  }
  for (const item of student.items) part.append(itemBlock(student, item));
  return part;
}

/** Loads and shows what waits; `focusItem` keeps the keyboard where it was after a save. */
async function load(focusItem) {
  const view = await api(`${base}/scoring`);
  const title = `Beoordelen: ${view.exam}${view.exam_code ? ` (${view.exam_code})` : ""}, zitting ${view.sitting_id}`;
  document.getElementById("scoring-title").textContent = title;
  document.title = `${title} – Examenconsole`;
  document.getElementById("results-link").href = `/console/api${base}/results.csv`;
  const waiting = view.students.reduce((n, s) => n + s.pending.length, 0);
  const of = `${view.students.length} ${view.students.length === 1 ? "student" : "studenten"}`;
  const provisional = view.students.filter((s) => !s.definitive && !s.pending.length).length;
  const rest = provisional ? ` De score van ${provisional} van ${of} blijft voorlopig om een andere reden (zie bij de student).` : "";
  document.getElementById("scoring-summary").textContent = !view.students.length
    ? ""
    : waiting
      ? `${waiting} ${waiting === 1 ? "antwoord wacht" : "antwoorden wachten"} op een beoordeling, bij ${view.students.filter((s) => s.pending.length).length} van ${of}.${rest}`
      : provisional
        ? `Alle antwoorden zijn beoordeeld.${rest}`
        : `Alles is beoordeeld (${of}).`;
  const empty = document.getElementById("scoring-empty");
  empty.hidden = view.students.length > 0;
  empty.textContent = view.scored
    ? "Er zijn (nog) geen antwoorden op open vragen om te beoordelen."
    : "De examenserver heeft geen scoregegevens van dit examen (exam-hub import scoring).";
  document.getElementById("students").replaceChildren(...view.students.map(studentBlock));
  if (focusItem) document.querySelector(`form[data-score="${CSS.escape(focusItem)}"] input`)?.focus();
}

const me = await signedIn();
if (me.account.role !== "admin") {
  warn("Beoordelen is alleen voor het examenbureau (beheerders).");
} else {
  try {
    await load();
  } catch (e) {
    warn(e.message);
  }
}
