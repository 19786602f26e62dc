"""A safer kombu filesystem transport for the embedded (no server) Celery broker.

riskreg's embedded default runs Celery without Redis or RabbitMQ: messages are
files in a folder, moved by kombu's ``filesystem`` transport. As shipped in
kombu 5.7 that transport has problems which this module fixes:

1. A publisher creates the message file under its final name and only then
   writes the content, so a worker polling in between reads an empty or partial
   file and dies on a JSON decode error. Here a message is written under a name
   the consumer never scans and renamed into place (``os.replace`` is atomic
   within one folder).
2. An unreadable file (empty, not JSON) makes ``drain_events`` raise, which
   takes the worker down, and kombu has already deleted the file unread. Here
   such a file is moved into a ``bad`` folder with a warning, and the next
   message is delivered.
3. It polls once a second; 0.1 s keeps the embedded setup responsive.

The exchange tables in the control folder (used for fanout, and so for
``celery inspect``/``control``) were created the same create-then-write way;
they are created atomically here too.

Everything else (file naming, ordering, routing, fanout) is kombu's own. This
module must stay importable without Django: settings.py imports it.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

__all__ = ["TRANSPORT", "Channel", "Transport", "broker_settings"]

logger = logging.getLogger(__name__)

#: Import path for Celery's ``broker_transport`` / kombu's ``Connection(transport=...)``.
#: A dotted path must be passed that way: kombu refuses one as a URL scheme.
TRANSPORT = "riskreg.lib.fsbroker:Transport"

POLLING_INTERVAL = 0.1

# Suffixes for files that must never look like a message: kombu's scans only
# take names ending in ".<queue>.msg", and these end otherwise.
_WRITING_SUFFIX = ".writing"
_CLAIMED_SUFFIX = ".claimed"


class Channel(filesystem.Channel):
    """kombu's filesystem channel with atomic writes and tolerant reads."""

    # The ignores: kombu-stubs' AbstractChannel and filesystem.Channel disagree
    # on these signatures; ours match filesystem.Channel, the class overridden.
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        # Same final name as kombu (its readers rely on the format), but the
        # content is written under a hidden name first and renamed into place,
        # so no reader ever sees an empty or half-written message.
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        folder = Path(self.data_folder_out)
        hidden = folder / f".{name}{_WRITING_SUFFIX}"
        try:
            _write_new(hidden, str_to_bytes(dumps(payload)))
            os.replace(hidden, folder / name)
        except OSError as exc:
            hidden.unlink(missing_ok=True)
            raise ChannelError(f"Cannot add file {name!r} to {folder}") from exc

    def _get(self, queue: str) -> dict[str, Any]:  # type: ignore[override]
        # Replaces kombu's, which deletes the file before decoding it (so a bad
        # one can be neither kept nor skipped) and, without store_processed,
        # claims it with shutil.move into the temp folder, which is a copy and
        # not an atomic claim when that is another file system.
        for name in self._queue_files(queue):
            claimed = self._claim(name)
            if claimed is None:
                continue  # another consumer took it first
            payload = self._read_claimed(claimed, name)
            if payload is not None:
                return payload
        raise Empty()

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str | None, queue: str) -> None:
        # kombu writes a new exchange table with open("wb") before taking the
        # lock, so a concurrent reader can find it empty (a JSON error while
        # publishing) and two first binders can overwrite each other. Creating
        # it complete and atomically first makes kombu take its locked
        # read-modify-write path every time.
        self._create_exchange_table(exchange)
        super()._queue_bind(exchange, routing_key, pattern, queue)

    def _queue_files(self, queue: str) -> list[str]:
        """Message file names for ``queue``, oldest first (kombu's filter and order)."""
        wanted = f"{queue}.msg"
        names = os.listdir(self.data_folder_in)
        return sorted(n for n in names if n.partition(".")[2] == wanted)

    def _claim(self, name: str) -> Path | None:
        """Take ``name`` for this consumer by renaming it; None if it is gone."""
        folder = Path(self.data_folder_in)
        claimed = folder / f".{name}{_CLAIMED_SUFFIX}"
        try:
            os.rename(folder / name, claimed)
        except OSError:
            return None
        return claimed

    def _read_claimed(self, claimed: Path, name: str) -> dict[str, Any] | None:
        """The message in ``claimed``, or None after moving an unreadable file aside."""
        try:
            raw = claimed.read_bytes()
        except OSError as exc:
            raise ChannelError(f"Cannot read file {name!r} from queue.") from exc
        payload = _decode(raw)
        if payload is None:
            self._set_aside(claimed, name)
            return None
        self._finish(claimed, name)
        return payload

    def _finish(self, claimed: Path, name: str) -> None:
        """Keep a read message in processed_folder when asked to, else delete it."""
        if self.store_processed:
            processed = Path(self.processed_folder)
            processed.mkdir(parents=True, exist_ok=True)
            os.replace(claimed, processed / name)
        else:
            claimed.unlink(missing_ok=True)

    def _set_aside(self, claimed: Path, name: str) -> None:
        """Move an unreadable message into bad_folder; never raise."""
        target = self.bad_folder / name
        try:
            self.bad_folder.mkdir(parents=True, exist_ok=True)
            os.replace(claimed, target)
        except OSError:
            # Still claimed (hidden), so it is never read again; keep going.
            logger.exception("Unreadable message file %s could not be moved aside", name)
            return
        logger.warning("Unreadable message file %s moved to %s", name, target)

    def _create_exchange_table(self, exchange: str) -> None:
        """Create an empty exchange table unless one exists, atomically."""
        # kombu's private helper validates the exchange name (no path tricks).
        table: Path = self._exchange_file(exchange)  # type: ignore[attr-defined]  # missing from kombu-stubs
        if table.exists():
            return
        table.parent.mkdir(parents=True, exist_ok=True)
        hidden = table.with_name(f".{table.name}.{uuid.uuid4()}{_WRITING_SUFFIX}")
        _write_new(hidden, b"[]")
        try:
            os.link(hidden, table)  # fails, leaving the winner's table, if one exists
        except FileExistsError:
            pass
        finally:
            hidden.unlink(missing_ok=True)

    @property
    def bad_folder(self) -> Path:
        """Where unreadable message files go: the ``bad_folder`` option or <queue folder>/bad."""
        configured = self.transport_options.get("bad_folder")
        if configured is None:
            return Path(self.data_folder_in) / "bad"
        return Path(configured)


