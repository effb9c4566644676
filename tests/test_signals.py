"""Tests of medlab.signals (chapter 8): simulation, validation, features, exercise checks."""

import numpy as np
import pytest

from medlab import signals
from medlab.teach import check


@pytest.fixture(scope="module")
def recordings():
    return {label: signals.simulate_subject(label, subject=i, duration=240, seed=3)
            for i, label in enumerate(signals.CLASSES)}


def test_simulation_is_deterministic_and_shaped():
    a = signals.simulate_subject("apnea", 5, duration=120, seed=1)
    b = signals.simulate_subject("apnea", 5, duration=120, seed=1)
    c = signals.simulate_subject("apnea", 6, duration=120, seed=1)
    assert np.array_equal(a.rsp, b.rsp) and np.array_equal(a.spo2, b.spo2)
    assert not np.array_equal(a.rsp, c.rsp)
    assert a.rsp.shape == (120 * 25,) and a.spo2.shape == (120,)
    assert a.spo2.min() >= 50 and a.spo2.max() <= 100
    assert np.all(a.spo2 == np.round(a.spo2))


def test_simulation_rejects_bad_arguments():
    with pytest.raises(ValueError, match="label"):
        signals.simulate_subject("asthma")
    with pytest.raises(ValueError, match="duration"):
        signals.simulate_subject("normal", duration=10)
    with pytest.raises(ValueError, match="fs"):
        signals.simulate_subject("normal", fs=12.5)
    with pytest.raises(ValueError, match="n_per_class"):
        signals.simulate_cohort(0)


def test_rates_follow_the_classes(recordings):
    rate = {k: signals.dominant_rate_bpm(r.rsp, r.fs) for k, r in recordings.items()}
    assert rate["tachypnea"] > 20 > rate["normal"] > 10 > rate["bradypnea"]


def test_apnea_desaturates_and_normal_does_not(recordings):
    assert recordings["apnea"].spo2.min() < recordings["normal"].spo2.min()
    assert signals.time_below(recordings["normal"].spo2, 90) < 10


def test_every_class_passes_validation(recordings):
    for rec in recordings.values():
        signals.validate_rsp(rec.rsp, rec.fs)
        signals.validate_spo2(rec.spo2)


def test_validate_rejects_nans_and_repairs_short_gaps(recordings):
    x = recordings["normal"].rsp.copy()
    x[100:110] = np.nan
    with pytest.raises(signals.SignalError, match="missing"):
        signals.validate_rsp(x, 25)
    fixed = signals.validate_rsp(x, 25, repair_nans=True)
    assert np.isfinite(fixed).all()
    x[200:400] = np.nan  # an 8 s gap is too long to invent
    with pytest.raises(signals.SignalError, match="longest gap"):
        signals.validate_rsp(x, 25, repair_nans=True)


def test_validate_rejects_flat_short_wrong_rate(recordings):
    with pytest.raises(signals.SignalError, match="flat"):
        signals.validate_rsp(np.ones(25 * 60), 25)
    with pytest.raises(signals.SignalError, match="at least 30 s"):
        signals.validate_rsp(np.random.default_rng(0).normal(size=100), 25)
    with pytest.raises(signals.SignalError, match="sampled at"):
        signals.validate_rsp(np.tile(recordings["normal"].rsp, 3), 250)
    with pytest.raises(signals.SignalError, match="1-D"):
        signals.validate_rsp(np.ones((10, 10)), 25)
    with pytest.raises(signals.SignalError, match="positive"):
        signals.validate_rsp(recordings["normal"].rsp, 0)


def test_validate_spo2():
    with pytest.raises(signals.SignalError, match="fraction"):
        signals.validate_spo2(np.full(60, 0.97))
    with pytest.raises(signals.SignalError, match="missing"):
        signals.validate_spo2(np.r_[np.full(59, 97.0), np.nan])
    with pytest.raises(signals.SignalError, match="50"):
        signals.validate_spo2(np.full(60, 120.0))
    assert signals.validate_spo2(np.full(60, 97)).dtype == float


def test_time_below():
    assert signals.time_below([95, 89, 88, 90], 90) == 2.0
    assert signals.time_below([95, 89, 88, 90], 90, fs=0.5) == 4.0


