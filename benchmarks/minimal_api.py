"""The portal_api benchmark's baseline: a minimal FastAPI app on the same uvicorn settings as
`seattui serve`, answering each of the measured requests with a body of the same size.

    python benchmarks/minimal_api.py PORT ANSWERS.json

ANSWERS.json maps "METHOD /path" to the bytes seattui answered (as text). A POST's JSON body
is parsed as FastAPI parses any body (into a dict), then the recorded bytes are returned.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import uvicorn
from fastapi import FastAPI, Response

from seattui.portal.server import uvicorn_options


def minimal_app(answers: dict[str, str]) -> FastAPI:
    app = FastAPI()
    for route, text in answers.items():
        method, path = route.split(" ", 1)
        if method == "POST":
            app.post(path)(_post(text.encode()))
        else:
            app.get(path)(_get(text.encode()))

    @app.get("/api/v1/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _post(body: bytes) -> Any:
    async def answer(payload: dict[str, Any]) -> Response:
        return Response(body, media_type="application/json")

    return answer


def _get(body: bytes) -> Any:
    async def answer() -> Response:
        return Response(body, media_type="application/json")

    return answer


if __name__ == "__main__":
    port, answers_file = int(sys.argv[1]), sys.argv[2]
    with open(answers_file, encoding="utf-8") as handle:
        answers = json.load(handle)
    uvicorn.run(minimal_app(answers), host="127.0.0.1", port=port, log_level="warning", log_config=None,
                access_log=False, **uvicorn_options())
