import { api } from "/console/common.js";

const form = document.getElementById("login-form");
const error = document.getElementById("login-error");

// Already signed in: straight to the rooms.
api("/me", { redirect: false }).then(() => window.location.replace("/console/rooms.html")).catch(() => {});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const username = document.getElementById("username").value.trim();
  const password = document.getElementById("password").value;
  if (!username || !password) {
    error.textContent = "Vul uw gebruikersnaam en wachtwoord in.";
    error.hidden = false;
    return;
  }
  const button = document.getElementById("login-submit");
  button.disabled = true;
  try {
    await api("/login", { method: "POST", body: { username, password }, redirect: false });
    window.location.assign("/console/rooms.html");
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
    document.getElementById("password").value = "";
    document.getElementById("password").focus();
  } finally {
    button.disabled = false;
  }
});
