"""A rollout's targets and waves in the pipeline file: counts or names, cumulative waves that
end at 100 %, every problem with its key path (the rest of the file: ``checks.py``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.toml_values import TomlReader, is_int, quote

MAX_TARGETS = 100_000
_WAVE_RE = re.compile(r"(\d+)(%?)")


def wave_counts(waves: Sequence[str], total: int) -> list[int]:
    """How many targets are reached after each wave: waves are cumulative, ``"P%"`` rounds up."""
    counts = []
    for wave in waves:
        reach = -(-int(wave[:-1]) * total // 100) if wave.endswith("%") else int(wave)
        counts.append(min(reach, total))
    return counts


class RolloutValues(TomlReader):
    def targets(self, value: Any, path: str) -> int | tuple[str, ...]:
        if is_int(value):
            if 1 <= value <= MAX_TARGETS:
                return int(value)
            self.fail(path, f"must be from 1 to {MAX_TARGETS}")
            return ()
        if not isinstance(value, list) or not value or len(value) > MAX_TARGETS:
            self.fail(path, f"expected a count (1 to {MAX_TARGETS}) or a non-empty list of names")
            return ()
        return self.unique_strings(value, path, lambda name: bool(name.strip()), "is not a target name")

    def waves(self, value: Any, path: str, total: int) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            self.fail(path, 'expected a non-empty list like ["1", "10%", "100%"]')
            return ()
        waves = [_wave(item) for item in value]
        for i, wave in enumerate(waves):
            if wave is None:
                self.fail(f"{path}[{i}]", 'expected a count like "5" (≥ 1) or a share like "10%" (1–100)')
        good = [w for w in waves if w is not None]
        counts = wave_counts(good, total) if total and len(good) == len(waves) else []
        for i in range(1, len(counts)):
            if counts[i] < counts[i - 1]:
                self.fail(f"{path}[{i}]", f"reaches {counts[i]} of {total} targets, fewer than the "
                                          f"{counts[i - 1]} before it (waves are cumulative)")
        if waves[-1] not in (None, "100%"):
            self.fail(f"{path}[{len(waves) - 1}]", "the last wave must be \"100%\" so every target is "
                                                   f"deployed, not {quote(str(waves[-1]))}")
        if len(good) != len(waves):
            return ()
        return tuple(good)


def _wave(item: Any) -> str | None:
    text = str(item) if is_int(item) else item
    match = _WAVE_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if not match or int(match[1]) < 1 or (match[2] and int(match[1]) > 100):
        return None
    return f"{int(match[1])}{match[2]}"
