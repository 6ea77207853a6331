// The page: login and register forms, then the profile, sessions and logout buttons.
// Every value from the server reaches the page through textContent, never innerHTML.
import * as api from "./api.js";

const $ = (id) => document.getElementById(id);

function setView(state, status) {
  document.body.dataset.state = state;
  $("login-view").hidden = state !== "login";
  $("profile-view").hidden = state !== "profile";
  $("status").textContent = status;
}

function showLogin(status = "Log in or register.") {
  $("mfa-form").hidden = true;
  $("login-form").hidden = false;
  setView("login", status);
}

function askSecondFactor(methods = []) {
  $("login-form").hidden = true;
  $("mfa-form").hidden = false;
  $("mfa-passkey").hidden = !methods.includes("webauthn");
  setView("login", "Enter the code from your authenticator app.");
  $("mfa-code").focus();
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

function showError(error) {
  let text = error instanceof api.ApiError ? error.message : "The server could not be reached.";
  if (error instanceof api.ApiError && error.details) {
    const fields = Object.entries(error.details).map(
      ([field, messages]) => `${field}: ${[].concat(messages).join(" ")}`,
    );
    text += ` (${fields.join("; ")})`;
  }
  $("error").textContent = text;
  $("error").hidden = false;
}

// Runs a user action; an ended session sends the user back to the login form.
async function run(action) {
  clearError();
  try {
    await action();
  } catch (error) {
    const sessionOver =
      error instanceof api.ApiError &&
      (error.code.startsWith("token_") || error.code === "account_disabled");
    if (sessionOver) showLogin("Your session has ended. Please log in again.");
    else if (document.body.dataset.state === "loading") showLogin();
    showError(error);
  }
}

function renderUser(user) {
  $("profile-name").textContent = user.name;
  $("profile-email").textContent = user.email;
  $("profile-verified").textContent = user.emailVerified ? "yes" : "no";
  $("profile-created").textContent = new Date(user.createdAt).toLocaleString();
  $("profile-mfa").textContent = user.mfaEnabled ? "on" : "off";
  $("mfa-setup-form").hidden = user.mfaEnabled;
}

function showEnrolment({ secret, qrSvg }) {
  // As an image (a data: URL), so the server's SVG never becomes part of the page.
  $("mfa-qr").src = `data:image/svg+xml;base64,${btoa(qrSvg)}`;
  $("mfa-secret").textContent = secret;
  $("mfa-enrol").hidden = false;
}

function showRecoveryCodes(codes) {
  const items = codes.map((code) => {
    const li = document.createElement("li");
    li.textContent = code;
    return li;
  });
  $("mfa-recovery-codes").replaceChildren(...items);
  $("mfa-recovery").hidden = false;
  $("mfa-enrol").hidden = true;
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  return td;
}

function renderSessions(sessions) {
  const rows = sessions.map((session) => {
    const tr = document.createElement("tr");
    tr.dataset.sessionId = session.id;
    tr.append(
      cell(session.userAgent || "unknown device"),
      cell(session.ip),
      cell(new Date(session.createdAt).toLocaleString()),
      cell(new Date(session.lastUsedAt).toLocaleString()),
    );
    const action = cell(session.current ? "this session" : "");
    if (!session.current) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "End";
      button.addEventListener("click", () =>
        run(async () => {
          await api.endSession(session.id);
          renderSessions(await api.listSessions());
        }),
      );
      action.append(button);
    }
    tr.append(action);
    return tr;
  });
  $("sessions").tBodies[0].replaceChildren(...rows);
}

function renderPasskeys(passkeys) {
  const items = passkeys.map((passkey) => {
    const li = document.createElement("li");
    li.dataset.passkeyId = passkey.id;
    const name = document.createElement("span");
    name.className = "passkey-name";
    name.textContent = passkey.name;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "passkey-delete";
    button.textContent = "Remove";
    button.addEventListener("click", () =>
      run(async () => {
        await api.deletePasskey(passkey.id);
        renderPasskeys(await api.listPasskeys());
        $("status").textContent = "Passkey removed.";
      }),
    );
    li.append(name, " ", button);
    return li;
  });
  $("passkeys").replaceChildren(...items);
}

async function showProfile() {
  // The calls may meet an expired access token; they share one refresh.
  const [user, sessions, passkeys] = await Promise.all([
    api.getProfile(),
    api.listSessions(),
    api.listPasskeys(),
  ]);
  renderUser(user);
  renderSessions(sessions);
  renderPasskeys(passkeys);
  setView("profile", `Logged in as ${user.email}`);
}

function onSubmit(id, handler) {
  $(id).addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    run(async () => {
      await handler(new FormData(form));
      form.reset();
    });
  });
}

onSubmit("login-form", async (form) => {
  const answer = await api.login(form.get("email"), form.get("password"));
  if (answer.mfaRequired) askSecondFactor(answer.methods);
  else await showProfile();
});

