"""CPU per thread name (bench/threads.py): a process's threads named as Python names them,
their CPU read from /proc and added up by name."""

import os
import threading
import time

from bench import threads


def _spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_a_busy_thread_s_cpu_is_counted_under_its_python_name(tmp_path):
    """Two numbered threads of one kind spin 0.2 s of CPU each: 0.4 s under their name
    without its number; the main thread, which only waits, next to nothing."""
    pid = os.getpid()
    start, finish = threading.Event(), threading.Event()
    workers = [
        threading.Thread(target=lambda: (start.wait(), _spin(0.2), finish.wait()), name=name)
        for name in ("final-panel_0", "final-panel_1")
    ]
    for worker in workers:
        worker.start()
    threads.write_names(tmp_path)
    before = {pid: threads.cpu_ticks(pid)}
    start.set()
    deadline, spent = time.monotonic() + 30, {}
    while time.monotonic() < deadline:  # until /proc has counted both spins
        spent = threads.by_name(before, {pid: threads.cpu_ticks(pid)}, threads.names_in(tmp_path))
        if spent["final-panel"] >= 0.36:  # /proc counts whole ticks (10 ms)
            break
        time.sleep(0.05)
    finish.set()
    for worker in workers:
        worker.join()

    assert threads.names_in(tmp_path)[pid][threading.main_thread().native_id] == "MainThread"
    assert 0.36 <= spent["final-panel"] < 1.0
    assert spent["MainThread"] < 0.2


def test_numbered_names_count_together_and_unknown_threads_as_unnamed():
    before = {1: {10: 100, 11: 0}}
    after = {1: {10: 150, 11: 30, 12: 20}, 2: {20: 5}}
    names = {1: {10: "request", 11: "final-panel_3", 12: "final-panel-4"}}
    tick = os.sysconf("SC_CLK_TCK")

    spent = threads.by_name(before, after, names)

    assert spent == {"request": 50 / tick, "final-panel": 50 / tick, "unnamed": 5 / tick}
