"""Metrics of one set of predictions (validation, or test when asked): the ONE panel both the
Train page's "Validation metrics" tab and the Evaluate page call.

Classification: accuracy, the per-class report, the confusion matrix, and ROC and
precision-recall curves with their areas (one-vs-rest for multiclass). Regression: R², MAE, RMSE,
predicted against actual, and the residual plot.
"""

from __future__ import annotations

import streamlit as st

from ui.common import class_names, decimal_mark, fnum, number_table, tr
from ui.projector import show_chart

CHART = {"config": {"displayModeBar": False}}


def metrics_panel(data, y_true, pred, key: str, curves: bool = True) -> None:
    """Render the metrics of ``pred`` against ``y_true``; ``key`` prefixes the widget keys."""
    from mlcore import evaluate as ev
    from mlcore.evaluate import curves as cv_curves
    from mlcore.plots import evaluate as eplots
    from mlcore.plots import train as plots

    names = class_names(data)
    report = ev.evaluate(data.task, y_true, pred, names)
    if isinstance(report, ev.ClassificationReport):
        st.metric(tr("metric.accuracy"), fnum(report.accuracy, ".1%"))
        c1, c2 = st.columns(2)
        c1.dataframe(number_table([{tr("metric.class"): m.label, tr("metric.precision"): round(m.precision, 3),
                                    tr("metric.recall"): round(m.recall, 3), tr("metric.f1"): round(m.f1, 3),
                                    tr("metric.support"): m.support} for m in report.per_class]),
                     hide_index=True, width="stretch")
        show_chart(c2, plots.confusion_matrix(report.confusion, list(report.labels),
                                               (tr("metric.true"), tr("metric.predicted"))),
                        key=f"{key}_confusion", **CHART)
        if curves:
            rocs = cv_curves.roc_curves(y_true, pred, names)
            prs = cv_curves.pr_curves(y_true, pred, names)
            if rocs:
                c3, c4 = st.columns(2)
                c3.markdown(f"**{tr('evalm.roc')}**")
                show_chart(c3, eplots.roc_figure(rocs, {"chance": tr("evalm.chance"), "fpr": tr("evalm.fpr"),
                                                         "tpr": tr("evalm.tpr"), "decimal": decimal_mark()}),
                           key=f"{key}_roc", **CHART)
                c4.markdown(f"**{tr('evalm.pr')}**")
                show_chart(c4, eplots.pr_figure(prs, {"recall": tr("metric.recall"),
                                                       "precision": tr("metric.precision"),
                                                       "decimal": decimal_mark()}),
                                key=f"{key}_pr", **CHART)
                st.caption(tr("evalm.curves_note" if len(rocs) == 1 else "evalm.curves_note_ovr"))
    else:
        c1, c2, c3 = st.columns(3)
        c1.metric(tr("metric.r2"), fnum(report.r2, ".3f"))
        c2.metric(tr("metric.mae"), fnum(report.mae, ".4g"))
        c3.metric(tr("metric.rmse"), fnum(report.rmse, ".4g"))
        c4, c5 = st.columns(2)
        show_chart(c4, plots.predicted_vs_actual(report.y_true, report.y_pred,
                                                  (tr("metric.actual"), tr("metric.predicted"))),
                        key=f"{key}_pred_actual", **CHART)
        if curves:
            res = cv_curves.residuals(y_true, pred)
            show_chart(c5, eplots.residual_figure(res, {"predicted": tr("metric.predicted"),
                                                         "residual": tr("evalm.residual")}),
                            key=f"{key}_residuals", **CHART)
