"""Where requests wait under load (bench/waits.py): inside a worker, from the lines each one
notes, and before it, in the listening socket's accept queue."""

import socket
import time

from bench import waits


def test_a_recorder_s_lines_pair_each_request_with_its_response_s_start(tmp_path):
    recorder = waits.Recorder(tmp_path)
    generate = recorder.entered("POST", "/w/1/generate/")
    events = recorder.entered("GET", "/generations/7/events/")
    recorder.entered("GET", "/drafts/")  # its response never started
    recorder.started(events)
    recorder.started(generate)

    noted = waits.read(tmp_path)

    assert [(r.kind, r.inside is not None) for r in noted] == [
        ("generate", True),
        ("events", True),
        ("other", False),
    ]
    assert all(0 <= r.inside < 5 for r in noted[:2])


def test_the_summary_gives_each_window_of_arrival_its_kinds_and_their_time_inside():
    burst = [
        waits.Request("generate", 100.0, 0.5),
        waits.Request("generate", 100.5, 1.5),
        waits.Request("events", 101.0, 0.25),
        waits.Request("events", 103.0, 2.0),
        waits.Request("events", 103.5, None),
    ]

    lines = waits.summary(burst, window=2.0)

    assert lines == [
        "5 requests over 3.5 s",
        "    0.0-  2.0 s  generate    2 entered, inside p50 1.00 s, max 1.50 s",
        "    0.0-  2.0 s  events      1 entered, inside p50 0.25 s, max 0.25 s",
        "    2.0-  4.0 s  events      2 entered, inside p50 2.00 s, max 2.00 s, 1 never started",
    ]


def test_bursts_part_where_no_request_came_for_a_while():
    times = [0.0, 1.0, 2.0, 9.0, 9.5]
    requests = [waits.Request("other", t, 0.1) for t in times]

    parts = waits.bursts(requests, quiet=5.0)

    assert [[r.entered for r in part] for part in parts] == [[0.0, 1.0, 2.0], [9.0, 9.5]]


def test_the_accept_queue_counts_connections_no_one_has_accepted_yet():
    listener = socket.create_server(("127.0.0.1", 0), backlog=16)
    port = listener.getsockname()[1]
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    try:
        deadline = time.monotonic() + 10
        while waits.accept_queue(port) != 3:  # the kernel completes loopback handshakes
            assert time.monotonic() < deadline, waits.accept_queue(port)
            time.sleep(0.01)
        accepted, _ = listener.accept()
        accepted.close()

        assert waits.accept_queue(port) == 2
        assert waits.accept_queue(_unused_port()) is None
    finally:
        for client in clients:
            client.close()
        listener.close()


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
