"""`gan-zoo data prepare`: the files users download -> the NVlabs-style zip (PNG per image, dataset.json).

`source` (per format: cifar10, mnist, lsun_lmdb, image_files; recognised by `detect`) lists the
images, `encode` decodes and crops/resizes them in worker processes (`parallel`) with the rules of
`crops`, and `zip_writer` publishes the zip atomically. `run.prepare_dataset` ties them together.
"""

from gan_zoo.data.prepare.run import PrepareResult, prepare_dataset

__all__ = ["PrepareResult", "prepare_dataset"]
