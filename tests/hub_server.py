"""A local server that speaks the part of the Hugging Face Hub HTTP API that ``huggingface_hub`` uses.

Downloads: ``HEAD``/``GET .../resolve/<revision>/<file>``. Uploads, as ``HfApi.create_repo`` and ``create_commit``
(huggingface_hub 2.4) call them: ``POST /api/repos/create``, ``POST /api/validate-yaml`` (model cards), ``POST
/api/models/<repo>/preupload/<revision>`` (answered "regular" for every file, so no LFS or Xet transfer is needed)
and ``POST /api/models/<repo>/commit/<revision>`` (an NDJSON body: a header line, then base64 files and deletions);
``GET /api/models/<repo>[/revision/<revision>]`` answers ``repo_info``, and ``GET /api/whoami-v2`` the account of
the ``Authorization: Bearer`` token (401 for any token but ``LocalHub.token``). The real client talks to it over HTTP
through ``HF_ENDPOINT``; nothing in the client is patched. Repos hold commits; ``main`` is the newest. Failures are
injected per file (see :attr:`LocalHub.failures`): a status code, a truncated body, a connection that stalls, or a
list of those, one per request, after which the file is served normally (a Hub that fails, then recovers).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

_WHOAMI = "/api/whoami-v2"
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<revision>[^/]+)/(?P<filename>.+)$")
_INFO = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)(?:/revision/(?P<revision>[^/]+))?$")
_REPO_API = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)/(?P<action>preupload|commit)/(?P<revision>[^/]+)$")


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a file's content (what the Hub reports as a regular file's ``oid``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Repo:
    commits: list[tuple[str, dict[str, bytes]]] = field(default_factory=list)

    def files_at(self, revision: str) -> tuple[str, dict[str, bytes]] | None:
        if not self.commits:
            return None
        if revision == "main":
            return self.commits[-1]
        return next((c for c in self.commits if c[0] == revision), None)


class LocalHub:
    """Start with ``with LocalHub() as hub:``; ``hub.endpoint`` is the URL to put in ``HF_ENDPOINT``."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        #: filename -> what to do instead of serving it: an HTTP status; "truncate" (half the body, then the connection
        #: is closed); "stall" (answer nothing for ``stall_seconds``); "half_then_stall" (half the body, then nothing
        #: for ``stall_seconds``). A list holds one of those (or None: served) per request, then the file is served.
        self.failures: dict[str, int | str | list[int | str]] = {}
        self.stall_seconds = 30.0
        #: the share of the body that "truncate" and "half_then_stall" send
        self.truncate_at = 0.5
        self.requests: Counter[tuple[str, str]] = Counter()
        #: HTTP status to answer every commit with instead of storing it (None: commits succeed)
        self.commit_failure: int | None = None
        #: the one token whoami accepts, and its account's name and organisations
        self.token, self.user, self.orgs = "hf_local_test_token", "me", ["inpaint-gan"]
        #: (method, filename, first byte asked for) of every download request: a resumed download asks for > 0
        self.ranges: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def commit(self, repo_id: str, files: dict[str, bytes], deleted: tuple[str, ...] = ()) -> str:
        """Add a commit holding ``files`` on top of the repo's newest files, less ``deleted``; returns its hash."""
        with self._lock:
            repo = self.repos.setdefault(repo_id, Repo())
            previous = dict(repo.commits[-1][1]) if repo.commits else {}
            previous.update(files)
            for path in deleted:
                previous.pop(path, None)
            sha = hashlib.sha1(f"{repo_id}:{len(repo.commits)}".encode()).hexdigest()
            repo.commits.append((sha, previous))
            return sha

    def __enter__(self) -> LocalHub:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_HEAD(self) -> None:
                self._resolve(send_body=False)

            def do_GET(self) -> None:
                if self.path.split("?")[0] == _WHOAMI:
                    return self._whoami()
                match = _INFO.match(unquote(self.path.split("?")[0]))
                if match is None:
                    return self._resolve(send_body=True)
                repo = hub.repos.get(match["repo"])
                found = repo.files_at(match["revision"] or "main") if repo else None
                if found is None:
                    return self._error(404, "RepoNotFound", f"Repository {match['repo']} not found")
                self._json(200, {"id": match["repo"], "sha": found[0], "private": False,
                                 "siblings": [{"rfilename": name} for name in sorted(found[1])]})

            def do_POST(self) -> None:
                path = unquote(self.path.split("?")[0])
                hub.requests[("POST", path)] += 1
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if path == "/api/repos/create":
                    payload = json.loads(body)
                    repo_id = f"{payload['organization']}/{payload['name']}" if payload.get("organization") else None
                    if repo_id is None:
                        return self._error(400, "BadRequest", "repos need an owner here: owner/name")
                    if repo_id in hub.repos:  # the Hub's 409 names the repo's URL too; the client reads it
                        return self._json(409, {"error": "You already created this model repo",
                                                "url": f"{hub.endpoint}/{repo_id}"})
                    hub.repos[repo_id] = Repo()
                    return self._json(200, {"url": f"{hub.endpoint}/{repo_id}", "name": repo_id})
                if path == "/api/validate-yaml":
                    return self._json(200, {"errors": [], "warnings": []})
                match = _REPO_API.match(path)
                if match is None:
                    return self._error(404, "NotFound", f"no route {path}")
                repo = hub.repos.get(match["repo"])
                if repo is None:
                    return self._error(404, "RepoNotFound", f"Repository {match['repo']} not found")
                current = repo.files_at(match["revision"])
                existing = current[1] if current else {}
                if match["action"] == "preupload":
                    files = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False,
                              "oid": git_blob_sha1(existing[f["path"]]) if f["path"] in existing else None}
                             for f in json.loads(body)["files"]]
                    return self._json(200, {"files": files, "commitOid": current[0] if current else None})
                if hub.commit_failure is not None:
                    return self._error(hub.commit_failure, "ServerError", "injected commit failure")
                added: dict[str, bytes] = {}
                deleted: list[str] = []
                for line in body.splitlines():
                    item = json.loads(line)
                    if item["key"] == "file":
                        added[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                    elif item["key"] == "deletedFile":
                        deleted.append(item["value"]["path"])
                    elif item["key"] != "header":
                        return self._error(400, "BadRequest", f"this test Hub takes no {item['key']} entries")
                sha = hub.commit(match["repo"], added, tuple(deleted))
                return self._json(200, {"commitUrl": f"{hub.endpoint}/{match['repo']}/commit/{sha}",
                                        "commitOid": sha, "pullRequestUrl": None})

            def _whoami(self) -> None:
                hub.requests[("GET", _WHOAMI)] += 1
                if self.headers.get("Authorization") != f"Bearer {hub.token}":
                    return self._error(401, "Unauthorized", "Invalid credentials in Authorization header")
                self._json(200, {"type": "user", "name": hub.user, "orgs": [{"name": org} for org in hub.orgs]})

            def _json(self, status: int, value: dict) -> None:
                body = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _error(self, status: int, code: str, message: str) -> None:
                body = f'{{"error": "{message}"}}'.encode()
                self.send_response(status)
                self.send_header("X-Error-Code", code)
                self.send_header("X-Error-Message", message)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _resolve(self, send_body: bool) -> None:
                match = _RESOLVE.match(unquote(self.path.split("?")[0]))
                if match is None:
                    return self._error(404, "EntryNotFound", "not found")
                repo_id, revision, filename = match["repo"], match["revision"], match["filename"]
                hub.requests[(self.command, filename)] += 1
                repo = hub.repos.get(repo_id)
                if repo is None:
                    return self._error(404, "RepoNotFound", f"Repository {repo_id} not found")
                found = repo.files_at(revision)
                if found is None:
                    return self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
                commit, files = found
                if filename not in files:
                    return self._error(404, "EntryNotFound", f"{filename} does not exist at {revision}")
                with hub._lock:  # a failure of the body is for a GET: a HEAD before it does not use it up
                    failure = hub.failures.get(filename)
                    if isinstance(failure, list):
                        body_only = bool(failure) and failure[0] in ("truncate", "half_then_stall")
                        failure = None if not failure or body_only and not send_body else failure.pop(0)
                if isinstance(failure, int):
                    return self._error(failure, "ServerError", "injected failure")
                if failure == "stall":
                    time.sleep(hub.stall_seconds)
                    self.close_connection = True
                    return None
                data = files[filename]
                start = 0
                header_range = self.headers.get("Range")
                if header_range and header_range.startswith("bytes="):
                    start = int(header_range[6:].split("-")[0] or 0)
                hub.ranges.append((self.command, filename, start))
                self.send_response(206 if start else 200)
                self.send_header("X-Repo-Commit", commit)
                self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
                self.send_header("Content-Length", str(len(data) - start))
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                if send_body:
                    body = data[start:]
                    if failure in ("truncate", "half_then_stall"):
                        body = body[: int(len(body) * hub.truncate_at)]
                        self.close_connection = True
                    self.wfile.write(body)
                    self.wfile.flush()
                    if failure == "half_then_stall":
                        time.sleep(hub.stall_seconds)

        return Handler
