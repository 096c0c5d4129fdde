"""The StarGAN v2 GANModule: the four-step iteration, the diversity schedule, EMA of G/F/E (started
from PyTorch's default initialisation as the official code does, updated in the official lerp form),
the landmark network (errors, a face-model step), and the translation interfaces (sample, reference
grid, eval_fakes)."""

import math

import pytest
import torch

from gan_zoo.errors import ConfigError
from gan_zoo.models.stargan_v2.blocks import he_init
from gan_zoo.models.stargan_v2.discriminator import Discriminator
from gan_zoo.models.stargan_v2.encoder import StyleEncoder
from gan_zoo.models.stargan_v2.fan import FAN
from gan_zoo.models.stargan_v2.generator import Generator
from gan_zoo.models.stargan_v2.landmarks import FanFaceMasker
from gan_zoo.models.stargan_v2.loss import lambda_ds_at
from gan_zoo.models.stargan_v2.mapping import MappingNetwork
from gan_zoo.models.stargan_v2.module import StarGANv2Module

TINY = {"latent_dim": 4, "style_dim": 6, "max_conv_dim": 16, "channel_base": 64, "mapping_hidden": 8}


def tiny_module(**kwargs) -> StarGANv2Module:
    module = StarGANv2Module(**{"resolution": 16, "num_domains": 3, **TINY, **kwargs})
    module.configure_run(total_kimg=1, batch_size=4, identity={})
    return module


def batch(n: int = 4, size: int = 16) -> dict[str, torch.Tensor]:
    return {
        "image": torch.rand(n, 3, size, size) * 2 - 1,
        "label": torch.arange(n) % 3,
        "ref_image": torch.rand(n, 3, size, size) * 2 - 1,
        "ref_image2": torch.rand(n, 3, size, size) * 2 - 1,
        "ref_label": (torch.arange(n) + 1) % 3,
    }


def without_trainer(module: StarGANv2Module) -> list[torch.optim.Optimizer]:
    """Run training_step outside Lightning: its optimizers, a plain backward, no logging."""
    optimizers = module.configure_optimizers()
    module.optimizers = lambda: optimizers
    module.manual_backward = lambda loss: loss.backward()
    module.log_step = lambda: None
    return optimizers


