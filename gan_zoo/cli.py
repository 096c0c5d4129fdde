"""`gan-zoo <subcommand> [hydra overrides]`: the dispatcher.

Each subcommand is a Hydra app of its own (own primary config), so every one takes overrides,
`--help`, `--cfg job` and `-m`. The subcommand is removed from argv before Hydra sees it and kept in
the environment variable GAN_ZOO_COMMAND, because Lightning's DDP launcher and Hydra's shell
completion re-run `sys.argv` without it; a child process finds its subcommand there.
"""

import importlib
import os
import sys

from gan_zoo.task import report_config_errors

COMMAND_ENV = "GAN_ZOO_COMMAND"

# subcommand -> (module with a hydra `main`, one-line help).
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "train": ("gan_zoo.train", "train a model: gan-zoo train experiment=smoke/pggan"),
    "summary": ("gan_zoo.summary", "parameter counts per network, no data needed: gan-zoo summary experiment=paper/pggan_celebahq1024"),
    "eval": ("gan_zoo.eval", "metrics of a checkpoint: gan-zoo eval ckpt=PATH metrics=[fid50k_full,kid50k_full]"),
    "list": ("gan_zoo.list_registered", "registered models, data sets, experiments and metrics"),
    "generate": ("gan_zoo.generate.command", "images from a checkpoint: gan-zoo generate ckpt=PATH seeds=0-63 truncation=0.7"),
    "data": (
        "gan_zoo.data_command",
        "prepare, check and cache statistics of a data set: gan-zoo data prepare source=cifar-10-python.tar.gz dest=data/cifar10.zip",
    ),
    "import": ("gan_zoo.import_official", "an official released file as a gan-zoo checkpoint: gan-zoo import src=stylegan2-ffhq-1024x1024.pkl out=ffhq.ckpt"),
}

USAGE = "usage: gan-zoo {" + ",".join(SUBCOMMANDS) + "} [hydra overrides] [--help] [--cfg job] [-m]"


def _print_help() -> None:
    print(USAGE)
    print()
    for name, (_, text) in SUBCOMMANDS.items():
        print(f"  {name:<9} {text}")
    print()
    print("Every subcommand takes Hydra overrides (key=value), --help, --cfg job and -m/--multirun.")


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in SUBCOMMANDS:
        command = args.pop(0)
        os.environ[COMMAND_ENV] = command
    elif os.environ.get(COMMAND_ENV) in SUBCOMMANDS and "LOCAL_RANK" in os.environ:
        command = os.environ[COMMAND_ENV]  # a DDP child re-running argv without the subcommand
    elif not args or args[0] in ("-h", "--help", "help"):
        _print_help()
        return
    else:
        print(f"gan-zoo: unknown subcommand {args[0]!r}; choose one of: {', '.join(SUBCOMMANDS)}", file=sys.stderr)
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    module_name, _ = SUBCOMMANDS[command]
    sys.argv = [sys.argv[0], *args]
    try:
        with report_config_errors(command):
            importlib.import_module(module_name).main()
    finally:
        if command == "train":
            from gan_zoo.training.run_dir import restore_sweep_dir_if_all_refused

            restore_sweep_dir_if_all_refused()


if __name__ == "__main__":
    main()
