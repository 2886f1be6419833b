import gc
import weakref

from contactpoint.batch_gc import collect_young, young_collections_only


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


def test_automatic_collection_is_off_inside_and_restored_after():
    assert gc.isenabled()
    with young_collections_only():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_automatic_collection_is_restored_when_the_block_fails():
    try:
        with young_collections_only():
            raise RuntimeError
    except RuntimeError:
        pass
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled():
    gc.disable()
    try:
        with young_collections_only():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_collecting_the_young_generations_frees_a_batch_s_cycles():
    with young_collections_only():
        node = _Node()
        alive = weakref.ref(node)
        del node
        assert alive() is not None  # nothing collects it automatically
        collect_young()
        assert alive() is None
