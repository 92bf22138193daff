"""The Tune page's live trials table (``ui.tune.trials_rows``): one column per tuned parameter,
named in the session's language, and no two columns with one name (a tuned epoch budget next
to the epochs a trial trained)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import exceptions


def _script():
    import optuna
    import streamlit as st

    from ui.tune import trials_rows

    ss = st.session_state
    study = optuna.create_study(direction="maximize")
    dist = {"lr": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True),
            "epochs": optuna.distributions.IntDistribution(5, 50),
            "activation": optuna.distributions.CategoricalDistribution(["relu", "tanh"])}
    study.add_trial(optuna.trial.create_trial(params={"lr": 0.0123456, "epochs": 20, "activation": "tanh"},
                                              distributions=dist, value=0.91, user_attrs={"epochs_run": 20}))
    study.add_trial(optuna.trial.create_trial(params={"lr": 0.002, "epochs": 40, "activation": "relu"},
                                              distributions=dist, state=optuna.trial.TrialState.PRUNED,
                                              user_attrs={"epochs_run": 3}))
    # a pruned trial told by the runner: Optuna gives it its last intermediate value
    study.add_trial(optuna.trial.create_trial(params={"lr": 0.05, "epochs": 30, "activation": "relu"},
                                              distributions=dist, state=optuna.trial.TrialState.PRUNED,
                                              value=0.8, intermediate_values={1: 0.7, 3: 0.8},
                                              user_attrs={"epochs_run": 3}))
    ss["rows"] = trials_rows(study)
    st.dataframe(ss["rows"])


@pytest.mark.parametrize("lang, lr, budget, trained, act", [
    ("es", "Tasa de aprendizaje", "Épocas máx.", "Épocas entrenadas", "Activación"),
    ("en", "Learning rate", "Max epochs", "Epochs trained", "Activation"),
])
def test_one_translated_column_per_parameter(lang, lr, budget, trained, act):
    at = AppTest.from_function(_script)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception, exceptions(at)
    valued, newest, first = at.session_state["rows"]  # newest first
    # parameters in the search space's order, then epochs trained, seconds and reason
    keys = list(first)
    assert keys.index(lr) < keys.index(act) < keys.index(budget) < keys.index(trained)
    assert first[lr] == 0.0123 and first[budget] == 20 and first[act] == "tanh" and first[trained] == 20
    assert newest[budget] == 40 and newest[trained] == 3
    assert not {"lr", "epochs", "activation"} & set(keys)
    assert list(at.dataframe[0].value.columns) == keys  # no column lost to a clash of names


@pytest.mark.parametrize("lang, value, trained", [("es", "Valor", "Épocas entrenadas"), ("en", "Value", "Epochs trained")])
def test_a_pruned_trial_shows_its_value_and_the_epoch_it_stopped_at(lang, value, trained):
    at = AppTest.from_function(_script)
    at.session_state["lang"] = lang
    at.run()
    valued, unvalued, complete = at.session_state["rows"]
    assert valued[value] == 0.8 and valued[trained] == 3  # its value is the one at that epoch (the caption)
    assert unvalued[value] is None and complete[value] == 0.91


def test_the_live_table_is_as_tall_as_its_rows():
    from ui.tune import table_height

    # st.dataframe rows (and its header) are 35 px, plus 3 px of border; at most the cap
    assert [table_height(n) for n in (0, 1, 3)] == [73, 73, 143]
    assert table_height(30) == 420
