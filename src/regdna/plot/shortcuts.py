"""The shortcut-diagnostics figure of an evaluation (`regdna.evaluate.shifts` computes the
numbers, `regdna.evaluate.figures` names the file): does the model read sequence or window
positions?"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from regdna.plot.style import pyplot, save

CLASS_COLOURS = {"positive": "tab:red", "negative": "tab:blue", "all": "black"}


def shortcuts(table: list[dict], profile: dict | None, summary: dict | None, path: Path,
              title: str = "", central_fraction: float = 0.2) -> Path:
    """Left: prediction change against the shift; right: attribution mass by window position.

    Parameters
    ----------
    table : rows with `shift` (bp), `mean_abs_delta_prob`, `flip_fraction` and `auroc`, one per
        shift (0 included).
    profile : {"positive", "negative", "all"}: mean attribution mass per position, arrays (L,)
        summing to 1 (None: the right panel says why it is empty).
    summary : the attribution summary (`follows`, `stays`, `central_mass`, `shift`), or a dict
        with a `note` (e.g. a token model), or None.
    path : PNG to write.
    central_fraction : the share of central positions shaded on the right.
    """
    plt = pyplot()
    fig, (ax_shift, ax_pos) = plt.subplots(1, 2, figsize=(11, 4.2))
    shifts = [row["shift"] for row in table]
    ax_shift.plot(shifts, [row["mean_abs_delta_prob"] for row in table], "o-", color="tab:blue",
                  label="mean |Δ probability|")
    ax_shift.plot(shifts, [row["flip_fraction"] for row in table], "s--", color="tab:orange",
                  label="calls flipped")
    auroc = [row["auroc"] if row["auroc"] is not None else np.nan for row in table]
    ax_shift.plot(shifts, auroc, "^:", color="tab:green", label="AUROC of shifted")
    ax_shift.axvline(0, color="grey", lw=0.8)
    ax_shift.set(xlabel="shift (bp; N fill at the vacated end)", ylabel="value",
                 title="Prediction change under shifts", ylim=(-0.02, 1.02))
    ax_shift.legend(fontsize=8, loc="center right")
    ax_shift.grid(alpha=0.3)

    if profile:
        length = len(next(iter(profile.values())))
        positions = np.arange(length)
        width = max(1, int(round(central_fraction * length)))
        start = (length - width) // 2
        ax_pos.axvspan(start, start + width - 1, color="grey", alpha=0.12,
                       label=f"central {central_fraction:.0%}")
        for name in [n for n in ("positive", "negative") if n in profile] or ["all"]:
            ax_pos.plot(positions, profile[name], color=CLASS_COLOURS[name], lw=1.2, label=name)
        ax_pos.axhline(1 / length, color="grey", ls="--", lw=1, label="uniform")
        heading = "Attribution mass by position"
        if summary and "follows" in summary:
            heading += (f"\nshifted ±{summary['shift']} bp: follows {summary['follows']:.0%}, "
                        f"stays {summary['stays']:.0%}")
        ax_pos.set(xlabel="window position (bp)", ylabel="share of |grad x input|",
                   title=heading, xlim=(0, length - 1))
        ax_pos.legend(fontsize=8, loc="upper right")
        ax_pos.grid(alpha=0.3)
    else:
        ax_pos.axis("off")
        ax_pos.text(0.5, 0.5, (summary or {}).get("note", "no attribution profile"),
                    ha="center", va="center", wrap=True, transform=ax_pos.transAxes)
    if title:
        fig.suptitle(title)
    return save(fig, path)
