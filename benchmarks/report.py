"""Metrics, tables and the learning-curves figure of the label-efficiency benchmark.

Headline metric: test accuracy on balanced sets, balanced accuracy (mean per-class recall) on
the imbalanced ones. ALC: the headline metric averaged over the curve's points. Per set and
pipeline: mean and standard error over seeds, accuracy at 2 B, 6 B and 11 B labels, the ALC gain
over random with the same learner (paired by seed) and the rank by mean ALC. Overall: mean gain,
mean rank, wins (ranked first), sets where the pipeline beats its own random, the worst set.

    python -m benchmarks.report RESULTS.json [MORE.json ...]   # tables of (merged) results
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .protocol import ALL_DATASETS, DEV_DATASETS, HOLDOUT, IMBALANCED, SYNTHETIC, TUNE

AT = (2, 6, 11)  # accuracy at 2 B, 6 B and 11 B labels
HIGHLIGHT = {
    "mlp/random": {"color": "k", "lw": 2.0},
    "mlp/dami-plus": {"color": "tab:red", "lw": 2.6},
    "mlp/dami-blend": {"color": "tab:pink", "lw": 1.8},
    "mlp/badge": {"color": "tab:orange", "lw": 1.5},
    "mlp/sk-probcover": {"color": "tab:purple", "lw": 1.5},
    "et/random": {"color": "tab:green", "lw": 1.5, "ls": "--"},
    "et/margin": {"color": "tab:green", "lw": 2.0},
    "rf/margin": {"color": "tab:olive", "lw": 1.5},
    "hgb/margin": {"color": "tab:brown", "lw": 1.5},
    "svc/margin": {"color": "tab:blue", "lw": 1.5},
    "lr/margin": {"color": "tab:cyan", "lw": 1.5},
}


def headline(run: dict) -> list[float]:
    return run["bacc"] if run["kind"] == "imbalanced" else run["acc"]


def _se(values) -> float:
    a = np.asarray(values, dtype=float)
    return float(a.std(ddof=1) / np.sqrt(a.size)) if a.size > 1 else float("nan")


def _at(run: dict, multiple: int) -> float | None:
    """The headline metric at ``multiple`` x B labels, None where the curve stopped before."""
    target = multiple * run["B"]
    for labels, value in zip(run["labels"], headline(run), strict=True):
        if labels == target:
            return value
    return None


def _order(names, reference):
    return [n for n in reference if n in names] + sorted(set(names) - set(reference))


def complete(runs: list[dict]) -> tuple[list[dict], list[str]]:
    """The runs of the (set, seed) pairs that every pipeline has run, and the pairs left out.

    A cut run leaves its last set half done; comparing pipelines there would compare different
    seeds and sets, so such pairs are left out of the tables (and named in the report).
    """
    pipelines = {r["pipeline"] for r in runs}
    have: dict[tuple[str, int], set[str]] = {}
    for r in runs:
        have.setdefault((r["dataset"], r["seed"]), set()).add(r["pipeline"])
    full = {k for k, v in have.items() if v == pipelines}
    left = sorted(f"{d} seed {s}" for (d, s) in set(have) - full)
    return [r for r in runs if (r["dataset"], r["seed"]) in full], left


def summarise(runs: list[dict]) -> dict:
    from .pipelines import default_pipelines

    by = {(r["dataset"], r["pipeline"], r["seed"]): r for r in runs}
    datasets = _order({r["dataset"] for r in runs}, ALL_DATASETS)
    pipelines = _order({r["pipeline"] for r in runs}, default_pipelines())
    per: dict[tuple[str, str], dict] = {}
    for ds in datasets:
        for p in pipelines:
            seeds = sorted(s for (d, q, s) in by if d == ds and q == p)
            if not seeds:
                continue
            rows = [by[(ds, p, s)] for s in seeds]
            alc = [100 * np.mean(headline(r)) for r in rows]
            base = p.split("/")[0] + "/random"
            paired = [s for s in seeds if (ds, base, s) in by]
            gains = {
                s: 100 * (np.mean(headline(by[(ds, p, s)])) - np.mean(headline(by[(ds, base, s)])))
                for s in paired
            }
            cell = {
                "n": len(rows),
                "alc": float(np.mean(alc)),
                "alc_se": _se(alc),
                "gain": float(np.mean(list(gains.values()))) if gains else float("nan"),
                "gain_se": _se(list(gains.values())),
                "gains": gains,
                "stopped": any(r["stopped_early"] for r in rows),
                "points": min(len(r["labels"]) for r in rows),
                "select_s": float(np.mean([np.mean(r["select_s"] or [0.0]) for r in rows])),
                "seconds": float(np.mean([r["seconds"] for r in rows])),
            }
            for m in AT:
                vals = [v for v in (_at(r, m) for r in rows) if v is not None]
                cell[f"at{m}"] = 100 * float(np.mean(vals)) if vals else None
                cell[f"at{m}_se"] = 100 * _se(vals) if vals else None
            per[(ds, p)] = cell
        present = [p for p in pipelines if (ds, p) in per]
        for p in present:
            per[(ds, p)]["rank"] = 1 + sum(
                per[(ds, q)]["alc"] > per[(ds, p)]["alc"] for q in present
            )
    overall = {}
    for p in pipelines:
        cells = {ds: per[(ds, p)] for ds in datasets if (ds, p) in per}
        gains = {ds: c["gain"] for ds, c in cells.items() if not np.isnan(c["gain"])}
        by_seed: dict[int, list[float]] = {}
        for c in cells.values():
            for s, g in c["gains"].items():
                by_seed.setdefault(s, []).append(g)
        vs_mlp = [
            c["alc"] - per[(ds, "mlp/random")]["alc"]
            for ds, c in cells.items()
            if (ds, "mlp/random") in per
        ]
        worst = min(gains, key=gains.get) if gains else None
        overall[p] = {
            "n_sets": len(cells),
            "mean_alc": float(np.mean([c["alc"] for c in cells.values()])),
            "mean_gain": float(np.mean(list(gains.values()))) if gains else float("nan"),
            "gain_se": _se([np.mean(v) for v in by_seed.values()]),
            "vs_mlp_random": float(np.mean(vs_mlp)) if vs_mlp else float("nan"),
            "mean_rank": float(np.mean([c["rank"] for c in cells.values()])),
            "wins": sum(c["rank"] == 1 for c in cells.values()),
            "beats_random": sum(g > 0 for g in gains.values()),
            "worst": worst,
            "worst_gain": gains[worst] if worst else float("nan"),
            "at": {m: _mean_at(cells, m) for m in AT},
            "rank_tune": _mean_rank(cells, TUNE),
            "rank_holdout": _mean_rank(cells, HOLDOUT),
            "rank_synthetic": _mean_rank(cells, SYNTHETIC),
        }
    return {"datasets": datasets, "pipelines": pipelines, "per": per, "overall": overall}


def _mean_at(cells: dict, m: int) -> float:
    vals = [c[f"at{m}"] for c in cells.values() if c[f"at{m}"] is not None]
    return float(np.mean(vals)) if vals else float("nan")


def _mean_rank(cells: dict, group: list[str]) -> float:
    ranks = [c["rank"] for ds, c in cells.items() if ds in group]
    return float(np.mean(ranks)) if ranks else float("nan")


def _f(x, fmt: str = ".1f") -> str:
    return "—" if x is None or (isinstance(x, float) and np.isnan(x)) else format(x, fmt)


def _pm(value, se) -> str:
    """``81.2±0.4``; the SE is left out where there is one seed."""
    if value is None:
        return "—"
    return _f(value) if se is None or np.isnan(se) else f"{value:.1f}±{se:.1f}"


def dataset_table(datasets: list[str], runs: list[dict]) -> str:
    """What each data set is, and what the app's importer made of its columns."""
    from .protocol import describe

    out = [
        "| set | rows | classes | minority % | numeric / categorical columns | B | pool | points |",
        "|---|" + "---|" * 7,
    ]
    for ds in datasets:
        d = describe(ds)
        run = next(r for r in runs if r["dataset"] == ds)
        name = ds + ("†" if d["kind"] == "imbalanced" else "") + ("°" if ds in HOLDOUT else "")
        out.append(
            f"| {name} | {d['rows']} | {d['classes']} | {100 * d['minority_share']:.1f} | "
            f"{d['numeric']} / {d['categorical']} | {d['B']} | {run['pool_rows']} | "
            f"{len(run['labels'])} |"
        )
    return "\n".join(out)