def snapshot(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def changed(before: dict[str, torch.Tensor], net: torch.nn.Module) -> bool:
    return any(not torch.equal(before[k], v) for k, v in net.state_dict().items())


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def test_registered_with_four_optimizers_in_the_official_phase_order() -> None:
    module = tiny_module()
    assert [(p.name, p.optimizers) for p in module.phases()] == [
        ("D_latent", ("D",)),
        ("D_reference", ("D",)),
        ("G_latent", ("G", "F", "E")),
        ("G_reference", ("G",)),
    ]
    optimizers = module.configure_optimizers()
    assert [o.defaults["lr"] for o in optimizers] == [1e-4, 1e-6, 1e-4, 1e-4]
    assert all(o.defaults["betas"] == (0.0, 0.99) and o.defaults["weight_decay"] == 1e-4 for o in optimizers)


def test_each_step_updates_exactly_its_networks() -> None:
    module = tiny_module()
    optimizers = dict(zip(module.optimizer_names, without_trainer(module), strict=True))
    inputs = module.iteration_inputs(batch())
    nets = module.networks()
    for phase in module.phases():
        before = {name: snapshot(net) for name, net in nets.items()}
        module._freeze_all_but(optimizers, phase.optimizers)
        loss = phase.loss(inputs)
        for optimizer in optimizers.values():
            optimizer.zero_grad(set_to_none=True)
        loss.backward()
        for name in phase.optimizers:
            optimizers[name].step()
        # frozen networks do not even get gradients
        for name, net in nets.items():
            has_grads = any(p.grad is not None for p in net.parameters())
            assert has_grads == (name in phase.optimizers), (phase.name, name)
            assert changed(before[name], net) == (name in phase.optimizers), (phase.name, name)


def test_a_training_step_runs_four_steps_then_the_ema_of_g_f_e() -> None:
    module = tiny_module(ema={"beta": 0.9})
    without_trainer(module)
    nets = {name: snapshot(getattr(module, name)) for name in ("G", "F", "E", "D", "G_ema", "F_ema", "E_ema")}
    module.training_step(batch(), 0)
    assert int(module.cur_nimg) == 4 and int(module.step_count) == 1
    for name in nets:
        assert changed(nets[name], getattr(module, name)), name
    for ema_name, name in (("G_ema", "G"), ("F_ema", "F"), ("E_ema", "E")):
        ema, net, before = getattr(module, ema_name), getattr(module, name), nets[ema_name]
        for (key, p_ema), p in zip(ema.named_parameters(), net.parameters(), strict=True):
            # bit for bit the official moving_average: torch.lerp(param, ema, beta)
            assert torch.equal(p_ema, torch.lerp(p.detach(), before[key], 0.9)), (ema_name, key)
    assert set(module._step_losses) >= {"loss/D_latent", "loss/D_reference", "loss/G_latent", "loss/G_reference", "loss/lambda_ds"}
    # every trainable parameter is trainable again after the step; the unused face shortcuts stay frozen
    assert all(p.requires_grad for net in module.networks().values() for p in net.parameters())


def recomputing_iteration(module: StarGANv2Module, optimizers: dict[str, torch.optim.Optimizer], data: dict[str, torch.Tensor]) -> None:
    """The body of clovaai/stargan-v2 core/solver.py Solver.train written out with every forward made
    afresh (compute_d_loss / compute_g_loss recompute G per step; nothing is frozen), z drawn as ours."""
    G, F, E, D = module.G, module.F, module.E, module.D
    x_real, y_org, y_trg = data["image"], data["label"], data["ref_label"]
    n = x_real.shape[0]
    z_trg, z_trg2 = torch.randn(n, module.latent_dim), torch.randn(n, module.latent_dim)
    masks = module.face_masks(x_real)

    def bce(logits: torch.Tensor, target: float) -> torch.Tensor:
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))

    def step(loss: torch.Tensor, names: tuple[str, ...]) -> None:
        for optimizer in optimizers.values():
            optimizer.zero_grad(set_to_none=True)
        loss.backward()
        for name in names:
            optimizers[name].step()

    for guide in ("latent", "reference"):
        x_in = x_real.detach().requires_grad_(True)
        out = D(x_in, y_org)
        (grad,) = torch.autograd.grad(out.sum(), x_in, create_graph=True)
        loss_reg = 0.5 * grad.square().flatten(1).sum(1).mean()
        with torch.no_grad():
            s_trg = F(z_trg, y_trg) if guide == "latent" else E(data["ref_image"], y_trg)
            x_fake = G(x_real, s_trg, masks)
        step(bce(out, 1.0) + bce(D(x_fake, y_trg), 0.0) + loss_reg, ("D",))
    for guide, names in (("latent", ("G", "F", "E")), ("reference", ("G",))):
        s_trg = F(z_trg, y_trg) if guide == "latent" else E(data["ref_image"], y_trg)
        x_fake = G(x_real, s_trg, masks)
        loss_adv = bce(D(x_fake, y_trg), 1.0)
        loss_sty = (E(x_fake, y_trg) - s_trg).abs().mean()
        s_trg2 = F(z_trg2, y_trg) if guide == "latent" else E(data["ref_image2"], y_trg)
        loss_ds = (x_fake - G(x_real, s_trg2, masks).detach()).abs().mean()
        x_rec = G(x_fake, E(x_real, y_org), module.face_masks(x_fake))
        loss_cyc = (x_rec - x_real).abs().mean()
        step(loss_adv + loss_sty - module.current_lambda_ds() * loss_ds + loss_cyc, names)
    module.update_ema(n)
    module.cur_nimg += n  # λ_ds decays with the images shown


