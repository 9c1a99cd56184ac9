"""A minimal Hugging Face Hub on 127.0.0.1, speaking the file and commit protocol that the real
``huggingface_hub`` client uses, so tests exercise the real client end to end (no mocks).

Download:  HEAD/GET /{org}/{name}/resolve/{revision}/{path}   (X-Repo-Commit, ETag, Content-Length)
           GET /api/models/{org}/{name}/revision/{revision}    (model_info)
Upload:    POST /api/repos/create, /api/validate-yaml,
           POST /api/models/{org}/{name}/preupload/{revision}  (every file "regular": inline base64)
           POST /api/models/{org}/{name}/commit/{revision}     (NDJSON: header + file lines)
           POST /api/models/{org}/{name}/branch/{branch}
Errors carry X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound) like the Hub.
"""
from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


@dataclass
class Repo:
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)  # sha -> {path: content}
    refs: dict[str, str] = field(default_factory=dict)  # branch/tag -> sha

    def commit(self, files: dict[str, bytes], branch: str = "main", message: str = "") -> str:
        parent = self.refs.get(branch, "")
        tree = dict(self.commits.get(parent, {}))
        tree.update(files)
        h = hashlib.sha1(f"{parent}\n{message}\n".encode())
        for path in sorted(tree):
            h.update(path.encode() + hashlib.sha256(tree[path]).digest())
        sha = h.hexdigest()
        self.commits[sha] = tree
        self.refs[branch] = sha
        return sha

    def resolve(self, revision: str) -> str | None:
        if revision in self.refs:
            return self.refs[revision]
        return revision if revision in self.commits else None


def hf_env_vars(endpoint: str, root: Path) -> dict[str, str]:
    """Environment that points huggingface_hub at ``endpoint`` with a private cache and no token."""
    return {
        "HF_ENDPOINT": endpoint,
        "HF_HOME": str(root / "hf_home"),
        "HF_HUB_CACHE": str(root / "hf_cache"),
        "HF_HUB_OFFLINE": "0",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    }


class LocalHub:
    """Start with ``with LocalHub() as hub:``; ``hub.endpoint`` is the URL for ``HF_ENDPOINT``."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path), for assertions
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add_folder(self, repo_id: str, folder: str | Path, branch: str = "main") -> str:
        """Commit every file of ``folder`` to ``repo_id`` on ``branch``; returns the commit sha."""
        files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in Path(folder).rglob("*") if p.is_file()}
        return self.repos.setdefault(repo_id, Repo()).commit(files, branch, message=f"add {folder}")

    def __enter__(self) -> "LocalHub":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler_for(hub: LocalHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        # -- helpers --------------------------------------------------------------------------
        def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, obj: object, status: int = 200) -> None:
            self._send(status, json.dumps(obj).encode(), {"Content-Type": "application/json"})

        def _error(self, status: int, code: str, message: str) -> None:
            body = json.dumps({"error": message}).encode()
            headers = {"X-Error-Code": code, "X-Error-Message": message, "Content-Type": "application/json"}
            self._send(status, body, headers)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length", 0)))

        def _repo(self, repo_id: str) -> Repo | None:
            repo = hub.repos.get(repo_id)
            if repo is None:
                self._error(404, "RepoNotFound", f"Repository {repo_id} not found")
            return repo

        # -- download -------------------------------------------------------------------------
        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            hub.requests.append((self.command, path))
            parts = path.strip("/").split("/")
            if len(parts) >= 5 and parts[2] == "resolve":
                return self._resolve(f"{parts[0]}/{parts[1]}", unquote(parts[3]), unquote("/".join(parts[4:])))
            if len(parts) >= 6 and parts[:2] == ["api", "models"] and parts[4] == "revision":
                return self._model_info(f"{parts[2]}/{parts[3]}", unquote("/".join(parts[5:])))
            self._error(404, "NotFound", f"no route for {path}")

        def _resolve(self, repo_id: str, revision: str, filename: str) -> None:
            repo = self._repo(repo_id)
            if repo is None:
                return
            sha = repo.resolve(revision)
            if sha is None:
                return self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            content = repo.commits[sha].get(filename)
            if content is None:
                return self._error(404, "EntryNotFound", f"{filename} does not exist at {revision}")
            etag = hashlib.sha256(content).hexdigest()
            self._send(200, content, {"X-Repo-Commit": sha, "ETag": f'"{etag}"', "Accept-Ranges": "none"})

        def _model_info(self, repo_id: str, revision: str) -> None:
            repo = self._repo(repo_id)
            if repo is None:
                return
            sha = repo.resolve(revision)
            if sha is None:
                return self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            self._json({"id": repo_id, "modelId": repo_id, "sha": sha, "private": False,
                        "siblings": [{"rfilename": f} for f in sorted(repo.commits[sha])]})

        # -- upload ---------------------------------------------------------------------------
        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            hub.requests.append(("POST", path))
            body = self._body()
            parts = path.strip("/").split("/")
            if parts == ["api", "repos", "create"]:
                req = json.loads(body)
                repo_id = f"{req['organization']}/{req['name']}" if req.get("organization") else req["name"]
                if repo_id in hub.repos:  # the Hub answers 409 with the repo's url
                    body = json.dumps({"error": "You already created this model repo",
                                       "url": f"{hub.endpoint}/{repo_id}"}).encode()
                    return self._send(409, body, {"Content-Type": "application/json"})
                hub.repos[repo_id] = Repo()
                hub.repos[repo_id].commit({}, "main", message="initial commit")
                return self._json({"url": f"{hub.endpoint}/{repo_id}", "name": repo_id})
            if parts == ["api", "validate-yaml"]:
                return self._json({})
            if len(parts) >= 6 and parts[:2] == ["api", "models"]:
                repo = self._repo(f"{parts[2]}/{parts[3]}")
                if repo is None:
                    return
                action, revision = parts[4], unquote("/".join(parts[5:]))
                if action == "preupload":
                    files = json.loads(body)["files"]
                    return self._json({"files": [
                        {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": None} for f in files
                    ]})
                if action == "commit":
                    return self._commit(parts[2] + "/" + parts[3], repo, revision, body)
                if action == "branch":
                    start = repo.resolve("main")
                    repo.refs.setdefault(revision, start)
                    return self._json({})
            self._error(404, "NotFound", f"no route for POST {path}")

        def _commit(self, repo_id: str, repo: Repo, revision: str, body: bytes) -> None:
            if repo.resolve(revision) is None:
                return self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
            header = next(item["value"] for item in lines if item["key"] == "header")
            files = {}
            for item in lines:
                if item["key"] != "file":
                    if item["key"] != "header":
                        return self._error(400, "BadRequest", f"unsupported commit line {item['key']}")
                    continue
                files[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
            sha = repo.commit(files, revision, message=header["summary"])
            self._json({"commitUrl": f"{hub.endpoint}/{repo_id}/commit/{sha}", "commitOid": sha,
                        "pullRequestUrl": None})

    return Handler
