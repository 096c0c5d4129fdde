"""A mistake in the command line's overrides, worded as one sentence that names the key and its close matches.

Hydra reports an unknown config option, an unknown key or an unparsable override with several lines
of its own (the config search path, advice to add a `+`); `describe_config_error` turns each into
one sentence. Keys come from the node that refused the override, options from the config tree, so
the suggestions are always ones that exist.
"""

import difflib
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from omegaconf import DictConfig

from gan_zoo.config_dir import CONFIG_DIR, config_options

OVERRIDE_GRAMMAR = "https://hydra.cc/docs/advanced/override_grammar/basic/"


def did_you_mean(name: str, candidates: Iterable[str], last_part: bool = False) -> list[str]:
    """Up to three candidates close to `name`: spelling neighbours, and names that start with it.

    With `last_part`, `name` is compared with the last part of each dotted (or slashed) candidate.
    """
    by_leaf: dict[str, list[str]] = {}
    for candidate in candidates:
        by_leaf.setdefault(re.split(r"[./]", candidate)[-1] if last_part else candidate, []).append(candidate)
    close = difflib.get_close_matches(name, list(by_leaf), n=3, cutoff=0.6)
    starting = [key for key in sorted(by_leaf) if len(name) >= 2 and key.startswith(name) and key not in close]
    return [candidate for key in [*close, *starting] for candidate in by_leaf[key]][:3]


def either(options: list[str]) -> str:
    return options[0] if len(options) == 1 else ", ".join(options[:-1]) + f" or {options[-1]}"


def config_groups() -> list[str]:
    return sorted(p.name for p in Path(CONFIG_DIR).iterdir() if p.is_dir())


def dotted_keys(node: DictConfig, prefix: str = "", depth: int = 3) -> list[str]:
    """The keys under `node` as dotted paths, `depth` levels deep (values are not resolved)."""
    keys = []
    for key in node.keys():
        path = f"{prefix}{key}"
        keys.append(path)
        child = node._get_node(key)
        if depth > 1 and isinstance(child, DictConfig) and not child._is_none() and not child._is_missing():
            keys += dotted_keys(child, path + ".", depth - 1)
    return keys


def unknown_key(full_key: str, siblings: list[str], nested: list[str], where: str, extra: Iterable[str] = ()) -> str:
    """`full_key` is no key of the node `where` whose own keys are `siblings` (dotted `nested` ones below them)."""
    key = full_key.rsplit(".", 1)[-1]
    prefix = full_key[: -len(key)]
    matches = did_you_mean(key, [*siblings, *extra]) or did_you_mean(key, nested, last_part=True)
    sentence = f"{full_key} is not a setting: {where} has no key '{key}'"
    if matches:
        return sentence + f" (did you mean {either([prefix + m for m in matches])}?)"
    return sentence + f" (its keys: {', '.join(siblings)})"


def _group_of(missing: str, overrides: list[str]) -> str:
    """The group of a missing config file `experiment/smoke/pgan`: as the command line named it, else its first part."""
    for override in overrides:
        key, equals, value = override.lstrip("+~").partition("=")
        if equals and f"{key}/{value}" == missing:
            return key
    return missing.split("/", 1)[0]


def _missing_option(missing: str, hydra_options: list[str] | None, overrides: list[str]) -> str | None:
    """`model=stylegan4`: Hydra could not find the config file `model/stylegan4`."""
    if "/" not in missing:
        return None
    group = _group_of(missing, overrides)
    choice = missing[len(group) + 1 :]
    options = set(config_options(group))
    if "/" not in choice:  # Hydra lists the options of the missing file's own folder only
        options |= set(hydra_options or [])
    if not options:
        return None
    sentence = f"{group}={choice}: there is no {group} config '{choice}'"
    matches = did_you_mean(choice, sorted(options)) or did_you_mean(choice.rsplit("/", 1)[-1], sorted(options), last_part=True)
    if matches:
        return sentence + f" (did you mean {either([f'{group}={m}' for m in matches])}?)"
    listing = "gan-zoo list shows them" if len(options) > 12 else f"choose one of: {', '.join(sorted(options))}"
    return sentence + f" ({listing})"


def _one_line(message: str) -> str:
    lines = []
    for line in str(message).splitlines():
        if line.strip().startswith(("Config search path", "See https://hydra.cc", "Set the environment variable HYDRA_FULL_ERROR")):
            break
        if line.strip():
            lines.append(line.strip().rstrip("."))
    return "; ".join(lines)


def describe_config_error(error: BaseException) -> str | None:
    """One sentence for a Hydra composition error or a bad interpolation; None for anything else."""
    from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException, SearchPathException
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError, InterpolationKeyError, InterpolationResolutionError

    if isinstance(error, MissingConfigException):
        return _missing_option(str(error.missing_cfg_file or ""), error.options, sys.argv[1:]) or _one_line(str(error))
    if isinstance(error, OverrideParseException):
        return f"cannot read the override '{error.override}': {_one_line(error.message)} (the syntax: {OVERRIDE_GRAMMAR})"
    if isinstance(error, ConfigCompositionException):
        cause = error.__cause__
        if isinstance(cause, ConfigAttributeError | ConfigKeyError) and isinstance(cause.parent_node, DictConfig) and cause.full_key:
            parent, full_key = cause.parent_node, str(cause.full_key)
            at_root = "." not in full_key
            siblings = [str(k) for k in parent.keys() if not str(k).startswith("_") and not (at_root and k == "hydra")]
            nested = [k for k in dotted_keys(parent) if not (at_root and k.split(".")[0] == "hydra")]
            where = "the config" if at_root else full_key.rsplit(".", 1)[0]
            groups = [g for g in config_groups() if g not in siblings] if at_root else []
            return unknown_key(full_key, siblings, nested, where, extra=groups)
        taken = re.search(r"An item is already at '([^']+)'", str(error))
        if taken:
            return f"+{taken[1]}: {taken[1]} is already set; leave out the + to change it ({taken[1]}=VALUE)"
        return _one_line(str(error))
    if isinstance(error, SearchPathException):
        return _one_line(str(error))
    if isinstance(error, InterpolationKeyError | InterpolationResolutionError):
        where = f"{error.full_key}: " if getattr(error, "full_key", None) else ""
        return f"{where}{str(error).splitlines()[0]}"
    return None