def _set_label(ds: str, summary: dict, runs_kind: dict) -> str:
    marks = ""
    if runs_kind.get(ds) == "imbalanced":
        marks += "†"
    if any(c["stopped"] for (d, _), c in summary["per"].items() if d == ds):
        marks += "‡"
    if ds in HOLDOUT:
        marks += "°"
    return ds + marks


def format_tables(summary: dict, runs: list[dict]) -> str:
    per, ov = summary["per"], summary["overall"]
    datasets, pipelines = summary["datasets"], summary["pipelines"]
    kinds = {r["dataset"]: r["kind"] for r in runs}
    seeds = sorted({r["seed"] for r in runs})
    order = sorted(pipelines, key=lambda p: ov[p]["mean_rank"])
    out = [
        f"{len(runs)} learning curves: {len(pipelines)} pipelines × {len(datasets)} sets, "
        f"seeds {', '.join(map(str, seeds))}.",
        "",
        "**Summary** (ALC: mean headline metric over the curve, %; gain: ALC − ALC of random "
        "with the same learner, paired by seed, mean over sets ± SE over seeds; vs mlp/random: "
        "ALC − our MLP with random labels; rank among all pipelines per set, 1 = best, ties share "
        "a rank; rank tune / held-out / synthetic: mean rank on the 24 sets part 2 may tune on, on "
        "the 8 held out and on the synthetic families (— where none ran); wins: sets ranked "
        "first)",
        "",
        "| pipeline | sets | mean ALC | gain over own random | vs mlp/random | mean rank | "
        "rank tune / held-out / synthetic | wins | beats own random | worst set (gain) | at 2B | "
        "at 6B | "
        "at 11B |",
        "|---|" + "---|" * 12,
    ]
    for p in order:
        o = ov[p]
        gain = f"{o['mean_gain']:+.2f} ± {_f(o['gain_se'], '.2f')}"
        own_random = p.endswith("/random")
        worst = f"{o['worst']} ({o['worst_gain']:+.1f})" if o["worst"] and not own_random else "—"
        out.append(
            f"| {p} | {o['n_sets']} | {o['mean_alc']:.1f} | {gain} | {o['vs_mlp_random']:+.2f} | "
            f"{o['mean_rank']:.1f} | {_f(o['rank_tune'])} / {_f(o['rank_holdout'])} / "
            f"{_f(o['rank_synthetic'])} | "
            f"{o['wins']} | {o['beats_random']}/{o['n_sets']} | {worst} | "
            + " | ".join(_f(o["at"][m]) for m in AT)
            + " |"
        )

    def set_table(title: str, cell: Callable[[dict], str]) -> list[str]:
        """One row per set, one column per pipeline, ``cell`` of each (set, pipeline) result."""
        rows = ["", title, "", "| set | " + " | ".join(order) + " |", "|---|" + "---|" * len(order)]
        for ds in datasets:
            cells = ["" if (c := per.get((ds, p))) is None else cell(c) for p in order]
            rows.append(f"| {_set_label(ds, summary, kinds)} | " + " | ".join(cells) + " |")
        return rows

    out += set_table(
        "**ALC per set** (%, mean ± SE over seeds; rank in brackets; † imbalanced: balanced "
        "accuracy; ‡ the pool ran out before 11 B labels; ° held out for issue 13)",
        lambda c: f"{c['alc']:.1f}±{_f(c['alc_se'])} ({c['rank']})",
    )
    for m in AT:
        out += set_table(
            f"**Headline metric at {m} B labels** (%, mean ± SE over seeds; — where the pool ran "
            "out before)",
            lambda c, m=m: _pm(c[f"at{m}"], c[f"at{m}_se"]),
        )
    return "\n".join(out)


