"""The server's run queue serves keys in turn: a key with a hundred briefs queued does not make
another key's chat turn wait behind all of them."""
from agent.service.queue import FairQueue


def test_one_busy_key_does_not_starve_another():
    queue = FairQueue()
    for i in range(100):
        queue.put("batch-client", f"brief-{i}")
    queue.put("chat-user", "turn-1")
    served = [queue.get(timeout=0) for _ in range(4)]
    assert served == ["brief-0", "turn-1", "brief-1", "brief-2"]
    assert queue.depth() == 97


def test_each_key_keeps_its_own_order_and_removed_runs_are_skipped():
    queue = FairQueue()
    for owner, run in [("a", "a1"), ("a", "a2"), ("b", "b1"), ("c", "c1"), ("b", "b2")]:
        queue.put(owner, run)
    assert queue.remove("b1") and not queue.remove("nope")
    assert [queue.get(timeout=0) for _ in range(4)] == ["a1", "b2", "c1", "a2"]
    assert queue.get(timeout=0) is None
