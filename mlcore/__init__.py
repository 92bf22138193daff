"""mlcore: the plain-Python library behind MLP Lab.

It never imports streamlit. Inputs are typed configs (see ``config.py``), errors are
``MLCoreError`` subclasses carrying an i18n message key plus parameters, figures are plotly
builders, and progress flows out through plain callbacks.

Heavy libraries (torch, lightning, shap, optuna) are imported only by the modules that need
them, so that importing ``mlcore`` itself, ``mlcore.data`` or ``mlcore.i18n`` stays fast.
"""
