import { api, signedIn, el } from "/console/common.js";

const me = await signedIn();
const rooms = await api("/rooms");
const list = document.getElementById("rooms");
// The exam office also has the archive of every sitting.
if (me.account.role === "admin") {
  const archive = el("p");
  archive.append(el("a", "Archief: alle zittingen, zoeken op student", { href: "/console/archive.html", id: "archive-link" }));
  list.before(archive);
}
document.getElementById("rooms-empty").hidden = rooms.length > 0;
for (const room of rooms) {
  const item = el("li");
  const link = el("a", `Lokaal ${room.room}`, { href: `/console/room.html?room=${encodeURIComponent(room.room)}` });
  item.append(link);
  const sittings = room.sittings.length ? `Zittingen vandaag: ${room.sittings.join(", ")}` : "Vandaag geen zittingen";
  item.append(el("span", ` – ${sittings}`));
  list.append(item);
}
// An invigilator with one room goes straight there.
if (me.account.role === "invigilator" && rooms.length === 1) {
  window.location.replace(`/console/room.html?room=${encodeURIComponent(rooms[0].room)}`);
}
