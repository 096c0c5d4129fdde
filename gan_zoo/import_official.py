"""`gan-zoo import src=OFFICIAL_FILE out=FILE.ckpt`: the authors' released networks as a gan-zoo checkpoint.

The file is read without executing anything in it (gan_zoo.official), converted to gan-zoo names,
loaded key for key into the family's networks, and written atomically as a normal checkpoint whose
hyperparameters rebuild the architecture, so generate, eval and `init_ckpt=` take it unchanged.
"""

from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from gan_zoo.checkpoints import atomic_save
from gan_zoo.config_dir import CONFIG_DIR
from gan_zoo.errors import CheckpointError, ConfigError
from gan_zoo.official.load import imported_checkpoint, module_from_imported, read_official
from gan_zoo.task import report_user_errors


def import_official(cfg: DictConfig) -> dict[str, Any]:
    for key in ("src", "out"):
        if cfg.get(key) in (None, "", "???"):
            raise ConfigError(f"pass {key}=PATH: gan-zoo import src=OFFICIAL_FILE out=FILE.ckpt")
    source = Path(str(cfg.src)).expanduser().resolve()
    out = Path(str(cfg.out)).expanduser().resolve()
    if out.exists() and not cfg.overwrite:
        raise CheckpointError(f"{out} already exists; choose another out= or pass overwrite=true to replace it")
    overrides = OmegaConf.to_container(cfg.overrides, resolve=True) if cfg.get("overrides") else {}
    imported = read_official(source, overrides)  # type: ignore[arg-type]
    module = module_from_imported(imported, source)
    checkpoint = imported_checkpoint(imported, module, source)
    atomic_save(checkpoint, out)
    print(f"gan-zoo import: {source.name} ({imported.source_format}) -> {out}: family {imported.family}, networks {', '.join(imported.networks)}")
    for note in imported.notes:
        print(f"gan-zoo import: note: {note}")
    return checkpoint["gan_zoo"]


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="import")
def main(cfg: DictConfig) -> None:
    with report_user_errors("import"):
        import_official(cfg)