def test_features_and_processing(recordings):
    rows = signals.recording_features(recordings["apnea"], window_s=120, step_s=60)
    assert len(rows) == 3
    assert set(signals.FEATURES) <= set(rows[0])
    normal = signals.recording_features(recordings["normal"], window_s=120, step_s=60)
    assert np.mean([r["longest_pause_s"] for r in rows]) > np.mean(
        [r["longest_pause_s"] for r in normal])
    table, info = signals.process_rsp(recordings["normal"].rsp, 25)
    assert {"RSP_Rate", "RSP_Amplitude", "RSP_Peaks"} <= set(table.columns)
    assert 10 < np.nanmean(table["RSP_Rate"]) < 20


def test_cohort_features_frame():
    cohort = signals.simulate_cohort(1, duration=120, seed=0)
    df = signals.cohort_features(cohort, window_s=60, step_s=60, progress_bar=False)
    assert len(df) == 2 * len(signals.CLASSES)
    assert sorted(df["label"].unique()) == sorted(signals.CLASSES)


def test_checks_accept_right_and_reject_wrong_answers(capsys):
    def right(spo2, threshold=90.0, fs=1.0):
        return float((np.asarray(spo2) < threshold).sum() / fs)

    def wrong(spo2, threshold=90.0, fs=1.0):
        return float((np.asarray(spo2) <= threshold).sum())

    assert check("ch08-time-below", right)
    assert not check("ch08-time-below", wrong)
    assert not check("ch08-time-below", 3.0)
    assert check("ch08-class-weights", [4708 / 2428, 4708 / 6988])

    def longest(mask):
        best = run = 0
        for m in mask:
            run = run + 1 if m else 0
            best = max(best, run)
        return best

    def score_rule(ratio, desaturation, effort):
        if longest(np.asarray(ratio) <= 0.1) >= 10:
            return "obstructive apnea" if effort else "central apnea"
        if longest(np.asarray(ratio) <= 0.7) >= 10 and desaturation >= 3:
            return "hypopnea"
        return "none"

    def not_consecutive(ratio, desaturation, effort):   # counts seconds, not a run
        if (np.asarray(ratio) <= 0.1).sum() >= 10:
            return "obstructive apnea" if effort else "central apnea"
        if (np.asarray(ratio) <= 0.7).sum() >= 10 and desaturation >= 3:
            return "hypopnea"
        return "none"

    assert check("ch08-score-rule", score_rule)
    assert not check("ch08-score-rule", not_consecutive)
    assert not check("ch08-score-rule", lambda r, d, e: "none")
    assert not check("ch08-score-rule", "hypopnea")
    assert not check("ch08-class-weights", [0.674, 1.939])
    assert not check("ch08-class-weights", [1.0, 1.0, 1.0])
    assert "ratio" in (check("ch08-class-weights", [2 * 1.939, 2 * 0.674]) or capsys.readouterr().out)


# --- sleep scoring ---------------------------------------------------------------------------
def test_simulator_records_its_pauses():
    apnea = signals.simulate_subject("apnea", 3, duration=300, seed=2)
    normal = signals.simulate_subject("normal", 3, duration=300, seed=2)
    assert len(apnea.pauses) >= 3 and len(normal.pauses) == 0
    assert np.all(apnea.pauses[:, 1] - apnea.pauses[:, 0] >= 10)


def test_score_events_finds_the_simulated_pauses_and_nothing_in_normal_breathing():
    for label, subject in (("apnea", 4), ("cheyne-stokes", 5)):
        rec = signals.simulate_subject(label, subject, duration=300, seed=2)
        events = signals.score_events(rec.rsp, rec.spo2, rec.fs)
        assert list(events.columns) == ["start_s", "end_s", "kind", "desaturation", "type",
                                        "effort"]
        assert set(events["type"]) <= {"apnea", "hypopnea"}   # no effort given: no typing
        found = signals.events_found(rec.pauses, events[["start_s", "end_s"]].to_numpy())
        assert found.mean() >= 0.75, (label, found)
        assert (events["end_s"] - events["start_s"] >= 10).all()
    normal = signals.simulate_subject("normal", 6, duration=300, seed=2)
    assert len(signals.score_events(normal.rsp, normal.spo2, normal.fs)) <= 1
    assert signals.sleep_indices(normal)["REI"] < 15


def _half_airflow_dip():
    """A normal recording whose airflow drops by 50 % from 100 s to 130 s: (recording, airflow)."""
    rec = signals.simulate_subject("normal", 1, duration=300, seed=0)
    rsp = rec.rsp.copy()
    t = np.arange(len(rsp)) / rec.fs
    dip = (t >= 100) & (t < 130)
    rsp[dip] = rsp[~dip].mean() + 0.5 * (rsp[dip] - rsp[~dip].mean())
    return rec, rsp