@pytest.mark.parametrize("w_hpf", [0, 1])
def test_a_training_step_equals_the_official_iteration_that_recomputes_every_forward(w_hpf: float, tmp_path) -> None:
    # Ours generates the latent-guided fake once for D_latent and G_latent and encodes the sources once
    # for the fakes of steps 1-3 and once for step 4; the official recomputes them all. Same weights after.
    settings = {"resolution": 32} if w_hpf else {}
    if w_hpf:
        torch.save({"state_dict": FAN().state_dict()}, tmp_path / "wing.ckpt")
        settings.update(w_hpf=1, fan_path=str(tmp_path / "wing.ckpt"))
    ours = tiny_module(**settings)
    reference = tiny_module(**settings)
    reference.load_state_dict(ours.state_dict())
    without_trainer(ours)
    optimizers = dict(zip(reference.optimizer_names, reference.configure_optimizers(), strict=True))
    data = batch(4, size=settings.get("resolution", 16))
    for _ in range(2):  # the second iteration starts from updated weights and Adam moments
        torch.manual_seed(7)
        ours.training_step(data, 0)
        torch.manual_seed(7)
        recomputing_iteration(reference, optimizers, data)
    for name in ("G", "F", "E", "D", "G_ema", "F_ema", "E_ema"):
        theirs = getattr(reference, name).state_dict()
        for key, value in getattr(ours, name).state_dict().items():
            assert torch.equal(value, theirs[key]), (name, key)


def test_forwards_cached_for_the_iteration_are_made_again_once_the_weights_change() -> None:
    # The phases reuse the latent-guided fake and the sources' encoding only while G (and F) are the
    # weights that made them: a step, a load or any in-place change in between makes them afresh.
    module = tiny_module()
    inputs = module.iteration_inputs(batch())
    fresh = tiny_module().state_dict()
    for change in (lambda: [p.mul_(0.5) for p in module.G.parameters()], lambda: module.load_state_dict(fresh)):
        with torch.no_grad():
            change()
            expected_fake = module.G(inputs["image"], module.F(inputs["z_trg"], inputs["ref_label"]))
            expected_features = module.G.encode_source(inputs["image"]).features
        assert torch.equal(module.source_encoding(inputs).features, expected_features)
        assert torch.equal(module.latent_fake(inputs)[1], expected_fake)
        assert module.latent_fake(inputs)[1] is module.latent_fake(inputs)[1]  # unchanged weights: the same tensor


STATS = {"resolution": 16, "num_domains": 2, "channel_base": 256, "max_conv_dim": 64, "mapping_hidden": 256, "style_dim": 8, "latent_dim": 4}


def fresh_networks(w_hpf: float = 0) -> dict[str, torch.nn.Module]:
    """G, F, E, D built in the module's order with PyTorch's default initialisation (nothing else)."""
    shared = {"max_conv_dim": 64, "channel_base": 256, "channels": 3}
    return {
        "G": Generator(16, 8, w_hpf=w_hpf, **shared),
        "F": MappingNetwork(4, 8, 2, 256),
        "E": StyleEncoder(16, 8, 2, **shared),
        "D": Discriminator(16, 2, **shared),
    }


