"""StyleGAN2 in reduced precision on a GPU: the top resolutions run in bf16 (fp16 without bf16), the
rest and the outputs stay fp32, and the regularisers' double backward stays finite."""

import pytest
import torch

from gan_zoo.layers import reduced_precision_dtype
from gan_zoo.models.stylegan2.module import StyleGAN2Module

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def test_reduced_precision_blocks_train_finite_on_gpu() -> None:
    torch.manual_seed(0)
    module = StyleGAN2Module(resolution=64, z_dim=32, w_dim=32, channel_base=2048, channel_max=64, num_fp16_res=2).cuda()
    module.configure_run(total_kimg=1, batch_size=8, identity={})
    assert [getattr(module.G.synthesis, f"b{r}").use_fp16 for r in (4, 8, 16, 32, 64)] == [False, False, False, True, True]
    seen = []
    handle = module.G.synthesis.b64.conv1.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    batch = {"image": torch.rand(8, 3, 64, 64, device="cuda") * 2 - 1}
    for loss_fn in (module.generator_main_loss, module.path_length_loss, module.discriminator_main_loss, module.r1_loss):
        loss = loss_fn(batch)
        assert torch.isfinite(loss), loss_fn.__name__
        loss.backward()
    handle.remove()
    assert seen and seen[0] == reduced_precision_dtype()
    images = module.sample([0, 1])
    assert images.dtype == torch.uint8
    for p in [*module.G.parameters(), *module.D.parameters()]:
        assert p.dtype == torch.float32 and (p.grad is None or torch.isfinite(p.grad).all())
