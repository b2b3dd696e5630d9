"""Which device to train on: CUDA, then Apple MPS, then the CPU, or the one the user names."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DeviceInfo:
    name: str  # what settings store: "cpu", "cuda:0", "mps"
    label: str  # what a user reads: "NVIDIA H200 (139 GiB)"


def list_devices() -> list[DeviceInfo]:
    devices = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            devices.append(DeviceInfo(f"cuda:{index}", f"{props.name} ({props.total_memory / 2**30:.0f} GiB)"))
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append(DeviceInfo("mps", "Apple GPU (MPS)"))
    devices.append(DeviceInfo("cpu", f"CPU ({torch.get_num_threads()} threads)"))
    return devices


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks the first of CUDA, MPS, CPU; a named device must exist (ValueError if not)."""
    if name in ("", "auto"):
        return torch.device(list_devices()[0].name)
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps") from None
    available = {d.name for d in list_devices()}
    if device.type == "cuda":
        index = device.index or 0
        if f"cuda:{index}" not in available:
            raise ValueError(f"device {name!r} is not available here (found: {', '.join(sorted(available))})")
        return torch.device(f"cuda:{index}")
    if device.type not in available:
        raise ValueError(f"device {name!r} is not available here (found: {', '.join(sorted(available))})")
    return device
