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

The same stack is also run natively in torch (conv2d, pooling, ReLU, linear, cross-entropy and
autograd over the same cuDNN 9) in the same process, so the layer's cost is read as a ratio from
one run. Reported beside: the tutorial's K80 (about 3 s per 200 iterations) and Mocha's documented
GPU figure (5-6 s), which are other machines and other software.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.cudnn_compat_mocha import FLOAT, POOL_AVG, POOL_MAX, RELU, SOFTMAX_ACCURATE, SOFTMAX_CHANNEL, Layer, scalar

BATCH, ITERATIONS, WARMUP = 100, 200, 20
REFERENCES_S = {"tutorial K80 (Mocha)": 3.0, "Mocha docs GPU": "5-6"}


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
        if i:  # the data layer has no gradient blob, so Mocha's convolution.jl skips conv1's
            dx = conv[i - 1]["dP"]
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


def torch_stack() -> Any:
    """The same stack in torch, for a same-machine baseline: one training step over its own parameters."""
    shapes = ((32, 3), (32, 32), (64, 32))
    params = [
        t.requires_grad_()
        for k, c in shapes
        for t in (torch.randn(k, c, 5, 5, device="cuda") * 0.01, torch.zeros(k, device="cuda"))
    ]
    ip_w = (torch.randn(10, 64 * 4 * 4, device="cuda") * 0.01).requires_grad_()
    params.append(ip_w)
    moments = [torch.zeros_like(t) for t in params]
    host, labels = torch.randn(BATCH, 3, 32, 32).pin_memory(), torch.randint(0, 10, (BATCH,), device="cuda")

    def step() -> None:
        x = host.to("cuda", non_blocking=True)
        x = F.relu(F.max_pool2d(F.conv2d(x, params[0], params[1], padding=2), 3, 2, padding=1))
        x = F.avg_pool2d(F.relu(F.conv2d(x, params[2], params[3], padding=2)), 3, 2, padding=1)
        x = F.avg_pool2d(F.relu(F.conv2d(x, params[4], params[5], padding=2)), 3, 2, padding=1)
        F.cross_entropy(x.reshape(BATCH, -1) @ ip_w.t(), labels).backward()
        with torch.no_grad():
            for t, m in zip(params, moments, strict=True):
                m.mul_(0.9).add_(t.grad, alpha=-0.001)
                t.add_(m)
                t.grad = None

    return step


def timed(step: Any) -> float:
    """Seconds per 200 iterations after the warm-up."""
    for _ in range(WARMUP):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(ITERATIONS):
        step()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) * 200 / ITERATIONS


def gpu_busy_seconds(step: Any, iterations: int = 50) -> float | str:
    """Seconds per 200 iterations that the GPU spent in kernels and copies (the profiler's sum),
    to tell device time from host time; the profiler's error text where it cannot run."""
    try:
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
            for _ in range(iterations):
                step()
            torch.cuda.synchronize()
        busy_us = sum(
            getattr(e, "self_device_time_total", None) or getattr(e, "self_cuda_time_total", 0)
            for e in prof.key_averages()
        )
        return round(busy_us / 1e6 * 200 / iterations, 3)
    except Exception as error:  # a missing profiler must not lose the timings
        return f"profiler failed: {error!r}"[:300]


def host_microseconds_per_call(lib: Layer, net: dict[str, Any], iterations: int = 50) -> dict[str, float]:
    """Host time of each layer entry point (ctypes, the layer, cuDNN's launch), the costliest first."""
    spent: dict[str, list[float]] = {}
    plain = lib.call

    def timed_call(name: str, *args: Any) -> None:
        start = time.perf_counter()
        plain(name, *args)
        spent.setdefault(name, []).append(time.perf_counter() - start)

    lib.call = timed_call  # type: ignore[method-assign]
    try:
        for _ in range(iterations):
            step(lib, net)
        torch.cuda.synchronize()
    finally:
        lib.call = plain  # type: ignore[method-assign]
    per_call = {name: 1e6 * sum(t) / len(t) for name, t in spent.items()}
    return {name: round(us, 1) for name, us in sorted(per_call.items(), key=lambda kv: -kv[1] * len(spent[kv[0]]))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", required=True)
    parser.add_argument("--gen", type=int, choices=(4, 5), default=4)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.cuda.init()
    lib = Layer(args.layer, args.gen)
    net = build(lib)
    torch.backends.cudnn.benchmark = False  # torch's heuristics pick, as the layer's query does
    torch.backends.cudnn.allow_tf32 = False  # the layer asks cuDNN for FMA math only
    torch_step = torch_stack()
    # Alternated, twice each, so that clock ramp-up does not favour whichever runs second.
    layer_s, torch_s = [], []
    for _ in range(2):
        layer_s.append(timed(lambda: step(lib, net)))
        torch_s.append(timed(torch_step))
    result = {
        "layer_over_torch": round(min(layer_s) / min(torch_s), 2),
        "seconds_per_200_iterations": round(min(layer_s), 3),
        "torch_native_seconds_per_200_iterations": round(min(torch_s), 3),
        "runs_seconds": {"layer": [round(t, 3) for t in layer_s], "torch": [round(t, 3) for t in torch_s]},
        "gpu_busy_seconds_per_200_iterations": {
            "layer": gpu_busy_seconds(lambda: step(lib, net)),
            "torch": gpu_busy_seconds(torch_step),
        },
        "layer_host_microseconds_per_call": host_microseconds_per_call(lib, net),
        "gpu": torch.cuda.get_device_name(0),
        "layer": lib.info(),
        "forward_algorithms": [s["algo"] for s in net["conv"]],
        "references_seconds_per_200": REFERENCES_S,
        "not_modelled": ["LRN (Mocha's own kernels)", "HDF5 reading"],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"cudnn_compat_bench-gen{args.gen}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
