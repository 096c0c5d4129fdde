"""Where the Hydra config tree lives, so that the CLI works from any directory.

A wheel carries the tree as `gan_zoo/conf` (hatchling force-include); an editable install or a plain
checkout has it at `<checkout>/conf`. The absolute path is handed to `hydra.main`, so nothing
depends on the current directory.
"""

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def config_dir() -> Path:
    for candidate in (_PACKAGE_DIR / "conf", _PACKAGE_DIR.parent / "conf"):
        if (candidate / "train.yaml").is_file():
            return candidate
    raise FileNotFoundError(
        f"gan-zoo's config tree is missing: neither {_PACKAGE_DIR / 'conf'} nor {_PACKAGE_DIR.parent / 'conf'} "
        "holds train.yaml; reinstall the package (pip install gan-zoo) or run from a complete checkout."
    )


CONFIG_DIR = str(config_dir())


def config_options(group: str) -> list[str]:
    """Every config of a group of gan-zoo's tree, nested ones as `smoke/pggan`."""
    root = Path(CONFIG_DIR) / group
    return sorted(str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.yaml")) if root.is_dir() else []
