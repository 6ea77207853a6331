"""A downstream FastAPI service trusting the auth server through auth_verifier.

Run under uvicorn: AUTH_SERVER_URL, AUTH_ISSUER, AUTH_AUDIENCE, MAX_STALENESS.
"""

import os
from contextlib import asynccontextmanager
from typing import Annotated

from auth_verifier import AuthVerifier
from auth_verifier.fastapi import token_claims
from fastapi import Depends, FastAPI

verifier = AuthVerifier(
    os.environ["AUTH_SERVER_URL"],
    issuer=os.environ.get("AUTH_ISSUER", "auth-server"),
    audience=os.environ.get("AUTH_AUDIENCE", "auth-server"),
    max_staleness=float(os.environ.get("MAX_STALENESS", "60")),
    poll_wait=int(os.environ.get("POLL_WAIT", "25")),
    backoff_max=float(os.environ.get("BACKOFF_MAX", "2")),
    fail_open=os.environ.get("FAIL_OPEN") == "true",
)


@asynccontextmanager
async def lifespan(app):
    verifier.start()
    yield
    verifier.stop()


app = FastAPI(lifespan=lifespan)
Claims = Annotated[dict, Depends(token_claims(verifier))]


@app.get("/me")
async def me(claims: Claims):
    return {"sub": claims["sub"], "sid": claims["sid"]}


@app.get("/verifier")
async def state():
    return verifier.metrics()


@app.get("/bare")
async def bare():
    return {"ok": True}