def plot(runs: list[dict], summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets, pipelines = summary["datasets"], summary["pipelines"]
    ncol = min(4, len(datasets))
    nrow = -(-len(datasets) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.6 * ncol, 2.6 * nrow), squeeze=False)
    for ax, ds in zip(axes.flat, datasets, strict=False):
        for p in pipelines:
            rows = [r for r in runs if r["dataset"] == ds and r["pipeline"] == p]
            if not rows:
                continue
            n = min(len(r["labels"]) for r in rows)
            y = np.mean([headline(r)[:n] for r in rows], axis=0) * 100
            style = HIGHLIGHT.get(p, {"color": "0.75", "lw": 0.7})
            ax.plot(rows[0]["labels"][:n], y, label=p, **style)
        kind = rows[0]["kind"] if rows else "balanced"
        ax.set_title(f"{ds}{' (balanced acc.)' if kind == 'imbalanced' else ''}", fontsize=8)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(datasets) :]:
        ax.axis("off")
    handles, names = [], []
    for ax in axes.flat:
        for h, n in zip(*ax.get_legend_handles_labels(), strict=True):
            if n in HIGHLIGHT and n not in names:
                handles.append(h)
                names.append(n)
    handles.append(plt.Line2D([], [], color="0.75", lw=0.7))
    names.append("other pipelines")
    bottom = 0.75 / (2.6 * nrow)  # room for the legend: about 0.75 inch
    fig.legend(handles, names, loc="lower center", ncol=6, fontsize=7)
    fig.supxlabel("labels", fontsize=8, y=bottom * 0.9)
    fig.supylabel("test accuracy % (balanced accuracy on imbalanced sets)", fontsize=8)
    fig.tight_layout(rect=(0.01, bottom, 1, 1))
    fig.savefig(path, dpi=70)
    plt.close(fig)


