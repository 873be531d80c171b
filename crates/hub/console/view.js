// The room view's pure functions (no DOM): labels, times, merging patches.

export const STATE_LABELS = {
  not_logged_in: "Niet ingelogd",
  waiting: "Ingelogd, wacht",
  absent: "Afwezig",
  in_exam: "Bezig",
  locked: "Vergrendeld",
  offline: "Offline",
  submitted: "Ingeleverd",
  handed_in_outside_time: "Buiten de tijd ingeleverd (telt niet)",
};

/** The room's counts for the summary line: [label, number]. */
export function summaryCounts(seats) {
  const count = (pred) => seats.filter(pred).length;
  return [
    ["Verwacht", seats.length],
    ["Ingelogd", count((s) => !!s.device_id)],
    ["Bezig", count((s) => s.state === "in_exam")],
    ["Vergrendeld", count((s) => s.state === "locked")],
    ["Offline", count((s) => s.state === "offline")],
    ["Ingeleverd", count((s) => s.state === "submitted" || s.state === "handed_in_outside_time")],
    ["Afwezig", count((s) => s.state === "absent")],
  ];
}

/** Whether a seat needs the invigilator now (shown first). */
export function needsAttention(seat) {
  return ["locked", "offline", "handed_in_outside_time"].includes(seat.state) || seat.login_locked;
}

/** The seats in the order shown: those that need attention first, then the
 * rest in the server's order (by sitting and name). */
export function seatOrder(seats) {
  return [...seats.filter(needsAttention), ...seats.filter((s) => !needsAttention(s))];
}

/** Applies a `patch` event to a view; returns the new view. */
export function applyPatch(view, patch) {
  const next = { ...view, server_now_ms: patch.server_now_ms };
  if (patch.room_code !== undefined) next.room_code = patch.room_code;
  if (patch.sittings !== undefined) next.sittings = patch.sittings;
  if (patch.devices !== undefined) next.devices = patch.devices;
  const removed = new Set(patch.removed || []);
  const changed = new Map((patch.seats || []).map((s) => [s.key, s]));
  const seats = [];
  for (const seat of view.seats) {
    if (removed.has(seat.key)) continue;
    seats.push(changed.get(seat.key) || seat);
    changed.delete(seat.key);
  }
  for (const seat of changed.values()) seats.push(seat);
  next.seats = seats;
  return next;
}

/** "1:05:09" or "12:04" for a duration in ms (never negative). */
export function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

/** "12 s geleden", "3 min geleden", or "nooit". */
export function formatAgo(ms, now) {
  if (ms === null || ms === undefined) return "nooit";
  const secs = Math.max(0, Math.round((now - ms) / 1000));
  return secs < 120 ? `${secs} s geleden` : `${Math.round(secs / 60)} min geleden`;
}

/** "09:30" in the browser's time zone. */
export function formatClock(ms) {
  return new Date(ms).toLocaleTimeString("nl-NL", { hour: "2-digit", minute: "2-digit" });
}

/** The time left shown for a seat. */
export function timeLeft(seat, now) {
  if (seat.state === "submitted") return "Ingeleverd";
  if (seat.ended) return "Beëindigd";
  if (seat.reopened) return `${timeLeft({ ...seat, reopened: false }, now)} (heropend)`;
  if (seat.paused_remaining_ms !== null && seat.paused_remaining_ms !== undefined) {
    return `${formatDuration(seat.paused_remaining_ms)} (gepauzeerd)`;
  }
  if (seat.end_ms === null || seat.end_ms === undefined) return `${seat.total_minutes} min (nog niet gestart)`;
  return formatDuration(seat.end_ms - now);
}
