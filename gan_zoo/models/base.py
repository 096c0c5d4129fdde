"""GANModule: the training mechanics every family shares (see README, Design).

* Manual optimisation. A training step runs the family's **phases** (e.g. G main, G reg, D main,
  D reg) in order; each names its optimizer and an interval. Lazy regularisation: a phase with
  interval k runs every k-th step and its loss is multiplied by k (as the NVlabs code does; a phase can opt
  out, as StyleGAN-XL's path length does in the official code), and the
  family rescales that optimizer's lr and betas by k/(k+1) (`lazy_regularization_adam_kwargs`).
* Progress is counted in images: `cur_nimg` (a buffer, so it is in every checkpoint); training ends
  at `total_kimg`. `global_step` is never the user's unit: every logger gets rows at step = images
  shown, each with `progress/kimg` (see `log_step`).
* `G_ema`: a frozen copy of G updated either with a fixed per-step beta (PGGAN, StarGAN v2) or with
  a half-life in kimg and an optional ramp-up (StyleGAN family).
* Bit-exact resume: every piece of progress state is a buffer or goes through on_save/on_load
  checkpoint; the global RNG states (torch, CUDA, numpy, python) are saved with each checkpoint and
  restored right before the first batch after a resume. The data stream is positioned by `cur_nimg`
  (see `gan_zoo.data.sampler`), so no loader state is needed.
* Checkpoints record their format version; an older one is upgraded as it is loaded (resume,
  generate, eval), so it keeps producing the same images (`gan_zoo.training.checkpoint_version`).
* DDP: gradients are averaged by hand after each phase's backward (one flattened all-reduce), not by
  DistributedDataParallel, because GAN phases run several backward passes per forward and leave
  parameters unused (see `gan_zoo.training.strategy`). Per-sample random numbers are drawn for the
  whole global batch and sliced per rank, so one process and N processes draw the same numbers.
* Conditional fakes: `fake_labels` draws each fake's class from the training set's label distribution,
  independently of the real batch, as the official loops do (see there).
"""

import copy
import inspect
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.data.transforms import to_uint8
from gan_zoo.training.checkpoint_version import CHECKPOINT_FORMAT_VERSION, upgrade_checkpoint
from gan_zoo.training.resources import peak_memory_gb


@dataclass(frozen=True)
class Phase:
    name: str  # logged as loss/<name>; e.g. "G_main", "D_reg"
    optimizer: str  # key into GANModule.optimizer_names
    loss: Callable[[dict[str, Tensor]], Tensor]  # batch -> scalar loss (already a mean over the batch)
    interval: int = 1  # run every `interval` steps; the loss is multiplied by it (lazy regularisation)
    scale_by_interval: bool = True  # False: the loss backpropagates as it is (StyleGAN-XL's path length, see there)


def lazy_regularization_adam_kwargs(lr: float, betas: Sequence[float], interval: int | None) -> dict[str, Any]:
    """Adam lr and betas for an optimizer whose regulariser runs every `interval` steps (StyleGAN2 §B)."""
    if not interval or interval <= 1:
        return {"lr": lr, "betas": tuple(betas)}
    ratio = interval / (interval + 1)
    return {"lr": lr * ratio, "betas": tuple(beta**ratio for beta in betas)}


EMA_SETTINGS = ("beta", "half_life_kimg", "rampup")


