#!/usr/bin/python
"""Probe the NVIDIA driver, the CUDA toolkit and cuDNN on a host. Reads only."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cuda_verify_probe
short_description: Report NVIDIA driver, GPUs, nvcc and cuDNN found on the host
description:
  - Runs C(nvidia-smi --query-gpu=...) (falling back to C(nvidia-smi -q -x) on drivers without compute_cap),
    reads the CUDA version from the C(nvidia-smi) banner, finds C(nvcc) on PATH, in the given folders or under
    C(/usr/local/cuda-*), and reads the cuDNN version from its header. Changes nothing.
options:
  nvidia_smi:
    description: The nvidia-smi command (name or path).
    type: str
    default: nvidia-smi
  nvcc_search_paths:
    description: Folders searched for nvcc after PATH; C(/usr/local/cuda-*/bin) are searched last, newest first.
    type: list
    elements: str
    default: [/usr/local/cuda/bin]
  name_compute_caps:
    description: Name patterns and compute capabilities, for drivers that cannot report compute_cap.
    type: list
    elements: dict
    default: []
author: mocha-ansible
"""

EXAMPLES = r"""
- name: Probe the GPU stack
  cuda_verify_probe:
    nvcc_search_paths: [/usr/local/cuda/bin]
  register: probe
"""

RETURN = r"""
driver:
  description:
    - present, error, driver_version, cuda_version, source and gpus
      (name, memory_mib, compute_cap, pci_bus_id).
  returned: always
  type: dict
nvcc:
  description: path, release (e.g. 13.0) and version (e.g. 13.0.88), or nulls.
  returned: always
  type: dict
cudnn:
  description: cuDNN version such as 9.1.0, or null.
  returned: always
  type: str
"""

import glob
import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.cuda_probe import (
    DRIVER_UNREACHABLE,
    compute_cap_from_name,
    parse_cudnn_header,
    parse_nvcc_version,
    parse_query_csv,
    parse_smi_header,
    parse_smi_xml,
    version_tuple,
)

QUERY = "--query-gpu=name,driver_version,memory.total,compute_cap,pci.bus_id"
CUDNN_HEADERS = (
    "/usr/include/cudnn_version.h",
    "/usr/include/x86_64-linux-gnu/cudnn_version_v*.h",
    "/usr/local/cuda/include/cudnn_version.h",
    "/usr/include/cudnn.h",
    "/usr/local/cuda/include/cudnn.h",
)


def _first_line(text):
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[0] if lines else ""


def probe_driver(module, smi, name_table):
    path = module.get_bin_path(smi) if "/" not in smi else (smi if os.access(smi, os.X_OK) else None)
    result = {
        "present": bool(path),
        "path": path,
        "error": None,
        "driver_version": None,
        "cuda_version": None,
        "source": None,
        "gpus": [],
    }
    if not path:
        return result
    rc, out, err = module.run_command([path, QUERY, "--format=csv,noheader,nounits"])
    combined = out + err
    if DRIVER_UNREACHABLE in combined:
        result["error"] = _first_line(combined)
        return result
    if rc == 0:
        result["gpus"] = parse_query_csv(out)
        result["source"] = "query"
    else:
        # Drivers older than ~510 reject the compute_cap field; the XML has the rest.
        rc, out, err = module.run_command([path, "-q", "-x"])
        if rc != 0:
            result["error"] = _first_line(out + err) or f"nvidia-smi exited with {rc}"
            return result
        parsed = parse_smi_xml(out)
        result["gpus"] = parsed["gpus"]
        result["cuda_version"] = parsed["cuda_version"]
        result["source"] = "xml"
        for gpu in result["gpus"]:
            gpu["compute_cap"] = compute_cap_from_name(gpu["name"], name_table)
    rc, out, err = module.run_command([path])
    header = parse_smi_header(out)
    result["cuda_version"] = result["cuda_version"] or header["cuda_version"]
    result["driver_version"] = header["driver_version"] or (
        result["gpus"][0]["driver_version"] if result["gpus"] else None
    )
    return result


def _cuda_dirs_newest_first():
    dirs = [d for d in glob.glob("/usr/local/cuda-*") if os.path.isdir(d)]
    return sorted(dirs, key=lambda d: version_tuple(os.path.basename(d)), reverse=True)


def probe_nvcc(module, search_paths):
    # PATH first (what the user's shell sees), then the places profile.d would add.
    candidates = []
    on_path = module.get_bin_path("nvcc")
    if on_path:
        candidates.append(on_path)
    for folder in list(search_paths) + [os.path.join(d, "bin") for d in _cuda_dirs_newest_first()]:
        candidates.append(os.path.join(folder, "nvcc"))
    for cand in candidates:
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            rc, out, _err = module.run_command([cand, "--version"])
            parsed = parse_nvcc_version(out) if rc == 0 else None
            return {
                "path": cand,
                "on_path": cand == on_path,
                "release": parsed["release"] if parsed else None,
                "version": parsed["version"] if parsed else None,
            }
    return {"path": None, "on_path": False, "release": None, "version": None}


def probe_cudnn():
    for pattern in CUDNN_HEADERS:
        for path in sorted(glob.glob(pattern)):
            try:
                with open(path) as fh:
                    version = parse_cudnn_header(fh.read())
            except OSError:
                continue
            if version:
                return version
    return None


def main():
    module = AnsibleModule(
        argument_spec={
            "nvidia_smi": {"type": "str", "default": "nvidia-smi"},
            "nvcc_search_paths": {"type": "list", "elements": "str", "default": ["/usr/local/cuda/bin"]},
            "name_compute_caps": {"type": "list", "elements": "dict", "default": []},
        },
        supports_check_mode=True,
    )
    try:
        driver = probe_driver(module, module.params["nvidia_smi"], module.params["name_compute_caps"])
    except (ValueError, SyntaxError) as exc:
        driver = {
            "present": True,
            "error": f"unreadable nvidia-smi output: {exc}",
            "gpus": [],
            "driver_version": None,
            "cuda_version": None,
            "source": None,
        }
    nvcc = probe_nvcc(module, module.params["nvcc_search_paths"])
    module.exit_json(changed=False, driver=driver, nvcc=nvcc, cudnn=probe_cudnn())


if __name__ == "__main__":
    main()
