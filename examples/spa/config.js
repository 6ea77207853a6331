// Where the auth API lives. `make run` serves it on http://127.0.0.1:8000; the API
// must list this page's origin in CORS_ORIGINS (see the README).
export const API_BASE = "http://127.0.0.1:8000";