def test_score_events_hypopnea_needs_a_desaturation():
    rec, rsp = _half_airflow_dip()
    flat = np.full(300, 97.0)
    assert not (signals.score_events(rsp, flat, rec.fs)["start_s"].between(90, 140)).any()
    desat = flat.copy()
    desat[125:160] = 92.0                                                # 5 points, after it
    ev = signals.score_events(rsp, desat, rec.fs)
    inside = ev[ev["start_s"].between(90, 140)]
    assert len(inside) == 1 and inside["kind"].iloc[0] == "hypopnea"
    assert inside["desaturation"].iloc[0] >= 3


def test_score_events_rejects_bad_input(recordings):
    rec = recordings["normal"]
    with pytest.raises(ValueError, match="hypopnea_drop"):
        signals.score_events(rec.rsp, rec.spo2, rec.fs, hypopnea_drop=0.95)
    with pytest.raises(ValueError, match="one value per second"):
        signals.score_events(rec.rsp, rec.spo2[:100], rec.fs)
    with pytest.raises(signals.SignalError, match="fraction"):
        signals.score_events(rec.rsp, rec.spo2 / 100, rec.fs)
    with pytest.raises(ValueError, match="baseline_s"):
        signals.breathing_envelope(rec.rsp, rec.fs, baseline_s=5)


def test_desaturations_and_indices():
    s = np.full(600, 96.0)
    s[200:220] = 92.0          # a 4-point dip for 20 s: one event
    s[400:404] = 90.0          # 4 s: an artefact, too short
    ev = signals.desaturations(s)
    assert ev.shape == (1, 2) and ev[0, 0] == 200 and ev[0, 1] == 220
    assert len(signals.desaturations(s, drop=5)) == 0
    with pytest.raises(ValueError, match="drop"):
        signals.desaturations(s, drop=0)
    rec = signals.simulate_subject("apnea", 2, duration=600, seed=1)
    ind = signals.sleep_indices(rec)
    assert set(ind) == {"REI", "apneas", "hypopneas", "ODI3", "T90"}
    assert ind["REI"] >= 15 and 0 <= ind["T90"] <= 100


def test_events_found():
    true = np.array([[10, 20], [50, 65]])
    assert signals.events_found(true, [[15, 30]]).tolist() == [True, False]
    assert signals.events_found(true, np.zeros((0, 2))).tolist() == [False, False]
    assert signals.events_found(np.zeros((0, 2)), [[1, 2]]).shape == (0,)
    with pytest.raises(ValueError, match="shape"):
        signals.events_found(true, [1, 2, 3])


def test_event_agreement_counts_recall_and_precision_numerators():
    true = np.array([[10, 20], [50, 65], [100, 112]])
    scored = np.array([[15, 30], [52, 54], [58, 70], [200, 215]])   # two hit one true event
    got = signals.event_agreement(true, scored)
    assert got == {"true": 3, "found": 2, "scored": 4, "correct": 3}
    assert signals.event_agreement(true, np.zeros((0, 2))) == {"true": 3, "found": 0,
                                                               "scored": 0, "correct": 0}
    assert signals.event_agreement([], scored)["correct"] == 0


# --- effort, event types, event features ----------------------------------------------------
def test_simulator_records_typed_events_and_effort():
    rec = signals.simulate_subject("apnea", 3, duration=600, seed=1)
    assert rec.thorax.shape == rec.abdomen.shape == rec.rsp.shape
    ev = rec.events
    assert list(ev.columns) == ["start_s", "end_s", "type", "desaturation"]
    assert set(ev["type"]) <= set(signals.EVENT_TYPES) and len(ev) >= 5
    assert (ev["end_s"] - ev["start_s"] >= 10).all() and (ev["end_s"] <= 600).all()
    apnoeas = ev[ev["type"] != "hypopnea"][["start_s", "end_s"]].to_numpy()
    assert np.allclose(apnoeas, rec.pauses)          # the pauses are the apnoeas
    cs = signals.simulate_subject("cheyne-stokes", 4, duration=600, seed=1)
    assert (cs.events["type"] == "central").all() and len(cs.events) == len(cs.pauses)
    # Cheyne-Stokes: saturation falls and recovers once per cycle (no slow drift downwards)
    assert cs.spo2[-120:].max() >= cs.params["spo2_base"] - 2
    normal = signals.simulate_subject("normal", 4, duration=300, seed=1)
    assert len(normal.events) == 0


