"""A job's record of its events, as the stream and GET jobs/{id} read it."""

from __future__ import annotations

import threading

from jupyter_userpkg.server.jobs import MAX_EVENTS, Job


def test_events_are_numbered_and_the_oldest_dropped() -> None:
    job = Job("j", "a", "change", "change x")
    for i in range(MAX_EVENTS + 100):
        job.add_event({"phase": "download", "message": str(i)})
    first, events = job.events_after(0)
    assert first == 100 and len(events) == MAX_EVENTS
    assert events[0]["message"] == "100"
    first, events = job.events_after(550)
    assert first == 550 and [e["message"] for e in events] == [str(i) for i in range(550, 600)]
    assert job.events_after(600) == (600, [])
    assert job.to_dict(events=False)["events"] == [events[-1]]


def test_a_reader_misses_no_event_a_worker_adds() -> None:
    """The stream's loop: read what is new, then ask again from where it stopped."""
    job = Job("j", "a", "change", "change x")
    total = 400

    def worker() -> None:
        for i in range(total):
            job.add_event({"message": str(i)})

    thread = threading.Thread(target=worker)
    seen, got = 0, []
    thread.start()
    while thread.is_alive() or seen < job.event_count:
        first, events = job.events_after(seen)
        assert first == seen  # nothing dropped: fewer than MAX_EVENTS behind
        got += [e["message"] for e in events]
        seen = first + len(events)
    thread.join()
    assert got == [str(i) for i in range(total)]
