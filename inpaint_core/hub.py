"""Resolution of weights names to local files, in this order:

1. an explicit path to a file;
2. the models folders (ComfyUI's ``models/inpaint``, the folders passed in, ``INPAINT_MODELS_DIR``), by catalog name;
3. the Hugging Face cache;
4. a download from the Hub at the entry's pinned revision, checked against its sha256 — unless offline
   (``HF_HUB_OFFLINE=1`` or ``offline=True``).

A file with a known sha256 (a catalog entry's, or an LFS file's, which the Hugging Face cache names its blob by) is
checked again each time it is resolved from the cache, so a cached file changed on disk after its download is found
at load: it is removed from the cache and the error says to load again (which downloads it anew). Hashing is done
once per file version: the size, mtime and inode of a verified file are kept in a small sidecar under
``<HF_HOME>/inpaint_core/verified`` (written atomically), and a file that still matches them is not hashed again.

Nothing here runs at import time. Environment variables (``HF_ENDPOINT``, ``HF_HUB_OFFLINE``, ``HF_HUB_CACHE``,
``HF_HOME``, ``INPAINT_MODELS_DIR``) are read when a name is resolved, not when the module is imported.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from .catalog import BUNDLED_DIR, WeightsEntry, catalog, get_weights_entry
from .converters import convert_checkpoint
from .errors import UnknownModelError, WeightsError

#: The Hub's rules: each part at most 96 characters; revisions are branch names, tags or commit hashes.
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}$")
_REVISION = re.compile(r"^[A-Za-z0-9_.\-/]{1,200}$")
_WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth", ".ckpt", ".bin")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: Seconds the reachability check waits for the Hub's first answer.
PROBE_TIMEOUT = 10.0
Progress = Callable[[int, int], None]


def endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def is_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def hf_cache_dir() -> Path:
    if "HF_HUB_CACHE" in os.environ:
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface")).expanduser()
    return home / "hub"


def converted_dir() -> Path:
    """Where official checkpoints converted after download are kept (next to the HF cache)."""
    return Path(os.environ.get("INPAINT_CONVERTED_DIR", hf_cache_dir().parent / "inpaint_core" / "converted"))


def models_dirs(extra: Iterable[str | Path] = ()) -> list[Path]:
    """Folders searched for catalog names: ``extra`` first, then ``INPAINT_MODELS_DIR`` (an os.pathsep list)."""
    dirs = [Path(d) for d in extra]
    dirs += [Path(d) for d in os.environ.get("INPAINT_MODELS_DIR", "").split(os.pathsep) if d]
    return dirs


def parse_repo_id(name: str) -> tuple[str, str | None] | None:
    """``"owner/repo"`` or ``"owner/repo@revision"`` -> (repo_id, revision); None for anything else."""
    repo_id, _, revision = name.partition("@")
    if not _REPO_ID.fullmatch(repo_id) or ".." in name or (revision and not _REVISION.fullmatch(revision)):
        return None
    return repo_id, revision or None


def names_a_file(name: str | Path) -> bool:
    """True when :func:`resolve_weights` reads ``name`` as the path of a weights file (not a catalog name or repo)."""
    path = Path(name)
    return isinstance(name, Path) or path.suffix in _WEIGHT_SUFFIXES or (os.sep in str(name) and path.exists())


def resolve_weights(
    name: str | Path,
    *,
    models_dirs_extra: Iterable[str | Path] = (),
    offline: bool | None = None,
    progress: Progress | None = None,
) -> Path:
    """A local weights file for a path, a catalog name or a Hub repo id (``owner/repo[@revision]``).

    ``progress(done_bytes, total_bytes)`` is called while a download runs; raising from it cancels the download.
    """
    offline = is_offline() if offline is None else offline
    path = Path(name)
    if names_a_file(name):
        if not path.is_file():
            raise WeightsError(f"weights file {path} does not exist")
        return path
    name = str(name)
    dirs = models_dirs(models_dirs_extra)
    if name in catalog():
        return _resolve_entry(get_weights_entry(name), dirs, offline, progress)
    repo = parse_repo_id(name)
    if repo is not None:
        return _hub_file(
            repo[0],
            "model.safetensors",
            repo[1],
            sha256=None,
            offline=offline,
            hint="or put the file in a models folder and pass its path",
            progress=progress,
        )
    known = sorted(catalog())
    raise UnknownModelError(
        f"unknown model {name!r}: not a file, a catalog name ({', '.join(known) or 'none'}), a preset or a Hub "
        "repo id (owner/repo). See inpaint_core.list_models()."
    )


def cached_weights(entry: WeightsEntry, models_dirs_extra: Iterable[str | Path] = ()) -> Path | None:
    """The local copy of a downloadable entry (models folders, converted files, the Hugging Face cache), or None;
    never touches the network."""
    from huggingface_hub import try_to_load_from_cache

    local = _local_copy(entry, models_dirs(models_dirs_extra))
    if local is not None or entry.repo_id is None:
        return local
    found = try_to_load_from_cache(entry.repo_id, entry.filename, cache_dir=hf_cache_dir(), revision=entry.revision)
    return Path(found) if isinstance(found, str) else None


def _local_copy(entry: WeightsEntry, dirs: list[Path]) -> Path | None:
    """The entry's file in a models folder, or its converted file."""
    for folder in dirs:
        if (folder / entry.local_filename).is_file():
            return folder / entry.local_filename
    converted = converted_dir() / entry.local_filename
    return converted if entry.source_format != "safetensors" and converted.is_file() else None


