// The browser (cookie) flow with fetch, in a few lines.
//
// - The refresh token is an HttpOnly cookie this code never sees; `credentials:
//   "include"` lets the browser send it (and store the new one after a refresh).
// - Calls that use that cookie echo the readable `csrf_refresh_token` cookie in the
//   `X-CSRF-TOKEN` header.
// - The access token lives in memory only (not localStorage): a reload gets a new
//   one with refresh().
// - On a 401 the call refreshes once and retries once.
//
// The page's origin must be in the server's CORS_ORIGINS when it is not the API's.
// Use: `await login(email, password); console.log(await me()); await logout();`

const API = "http://127.0.0.1:8000/api/v1";
let accessToken = null;

function readCookie(name) {
  const match = document.cookie.match(new RegExp(`(?:^|; )${name}=([^;]*)`));
  return match ? decodeURIComponent(match[1]) : "";
}

async function send(path, { method = "GET", body, token = accessToken, cookie = false } = {}) {
  const headers = {};
  if (cookie) headers["X-CSRF-TOKEN"] = readCookie("csrf_refresh_token");
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(API + path, {
    method,
    headers,
    credentials: "include",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const payload = await response.json();
  return { status: response.status, payload };
}

function unwrap({ status, payload }) {
  if (payload.success) return payload.data;
  const error = new Error(payload.error);
  Object.assign(error, { status, code: payload.code, details: payload.details });
  throw error;
}

// A new access token from the refresh cookie; false when the session is over.
export async function refresh() {
  const result = await send("/auth/refresh-token", {
    method: "POST",
    token: null,
    cookie: true,
  });
  accessToken = result.payload.success ? result.payload.data.accessToken : null;
  return accessToken !== null;
}

// Any API call with the access token; one refresh and one retry on a 401.
export async function api(path, options = {}) {
  let result = await send(path, options);
  if (result.status === 401 && (await refresh())) result = await send(path, options);
  return unwrap(result);
}

export async function login(email, password) {
  const data = unwrap(
    await send("/auth/login", { method: "POST", body: { email, password }, token: null }),
  );
  accessToken = data.accessToken;
  return data;
}

export const me = async () => (await api("/users/me")).user;

export async function logout() {
  // The cookie (with the CSRF header) names the session; the server clears both cookies.
  await send("/auth/logout", { method: "POST", token: null, cookie: true });
  accessToken = null;
}
