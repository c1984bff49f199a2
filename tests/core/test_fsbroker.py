"""The filesystem broker of `make run`: a message is read whole or not at all, however fast the worker polls."""

import threading

from kombu import Connection
from kombu.transport import filesystem

from portaladmin.core.fsbroker import Transport


def _channel(transport_cls, folder):
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "store_processed": False}
    conn = Connection(transport=transport_cls, transport_options=options)
    return conn, conn.default_channel


def _race(transport_cls, folder, messages: int = 400) -> tuple[int, list[Exception]]:
    """One thread writes messages while another reads as fast as it can (a worker polling the folder)."""
    writer_conn, writer = _channel(transport_cls, folder)
    reader_conn, reader = _channel(transport_cls, folder)
    body = {"body": "x" * 20_000, "headers": {}, "properties": {}}  # big enough to take a moment to write
    read, errors, done = [0], [], threading.Event()

    def write():
        for _ in range(messages):
            writer._put("celery", body)
        done.set()

    def drain():
        while not (done.is_set() and read[0] >= messages):
            try:
                assert reader._get("celery")["body"] == body["body"]
                read[0] += 1
            except filesystem.Empty:
                if done.is_set() and not any(folder.iterdir()):
                    break
            except Exception as exc:  # noqa: BLE001 - what a worker would die of
                errors.append(exc)
                read[0] += 1

    threads = [threading.Thread(target=write), threading.Thread(target=drain)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    writer_conn.release()
    reader_conn.release()
    return read[0], errors


def test_messages_are_read_whole_while_being_written(tmp_path):
    # kombu's own filesystem.Transport fails this in most runs (checked by hand, 1 Dec 2026: an empty file read,
    # JSONDecodeError — what stopped a `make run` worker in the middle of a 310-dataset publish).
    read, errors = _race(Transport, tmp_path)
    assert errors == [] and read == 400
    assert not list(tmp_path.iterdir())  # nothing half-written left behind