@pytest.mark.parametrize("w_hpf", [0, 1])
def test_ema_networks_start_from_the_default_init_not_from_g(w_hpf: float) -> None:
    # clovaai/stargan-v2: build_model deep-copies G, F and E as built (default init), then builds the
    # FAN (face models), and only then does the solver apply He init to G, F, E and D.
    torch.manual_seed(3)
    module = StarGANv2Module(**STATS, w_hpf=w_hpf)
    torch.manual_seed(3)
    fresh = fresh_networks(w_hpf)
    for name in ("G", "F", "E"):
        ema, net = getattr(module, f"{name}_ema"), getattr(module, name)
        for key, value in fresh[name].state_dict().items():
            assert torch.equal(ema.state_dict()[key], value), (name, key)
        assert any(not torch.equal(a, b) for a, b in zip(ema.parameters(), net.parameters(), strict=True)), name
        assert not ema.training and not any(p.requires_grad for p in ema.parameters())
    if w_hpf > 0:
        FAN()  # the official build_model's FAN draws its default init here
    for net in fresh.values():
        net.apply(he_init)
    for name, net in fresh.items():  # the trained networks: He init after those draws
        for key, value in net.state_dict().items():
            assert torch.equal(getattr(module, name).state_dict()[key], value), (name, key)
    # the statistics tell the two inits apart: default Linear U(±1/√fan_in) with non-zero biases
    # (std 1/√(3·fan_in)) for F_ema, Kaiming normal (std √(2/fan_in)) with zero biases for F
    ema_layer, layer = module.F_ema.shared[2], module.F.shared[2]
    assert abs(float(ema_layer.weight.std()) - 1 / math.sqrt(3 * 256)) < 0.002
    assert float(ema_layer.weight.abs().max()) <= 1 / math.sqrt(256) and float(ema_layer.bias.abs().max()) > 0
    assert abs(float(layer.weight.detach().std()) - math.sqrt(2 / 256)) < 0.005 and float(layer.bias.detach().abs().max()) == 0
    # and they are checkpointed like every other network, so a resume restores them exactly
    restored = StarGANv2Module(**STATS, w_hpf=w_hpf)
    restored.load_state_dict(module.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(restored.G_ema.parameters(), module.G_ema.parameters(), strict=True))


def test_diversity_weight_decays_linearly_to_zero_and_resumes_from_cur_nimg() -> None:
    module = tiny_module(loss={"lambda_ds": 2.0, "ds_kimg": 0.1})  # 100 images: 25 steps of 4
    without_trainer(module)
    expected = [2.0 * max(0.0, 1 - 4 * k / 100) for k in range(30)]
    seen = []
    for _ in range(30):
        seen.append(module.current_lambda_ds())
        module.cur_nimg += 4
    assert seen == pytest.approx(expected, abs=1e-12)
    assert seen[0] == 2.0 and seen[25:] == [0.0] * 5
    # the weight is a function of the checkpointed progress: a module restored at 48 images continues at step 12
    restored = tiny_module(loss={"lambda_ds": 2.0, "ds_kimg": 0.1})
    restored.load_state_dict({**module.state_dict(), "cur_nimg": torch.tensor(48)})
    assert restored.current_lambda_ds() == pytest.approx(expected[12])
    assert lambda_ds_at(1.0, 0, 0) == 0.0


def test_generator_loss_subtracts_the_weighted_diversity_term() -> None:
    module = tiny_module(loss={"lambda_ds": 1.0, "ds_kimg": 1})
    inputs = module.iteration_inputs(batch())
    torch.manual_seed(1)
    with_ds = module.generator_loss(inputs, "latent")
    ds = module._step_losses["loss/ds_latent"]
    module.cur_nimg.fill_(1000)  # lambda_ds has decayed to 0
    torch.manual_seed(1)
    without_ds = module.generator_loss(inputs, "latent")
    torch.testing.assert_close(with_ds, without_ds - ds)


def test_face_model_needs_the_landmark_network_file(tmp_path) -> None:
    with pytest.raises(ConfigError, match="model.fan_path=/path/to/wing.ckpt"):
        tiny_module(w_hpf=1).face_masks(torch.zeros(1, 3, 16, 16))
    with pytest.raises(ConfigError, match="does not exist"):
        tiny_module(w_hpf=1, fan_path=str(tmp_path / "wing.ckpt")).face_masks(torch.zeros(1, 3, 16, 16))
    assert tiny_module(w_hpf=0).face_masks(torch.zeros(1, 3, 16, 16)) is None
    # the landmark network never enters the state dict (not trained, not counted, not checkpointed)
    assert not any("fan" in key.lower() for key in tiny_module(w_hpf=1).state_dict())


