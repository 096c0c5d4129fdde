"""Graph breaks of the networks `model.compile` compiles, family by family, as `torch._dynamo.explain` sees them.

    python benchmarks/compile_breaks.py [--families pggan,stylegan2] [gan-zoo train overrides]

For each family this builds its smoke preset (conf/experiment/smoke/<family>.yaml, the tiny
networks the tests train), records the arguments of every call that one real training step
(through Lightning, every phase) and `module.sample` make to the networks in
`module.compiled_networks()`, then runs `torch._dynamo.explain` on each distinct call: the
networks are examined exactly as training and sampling call them, with no call written out here.
Progressive families start halfway through the last fade-in, where their networks run the most code.

Prints one markdown table per family: graphs, graph breaks (explain counts graphs - 1) and the
break sites from dynamo's `graph_breaks` log, which also has the breaks that explain's count
misses (one before which there is nothing to compile, e.g. at the top of a forward). Nothing is
compiled for real (explain traces beside eager runs) and nothing is written; benchmarks/compile.md
keeps the tables.
"""

import argparse
import logging
import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch._dynamo
from common import compose_config
from torch import nn

from gan_zoo.config_dir import config_options
from gan_zoo.training.build import build_datamodule, build_module, build_trainer

FAMILIES = config_options("model")  # conf/model/*.yaml: every family, a new one included
BREAK_LOGGER = "torch._dynamo.symbolic_convert.__graph_breaks"  # torch._logging's `graph_breaks` artifact


@dataclass
class NetworkCall:
    name: str  # e.g. "G.synthesis (training)"
    network: nn.Module
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


def _described(value: Any) -> str:
    """A call's argument as it matters to dynamo: tensors by shape, other values as they are."""
    if isinstance(value, torch.Tensor):
        return f"tensor{list(value.shape)}" + ("+grad" if value.requires_grad else "")
    if isinstance(value, list | tuple):
        return f"[{len(value)} tensors]" if all(isinstance(v, torch.Tensor) for v in value) else f"[{', '.join(_described(v) for v in value)}]"
    return getattr(value, "__name__", None) or repr(value)


class CallRecorder:
    """Keeps the first call of each compiled network per stage and per set of non-tensor arguments."""

    def __init__(self, module: Any) -> None:
        self.stage = "training"
        self.calls: dict[str, NetworkCall] = {}
        names = {id(m): name for name, m in module.named_modules()}
        self.hooks = [network.register_forward_pre_hook(self._hook(names[id(network)], network), with_kwargs=True) for network in module.compiled_networks()]

    def remove(self) -> None:
        """Unhook the networks: explain would trace the hooks too."""
        for hook in self.hooks:
            hook.remove()

    def _hook(self, name: str, network: nn.Module) -> Any:
        def record(_: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            values = [_described(v) for v in args if not isinstance(v, torch.Tensor)]
            values += [f"{k}={_described(v)}" for k, v in kwargs.items() if not isinstance(v, torch.Tensor)]
            options = ", ".join(values)
            key = f"{name} ({self.stage}{'; ' + options if options else ''})"
            self.calls.setdefault(key, NetworkCall(key, network, args, dict(kwargs)))

        return record


class BreakLog(logging.Handler):
    """Dynamo's graph_breaks log: the site (file:line in gan_zoo) and first line of reason of every break."""

    def __init__(self) -> None:
        super().__init__()
        self.sites: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        found = re.match(r"Graph break (?:\(.*?\) )?in user code at (\S+):(\d+)\nGraph Break Reason: (.*)", record.getMessage(), re.S)
        if found:
            file, line, reason = found.groups()
            lines = [text.strip() for text in reason.splitlines() if text.strip() and not text.startswith("Encountered graph break")]
            self.sites.setdefault(f"{file.split('gan_zoo/')[-1]}:{line}", lines[0] if lines else reason)


@contextmanager
def quiet_lightning() -> Iterator[None]:
    """Without Lightning's start-up lines (accelerators found, ...) between the tables."""
    logger = logging.getLogger("lightning.pytorch")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def mid_fade_nimg(module: Any) -> int:
    """Images shown halfway through the fade-in of the full resolution of a growing family (PGGAN,
    StyleGAN v1), where its networks run every block and the blend; 0 for the others."""
    if not hasattr(module, "schedule"):
        return 0
    fading = [nimg for nimg in range(0, module.total_nimg, 100) if 0 < module.schedule.at(nimg).lod < 1]
    return fading[len(fading) // 2]


def recorded_calls(family: str, overrides: list[str]) -> list[NetworkCall]:
    """The calls one training step and one sample grid make to the family's compiled networks."""
    cfg = compose_config([f"experiment=smoke/{family}", *overrides])
    torch.manual_seed(0)
    module = build_module(cfg)
    module.cur_nimg.fill_(mid_fade_nimg(module))
    module.total_nimg = int(module.cur_nimg) + 1  # one step, whatever its batch
    recorder = CallRecorder(module)
    with quiet_lightning():
        trainer = build_trainer(cfg, callbacks=[], logger=False, enable_progress_bar=False)
        trainer.fit(module, datamodule=build_datamodule(cfg))
    recorder.stage = "sampling"
    module.sample(list(range(4)))
    recorder.remove()
    return list(recorder.calls.values())


def explain(call: NetworkCall) -> tuple[int, int, dict[str, str]]:
    """(graphs, graph breaks, break site -> reason) of one call."""
    log = BreakLog()
    logger = logging.getLogger(BREAK_LOGGER)
    logger.handlers, logger.propagate = [log], False
    result = torch._dynamo.explain(call.network)(*call.args, **call.kwargs)
    return result.graph_count, result.graph_break_count, log.sites


def family_table(family: str, overrides: list[str]) -> str:
    rows = ["| network (stage; arguments) | graphs | graph breaks | break sites | reasons |", "|---|---|---|---|---|"]
    for call in recorded_calls(family, overrides):
        graphs, breaks, sites = explain(call)
        reasons = "<br>".join(f"`{site}` {reason}" for site, reason in sites.items()) or "-"
        rows.append(f"| {call.name} | {graphs} | {breaks} | {len(sites)} | {reasons} |")
    return f"### {family}\n\n" + "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", default=",".join(FAMILIES), help="comma-separated families (default: all)")
    args, overrides = parser.parse_known_args()  # the rest: gan-zoo train overrides for every family (e.g. model.conditional=true)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    warnings.filterwarnings("ignore", module="lightning")  # its notes on the tiny runs are not the point here
    torch._logging.set_logs(graph_breaks=True)
    for name in ("torch", "torch._dynamo"):  # the table has the breaks: no warnings with tracebacks on stderr
        logging.getLogger(name).handlers = [logging.NullHandler()]
    for family in args.families.split(","):
        print(family_table(family, overrides), flush=True)


if __name__ == "__main__":
    main()
