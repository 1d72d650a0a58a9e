"""The math attention kernel for short bf16 CPU steps: chosen only there, and as accurate as flash."""

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from lexitune.train.attention import MATH_MAX_TOKENS, attention_kernel, forward_only

CPU = torch.device("cpu")


def test_math_only_for_short_bf16_rows_on_a_cpu():
    assert torch.backends.cuda.flash_sdp_enabled()
    with attention_kernel(torch.bfloat16, CPU, MATH_MAX_TOKENS):
        assert not torch.backends.cuda.flash_sdp_enabled() and torch.backends.cuda.math_sdp_enabled()
        with forward_only(CPU):  # the replay teacher's pass: flash's forward is the fast one
            assert torch.backends.cuda.flash_sdp_enabled()
        assert not torch.backends.cuda.flash_sdp_enabled()
    assert torch.backends.cuda.flash_sdp_enabled()  # PyTorch's own choice again after the step
    for dtype, tokens in ((torch.bfloat16, MATH_MAX_TOKENS + 1), (torch.float32, 30)):
        with attention_kernel(dtype, CPU, tokens):
            assert torch.backends.cuda.flash_sdp_enabled()
    meta = torch.device("meta")  # not a CPU: the settings are left as they are
    with attention_kernel(torch.bfloat16, meta, 30):
        assert torch.backends.cuda.flash_sdp_enabled()
    torch.backends.cuda.enable_flash_sdp(False)
    try:
        with forward_only(meta):
            assert not torch.backends.cuda.flash_sdp_enabled()
    finally:
        torch.backends.cuda.enable_flash_sdp(True)


def _attention_and_grads(q, k, v, mask, grad, dtype, backend):
    leaves = [t.detach().to(dtype).requires_grad_() for t in (q, k, v)]
    with sdpa_kernel(backend):
        out = F.scaled_dot_product_attention(*leaves, attn_mask=mask)
    out.backward(grad.to(dtype))
    return [out.detach().double(), *(t.grad.double() for t in leaves)]


def test_in_bf16_the_math_kernel_is_as_close_to_exact_attention_as_flash():
    # a batch shaped like the loop's: 8 rows, SmolLM2's 9 heads of 64, a 24-token prefix + 40 tokens
    torch.manual_seed(0)
    q = torch.randn(8, 9, 40, 64, dtype=torch.float64)
    k, v = torch.randn(2, 8, 9, 64, 64, dtype=torch.float64)
    mask = torch.ones(8, 1, 40, 64, dtype=torch.bool).tril(24)
    grad = torch.randn(8, 9, 40, 64, dtype=torch.float64)
    exact = _attention_and_grads(q, k, v, mask, grad, torch.float64, SDPBackend.MATH)

    def errors(backend):
        got = _attention_and_grads(q, k, v, mask, grad, torch.bfloat16, backend)
        return [float((a - b).abs().max() / b.abs().max()) for a, b in zip(got, exact, strict=True)]

    flash, math = errors(SDPBackend.FLASH_ATTENTION), errors(SDPBackend.MATH)
    assert all(0 < e < 0.02 for e in flash + math)  # bf16's error, not a wrong result
    assert all(m <= 1.25 * f for m, f in zip(math, flash, strict=True)), (math, flash)
