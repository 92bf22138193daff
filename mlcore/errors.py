"""Typed errors that the UI can translate.

Every error carries a catalogue ``key`` (for example ``"err.csv.empty"``) and ``params`` used to
fill the message template, in the style of scikit-learn's validation: name the bad value, say
what was expected and how to fix it. ``str(error)`` gives the English text so that logs and
``pytest.raises(match=...)`` stay readable.
"""

from __future__ import annotations

from typing import Any


class MLCoreError(Exception):
    """Base error: ``key`` is an i18n catalogue key, ``params`` fill its placeholders."""

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: str = "en") -> str:
        from mlcore.i18n import t

        return t(key=self.key, lang=lang, **self.params)

    def __reduce__(self):  # keep errors picklable across worker processes
        return (_rebuild, (type(self), self.key, self.params))


def _rebuild(cls, key, params):
    return cls(key, **params)


class DataError(MLCoreError):
    """Problems with a dataset or an uploaded file."""


class ConfigError(MLCoreError):
    """A configuration value outside its allowed range."""


class ModelFileError(MLCoreError):
    """An uploaded model file that is not a valid MLP Lab model."""


class TrainingError(MLCoreError):
    """Training could not continue (for example the loss diverged)."""
