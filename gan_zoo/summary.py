"""`gan-zoo summary`: trainable and total parameters per network, built from the config alone.

No data set is opened and nothing is downloaded: the networks' shapes come from the model and data
configs (`data.resolution`, `data.channels`, `data.num_classes`). With `format=json` the last line of
standard output is `{"networks": {"G": {"trainable": N, "total": N}, ...}}`.
"""

import json
from typing import Any

import hydra
import torch
from omegaconf import DictConfig
from torch import nn

from gan_zoo.config_dir import CONFIG_DIR
from gan_zoo.errors import ConfigError
from gan_zoo.task import report_user_errors
from gan_zoo.training.build import build_module, preset_name


def count_parameters(network: nn.Module) -> dict[str, int]:
    parameters = list(network.parameters())
    return {
        "trainable": sum(p.numel() for p in parameters if p.requires_grad),
        "total": sum(p.numel() for p in parameters),
    }


def summarize(cfg: DictConfig) -> dict[str, Any]:
    # Counting needs shapes, not values: building on the meta device skips allocating and
    # initialising ~100M parameters (seconds on a CPU). A family whose constructor computes with
    # its weights cannot build there; it is built normally.
    try:
        with torch.device("meta"):
            module = build_module(cfg)
    except Exception:  # any failure of meta construction: fall back to the real build
        module = build_module(cfg)
    return {"networks": {name: count_parameters(net) for name, net in module.networks().items()}}


def format_table(summary: dict[str, Any], title: str) -> str:
    rows = [(name, counts["trainable"], counts["total"]) for name, counts in summary["networks"].items()]
    lines = [title, f"{'network':<10}{'trainable':>16}{'total':>16}"]
    lines += [f"{name:<10}{trainable:>16,}{total:>16,}" for name, trainable, total in rows]
    lines.append(f"{'all':<10}{sum(r[1] for r in rows):>16,}{sum(r[2] for r in rows):>16,}")
    return "\n".join(lines)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="summary")
def main(cfg: DictConfig) -> None:
    with report_user_errors("summary"):
        if cfg.format not in ("table", "json"):
            raise ConfigError(f"format={cfg.format} is not a summary format; use format=table or format=json")
        summary = summarize(cfg)
        title = f"gan-zoo summary: {preset_name(cfg) or cfg.model._target_}"
        print(format_table(summary, title))
        if cfg.format == "json":
            print(json.dumps(summary))