#: The subsets reported apart: the sets set aside before any idea was tried, the imbalanced
#: development sets (their headline metric is the balanced accuracy) and the synthetic group.
SUBSETS = (
    ("held-out subset", HOLDOUT),
    ("imbalanced sets (balanced accuracy)", [d for d in DEV_DATASETS if d in IMBALANCED]),
    ("synthetic group (a new draw of each family per seed)", SYNTHETIC),
)


def subset_table(runs: list[dict], title: str, datasets: list[str]) -> str:
    """Mean ALC, mean rank, wins and worst set (gain over own random) on ``datasets`` only;
    the ranks are the per-set ranks among all pipelines, as in the summary."""
    summary = summarise([r for r in runs if r["dataset"] in datasets])
    ov = summary["overall"]
    out = [
        f"**On the {title}** ({', '.join(summary['datasets'])})",
        "",
        "| pipeline | mean ALC | mean rank | wins | beats own random | worst set (gain) |",
        "|---|" + "---|" * 5,
    ]
    for p in sorted(summary["pipelines"], key=lambda p: ov[p]["mean_rank"]):
        o = ov[p]
        own_random = p.endswith("/random")
        worst = f"{o['worst']} ({o['worst_gain']:+.1f})" if o["worst"] and not own_random else "—"
        out.append(
            f"| {p} | {o['mean_alc']:.1f} | {o['mean_rank']:.1f} | {o['wins']} | "
            f"{o['beats_random']}/{o['n_sets']} | {worst} |"
        )
    return "\n".join(out)


