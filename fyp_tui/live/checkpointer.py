"""What a session needs from its checkpointer: the interface the app, ``play`` and the CLI call.

:class:`~fyp_tui.live.checkpoint.Checkpoints` (a local world's: capture under the
lock, ordered writes on a writer thread) and the class client's
:class:`~fyp_tui.host.remote.RemoteCheckpoints` (the host checkpoints its world:
nothing to write) both subclass :class:`Checkpointer`, so mypy checks that each
has every member with a compatible signature.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any, Protocol


class Checkpointer(Protocol):
    """A session's checkpoints: take one (capture, then write in order), and finish."""

    @property
    def due(self) -> bool:
        """Whether a checkpoint should be taken now, before its timer."""
        ...

    def capture(self) -> Any:
        """Copy out what a checkpoint writes (on the feed queue, after what the person did)."""
        ...

    def submit_write(self, snap: Any) -> Future:
        """Write a captured checkpoint after every earlier write; done when it is written."""
        ...

    def final_save(self) -> None:
        """Checkpoint now and wait for it (the session is ending)."""
        ...

    def shutdown(self) -> None:
        """Let the writes in flight finish."""
        ...