def test_a_face_model_trains_a_step_with_the_landmark_masks(tmp_path) -> None:
    fan_path = tmp_path / "wing.ckpt"
    torch.save({"state_dict": FAN().state_dict()}, fan_path)  # random weights in the official file layout
    module = tiny_module(w_hpf=1, fan_path=str(fan_path), resolution=32)  # 32 px: the 32 px skip joins
    without_trainer(module)
    skips = []
    module.G.hpf.register_forward_pre_hook(lambda _, args: skips.append(args[0].shape[-1]))
    before = {name: snapshot(getattr(module, name)) for name in ("G", "F", "E", "D")}
    module.training_step(batch(2, size=32), 0)  # three FAN runs: the sources, then each step's fakes for the cycle
    assert int(module.step_count) == 1
    assert skips and set(skips) == {32}  # the masked high-pass path ran, at 32 px only
    for name, state in before.items():
        assert changed(state, getattr(module, name)), name
    assert all(torch.isfinite(loss) for loss in module._step_losses.values())
    # loaded once, frozen, and still outside the state dict, the parameters and the optimizers
    (masker,) = module._face_masker
    assert isinstance(masker, FanFaceMasker) and not masker.fan.training
    fan_ids = {id(p) for p in masker.fan.parameters()}
    assert not any(p.requires_grad for p in masker.fan.parameters())
    assert not fan_ids & {id(p) for p in module.parameters()}
    assert not any("fan" in key.lower() or key.startswith("m0.") for key in module.state_dict())


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="data.num_classes"):
        tiny_module(num_domains=1)
    with pytest.raises(ConfigError, match="lambda_xyz"):
        tiny_module(loss={"lambda_xyz": 1.0})


def test_translation_interfaces() -> None:
    module = tiny_module().eval()
    sources = torch.rand(3, 3, 16, 16) * 2 - 1
    first = module.sample([0, 1, 2, 5], sources=sources)
    assert first.dtype == torch.uint8 and first.shape == (4, 3, 16, 16)
    assert torch.equal(first, module.sample([0, 1, 2, 5], sources=sources))  # deterministic per seed
    assert torch.equal(first[1], module.sample([1], sources=sources)[0])
    with pytest.raises(ConfigError, match="source images"):
        module.sample([0])
    grid = module.reference_grid(sources, sources[:2], torch.tensor([0, 2]))
    assert grid.shape == ((1 + 2) * 4, 3, 16, 16)  # (1 + references) rows of (1 + sources) images
    assert torch.all(grid[0] == 255)  # the white corner
    real = batch()
    fakes = module.eval_fakes(real, generator=torch.Generator().manual_seed(3))
    assert fakes.shape == (4, 3, 16, 16)
    assert torch.equal(fakes, module.eval_fakes(real, generator=torch.Generator().manual_seed(3)))
    assert not torch.equal(fakes, module.eval_fakes(real, generator=torch.Generator().manual_seed(4)))


def test_translation_grid_inputs_cycle_through_the_validation_domains() -> None:
    from gan_zoo.callbacks.grids import grid_inputs
    from gan_zoo.data.domain_pairs import shapes_domain_pairs

    dataset = shapes_domain_pairs(resolution=16, num_images=40, val_images=40, kinds=[0, 1, 3])
    sources, references, ref_domains = grid_inputs(dataset, 5)
    assert sources.shape == references.shape == (5, 3, 16, 16)
    assert ref_domains.tolist() == [0, 1, 2, 0, 1]
    val = dataset.validation
    first_square = val.members(1)[0]
    assert torch.equal(sources[1], val.image(first_square))  # source i comes from domain i % K
    grid = tiny_module().eval().reference_grid(sources, references, ref_domains)
    assert grid.shape == (6 * 6, 3, 16, 16)