def fidelity_table(runs: list[dict]) -> str:
    """For the pipelines whose network is an ensemble's student: per set, the mean fidelity on
    the test rows (student and teacher predict the same class), its lowest point, the
    teacher's ALC and the student's ALC minus the teacher's (headline metric, mean over seeds),
    and the fidelity the app reported (on pool rows or rows made like them); then the means."""
    taught = [r for r in runs if "fidelity" in r]
    if not taught:
        return ""
    out = [
        "**Fidelity of the explained network to its ensemble** (test rows; % of rows where "
        "the student predicts the teacher's class; ALC difference student − teacher in "
        "points of the headline metric)",
        "",
    ]
    pipelines = _order({r["pipeline"] for r in taught}, [])
    for p in pipelines:
        mine = [r for r in taught if r["pipeline"] == p]
        datasets = _order({r["dataset"] for r in mine}, ALL_DATASETS)
        out += [
            f"*{p}*",
            "",
            "| set | fidelity | lowest point | app's fidelity | teacher ALC | student − teacher |",
            "|---|---|---|---|---|---|",
        ]
        means: dict[str, list[float]] = {"fid": [], "low": [], "app": [], "t": [], "gap": []}
        for ds in datasets:
            rows = [r for r in mine if r["dataset"] == ds]
            fid = 100 * float(np.mean([np.mean(r["fidelity"]) for r in rows]))
            low = 100 * float(min(min(r["fidelity"]) for r in rows))
            app = [a for r in rows for a in r["app_fidelity"] if a is not None]
            app_mean = 100 * float(np.mean(app)) if app else float("nan")
            key = "teacher_bacc" if rows[0]["kind"] == "imbalanced" else "teacher_acc"
            teacher = 100 * float(np.mean([np.mean(r[key]) for r in rows]))
            student = 100 * float(np.mean([np.mean(headline(r)) for r in rows]))
            for k, v in zip(means, (fid, low, app_mean, teacher, student - teacher), strict=True):
                means[k].append(v)
            out.append(
                f"| {ds} | {fid:.1f} | {low:.1f} | {_f(app_mean)} | {teacher:.1f} | "
                f"{student - teacher:+.2f} |"
            )
        below = sum(f < 95 for f in means["fid"])
        out += [
            f"| **mean of {len(datasets)} sets** | **{np.mean(means['fid']):.2f}** | "
            f"{np.min(means['low']):.1f} (lowest) | {np.nanmean(means['app']):.2f} | "
            f"{np.mean(means['t']):.2f} | **{np.mean(means['gap']):+.2f}** |",
            "",
            f"Sets below 95 % fidelity: {below} of {len(datasets)}.",
            "",
        ]
    return "\n".join(out)


def write_report(runs: list[dict], md: Path, png: Path) -> str:
    runs, left = complete(runs)
    summary = summarise(runs)
    text = format_tables(summary, runs)
    for title, datasets in SUBSETS:
        if any(r["dataset"] in datasets for r in runs):
            text += "\n\n" + subset_table(runs, title, datasets)
    fidelity = fidelity_table(runs)
    if fidelity:
        text += "\n\n" + fidelity
    text += "\n\n**Data sets** (as read by the app"
    if any(ds in SYNTHETIC for ds in summary["datasets"]):
        text += "; syn-*: a new draw per seed, the seed-0 draw described"
    text += ")\n\n" + dataset_table(summary["datasets"], runs)
    if left:
        text += "\n\nLeft out (not every pipeline has run them): " + ", ".join(left) + "."
    md.write_text(text + "\n")
    plot(runs, summary, png)
    return text


def main(argv: list[str] | None = None) -> int:
    from .label_efficiency import merge

    paths = [Path(a) for a in (sys.argv[1:] if argv is None else argv)]
    runs = merge(paths)
    out = paths[0].with_suffix("")
    print(write_report(runs, Path(f"{out}.md"), Path(f"{out}.png")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
