"""The cyclic garbage collector set aside from what a worker held before a big sync stage.

A worker holds some 100,000 objects of its own (Django, the app, their modules), and each full
collection walked all of them again: with the rows and replies a 10,000-message first sync
makes, that was a tenth of its envelope stage. Frozen (gc.freeze), they are skipped until the
stage ends; objects made during the stage are collected as before, and a cycle among the frozen
ones is found by the first full collection after it.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def older_objects_frozen() -> Iterator[None]:
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
