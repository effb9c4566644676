"""Breathing and oxygen-saturation signals: simulation, validation, windows and features.

Chapter 8 explains every function here. The breathing waveform comes from
:func:`neurokit2.rsp_simulate` and stands for **airflow** (a nasal thermistor or pressure
cannula), which stops in every apnoea. Beside it the simulator records **effort** on two
belts (thorax and abdomen): effort goes on, with the two belts out of phase, while the airway
is closed in an obstructive apnoea, and stops with the airflow in a central apnoea. We shape
the waveform into five patterns a clinician names (normal breathing, tachypnea, bradypnea,
obstructive apnea episodes with hypopnoeas and a few central apnoeas, Cheyne–Stokes periodic
breathing, whose pauses are central) and pair it with a pulse-oximetry series (SpO₂) that falls
while ventilation is missing, after a circulation delay, and recovers once breathing resumes.
Each simulated subject has its own baseline rate, depth, SpO₂, noise and motion artefacts, so
that windows of one subject resemble each other more than windows of another: the reason the
chapter cross-validates by subject. Every true event is recorded with its type.

No real respiration recording ships offline with the book's packages; these signals are a
teaching stand-in, not a validated physiological model.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

CLASSES = ("normal", "tachypnea", "bradypnea", "apnea", "cheyne-stokes")
RSP_RATE = 25.0   # Hz, the breathing signal: airflow (as a nasal thermistor or pressure cannula)
SPO2_RATE = 1.0   # Hz, the pulse oximeter's reported value
PHYSIOLOGICAL_BPM = (4.0, 70.0)  # breathing rates a sensor on a living person can show

FEATURES = (
    "rsp_mean", "rsp_std", "rate_mean", "rate_std", "amp_mean", "amp_cv", "interval_cv",
    "longest_pause_s", "shallow_frac", "spo2_mean", "spo2_min", "spo2_below90_s",
)


class SignalError(ValueError):
    """A signal that cannot be analysed as given (NaNs, flat line, implausible sampling rate)."""


EVENT_TYPES = ("obstructive", "central", "hypopnea")


@dataclass
class Recording:
    """One simulated subject: airflow and two effort belts at ``fs`` Hz, SpO₂ (%) at 1 Hz, and
    its ground truth."""

    rsp: np.ndarray
    spo2: np.ndarray
    fs: float
    label: str
    subject: int
    params: dict
    #: the simulator's ground truth: (start, end) in seconds of every apnoea, a stretch in
    #: which the airflow stays at or below 10 % of normal for at least 10 s (obstructive and
    #: central apnoeas, and the central pauses of Cheyne–Stokes breathing)
    pauses: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    #: effort belts (a.u.), thorax and abdomen, sampled as ``rsp``
    thorax: np.ndarray | None = None
    abdomen: np.ndarray | None = None
    #: every true event, a pandas DataFrame with ``start_s``, ``end_s``, ``type`` (one of
    #: :data:`EVENT_TYPES`) and ``desaturation``: the fall of the noise-free SpO₂ (points)
    #: that the event causes, after the circulation delay
    events: object = None


# ----------------------------------------------------------------------------- simulation

def _ramp_envelope(t, starts, durations, floor, ramp=1.5):
    """1 outside the events, ``floor`` (one value, or one per event) inside, with cosine
    ramps of ``ramp`` seconds."""
    env = np.ones_like(t)
    floors = np.broadcast_to(np.asarray(floor, dtype=float), np.shape(starts))
    for s, d, floor in zip(starts, durations, floors):
        inside = (t >= s) & (t < s + d)
        env[inside] = floor
        up = (t >= s - ramp) & (t < s)
        env[up] = np.minimum(env[up], floor + (1 - floor) * 0.5 * (1 + np.cos(np.pi * (t[up] - s + ramp) / ramp)))
        down = (t >= s + d) & (t < s + d + ramp)
        env[down] = np.minimum(env[down], floor + (1 - floor) * 0.5 * (1 - np.cos(np.pi * (t[down] - s - d) / ramp)))
    return env


def _events(rng, duration, spacing, lengths, p):
    """Start times, lengths and types of events: one every ``spacing`` (low, high) seconds, of
    a type drawn from :data:`EVENT_TYPES` with probabilities ``p``, whose length is drawn from
    ``lengths[type]`` (low, high) seconds."""
    starts, durations, types, s = [], [], [], rng.uniform(5, spacing[0])
    while s < duration - 5:
        kind = EVENT_TYPES[rng.choice(len(EVENT_TYPES), p=p)]
        d = rng.uniform(*lengths[kind])
        starts.append(s)
        durations.append(d)
        types.append(kind)
        s += d + rng.uniform(*spacing)
    return np.array(starts), np.array(durations), np.array(types, dtype=object)


def _cheyne_stokes_envelope(t, rng):
    """Crescendo–decrescendo breathing separated by central pauses; at the crest the breaths
    are 1.5–2 times normal (hyperpnoea), which restores the saturation once per cycle."""
    period = rng.uniform(45, 90)
    pause = rng.uniform(0.2, 0.4) * period
    phase = (t + rng.uniform(0, period)) % period
    breathing = phase < period - pause
    peak = rng.uniform(1.5, 2.0)  # hyperpnoea: the largest breaths exceed normal ones
    env = np.where(breathing, np.clip(np.sin(np.pi * phase / (period - pause)), 0, 1) ** 1.5, 0.0)
    return np.maximum(peak * env, 0.03), {"cycle_s": period, "pause_s": pause, "peak": peak}


def _saturation(ventilation, base, delay, gain, tau_recovery):
    """Noise-free SpO₂ (%) once a second from the ventilation (1 = normal, 0 = none).

    The ventilation deficit reaches the finger ``delay`` seconds later (the circulation time).
    While it lasts, saturation falls at ``gain`` points per second of full deficit; while the
    lungs are ventilated it recovers towards ``base`` with the time constant ``tau_recovery``
    (s), scaled by the share of ventilation: no breathing, no recovery. Saturation never rises
    above ``base`` (haemoglobin is then saturated)."""
    deficit = np.clip(1 - ventilation, 0, 1)
    deficit = np.concatenate([np.zeros(delay), deficit[: len(deficit) - delay]])
    drop = np.zeros(len(deficit))
    for i in range(1, len(deficit)):
        d = deficit[i]
        drop[i] = max(0.0, drop[i - 1] + gain * d - (1 - d) * drop[i - 1] / tau_recovery)
    return base - drop


def _belt(rng, wave, effort, drift, sign, n, t):
    """One effort belt: the breathing rhythm times the effort envelope, with its own gain,
    noise and baseline wander; ``sign`` is -1 where the belt moves against the other one."""
    belt = rng.uniform(0.6, 1.2) * drift * effort * sign * wave
    belt += rng.uniform(0.02, 0.08) * rng.standard_normal(n)
    belt += 0.2 * np.sin(2 * np.pi * t / rng.uniform(30, 90) + rng.uniform(0, 6.3))
    return belt + rng.uniform(-1, 1)


def simulate_subject(label: str, subject: int = 0, *, duration: float = 600.0, seed: int = 0,
                     fs: float = RSP_RATE) -> Recording:
    """Simulate ``duration`` seconds of airflow, effort and SpO₂ for one subject of ``label``.

    The subject's baseline breathing rate, depth, SpO₂, noise level, circulation delay and
    artefacts are drawn from a generator seeded by ``(seed, subject)``, so a subject is the same
    every run. The apnoea class has events every 25–60 s: obstructive apnoeas (airflow below
    6 % of normal for 10–30 s while effort goes on, the abdominal belt moving against the
    thoracic one), central apnoeas (airflow and effort stop) and hypopnoeas (airflow at 20–45 %
    of normal for 15–40 s, effort goes on), with probabilities 0.55, 0.10 and 0.35. The pauses
    of Cheyne–Stokes breathing are central. Chapter 8 describes the physiology behind each class.
    """
    import neurokit2 as nk
    import pandas as pd

    if label not in CLASSES:
        raise ValueError(f"simulate_subject: label must be one of {CLASSES}, got {label!r}")
    if fs != int(fs) or fs < 5:
        raise ValueError(f"simulate_subject: fs must be a whole number of Hz >= 5, got {fs}")
    if duration < 60:
        raise ValueError(f"simulate_subject: duration must be at least 60 s, got {duration}")
    rng = np.random.default_rng([seed, subject, CLASSES.index(label)])
    rate = {"normal": (12, 18), "tachypnea": (22, 36), "bradypnea": (6, 10),
            "apnea": (12, 18), "cheyne-stokes": (12, 18)}[label]
    base_spo2 = {"normal": (95, 99), "tachypnea": (90, 96), "bradypnea": (91, 97),
                 "apnea": (94, 98), "cheyne-stokes": (93, 97)}[label]
    depth = {"tachypnea": (0.45, 0.9), "bradypnea": (0.8, 1.4)}.get(label, (0.7, 1.3))
    p = {"rate_bpm": rng.uniform(*rate), "depth": rng.uniform(*depth),
         "spo2_base": rng.uniform(*base_spo2), "noise": rng.uniform(0.02, 0.12)}
    n = int(round(duration * fs))
    t = np.arange(n) / fs
    wave = nk.rsp_simulate(duration=int(np.ceil(duration)), sampling_rate=int(fs),
                           respiratory_rate=p["rate_bpm"],
                           noise=0, random_state=int(rng.integers(2**31)))[:n]
    wave = (wave - wave.mean()) / (wave.std() + 1e-12)
    # slow drift of depth (posture, sleep stage) common to every class
    drift = 1 + 0.15 * np.sin(2 * np.pi * t / rng.uniform(120, 300) + rng.uniform(0, 6.3))
    env, effort, paradox = np.ones(n), np.ones(n), np.ones(n)
    placed = pd.DataFrame(columns=["start_s", "end_s", "type"])
    if label == "apnea":
        starts, lengths, types = _events(
            rng, duration, spacing=(25, 60), p=(0.55, 0.10, 0.35),
            lengths={"obstructive": (10, 30), "central": (10, 30), "hypopnea": (15, 40)})
        hyp = types == "hypopnea"
        floors = np.where(hyp, rng.uniform(0.2, 0.45, len(starts)),
                          rng.uniform(0.0, 0.06, len(starts)))
        env = _ramp_envelope(t, starts, lengths, floor=floors)
        central = types == "central"
        effort = _ramp_envelope(t, starts[central], lengths[central], floor=floors[central])
        obstructive = types == "obstructive"
        paradox = 2 * _ramp_envelope(t, starts[obstructive], lengths[obstructive], 0.0) - 1
        placed = pd.DataFrame({"start_s": starts, "end_s": np.minimum(starts + lengths, duration),
                               "type": types})
        placed = placed[placed["end_s"] - placed["start_s"] >= 10]   # cut short by the end
        p.update(events=len(starts), mean_event_s=float(lengths.mean()))
    elif label == "cheyne-stokes":
        env, extra = _cheyne_stokes_envelope(t, rng)
        effort = env
        p.update(extra)
    rsp = p["depth"] * drift * env * wave
    # sensor noise, baseline wander and motion artefacts (bursts of large noise)
    rsp += p["noise"] * rng.standard_normal(n)
    rsp += 0.3 * np.sin(2 * np.pi * t / rng.uniform(30, 90) + rng.uniform(0, 6.3))
    for _ in range(rng.poisson(2)):
        s, d = rng.uniform(0, duration - 8), rng.uniform(1.5, 6)
        burst = (t >= s) & (t < s + d)
        rsp[burst] += rng.uniform(0.5, 2.0) * rng.standard_normal(burst.sum()).cumsum() / 8
    rsp += rng.uniform(-1, 1)  # an arbitrary sensor offset
    thorax = _belt(rng, wave, effort, drift, 1.0, n, t)
    abdomen = _belt(rng, wave, effort, drift, paradox, n, t)
    # SpO2: falls while ventilation is missing (after the circulation delay), recovers after
    ts = np.arange(int(duration * SPO2_RATE)) / SPO2_RATE
    delay = int(rng.uniform(15, 35) * SPO2_RATE)
    gain, tau = rng.uniform(0.2, 0.4), rng.uniform(6, 12)  # points/s of full apnoea; s
    clean_spo2 = _saturation(np.interp(ts, t, env), p["spo2_base"], delay, gain, tau)
    spo2 = clean_spo2 + 0.4 * rng.standard_normal(len(ts))
    for _ in range(rng.poisson(1.0)):  # motion artefact: a brief false dip
        s = int(rng.uniform(0, len(ts) - 10))
        spo2[s: s + int(rng.uniform(3, 10))] -= rng.uniform(3, 10)
    spo2 = np.clip(np.round(spo2), 50, 100)  # oximeters report whole percent
    pauses = np.array([(a / fs, b / fs) for a, b in _runs(env <= 0.1) if b - a >= 10 * fs],
                      dtype=float).reshape(-1, 2)
    truth = _true_events(pauses, placed, clean_spo2, delay, central_only=label != "apnea")
    return Recording(rsp=rsp, spo2=spo2, fs=fs, label=label, subject=subject, params=p,
                     pauses=pauses, thorax=thorax, abdomen=abdomen, events=truth)


def _true_events(pauses, placed, clean_spo2, delay, central_only):
    """The table of true events: every apnoea of ``pauses`` with the type of the placed event
    it lies on (central for Cheyne–Stokes pauses), every placed hypopnoea, and the fall of
    the noise-free saturation each one causes: the largest drop from a peak to a later value
    between its onset and its end, both shifted by the circulation delay, plus 10 s."""
    import pandas as pd

    rows = []
    for a, b in pauses:
        kind = "central"
        if not central_only:
            on = placed[(placed["start_s"] < b) & (placed["end_s"] > a)]
            kind = on["type"].iloc[0] if len(on) else "central"
        rows.append((a, b, kind))
    rows += [(a, b, "hypopnea") for a, b in
             placed.loc[placed["type"] == "hypopnea", ["start_s", "end_s"]].to_numpy(float)]
    rows.sort()
    desat = []
    for a, b, _ in rows:
        i = min(int(a) + delay, len(clean_spo2) - 1)
        j = min(int(np.ceil(b)) + delay + 10, len(clean_spo2))
        seg = clean_spo2[i:j]
        desat.append(float(np.max(np.maximum.accumulate(seg) - seg)))
    table = pd.DataFrame(rows, columns=["start_s", "end_s", "type"])
    table["desaturation"] = desat
    return table


def simulate_cohort(n_per_class: int = 20, *, duration: float = 600.0, seed: int = 0,
                    fs: float = RSP_RATE) -> list[Recording]:
    """``n_per_class`` simulated subjects of each class in :data:`CLASSES` (chapter 8)."""
    if n_per_class < 1:
        raise ValueError(f"simulate_cohort: n_per_class must be >= 1, got {n_per_class}")
    cohort, sid = [], 0
    for label in CLASSES:
        for _ in range(n_per_class):
            cohort.append(simulate_subject(label, sid, duration=duration, seed=seed, fs=fs))
            sid += 1
    return cohort


# ----------------------------------------------------------------------------- validation

def _runs(mask):
    """(start, stop) indices of the runs of True in a boolean array (stop exclusive)."""
    padded = np.concatenate([[0], np.asarray(mask).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _nan_runs(mask):
    """Lengths (samples) of the runs of True in a boolean array."""
    return np.array([b - a for a, b in _runs(mask)], dtype=int)


def dominant_rate_bpm(signal, fs: float) -> float:
    """The strongest periodicity of a breathing signal, in breaths per minute (Welch spectrum,
    searched between 0.05 Hz and the Nyquist frequency)."""
    from scipy.signal import detrend, welch

    x = detrend(np.asarray(signal, dtype=float))
    f, pxx = welch(x, fs=fs, nperseg=min(len(x), int(fs * 64)))
    band = f >= 0.05
    return float(f[band][np.argmax(pxx[band])] * 60)


def validate_rsp(signal, fs: float, *, repair_nans: bool = False, max_gap_s: float = 2.0,
                 name: str = "breathing signal") -> np.ndarray:
    """Check a breathing signal before analysis; return it as a float array.

    Raises :class:`SignalError` for: not 1-D or shorter than 30 s; NaN or infinite values
    (unless ``repair_nans=True`` and every gap is at most ``max_gap_s`` seconds, which are then
    filled by linear interpolation, a repair we document rather than hide); a flat line (no
    breathing, or a disconnected sensor); a dominant rhythm outside 4–70 breaths/min, which
    usually means ``fs`` is not the rate the signal was sampled at. Chapter 8.
    """
    if not np.isscalar(fs) or not np.isfinite(fs) or fs <= 0:
        raise SignalError(f"{name}: sampling rate fs must be a positive number of Hz, got {fs!r}")
    x = np.asarray(signal, dtype=float)
    if x.ndim != 1:
        raise SignalError(f"{name}: expected a 1-D signal, got shape {x.shape}")
    if len(x) < 30 * fs:
        raise SignalError(f"{name}: {len(x)} samples at {fs:g} Hz is {len(x) / fs:.1f} s; "
                          f"need at least 30 s to see several breaths")
    bad = ~np.isfinite(x)
    if bad.any():
        longest = _nan_runs(bad).max() / fs
        where = np.flatnonzero(bad)[0] / fs
        if not repair_nans or longest > max_gap_s or bad.mean() > 0.2:
            raise SignalError(
                f"{name}: {bad.sum()} missing (NaN/inf) samples, the first at {where:.1f} s, "
                f"longest gap {longest:.1f} s. Pass repair_nans=True to interpolate gaps of at "
                f"most max_gap_s={max_gap_s:g} s, or cut the recording around them")
        good = np.flatnonzero(~bad)
        x = x.copy()
        x[bad] = np.interp(np.flatnonzero(bad), good, x[good])
    spread = np.std(x)
    if spread < 1e-6 * max(1.0, np.abs(x).max()) or np.ptp(x) == 0:
        raise SignalError(f"{name}: flat line (standard deviation {spread:.2g}): no breathing "
                          f"movement is recorded; is the sensor connected?")
    bpm = dominant_rate_bpm(x, fs)
    lo, hi = PHYSIOLOGICAL_BPM
    if not lo <= bpm <= hi:
        raise SignalError(
            f"{name}: at fs={fs:g} Hz the dominant rhythm is {bpm:.1f} breaths/min, outside the "
            f"physiological {lo:g}–{hi:g}; is fs the rate the signal was sampled at?")
    return x


def validate_spo2(spo2, *, name: str = "SpO2") -> np.ndarray:
    """Check an oxygen-saturation series in percent; return it as a float array.

    Raises :class:`SignalError` for NaNs, values outside 50–100 % (a fraction such as 0.97 is
    named as such), or a series shorter than 30 samples. Chapter 8.
    """
    x = np.asarray(spo2, dtype=float)
    if x.ndim != 1 or len(x) < 30:
        raise SignalError(f"{name}: expected a 1-D series of at least 30 samples, got shape "
                          f"{x.shape}")
    if not np.isfinite(x).all():
        raise SignalError(f"{name}: {int((~np.isfinite(x)).sum())} missing values (probe off?); "
                          f"cut them out before analysis")
    if x.max() <= 1.0:
        raise SignalError(f"{name}: values lie in [{x.min():.2f}, {x.max():.2f}]: a fraction, "
                          f"not percent; multiply by 100")
    if x.min() < 50 or x.max() > 100:
        raise SignalError(f"{name}: values must lie in 50–100 %, got {x.min():g}–{x.max():g}")
    return x


# ----------------------------------------------------------------------------- features

def process_rsp(signal, fs: float, *, full: bool = False):
    """Validate and process a breathing signal with neurokit2; returns ``(table, info)``.

    ``full=True`` calls :func:`neurokit2.rsp_process` and returns everything it computes. The
    default runs the same steps as ``rsp_process`` that the features need (``rsp_clean``,
    ``rsp_peaks`` with the same ``amplitude_min=0.3``, ``rsp_amplitude``, rate from the
    troughs) and skips breath symmetry, phase and RVT, which take most of its time (chapter 8).
    neurokit2 may warn about breaths it cannot delineate; their rate and amplitude are
    interpolated, so those warnings (from neurokit2's own modules only) are silenced.
    """
    import neurokit2 as nk
    import pandas as pd

    x = validate_rsp(signal, fs)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"neurokit2\..*")
        if full:
            return nk.rsp_process(x, sampling_rate=fs)
        clean = nk.rsp_clean(x, sampling_rate=fs)
        peak_signal, info = nk.rsp_peaks(clean, sampling_rate=fs, amplitude_min=0.3)
        info["sampling_rate"] = fs
        amplitude = nk.rsp_amplitude(clean, peak_signal)
        rate = nk.signal_rate(info["RSP_Troughs"], sampling_rate=fs, desired_length=len(x))
    table = pd.DataFrame({"RSP_Raw": x, "RSP_Clean": clean, "RSP_Amplitude": amplitude,
                          "RSP_Rate": rate})
    return pd.concat([table, peak_signal], axis=1), info


def time_below(spo2, threshold: float = 90.0, fs: float = SPO2_RATE) -> float:
    """Seconds a SpO₂ series spends strictly below ``threshold`` percent (chapter 8)."""
    x = np.asarray(spo2, dtype=float)
    return float((x < threshold).sum() / fs)


def window_features(table, peaks, spo2, fs: float, start_s: float, length_s: float) -> dict:
    """Features of one window ``[start_s, start_s + length_s)`` of a processed recording.

    ``table`` and ``peaks`` come from :func:`process_rsp`; ``spo2`` is sampled at 1 Hz.
    """
    a, b = int(start_s * fs), int((start_s + length_s) * fs)
    raw = table["RSP_Raw"].to_numpy()[a:b]
    rate = table["RSP_Rate"].to_numpy()[a:b]
    amp = table["RSP_Amplitude"].to_numpy()[a:b]
    pk = np.asarray(peaks)
    pk = pk[(pk >= a) & (pk < b)]
    times = np.concatenate([[a], pk, [b]]) / fs  # window edges count as the ends of a pause
    intervals = np.diff(pk) / fs
    breath_amp = table["RSP_Amplitude"].to_numpy()[pk] if len(pk) else np.zeros(1)
    big = np.percentile(breath_amp, 90) + 1e-9
    s = spo2[int(start_s * SPO2_RATE): int((start_s + length_s) * SPO2_RATE)]
    return {
        "rsp_mean": float(raw.mean()),
        "rsp_std": float(raw.std()),
        "rate_mean": float(np.nanmean(rate)),
        "rate_std": float(np.nanstd(rate)),
        "amp_mean": float(np.nanmean(amp)),
        "amp_cv": float(np.nanstd(amp) / (abs(np.nanmean(amp)) + 1e-9)),
        "interval_cv": float(intervals.std() / intervals.mean()) if len(intervals) > 2 else 1.0,
        "longest_pause_s": float(np.diff(times).max()),
        "shallow_frac": float((breath_amp < 0.5 * big).mean()),
        "spo2_mean": float(s.mean()),
        "spo2_min": float(s.min()),
        "spo2_below90_s": time_below(s, 90.0),
    }


def recording_features(rec: Recording, *, window_s: float = 120.0, step_s: float = 60.0):
    """Process one recording and cut it into overlapping windows; a list of feature dicts,
    each with the subject and class added (chapter 8)."""
    table, info = process_rsp(rec.rsp, rec.fs)
    spo2 = validate_spo2(rec.spo2)
    duration = len(rec.rsp) / rec.fs
    rows = []
    for start in np.arange(0, duration - window_s + 1e-9, step_s):
        row = window_features(table, info["RSP_Peaks"], spo2, rec.fs, start, window_s)
        row.update(subject=rec.subject, label=rec.label, start_s=float(start))
        rows.append(row)
    return rows


def cohort_features(cohort, *, window_s: float = 120.0, step_s: float = 60.0,
                    progress_bar: bool = True):
    """Window features of every recording of a cohort as a pandas DataFrame (chapter 8)."""
    import pandas as pd

    from medlab.progress import progress

    it = progress(cohort, desc="processing", unit="subject") if progress_bar else cohort
    rows = []
    for rec in it:
        rows.extend(recording_features(rec, window_s=window_s, step_s=step_s))
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- event scoring

def breathing_envelope(signal, fs: float, *, baseline_s: float = 120.0):
    """The breathing amplitude as a fraction of its pre-event baseline, once a second (chapter 8).

    The signal is cleaned as in :func:`process_rsp` (``neurokit2.rsp_clean``); its amplitude
    is the magnitude of the analytic signal (Hilbert transform), averaged over each second.
    The baseline of second *i* is the 90th percentile of that amplitude over the ``baseline_s``
    seconds *before* it (a trailing window, as the "pre-event baseline" of sleep scoring); the
    first ``baseline_s`` seconds, which have no such past, share the baseline of the first
    ``baseline_s`` seconds. Returns ``(ratio, amplitude)``, two arrays of one value per second.
    Works for an effort belt as for airflow.
    """
    import neurokit2 as nk
    from scipy.ndimage import percentile_filter
    from scipy.signal import hilbert

    x = validate_rsp(signal, fs)
    if not np.isfinite(baseline_s) or baseline_s < 30:
        raise ValueError(f"breathing_envelope: baseline_s must be at least 30 s, got {baseline_s}")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"neurokit2\..*")
        clean = nk.rsp_clean(x, sampling_rate=fs)
    amplitude = np.abs(hilbert(clean))
    edges = (np.arange(int(len(x) // fs) + 1) * fs).astype(int)
    per_s = np.add.reduceat(amplitude, edges[:-1]) / np.diff(edges)
    w = min(int(baseline_s), len(per_s))
    # window [i - w, i - 1]: the trailing window of width w ending at i - 1
    trailing = percentile_filter(per_s, 90, size=w, mode="nearest", origin=(w - 1) // 2)
    base = np.empty_like(per_s)
    base[w:] = trailing[w - 1: -1]
    base[:w] = np.percentile(per_s[:w], 90)
    return per_s / np.maximum(base, 1e-12), per_s


def score_events(signal, spo2, fs: float, *, effort=None, apnea_drop: float = 0.9,
                 hypopnea_drop: float = 0.3, desaturation: float = 3.0,
                 min_duration_s: float = 10.0, baseline_s: float = 120.0,
                 central_effort: float = 0.3):
    """Score apnoeas and hypopnoeas the way a sleep laboratory does (chapter 8).

    ``signal`` is airflow (at ``fs`` Hz), ``spo2`` one value per second. An **apnoea** is a
    drop of the airflow amplitude by at least ``apnea_drop`` (90 %) of its pre-event baseline
    (:func:`breathing_envelope`) lasting at least ``min_duration_s`` (10 s); a **hypopnoea** is
    a drop of at least ``hypopnea_drop`` (30 %) for at least 10 s with a fall of SpO₂ of at
    least ``desaturation`` points (3, the AASM rule; 4 for the older rule CMS still uses).
    The fall is the largest drop from a peak to a later value of the SpO₂ series (smoothed by a
    5-s running median, so that one noisy high reading does not inflate it) between 10 s after
    the event's onset and 40 s after its end: the circulation delay puts the event's own dip
    there, and a fall that is already under way at the onset belongs to the previous event.
    The rule's other branch, a hypopnoea ended by an arousal, needs EEG and is not applied.

    ``effort``: optional effort belts (one array, or a sequence such as ``(thorax, abdomen)``,
    sampled as ``signal``). An apnoea is then **central** when the effort amplitude of every
    belt stays below ``central_effort`` (0.3) of its own baseline over the apnoea (the median
    over its seconds), else **obstructive**; mixed apnoeas (central, then obstructed) are not
    told apart. Returns a pandas DataFrame with one row per event: ``start_s``, ``end_s``,
    ``kind`` (``"apnea"`` or ``"hypopnea"``), ``desaturation`` (points), ``type``
    (``"obstructive"``, ``"central"``, ``"hypopnea"``, or ``"apnea"`` without effort) and
    ``effort`` (the effort ratio of an apnoea, NaN otherwise).
    """
    import pandas as pd
    from scipy.ndimage import median_filter

    s = validate_spo2(spo2)
    if not 0 < hypopnea_drop < apnea_drop < 1:
        raise ValueError(f"score_events: need 0 < hypopnea_drop < apnea_drop < 1, got "
                         f"{hypopnea_drop} and {apnea_drop}")
    if min_duration_s <= 0:
        raise ValueError(f"score_events: min_duration_s must be positive, got {min_duration_s}")
    if desaturation <= 0:
        raise ValueError(f"score_events: desaturation must be positive (points), got "
                         f"{desaturation}")
    ratio, _ = breathing_envelope(signal, fs, baseline_s=baseline_s)
    if abs(len(s) - len(ratio)) > 2:
        raise ValueError(f"score_events: spo2 must hold one value per second of the breathing "
                         f"signal ({len(ratio)}), got {len(s)}")
    belts = []
    if effort is not None:
        belts = [effort] if np.ndim(effort[0]) == 0 else list(effort)
        for k, belt in enumerate(belts):
            if len(belt) != len(signal):
                raise ValueError(f"score_events: effort belt {k} must have as many samples as "
                                 f"the airflow signal ({len(signal)}), got {len(belt)}")
        belts = [breathing_envelope(belt, fs, baseline_s=baseline_s)[0] for belt in belts]
    smooth = median_filter(s, size=5, mode="nearest")
    columns = ["start_s", "end_s", "kind", "desaturation", "type", "effort"]
    rows = []
    for a, b in _runs(ratio <= 1 - hypopnea_drop):
        if b - a < min_duration_s:
            continue
        seg = smooth[min(a + 10, len(s) - 1): min(len(s), b + 40)]
        desat = float(np.max(np.maximum.accumulate(seg) - seg))   # a peak, then a lower value
        deep = [(a + x, a + y) for x, y in _runs(ratio[a:b] <= 1 - apnea_drop)
                if y - x >= min_duration_s]
        if deep:
            kind, kind_type, level = "apnea", "apnea", np.nan
            if belts:
                x, y = deep[0][0], deep[-1][1]
                level = float(max(np.median(e[x:y]) for e in belts))
                kind_type = "central" if level < central_effort else "obstructive"
        elif desat >= desaturation:
            kind, kind_type, level = "hypopnea", "hypopnea", np.nan
        else:
            continue
        rows.append({"start_s": float(a), "end_s": float(b), "kind": kind,
                     "desaturation": desat, "type": kind_type, "effort": level})
    return pd.DataFrame(rows, columns=columns)


def desaturations(spo2, *, drop: float = 3.0, baseline_s: float = 120.0,
                  min_duration_s: float = 10.0, fs: float = SPO2_RATE) -> np.ndarray:
    """Start and end (s) of every desaturation of at least ``drop`` points (chapter 8).

    The baseline is the median SpO₂ of the preceding ``baseline_s`` seconds; an event is a stretch
    of at least ``min_duration_s`` seconds at or below baseline − ``drop`` (shorter dips are
    mostly motion artefacts). The oxygen desaturation index, ODI3, is their number per hour.
    """
    from scipy.ndimage import median_filter

    s = validate_spo2(spo2)
    if drop <= 0:
        raise ValueError(f"desaturations: drop must be positive (points of SpO2), got {drop}")
    w = max(1, int(round(baseline_s * fs)))
    # a trailing window: the centred median filter of width w shifted by half its width
    base = median_filter(s, size=w, mode="nearest", origin=(w - 1) // 2)
    base[0] = s[0]
    events = [(a / fs, b / fs) for a, b in _runs(s <= base - drop) if b - a >= min_duration_s * fs]
    return np.array(events, dtype=float).reshape(-1, 2)


def sleep_indices(rec: Recording, events=None) -> dict:
    """REI, ODI3 and T90 of one recording, as a home sleep test reports them (chapter 8).

    REI (respiratory event index): scored apnoeas + hypopnoeas per hour of *recording* time
    (``events``, from :func:`score_events` when not given). It is not the AHI of a sleep
    laboratory, which divides by the hours of *sleep* (known only from EEG sleep staging) and
    also counts hypopnoeas ended by an arousal. ODI3: 3-point desaturations per hour
    (:func:`desaturations`); T90: percentage of the time with SpO₂ below 90 %.
    """
    if events is None:
        events = score_events(rec.rsp, rec.spo2, rec.fs)
    hours = len(rec.spo2) / SPO2_RATE / 3600
    return {"REI": len(events) / hours,
            "apneas": int((events["kind"] == "apnea").sum()),
            "hypopneas": int((events["kind"] == "hypopnea").sum()),
            "ODI3": len(desaturations(rec.spo2)) / hours,
            "T90": 100 * time_below(rec.spo2, 90.0) / (len(rec.spo2) / SPO2_RATE)}


EVENT_FEATURES = ("rei", "odi3", "t90", "central_frac", "cycle_s")


def event_window_features(events, desats, spo2, start_s: float, length_s: float) -> dict:
    """Sleep-scoring features of one window ``[start_s, start_s + length_s)`` (chapter 8).

    ``events`` comes from :func:`score_events` (with effort, so that apnoeas carry a type),
    ``desats`` from :func:`desaturations`, ``spo2`` is sampled at 1 Hz. An event belongs to
    the window in which it starts. Returns ``rei`` and ``odi3`` (events and desaturations per
    hour of the window), ``t90`` (% of the window below 90 % SpO₂), ``central_frac`` (the share
    of the window's apnoeas that are central; 0 without apnoeas) and ``cycle_s`` (the median
    time from one event's onset to the next one's; ``length_s`` when fewer than two events
    start in the window, as "no cycle seen").
    """
    if length_s <= 0:
        raise ValueError(f"event_window_features: length_s must be positive, got {length_s}")
    missing = {"start_s", "type"} - set(getattr(events, "columns", ()))
    if missing:
        raise ValueError(f"event_window_features: events must be a table from score_events "
                         f"with columns start_s and type; missing {sorted(missing)}")
    end = start_s + length_s
    ev = events[(events["start_s"] >= start_s) & (events["start_s"] < end)]
    d = np.asarray(desats, dtype=float).reshape(-1, 2)
    s = np.asarray(spo2, dtype=float)[int(start_s * SPO2_RATE): int(end * SPO2_RATE)]
    apnoeas = ev[ev["type"].isin(["obstructive", "central", "apnea"])]
    onsets = np.sort(ev["start_s"].to_numpy(float))
    return {
        "rei": len(ev) / (length_s / 3600),
        "odi3": int(((d[:, 0] >= start_s) & (d[:, 0] < end)).sum()) / (length_s / 3600),
        "t90": 100 * float((s < 90).mean()) if len(s) else 0.0,
        "central_frac": float((apnoeas["type"] == "central").mean()) if len(apnoeas) else 0.0,
        "cycle_s": float(np.median(np.diff(onsets))) if len(onsets) > 1 else float(length_s),
    }


def events_found(true_events, scored_events) -> np.ndarray:
    """For each true event (rows of start, end in s), whether a scored event overlaps it
    (chapter 8). Both arguments are arrays of shape (n, 2)."""
    t = np.asarray(true_events, dtype=float)
    d = np.asarray(scored_events, dtype=float)
    for name, a in (("true_events", t), ("scored_events", d)):
        if a.size and (a.ndim != 2 or a.shape[1] != 2):
            raise ValueError(f"events_found: {name} must have shape (n, 2) (start, end in s), "
                             f"got {a.shape}")
    t, d = t.reshape(-1, 2), d.reshape(-1, 2)
    return np.array([bool(((d[:, 0] < b) & (d[:, 1] > a)).any()) for a, b in t], dtype=bool)


def event_agreement(true_events, scored_events) -> dict:
    """How a detector's events agree with the true ones (chapter 8), as counts that add up
    over recordings: ``true`` events, ``found`` (true events that a scored event overlaps: the
    numerator of the recall), ``scored`` events and ``correct`` (scored events that overlap a
    true event: the numerator of the precision, PPV). ``scored - correct`` are false events.
    """
    return {"true": int(len(np.asarray(true_events, dtype=float).reshape(-1, 2))),
            "found": int(events_found(true_events, scored_events).sum()),
            "scored": int(len(np.asarray(scored_events, dtype=float).reshape(-1, 2))),
            "correct": int(events_found(scored_events, true_events).sum())}
