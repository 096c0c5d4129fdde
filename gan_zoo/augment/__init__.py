"""StyleGAN2-ADA augmentation: a differentiable pipeline (`AugmentPipe`) and its adaptive controller.

Quick use::

    pipe = AugmentPipe.from_preset("bgc", p=0.0)       # presets: blit geom color filter noise cutout
    ada = AdaptiveAugment(pipe, target=0.6, ada_kimg=500, interval=4)    #  bgc bgcf bgcfn bgcfnc
    logits = D(pipe(reals))                             # augment every image D sees, real and fake
    ada.accumulate(logits)                              # D main phase, real logits
    if ada.due(step): ada.update(global_batch, reduce=all_reduce_sum)   # p moves, r_t recorded

Wiring into a model config (conf/model/stylegan2.yaml does this): the defaults list takes one file
of the `augment` group into the model's `augment` key, and a plain field picks the mode::

    defaults:
      - /augment@augment: ada  # settings: preset, p, target, ada_kimg, interval, overrides
      - _self_
    aug: ada                   # noaug | ada | fixed

The module builds from the plain dicts it receives: ``build_augment(mode=aug, **settings)`` without
the `_target_`/`mode` keys (or ``augment_from_config(settings)`` when the file's own `mode` should
decide). Register the pipe and the controller as attributes so `p` and the ADA sums are in
checkpoints; call the pipe with ``rank=self.rank, world_size=self.world_size`` so that N processes
draw what 1 process draws. Command line: ``model.aug=fixed model.augment.p=0.2``,
``model.augment.preset=bgcfnc``, ``augment@model.augment=fixed``.

What kornia does and what is written here (kornia has no equivalent for the latter):

* kornia: the per-sample separable band filtering (`filters.filter2d_separable`), the hue rotation
  matrix (`geometry.conversions.axis_angle_to_rotation_matrix`).
* by hand: the sampling grid of the geometric stage's bilinear warp (kornia's `warp_affine` samples
  through `F.grid_sample`, whose gradient has no gradient before torch 2.12, and R1 needs one: see
  `grid_sample`), pixel blitting as an exact gather (kornia's flips/rot90/translate work per batch or
  interpolate; ADA's are per-sample and must stay bit-exact); the 2x wavelet up/downsampling pair
  (kornia's pyramid ops use a fixed Gaussian and cannot decimate with a custom orthonormal filter,
  which is what makes up-then-down an exact identity); the symlet and band filter design; the
  colour matrices (kornia's adjust_* work in HSV on clamped [0, 1] images, ADA's are linear maps of
  RGB composed into one 4x4 matrix); noise and cutout (one line each); the per-sample probabilities
  and the global-batch random draws, which kornia's augmentation classes do not expose.
"""

from gan_zoo.augment.adaptive import AdaptiveAugment
from gan_zoo.augment.build import MODES, Augmentation, augment_from_config, build_augment
from gan_zoo.augment.pipe import AugmentPipe
from gan_zoo.augment.presets import PRESETS, preset_kwargs

__all__ = ["MODES", "PRESETS", "AdaptiveAugment", "AugmentPipe", "Augmentation", "augment_from_config", "build_augment", "preset_kwargs"]
