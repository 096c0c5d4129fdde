"""Where each frame of an interpolation through several seeds sits: which segment, how far along it."""

from gan_zoo.errors import ConfigError


def path_positions(num_seeds: int, frames: int) -> list[tuple[int, float]]:
    """(segment, t) per frame: `frames` frames over the num_seeds-1 segments, first and last seed included."""
    if frames < 2:
        raise ConfigError(f"frames={frames}: an interpolation needs at least 2 frames")
    positions = []
    for index in range(frames):
        s = index * (num_seeds - 1) / (frames - 1)
        segment = min(int(s), num_seeds - 2)
        positions.append((segment, s - segment))
    return positions
