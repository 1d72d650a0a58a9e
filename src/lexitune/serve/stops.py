"""Stop sequences on streamed text: never send a client the start of a stop string it asked to cut.

Text that could still turn out to be the beginning of a stop string is held back until the next
piece settles it, so a streamed answer and a non-streamed one end at exactly the same character.

    python -c "from lexitune.serve.stops import StopFilter; f = StopFilter(['END']); print(f.feed('abcE'), f.feed('ND'), f.stopped)"
"""

from __future__ import annotations


class StopFilter:
    def __init__(self, stops: list[str]):
        self.stops = [s for s in stops if s]
        self.pending = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """The part of the text so far that can safely be sent; sets `stopped` at a stop string."""
        if self.stopped:
            return ""
        self.pending += text
        cut = min((i for i in (self.pending.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            out, self.pending = self.pending[:cut], ""
            return out
        hold = max((k for s in self.stops for k in range(1, len(s)) if self.pending.endswith(s[:k])), default=0)
        out = self.pending[: len(self.pending) - hold]
        self.pending = self.pending[len(out) :]
        return out

    def flush(self) -> str:
        out, self.pending = self.pending, ""
        return out
