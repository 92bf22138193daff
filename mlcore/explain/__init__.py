"""Explaining a trained MLP: SHAP values, counterfactuals, saliency maps, prototypes, a rule
surrogate and where these explanations disagree.

Every module imports torch, shap, captum and scikit-learn inside the functions that use them, so
importing ``mlcore.explain`` is light, and shap (about 5 s to import) and captum stay off the path
of the first explanation. The page runs the long parts through :mod:`mlcore.explain.jobs`.
"""
