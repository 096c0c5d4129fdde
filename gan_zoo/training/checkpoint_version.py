"""The checkpoint format version, and bringing older checkpoints up to it.

Every checkpoint records `gan_zoo.format_version`; those written before the field existed are
version 1. A version changes when the same networks are stored differently; each loader (resume,
generate / eval, init_ckpt) upgrades a checkpoint before loading it, so old runs keep producing the
same images (to float rounding).

* 2: StyleGAN2 up-sampling kernels in the official orientation (rotated by 180° from version 1),
  and the FIR `resample_filter` buffers stored as the official networks store them.
"""

from typing import TYPE_CHECKING, Any

from gan_zoo.errors import CheckpointError

if TYPE_CHECKING:
    from gan_zoo.models.base import GANModule

CHECKPOINT_FORMAT_VERSION = 2


def upgrade_checkpoint(checkpoint: dict[str, Any], module: "GANModule") -> dict[str, Any]:
    """Rewrite `checkpoint` (in place; also returned) to the current format, for `module`'s networks."""
    record = checkpoint.setdefault("gan_zoo", {})
    version = int(record.get("format_version", 1))
    if version > CHECKPOINT_FORMAT_VERSION:
        raise CheckpointError(
            f"the checkpoint has format version {version}, newer than this gan-zoo's "
            f"{CHECKPOINT_FORMAT_VERSION}; load it with the gan-zoo version that wrote it or a newer one"
        )
    if version < CHECKPOINT_FORMAT_VERSION:
        module.upgrade_state_dict(checkpoint["state_dict"], version)
        if checkpoint.get("optimizer_states"):
            module.upgrade_optimizer_states(checkpoint["optimizer_states"], version)
        record["format_version"] = CHECKPOINT_FORMAT_VERSION
    return checkpoint
