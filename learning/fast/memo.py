"""Values kept in each app process, for what even a cache round trip is too slow.

`Held` keeps values of a family (or of several: then while each of theirs is
current) while its generation (see learning.fast) is the current one: every read
asks the cache for the generation, one small round trip (a request that read it
already has it at hand, learning.fast.read_ahead), and a new generation drops
everything held. Without the cache (Redis down) nothing
is held, and as a backstop (a change made while Redis was down could not start a
new generation) nothing is held longer than `hold_seconds`.

`Frozen` keeps values that never change once made (an attempt's paper), by id,
at most `size` of them, dropping the least recently used.
"""

import threading
import time
from collections import OrderedDict

from . import enabled, generation


class Held:
    def __init__(self, family, load, hold_seconds=300):
        self.family, self.load, self.hold_seconds = family, load, hold_seconds
        self._lock = threading.Lock()
        self._generation, self._since, self._values = None, 0.0, {}

    def _current(self):
        if isinstance(self.family, str):
            return generation(self.family)
        found = tuple(generation(family) for family in self.family)
        return None if None in found else found

    def get(self, key):
        if not enabled():
            return self.load(key)
        current = self._current()
        now = time.monotonic()
        with self._lock:
            if current is None or now - self._since > self.hold_seconds:
                self._generation, self._values = None, {}
            if current is not None and self._generation == current and key in self._values:
                return self._values[key]
        value = self.load(key)
        # Keep it only if no change started a new generation while it was read.
        if current is not None and self._current() == current:
            with self._lock:
                if self._generation != current:
                    self._generation, self._since, self._values = current, now, {}
                self._values[key] = value
        return value


class Frozen:
    def __init__(self, load, size=2048):
        self.load, self.size = load, size
        self._lock = threading.Lock()
        self._values = OrderedDict()

    def get(self, key):
        if not enabled():
            return self.load(key)
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = self.load(key)
        if value is not None:
            with self._lock:
                self._values[key] = value
                while len(self._values) > self.size:
                    self._values.popitem(last=False)
        return value

    def forget(self, key):
        with self._lock:
            self._values.pop(key, None)