class Transport(filesystem.Transport):
    """kombu's filesystem transport using :class:`Channel`, polling every 0.1 s."""

    Channel = Channel
    # The polling_interval transport option still overrides this.
    polling_interval = POLLING_INTERVAL
    # kombu keeps declared bindings in a per-process class attribute; a state of
    # our own keeps them apart from any plain filesystem:// connection.
    global_state = virtual.BrokerState()


def broker_settings(folder: Path) -> dict[str, Any]:
    """Celery settings for the embedded broker kept under ``folder`` (folders created).

    One queue folder serves as both kombu's ``data_folder_in`` and
    ``data_folder_out``, so publishers and workers meet there; ``control``
    holds the exchange tables that fanout (remote control, ping) needs.
    """
    folders = {
        key: folder / sub
        for key, sub in (
            ("queue", "queue"),
            ("control", "control"),
            ("processed", "processed"),
            ("bad", "bad"),
        )
    }
    for path in folders.values():
        path.mkdir(parents=True, exist_ok=True)
    return {
        # The host is ignored; naming one stops kombu's "No hostname was
        # supplied" warning each time it describes the connection.
        "broker_url": "filesystem://localhost/",
        "broker_transport": TRANSPORT,
        "broker_transport_options": {
            "data_folder_in": str(folders["queue"]),
            "data_folder_out": str(folders["queue"]),
            "control_folder": str(folders["control"]),
            "processed_folder": str(folders["processed"]),
            "store_processed": False,
            "bad_folder": str(folders["bad"]),
            "polling_interval": POLLING_INTERVAL,
        },
    }


def _write_new(path: Path, data: bytes) -> None:
    """Write ``data`` to a file that must not exist yet."""
    with open(path, "xb") as f:
        f.write(data)


def _decode(raw: bytes) -> dict[str, Any] | None:
    """The message in ``raw``, or None if it is not a kombu virtual message."""
    try:
        payload = loads(bytes_to_str(raw))
    except ValueError:  # json.JSONDecodeError is a ValueError
        return None
    if not isinstance(payload, dict):
        return None
    properties = payload.get("properties")
    # kombu's virtual Message needs properties["delivery_tag"]; without it the
    # worker would crash on a KeyError instead of a decode error.
    if not isinstance(properties, dict) or "delivery_tag" not in properties:
        return None
    return payload
