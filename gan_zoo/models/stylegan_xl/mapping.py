"""StyleGAN-XL mapping network: z and a class label -> w, with per-class w averages (StyleGAN-XL §3.2).

The label (one-hot c, read as c.argmax(1)) selects a row of a class embedding `embed` [1000, 320]
that starts from pretrained ImageNet class embeddings (the official `tf_efficientnet_lite0` table), so
classes that look alike start close together; `embed_proj` (320 -> z_dim, lrelu) brings it to z's
size. z and the projected embedding are each normalised to unit second moment and concatenated,
then `num_layers` fully connected layers (lr multiplier 0.01) give w.

With labels, `w_avg` holds one moving average per class and truncation pulls each sample towards
its own class centre: one global centre would pull every class towards an average, class-ambiguous
image.

Without labels the official network still carries the (unused) embedding; it is kept here too, frozen,
so that parameter counts and state dicts match.
"""

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gan_zoo.errors import ConfigError
from gan_zoo.layers import EqualizedLinear, bias_act, pixel_norm

EMBEDDING_SOURCE = "in_embeddings/tf_efficientnet_lite0.pkl of autonomousvision/stylegan-xl"


def load_class_embedding(path: str | Path | None, num_embeddings: int = 1000, embedding_dim: int = 320) -> torch.Tensor:
    """The pretrained class embedding [num_embeddings, embedding_dim] (float32) from a torch.save'd file.

    The file holds the tensor itself or a state dict with a 'weight' entry (an nn.Embedding's); it is
    read with weights_only=True. Anything else is an error that says how to make the file.
    """
    expected = f"a float tensor of shape [{num_embeddings}, {embedding_dim}]"
    how = (
        f"The conditional StyleGAN-XL generator starts from the pretrained ImageNet class embedding, {expected}, saved "
        f"with torch.save (the tensor, or a state dict with 'weight'). Make it from the official {EMBEDDING_SOURCE} "
        f"(a pickled {{'embed': nn.Embedding(1000, 320)}}) with: python -c \"import pickle, torch; "
        f"e = pickle.load(open('tf_efficientnet_lite0.pkl', 'rb'))['embed']; "
        f"torch.save(e.weight.detach().clone(), 'tf_efficientnet_lite0_embed.pt')\" and pass "
        f"model.embedding_path=tf_efficientnet_lite0_embed.pt, or model.rand_embedding=true to start from a random embedding "
        f"(not the paper's setting)."
    )
    if path is None:
        raise ConfigError(f"StyleGAN-XL class embedding: no model.embedding_path is set. {how}")
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"StyleGAN-XL class embedding: {path} does not exist. {how}")
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # unpickling errors come in many types; all mean "not a tensor file"
        raise ConfigError(f"StyleGAN-XL class embedding: {path} cannot be read as a torch.save'd tensor ({error}). {how}") from error
    weight = loaded.get("weight") if isinstance(loaded, dict) else loaded
    if not isinstance(weight, torch.Tensor) or weight.shape != (num_embeddings, embedding_dim) or not weight.is_floating_point():
        found = f"shape {list(weight.shape)}, {weight.dtype}" if isinstance(weight, torch.Tensor) else type(loaded).__name__
        raise ConfigError(f"StyleGAN-XL class embedding: {path} holds {found}, expected {expected}. {how}")
    return weight.float()


