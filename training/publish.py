"""The folder a trained model is published as (``model.safetensors``, ``config.json``, ``README.md``) and its upload
to the Hugging Face Hub, from where ``inpaint_core.load_model("owner/repo")`` loads it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
) -> Path:
    """``folder`` with the weights, their config and a model card; returns ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_model(model, folder / "model.safetensors")
    config = {**state_dict_metadata(model), "training": {"steps": steps, "data": data}}
    (folder / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    (folder / "README.md").write_text(
        model_card(model, steps=steps, data=data, license=license, train_config=train_config, eval_table=eval_table)
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
) -> str:
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
        f"- **Licence**: {license}",
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
    """
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi(endpoint=endpoint(), token=token)
    api.create_repo(repo_id, private=private, exist_ok=True)
    files = sorted(p for p in Path(folder).iterdir() if p.is_file())
    operations = [CommitOperationAdd(path_in_repo=p.name, path_or_fileobj=str(p)) for p in files]
    return str(api.create_commit(repo_id, operations, commit_message=message).commit_url)
