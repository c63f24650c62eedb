// The JSON API with the key the user typed: kept in sessionStorage (gone with the tab) and sent
// as `Authorization: Bearer`. No cookies go with these requests, so there is no ambient credential.

const STORE = "modelport.apiKey";

/** An answer that was not 2xx, with the server's own message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The key kept for this tab, or null. */
export function currentKey() {
  return sessionStorage.getItem(STORE);
}

/** Keep a key for this tab. */
export function keepKey(key) {
  sessionStorage.setItem(STORE, key);
}

/** Forget the key. */
export function forgetKey() {
  sessionStorage.removeItem(STORE);
}

/** Call `/api/v1<path>`; returns the parsed JSON or throws ApiError with the server's message. */
export async function api(path, options) {
  const { method = "GET", body } = options || {};
  const headers = { Accept: "application/json" };
  const key = currentKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit", cache: "no-store",
    });
  } catch (error) {
    throw new ApiError(0, `the server did not answer (${error.message}); is it still running?`);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, explain(response.status, data));
  return data;
}

/** The message to show for a refused call. */
function explain(status, data) {
  const said = data && typeof data.error === "string" ? data.error : `HTTP ${status}`;
  if (status === 403) return `Not allowed: ${said}`;
  if (status === 401) return `This key was not accepted: ${said}`;
  return said;
}

/** A path segment, URL-encoded. */
export function seg(value) {
  return encodeURIComponent(String(value));
}
