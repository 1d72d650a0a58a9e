"""A local stand-in for the few Hub HTTP endpoints `HfApi.create_repo` and `upload_folder` call.

It answers as the Hub does (every file 'regular', so contents travel inline in the commit) and
records what it was sent, so tests can check the upload without a network.
"""

from __future__ import annotations

import base64
import hashlib
import json

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def fake_hub(token: str) -> tuple[FastAPI, dict]:
    app = FastAPI()
    state: dict = {"repos": {}, "files": {}, "commits": []}

    def authorised(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {token}"

    @app.post("/api/repos/create")
    async def create(request: Request):
        if not authorised(request):
            return JSONResponse({"error": "Invalid credentials"}, status_code=401)
        body = await request.json()
        repo = f"{body['organization']}/{body['name']}"
        if repo in state["repos"]:
            return JSONResponse(
                {"error": "You already created this model repo", "url": f"http://hub/{repo}"}, status_code=409
            )
        state["repos"][repo] = body
        return {"url": f"{request.base_url}{repo}", "name": repo}

    @app.post("/api/validate-yaml")
    async def validate_yaml(request: Request):
        return {"errors": [], "warnings": []}

    @app.post("/api/models/{owner}/{name}/preupload/{revision}")
    async def preupload(owner: str, name: str, revision: str, request: Request):
        body = await request.json()
        files = [
            {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": None} for f in body["files"]
        ]
        return {"files": files, "commitOid": "0" * 40}

    @app.post("/api/models/{owner}/{name}/commit/{revision}")
    async def commit(owner: str, name: str, revision: str, request: Request):
        if not authorised(request):
            return JSONResponse({"error": "Invalid credentials"}, status_code=401)
        lines = [json.loads(line) for line in (await request.body()).decode().splitlines() if line.strip()]
        header = lines[0]["value"]
        for item in lines[1:]:
            assert item["key"] == "file", item
            state["files"][(f"{owner}/{name}", item["value"]["path"])] = base64.b64decode(item["value"]["content"])
        oid = hashlib.sha1(json.dumps(lines).encode()).hexdigest()
        state["commits"].append({"repo": f"{owner}/{name}", "summary": header["summary"], "oid": oid})
        return {"commitUrl": f"{request.base_url}{owner}/{name}/commit/{oid}", "commitOid": oid}

    return app, state
