"""On a real GPU: every operation Mocha (or the issue) needs, through the compatibility layer
with Mocha's call signatures and sequences, against a float64 NumPy reference on the same inputs.

    python3 tests/gpu/cudnn_compat_check.py --layer4 DIR4/libcudnn.so --layer5 DIR5/libcudnn.so --out OUT

Run by tests/gpu/cudnn_compat_on_device.sh (which finds cuDNN 9 and builds the layers). Writes
OUT/cudnn_compat_check.json (each op's max relative error and tolerance) and exits 1 on any miss.
Shapes are the CIFAR-10 example's: batch 100, 32x32, 5x5 convolutions with pad 2, 3x3 pooling
with stride 2. TF32 is off (NVIDIA_TF32_OVERRIDE=0); the layer asks for FMA math anyway.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.cudnn_compat_mocha import (
    DOUBLE,
    FLOAT,
    POOL_AVG,
    POOL_MAX,
    RELU,
    SIGMOID,
    SOFTMAX_ACCURATE,
    SOFTMAX_CHANNEL,
    TANH,
    CudnnError,
    Layer,
    scalar,
)

# Max relative error (max |got - want| / max |want|) accepted per data type.
TOLERANCE = {FLOAT: 2e-5, DOUBLE: 1e-11}
RNG = np.random.default_rng(20)


def dev(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a)).cuda()


def host(t: torch.Tensor) -> np.ndarray:
    torch.cuda.synchronize()
    return t.cpu().numpy().astype(np.float64)


def rel(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-30))


# ---- float64 NumPy references (NCHW, cross-correlation as Mocha asks) ----
def conv_fwd(x: np.ndarray, w: np.ndarray, pad: int) -> np.ndarray:
    n, _, h, wd = x.shape
    k, _, r, s = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = h + 2 * pad - r + 1, wd + 2 * pad - s + 1
    y = np.zeros((n, k, ho, wo))
    for i in range(r):
        for j in range(s):
            y += np.einsum("nchw,kc->nkhw", xp[:, :, i : i + ho, j : j + wo], w[:, :, i, j])
    return y


def conv_bwd_data(dy: np.ndarray, w: np.ndarray, pad: int, x_shape: tuple[int, ...]) -> np.ndarray:
    n, c, h, wd = x_shape
    _, _, r, s = w.shape
    ho, wo = dy.shape[2:]
    dxp = np.zeros((n, c, h + 2 * pad, wd + 2 * pad))
    for i in range(r):
        for j in range(s):
            dxp[:, :, i : i + ho, j : j + wo] += np.einsum("nkhw,kc->nchw", dy, w[:, :, i, j])
    return dxp[:, :, pad : pad + h, pad : pad + wd]


def conv_bwd_filter(x: np.ndarray, dy: np.ndarray, pad: int, w_shape: tuple[int, ...]) -> np.ndarray:
    _, _, r, s = w_shape
    ho, wo = dy.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dw = np.zeros(w_shape)
    for i in range(r):
        for j in range(s):
            dw[:, :, i, j] = np.einsum("nchw,nkhw->kc", xp[:, :, i : i + ho, j : j + wo], dy)
    return dw


def windows(x: np.ndarray, k: int, stride: int) -> tuple[np.ndarray, int, int]:
    n, c, h, w = x.shape
    ho, wo = (h - k) // stride + 1, (w - k) // stride + 1
    win = np.empty((n, c, ho, wo, k * k))
    for i in range(k):
        for j in range(k):
            win[..., i * k + j] = x[:, :, i : i + stride * ho : stride, j : j + stride * wo : stride]
    return win, ho, wo


def pool_fwd(x: np.ndarray, mode: int, k: int, stride: int) -> np.ndarray:
    win, _, _ = windows(x, k, stride)
    return win.max(-1) if mode == POOL_MAX else win.mean(-1)


def pool_bwd(x: np.ndarray, dy: np.ndarray, mode: int, k: int, stride: int) -> np.ndarray:
    win, ho, wo = windows(x, k, stride)
    if mode == POOL_MAX:
        share = (win == win.max(-1, keepdims=True)).astype(np.float64)
    else:
        share = np.full(win.shape, 1.0 / (k * k))
    dx = np.zeros(x.shape)
    grad = share * dy[..., None]
    for i in range(k):
        for j in range(k):
            dx[:, :, i : i + stride * ho : stride, j : j + stride * wo : stride] += grad[..., i * k + j]
    return dx


ACT: dict[int, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    RELU: (lambda x: np.maximum(x, 0), lambda x, y: (x > 0).astype(np.float64)),
    SIGMOID: (lambda x: 1 / (1 + np.exp(-x)), lambda x, y: y * (1 - y)),
    TANH: (np.tanh, lambda x, y: 1 - y * y),
}


def check(layer: Layer, dtype: int, results: list[dict[str, Any]]) -> None:
    np_t = np.float64 if dtype == DOUBLE else np.float32
    one, zero = scalar(dtype, 1.0), scalar(dtype, 0.0)
    label = f"gen{layer.gen}-{'float64' if dtype == DOUBLE else 'float32'}"

    def record(op: str, got: np.ndarray, want: np.ndarray, extra: dict[str, Any] | None = None) -> None:
        err = rel(got, want)
        results.append(
            {
                "case": label,
                "op": op,
                "max_rel_error": err,
                "tolerance": TOLERANCE[dtype],
                "ok": err <= TOLERANCE[dtype],
                **(extra or {}),
            }
        )
        print(f"{label:14} {op:26} max rel error {err:.3e}  {'ok' if err <= TOLERANCE[dtype] else 'FAIL'}", flush=True)

    # Convolution: Mocha's convolution.jl sequence for each of the example's three layers.
    n, pad = 100, 2
    for c, k, hw in ((3, 32, 32), (32, 32, 16), (32, 64, 8)):
        x = RNG.standard_normal((n, c, hw, hw)).astype(np_t)
        w = (RNG.standard_normal((k, c, 5, 5)) / np.sqrt(25 * c)).astype(np_t)
        b = RNG.standard_normal((1, k, 1, 1)).astype(np_t)
        dy = RNG.standard_normal((n, k, hw, hw)).astype(np_t)
        xd, wd_, bd, dyd = dev(x), dev(w), dev(b), dev(dy)
        yd, dxd, dwd, dbd = (torch.zeros_like(t) for t in (dyd, xd, wd_, bd))
        x_desc = layer.tensor(dtype, n, c, hw, hw)
        y_desc = layer.tensor(dtype, n, k, hw, hw)
        b_desc = layer.tensor(dtype, 1, k, 1, 1)
        w_desc = layer.filter(dtype, k, c, 5, 5)
        conv = layer.convolution(pad)
        algo, ws_size = layer.forward_algorithm(x_desc, w_desc, conv, y_desc)
        ws = torch.empty(max(ws_size, 1), dtype=torch.uint8, device="cuda")
        layer.call(
            "cudnnConvolutionForward",
            layer.handle,
            one,
            x_desc,
            xd.data_ptr(),
            w_desc,
            wd_.data_ptr(),
            conv,
            algo,
            ws.data_ptr(),
            ws_size,
            zero,
            y_desc,
            yd.data_ptr(),
        )
        want = conv_fwd(x.astype(np.float64), w.astype(np.float64), pad)
        record(f"conv{c}->{k} forward", host(yd), want, {"algo": algo, "workspace": ws_size})
        layer.call("cudnnAddTensor", layer.handle, one, b_desc, bd.data_ptr(), one, y_desc, yd.data_ptr())
        record(f"conv{c}->{k} add tensor", host(yd), want + b)
        layer.call(
            "cudnnConvolutionBackwardBias", layer.handle, one, y_desc, dyd.data_ptr(), zero, b_desc, dbd.data_ptr()
        )
        record(f"conv{c}->{k} backward bias", host(dbd), dy.astype(np.float64).sum((0, 2, 3)).reshape(b.shape))
        layer.backward_filter(
            conv, scale=(one, zero), x=(x_desc, xd.data_ptr()), dy=(y_desc, dyd.data_ptr()), dw=(w_desc, dwd.data_ptr())
        )
        record(
            f"conv{c}->{k} backward filter",
            host(dwd),
            conv_bwd_filter(x.astype(np.float64), dy.astype(np.float64), pad, w.shape),
        )
        layer.backward_data(
            conv,
            scale=(one, zero),
            w=(w_desc, wd_.data_ptr()),
            dy=(y_desc, dyd.data_ptr()),
            dx=(x_desc, dxd.data_ptr()),
        )
        record(
            f"conv{c}->{k} backward data",
            host(dxd),
            conv_bwd_data(dy.astype(np.float64), w.astype(np.float64), pad, x.shape),
        )

    # Pooling: pooling.jl, max and average, 3x3 stride 2 on 32x32x32.
    x = RNG.standard_normal((n, 32, 32, 32)).astype(np_t)
    for mode, name in ((POOL_MAX, "max"), (POOL_AVG, "average")):
        pool = layer.pooling(mode, 3, 2)
        ho = (32 - 3) // 2 + 1
        dy = RNG.standard_normal((n, 32, ho, ho)).astype(np_t)
        xd, dyd = dev(x), dev(dy)
        yd, dxd = torch.zeros_like(dyd), torch.zeros_like(xd)
        x_desc, y_desc = layer.tensor(dtype, n, 32, 32, 32), layer.tensor(dtype, n, 32, ho, ho)
        layer.call("cudnnPoolingForward", layer.handle, pool, one, x_desc, xd.data_ptr(), zero, y_desc, yd.data_ptr())
        record(f"{name} pooling forward", host(yd), pool_fwd(x.astype(np.float64), mode, 3, 2))
        layer.call(
            "cudnnPoolingBackward",
            layer.handle,
            pool,
            one,
            y_desc,
            yd.data_ptr(),
            y_desc,
            dyd.data_ptr(),
            x_desc,
            xd.data_ptr(),
            zero,
            x_desc,
            dxd.data_ptr(),
        )
        record(f"{name} pooling backward", host(dxd), pool_bwd(x.astype(np.float64), dy.astype(np.float64), mode, 3, 2))

    # Softmax: softmax.jl's (1, dim_sp, dim_prob, dim_num) descriptor, ACCURATE over channels.
    x = RNG.standard_normal((n, 10, 1, 1)).astype(np_t) * 4
    dy = RNG.standard_normal((n, 10, 1, 1)).astype(np_t)
    xd, dyd = dev(x), dev(dy)
    yd, dxd = torch.zeros_like(xd), torch.zeros_like(xd)
    desc = layer.tensor(dtype, n, 10, 1, 1)
    layer.call(
        "cudnnSoftmaxForward",
        layer.handle,
        SOFTMAX_ACCURATE,
        SOFTMAX_CHANNEL,
        one,
        desc,
        xd.data_ptr(),
        zero,
        desc,
        yd.data_ptr(),
    )
    e = np.exp(x.astype(np.float64) - x.astype(np.float64).max(1, keepdims=True))
    y = e / e.sum(1, keepdims=True)
    record("softmax forward", host(yd), y)
    layer.call(
        "cudnnSoftmaxBackward",
        layer.handle,
        SOFTMAX_ACCURATE,
        SOFTMAX_CHANNEL,
        one,
        desc,
        yd.data_ptr(),
        desc,
        dyd.data_ptr(),
        zero,
        desc,
        dxd.data_ptr(),
    )
    record("softmax backward", host(dxd), y * (dy - (y * dy).sum(1, keepdims=True)))

    # Activations through the R1-style 6/10-argument calls Mocha binds.
    x = RNG.standard_normal((n, 32, 8, 8)).astype(np_t)
    dy = RNG.standard_normal((n, 32, 8, 8)).astype(np_t)
    desc = layer.tensor(dtype, n, 32, 8, 8)
    for mode, name in ((RELU, "relu"), (SIGMOID, "sigmoid"), (TANH, "tanh")):
        xd, dyd = dev(x), dev(dy)
        yd, dxd = torch.zeros_like(xd), torch.zeros_like(xd)
        f, df = ACT[mode]
        y = f(x.astype(np.float64))
        layer.call("cudnnActivationForward", layer.handle, mode, desc, xd.data_ptr(), desc, yd.data_ptr())
        record(f"{name} forward", host(yd), y)
        layer.call(
            "cudnnActivationBackward",
            layer.handle,
            mode,
            desc,
            yd.data_ptr(),
            desc,
            dyd.data_ptr(),
            desc,
            xd.data_ptr(),
            desc,
            dxd.data_ptr(),
        )
        record(f"{name} backward", host(dxd), dy * df(x.astype(np.float64), y))

    # Transform: NCHW into an NHWC-strided descriptor (the R1 call, alpha 1, beta 0).
    x = RNG.standard_normal((n, 3, 32, 32)).astype(np_t)
    xd = dev(x)
    out = torch.zeros_like(xd)
    src = layer.tensor(dtype, n, 3, 32, 32)
    dst = layer.tensor(dtype, n, 3, 32, 32, strides=(32 * 32 * 3, 1, 32 * 3, 3))
    layer.call("cudnnTransformTensor4d", layer.handle, src, xd.data_ptr(), dst, out.data_ptr())
    record("transform tensor", host(out).reshape(n, 32, 32, 3), x.astype(np.float64).transpose(0, 2, 3, 1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer4", required=True)
    parser.add_argument("--layer5", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.cuda.init()
    results: list[dict[str, Any]] = []
    layers = {}
    for gen, path in ((4, args.layer4), (5, args.layer5)):
        layers[gen] = Layer(path, gen)
        for dtype in (FLOAT, DOUBLE):
            try:
                check(layers[gen], dtype, results)
            except CudnnError as error:  # a status other than success: recorded, and the rest still runs
                case = f"gen{gen}-{'float64' if dtype == DOUBLE else 'float32'}"
                results.append({"case": case, "op": "stopped at", "error": str(error), "ok": False})
                print(f"{case:14} stopped: {error}", flush=True)
    summary = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "gpu": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "layer": {gen: layer.info() for gen, layer in layers.items()},
        "ops": len(results),
        "failed": [r for r in results if not r["ok"]],
        "results": results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cudnn_compat_check.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"{len(results) - len(summary['failed'])} of {len(results)} within tolerance")
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