class MappingNetwork(nn.Module):
    def __init__(
        self,
        z_dim: int,  # latent size (64 in StyleGAN-XL)
        c_dim: int,  # one-hot label size; 0: unconditional
        w_dim: int,  # output size
        num_ws: int,  # copies of w, one per synthesis input
        num_layers: int = 2,  # fully connected layers after the concatenation
        lr_multiplier: float = 0.01,  # learning-rate multiplier of those layers
        w_avg_beta: float = 0.998,  # decay of w_avg per update (per sample of a class, when conditional)
        embed_classes: int = 1000,  # rows of the class embedding (the pretrained ImageNet table has 1000, whatever c_dim is)
        embed_dim: int = 320,  # class embedding size (tf_efficientnet_lite0's last feature width)
        rand_embedding: bool = False,  # True: random N(0, 1) class embedding instead of the pretrained one
        embedding_path: str | None = None,  # torch.save'd [embed_classes, embed_dim] table; needed if conditional, not rand_embedding
    ) -> None:
        super().__init__()
        if z_dim < 1:
            raise ValueError(f"the StyleGAN-XL mapping network needs z_dim >= 1, got {z_dim}")
        if c_dim > embed_classes:
            raise ValueError(f"c_dim={c_dim} labels do not fit a class embedding of {embed_classes} rows")
        self.z_dim, self.c_dim, self.w_dim, self.num_ws = z_dim, c_dim, w_dim, num_ws
        self.num_layers, self.w_avg_beta = num_layers, w_avg_beta
        if c_dim and rand_embedding:
            self.embed = nn.Embedding(embed_classes, embed_dim)
        else:
            # No random draw: the values come from the file (or are unused without labels).
            self.embed = nn.Embedding(embed_classes, embed_dim, _weight=torch.zeros(embed_classes, embed_dim))
            if c_dim and not self.embed.weight.is_meta:  # on the meta device only shapes exist: nothing to load
                with torch.no_grad():
                    self.embed.weight.copy_(load_class_embedding(embedding_path, embed_classes, embed_dim))
        if not c_dim:
            self.embed.requires_grad_(False)  # unused without labels: kept for parity, never trained
        self.embed_proj = EqualizedLinear(embed_dim, z_dim) if c_dim else None
        features = [z_dim * (2 if c_dim else 1)] + [w_dim] * num_layers
        for index in range(num_layers):
            self.add_module(f"fc{index}", EqualizedLinear(features[index], features[index + 1], lr_mul=lr_multiplier))
        self.register_buffer("w_avg", torch.zeros(c_dim, w_dim) if c_dim else torch.zeros(w_dim))

    def labels(self, c: torch.Tensor | None) -> torch.Tensor | None:
        """Class indices [N] from one-hot labels [N, c_dim] (None when unconditional)."""
        if not self.c_dim:
            return None
        if c is None or c.ndim != 2 or c.shape[1] != self.c_dim:
            raise ValueError(f"c must be one-hot labels [N, {self.c_dim}], got {None if c is None else list(c.shape)}")
        return c.argmax(dim=1)

    def forward(
        self,
        z: torch.Tensor,  # [N, z_dim]
        c: torch.Tensor | None = None,  # [N, c_dim] one-hot; None when unconditional
        truncation_psi: float = 1.0,  # 1: no truncation; 0: every w becomes its class's w_avg
        truncation_cutoff: int | None = None,  # truncate ws[:, :cutoff] only; None: all num_ws
        update_emas: bool = False,  # update w_avg (the official loss does so in the D phase's G pass)
    ) -> torch.Tensor:
        """ws [N, num_ws, w_dim]."""
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must be [N, {self.z_dim}], got {list(z.shape)}")
        labels = self.labels(c)
        x = pixel_norm(z.float())
        if labels is not None:
            y = bias_act(self.embed_proj(self.embed(labels)), activation="lrelu")  # type: ignore[misc]
            x = torch.cat([x, pixel_norm(y)], dim=1)
        for index in range(self.num_layers):
            x = bias_act(getattr(self, f"fc{index}")(x), activation="lrelu")
        if update_emas:
            self.update_w_avg(x.detach(), labels)
        ws = x.unsqueeze(1).repeat(1, self.num_ws, 1)
        if truncation_psi != 1:
            cutoff = self.num_ws if truncation_cutoff is None else int(truncation_cutoff)
            centre = (self.w_avg[labels] if labels is not None else self.w_avg.expand(x.shape[0], -1)).unsqueeze(1)
            ws = torch.cat([centre.lerp(ws[:, :cutoff], truncation_psi), ws[:, cutoff:]], dim=1)
        return ws

    @torch.no_grad()
    def update_w_avg(self, w: torch.Tensor, labels: torch.Tensor | None) -> None:
        """w_avg <- w.lerp(w_avg, beta), per class in batch order when conditional (the official per-sample loop).

        A class seen k times in the batch ends at beta^k·w_avg + Σ_j (1 - beta)·beta^(k - j)·w_j
        (j = 1..k in batch order), which is what k sequential updates give, computed in one pass.
        """
        beta = self.w_avg_beta
        if labels is None:
            self.w_avg.copy_(w.mean(dim=0).lerp(self.w_avg, beta))
            return
        onehot = F.one_hot(labels, self.c_dim).to(w.dtype)  # [N, c_dim]
        counts = onehot.sum(dim=0)  # k per class
        order = (onehot.cumsum(dim=0) * onehot).sum(dim=1)  # j: 1-based position of each sample within its class
        weights = (1 - beta) * beta ** (counts[labels] - order)  # [N]
        self.w_avg.mul_((beta**counts).unsqueeze(1)).add_(onehot.t() @ (weights.unsqueeze(1) * w))

    def extra_repr(self) -> str:
        return f"z_dim={self.z_dim}, c_dim={self.c_dim}, w_dim={self.w_dim}, num_ws={self.num_ws}"
