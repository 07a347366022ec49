"""A local server that speaks the part of the Hugging Face Hub HTTP API that ``huggingface_hub`` downloads with.

The real client talks to it over HTTP through ``HF_ENDPOINT``; nothing in the client is patched. Repos hold commits;
``main`` is the newest. Failures are injected per file: a status code, or a truncated body.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<revision>[^/]+)/(?P<filename>.+)$")


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
        #: filename -> HTTP status to answer instead of the file, or "truncate" to cut the body in half
        self.failures: dict[str, int | str] = {}
        self.requests: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def commit(self, repo_id: str, files: dict[str, bytes]) -> str:
        """Add a commit holding ``files`` on top of the repo's newest files; returns its 40-hex hash."""
        with self._lock:
            repo = self.repos.setdefault(repo_id, Repo())
            previous = dict(repo.commits[-1][1]) if repo.commits else {}
            previous.update(files)
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
                self._resolve(send_body=True)

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
                failure = hub.failures.get(filename)
                if isinstance(failure, int):
                    return self._error(failure, "ServerError", "injected failure")
                data = files[filename]
                start = 0
                header_range = self.headers.get("Range")
                if header_range and header_range.startswith("bytes="):
                    start = int(header_range[6:].split("-")[0] or 0)
                self.send_response(206 if start else 200)
                self.send_header("X-Repo-Commit", commit)
                self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
                self.send_header("Content-Length", str(len(data) - start))
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                if send_body:
                    body = data[start:]
                    if failure == "truncate":
                        body = body[: len(body) // 2]
                        self.close_connection = True
                    self.wfile.write(body)
                    self.wfile.flush()

        return Handler