def _resolve_entry(entry: WeightsEntry, dirs: list[Path], offline: bool, progress: Progress | None) -> Path:
    if entry.bundled is not None:
        path = BUNDLED_DIR / entry.bundled
        if not path.is_file():
            raise WeightsError(f"bundled weights {entry.name} are missing from the package ({path}); reinstall it")
        if entry.sha256 is not None and not matches_sha256(path, entry.sha256):
            raise WeightsError(
                f"bundled weights {entry.name} ({path}) do not match their sha256: the file was changed or is a Git "
                "LFS pointer; reinstall the package (or run 'git lfs pull' in a clone)"
            )
        return path
    local = _local_copy(entry, dirs)
    if local is not None:
        return local
    folders = ", ".join(str(d) for d in dirs) or "a models folder (set INPAINT_MODELS_DIR)"
    if entry.source_format == "safetensors":
        hint = f"or download {entry.url(endpoint())} and save it as {entry.local_filename} in {folders}"
    else:
        hint = (f"or download {entry.url(endpoint())} and convert it with `python -m inpaint_core convert "
                f"{entry.source_format} <downloaded file> <folder>/{entry.local_filename}` for a folder in {folders}")
    downloaded = _hub_file(entry.repo_id, entry.filename, entry.revision, entry.sha256, offline, hint, progress)
    if entry.source_format == "safetensors":
        return downloaded
    try:
        return convert_checkpoint(entry.source_format, downloaded, converted_dir() / entry.local_filename)
    except WeightsError as error:  # a file that does not convert would fail the same way on every later load
        _evict(downloaded)
        raise WeightsError(f"{error} The download was removed from the cache; {hint}") from error


