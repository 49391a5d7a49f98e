"""Shared helpers for the reference-value scripts: JSON output with non-finite numbers spelled out."""
import json
import math
import os

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
FIXTURES = os.path.join(ROOT, 'test', 'fixtures', 'stats')


def clean(value):
    """Make a value JSON-safe: numpy scalars to Python, NaN/inf to the strings 'NaN', 'Infinity', '-Infinity'."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return [clean(v) for v in value.tolist()]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        if math.isnan(v):
            return 'NaN'
        if math.isinf(v):
            return 'Infinity' if v > 0 else '-Infinity'
        return v
    return value


def write(name, cases):
    os.makedirs(FIXTURES, exist_ok=True)
    path = os.path.join(FIXTURES, name)
    with open(path, 'w') as f:
        json.dump(clean(cases), f, indent=1, allow_nan=False)
        f.write('\n')
    print(f'wrote {len(cases)} cases to {os.path.relpath(path, ROOT)}')
