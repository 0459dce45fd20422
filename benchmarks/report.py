"""The micro benchmark's output: markdown tables and the notes that say how to read them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .common import ENGINE_LABEL, SCENARIO_MEANING, SCENARIOS
from .harness import Cell
from .probes import HOW_COUNTED, Sample
from .systems import System

#: wsgisession's targets (issue 6): untouched overhead below this many µs ...
UNTOUCHED_TARGET_US = 1.0
#: ... read and write overhead at most this fraction of the best peer's ...
PEER_FRACTION = 0.5
#: ... or, on Redis, within this factor of the raw redis-py round trips.
FLOOR_FACTOR = 1.25
#: Which floor bounds which scenario.
FLOOR_OF = {"read": "GET", "write": "GET+SET"}


@dataclass
class Results:
    systems: list[System]
    engines: list[str]
    cells: list[Cell]
    samples: dict[tuple[str, str, str], list[Sample]]
    unavailable: dict[tuple[str, str], str]
    notes: list[str]

    def __post_init__(self) -> None:
        self.by_key = {(cell.system, cell.engine, cell.scenario): cell for cell in self.cells}

    def median(self, system: str, engine: str, scenario: str) -> float | None:
        cell = self.by_key.get((system, engine, scenario))
        return cell.median if cell is not None else None

    def overhead(self, system: System, engine: str, scenario: str) -> float | None:
        own = self.median(system.name, engine, scenario)
        base = self.median(system.framework, "baseline", scenario)
        return None if own is None or base is None else own - base


def us(value: float | None, sign: bool = False) -> str:
    """µs with precision that suits the size: 0.31, 21.4, 1407."""
    if value is None:
        return "n/a"
    digits = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
    return f"{value:{'+' if sign else ''}.{digits}f}"


def table(head: Sequence[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def typical(samples: list[Sample], engine: str) -> tuple[Sample, int]:
    """The outcome to show for the counted requests, and how many requests had it.

    On Redis, the one with the fewest server-side commands: other clients of the shared
    server can only add commands to a request's window. Elsewhere, the most common one.
    """
    def outcome(sample: Sample) -> tuple[int | None, int | None, bool | None]:
        return sample.commands, sample.sent, sample.wrote

    if engine == "redis":
        chosen = min(samples, key=lambda sample: sample.commands or 0)
    else:
        common = Counter(outcome(sample) for sample in samples).most_common(1)[0][0]
        chosen = next(sample for sample in samples if outcome(sample) == common)
    return chosen, sum(1 for sample in samples if outcome(sample) == outcome(chosen))


def commands_text(sample: Sample) -> str:
    if sample.commands is None:
        return "—"
    if sample.sent is not None and sample.sent != sample.commands:
        return f"{sample.commands} ({sample.sent} sent)"
    return str(sample.commands)


def wrote_text(sample: Sample) -> str:
    return "?" if sample.wrote is None else "yes" if sample.wrote else "no"


def main_table(results: Results) -> str:
    head = ["engine", "scenario"]
    for system in results.systems:
        head += [f"{system.label} µs", "+µs", "cmds", "wrote"]
    rows = []
    for engine in results.engines:
        for scenario in SCENARIOS:
            row = [ENGINE_LABEL[engine], scenario]
            for system in results.systems:
                row += _system_columns(results, system, engine, scenario)
            rows.append(row)
    return table(head, rows)


def _system_columns(results: Results, system: System, engine: str, scenario: str) -> list[str]:
    own = results.median(system.name, engine, scenario)
    if own is None:
        return ["n/a", "", "", ""]
    samples = results.samples.get((system.name, engine, scenario), [])
    if not samples:
        return [us(own), us(results.overhead(system, engine, scenario), sign=True), "?", "?"]
    sample, agreeing = typical(samples, engine)
    mark = "" if agreeing == len(samples) else "*"
    return [us(own), us(results.overhead(system, engine, scenario), sign=True),
            commands_text(sample) + mark, wrote_text(sample) + mark]


def baselines_table(results: Results) -> str:
    frameworks = list(dict.fromkeys(system.framework for system in results.systems))
    rows = [[scenario] + [us(results.median(framework, "baseline", scenario)) for framework in frameworks]
            for scenario in SCENARIOS]
    return table(["scenario"] + [f"{framework} without sessions µs" for framework in frameworks], rows)


def floors_table(results: Results) -> str:
    rows = []
    for name in ("GET", "GET+SET"):
        value = results.median("redis-py", "floor", name)
        bound = None if value is None else value * FLOOR_FACTOR
        rows.append([name, us(value), us(bound)])
    return table(["redis-py round trips", "µs", f"x {FLOOR_FACTOR} (target)"], rows)


def targets_table(results: Results) -> str:
    mine = next((system for system in results.systems if system.name == "wsgisession"), None)
    if mine is None:
        return "(wsgisession was not run)"
    peers = [system for system in results.systems if system is not mine]
    rows = []
    for engine in results.engines:
        for scenario in ("untouched", "read", "write"):
            own = results.overhead(mine, engine, scenario)
            if own is None:
                continue
            rows.append([ENGINE_LABEL[engine], scenario, us(own, sign=True), *_target(results, peers, engine,
                                                                                       scenario, own)])
    head = ["engine", "scenario", "wsgisession +µs", "best peer +µs", "target", "met"]
    return table(head, rows)


def _target(results: Results, peers: list[System], engine: str, scenario: str, own: float) -> list[str]:
    if scenario == "untouched":
        return ["", f"< {UNTOUCHED_TARGET_US:g}", "yes" if own < UNTOUCHED_TARGET_US else "**no**"]
    overheads = [(value, peer.label) for peer in peers
                 if (value := results.overhead(peer, engine, scenario)) is not None]
    best = min(overheads, default=None)
    bounds, text = [], []
    if best is not None:
        bounds.append(best[0] * PEER_FRACTION)
        text.append(f"≤ {us(bounds[-1])} (half the best peer)")
    floor = results.median("redis-py", "floor", FLOOR_OF[scenario]) if engine == "redis" else None
    if floor is not None:
        bounds.append(floor * FLOOR_FACTOR)
        text.append(f"≤ {us(bounds[-1])} ({FLOOR_FACTOR} x {FLOOR_OF[scenario]})")
    best_text = f"{us(best[0], sign=True)} {best[1]}" if best is not None else "n/a"
    met = "yes" if any(own <= bound for bound in bounds) else "**no**" if bounds else "n/a"
    return [best_text, " or ".join(text), met]


def details_table(results: Results) -> str:
    rows = []
    for engine in results.engines:
        for scenario in SCENARIOS:
            for system in results.systems:
                cell = results.by_key.get((system.name, engine, scenario))
                if cell is None:
                    continue
                rows.append([ENGINE_LABEL[engine], scenario, system.label,
                             f"{us(min(cell.samples))} / {us(cell.median)} / {us(max(cell.samples))}",
                             str(cell.n), *_detail(results.samples.get((system.name, engine, scenario), []), engine)])
    head = ["engine", "scenario", "system", "µs min / median / max", "requests per loop", "what the requests did",
            "Set-Cookie"]
    return table(head, rows)


def _detail(samples: list[Sample], engine: str) -> list[str]:
    if not samples:
        return ["not counted", "?"]
    if engine == "redis":  # the other outcomes hold other clients' commands: not this request's
        chosen, agreeing = typical(samples, engine)
        text = _describe(chosen)
        if agreeing < len(samples):
            text += f" ({agreeing}/{len(samples)} requests; the others saw more: other clients)"
    else:
        variants = Counter(_describe(sample) for sample in samples)
        text = "; ".join(f"{description} ({n}/{len(samples)})" if len(variants) > 1 else description
                         for description, n in variants.most_common())
    cookies = Counter(sample.set_cookie for sample in samples)
    cookie = "yes" if cookies[True] == len(samples) else "no" if cookies[False] == len(samples) else \
        f"{cookies[True]}/{len(samples)}"
    return [text, cookie]


def _describe(sample: Sample) -> str:
    parts = [f"{name} {n}" for name, n in sorted(sample.detail.items())]
    return ", ".join(parts) if parts else "nothing"


def render(results: Results) -> str:
    rounds = len(results.cells[0].samples) if results.cells else 0
    unavailable = [f"- {system} on {engine}: n/a, {reason}" for (system, engine), reason in results.unavailable.items()]
    sections = [
        f"## Overhead per request over the same framework without sessions (median of {rounds} interleaved loops)",
        main_table(results),
        "µs: median µs per request with sessions; +µs: that minus the same framework without sessions "
        "(bare WSGI for wsgisession and Beaker, Flask for Flask-Session, Django for Django); "
        "cmds and wrote: what one request did to the store (below). `*`: the counted requests did not all agree: "
        "on Redis, other clients' commands fell into some windows, and the request with the fewest commands is "
        "shown; elsewhere the library varies, the most common outcome is shown and the details list every one.",
        "Scenarios: " + "; ".join(f"**{name}** = {meaning}" for name, meaning in SCENARIO_MEANING.items()) + ".",
        "## Baselines", baselines_table(results),
    ]
    if "redis" in results.engines:
        sections += ["## Redis floor", floors_table(results)]
    sections += [
        "## wsgisession against the issue's targets", targets_table(results),
        "## How commands and writes were counted",
        "\n".join(f"- {ENGINE_LABEL[engine]}: {HOW_COUNTED[engine]}" for engine in results.engines),
        "## Configuration notes",
        "\n".join([f"- {note}" for note in results.notes] + unavailable) or "(none)",
        "## Details", details_table(results),
    ]
    return "\n\n".join(sections)
