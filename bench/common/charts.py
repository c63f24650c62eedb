"""PNG charts: a metric by concurrency, one panel per model, one line per system."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path


def by_concurrency(path: Path, title: str, ylabel: str, concurrencies: Sequence[int],
                   series: Mapping[str, Mapping[str, Sequence[float | None]]], log_scale: bool = True) -> Path:
    """Draw `series[model][system] = values per concurrency` to `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(series)
    fig, axes = plt.subplots(1, len(models), figsize=(6 * len(models), 4.2), squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        for system, values in series[model].items():
            points = [(c, v) for c, v in zip(concurrencies, values, strict=True) if v is not None and v > 0]
            if points:
                style = "--" if system.startswith("floor") else "-"
                ax.plot([c for c, _ in points], [v for _, v in points], style, marker="o", label=system)
        ax.set_title(model)
        ax.set_xlabel("concurrent connections")
        ax.set_ylabel(ylabel)
        ax.set_xscale("log", base=2)
        ax.set_xticks(list(concurrencies), [str(c) for c in concurrencies])
        if log_scale:
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
