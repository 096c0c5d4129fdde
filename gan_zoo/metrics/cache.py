"""On-disk cache of real-image statistics and features, keyed by everything they depend on.

The key (data set fingerprint, resolution, mirror, extractor and its weights hash, feature layer,
real count, protocol version) is hashed into the file name and also stored inside the file, with a
SHA-256 of the tensors. A file whose key or checksum does not match, or that cannot be read, is
reported and recomputed, never trusted. Writes are atomic (`gan_zoo.checkpoints.atomic_save`):
concurrent writers (DDP ranks of two runs, two sweeps) each publish a whole file, and readers never
see a half-written one.
"""

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from gan_zoo.checkpoints import atomic_save
from gan_zoo.features.extractors import state_digest

log = logging.getLogger(__name__)

CACHE_VERSION = 1  # bump when the meaning of cached values changes


def default_cache_dir() -> Path:
    return Path(os.environ.get("GAN_ZOO_CACHE", Path.home() / ".cache" / "gan_zoo")) / "metrics"


class RealStatsCache:
    def __init__(
        self,
        directory: str | os.PathLike | None = None,  # where cache files live; None: $GAN_ZOO_CACHE/metrics or ~/.cache/gan_zoo/metrics
        enabled: bool = True,  # false: always recompute and never write
    ) -> None:
        self.directory = Path(directory).expanduser() if directory else default_cache_dir()
        self.enabled = enabled

    def path(self, key: dict[str, Any]) -> Path:
        text = json.dumps({**key, "cache_version": CACHE_VERSION}, sort_keys=True, default=str)
        return self.directory / f"real-{key.get('layer', 'features')}-{hashlib.sha256(text.encode()).hexdigest()[:32]}.pt"

    def load(self, key: dict[str, Any]) -> dict[str, Tensor] | None:
        if not self.enabled:
            return None
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            stored = torch.load(path, map_location="cpu", weights_only=True)
            if stored["key"] != json.loads(json.dumps({**key, "cache_version": CACHE_VERSION}, sort_keys=True, default=str)):
                raise ValueError("its key differs (a hash collision or an edited file)")
            if state_digest(stored["tensors"]) != stored["sha256"]:
                raise ValueError("its checksum does not match its contents")
            return stored["tensors"]
        except Exception as error:  # any unreadable file is recomputed, whatever the reason
            log.warning("real-statistics cache %s is unusable (%s); recomputing it", path, error)
            return None

    def save(self, key: dict[str, Any], tensors: dict[str, Tensor]) -> None:
        if not self.enabled:
            return
        payload = {
            "key": json.loads(json.dumps({**key, "cache_version": CACHE_VERSION}, sort_keys=True, default=str)),
            "tensors": {k: v.cpu() for k, v in tensors.items()},
            "sha256": state_digest(tensors),
        }
        atomic_save(payload, self.path(key))
