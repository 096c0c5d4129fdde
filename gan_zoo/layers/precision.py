"""Reduced precision for chosen blocks: bf16 where the GPU has it, else fp16 (StyleGAN2-ADA's
`num_fp16_res`). Only on CUDA: on CPU the blocks stay in fp32, where half precision is slow.

Blocks opt in by running their body under `reduced_precision(enabled, device)`; convolutions then
run in 16 bits, while elementwise ops keep the dtype of their inputs. Blocks cast their input back
to fp32 first, so a fp32 block after a 16-bit one never mixes dtypes.
"""

import contextlib

import torch


def reduced_precision_dtype() -> torch.dtype:
    """bf16 on GPUs that support it (Ampere and later): fp16's range needs no loss scaling there."""
    return torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float16


def reduced_precision(enabled: bool, device: torch.device) -> contextlib.AbstractContextManager:
    if not enabled or device.type != "cuda":
        return contextlib.nullcontext()
    return torch.autocast("cuda", dtype=reduced_precision_dtype())


def full_precision(x: torch.Tensor) -> torch.Tensor:
    """x in fp32 if it is a 16-bit tensor (from a reduced-precision block); other dtypes unchanged."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
