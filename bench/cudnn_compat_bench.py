"""Seconds per 200 training iterations of the CIFAR-10 example's layer stack, with every
cuDNN call going through the compatibility layer with Mocha's signatures. Needs a GPU:

    python3 bench/cudnn_compat_bench.py --layer DIR/libcudnn.so --gen 4 --out OUT

The stack is examples/cifar10/cifar10.jl's (Mocha v0.2.0): conv1 5x5x32 pad 2, max pool 3x3/2
with ReLU, conv2 5x5x32 + ReLU, average pool, conv3 5x5x64 + ReLU, average pool, one inner
product to 10, softmax; batch 100, SGD with momentum 0.9. Convolutions, pooling, bias, ReLU and
softmax run through the layer; the inner product, the loss gradient, the parameter update and
the batch upload use torch, standing in for Mocha's cuBLAS calls and own kernels. Not modelled:
the two LRN layers (Mocha's own kernels, no cuDNN) and HDF5 reading. Pooling pads by 1 so that
cuDNN's floor rounding gives Mocha's ceil-rounded sizes (32 -> 16 -> 8 -> 4).

Reported beside: the tutorial's K80 (about 3 s per 200 iterations), Mocha's documented GPU figure
(5-6 s) and torch + cuDNN 9 on an H200 (0.30 s, measured once on 2026-11-26 in a session outside
this repository; not reproduced by a test here).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.cudnn_compat_mocha import FLOAT, POOL_AVG, POOL_MAX, RELU, SOFTMAX_ACCURATE, SOFTMAX_CHANNEL, Layer, scalar

BATCH, ITERATIONS, WARMUP = 100, 200, 20
REFERENCES_S = {"tutorial K80 (Mocha)": 3.0, "Mocha docs GPU": "5-6", "torch + cuDNN 9, H200": 0.30}


def p(t: torch.Tensor) -> int:
    return int(t.data_ptr())


def build(lib: Layer) -> dict[str, Any]:
    """Descriptors, parameters and buffers, as Mocha's layers set them up once."""
    conv: list[dict[str, Any]] = []
    for c, k, hw, mode in ((3, 32, 32, POOL_MAX), (32, 32, 16, POOL_AVG), (32, 64, 8, POOL_AVG)):
        s: dict[str, Any] = {"c": c, "k": k}
        s["x"], s["y"] = lib.tensor(FLOAT, BATCH, c, hw, hw), lib.tensor(FLOAT, BATCH, k, hw, hw)
        s["w"], s["b"] = lib.filter(FLOAT, k, c, 5, 5), lib.tensor(FLOAT, 1, k, 1, 1)
        s["conv"], s["pool"] = lib.convolution(2), lib.pooling(mode, 3, 2, pad=1)
        s["p"] = lib.tensor(FLOAT, BATCH, k, hw // 2, hw // 2)
        s["algo"], s["ws_size"] = lib.forward_algorithm(s["x"], s["w"], s["conv"], s["y"])
        s["ws"] = torch.empty(max(s["ws_size"], 1), dtype=torch.uint8, device="cuda")
        s["W"], s["B"] = torch.randn(k, c, 5, 5, device="cuda") * 0.01, torch.zeros(1, k, 1, 1, device="cuda")
        for name in ("W", "B"):
            s["d" + name], s["m" + name] = torch.zeros_like(s[name]), torch.zeros_like(s[name])
        s["Y"] = torch.empty(BATCH, k, hw, hw, device="cuda")
        s["dY"] = torch.empty_like(s["Y"])
        s["P"] = torch.empty(BATCH, k, hw // 2, hw // 2, device="cuda")
        s["dP"] = torch.empty_like(s["P"])
        conv.append(s)
    ip_w = torch.randn(10, 64 * 4 * 4, device="cuda") * 0.01
    return {
        "conv": conv,
        "ip": {"W": ip_w, "dW": torch.zeros_like(ip_w), "mW": torch.zeros_like(ip_w)},
        "logits": torch.empty(BATCH, 10, device="cuda"),
        "probs": torch.empty(BATCH, 10, device="cuda"),
        "sm": lib.tensor(FLOAT, BATCH, 10, 1, 1),
        "host": torch.randn(BATCH, 3, 32, 32).pin_memory(),
        "labels": torch.randint(0, 10, (BATCH,), device="cuda"),
        "data": torch.empty(BATCH, 3, 32, 32, device="cuda"),
        "dx0": torch.empty(BATCH, 3, 32, 32, device="cuda"),
    }


def forward(lib: Layer, net: dict[str, Any]) -> torch.Tensor:
    """conv + bias, ReLU (after pooling for pool1, as cifar10.jl), pooling; returns the last pooled output."""
    one, zero = scalar(FLOAT, 1.0), scalar(FLOAT, 0.0)
    net["data"].copy_(net["host"], non_blocking=True)
    x = net["data"]
    for s in net["conv"]:
        lib.call(
            "cudnnConvolutionForward",
            lib.handle,
            one,
            s["x"],
            p(x),
            s["w"],
            p(s["W"]),
            s["conv"],
            s["algo"],
            p(s["ws"]),
            s["ws_size"],
            zero,
            s["y"],
            p(s["Y"]),
        )
        lib.call("cudnnAddTensor", lib.handle, one, s["b"], p(s["B"]), one, s["y"], p(s["Y"]))
        if s["c"] != 3:
            lib.call("cudnnActivationForward", lib.handle, RELU, s["y"], p(s["Y"]), s["y"], p(s["Y"]))
        lib.call("cudnnPoolingForward", lib.handle, s["pool"], one, s["y"], p(s["Y"]), zero, s["p"], p(s["P"]))
        if s["c"] == 3:
            lib.call("cudnnActivationForward", lib.handle, RELU, s["p"], p(s["P"]), s["p"], p(s["P"]))
        s["in"] = x
        x = s["P"]
    return x


def backward(lib: Layer, net: dict[str, Any], dx: torch.Tensor) -> None:
    one, zero = scalar(FLOAT, 1.0), scalar(FLOAT, 0.0)
    conv = net["conv"]
    for i in reversed(range(len(conv))):
        s = conv[i]
        if dx.data_ptr() != s["dP"].data_ptr():
            s["dP"].copy_(dx)
        if s["c"] == 3:
            lib.call(
                "cudnnActivationBackward",
                lib.handle,
                RELU,
                s["p"],
                p(s["P"]),
                s["p"],
                p(s["dP"]),
                s["p"],
                p(s["P"]),
                s["p"],
                p(s["dP"]),
            )
        lib.call(
            "cudnnPoolingBackward",
            lib.handle,
            s["pool"],
            one,
            s["p"],
            p(s["P"]),
            s["p"],
            p(s["dP"]),
            s["y"],
            p(s["Y"]),
            zero,
            s["y"],
            p(s["dY"]),
        )
        if s["c"] != 3:
            lib.call(
                "cudnnActivationBackward",
                lib.handle,
                RELU,
                s["y"],
                p(s["Y"]),
                s["y"],
                p(s["dY"]),
                s["y"],
                p(s["Y"]),
                s["y"],
                p(s["dY"]),
            )
        lib.call("cudnnConvolutionBackwardBias", lib.handle, one, s["y"], p(s["dY"]), zero, s["b"], p(s["dB"]))
        lib.backward_filter(
            s["conv"], scale=(one, zero), x=(s["x"], p(s["in"])), dy=(s["y"], p(s["dY"])), dw=(s["w"], p(s["dW"]))
        )
        dx = conv[i - 1]["dP"] if i else net["dx0"]
        lib.backward_data(
            s["conv"], scale=(one, zero), w=(s["w"], p(s["W"])), dy=(s["y"], p(s["dY"])), dx=(s["x"], p(dx))
        )


def step(lib: Layer, net: dict[str, Any]) -> None:
    """One training iteration: forward, softmax loss gradient, backward, SGD (momentum 0.9, rate 0.001)."""
    one, zero = scalar(FLOAT, 1.0), scalar(FLOAT, 0.0)
    x = forward(lib, net)
    flat, ip = x.reshape(BATCH, -1), net["ip"]
    torch.mm(flat, ip["W"].t(), out=net["logits"])
    lib.call(
        "cudnnSoftmaxForward",
        lib.handle,
        SOFTMAX_ACCURATE,
        SOFTMAX_CHANNEL,
        one,
        net["sm"],
        p(net["logits"]),
        zero,
        net["sm"],
        p(net["probs"]),
    )
    grad = net["probs"].clone()
    grad[torch.arange(BATCH, device="cuda"), net["labels"]] -= 1
    grad /= BATCH
    torch.mm(grad.t(), flat, out=ip["dW"])
    backward(lib, net, torch.mm(grad, ip["W"]).reshape(x.shape))
    for params in [*net["conv"], ip]:
        for name in ("W", "B") if "B" in params else ("W",):
            params["m" + name].mul_(0.9).add_(params["d" + name], alpha=-0.001)
            params[name].add_(params["m" + name])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", required=True)
    parser.add_argument("--gen", type=int, choices=(4, 5), default=4)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.cuda.init()
    lib = Layer(args.layer, args.gen)
    net = build(lib)
    for _ in range(WARMUP):
        step(lib, net)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(ITERATIONS):
        step(lib, net)
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    result = {
        "seconds_per_200_iterations": round(seconds * 200 / ITERATIONS, 3),
        "gpu": torch.cuda.get_device_name(0),
        "layer": lib.info(),
        "forward_algorithms": [s["algo"] for s in net["conv"]],
        "references_seconds_per_200": REFERENCES_S,
        "not_modelled": ["LRN (Mocha's own kernels)", "HDF5 reading"],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cudnn_compat_bench.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
