"""Stage transfer-analysis: seed 001's grid and the learning curves, from every transfer cell."""

import pandas as pd

from textclf.core.errors import TextclfError, run_stage
from textclf.core.outputs import staged_outputs, write_json
from textclf.pipeline import layout
from textclf.reporting import plots, transfer

OUTPUTS = [layout.TRANSFER_ANALYSIS, *(layout.TRANSFER_PLOTS / name for name in
                                       ("grid.csv", "learning_curve.csv", "grid.png", "learning_curve.png"))]
GRID_SETUPS = ["pretrained_frozen", "pretrained_finetuned", "random_frozen", "random_finetuned"]


def main() -> None:
    settings = layout.stage_layout().params.get("transfer")
    if not isinstance(settings, dict) or not isinstance(settings.get("setups"), dict):
        raise TextclfError("params.yaml: missing block 'transfer.setups'")
    setups, sizes = list(settings["setups"]), sorted(settings["sizes"])
    results = transfer.summary(transfer.collect(setups, sizes, layout.TRANSFER_CELLS), sizes)

    grid = pd.DataFrame([{"setup": f"{setup} ({split})", "accuracy": cell[f"{split}_accuracy"]}
                         for setup, cell in results["grid"].items() if setup in GRID_SETUPS for split in ("train", "test")])
    curve = pd.DataFrame({"labelled_reviews": sizes} | {setup: list(points.values()) for setup, points in results["learning_curve"].items()})
    with staged_outputs(*OUTPUTS) as (json_tmp, grid_tmp, curve_tmp, grid_png, curve_png):
        write_json(json_tmp, results)
        grid.to_csv(grid_tmp, index=False)
        curve.to_csv(curve_tmp, index=False)
        plots.transfer_grid_png(results["grid"], GRID_SETUPS, grid_png)
        plots.learning_curve_png(curve, curve_png)
    print(transfer.grid_markdown(results["grid"], GRID_SETUPS), end="")


if __name__ == "__main__":
    run_stage(main)
