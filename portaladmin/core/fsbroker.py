"""The filesystem broker of `make run` (no Redis needed), with messages written atomically.

Kombu's filesystem transport writes a message file in place, under an advisory lock its reader never takes: a
worker polling the folder can move and read the file before its bytes are there, read an empty file, fail to parse
it and die (`make run` then stops everything). Here a message is written beside the queue under a name the reader
skips, then renamed into place: a rename within one folder is atomic, so a reader sees a whole message or none.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".partial-{name}")  # not "<id>.<queue>.msg": never read
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
