"""`gan-zoo list`: registered model families, data sets, experiment presets, metrics and official file formats."""

import hydra
from omegaconf import DictConfig

from gan_zoo.config_dir import CONFIG_DIR, config_options
from gan_zoo.official.formats import FORMATS
from gan_zoo.registry import list_metrics, list_models


def listing() -> dict[str, list[str]]:
    return {
        "models": list_models(),
        "data": config_options("data"),
        "experiments": config_options("experiment"),
        "metrics": list_metrics(),
        "official formats (gan-zoo import / ckpt=)": [f"{fmt.name}: {fmt.description}" for fmt in FORMATS],
    }


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="list")
def main(cfg: DictConfig) -> None:
    for section, names in listing().items():
        print(f"{section}:")
        print("\n".join(f"  {name}" for name in names) if names else "  (none registered yet)")
