"""What every way of sampling a trained module shares, below the commands that do it.

`gan-zoo generate` (gan_zoo.generate) and the family generators it hands a module to
(`models/spade/generate.py`, `models/stargan_v2/generate.py`) both use these, so they live here
rather than in the command's package: output folders that never overwrite unasked (`output`),
seed lists as users write them (`seeds`), frame positions of an interpolation (`frames`).
"""