def test_effort_types_the_apnoeas():
    rec = signals.simulate_subject("apnea", 3, duration=600, seed=1)   # obstructive and central
    ev = signals.score_events(rec.rsp, rec.spo2, rec.fs, effort=(rec.thorax, rec.abdomen))
    apnoeas = ev[ev["kind"] == "apnea"]
    assert set(apnoeas["type"]) == {"obstructive", "central"}
    for e in apnoeas.itertuples():
        truth = rec.events[(rec.events["start_s"] < e.end_s) & (rec.events["end_s"] > e.start_s)]
        assert truth["type"].iloc[0] == e.type
    assert apnoeas.loc[apnoeas["type"] == "central", "effort"].max() < 0.3
    one = signals.score_events(rec.rsp, rec.spo2, rec.fs, effort=rec.thorax)   # one belt
    assert set(one.loc[one["kind"] == "apnea", "type"]) <= {"obstructive", "central"}
    with pytest.raises(ValueError, match="effort belt 1"):
        signals.score_events(rec.rsp, rec.spo2, rec.fs, effort=(rec.thorax, rec.abdomen[:-5]))
    with pytest.raises(ValueError, match="desaturation"):
        signals.score_events(rec.rsp, rec.spo2, rec.fs, desaturation=0)


def test_stricter_desaturation_rule_scores_a_subset():
    rec = signals.simulate_subject("apnea", 7, duration=600, seed=0)
    h3 = signals.score_events(rec.rsp, rec.spo2, rec.fs)
    h4 = signals.score_events(rec.rsp, rec.spo2, rec.fs, desaturation=4.0)
    k3 = set(h3.loc[h3["kind"] == "hypopnea", "start_s"])
    k4 = set(h4.loc[h4["kind"] == "hypopnea", "start_s"])
    assert k4 <= k3
    assert (h3.loc[h3["kind"] == "hypopnea", "desaturation"] >= 3).all()


def test_desaturation_of_the_previous_event_is_not_credited():
    rec, rsp = _half_airflow_dip()
    s = np.full(300, 97.0)
    s[95:108] = 92.0          # a dip already under way at the onset, over 10 s after it
    assert not signals.score_events(rsp, s, rec.fs)["start_s"].between(90, 140).any()
    s[95:108] = 97.0
    s[115] = 99.0             # one high reading does not inflate the fall:
    s[125:160] = 95.0         # a fall of 2 points, below the rule
    assert not signals.score_events(rsp, s, rec.fs)["start_s"].between(90, 140).any()
    s[125:160] = 94.0         # 3 points: a hypopnoea
    ev = signals.score_events(rsp, s, rec.fs)
    assert (ev.loc[ev["start_s"].between(90, 140), "kind"] == "hypopnea").sum() == 1


def test_event_window_features():
    import pandas as pd

    events = pd.DataFrame({"start_s": [10.0, 70.0, 130.0, 200.0], "end_s": [25.0, 85.0, 145.0, 215.0],
                           "type": ["obstructive", "central", "hypopnea", "central"]})
    desats = np.array([[40.0, 55.0], [100.0, 115.0]])
    spo2 = np.full(240, 95.0)
    spo2[30:60] = 88.0
    f = signals.event_window_features(events, desats, spo2, 0.0, 120.0)
    assert set(f) == set(signals.EVENT_FEATURES)
    assert f["rei"] == 60.0 and f["odi3"] == 60.0 and f["t90"] == 25.0
    assert f["central_frac"] == 0.5 and f["cycle_s"] == 60.0
    g = signals.event_window_features(events, desats, spo2, 120.0, 120.0)
    assert g["central_frac"] == 1.0 and g["cycle_s"] == 70.0 and g["t90"] == 0.0
    empty = signals.event_window_features(events.iloc[:0], np.zeros((0, 2)), spo2, 0.0, 120.0)
    assert empty["rei"] == 0 and empty["central_frac"] == 0 and empty["cycle_s"] == 120.0
    with pytest.raises(ValueError, match="length_s"):
        signals.event_window_features(events, desats, spo2, 0.0, 0.0)
    with pytest.raises(ValueError, match="type"):
        signals.event_window_features(events[["start_s"]], desats, spo2, 0.0, 120.0)
