"""Mocha's cuDNN call sequences, through the compatibility layer, from Python (ctypes).

Every entry point gets the argument types of Mocha's `ccall` for its generation, read from
the table roles/mocha_cifar/vars/cudnn_compat.yml (ctypes then converts addresses, Int and
Csize_t as Julia did); the methods below call them in the order Mocha's src/cuda/layers/*.jl
do. The layer forwards to the cuDNN 9 that MOCHA_CUDNN_COMPAT_LIBCUDNN names; on a GPU, device
memory comes from torch (tests/gpu/cudnn_compat_check.py, bench/cudnn_compat_bench.py). In CI
the same sequences run against the test double tests/doubles/cudnn9_double, which computes nothing.
"""

from __future__ import annotations

import ctypes
import re
from ctypes import POINTER, byref, c_char_p, c_double, c_float, c_int, c_int64, c_size_t, c_void_p
from pathlib import Path
from typing import Any

TABLE = Path(__file__).resolve().parents[1] / "roles" / "mocha_cifar" / "vars" / "cudnn_compat.yml"
# Julia ccall types -> ctypes (64-bit Julia: Int is 64 bits).
CTYPES: dict[str, Any] = {"Cint": c_int, "Int": c_int64, "Csize_t": c_size_t}


def signatures(gen: int, table: Path = TABLE) -> dict[str, list[str]]:
    """{entry point: Mocha's ccall argument types} for one generation, from the table's rows.
    A regex rather than YAML: the GPU machine's Python need not have PyYAML."""
    rows = re.findall(r"name: (\w+),\s+gens: \[([0-9, ]+)\],\s+ccall: \[([^\]]*)\]", table.read_text())
    return {name: re.findall(r'"([^"]+)"', ccall) for name, gens, ccall in rows if str(gen) in gens.split(", ")}


FLOAT, DOUBLE = 0, 1
NCHW = 0
CROSS_CORRELATION = 1
PREFER_FASTEST = 1
POOL_MAX, POOL_AVG = 0, 1
SOFTMAX_ACCURATE, SOFTMAX_CHANNEL = 1, 1
SIGMOID, RELU, TANH = 0, 1, 2


class CudnnError(RuntimeError):
    pass


class Layer:
    """The layer's libcudnn.so for one generation (4: Mocha v0.1.2/v0.2.0, 5: v0.3.x)."""

    def __init__(self, path: str, gen: int) -> None:
        self.lib = ctypes.CDLL(path)
        self.gen = gen
        for name, types in signatures(gen).items():
            if hasattr(self.lib, name):
                getattr(self.lib, name).argtypes = [CTYPES.get(t, c_void_p) for t in types]
        self.lib.mochaCudnnCompatInfo.argtypes = [POINTER(c_int), POINTER(c_size_t), c_char_p, c_size_t]
        self.handle = c_void_p()
        self.call("cudnnCreate", byref(self.handle))

    def call(self, name: str, *args: Any) -> None:
        status = getattr(self.lib, name)(*args)
        if status != 0:
            raise CudnnError(f"{name} returned cuDNN status {status}")

    def info(self) -> dict[str, Any]:
        gen, version, path = c_int(), c_size_t(), ctypes.create_string_buffer(512)
        self.call("mochaCudnnCompatInfo", byref(gen), byref(version), path, c_size_t(512))
        return {"generation": gen.value, "cudnn_version": version.value, "forwards_to": path.value.decode()}

    # -- descriptors, as CuDNN.create_* in Mocha's cudnn.jl --
    def tensor(self, dtype: int, n: int, c: int, h: int, w: int, *, strides: tuple[int, ...] | None = None) -> c_void_p:
        desc = c_void_p()
        self.call("cudnnCreateTensorDescriptor", byref(desc))
        if strides is None:
            self.call("cudnnSetTensor4dDescriptor", desc, c_int(NCHW), c_int(dtype), n, c, h, w)
        else:
            self.call("cudnnSetTensor4dDescriptorEx", desc, c_int(dtype), n, c, h, w, *strides)
        return desc

    def filter(self, dtype: int, k: int, c: int, h: int, w: int) -> c_void_p:
        desc = c_void_p()
        self.call("cudnnCreateFilterDescriptor", byref(desc))
        if self.gen == 4:
            self.call("cudnnSetFilter4dDescriptor", desc, dtype, k, c, h, w)
        else:
            self.call("cudnnSetFilter4dDescriptor", desc, dtype, NCHW, k, c, h, w)
        return desc

    def convolution(self, pad: int, stride: int = 1) -> c_void_p:
        desc = c_void_p()
        self.call("cudnnCreateConvolutionDescriptor", byref(desc))
        self.call("cudnnSetConvolution2dDescriptor", desc, pad, pad, stride, stride, 1, 1, CROSS_CORRELATION)
        return desc

    def pooling(self, mode: int, kernel: int, stride: int, pad: int = 0) -> c_void_p:
        desc = c_void_p()
        self.call("cudnnCreatePoolingDescriptor", byref(desc))
        if self.gen == 4:
            self.call("cudnnSetPooling2dDescriptor", desc, mode, kernel, kernel, pad, pad, stride, stride)
        else:
            self.call("cudnnSetPooling2dDescriptor", desc, mode, 0, kernel, kernel, pad, pad, stride, stride)
        return desc

    # -- operations --
    def forward_algorithm(self, x: c_void_p, w: c_void_p, conv: c_void_p, y: c_void_p) -> tuple[int, int]:
        """get_convolution_forward_algorithm(PREFER_FASTEST, 0), then its workspace size."""
        algo, size = c_int64(-1), c_size_t()
        self.call("cudnnGetConvolutionForwardAlgorithm", self.handle, x, w, conv, y, PREFER_FASTEST, 0, byref(algo))
        self.call("cudnnGetConvolutionForwardWorkspaceSize", self.handle, x, w, conv, y, algo.value, byref(size))
        return algo.value, size.value

    def backward_filter(self, conv: c_void_p, *, scale: tuple[Any, Any], x: Operand, dy: Operand, dw: Operand) -> None:
        """convolution_backward_filter: the _v2 call in v0.1.2/v0.2.0, algorithm 0 without workspace in v0.3.x."""
        head, tail = [self.handle, scale[0], *_op(x), *_op(dy), conv], [scale[1], *_op(dw)]
        if self.gen == 4:
            self.call("cudnnConvolutionBackwardFilter_v2", *head, *tail)
        else:
            self.call("cudnnConvolutionBackwardFilter", *head, c_int(0), None, c_size_t(0), *tail)

    def backward_data(self, conv: c_void_p, *, scale: tuple[Any, Any], w: Operand, dy: Operand, dx: Operand) -> None:
        """convolution_backward_data, likewise."""
        head, tail = [self.handle, scale[0], *_op(w), *_op(dy), conv], [scale[1], *_op(dx)]
        if self.gen == 4:
            self.call("cudnnConvolutionBackwardData_v2", *head, *tail)
        else:
            self.call("cudnnConvolutionBackwardData", *head, c_int(0), None, c_size_t(0), *tail)


Operand = tuple[c_void_p, int]  # (descriptor, device address)


def _op(operand: Operand) -> tuple[c_void_p, c_void_p]:
    return operand[0], c_void_p(operand[1])


def scalar(dtype: int, value: float) -> Any:
    """Mocha passes alpha/beta as T[alpha], a pointer to the data's own type."""
    return byref(c_double(value) if dtype == DOUBLE else c_float(value))
