"""Shared helpers of the experiment, Bayesian A/B and off-policy reference scripts: the same JSON writer as
scripts/stats-reference, with fixtures under test/fixtures/stats-b."""
import importlib.util
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
FIXTURES = os.path.join(ROOT, 'test', 'fixtures', 'stats-b')

_spec = importlib.util.spec_from_file_location(
    'stats_reference_common', os.path.join(ROOT, 'scripts', 'stats-reference', 'common.py')
)
_common = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_common)
clean = _common.clean


def write(name, cases):
    _common.write(name, cases, FIXTURES)
