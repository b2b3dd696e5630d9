"""How much an archive may claim before we refuse it: the defences against hostile files.

The defaults fit real projects (multi-GB weights are fine) while a zip bomb or an absurd
header is refused before anything big is allocated. Tests pass smaller limits.

The JSON limits are enforced by ``modstudio.project.bounded_json.read_json``.
"""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass(frozen=True)
class Limits:
    max_members: int = 10_000
    max_json_bytes: int = 64 * MiB
    max_member_bytes: int = 16 * GiB
    max_total_bytes: int = 64 * GiB
    # uncompressed/compressed; only for members above ratio_floor (small files may compress well)
    max_ratio: float = 200.0
    ratio_floor: int = 1 * MiB
    max_tensor_header_bytes: int = 64 * MiB
    max_tensors: int = 200_000
    # JSON (project.json and safetensors headers), checked on the raw bytes before parsing:
    max_json_depth: int = 64  # lists and objects inside each other
    max_json_values: int = 8_000_000  # values and object keys together
    max_json_number_chars: int = 100  # the longest number literal (Python refuses ints over 4,300 digits)
    # a task rebuilt from its recipe on load: the data its built-in generators may make (all sources
    # of one task together; files a recipe names keep the import limit, modstudio.data.MAX_BYTES)
    max_generated_bytes: int = 256 * MiB
    # a run's exemplar memory as project.json stores it: [task, index] pairs (a strategy's ``memory``
    # parameter goes no higher, so every memory a run can keep can be saved)
    max_memory_items: int = 1_000_000


DEFAULT_LIMITS = Limits()

MAP_BYTES = 256 * MiB
"""An embedded task member at least this big is memory-mapped from the archive on load instead of
read into memory (``load_project(map_data=…)`` maps every stored member, or none)."""
