"""The frozen ImageNet classifier of StyleGAN-XL's classifier guidance (autonomousvision/stylegan-xl `training/loss.py`).

In the super-resolution stages of a class-conditional run, the generator's loss adds
cls_weight · CE(classifier(G(z, c)), c): a pretrained `deit_small_distilled_patch16_224` (eval mode,
no parameter gradients, but differentiable w.r.t. its input) pushes fakes towards their class.
Weights load like the discriminator's backbones: explicit file, else the HF / torch.hub caches.
"""

import os

from torch import Tensor

from gan_zoo.models.projected_gan.backbones import IMAGENET_MEAN, IMAGENET_STD, FrozenModule, create_timm_model, normalize, resize_224


class GuidanceClassifier(FrozenModule):
    def __init__(
        self,
        pretrained: bool,  # load ImageNet weights from a local file; False: random (tests only)
        weights: str | os.PathLike | None = None,  # weight file; None: the HF / torch.hub caches
        name: str = "deit_small_distilled_patch16_224",  # timm classifier with ImageNet mean/std inputs (22,436,432 parameters)
    ) -> None:
        super().__init__()
        self.model = create_timm_model(name, pretrained, weights, config_key="the classifier's weights")
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: Tensor) -> Tensor:
        """x: images [B, 3, H, W] in [-1, 1] -> ImageNet logits [B, 1000] (mean of the class and distillation heads)."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"the guidance classifier expects images [B, 3, H, W], got {list(x.shape)}")
        # As the official loss: normalise first, then resize to the classifier's 224 px.
        x = normalize((x + 1) / 2, IMAGENET_MEAN, IMAGENET_STD)
        return self.model(resize_224(x))
