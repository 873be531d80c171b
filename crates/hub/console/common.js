// Shared by the console pages: the API with the CSRF header, the signed-in
// user, sign-out. Text goes into the page with textContent only.

let csrfToken = "";

/** Calls the console API; throws an Error with .status, .code, .version and a Dutch .message. */
export async function api(path, { method = "GET", body, redirect = true } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    headers["X-CSRF-Token"] = csrfToken;
  }
  const response = await fetch(`/console/api${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
    cache: "no-store",
  });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 && redirect) {
    window.location.assign("/console/");
  }
  if (!response.ok) {
    const error = new Error(data.message || `Fout ${response.status}`);
    error.status = response.status;
    error.code = data.error;
    error.version = data.version;
    throw error;
  }
  return data;
}

/** Loads the signed-in user (redirects to sign-in without a session) and wires the header. */
export async function signedIn() {
  const me = await api("/me");
  csrfToken = me.csrf_token;
  const who = document.getElementById("who");
  if (who) {
    const role = me.account.role === "admin" ? "examenbeheerder" : "surveillant";
    who.textContent = `${me.account.display_name} (${role})`;
  }
  const logout = document.getElementById("logout");
  if (logout) {
    logout.addEventListener("click", async () => {
      await api("/logout", { method: "POST" }).catch(() => {});
      window.location.assign("/console/");
    });
  }
  return me;
}

/** Sets the CSRF token after sign-in. */
export function setCsrfToken(token) {
  csrfToken = token;
}

/** Creates an element with text. */
export function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}
