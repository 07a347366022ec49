"""The folder a trained model is published as (``model.safetensors``, ``config.json``, ``README.md``) and its upload
to the Hugging Face Hub, from where ``inpaint_core.load_model("owner/repo")`` loads it."""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path
from typing import Any

from inpaint_core.errors import InpaintError
from inpaint_core.hub import endpoint
from inpaint_core.models.base import InpaintModel
from inpaint_core.weights import save_model, state_dict_metadata


def write_model_folder(
    model: InpaintModel,
    folder: str | Path,
    *,
    steps: int,
    data: str,
    license: str,
    train_config: dict[str, Any] | None = None,
    eval_table: str = "",
    license_text: str = "",
) -> Path:
    """``folder`` with the weights, their config and a model card; returns ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_model(model, folder / "model.safetensors")
    config = {**state_dict_metadata(model), "training": {"steps": steps, "data": data}}
    (folder / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    (folder / "README.md").write_text(
        model_card(
            model, steps=steps, data=data, license=license, train_config=train_config, eval_table=eval_table,
            license_text=license_text,
        )
    )
    return folder


def model_card(
    model: InpaintModel,
    *,
    steps: int,
    data: str,
    license: str,
    train_config: dict[str, Any] | None = None,
    eval_table: str = "",
    license_text: str = "",
) -> str:
    """The card: ``license`` is the Hub's metadata value (``other`` for terms without an id), ``license_text`` the
    terms in words (default: ``license``)."""
    params = sum(p.numel() for p in model.parameters())
    lines = [
        "---",
        f"license: {license}",
        "library_name: inpaint_core",
        "pipeline_tag: image-to-image",
        "tags:",
        "- inpainting",
        "- gan",
        f"- {model.family}",
        "---",
        "",
        f"# {model.name} inpainting weights",
        "",
        f"- **Family**: `{model.family}`; **preset**: `{model.preset or 'custom'}`; {params / 1e6:.2f} M parameters",
        f"- **Training data**: {data or 'not stated'}",
        f"- **Training steps**: {steps}",
        f"- **Licence**: {license_text or license}",
        "",
        "## Use",
        "",
        "```python",
        "import inpaint_core as ic",
        'model = ic.load_model("<this repo id>")',
        "result = ic.inpaint(model, image, hole)  # image [B,3,H,W] in [0,1], hole 1 = fill",
        "```",
        "",
        "## Evaluation",
        "",
        eval_table or "Not evaluated.",
        "",
    ]
    if train_config:
        lines += ["## Training configuration", "", "```json", json.dumps(train_config, indent=2), "```", ""]
    return "\n".join(lines)


class PublishError(InpaintError, RuntimeError):
    """The Hub cannot be reached, refuses the token, or refused the upload (the message says which, in one line)."""


def _reason(error: Exception) -> str:
    """One line about a failed Hub call: the HTTP status and the server's message, or the network error."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    first = (str(error).strip().splitlines() or [""])[0]
    return f"HTTP {status}: {first}" if status else f"{type(error).__name__}: {first}"


def check_hub_access(repo_id: str, token: str | None = None) -> str:
    """Before a run that will push to ``repo_id``: there is a token, the endpoint answers, it accepts the token, and
    the token's account may write to ``repo_id``'s owner. Returns the account name; raises :class:`PublishError`."""
    from huggingface_hub import HfApi, get_token

    url = endpoint()
    token = token or get_token()
    if not token:
        raise PublishError(
            f"pushing to {repo_id} needs a Hub write token: set HF_TOKEN or run `hf auth login` (or drop "
            "--push_to_hub)"
        )
    try:
        account = HfApi(endpoint=url, token=token).whoami()
    except Exception as error:  # any failure here (network, HTTP, TLS) means the push at the end would fail too
        status = getattr(getattr(error, "response", None), "status_code", None)
        if status == 401:
            raise PublishError(f"the Hub at {url} refused the token (HTTP 401): set a valid HF_TOKEN") from None
        raise PublishError(
            f"cannot reach the Hub at {url} ({_reason(error)}): check the network, or HF_ENDPOINT for a mirror"
        ) from None
    owner = repo_id.split("/")[0]
    names = {account.get("name"), *(org.get("name") for org in account.get("orgs", []))}
    if owner not in names:
        raise PublishError(
            f"the token is {account.get('name')!r}'s, which cannot create {repo_id}: use one of "
            f"{sorted(n for n in names if n)} as the owner, or a token of {owner!r}"
        )
    return str(account.get("name"))


def push_command(folder: str | Path, repo_id: str, private: bool = False) -> str:
    """The shell command that publishes ``folder`` (a run's ``final/``) again."""
    return " ".join(["python -m training.publish", shlex.quote(str(folder)), shlex.quote(repo_id)]) + (
        " --private" if private else ""
    )


def push_folder(
    folder: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    token: str | None = None,
    message: str = "Upload inpaint_core weights",
) -> str:
    """Create ``repo_id`` if needed and upload the files of ``folder`` in one commit; returns the commit URL.

    One ``create_commit`` (not ``upload_folder``, whose path changes when ``hf_xet`` is installed) so the same calls
    are made everywhere. The endpoint is ``HF_ENDPOINT`` as read now (a test server or a mirror can be chosen after
    import); the token is ``token`` or the one ``huggingface_hub`` finds (``HF_TOKEN``, ``hf auth login``).
    Raises :class:`PublishError` (one line, no traceback of the HTTP stack) when the Hub cannot be reached or refuses.
    """
    from huggingface_hub import CommitOperationAdd, HfApi

    files = sorted(p for p in Path(folder).iterdir() if p.is_file())
    if not any(p.name == "model.safetensors" for p in files):
        raise PublishError(f"{folder} has no model.safetensors: give the final/ folder of a training run")
    api = HfApi(endpoint=endpoint(), token=token)
    operations = [CommitOperationAdd(path_in_repo=p.name, path_or_fileobj=str(p)) for p in files]
    try:
        api.create_repo(repo_id, private=private, exist_ok=True)
        return str(api.create_commit(repo_id, operations, commit_message=message).commit_url)
    except Exception as error:  # network, HTTP or TLS: the caller keeps the folder and says how to retry
        raise PublishError(f"pushing {folder} to {repo_id} at {endpoint()} failed ({_reason(error)})") from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m training.publish",
        description="Upload a model folder written by training (its final/: model.safetensors, config.json, "
        "README.md) to the Hugging Face Hub in one commit. Token: HF_TOKEN or `hf auth login`; HF_ENDPOINT picks a "
        "mirror.",
    )
    parser.add_argument("folder", type=Path, help="the folder to upload, e.g. runs/try/final")
    parser.add_argument("repo_id", help="the Hub repo, owner/name (created if it does not exist)")
    parser.add_argument("--private", action="store_true", help="create the repo as private")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        parser.error(f"{args.folder} is not a folder")
    try:
        check_hub_access(args.repo_id)
        url = push_folder(args.folder, args.repo_id, private=args.private)
    except PublishError as error:
        raise SystemExit(f"error: {error}") from None
    print(f"pushed {args.folder} to {url}")


if __name__ == "__main__":
    main()
