"""Parsers for nvidia-smi and nvcc output, and the compatibility verdicts.

Pure Python (3.8+, no Ansible imports), so the role's module ships it to the host
and pytest imports it straight from the role.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 (parses our own tool's output)

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
    for line in text.splitlines():
        line = line.strip()
        if not line or line.lower().startswith("name,"):
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 5:
            raise ValueError("unexpected nvidia-smi query line: %r" % line)
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
    return {"driver_version": driver, "cuda_version": (root.findtext("cuda_version") or "").strip() or None, "gpus": gpus}


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
        m = re.search(r"#define\s+%s\s+(\d+)" % key, text or "")
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
        if version_tuple(entry["min"])[:2] <= rel and (not entry.get("below") or rel < version_tuple(entry["below"])[:2]):
            return entry
    return None


def _in_range(version, spec):
    """spec: {'min': '4', 'below': '5'} with either side optional."""
    v = version_tuple(version)
    if spec.get("min") and v < version_tuple(spec["min"]):
        return False
    return not (spec.get("below") and v >= version_tuple(spec["below"]))


def evaluate(probe, options, support):
    """Every failed check as {'check', 'message', 'fix'}; empty when all pass."""
    problems = []

    def add(check, message, fix):
        problems.append({"check": check, "message": message, "fix": fix})

    driver = probe.get("driver") or {}
    gpus = driver.get("gpus") or []
    if not driver.get("present"):
        add("driver", "nvidia-smi was not found, so no NVIDIA driver is installed",
            "install the NVIDIA driver (or launch a Deep Learning AMI, which has one)")
    elif driver.get("error"):
        add("driver", "nvidia-smi failed: %s" % driver["error"],
            "load the driver: reboot after installing it, or `sudo modprobe nvidia`; check `dmesg | grep -i nvidia`")
    min_gpus = int(options.get("min_gpus", 1))
    if driver.get("present") and not driver.get("error") and len(gpus) < min_gpus:
        add("gpu_count", "found %d GPU(s), need at least %d" % (len(gpus), min_gpus),
            "use an instance type with more GPUs, or lower cuda_verify_min_gpus")
    pattern = options.get("gpu_name_pattern")
    if pattern and gpus:
        unmatched = [g["name"] for g in gpus if not re.search(pattern, g["name"])]
        if unmatched:
            add("gpu_name", "GPU %s does not match %r" % (", ".join(unmatched), pattern),
                "launch the instance type that carries that GPU, or change cuda_verify_gpu_name_pattern")
    min_driver = options.get("min_driver_version")
    if min_driver and driver.get("driver_version") and version_tuple(driver["driver_version"]) < version_tuple(min_driver):
        add("driver_version", "driver %s is older than the required %s" % (driver["driver_version"], min_driver),
            "install driver %s or newer" % min_driver)

    nvcc = probe.get("nvcc") or {}
    release = nvcc.get("release")
    if not nvcc.get("path"):
        add("nvcc", "nvcc was not found on PATH, in /usr/local/cuda/bin or under /usr/local/cuda-*",
            "install the CUDA toolkit, or add its bin folder to cuda_verify_nvcc_search_paths")
    elif not release:
        add("nvcc", "could not read the release from `%s --version`" % nvcc["path"], "reinstall the CUDA toolkit")
    if release and options.get("nvcc_exact_version") and release != options["nvcc_exact_version"]:
        add("nvcc_version", "nvcc release %s is not the required %s" % (release, options["nvcc_exact_version"]),
            "install CUDA %s" % options["nvcc_exact_version"])
    if release and options.get("nvcc_min_version") and version_tuple(release) < version_tuple(options["nvcc_min_version"]):
        add("nvcc_version", "nvcc release %s is older than the required %s" % (release, options["nvcc_min_version"]),
            "install CUDA %s or newer" % options["nvcc_min_version"])

    driver_cuda = driver.get("cuda_version")
    if release and driver_cuda and version_tuple(driver_cuda)[:2] < version_tuple(release)[:2]:
        add("driver_vs_toolkit",
            "the driver supports CUDA %s but nvcc is %s; code built by this nvcc will not load" % (driver_cuda, release),
            "upgrade the driver to one that supports CUDA %s, or use a CUDA %s toolkit" % (release, driver_cuda))

    if release:
        entry = _toolkit_entry(release, support["toolkits"])
        for gpu in gpus:
            cap = gpu.get("compute_cap")
            if not cap:
                continue
            sm = sm_number(cap)
            if entry is None:
                continue
            if sm < entry["sm_min"]:
                add("compute_capability",
                    "%s is sm_%d, which CUDA %s no longer supports (it needs sm_%d or newer)" % (gpu["name"], sm, release, entry["sm_min"]),
                    entry.get("older_gpu_fix", "use an older CUDA toolkit that still targets sm_%d" % sm))
            elif sm > entry["sm_max"]:
                add("compute_capability",
                    "%s is sm_%d, newer than CUDA %s knows (up to sm_%d)" % (gpu["name"], sm, release, entry["sm_max"]),
                    "install a newer CUDA toolkit")

    cudnn = probe.get("cudnn")
    mocha = options.get("mocha_version")
    if cudnn and mocha:
        for rule in support.get("cudnn_for_mocha", []):
            if _in_range(mocha.lstrip("v"), rule["mocha"]) and not _in_range(cudnn, rule["cudnn"]):
                add("cudnn", "cuDNN %s lacks the calls Mocha %s makes (it needs cuDNN %s)" % (cudnn, mocha, rule["needs"]),
                    "run Mocha on the CPU backend, or use a host with cuDNN %s" % rule["needs"])
    return problems


def summary(probe, problems, smoke):
    gpus = (probe.get("driver") or {}).get("gpus") or []
    driver = probe.get("driver") or {}
    nvcc = probe.get("nvcc") or {}
    if gpus:
        gpu_text = "%d GPU(s): %s" % (len(gpus), "; ".join(
            "%s (sm_%s, %s MiB)" % (g["name"], g["compute_cap"].replace(".", "") if g.get("compute_cap") else "?", g.get("memory_mib"))
            for g in gpus))
    else:
        gpu_text = "no GPU"
    parts = [
        gpu_text,
        "driver %s supporting CUDA %s" % (driver.get("driver_version") or "absent", driver.get("cuda_version") or "-"),
        "nvcc %s at %s" % (nvcc.get("version") or "absent", nvcc.get("path") or "-"),
        "cuDNN %s" % (probe.get("cudnn") or "not found"),
    ]
    if smoke and smoke.get("ran"):
        parts.append("smoke test %s (%s, max error %s, kernel %.3f ms)" % (
            "passed" if smoke.get("passed") else "FAILED", smoke.get("arch"), smoke.get("max_abs_error"), smoke.get("kernel_ms") or 0.0))
    else:
        parts.append("smoke test not run%s" % (": " + smoke["reason"] if smoke and smoke.get("reason") else ""))
    parts.append("%d problem(s)" % len(problems) if problems else "all checks passed")
    return "; ".join(parts) + "."
