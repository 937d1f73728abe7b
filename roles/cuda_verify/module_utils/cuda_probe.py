"""Parsers for nvidia-smi and nvcc output, and the compatibility verdicts.

Pure Python (3.8+, no Ansible imports), so the role's module ships it to the host
and pytest imports it straight from the role.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

DRIVER_UNREACHABLE = "couldn't communicate with the NVIDIA driver"
_RELEASE_RE = re.compile(r"release (\d+\.\d+), V(\d+(?:\.\d+)*)")
_HEADER_CUDA_RE = re.compile(r"CUDA Version:\s*(\d+\.\d+)")
_HEADER_DRIVER_RE = re.compile(r"Driver Version:\s*([\d.]+)")
_MIB_RE = re.compile(r"(\d+)")


def version_tuple(text):
    """'580.159.04' -> (580, 159, 4); '' or None -> ()."""
    if not text:
        return ()
    return tuple(int(p) for p in re.findall(r"\d+", str(text)))


def parse_query_csv(text):
    """Rows of `--query-gpu=name,driver_version,memory.total,compute_cap,pci.bus_id --format=csv,noheader[,nounits]`."""
    gpus = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.lower().startswith("name,"):
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 5:
            raise ValueError(f"unexpected nvidia-smi query line: {line!r}")
        name, driver, memory, cap, bus = parts
        mem = _MIB_RE.search(memory)
        gpus.append(
            {
                "index": len(gpus),
                "name": name,
                "driver_version": driver,
                "memory_mib": int(mem.group(1)) if mem else None,
                "compute_cap": cap if re.match(r"^\d+\.\d+$", cap) else None,
                "pci_bus_id": bus,
            }
        )
    return gpus


def parse_smi_xml(text):
    """`nvidia-smi -q -x`: driver, CUDA version and GPUs (no compute capability in it)."""
    root = ET.fromstring(text)  # noqa: S314 (local tool output)
    driver = (root.findtext("driver_version") or "").strip()
    gpus = []
    for gpu in root.findall("gpu"):
        mem = _MIB_RE.search(gpu.findtext("fb_memory_usage/total") or "")
        gpus.append(
            {
                "index": len(gpus),
                "name": (gpu.findtext("product_name") or "").strip(),
                "driver_version": driver,
                "memory_mib": int(mem.group(1)) if mem else None,
                "compute_cap": None,
                "pci_bus_id": (gpu.findtext("pci/pci_bus_id") or gpu.get("id") or "").strip(),
            }
        )
    return {
        "driver_version": driver,
        "cuda_version": (root.findtext("cuda_version") or "").strip() or None,
        "gpus": gpus,
    }


def parse_smi_header(text):
    """The plain `nvidia-smi` banner: driver version and the CUDA version it supports."""
    cuda = _HEADER_CUDA_RE.search(text)
    driver = _HEADER_DRIVER_RE.search(text)
    return {
        "cuda_version": cuda.group(1) if cuda else None,
        "driver_version": driver.group(1) if driver else None,
    }


def parse_nvcc_version(text):
    m = _RELEASE_RE.search(text or "")
    if not m:
        return None
    return {"release": m.group(1), "version": m.group(2)}


def parse_cudnn_header(text):
    """cudnn_version.h (cuDNN >= 8) or cudnn.h (older) -> '9.1.0'."""
    found = {}
    for key in ("CUDNN_MAJOR", "CUDNN_MINOR", "CUDNN_PATCHLEVEL"):
        m = re.search(rf"#define\s+{key}\s+(\d+)", text or "")
        if m:
            found[key] = m.group(1)
    if "CUDNN_MAJOR" not in found:
        return None
    return ".".join(found.get(k, "0") for k in ("CUDNN_MAJOR", "CUDNN_MINOR", "CUDNN_PATCHLEVEL"))


def compute_cap_from_name(name, table):
    """Old drivers cannot report compute_cap: look it up by product name."""
    for entry in table:
        if re.search(entry["pattern"], name, re.IGNORECASE):
            return entry["compute_cap"]
    return None


def sm_number(cap):
    """'9.0' -> 90, '3.7' -> 37."""
    major, minor = str(cap).split(".", 1)
    return int(major) * 10 + int(minor)


def _toolkit_entry(release, table):
    rel = version_tuple(release)[:2]
    for entry in table:
        if version_tuple(entry["min"])[:2] <= rel and (
            not entry.get("below") or rel < version_tuple(entry["below"])[:2]
        ):
            return entry
    return None


def _in_range(version, spec):
    """spec: {'min': '4', 'below': '5'} with either side optional."""
    v = version_tuple(version)
    if spec.get("min") and v < version_tuple(spec["min"]):
        return False
    return not (spec.get("below") and v >= version_tuple(spec["below"]))


def _check_driver(driver, options, add):
    gpus = driver.get("gpus") or []
    if not driver.get("present"):
        add(
            "driver",
            "nvidia-smi was not found, so no NVIDIA driver is installed",
            "install the NVIDIA driver (or launch a Deep Learning AMI, which has one)",
        )
        return
    if driver.get("error"):
        add(
            "driver",
            f"nvidia-smi failed: {driver['error']}",
            "load the driver: reboot after installing it, or `sudo modprobe nvidia`; check `dmesg | grep -i nvidia`",
        )
        return
    min_gpus = int(options.get("min_gpus", 1))
    if len(gpus) < min_gpus:
        add(
            "gpu_count",
            f"found {len(gpus)} GPU(s), need at least {min_gpus}",
            "use an instance type with more GPUs, or lower cuda_verify_min_gpus",
        )
    pattern = options.get("gpu_name_pattern")
    unmatched = [g["name"] for g in gpus if pattern and not re.search(pattern, g["name"])]
    if unmatched:
        add(
            "gpu_name",
            f"GPU {', '.join(unmatched)} does not match {pattern!r}",
            "launch the instance type that carries that GPU, or change cuda_verify_gpu_name_pattern",
        )
    min_driver = options.get("min_driver_version")
    current = driver.get("driver_version")
    if min_driver and current and version_tuple(current) < version_tuple(min_driver):
        add(
            "driver_version",
            f"driver {current} is older than the required {min_driver}",
            f"install driver {min_driver} or newer",
        )


def _check_nvcc(nvcc, options, add):
    release = nvcc.get("release")
    if not nvcc.get("path"):
        add(
            "nvcc",
            "nvcc was not found on PATH, in /usr/local/cuda/bin or under /usr/local/cuda-*",
            "install the CUDA toolkit, or add its bin folder to cuda_verify_nvcc_search_paths",
        )
        return
    if not release:
        add("nvcc", f"could not read the release from `{nvcc['path']} --version`", "reinstall the CUDA toolkit")
        return
    exact = options.get("nvcc_exact_version")
    if exact and release != exact:
        add("nvcc_version", f"nvcc release {release} is not the required {exact}", f"install CUDA {exact}")
    minimum = options.get("nvcc_min_version")
    if minimum and version_tuple(release) < version_tuple(minimum):
        add(
            "nvcc_version",
            f"nvcc release {release} is older than the required {minimum}",
            f"install CUDA {minimum} or newer",
        )


def _check_compat(driver, release, support, add):
    driver_cuda = driver.get("cuda_version")
    if driver_cuda and version_tuple(driver_cuda)[:2] < version_tuple(release)[:2]:
        add(
            "driver_vs_toolkit",
            f"the driver supports CUDA {driver_cuda} but nvcc is {release}; code built by this nvcc will not load",
            f"upgrade the driver to one that supports CUDA {release}, or use a CUDA {driver_cuda} toolkit",
        )
    entry = _toolkit_entry(release, support["toolkits"])
    if entry is None:
        return
    for gpu in driver.get("gpus") or []:
        if not gpu.get("compute_cap"):
            continue
        sm = sm_number(gpu["compute_cap"])
        if sm < entry["sm_min"]:
            add(
                "compute_capability",
                f"{gpu['name']} is sm_{sm}, which CUDA {release} no longer supports"
                f" (it needs sm_{entry['sm_min']} or newer)",
                entry.get("older_gpu_fix") or f"use an older CUDA toolkit that still targets sm_{sm}",
            )
        elif sm > entry["sm_max"]:
            add(
                "compute_capability",
                f"{gpu['name']} is sm_{sm}, newer than CUDA {release} knows (up to sm_{entry['sm_max']})",
                "install a newer CUDA toolkit",
            )


def with_mocha_compat(support, mocha_compat):
    """support plus 'cudnn_for_mocha' rules derived from mocha_cifar's one table
    (roles/mocha_cifar/vars/mocha_compat.yml): each row's Mocha release series (v0.3.1 -> 0.3.x)
    needs a cuDNN major in [cudnn_min, cudnn_below). Nothing about cuDNN is copied here."""
    rules = []
    for row in mocha_compat.values():
        major, minor = version_tuple(row["mocha"])[:2]
        rules.append(
            {
                "mocha": {"min": f"{major}.{minor}", "below": f"{major}.{minor + 1}"},
                "cudnn": {"min": str(row["cudnn_min"]), "below": str(row["cudnn_below"])},
                "needs": row["cudnn"],
            }
        )
    return {**support, "cudnn_for_mocha": rules}


def _check_cudnn(cudnn, mocha, support, add, compat=False):
    if compat and any(
        _in_range(mocha.lstrip("v"), rule["mocha"]) and _in_range(cudnn, rule["cudnn"])
        for rule in support.get("cudnn_via_compat_layer", [])
    ):
        return  # mocha_cifar's compatibility layer forwards Mocha's calls to this cuDNN
    for rule in support.get("cudnn_for_mocha", []):
        if _in_range(mocha.lstrip("v"), rule["mocha"]) and not _in_range(cudnn, rule["cudnn"]):
            add(
                "cudnn",
                f"cuDNN {cudnn} lacks the calls Mocha {mocha} makes (it needs cuDNN {rule['needs']})",
                f"run Mocha on the CPU backend, or use a host with cuDNN {rule['needs']}",
            )


def evaluate(probe, options, support):
    """Every failed check as {'check', 'message', 'fix'}; empty when all pass."""
    problems = []

    def add(check, message, fix):
        problems.append({"check": check, "message": message, "fix": fix})

    driver = probe.get("driver") or {}
    nvcc = probe.get("nvcc") or {}
    _check_driver(driver, options, add)
    _check_nvcc(nvcc, options, add)
    if nvcc.get("release"):
        _check_compat(driver, nvcc["release"], support, add)
    if probe.get("cudnn") and options.get("mocha_version"):
        compat = str(options.get("cudnn_compat", False)).lower() in {"true", "1", "yes"}  # a template may give "True"
        _check_cudnn(probe["cudnn"], options["mocha_version"], support, add, compat)
    return problems


def summary(probe, problems, smoke):
    driver = probe.get("driver") or {}
    gpus = driver.get("gpus") or []
    nvcc = probe.get("nvcc") or {}
    if gpus:
        described = "; ".join(
            f"{g['name']} (sm_{sm_number(g['compute_cap']) if g.get('compute_cap') else '?'}, "
            f"{g.get('memory_mib')} MiB)"
            for g in gpus
        )
        gpu_text = f"{len(gpus)} GPU(s): {described}"
    else:
        gpu_text = "no GPU"
    parts = [
        gpu_text,
        f"driver {driver.get('driver_version') or 'absent'} supporting CUDA {driver.get('cuda_version') or '-'}",
        f"nvcc {nvcc.get('version') or 'absent'} at {nvcc.get('path') or '-'}",
        f"cuDNN {probe.get('cudnn') or 'not found'}",
    ]
    if smoke and smoke.get("ran"):
        verdict = "passed" if smoke.get("passed") else "FAILED"
        timing = f", kernel {float(smoke['kernel_ms']):.3f} ms" if smoke.get("kernel_ms") is not None else ""
        parts.append(f"smoke test {verdict} ({smoke.get('arch')}, max error {smoke.get('max_abs_error')}{timing})")
    else:
        reason = f": {smoke['reason']}" if smoke and smoke.get("reason") else ""
        parts.append(f"smoke test not run{reason}")
    parts.append(f"{len(problems)} problem(s)" if problems else "all checks passed")
    return "; ".join(parts) + "."