def _hub_file(
    repo_id: str,
    filename: str,
    revision: str | None,
    sha256: str | None,
    offline: bool,
    hint: str,
    progress: Progress | None = None,
) -> Path:
    """The HF cache's copy of a Hub file, downloading it (atomically, by huggingface_hub) when allowed.

    Before the download one request without retries checks that the Hub answers, so that no network gives the
    error at once (``hf_hub_download`` alone retries a failed connection for about half a minute).
    """
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    url = f"{endpoint()}/{repo_id}/resolve/{revision or 'main'}/{filename}"
    common = dict(repo_id=repo_id, filename=filename, revision=revision, cache_dir=hf_cache_dir(), endpoint=endpoint())
    try:
        cached = Path(hf_hub_download(**common, local_files_only=True))
    except (LocalEntryNotFoundError, EntryNotFoundError, OSError):
        pass
    else:
        expected = sha256 or (cached.resolve().name if _SHA256.match(cached.resolve().name) else None)
        if expected is None or matches_sha256(cached, expected):
            return cached
        blob = cached.resolve()
        _evict(cached)
        raise WeightsError(
            f"the cached copy of {url} ({blob}) changed on disk after it was downloaded: its sha256 is no longer "
            f"{expected}. It was removed from the cache; load the model again to download it anew, {hint}"
        )
    if offline:
        raise WeightsError(
            f"{filename} of {repo_id} is not in the Hugging Face cache and offline mode is on: "
            f"unset HF_HUB_OFFLINE to download {url}, {hint}"
        )
    _check_reachable(url, hint)
    try:
        path = Path(hf_hub_download(**common, tqdm_class=None if progress is None else _reporting_tqdm(progress)))
    except (RepositoryNotFoundError, RevisionNotFoundError) as error:
        raise WeightsError(
            f"{url}: no such repository or revision on the Hub ({type(error).__name__}); {hint}"
        ) from error
    except LocalEntryNotFoundError as error:  # the Hub did not answer properly and the cache has no copy
        raise WeightsError(
            f"downloading {url} failed ({error.__cause__ or error}); try again later, {hint}"
        ) from error
    except EntryNotFoundError as error:
        raise WeightsError(f"{url}: {filename} is not in {repo_id}; {hint}") from error
    except OSError as error:
        from .weights import is_disk_full

        if not is_disk_full(error):
            raise WeightsError(f"downloading {url} failed ({error}); try again later, {hint}") from error
        raise WeightsError(
            f"downloading {url} failed: no space left in the Hugging Face cache {hf_cache_dir()} ({error}); free "
            f"some space, or set HF_HUB_CACHE to a folder on a larger disk, {hint}"
        ) from error
    except Exception as error:  # HTTP, connection and protocol errors of any transport: all mean "try again"
        raise WeightsError(f"downloading {url} failed ({error}); try again later, {hint}") from error
    if sha256 is not None and not matches_sha256(path, sha256):
        _evict(path)
        raise WeightsError(
            f"{url} has sha256 {file_sha256(path) if path.exists() else 'of another file'}, expected {sha256}: "
            f"the download was removed from the cache; try again, {hint}"
        )
    return path


def matches_sha256(path: Path, expected: str) -> bool:
    """Whether ``path`` hashes to ``expected``; hashed once per (size, mtime, inode), remembered in a sidecar."""
    stat = path.stat()
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "inode": stat.st_ino, "path": str(path.resolve())}
    sidecar = verified_dir() / expected
    try:
        if json.loads(sidecar.read_text()) == stamp:
            return True
    except (OSError, ValueError):
        pass
    if file_sha256(path) != expected:
        return False
    tmp = None
    try:  # a sidecar that cannot be written (read-only or full disk) only costs a hash next time
        sidecar.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=sidecar.parent, prefix=f".{expected}.", suffix=".partial")
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(stamp))
        os.replace(tmp, sidecar)
    except OSError:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return True


def verified_dir() -> Path:
    """Where the sidecars of verified files are kept (next to the HF cache)."""
    return hf_cache_dir().parent / "inpaint_core" / "verified"


def connection_error(url: str, timeout: float = PROBE_TIMEOUT) -> Exception | None:
    """The transport error (DNS, refused or timed-out connection) when ``url``'s host does not answer one request
    sent without retries; None when it answers at all, even with an HTTP error."""
    from huggingface_hub.utils import get_session

    try:
        get_session().head(url, timeout=timeout)
    except Exception as error:  # noqa: BLE001 - any transport error means: not reachable now
        return error
    return None


def _check_reachable(url: str, hint: str) -> None:
    """Raise at once when ``url``'s host does not answer; any HTTP answer (even an error) is left to the download."""
    error = connection_error(url)
    if error is not None:
        raise WeightsError(
            f"cannot reach {endpoint()} to download {url} ({error}): check the network connection (or set "
            f"HF_ENDPOINT to a mirror), {hint}"
        ) from error


def _reporting_tqdm(progress: Progress) -> type:
    """A tqdm class that also reports each update as ``progress(done, total)`` (huggingface_hub's ``tqdm_class``)."""
    from tqdm.auto import tqdm

    class Reporting(tqdm):
        def update(self, n: float | None = 1) -> bool | None:
            shown = super().update(n)
            if self.total:
                progress(min(int(self.n), int(self.total)), int(self.total))
            return shown

    return Reporting


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _evict(path: Path) -> None:
    """Remove a cached file: the snapshot link and the blob it points to."""
    blob = path.resolve()
    for item in {path, blob}:
        if item.exists() or item.is_symlink():
            item.unlink()
