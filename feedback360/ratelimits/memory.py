"""limits' memory storage made safe for a threaded worker; registered for "memory://"."""

from __future__ import annotations

import threading

from limits.storage import MemoryStorage


class LockedMemoryStorage(MemoryStorage):
    """limits' memory storage, its sweep of expired counts started under a lock, once a second.

    limits 5.8 checks and restarts its sweep timer without a lock, so two worker threads
    counting at once can start the same timer twice and one dies with a traceback (fixed
    upstream after 5.8, in limits pull request 352). It also starts a new thread every
    10 ms while requests arrive, a few milliseconds of every request; counts are checked
    against their expiry when read, so the sweep only frees memory and can wait a second.
    Registered for "memory://" in its place.
    """

    STORAGE_SCHEME = ["memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, *args: object, **kwargs: object) -> None:
        self._timer_lock = threading.Lock()
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def _MemoryStorage__schedule_expiry(self) -> None:  # the name limits calls it by
        with self._timer_lock:
            if self.timer.is_alive():
                return
            sweep = self._MemoryStorage__expire_events  # type: ignore[attr-defined]
            self.timer = threading.Timer(self.SWEEP_SECONDS, sweep)
            self.timer.daemon = True  # never keeps a stopping worker waiting
            self.timer.start()