onSubmit("mfa-form", async (form) => {
  await api.verifyMfa(form.get("code").trim());
  showLogin();
  await showProfile();
});

onSubmit("mfa-setup-form", async (form) => {
  showEnrolment(await api.startMfaSetup(form.get("password")));
});

onSubmit("mfa-confirm-form", async (form) => {
  showRecoveryCodes(await api.confirmMfa(form.get("code").trim()));
  renderUser(await api.getProfile());
  $("status").textContent = "Two-factor sign-in is on.";
});

onSubmit("passkey-add-form", async (form) => {
  await api.addPasskey(form.get("name").trim());
  renderPasskeys(await api.listPasskeys());
  $("status").textContent = "Passkey added.";
});

$("passkey-login").addEventListener("click", () =>
  run(async () => {
    await api.loginWithPasskey();
    await showProfile();
  }),
);

$("mfa-passkey").addEventListener("click", () =>
  run(async () => {
    await api.verifyMfaWithPasskey();
    showLogin();
    await showProfile();
  }),
);

onSubmit("register-form", async (form) => {
  await api.register(form.get("name"), form.get("email"), form.get("password"));
  await showProfile();
});

onSubmit("name-form", async (form) => {
  renderUser(await api.updateName(form.get("name")));
  $("status").textContent = "Name saved.";
});

onSubmit("email-form", async (form) => {
  await api.changeEmail(form.get("newEmail"), form.get("password"));
  $("status").textContent =
    `A confirmation link is on its way to ${form.get("newEmail")}; follow it to switch.`;
});

onSubmit("delete-form", async (form) => {
  const { message } = await api.deleteAccount(form.get("password"));
  showLogin(message);
});

// The links of the email-change mails: {FRONTEND_URL}/confirm-email-change?token=...
// and /revert-email-change?token=... open this page.
const EMAIL_LINKS = { "confirm-email-change": "confirm", "revert-email-change": "revert" };

function emailLink() {
  const kind = EMAIL_LINKS[location.pathname.split("/").pop()];
  const token = new URLSearchParams(location.search).get("token");
  return kind && token ? { kind, token } : null;
}

async function followEmailLink({ kind, token }) {
  // The token leaves the address bar (and the history) before anything else.
  history.replaceState(null, "", location.pathname.replace(/[^/]*$/, ""));
  const data = await api.followEmailLink(kind, token);
  if (kind === "revert") {
    showLogin(`${data.message} Log in with your old email address.`);
  } else if (api.isLoggedIn()) {
    await showProfile();
    $("status").textContent = `Your email address is now ${data.user.email}.`;
  } else {
    showLogin(`Your email address is now ${data.user.email}. Log in with it.`);
  }
}

$("reload").addEventListener("click", () => run(showProfile));

$("logout").addEventListener("click", () =>
  run(async () => {
    try {
      await api.logout();
    } finally {
      showLogin("You are logged out.");
    }
  }),
);

$("logout-all").addEventListener("click", () =>
  run(async () => {
    const { revoked } = await api.logoutEverywhere();
    showLogin(`Logged out of ${revoked} session(s).`);
  }),
);

// What a provider sign-in's failure (`?error=`) means for the user.
const PROVIDER_ERRORS = {
  account_exists:
    "An account with this email exists. Log in with its password, then link the provider.",
  provider_denied: "The sign-in was cancelled or refused at the provider.",
  provider_unavailable: "The sign-in provider is not answering. Try again later.",
};

async function showProviders() {
  const providers = await api.listProviders().catch(() => []);
  const buttons = providers.map(({ name, label }) => {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.provider = name;
    button.textContent = `Sign in with ${label}`;
    button.addEventListener("click", () => {
      // A navigation, not fetch: the provider's pages need the whole window.
      window.location.assign(api.providerSignInUrl(name, window.location.origin + window.location.pathname));
    });
    return button;
  });
  $("provider-buttons").replaceChildren(...buttons);
  $("providers").hidden = buttons.length === 0;
}

// Back from a provider: `?code=` to exchange once, or `?error=`; off the URL at once.
async function finishProviderSignIn() {
  const params = new URLSearchParams(window.location.search);
  const code = params.get("code");
  const error = params.get("error");
  if (!code && !error) return false;
  window.history.replaceState(null, "", window.location.pathname);
  if (error) {
    showLogin();
    $("error").textContent = PROVIDER_ERRORS[error] || `The sign-in failed (${error}).`;
    $("error").hidden = false;
    return true;
  }
  const answer = await api.exchangeLoginCode(code);
  if (answer.mfaRequired) askSecondFactor();
  else await showProfile();
  return true;
}

// A reload keeps the user logged in: the refresh cookie buys a new access token.
run(async () => {
  showProviders();
  if (await finishProviderSignIn()) return;
  const link = emailLink();
  const loggedIn = await api.refresh();
  if (link) await followEmailLink(link);
  else if (loggedIn) await showProfile();
  else showLogin();
});
