"""The DVC plot templates of the charts that compare models, written to ``.dvc/plots/`` beside dvc.yaml.

DVC's own templates color a chart by revision and tell its sources apart by dash pattern: seven models' ROC
curves in one color with nearly identical dashes, and bars from 0 to 1 on which half a point is invisible.
These color by model and dash by revision (``dvc plots diff main`` draws both revisions), and zoom each axis
to the data. DVC fills the ``<DVC_METRIC_...>`` anchors; the model is the first folder of a source's path as
DVC shortens it (``ngram/roc.csv``).
"""

from __future__ import annotations

import json
from pathlib import Path

TEMPLATE_DIR = Path(".dvc") / "plots"
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
# A chart with one source has no filename: its one line is then named "model".
MODEL = {"calculate": "datum.filename ? split(datum.filename, '/')[0] : 'model'", "as": "model"}
REVISION_DASHES = {"field": "rev", "type": "nominal", "title": "revision"}


def _axis(anchor: str, kind: str = "quantitative", zero: bool = False) -> dict:
    return {"field": f"<DVC_METRIC_{anchor}>", "type": kind, "title": f"<DVC_METRIC_{anchor}_LABEL>",
            **({"scale": {"zero": zero}} if kind == "quantitative" else {})}


TEMPLATES = {
    # Curves per model: training curves per epoch, ROC and precision-recall.
    "textclf_curves": {
        "$schema": SCHEMA, "title": "<DVC_METRIC_TITLE>", "width": 360, "height": 260,
        "data": {"values": "<DVC_METRIC_DATA>"}, "transform": [MODEL],
        "mark": {"type": "line", "tooltip": {"content": "data"}},
        "encoding": {"x": _axis("X"), "y": _axis("Y"), "color": {"field": "model", "type": "nominal"},
                     "strokeDash": REVISION_DASHES},
    },
    # One score per model (the leaderboard): points on an axis zoomed to the scores, revisions side by side.
    "textclf_scores": {
        "$schema": SCHEMA, "title": "<DVC_METRIC_TITLE>", "width": 360,
        "data": {"values": "<DVC_METRIC_DATA>"},
        "mark": {"type": "point", "filled": True, "size": 80, "tooltip": {"content": "data"}},
        "encoding": {"x": _axis("X"), "y": {**_axis("Y", "nominal"), "sort": "-x"},
                     "yOffset": {"field": "rev", "type": "nominal"}, "color": REVISION_DASHES,
                     "shape": {"field": "rev", "type": "nominal", "title": "revision"}},
    },
}


def write(project: Path = Path(".")) -> None:
    """Write each template to the project's ``.dvc/plots/`` (DVC reads custom templates there), if it differs."""
    folder = project / TEMPLATE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for name, template in TEMPLATES.items():
        path = folder / f"{name}.json"
        text = json.dumps(template, indent=2) + "\n"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
