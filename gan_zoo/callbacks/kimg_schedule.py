"""When a callback with an `every_kimg` period is due: each time cur_nimg crosses a multiple of it."""


def crossed(before_nimg: int, after_nimg: int, every_kimg: float | None) -> bool:
    if not every_kimg or every_kimg <= 0:
        return False
    period = every_kimg * 1000
    return int(after_nimg // period) > int(before_nimg // period)
