"""The pull-request report keeps only the plots whose data changed, and renders Vega-Lite offline."""

from textclf import report


def vega(rows):
    return [{"type": "vega", "revisions": sorted({r["rev"] for r in rows}),
             "content": {"mark": "line", "data": {"values": rows},
                         "encoding": {"x": {"field": "epoch", "type": "quantitative"},
                                      "y": {"field": "loss", "type": "quantitative"}, "color": {"field": "rev"}}}}]


def test_only_changed_plots_are_kept(tmp_path):
    same = [{"epoch": 1, "loss": 0.5, "rev": "main"}, {"epoch": 1, "loss": 0.5, "rev": "workspace"}]
    moved = [{"epoch": 1, "loss": 0.5, "rev": "main"}, {"epoch": 1, "loss": 0.4, "rev": "workspace"}]
    new = [{"epoch": 1, "loss": 0.4, "rev": "workspace"}]
    (tmp_path / "a.png").write_bytes(b"\x89PNG one")
    (tmp_path / "b.png").write_bytes(b"\x89PNG one")
    (tmp_path / "c.png").write_bytes(b"\x89PNG two")
    plots = {
        "same": vega(same), "moved": vega(moved), "new": vega(new),
        "image same": [{"type": "image", "revisions": ["main"], "url": str(tmp_path / "a.png")},
                       {"type": "image", "revisions": ["workspace"], "url": str(tmp_path / "b.png")}],
        "image moved": [{"type": "image", "revisions": ["main"], "url": str(tmp_path / "a.png")},
                        {"type": "image", "revisions": ["workspace"], "url": str(tmp_path / "c.png")}],
    }
    changed, unchanged = report.changed_plots(plots, "main")
    assert [name for name, _ in changed] == ["moved", "new", "image moved"]
    assert unchanged == ["same", "image same"]
    assert changed[2][1]["urls"] == {"main": str(tmp_path / "a.png"), "workspace": str(tmp_path / "c.png")}


def test_vega_lite_renders_to_png_without_a_browser():
    png = report.render_vega_lite(vega([{"epoch": 1, "loss": 0.5, "rev": "main"}, {"epoch": 2, "loss": 0.3, "rev": "main"}])[0]["content"])
    assert png.startswith(b"\x89PNG") and len(png) > 1000
