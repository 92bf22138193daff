"""Plotly figure builders: data in, ``go.Figure`` out.

One module per area (``data``, ``train``, ``course_*``). Where a figure is more than a direct
plot of its input, the builder first computes a small typed record of what to draw (as Optuna's
visualization module does), so tests can assert on the record rather than on pixels.

Builders draw through ``mlcore.plots.fast`` (plain dicts, one unvalidated ``go.Figure`` at the
end), which ``tests/unit/test_plots_fast.py`` checks against real validated plotly.
"""
