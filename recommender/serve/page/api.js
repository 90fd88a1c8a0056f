// Calls to the service, on this page's own origin only (relative paths), and the token.
// Every error the service gives is {"error": {"status", "message"}}: an ApiError carries
// them to the page, which shows the message as it is.

const TOKEN = "recommender.token";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function answer(response) {
  let body = null;
  try {
    body = await response.json();
  } catch (error) {
    body = null; // not JSON: the status says enough
  }
  if (!response.ok) {
    const message = body?.error?.message ?? `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, message);
  }
  return body;
}

async function call(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { ...options, credentials: "same-origin", cache: "no-store" });
  } catch (error) {
    throw new ApiError(0, error.message || String(error));
  }
  return response;
}

/** A path with its query: `params` entries that are undefined, null or "" are left out. */
export function withQuery(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.append(name, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export function articlePath(id, ...rest) {
  return ["/articles", encodeURIComponent(id), ...rest.map(encodeURIComponent)].join("/");
}

export async function getJson(path) {
  return answer(await call(path, { headers: { Accept: "application/json" } }));
}

export async function postJson(path, body) {
  return answer(await call(path, {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    body: JSON.stringify(body),
  }));
}

function storedToken() {
  try {
    return window.sessionStorage.getItem(TOKEN);
  } catch (error) {
    return null;
  }
}

/** Keep the token for this tab's session only (never localStorage, never a cookie). */
export function keepToken(token) {
  try {
    if (token) window.sessionStorage.setItem(TOKEN, token);
    else window.sessionStorage.removeItem(TOKEN);
  } catch (error) {
    // storage disabled: the token is asked again at the next change
  }
}

/** A write (PUT or DELETE) with the token. A server that answers 401 (no token yet) gets
 * one asked with `askToken()` (a promise of the token, or null if the editor closes the
 * dialog), then the call once more. A 403 (a wrong token) forgets the token, so that the
 * next change asks again; its message reaches the page in the ApiError. */
export async function write(method, path, askToken) {
  let token = storedToken();
  for (let attempt = 0; ; attempt += 1) {
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await call(path, { method, headers });
    if (response.status === 401 && attempt === 0) {
      const refusal = await answer(response).catch((error) => error);
      token = await askToken(refusal.message);
      if (!token) throw refusal;
      keepToken(token);
      continue;
    }
    if (response.status === 403 && token) keepToken(null);
    return answer(response);
  }
}