def settings_with_defaults(key: str, defaults: Mapping[str, Any], given: Mapping[str, Any] | None) -> dict[str, Any]:
    """`{**defaults, **given}` for a node of settings (`model.loss`, `model.sampling`, `model.ema`, ...),
    refusing a key the family does not know: Hydra lets `+model.loss.x=1` add any key to such a node,
    and a misspelt setting silently ignored would train with the default instead."""
    given = dict(given or {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        from gan_zoo.config_errors import did_you_mean, either  # noqa: PLC0415 - only on the error path
        from gan_zoo.errors import ConfigError  # noqa: PLC0415

        name = unknown[0]
        matches = did_you_mean(name, defaults)
        hint = f" (did you mean {either([f'{key}.{m}' for m in matches])}?)" if matches else ""
        raise ConfigError(f"{key}.{name} is not a setting of {key}; it has {', '.join(sorted(defaults))}{hint}")
    return {**defaults, **given}


def compile_backend(value: Any) -> str | None:
    """The torch.compile backend `model.compile` asks for: None (off), torch's default (inductor) for
    true, or the backend named; anything else is refused here, at construction, rather than at the
    first training step (a misspelt name reaches torch.compile only then)."""
    if value is False or value is None:
        return None
    if value is True:
        return "inductor"
    import torch._dynamo  # noqa: PLC0415 - only runs that compile need dynamo

    # Every registered backend, the debugging ones too (aot_eager: dynamo and AOTAutograd without code generation).
    backends = torch._dynamo.list_backends(exclude_tags=())
    if isinstance(value, str) and value in backends:
        return value
    from gan_zoo.errors import ConfigError  # noqa: PLC0415 - only on the error path

    raise ConfigError(f"model.compile={value!r} is neither true, false nor a torch.compile backend; the backends here are {', '.join(backends)}")


@contextmanager
def eager_for_gradient_penalty() -> Iterator[None]:
    """Run the compiled networks eagerly for a while: a penalty on a gradient (R1, WGAN-GP, path length)
    backpropagates through a backward pass, which AOTAutograd's compiled backward cannot do ("torch.compile
    with aot_autograd does not currently support double backward"). Without model.compile it changes nothing."""
    with torch.compiler.set_stance("force_eager"):
        yield


@contextmanager
def eval_mode(network: nn.Module) -> Iterator[None]:
    """Eval mode for a while (Lightning puts every sub-module in train mode): sampling uses the batch-norm
    running statistics and runs no spectral-norm power iteration, as the official G_ema and test scripts."""
    was_training = network.training
    network.eval()
    try:
        yield
    finally:
        network.train(was_training)


def cycled_labels(seeds: Sequence[int], labels: Tensor | None, num_classes: int) -> Tensor | None:
    """`labels` when given; else, for a class-conditional model, seed % classes (sample grids cycle through the classes)."""
    if num_classes and labels is None:
        return torch.tensor(list(seeds)) % num_classes
    return labels


def foreign_arguments(module_class: type, hparams: Mapping[str, Any]) -> list[str]:
    """Keys of `hparams` that `module_class`'s constructor does not take but a base class's does: a
    parent's arguments the family's constructor passes itself (derived from its own arguments)."""
    own = inspect.signature(module_class.__init__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in own.values()):
        return []
    inherited = {name for base in module_class.__mro__[1:] if "__init__" in vars(base) for name in inspect.signature(base.__init__).parameters}
    return [key for key in hparams if key not in own and key in inherited]


class GANModule(L.LightningModule):
    family: ClassVar[str] = "base"  # the family's folder gan_zoo/models/<family>/, = conf/model/<family>.yaml (set below)
    generate_module: ClassVar[str | None] = None  # module with `run(cfg, module, ckpt, device) -> list[Path]` for families
    #   whose `gan-zoo generate` takes other inputs (label maps, source images); None: the seeds-in modes
    optimizer_names: ClassVar[tuple[str, ...]] = ("G", "D")  # order of configure_optimizers' list
    provides_required: ClassVar[frozenset[str]] = frozenset({"image"})  # batch keys the family needs
    ema_after_phase: ClassVar[str | None] = None  # phase after which G_ema is updated (None = after all)
    nonfinite_gradients: ClassVar[str | None] = None  # what the official loop does with NaN / inf gradients before
    #   each optimizer step: "nan_to_num" (NaN -> 0, ±inf -> ±1e5: the NVlabs PyTorch loops), "skip_step" (no update
    #   when any is non-finite: the TF optimizers), None (nothing: the gradients reach the optimizer as they are)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A family's name is its package: the config tree (conf/model/<family>.yaml) is the only registry."""
        super().__init_subclass__(**kwargs)
        parts = cls.__module__.split(".")
        if parts[:2] == ["gan_zoo", "models"] and len(parts) > 3:
            cls.family = parts[2]

    def __init__(
        self,
        ema: dict[str, float] | None = None,  # {"beta": per-step} or {"half_life_kimg": k (None: batch·10/32), "rampup": r or None}
        compile: bool | str = False,  # torch.compile the networks in place (module.compile(), keeps state-dict keys): true (inductor) or a backend name
        **hparams: Any,  # the family's own hyperparameters, kept in the checkpoint
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.save_hyperparameters()
        # Lightning records the arguments of every __init__ in the chain; a parent's arguments that the
        # family's own constructor does not take (StyleGAN3 passes D_lr as StyleGAN2's lr) would make
        # the checkpoint's hyperparameters unusable to rebuild it: keep the family's own.
        for key in foreign_arguments(type(self), self._hparams):
            del self._hparams[key], self._hparams_initial[key]
        self.ema_config = dict(ema or {"beta": 0.999})  # only the keys given: "beta" in it selects the per-step form
        settings_with_defaults("model.ema", dict.fromkeys(EMA_SETTINGS), self.ema_config)  # refuses unknown keys
        self.compile_backend = compile_backend(compile)  # None: not compiled
        self.register_buffer("cur_nimg", torch.zeros((), dtype=torch.long))
        self.register_buffer("step_count", torch.zeros((), dtype=torch.long))  # training steps done
        # Images per class of the training set (fake_labels draws from it); empty until known. Not in the
        # state dict: it belongs to the data a run trains on, read again from the data module at every start.
        self.register_buffer("label_counts", torch.zeros(0), persistent=False)
        self.seed = 0  # set by configure_run: the training randomness starts from it
        self.total_nimg = 0  # set by configure_run; not a hyperparameter so a resume may extend it
        self.batch_size = 0  # global images per step (families with a schedule override plan_batches)
        self.run_identity: dict[str, Any] = {}
        self._pending_rng_states: dict[str, Any] | None = None
        self._step_losses: dict[str, Tensor] = {}
        self._sums: dict[str, tuple[Tensor, int]] = {}  # name -> (sum, count) of the values recorded since the last logged row
        self._row_requested = False
        self._last_row: tuple[float, int] | None = None  # (time, cur_nimg) of the last logged row

    # ---- set-up --------------------------------------------------------------------------------

    def configure_run(self, total_kimg: float, batch_size: int, identity: dict[str, Any], seed: int = 0) -> None:
        """Run-level settings that are not architecture: training length, global batch, identity, seed."""
        self.seed = int(seed)
        self.total_nimg = int(round(total_kimg * 1000))
        self.batch_size = int(batch_size)
        self.run_identity = dict(identity)

    def networks(self) -> dict[str, nn.Module]:
        """The trainable networks by name, as `gan-zoo summary` reports them (G_ema excluded)."""
        raise NotImplementedError

    def phases(self) -> list[Phase]:
        raise NotImplementedError

    def init_ema(self) -> None:
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)

    def compiled_networks(self) -> list[nn.Module]:
        """The modules `model.compile` compiles: those whose forward training and sampling call. A StyleGAN
        generator is called through its `mapping` and `synthesis` (never its own forward, so compiling G alone
        would compile nothing): those two are compiled instead. A family calling other sub-networks adds them."""

        def called(net: nn.Module) -> list[nn.Module]:
            parts = [getattr(net, name, None) for name in ("mapping", "synthesis")]
            return parts if all(isinstance(part, nn.Module) for part in parts) else [net]

        return [*called(self.G), *(n for n in self.networks().values() if n is not self.G), *called(self.G_ema)]

    def setup(self, stage: str) -> None:
        if self.compile_backend is not None:
            for net in self.compiled_networks():
                net.compile(backend=self.compile_backend)

    # ---- data plan -----------------------------------------------------------------------------

    @property
    def world_size(self) -> int:
        return self.trainer.world_size if self._trainer is not None else 1

    @property
    def rank(self) -> int:
        return self.trainer.global_rank if self._trainer is not None else 0

    def global_batch_size(self) -> int:
        """Global images per step from the current state; families with a schedule override this."""
        return self.batch_size

    def plan_batches(self) -> tuple[int, int, int]:
        """(start_nimg, per-rank batch, number of batches) for the next stretch of constant batch size.

        The datamodule asks this at every (re)load of the training loader; Lightning reloads it every
        epoch, so an "epoch" here is a stretch of training with one batch size, ending at total_kimg.
        """
        batch = self.global_batch_size()
        per_rank = self._per_rank(batch)
        remaining = max(self.total_nimg - int(self.cur_nimg), 0)
        return int(self.cur_nimg), per_rank, -(-remaining // batch)

    def _per_rank(self, global_batch: int) -> int:
        if global_batch % self.world_size:
            raise ValueError(
                f"the global batch of {global_batch} images does not split over {self.world_size} processes; choose a batch size divisible by the device count"
            )
        return global_batch // self.world_size

    # ---- randomness shared by 1 or N processes ---------------------------------------------------

    def global_randn(self, local_batch: int, *shape: int) -> Tensor:
        """Normal noise for this rank's samples, drawn for the whole global batch and sliced by rank."""
        full = torch.randn(local_batch * self.world_size, *shape, device=self.device)
        return full[self.rank :: self.world_size]

    def global_rand(self, local_batch: int, *shape: int) -> Tensor:
        full = torch.rand(local_batch * self.world_size, *shape, device=self.device)
        return full[self.rank :: self.world_size]

    def fake_labels(self, local_batch: int, num_classes: int) -> Tensor | None:
        """One-hot classes [local_batch, num_classes] for this rank's fakes; None for an unconditional model.

        Each fake's class is drawn from the training set's labels, independently of the real batch, as the
        official loops do: NVlabs/stylegan3 training/training_loop.py (and stylegan-xl, projected-gan) draws
        `training_set.get_label(np.random.randint(len(training_set)))` per fake of every phase; the TF
        PGGAN / StyleGAN losses draw G's labels with `training_set.get_random_labels_tf`. Drawing a class in
        proportion to its image count is the same distribution. Drawn for the global batch on the global
        RNG (checkpointed), so resume and N processes draw the same classes.
        """
        if not num_classes:
            return None
        if self.label_counts.numel() == 0:
            self.use_label_counts(self._training_label_counts())
        if self.label_counts.numel() != num_classes:
            raise ValueError(f"the training set's label counts cover {self.label_counts.numel()} classes but this {self.family} model has {num_classes}")
        full = torch.multinomial(self.label_counts, local_batch * self.world_size, replacement=True)
        return F.one_hot(full[self.rank :: self.world_size], num_classes).float()

    def use_label_counts(self, counts: Tensor) -> None:
        """Set the images per class that `fake_labels` draws from (training reads them from the data module)."""
        counts = torch.as_tensor(counts, dtype=torch.float32).flatten()
        if counts.numel() == 0 or bool((counts < 0).any()) or not float(counts.sum()) > 0:
            raise ValueError(f"label counts must be non-negative with a positive sum, one per class; got {counts.tolist()}")
        self.label_counts = counts.to(self.device)

    def _training_label_counts(self) -> Tensor:
        datamodule = getattr(self._trainer, "datamodule", None)
        if datamodule is None or not hasattr(datamodule, "label_counts"):
            raise RuntimeError(
                f"this conditional {self.family} model draws its fakes' classes from the training set's labels, but it was "
                "given none: train it with a gan-zoo data module (trainer.fit(module, datamodule=...)) or call "
                "module.use_label_counts(images_per_class) first"
            )
        return datamodule.label_counts()

    # ---- the training step ---------------------------------------------------------------------

    def before_step(self, batch: dict[str, Tensor]) -> None:
        """Family hook run before the phases (schedules, lr changes, augment probability)."""

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self._restore_rng_states_once()
        self.before_step(batch)
        optimizers = dict(zip(self.optimizer_names, self._optimizer_list(), strict=True))
        self._step_losses = {}
        step = int(self.step_count)
        phases = self.phases()
        for phase in phases:
            if step % phase.interval:
                continue
            # Named ranges: a torch.profiler trace (benchmarks/train_step.py --profile) shows each phase's
            # forward, backward and optimizer step, and the EMA update, as one span each.
            with torch.profiler.record_function(f"phase/{phase.name}"):
                optimizer = optimizers[phase.optimizer]
                self.toggle_optimizer(optimizer)
                loss = phase.loss(batch)
                optimizer.zero_grad(set_to_none=True)
                self.manual_backward(loss * phase.interval if phase.scale_by_interval else loss)
                self._average_gradients(optimizer)
                if self._gradients_usable(optimizer, phase.optimizer):
                    optimizer.step()
                self.untoggle_optimizer(optimizer)
            self._step_losses[f"loss/{phase.name}"] = loss.detach()
            if phase.name == (self.ema_after_phase or phases[-1].name):
                with torch.profiler.record_function("phase/ema"):
                    self.update_ema(batch["image"].shape[0] * self.world_size)
        self.cur_nimg += batch["image"].shape[0] * self.world_size
        self.step_count += 1
        self.log_step()

    def _optimizer_list(self) -> list:
        optimizers = self.optimizers()
        return list(optimizers) if isinstance(optimizers, list | tuple) else [optimizers]

    def record(self, name: str, value: Tensor) -> None:
        """Record a scalar (e.g. a loss term) to log with this step."""
        self._step_losses[name] = value.detach().float().mean()

    def request_log_row(self) -> None:
        """Log a row at the end of this step whatever `log_every_n_steps` says: a callback that sends images
        or values to the loggers at this step calls it, so they sit beside the scalars of the same moment."""
        self._row_requested = True

    def log_step(self) -> None:
        """Accumulate this step's values; every `trainer.log_every_n_steps` steps, at a requested step and at the
        last step, send the loggers one row at step = images shown.

        A row holds the mean of each value over the steps since the previous row (a lazy regulariser's
        R1 or path-length values appear in the rows after the steps that computed them), `progress/kimg`,
        the learning rates (`lr/<optimizer>`), wall-clock `timing/sec_per_kimg` since the previous row
        and the process's peak memory (`memory/*`). Lightning's own per-step logging is bypassed: it
        counts batches, not images, and only logs on its own schedule.
        """
        values = {name: value.float() for name, value in self._step_losses.items()}
        for name, value in values.items():
            total, count = self._sums.get(name, (torch.zeros((), device=value.device), 0))
            self._sums[name] = (total + value, count + 1)
        if self._trainer is None:  # a step run outside a fit (tests): nowhere to log
            return
        self.log_dict(values, on_step=True, on_epoch=False, logger=False, batch_size=1)  # trainer.callback_metrics
        every = self.trainer.log_every_n_steps
        due = (every and int(self.step_count) % every == 0) or int(self.cur_nimg) >= self.total_nimg
        if due or self._row_requested:
            self._log_row()
        self._row_requested = False

    def _log_row(self) -> None:
        names = sorted(self._sums)
        means = torch.stack([total / count for total, count in (self._sums[n] for n in names)]) if names else None
        self._sums = {}
        if means is not None and self.world_size > 1:
            means = self.trainer.strategy.reduce(means, reduce_op="mean")
        nimg = int(self.cur_nimg)
        row: dict[str, float] = dict(zip(names, means.tolist(), strict=True)) if means is not None else {}
        row["progress/kimg"] = nimg / 1000
        for name, optimizer in zip(self.optimizer_names, self._optimizer_list(), strict=True):
            row[f"lr/{name}"] = float(optimizer.param_groups[0]["lr"])
        now = time.perf_counter()
        if self._last_row is not None and nimg > self._last_row[1]:
            row["timing/sec_per_kimg"] = (now - self._last_row[0]) / ((nimg - self._last_row[1]) / 1000)
        self._last_row = (now, nimg)
        row.update(peak_memory_gb(self.device))
        for logger in self.loggers:
            logger.log_metrics(row, step=nimg)

    def _gradients_usable(self, optimizer: Any, name: str) -> bool:
        """Apply the family's `nonfinite_gradients` policy to the optimizer's gradients; False: skip its step.

        "nan_to_num" is NVlabs/stylegan3 training/training_loop.py's `misc.nan_to_num(flat, nan=0, posinf=1e5,
        neginf=-1e5)` before every phase's step (stylegan-xl and projected-gan copy it); on finite gradients it
        changes nothing. "skip_step" is the TF `Optimizer.apply_updates` of PGGAN (tfutil.py) and StyleGAN
        (dnnlib/tflib/optimizer.py): `tf.cond(grad_ok, apply_gradients, no_op)`, so neither the weights nor
        Adam's moments move; that needs the verdict on the host (one sync per phase), and the skipped steps
        are logged as `overflow/<optimizer>`.
        """
        if self.nonfinite_gradients is None:
            return True
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if self.nonfinite_gradients == "nan_to_num":
            for grad in grads:
                grad.nan_to_num_(nan=0.0, posinf=1e5, neginf=-1e5)
            return True
        finite = torch.stack([torch.isfinite(grad).all() for grad in grads]).all() if grads else torch.ones((), dtype=torch.bool)
        self.record(f"overflow/{name}", (~finite).float())
        return bool(finite)

    def _average_gradients(self, optimizer: Any) -> None:
        if self.world_size == 1:
            return
        params = [p for group in optimizer.param_groups for p in group["params"] if p.requires_grad]
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads])
        torch.distributed.all_reduce(flat)
        flat /= self.world_size
        offset = 0
        for p in params:
            n = p.numel()
            p.grad = flat[offset : offset + n].view_as(p).clone()
            offset += n

    def on_train_start(self) -> None:
        # A new run starts its training randomness from the seed here, after set-up, so that what
        # set-up drew (weight init, Lightning re-seeding DDP ranks) does not matter: one process
        # and N processes then draw the same global noise. A resumed run restores its states instead.
        if self._pending_rng_states is None and int(self.cur_nimg) == 0:
            L.seed_everything(self.seed, workers=True, verbose=False)
        self._sums, self._row_requested = {}, False
        self._last_row = (time.perf_counter(), int(self.cur_nimg))

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if int(self.cur_nimg) >= self.total_nimg:
            self.trainer.should_stop = True

    # ---- EMA -----------------------------------------------------------------------------------

    def ema_beta(self, global_batch: int) -> float:
        if "beta" in self.ema_config:
            return float(self.ema_config["beta"])
        half_life_kimg = self.ema_config["half_life_kimg"]
        if half_life_kimg is None:  # NVlabs stylegan3 train.py (also Projected GAN, StyleGAN-XL): ema_kimg = batch * 10 / 32
            half_life_kimg = global_batch * 10 / 32
        ema_nimg = float(half_life_kimg) * 1000
        rampup = self.ema_config.get("rampup")
        if rampup:
            ema_nimg = min(ema_nimg, float(self.cur_nimg) * rampup)
        return 0.5 ** (global_batch / max(ema_nimg, 1e-8))

    @torch.no_grad()
    def update_ema(self, global_batch: int) -> None:
        beta = self.ema_beta(global_batch)
        ema_params = list(self.G_ema.parameters())
        params = [p.detach() for p in self.G.parameters()]
        if beta == 0:  # what lerp with weight 1 gives, bit for bit, in one pass instead of three
            torch._foreach_copy_(ema_params, params)
        else:
            torch._foreach_lerp_(ema_params, params, 1.0 - beta)
        for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers(), strict=True):
            b_ema.copy_(b)

    # ---- sampling and evaluation interfaces ------------------------------------------------------

    @staticmethod
    def latents_from_seeds(seeds: Iterable[int], z_dim: int) -> Tensor:
        """z per seed as NVlabs draws it (numpy RandomState(seed).randn), so seeds mean the same thing."""
        return torch.from_numpy(np.stack([np.random.RandomState(s).randn(z_dim) for s in seeds])).float()

    def one_hot(self, labels: Tensor | None, num_classes: int) -> Tensor | None:
        """Class labels -> float one-hot [N, num_classes] on the module's device; None for an unconditional model (0 classes)."""
        if not num_classes:
            return None
        if labels is None:
            raise ValueError(f"this {self.family} model is conditional on {num_classes} classes: pass class labels")
        return F.one_hot(labels.long().to(self.device), num_classes).float()

    def sample(self, seeds: Sequence[int], **kwargs: Any) -> Tensor:
        """uint8 images [N, C, H, W] from G_ema, one per seed, deterministic per seed and device."""
        raise NotImplementedError

    def sample_with_options(self, seeds: Sequence[int], labels: Tensor | None, options: dict[str, Any]) -> Tensor:
        """`sample` of the families whose `generate(z, labels, **options)` takes `model.sampling`'s options
        (truncation, noise mode): those given in `options` override the config's, others are ignored."""
        chosen = {**self.sampling, **{k: v for k, v in options.items() if k in self.sampling}}
        return to_uint8(self.generate(self.latents_from_seeds(seeds, self.G.z_dim), labels, **chosen))

    def eval_fakes(self, batch: dict[str, Tensor], generator: torch.Generator | None = None) -> Tensor:
        """Fake images in [-1, 1] for a real evaluation batch under the family's protocol."""
        raise NotImplementedError

    def progress_description(self) -> str:
        """Short text for the progress bar (e.g. the resolution phase)."""
        return ""

    # ---- checkpoints ---------------------------------------------------------------------------

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["gan_zoo"] = {
            "family": self.family,
            **self.run_identity,
            "cur_nimg": int(self.cur_nimg),
            "format_version": CHECKPOINT_FORMAT_VERSION,
            "rng_states": _capture_rng_states(),
        }
        for logger in self.loggers:
            if type(logger).__name__ == "WandbLogger":
                checkpoint["gan_zoo"]["wandb_run_id"] = logger.experiment.id

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Lightning calls this before it loads the state dict and the optimizer states.
        upgrade_checkpoint(checkpoint, self)
        self._pending_rng_states = checkpoint.get("gan_zoo", {}).get("rng_states")

    def restore_record(self, record: dict[str, Any]) -> None:
        """Take back what the family keeps in the checkpoint's gan-zoo record rather than its state dict;
        the loaders of generate, eval and official files call it. Nothing by default."""

    def upgrade_state_dict(self, state_dict: dict[str, Tensor], version: int) -> None:
        """Rewrite, in place, a state dict of checkpoint format `version` into the current format.

        Version 1 -> 2: the kernels of the up-sampling convolutions (modulated or not) change
        orientation (see gan_zoo.layers.conv_resample), so they are rotated by 180°, which keeps
        the images the old code made (to float rounding: the demodulation sums run in another
        order); the `resample_filter` buffers that became persistent are added with this module's
        values (the architecture fixes them). Families whose storage changed otherwise override
        this and call super().
        """
        if version < 2:
            for key in self._up_kernels_reoriented_in_version_2():
                if key in state_dict:
                    state_dict[key] = state_dict[key].flip([-2, -1])
            for key, value in self.state_dict().items():
                if key.rsplit(".", 1)[-1] == "resample_filter" and key not in state_dict:
                    state_dict[key] = value.detach().clone()

    def upgrade_optimizer_states(self, optimizer_states: list[dict[str, Any]], version: int) -> None:
        """Rewrite, in place, saved optimizer states of format `version`: per-element state (Adam's
        moments) follows its parameter, so a resumed run trains on as the old one would have."""
        reoriented = set(self._up_kernels_reoriented_in_version_2()) if version < 2 else set()
        if not reoriented:
            return
        names = {id(p): name for name, p in self.named_parameters()}
        optimizers = self.configure_optimizers()  # fresh ones, only for the order of the parameters
        optimizers = list(optimizers) if isinstance(optimizers, list | tuple) else [optimizers]
        for optimizer, saved in zip(optimizers, optimizer_states, strict=True):
            for group, saved_group in zip(optimizer.param_groups, saved["param_groups"], strict=True):
                for param, index in zip(group["params"], saved_group["params"], strict=True):
                    if names.get(id(param)) in reoriented and index in saved["state"]:
                        state = saved["state"][index]
                        for key, value in state.items():
                            if isinstance(value, Tensor) and value.shape == param.shape:
                                state[key] = value.flip([-2, -1])

    def _up_kernels_reoriented_in_version_2(self) -> list[str]:
        """Parameter names of the up-sampling kernels whose stored orientation format 2 changed."""
        return [f"{name}.weight" for name, module in self.named_modules() if getattr(module, "up_kernel_reoriented_in_format_2", False) and module.up == 2]

    def _restore_rng_states_once(self) -> None:
        # Restored here, right before the first step after a resume, because Lightning's set-up
        # between loading and training may draw random numbers that the uninterrupted run did not.
        if self._pending_rng_states is not None:
            _restore_rng_states(self._pending_rng_states)
            self._pending_rng_states = None


def _capture_rng_states() -> dict[str, Any]:
    np_state = np.random.get_state()
    states: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "key": np_state[0],
            "state": torch.from_numpy(np_state[1].astype(np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached_gaussian": float(np_state[4]),
        },
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def _restore_rng_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"])
    np_state = states["numpy"]
    np.random.set_state((np_state["key"], np_state["state"].numpy().astype(np.uint32), np_state["pos"], np_state["has_gauss"], np_state["cached_gaussian"]))
    random.setstate(_as_tuples(states["python"]))
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def _as_tuples(value: Any) -> Any:
    # python's random state is nested tuples; a checkpoint round trip may turn them into lists
    return tuple(_as_tuples(v) for v in value) if isinstance(value, list | tuple) else value
