"""Evaluation: validation metrics (:mod:`.metrics`), folds for cross-validation (:mod:`.folds`),
and, as the Evaluate page grows, curve diagnosis, sweeps and the bias-variance decomposition."""

from mlcore.evaluate.metrics import (  # noqa: F401  (the public names of the old module)
    ClassificationReport,
    ClassMetrics,
    RegressionReport,
    classification_report,
    evaluate,
    predicted_classes,
    regression_report,
)
