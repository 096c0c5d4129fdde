"""Which checkpoint a run starts from, and refusing the ones that would silently go wrong."""

from pathlib import Path
from typing import Any

from gan_zoo.checkpoints import load_checkpoint_file
from gan_zoo.errors import CheckpointError
from gan_zoo.models.base import GANModule


def resolve_ckpt_path(ckpt_path: str | None, checkpoint_dir: Path) -> Path | None:
    """`null` (new run: refuses a directory that already has checkpoints), `last`, or a path."""
    existing = sorted(checkpoint_dir.glob("*.ckpt")) if checkpoint_dir.is_dir() else []
    if ckpt_path is None:
        if existing:
            raise CheckpointError(
                f"{checkpoint_dir} already holds {len(existing)} checkpoint(s) ({existing[-1].name}, ...); "
                "pass ckpt_path=last to resume this run, or choose a new output directory (hydra.run.dir=...) to start over"
            )
        return None
    if str(ckpt_path) == "last":
        if (checkpoint_dir / "last.ckpt").is_file():
            return checkpoint_dir / "last.ckpt"
        if not existing:
            raise CheckpointError(f"ckpt_path=last, but {checkpoint_dir} holds no checkpoint; run without ckpt_path to start a new run")
        return max(existing, key=lambda p: p.stat().st_mtime)
    path = Path(ckpt_path).expanduser().resolve()
    if not path.is_file():
        raise CheckpointError(f"ckpt_path={ckpt_path}: no such checkpoint file; pass an existing .ckpt or ckpt_path=last")
    return path


def check_checkpoint_matches(path: Path, module: GANModule) -> dict[str, Any]:
    """The checkpoint's gan-zoo record, after checking it was written by the same model and preset."""
    checkpoint = load_checkpoint_file(path)
    record = checkpoint.get("gan_zoo")
    if record is None:
        raise CheckpointError(f"{path} is not a gan-zoo training checkpoint (it has no 'gan_zoo' record)")
    theirs = f"model '{record.get('family')}' (experiment {record.get('experiment')})"
    ours = f"model '{module.family}' (experiment {module.run_identity.get('experiment')})"
    if record.get("family") != module.family or record.get("experiment") != module.run_identity.get("experiment"):
        raise CheckpointError(f"{path} was written by {theirs}, but this run is {ours}; resume with the same model and experiment, or start a new run")
    return record
