"""Evaluation ("¿Nuestro modelo es correcto?"), one idea per module:

- :mod:`.metrics`: validation (and test) reports; :mod:`.curves`: ROC / PR curves and residuals;
- :mod:`.diagnosis`: underfitting / overfitting / good fit from a run's curves;
- :mod:`.folds`: k-fold splits as batched members; :mod:`.cv`: ``cross_validate`` (the Tune
  page's objective);
- :mod:`.study`: the ``ChunkJob`` adapter every long evaluation runs as (points of batched members);
- :mod:`.sweeps`: capacity and learning-curve sweeps; :mod:`.biasvar`: the bias-variance
  decompositions; :mod:`.regularise`: L2, dropout and early stopping side by side.
"""

from mlcore.evaluate.metrics import (  # noqa: F401  (the public names of the old module)
    ClassificationReport,
    ClassMetrics,
    RegressionReport,
    classification_report,
    evaluate,
    predicted_classes,
    regression_report,
)
