// The auth API over the cookie transport.
//
// The access token lives only in this module's memory (never localStorage or
// sessionStorage, where any injected script could read it). The refresh token is an
// HttpOnly cookie the page never sees; the browser sends it to /api/v1/auth only.
import { API_BASE } from "./config.js";

let accessToken = null;
// A login waiting for its second factor (two-factor sign-in): its mfaToken, in memory.
let pendingMfaToken = null;
// One refresh at a time: concurrent 401s in this tab share it.
let refreshing = null;

export class ApiError extends Error {
  constructor(status, payload) {
    super(payload?.error || `HTTP ${status}`);
    this.status = status;
    this.code = payload?.code || "http_error";
    this.details = payload?.details || null;
  }
}

function readCookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

async function send(path, { method = "GET", body, auth = true, csrf = false } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && accessToken) headers.Authorization = `Bearer ${accessToken}`;
  if (csrf) {
    // Double submit: a page of another site can neither read this cookie nor
    // send this header without passing the API's CORS allowlist.
    const token = readCookie("csrf_refresh_token");
    if (token) headers["X-CSRF-TOKEN"] = token;
  }
  const response = await fetch(`${API_BASE}/api/v1${path}`, {
    method,
    headers,
    // Cookies of a cross-origin answer are stored (and sent) only with this.
    credentials: "include",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const payload = await response.json().catch(() => null);
  if (!response.ok || !payload?.success) throw new ApiError(response.status, payload);
  return payload.data;
}

function postRefresh() {
  // The CSRF value belongs to the session and survives rotation, so another tab's
  // refresh between reading the cookie and sending it does not break the pair.
  return send("/auth/refresh-token", { method: "POST", auth: false, csrf: true });
}

/** Get a new access token with the refresh cookie; false when the session is over. */
export function refresh() {
  refreshing ??= postRefresh()
    .then((data) => {
      accessToken = data.accessToken;
      return true;
    })
    .catch((error) => {
      if (!(error instanceof ApiError) || error.status >= 500) throw error;
      accessToken = null;
      return false;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** An authenticated call: on a 401, refresh once and retry once. */
export async function call(path, options = {}) {
  const used = accessToken;
  try {
    return await send(path, options);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
    // Another call of this tab may have refreshed meanwhile: just retry then.
    if (accessToken === used && !(await refresh())) throw error;
    return send(path, options);
  }
}

export const isLoggedIn = () => accessToken !== null;

/** Log in; `{mfaRequired: true}` when the account wants its second factor next. */
export async function login(email, password) {
  const data = await send("/auth/login", {
    method: "POST",
    body: { email, password },
    auth: false,
  });
  if (data.mfaRequired) {
    pendingMfaToken = data.mfaToken;
    return { mfaRequired: true, methods: data.methods };
  }
  accessToken = data.accessToken;
  return data;
}

/** The login's second step: a 6-digit code, or else a recovery code. */
export async function verifyMfa(code) {
  const factor = /^[0-9]{6}$/.test(code) ? { code } : { recoveryCode: code };
  const data = await send("/auth/mfa/verify", {
    method: "POST",
    body: { mfaToken: pendingMfaToken, ...factor },
    auth: false,
  });
  pendingMfaToken = null;
  accessToken = data.accessToken;
  return data;
}

export const startMfaSetup = (password) =>
  call("/auth/mfa/totp/setup", { method: "POST", body: { password } });
export const confirmMfa = (code) =>
  call("/auth/mfa/totp/confirm", { method: "POST", body: { code } }).then(
    (data) => data.recoveryCodes,
  );

export async function register(name, email, password) {
  const data = await send("/auth/register", {
    method: "POST",
    body: { name, email, password },
    auth: false,
  });
  accessToken = data.accessToken;
  return data.user;
}

export async function logout() {
  try {
    // The refresh cookie names the session to end; the answer clears the cookies.
    await send("/auth/logout", { method: "POST", auth: false, csrf: true });
  } catch (error) {
    // 401: no refresh cookie left, so no session to end here.
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
  } finally {
    accessToken = null;
  }
}

export async function logoutEverywhere() {
  try {
    return await call("/auth/logout-all", { method: "POST" });
  } finally {
    accessToken = null;
  }
}

/** The sign-in providers: [{name, label}]. */
export const listProviders = () =>
  send("/auth/oauth/providers", { auth: false }).then((data) => data.providers);

/** Where the browser goes to sign in with a provider; it comes back to `returnTo`. */
export const providerSignInUrl = (name, returnTo) =>
  `${API_BASE}/api/v1/auth/oauth/${encodeURIComponent(name)}/authorize?` +
  new URLSearchParams({ returnTo });

/** The login code a provider sign-in brought back, for a session (or mfaRequired). */
export async function exchangeLoginCode(code) {
  const data = await send("/auth/oauth/token", {
    method: "POST",
    body: { code },
    auth: false,
  });
  if (data.mfaRequired) {
    pendingMfaToken = data.mfaToken;
    return { mfaRequired: true };
  }
  accessToken = data.accessToken;
  return data;
}

export const getProfile = () => call("/users/me").then((data) => data.user);
export const updateName = (name) =>
  call("/users/me", { method: "PATCH", body: { name } }).then((data) => data.user);
export const listSessions = () => call("/auth/sessions").then((data) => data.sessions);
export const endSession = (id) =>
  call(`/auth/sessions/${encodeURIComponent(id)}`, { method: "DELETE" });

// Passkeys (WebAuthn). The server's options are the WebAuthn JSON forms: the browser
// parses them as they are, and the credential goes back as its own toJSON().
const creationOptions = (json) => PublicKeyCredential.parseCreationOptionsFromJSON(json);
const requestOptions = (json) => PublicKeyCredential.parseRequestOptionsFromJSON(json);

/** Add a passkey of this device to the signed-in account. */
export async function addPasskey(name) {
  const options = await call("/auth/passkeys/register/options", { method: "POST" });
  const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
  const data = await call("/auth/passkeys/register/verify", {
    method: "POST",
    body: { credential: credential.toJSON(), name },
  });
  return data.passkey;
}

export const listPasskeys = () => call("/auth/passkeys").then((data) => data.passkeys);
export const deletePasskey = (id) =>
  call(`/auth/passkeys/${encodeURIComponent(id)}`, { method: "DELETE" });

/** Sign in without a password: the browser offers this site's passkeys. */
export async function loginWithPasskey() {
  const options = await send("/auth/passkeys/login/options", { method: "POST", auth: false });
  const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
  const data = await send("/auth/passkeys/login/verify", {
    method: "POST",
    body: { credential: credential.toJSON() },
    auth: false,
  });
  accessToken = data.accessToken;
  return data;
}

/** The login's second step with a passkey instead of a code. */
export async function verifyMfaWithPasskey() {
  const options = await send("/auth/mfa/passkey/options", {
    method: "POST",
    body: { mfaToken: pendingMfaToken },
    auth: false,
  });
  const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
  const data = await send("/auth/mfa/verify", {
    method: "POST",
    body: { mfaToken: pendingMfaToken, credential: credential.toJSON() },
    auth: false,
  });
  pendingMfaToken = null;
  accessToken = data.accessToken;
  return data;
}

/** Ask for an email change: the new address gets a confirmation link. */
export const changeEmail = (newEmail, password) =>
  call("/users/me/email", { method: "POST", body: { newEmail, password } });

/** A link of an email-change mail (`confirm` or `revert`), with this tab's session if
 * any (a confirm then keeps it signed in). */
export async function followEmailLink(kind, token) {
  const path = `/auth/email/change/${kind}`;
  if (kind === "revert") accessToken = null; // a revert signs every session out
  return send(path, { method: "POST", body: { token } });
}

/** Delete the account (its password); every session ends, this one too. */
export async function deleteAccount(password) {
  try {
    return await call("/users/me", { method: "DELETE", body: { password } });
  } finally {
    accessToken = null;
  }
}
